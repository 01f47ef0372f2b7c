#!/bin/sh
# Makes `apt-get source PKG` work: Debian's deb-src entries next to its deb ones, added once
# (as /etc/apt/sources.list.d/husk-deb-src.*), only when PKG's source is not reachable yet.
set -eu
pkg=$1
apt-get source --print-uris -qq "$pkg" >/dev/null 2>&1 && exit 0
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
        > /etc/apt/sources.list.d/husk-deb-src.sources
else
    grep -h '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > /etc/apt/sources.list.d/husk-deb-src.list
fi
apt-get update -qq
