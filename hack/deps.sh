#!/usr/bin/env bash
# Installs the Debian packages lahar needs, only those missing (`make deps`; `make test` and
# `make run` depend on it, so a fresh machine needs no other step).
set -euo pipefail
pkgs=(build-essential pkg-config libcurl4-openssl-dev libjansson-dev libyaml-dev
      libwebsockets-dev libcmocka-dev libsqlite3-dev libssl-dev sqlite3 openssl curl
      jq python3 ${LAHAR_EXTRA_PKGS:-})
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
