#!/usr/bin/env bash
# Builds kube-apiserver 1.20.2 a second time, as $CACHE/bin/kube-apiserver-zerofix, with the one
# source change that makes it behave under Go 1.19 the way 1.20.2 does under the Go it was
# released with (1.15): an empty JSON string in a custom resource is a string, not null.
#
# Why: OpenAPI type validation (go-openapi/validate and kube-openapi's copy, type.go) treats a
# value as null when `reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data))`.
# Comparing two reflect.Value structs compares their data pointers. Go 1.19 boxes a decoded ""
# with a pointer to runtime.zeroVal and reflect.Zero of a small type returns that same pointer,
# so the check is true for every "" and the apiserver rejects any CR holding one
# (`spec.queue: Invalid value: "null": ... must be of type string: "null"`), e.g. a PodGroup
# condition with `message: ""`, or `default: ""` in a CRD schema. Under older Go the pointers
# always differed, i.e. only a real null counted: that is what the patch restores (`data == nil`).
# The source tree is not modified: the patched files go in through `go build -overlay`.
#
# Usage: hack/realkube/build-zerofix.sh   (prints the binary's path; builds it once)
# Then:  REALKUBE_APISERVER_BIN=<that path> hack/realkube/start.sh DIR ...
set -euo pipefail
R=$("$(dirname "$0")/build.sh" apiserver | tail -n1)
OUT=$R/bin/kube-apiserver-zerofix
if [ -x "$OUT" ]; then echo "$OUT"; exit 0; fi
K=$R/gp/src/k8s.io/kubernetes
O=$R/zerofix-overlay
mkdir -p "$O"
printf '{"Replace":{' > "$O/overlay.json"
sep=
for f in vendor/github.com/go-openapi/validate/type.go vendor/k8s.io/kube-openapi/pkg/validation/validate/type.go; do
  [ -f "$K/$f" ] || continue
  grep -q 'data == nil || reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data))' "$K/$f" \
    || { echo "build-zerofix: $f does not have the expected zero check" >&2; exit 1; }
  dst=$O/$(echo "$f" | tr / _)
  sed 's/data == nil || reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data))/data == nil/' \
    "$K/$f" > "$dst"
  # the tree is reached through the GOPATH symlink; name the file both ways
  for base in "$K" "$(cd "$K" && pwd -P)"; do
    printf '%s"%s":"%s"' "$sep" "$base/$f" "$dst" >> "$O/overlay.json"; sep=,
  done
done
printf '}}\n' >> "$O/overlay.json"
export GO111MODULE=off GOPATH=$R/gp GOCACHE=$R/gocache CGO_ENABLED=0 GOFLAGS=
cd "$K"
LDF="-s -w"
for V in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  LDF="$LDF -X $V.gitVersion=v1.20.2 -X $V.gitMajor=1 -X $V.gitMinor=20 -X $V.gitTreeState=clean"
  LDF="$LDF -X $V.gitCommit=faecb196815e248d3ecfb03c680a4507229c2a56 -X $V.buildDate=2021-01-13T13:20:00Z"
done
go build -overlay "$O/overlay.json" -o "$OUT.tmp" -ldflags "$LDF" ./cmd/kube-apiserver
mv "$OUT.tmp" "$OUT"
echo "$OUT"
