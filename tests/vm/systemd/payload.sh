#!/bin/sh
# The systemd VM's payload, run by husk-vm-payload.service (Delegate=yes) under Debian's systemd
# as PID 1 on cgroup v2: husk with the cgroupfs driver below systemd's tree, a system container,
# then every tests/vm/systemd-*.sh (the systemd driver's, the engines'). Prints "TEST name:
# PASS|FAIL (why)" and "SKIP name (why)" lines and ends with "SUMMARY: N passed, M failed, K skipped".
# Environment (/etc/husk-vm.env): HUSK (the binary), HUSK_REPO, HUSK_VM_ROOTFS, HUSK_VM_PAYLOAD (none: power off at
# once, the boot-time measurement; idle: stay up doing nothing; systemd-NAME: only that script).
PASS=0
FAIL=0
SKIPPED=0
ok() { echo "TEST $1: PASS"; PASS=$((PASS + 1)); }
bad() { echo "TEST $1: FAIL ($2)"; FAIL=$((FAIL + 1)); }
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "$*"; fi; }
skip() { echo "SKIP $1 ($2)"; SKIPPED=$((SKIPPED + 1)); }
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HUSK HUSK_REPO HUSK_VM_ROOTFS
echo "VM: payload at $(cut -d' ' -f1 /proc/uptime)s"
case "${HUSK_VM_PAYLOAD:-}" in
none)
    echo "SUMMARY: 0 passed, 0 failed, 0 skipped"
    exit 0 ;;
idle)
    # bench/vm-vs-containers measures an idle VM's memory, then stops qemu
    echo "VM: idle"
    exec sleep 3600 ;;
all|'') ;;
*)
    # one of the tests/vm/systemd-*.sh alone (while working on it): jump to part 6
    ONLY=$HUSK_VM_PAYLOAD ;;
esac
H="$HUSK --root /run/husk"
CG=/sys/fs/cgroup
W=/tmp/husk-vm
mkdir -p $W

if [ -z "${ONLY:-}" ]; then
check systemd-pid1 [ "$(cat /proc/1/comm)" = systemd ]
check cgroup2-only [ "$(stat -fc %T $CG)" = cgroup2fs ]
check dbus-active [ "$(systemctl is-active dbus.service)" = active ]

# This unit's cgroup is delegated (Delegate=yes): the payload moves to a leaf of it so that
# the unit's cgroup may enable controllers for the containers made below it
unit=$(sed -n 's/^0:://p' /proc/self/cgroup)
mkdir -p $CG$unit/payload
echo $$ > $CG$unit/payload/cgroup.procs
for c in $(cat $CG$unit/cgroup.controllers); do echo "+$c" > $CG$unit/cgroup.subtree_control; done
echo "VM: unit $unit, controllers $(cat $CG$unit/cgroup.subtree_control)"

B=$W/bundle
mkdir -p $B
# the busybox rootfs build.sh made on the host: one cp here instead of mkrootfs.sh's 400 ln
# processes, which take seconds under emulation
if [ -d "${HUSK_VM_ROOTFS:-}" ]; then
    cp -a "$HUSK_VM_ROOTFS" $B/rootfs
else
    sh "$HUSK_REPO/scripts/mkrootfs.sh" $B/rootfs >/dev/null
fi
# config NAME CGROUPS_PATH ARGS_JSON RESOURCES_JSON
config() {
    cat > $B/config.json <<JSON
{"ociVersion":"1.3.0","root":{"path":"rootfs"},"hostname":"vm",
 "process":{"args":$3,"cwd":"/","env":["PATH=/bin:/sbin:/usr/bin:/usr/sbin"]},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
   {"destination":"/tmp","type":"tmpfs","source":"tmpfs"},
   {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["ro"]}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"cgroup"}],
   "cgroupsPath":"$2","resources":$4}}
JSON
}
inside='["sh","-c","cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max"]'
limits='{"memory":{"limit":67108864},"pids":{"limit":10},"cpu":{"quota":50000,"period":100000}}'

echo "VM: part 1 at $(cut -d' ' -f1 /proc/uptime)s"
# 1. a slice of its own beside systemd's (husk.slice, which systemd does not manage): husk makes
# it and enables the controllers it needs along the path
config c1 /husk.slice/c1 "$inside" "$limits"
out=$($H run --bundle $B c1 2>&1)
echo "$out" | sed 's/^/  /'
check slice-placement [ "$(echo "$out" | sed -n 1p)" = "0::/" ]
check slice-memory-max [ "$(echo "$out" | sed -n 2p)" = 67108864 ]
check slice-pids-max [ "$(echo "$out" | sed -n 3p)" = 10 ]
check slice-cpu-max [ "$(echo "$out" | sed -n 4p)" = "50000 100000" ]
check slice-cgroup-removed [ ! -e $CG/husk.slice/c1 ]

echo "VM: part 2 at $(cut -d' ' -f1 /proc/uptime)s"
# 2. below this unit's delegated cgroup: what a runtime under a systemd service does
config c2 $unit/c2 "$inside" "$limits"
out=$($H run --bundle $B c2 2>&1)
echo "$out" | sed 's/^/  /'
check delegated-memory-max [ "$(echo "$out" | sed -n 2p)" = 67108864 ]
check delegated-cgroup-removed [ ! -e $CG$unit/c2 ]

