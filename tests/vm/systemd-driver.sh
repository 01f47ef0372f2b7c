#!/bin/sh
# The systemd cgroup driver (husk --systemd-cgroup) against the real systemd, inside the
# systemd VM (tests/vm/systemd: its payload sources every tests/vm/systemd-*.sh). Prints
# "TEST name: PASS|FAIL (why)" lines; sourced, it adds to the payload's PASS/FAIL counts (and
# uses its check() when there is one); run alone, it ends with its own SUMMARY line. It never
# exits: a sourcing payload goes on.
# Environment: HUSK (the binary, default husk on PATH), HUSK_REPO (for scripts/mkrootfs.sh).
if [ -z "${PASS+x}" ]; then
    SD_ALONE=1
    PASS=0
    FAIL=0
fi
command -v check >/dev/null 2>&1 || {
    ok() { echo "TEST $1: PASS"; PASS=$((PASS + 1)); }
    bad() { echo "TEST $1: FAIL ($2)"; FAIL=$((FAIL + 1)); }
    check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "$*"; fi; }
}
SDH="${HUSK:-husk} --root /run/husk-sd"
SDB=/tmp/husk-sd-bundle
SDCG=/sys/fs/cgroup
SDREPO=${HUSK_REPO:-$(pwd)}

# sd_config ARGS_JSON CGROUPS_PATH RESOURCES_JSON: the bundle's config.json
sd_config() {
    cat > $SDB/config.json <<JSON
{"ociVersion":"1.3.0","root":{"path":"rootfs"},"hostname":"sd",
 "process":{"args":$1,"cwd":"/","env":["PATH=/bin:/sbin:/usr/bin:/usr/sbin"]},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
   {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["ro"]}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"cgroup"}],
   ${2:+\"cgroupsPath\":\"$2\",}"resources":$3}}
JSON
}

