#!/bin/sh
# Boots the systemd VM (qemu, software emulation): the host's tree read-only over virtio-9p
# under a tmpfs overlay, Debian's systemd as PID 1 on cgroup v2, and tests/vm/systemd/payload.sh
# as a unit. Exit status 0 only when its SUMMARY line reports 0 failed.
# VM_PAYLOAD=none boots to the payload and powers off (the boot-time measurement);
# VM_PAYLOAD=systemd-NAME runs only tests/vm/systemd-NAME.sh.
set -eu
cd "$(dirname "$0")/../../.."
OUT=${VM_SYSTEMD_OUT:-build/vm-systemd}
HUSK=${HUSK:-$PWD/husk}
command -v qemu-system-x86_64 >/dev/null || { echo "vm-systemd: qemu-system-x86_64 missing (scripts/install-deps.sh vm)" >&2; exit 1; }
[ -x /lib/systemd/systemd ] || { echo "vm-systemd: the host has no /lib/systemd/systemd (apt-get install systemd dbus)" >&2; exit 1; }
sh tests/vm/systemd/build.sh
OUT=$(cd "$OUT" && pwd)
log="$OUT/vm-systemd.log"
args="console=ttyS0 quiet panic=-1 systemd.unit=husk-vm.target systemd.unified_cgroup_hierarchy=1"
args="$args systemd.show_status=0 husk.repo=$PWD husk.bin=$HUSK husk.payload=${VM_PAYLOAD:-all} husk.rootfs=$OUT/rootfs"
for attempt in 1 2; do
    start=$(date +%s)
    # a hang (TESTING.md: one in 89 boots of the other VM) gets one retry
    timeout -k 10 ${VM_TIMEOUT:-600} qemu-system-x86_64 -accel tcg -m ${VM_MEM:-2048} -smp 2 -nographic \
        -no-reboot -kernel "$OUT/vmlinux" -initrd "$OUT/initramfs.cpio" -nic none \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
        -append "$args" </dev/null >"$log" 2>&1 || true
    # systemd's console status lines leave terminal escapes at the start of the payload's lines
    sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$log" | tr -d '\r' > "$log.txt"
    grep -a -q '^SUMMARY:' "$log.txt" && break
    echo "vm-systemd: no summary (attempt $attempt), log tail:" >&2
    tail -5 "$log" >&2
done
echo "== systemd VM ($(($(date +%s) - start)) s)"
grep -a -E '^(VM:|TEST|SKIP|SUMMARY|  )' "$log.txt"
grep -a -q '^SUMMARY: .* 0 failed' "$log.txt"