echo "VM: part 3 at $(cut -d' ' -f1 /proc/uptime)s"
# 3. limits enforced under systemd's tree: an OOM kill, a fork limit
config mem /husk.slice/mem '["sh","-c","dd if=/dev/zero of=/dev/null bs=96M count=1"]' \
    '{"memory":{"limit":33554432,"swap":33554432}}'
$H create --bundle $B mem >/dev/null 2>&1
$H start mem
for i in $(seq 100); do $H state mem 2>/dev/null | grep -q stopped && break; sleep 0.1; done
kills=$(sed -n 's/^oom_kill //p' $CG/husk.slice/mem/memory.events)
check oom-kill [ "${kills:-0}" -ge 1 ]
$H delete --force mem
config pids /husk.slice/pids '["sh","-c","for i in $(seq 30); do sleep 5 & done; sleep 5"]' '{"pids":{"limit":8}}'
$H run --detach --bundle $B pids >/dev/null 2>&1
sleep 1
check pids-enforced [ "$(cat $CG/husk.slice/pids/pids.current)" -le 8 ]
check pids-refused [ "$(sed -n 's/^max //p' $CG/husk.slice/pids/pids.events)" -gt 0 ]
$H delete --force pids

echo "VM: part 4 at $(cut -d' ' -f1 /proc/uptime)s"
# 4. the lifecycle, and systemd leaving the container alone: a daemon-reload (systemd re-applies
# its units' settings) changes nothing in husk.slice
config life /husk.slice/life '["sleep","300"]' '{"memory":{"limit":67108864},"pids":{"limit":20}}'
check life-run $H run --detach --bundle $B life
$H pause life
check life-paused grep -q "frozen 1" $CG/husk.slice/life/cgroup.events
$H resume life
check life-resumed grep -q "frozen 0" $CG/husk.slice/life/cgroup.events
$H update --memory 134217728 life
systemctl daemon-reload
check life-update-survives-reload [ "$(cat $CG/husk.slice/life/memory.max)" = 134217728 ]
$H exec --detach life sleep 300
check life-exec [ "$(wc -l < $CG/husk.slice/life/cgroup.procs)" = 2 ]
check life-ps sh -c "$H ps life | grep -c sleep | grep -qx 2"
$H kill --all life KILL
for i in $(seq 50); do $H state life | grep -q stopped && break; sleep 0.1; done
check life-delete $H delete life
check life-cgroup-removed [ ! -e $CG/husk.slice/life ]

echo "VM: part 5 at $(cut -d' ' -f1 /proc/uptime)s"
# 5. a system container: systemd as PID 1 in husk, in a cgroup below husk.slice
S=$W/sys
sh "$HUSK_REPO/tests/vm/systemd/mksysbundle.sh" $S /husk.slice/sys
t0=$(cut -d' ' -f1 /proc/uptime)
check sys-run $H run --detach --bundle $S sys
for i in $(seq 120); do $H exec sys test -S /run/systemd/private 2>/dev/null && break; sleep 1; done
st=$($H exec sys systemctl is-system-running --wait 2>&1)
echo "  system container: $st at $(cut -d' ' -f1 /proc/uptime)s (run at ${t0}s)"
case "$st" in running|degraded) ok sys-is-system-running ;; *) bad sys-is-system-running "$st" ;; esac
$H exec sys systemctl --failed --no-legend 2>&1 | sed 's/^/  failed: /'
check sys-init-scope grep -qx "0::/husk.slice/sys/init.scope" /proc/$($H state sys | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')/cgroup
check sys-service sh -c "$H exec sys journalctl --no-pager -u husk-hello.service | grep -q 'hello from a service'"
check sys-exec-cgroup sh -c "$H exec sys cat /proc/self/cgroup | grep -q '^0::/'"
$H kill sys SIGRTMIN+3
for i in $(seq 150); do $H state sys | grep -q stopped && break; sleep 0.2; done
check sys-halts-on-sigrtmin3 sh -c "$H state sys | grep -q stopped"
check sys-delete $H delete sys
check sys-cgroup-removed [ ! -e $CG/husk.slice/sys ]
rmdir $CG/husk.slice 2>/dev/null
fi

# 6. the systemd-*.sh scripts of other parts (each sourced in a subshell of its own, so that a
# stray exit cannot end the payload; its TEST and SKIP lines are counted here)
for f in "$HUSK_REPO"/tests/vm/systemd-*.sh; do
    [ -f "$f" ] || continue
    [ -z "${ONLY:-}" ] || [ "$(basename "$f" .sh)" = "$ONLY" ] || continue
    echo "VM: $(basename "$f") at $(cut -d' ' -f1 /proc/uptime)s"
    ( PASS=0; FAIL=0; . "$f" ) > $W/part.out 2>&1
    cat $W/part.out
    p=$(grep -c '^TEST .*: PASS' $W/part.out)
    f=$(grep -c '^TEST .*: FAIL' $W/part.out)
    s=$(grep -c '^SKIP ' $W/part.out)
    PASS=$((PASS + p)); FAIL=$((FAIL + f)); SKIPPED=$((SKIPPED + s))
    [ $((p + f + s)) -gt 0 ] || bad "$(basename "$f")" "no TEST lines"
done

echo "VM: done at $(cut -d' ' -f1 /proc/uptime)s"
echo "SUMMARY: $PASS passed, $FAIL failed, $SKIPPED skipped"
