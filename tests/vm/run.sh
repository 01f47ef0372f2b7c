#!/bin/sh
# Builds and boots the test VM (qemu, software emulation) twice: pure cgroup v2 with every
# controller (tests/vm/payload.sh), then the hybrid v1 layout with every v1 controller
# (tests/vm/payload-hybrid.sh); then the systemd VM (tests/vm/systemd/run.sh). Exit status 0 only
# when every SUMMARY line reports 0 failed.
set -eu
cd "$(dirname "$0")/../.."
OUT=${OUT:-build/vm}
command -v qemu-system-x86_64 >/dev/null || { echo "vm: qemu-system-x86_64 missing (scripts/install-deps.sh vm)" >&2; exit 1; }
sh tests/vm/build.sh
status=0
for mode in v2 hybrid; do
    log="$OUT/vm-$mode.log"
    args="console=ttyS0 quiet panic=-1"
    [ $mode = hybrid ] && args="$args husk.cgroup=hybrid husk.payload=payload-hybrid.sh"
    for attempt in 1 2; do
        # one unexplained guest hang in 89 boots was seen here (TESTING.md): retry once
        timeout -k 10 ${VM_TIMEOUT:-600} qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
            -kernel "$OUT/vmlinuz" -initrd "$OUT/initramfs.cpio" -nic none \
            -append "$args" </dev/null >"$log" 2>&1 || true
        grep -a -q '^SUMMARY:' "$log" && break
        echo "vm ($mode): no summary (attempt $attempt), log tail:" >&2
        tail -5 "$log" >&2
    done
    echo "== cgroup $mode"
    grep -a -E '^(VM:|TEST|SUMMARY|  )' "$log" | tr -d '\r'
    grep -a -q '^SUMMARY: .* 0 failed' "$log" || status=1
done
sh tests/vm/systemd/run.sh || status=1
exit $status
