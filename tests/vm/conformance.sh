#!/bin/sh
# Runs the OCI conformance suite's cgroup tests (opencontainers/runtime-tools validation/,
# built beforehand: `make runtimetest validation-executables`) against husk inside the test VM.
#   RT=/path/to/runtime-tools sh tests/vm/conformance.sh [hybrid|v2]
# runtime-tools only reads cgroup v1 files ("cgroupv2 is not supported yet"), so the default
# boot mounts every v1 controller (systemd's hybrid layout); `v2` shows that refusal.
set -eu
cd "$(dirname "$0")/../.."
: "${RT:?set RT to a built runtime-tools checkout}"
MODE=${1:-hybrid}
OUT=${OUT:-build/vm-conformance}
OUT=$OUT sh tests/vm/build.sh >/dev/null
ST=$OUT/stage
mkdir -p "$ST/conf/validation" "$ST/modules"
cp "$RT/runtimetest" "$ST/conf/"
# busybox tar cannot detect gzip and the tests run "tar -xf rootfs-amd64.tar.gz": hand it a plain tar
zcat "$RT/rootfs-amd64.tar.gz" > "$ST/conf/rootfs-amd64.tar.gz"
for t in $(ls "$RT/validation" | grep '^linux_cgroups_'); do
    mkdir -p "$ST/conf/validation/$t"
    cp "$RT/validation/$t/$t.t" "$ST/conf/validation/$t/"
done
for l in $(ldd "$RT/validation/linux_cgroups_pids/linux_cgroups_pids.t" | grep -o '/[^ ]*'); do
    mkdir -p "$ST$(dirname "$l")"
    cp -L "$l" "$ST$l"
done
# linux_cgroups_network indexes the second network interface: a dummy one, from the same
# kernel package tests/vm/build.sh took vmlinuz from
kver=$(file -L "$OUT/vmlinuz" | sed -n 's/.*version \([^ ]*\).*/\1/p')
if [ ! -s "$OUT/dummy.ko" ]; then
    rm -rf "$OUT/kpkg" && mkdir -p "$OUT/kpkg"
    (cd "$OUT/kpkg" && apt-get download "linux-image-$kver" >/dev/null 2>&1)
    dpkg-deb --fsys-tarfile "$OUT"/kpkg/*.deb | tar -x -O --wildcards './lib/modules/*/dummy.ko' > "$OUT/dummy.ko"
    rm -rf "$OUT/kpkg"
fi
cp "$OUT/dummy.ko" "$ST/modules/"
cat > "$ST/payload.sh" <<'EOF'
#!/bin/sh
insmod /modules/dummy.ko && ip link set dummy0 up
cd /conf
p=0 f=0
for t in $(ls validation); do
    out=$(RUNTIME=/usr/local/bin/husk timeout 120 ./validation/$t/$t.t 2>&1); rc=$?
    nok=$(echo "$out" | grep -c '^not ok'); ok=$(echo "$out" | grep -c '^ok')
    if [ $rc -eq 0 ] && [ "$nok" -eq 0 ] && [ "$ok" -gt 0 ]; then
        echo "CONF $t: PASS ok=$ok"; p=$((p + 1))
    else
        echo "CONF $t: FAIL ok=$ok notok=$nok rc=$rc"
        echo "$out" | grep -A2 '^not ok' | head -12 | sed 's/^/    /'
        echo "$out" | grep -v '^ok\|^#\|^not ok' | tail -3 | sed 's/^/    /'
        f=$((f + 1))
    fi
done
for c in memory blkio; do echo "CONF files in $c: $(ls /sys/fs/cgroup/$c | grep "^$c\." | tr '\n' ' ')"; done
echo "SUMMARY: $p passed, $f failed"
EOF
chmod 755 "$ST/payload.sh"
(cd "$ST" && find . -print | cpio -o -H newc --quiet) > "$OUT/initramfs.cpio"
args="console=ttyS0 quiet panic=-1"
[ "$MODE" = hybrid ] && args="$args husk.cgroup=hybrid"
timeout -k 10 900 qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -nographic -no-reboot \
    -kernel "$OUT/vmlinuz" -initrd "$OUT/initramfs.cpio" -nic none -append "$args" \
    </dev/null >"$OUT/vm.log" 2>&1 || true
tr -d '\r' < "$OUT/vm.log" | grep -a -E '^(VM:|CONF|SUMMARY|    )'
