#!/bin/sh
# README command 1: install dependencies, build husk, make a busybox bundle from
# config.json.example and run it, printing from inside the container.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
make -s husk
bundle=example
rm -rf "$bundle"
mkdir -p "$bundle"
sh scripts/mkrootfs.sh "$bundle/rootfs"
cp config.json.example "$bundle/config.json"
exec ./husk --root /run/husk-example run --bundle "$bundle" "example-$$"
