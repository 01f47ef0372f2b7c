#!/bin/sh
# Writes build/cri/api.proto, the CRI API (k8s.io/cri-api runtime/v1) that Debian's containerd
# source package vendors, for tests/cri's client (compiled by python3-grpc-tools at test time).
# It comes from the same source as the containerd it tests, and nothing is fetched elsewhere.
# The gogoproto import and options only steer Go's code generator: they are dropped.
set -eu
cd "$(dirname "$0")/.."
OUT=$PWD/build/cri
[ -f "$OUT/api.proto" ] && exit 0
command -v dpkg-source >/dev/null || { echo "cri-proto: dpkg-source missing (apt-get install dpkg-dev)" >&2; exit 1; }
# Debian's sources, as its deb entries name them
sh scripts/deb-src.sh containerd
tmp=$OUT/src
rm -rf "$tmp" && mkdir -p "$tmp"
(cd "$tmp" && apt-get source -qq --download-only containerd >/dev/null 2>&1)
orig=$(ls "$tmp"/containerd_*.orig.tar.*)
tar -xf "$orig" -C "$tmp" --wildcards '*/vendor/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto'
grep -v gogoproto "$tmp"/*/vendor/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto > "$OUT/api.proto.new"
mv "$OUT/api.proto.new" "$OUT/api.proto"
rm -rf "$tmp"
