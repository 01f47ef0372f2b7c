#!/bin/sh
# Installs the Debian 12 packages husk's build and tests need (as root).
set -eu
pkgs="build-essential pkg-config libseccomp-dev libcap-dev libyajl-dev libmount-dev busybox-static \
python3 python3-pytest python3-jsonschema iproute2"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
