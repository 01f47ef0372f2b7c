#!/bin/sh
# Builds and boots the cgroup-v2 VM (qemu, software emulation) and runs tests/vm/payload.sh in
# it. Exit status 0 only when the payload's SUMMARY reports 0 failed.
set -eu
cd "$(dirname "$0")/../.."
OUT=${OUT:-build/vm}
command -v qemu-system-x86_64 >/dev/null || { echo "vm: qemu-system-x86_64 missing (scripts/install-deps.sh vm)" >&2; exit 1; }
sh tests/vm/build.sh
log="$OUT/vm.log"
for attempt in 1 2; do
    # one unexplained guest hang in 89 boots was seen here (TESTING.md): retry once
    timeout -k 10 ${VM_TIMEOUT:-600} qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
        -kernel "$OUT/vmlinuz" -initrd "$OUT/initramfs.cpio" -nic none \
        -append 'console=ttyS0 quiet panic=-1' </dev/null >"$log" 2>&1 || true
    grep -a -q '^SUMMARY:' "$log" && break
    echo "vm: no summary (attempt $attempt), log tail:" >&2
    tail -5 "$log" >&2
done
grep -a -E '^(VM:|TEST|SUMMARY)' "$log" | tr -d '\r'
grep -a -q '^SUMMARY: .* 0 failed' "$log"