sd_main() {
    rm -rf $SDB
    mkdir -p $SDB
    if ! sh "$SDREPO/scripts/mkrootfs.sh" $SDB/rootfs >/dev/null 2>&1; then
        bad sd-bundle "no busybox rootfs from $SDREPO/scripts/mkrootfs.sh"
        return
    fi
    check sd-features sh -c "$SDH features | grep -q '\"systemd\": *true'"
    check sd-systemd-pid1 [ "$(cat /proc/1/comm)" = systemd ]

    # run --detach with limits: the scope in its slice, the init in it, the limits as unit
    # properties and in the files
    unit=husk-sd1.scope
    dir=$SDCG/husk.slice/husk-vm.slice/$unit
    sd_config '["sleep","300"]' "husk-vm.slice:husk:sd1" \
        '{"memory":{"limit":67108864},"pids":{"limit":20},"cpu":{"shares":512,"quota":50000,"period":100000}}'
    check sd-run $SDH --systemd-cgroup run --detach --bundle $SDB sd1
    pid=$($SDH state sd1 | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
    check sd-unit-active [ "$(systemctl is-active $unit)" = active ]
    systemctl status --no-pager $unit 2>&1 | sed 's/^/  /' | head -12
    check sd-unit-has-init sh -c "systemctl status --no-pager $unit | grep -q 'sleep 300'"
    check sd-scope-procs grep -qx "$pid" $dir/cgroup.procs
    check sd-init-in-scope grep -q "^0::/husk.slice/husk-vm.slice/$unit\$" /proc/$pid/cgroup
    check sd-prop-memory-max [ "$(systemctl show -P MemoryMax $unit)" = 67108864 ]
    check sd-prop-tasks-max [ "$(systemctl show -P TasksMax $unit)" = 20 ]
    check sd-prop-delegate [ "$(systemctl show -P Delegate $unit)" = yes ]
    check sd-prop-cpu-quota [ "$(systemctl show -P CPUQuotaPerSecUSec $unit)" = 500ms ]
    check sd-file-memory-max [ "$(cat $dir/memory.max)" = 67108864 ]
    check sd-file-pids-max [ "$(cat $dir/pids.max)" = 20 ]
    check sd-file-cpu-max [ "$(cat $dir/cpu.max)" = "50000 100000" ]
    # update: properties and files
    check sd-update $SDH update --memory 100663296 --pids-limit 30 sd1
    check sd-update-prop [ "$(systemctl show -P MemoryMax $unit)" = 100663296 ]
    check sd-update-file [ "$(cat $dir/memory.max)" = 100663296 ]
    # a daemon-reload re-applies the unit's properties: the update must survive it
    systemctl daemon-reload
    check sd-update-survives-reload [ "$(cat $dir/pids.max)" = 30 ]
    check sd-pause $SDH pause sd1
    check sd-paused sh -c "$SDH state sd1 | grep -q paused"
    check sd-resume $SDH resume sd1
    check sd-ps sh -c "$SDH ps sd1 | grep -q sleep"
    check sd-delete $SDH delete --force sd1
    check sd-unit-gone sh -c "! systemctl list-units --all --no-legend | grep -q $unit"
    check sd-cgroup-gone [ ! -e $dir ]

    # memory enforced in the scope: a hog is OOM-killed
    sd_config '["sh","-c","dd if=/dev/zero of=/dev/null bs=96M count=1"]' "husk-vm.slice:husk:sd2" \
        '{"memory":{"limit":33554432,"swap":33554432}}'
    $SDH --systemd-cgroup run --bundle $SDB sd2 >/dev/null 2>&1
    check sd-oom-killed [ $? -ne 0 ]
    check sd-oom-unit-gone sh -c "! systemctl list-units --all --no-legend | grep -q husk-sd2.scope"

    # no cgroupsPath: husk-ID.scope in system.slice
    sd_config '["cat","/proc/self/cgroup"]' "" '{}'
    out=$($SDH --systemd-cgroup run --bundle $SDB sd3 2>&1)
    check sd-default-path [ "$out" = "0::/" ]
    check sd-default-gone sh -c "! systemctl list-units --all --no-legend | grep -q husk-sd3.scope"

    # kill --all without a pid namespace: the scope systemd made is the container's own
    sd_config '["sh","-c","sleep 301 & exec sleep 302"]' "husk-vm.slice:husk:sd8" '{}'
    sed -i 's/{"type":"pid"},//' $SDB/config.json
    $SDH --systemd-cgroup run --detach --bundle $SDB sd8 </dev/null >$SDB/sd8.log 2>&1
    for i in $(seq 50); do $SDH state sd8 2>/dev/null | grep -q '"running"' && break; sleep 0.1; done
    # (once in four boots this found the container "not running": the state and the unit then)
    $SDH state sd8 2>&1 | grep -E '"status"|"pid"' | sed 's/^/  sd8 /'
    if ! $SDH state sd8 2>/dev/null | grep -q '"running"'; then
        sed 's/^/  sd8 run: /' $SDB/sd8.log
        systemctl status --no-pager husk-sd8.scope 2>&1 | head -12 | sed 's/^/  /'
    fi
    check sd-kill-all $SDH kill --all sd8 KILL
    sleep 0.5
    check sd-kill-all-gone sh -c "! pgrep -f 'sleep 30[12]'"
    $SDH delete --force sd8

    # the private socket, when the system bus is not there
    sd_config '["true"]' "husk-vm.slice:husk:sd4" '{"pids":{"limit":10}}'
    check sd-private-socket env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent $SDH --systemd-cgroup run --bundle $SDB sd4

    # the cost: D-Bus round trips and time of StartTransientUnit, and run with either driver
    $SDH --debug --systemd-cgroup run --bundle $SDB sd5 2>&1 | grep -o 'StartTransientUnit.*' | sed 's/^/  /'
    sd_config '["true"]' "husk-vm.slice:husk:sd6" '{}'
    t0=$(date +%s%N)
    for i in 1 2 3 4 5 6 7 8 9 10; do $SDH --systemd-cgroup run --bundle $SDB sd6; done
    t1=$(date +%s%N)
    sd_config '["true"]' "/husk-vm-cgfs/sd7" '{}'
    for i in 1 2 3 4 5 6 7 8 9 10; do $SDH run --bundle $SDB sd7; done
    t2=$(date +%s%N)
    echo "  run of true, mean of 10: systemd driver $(((t1 - t0) / 10000)) us, cgroupfs $(((t2 - t1) / 10000)) us"
    check sd-no-units-left sh -c "! systemctl list-units --all --no-legend | grep -q 'husk-sd'"
    rmdir $SDCG/husk-vm-cgfs 2>/dev/null
    rm -rf $SDB
}
sd_main
if [ -n "${SD_ALONE:-}" ]; then
    echo "SUMMARY: $PASS passed, $FAIL failed"
fi
