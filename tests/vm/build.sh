#!/bin/sh
# Builds what the cgroup-v2 VM boots: Debian's kernel (downloaded, only vmlinuz unpacked) and an
# initramfs with busybox, husk and its libraries, a busybox bundle, /init and the payload.
# Output in $OUT (default build/vm): vmlinuz, initramfs.cpio.
set -eu
cd "$(dirname "$0")/../.."
OUT=${OUT:-build/vm}
HUSK=${HUSK:-$PWD/husk}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# The kernel: once, cached.
if [ ! -s "$OUT/vmlinuz" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
    if [ -z "$pkg" ]; then
        apt-get update -qq
        pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
    fi
    [ -n "$pkg" ] || { echo "vm: no linux-image package found (apt-get update?)" >&2; exit 1; }
    rm -rf "$OUT/kpkg" && mkdir -p "$OUT/kpkg"
    (cd "$OUT/kpkg" && apt-get download "$pkg" >/dev/null)
    dpkg-deb --fsys-tarfile "$OUT"/kpkg/*.deb | tar -x -C "$OUT/kpkg" --wildcards './boot/vmlinuz-*'
    cp "$OUT"/kpkg/boot/vmlinuz-* "$OUT/vmlinuz"
    rm -rf "$OUT/kpkg"
fi

ST="$OUT/stage"
rm -rf "$ST"
mkdir -p "$ST/bin" "$ST/dev" "$ST/proc" "$ST/sys" "$ST/run" "$ST/tmp" "$ST/etc" "$ST/newroot"
cp /bin/busybox "$ST/bin/busybox"
for a in $(/bin/busybox --list-full); do
    mkdir -p "$ST/$(dirname "$a")"
    [ -e "$ST/$a" ] || ln -s /bin/busybox "$ST/$a"
done
# husk and the shared objects it uses (none when it is built static)
mkdir -p "$ST/usr/local/bin"
cp "$HUSK" "$ST/usr/local/bin/husk"
libs=$(ldd "$HUSK" 2>/dev/null | grep -o '/[^ ]*' || true)
for l in $libs; do
    mkdir -p "$ST$(dirname "$l")"
    cp -L "$l" "$ST$l"
done
sh scripts/mkrootfs.sh "$ST/bundle/rootfs" >/dev/null
cp tests/vm/init "$ST/init"
cp tests/vm/payload.sh tests/vm/payload-hybrid.sh tests/vm/checks.sh "$ST/"
chmod 755 "$ST/init" "$ST/payload.sh" "$ST/payload-hybrid.sh"
(cd "$ST" && find . -print | cpio -o -H newc --quiet) > "$OUT/initramfs.cpio"
echo "vm: built $OUT/initramfs.cpio ($(du -h "$OUT/initramfs.cpio" | cut -f1))"
