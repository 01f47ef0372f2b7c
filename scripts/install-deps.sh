#!/bin/sh
# Installs the Debian 12 packages husk's build and tests need (as root).
# `install-deps.sh engines` adds podman, containerd and Docker for tests/engines.
set -eu
pkgs="build-essential pkg-config libseccomp-dev libcap-dev libyajl-dev libmount-dev busybox-static \
python3 python3-pytest python3-jsonschema iproute2"
[ "${1:-}" = engines ] && pkgs="$pkgs podman conmon containerd docker.io"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq $missing
fi
