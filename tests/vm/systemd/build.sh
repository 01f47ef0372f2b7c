#!/bin/sh
# Builds what the systemd VM boots: Debian's kernel with the modules for virtio-9p and overlayfs
# (one .deb, downloaded once, so the modules match the kernel), and a small initramfs (busybox,
# the modules, /init). The guest's root is the host's own tree, shared read-only: nothing of the
# repository is copied, so a changed payload or husk needs no rebuild.
# Output in $VM_SYSTEMD_OUT (default build/vm-systemd): vmlinuz, vmlinux, initramfs.cpio, rootfs.
set -eu
cd "$(dirname "$0")/../../.."
OUT=${VM_SYSTEMD_OUT:-build/vm-systemd}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p overlay"

if [ ! -s "$OUT/vmlinuz" ] || [ ! -s "$OUT/modules/overlay.ko" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
    if [ -z "$pkg" ]; then
        apt-get update -qq
        pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
    fi
    [ -n "$pkg" ] || { echo "vm-systemd: no linux-image package found (apt-get update?)" >&2; exit 1; }
    rm -rf "$OUT/kpkg" "$OUT/modules" && mkdir -p "$OUT/kpkg" "$OUT/modules"
    (cd "$OUT/kpkg" && apt-get download "$pkg" >/dev/null 2>&1)
    dpkg-deb --fsys-tarfile "$OUT"/kpkg/*.deb | tar -x -C "$OUT/kpkg" --wildcards './boot/vmlinuz-*' \
        './lib/modules/*/kernel/drivers/virtio/*' './lib/modules/*/kernel/net/9p/*' \
        './lib/modules/*/kernel/fs/9p/*' './lib/modules/*/kernel/fs/netfs/*' \
        './lib/modules/*/kernel/fs/fscache/*' './lib/modules/*/kernel/fs/overlayfs/*'
    for m in $MODS; do
        find "$OUT/kpkg/lib/modules" -name "$m.ko" -exec cp {} "$OUT/modules/" \;
    done
    cp "$OUT"/kpkg/boot/vmlinuz-* "$OUT/vmlinuz"
    rm -rf "$OUT/kpkg" "$OUT/vmlinux"
fi
# The ELF inside Debian's XZ bzImage boots through qemu's PVH entry: no decompression under
# emulation (about 3 s less per boot, TESTING.md)
if [ ! -s "$OUT/vmlinux" ]; then
    python3 -c 'import lzma, sys
d = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(lzma.LZMADecompressor().decompress(d[d.find(b"\xfd7zXZ\0"):]))' \
        "$OUT/vmlinuz" "$OUT/vmlinux.tmp"
    mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
fi

# a busybox rootfs for the payload's bundles, made here where forks are cheap
rm -rf "$OUT/rootfs"
sh scripts/mkrootfs.sh "$OUT/rootfs" >/dev/null

ST="$OUT/stage"
rm -rf "$ST"
mkdir -p "$ST/bin" "$ST/dev" "$ST/proc" "$ST/sys" "$ST/modules" "$ST/host" "$ST/ovl" "$ST/newroot"
cp /bin/busybox "$ST/bin/busybox"
for a in $(/bin/busybox --list-full); do
    mkdir -p "$ST/$(dirname "$a")"
    [ -e "$ST/$a" ] || ln -s /bin/busybox "$ST/$a"
done
cp "$OUT"/modules/*.ko "$ST/modules/"
echo "$MODS" > "$ST/modules/order"
cp tests/vm/systemd/init "$ST/init"
chmod 755 "$ST/init"
(cd "$ST" && find . -print | cpio -o -H newc --quiet) > "$OUT/initramfs.cpio"
rm -rf "$ST"
echo "vm-systemd: built $OUT/initramfs.cpio ($(du -h "$OUT/initramfs.cpio" | cut -f1))"
