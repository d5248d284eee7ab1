#!/usr/bin/env bash
# Builds kube-apiserver (and kube-controller-manager, kube-scheduler) 1.20.2 from Debian's
# `kubernetes` source package with Debian's Go, once per machine, into a cache outside the
# repository (default ~/.cache/lahar/kube-1.20.2). Nothing built here is ever committed.
#
# Usage: hack/realkube/build.sh [apiserver|controller-manager|scheduler ...]   (default: apiserver controller-manager)
# Prints the cache directory on success. Facts behind each step: ../shared/notes/real-kube-apiserver.md.
set -euo pipefail
R=${LAHAR_REALKUBE_CACHE:-$HOME/.cache/lahar/kube-1.20.2}
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(apiserver controller-manager)
mkdir -p "$R/bin"
need=()
for t in "${targets[@]}"; do [ -x "$R/bin/kube-$t" ] || need+=("$t"); done
if [ ${#need[@]} -eq 0 ]; then echo "$R"; exit 0; fi

SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
pkgs=()
for p in golang-go etcd-server dpkg-dev golang-github-modern-go-reflect2-dev openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || pkgs+=("$p")
done
if [ ${#pkgs[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

T=$R/kubernetes-1.20.5+really1.20.2
if [ ! -d "$T" ]; then
  # The deb-src entry is needed only for the download; it is removed again right after.
  src=/etc/apt/sources.list.d/lahar-realkube-debsrc.sources
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' | $SUDO tee "$src" >/dev/null
  trap '$SUDO rm -f "$src"' EXIT
  $SUDO apt-get update -qq
  (cd "$R" && apt-get source -qq kubernetes >/dev/null 2>&1)
  $SUDO rm -f "$src"; trap - EXIT
  $SUDO apt-get update -qq
  # reflect2 v1.0.1 links reflect.mapiterinit with the pre-go1.18 signature: use Debian's 1.0.2.
  mv "$T/vendor/github.com/modern-go/reflect2" "$R/reflect2-v1.0.1.orig"
  cp -rL /usr/share/gocode/src/github.com/modern-go/reflect2 "$T/vendor/github.com/modern-go/reflect2"
fi
mkdir -p "$R/gp/src/k8s.io" && ln -sfn "$T" "$R/gp/src/k8s.io/kubernetes"

export GO111MODULE=off GOPATH=$R/gp GOCACHE=$R/gocache CGO_ENABLED=0 GOFLAGS=
cd "$R/gp/src/k8s.io/kubernetes"
if [ ! -f pkg/generated/openapi/zz_generated.openapi.go ]; then
  # The one step `make` does beyond `go build`: generate the OpenAPI definitions.
  go build -o "$R/bin/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  find -H . \( -not \( \( -path ./_\* -o -path ./.\* -o -path ./vendor -o -path ./debian \) -prune \) \) -type f -name \*.go \
    | sed 's|^./staging/src|vendor|; s|^./||' | xargs grep -l '^// *+k8s:openapi-gen=' \
    | grep -v -E '^vendor/k8s.io/(code-generator|sample-apiserver)/' | xargs -n1 dirname | LC_ALL=C sort -u > "$R/openapi_dirs.txt"
  "$R/bin/openapi-gen" --logtostderr -i "$(sed 's|^|k8s.io/kubernetes/|' "$R/openapi_dirs.txt" | paste -sd,)" \
    -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
    -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -r "$R/kube_violations.report" 2>"$R/openapi-gen.log"
fi
LDF="-s -w"
for V in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  LDF="$LDF -X $V.gitVersion=v1.20.2 -X $V.gitMajor=1 -X $V.gitMinor=20 -X $V.gitTreeState=clean"
  LDF="$LDF -X $V.gitCommit=faecb196815e248d3ecfb03c680a4507229c2a56 -X $V.buildDate=2021-01-13T13:20:00Z"
done
for t in "${need[@]}"; do
  go build -o "$R/bin/kube-$t.tmp" -ldflags "$LDF" "./cmd/kube-$t"
  mv "$R/bin/kube-$t.tmp" "$R/bin/kube-$t"
done
echo "$R"
