#!/bin/sh
# Rootless --systemd-cgroup inside the systemd VM (its payload, tests/vm/systemd/payload.sh,
# sources every tests/vm/systemd-*.sh): a test user whose systemd manager (user@UID.service)
# runs with its user bus; husk as that user makes its container's scope through the user
# manager (limits enforced, the unit in `systemctl --user`, none left after delete); then
# rootless podman with its default cgroup_manager = systemd, through husk and through runc.
# Prints "TEST name: PASS|FAIL (why)" and "SKIP name (why)"; never exits (it is sourced).
# Environment: HUSK (the binary), HUSK_REPO, HUSK_VM_ROOTFS (a busybox rootfs to copy).
command -v check >/dev/null 2>&1 || {
    PASS=0; FAIL=0
    ok() { echo "TEST $1: PASS"; PASS=$((PASS + 1)); }
    bad() { echo "TEST $1: FAIL ($2)"; FAIL=$((FAIL + 1)); }
    check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "$*"; fi; }
}
UR=${HUSK_REPO:-$(pwd)}
UN=husk-sduser
UW=/home/$UN

# as_user CMD...: CMD as the test user with what a login session gives it (the user bus
# included); the output comes back on stdout and stderr as usual
as_user() {
    runuser -u $UN -- env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=$UW USER=$UN \
        XDG_RUNTIME_DIR=/run/user/$UID_ DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$UID_/bus "$@"
}
uctl() { as_user systemctl --user "$@"; }
# outgrep PATTERN CMD...: CMD's output (both streams) matches; nounit PATTERN: no unit of the
# user manager's matches, loaded or not
outgrep() { pat=$1; shift; "$@" 2>&1 | grep -q -- "$pat"; }
nounit() { ! uctl list-units --all --no-legend | grep -q -- "$1"; }
# urun ID ARGS...: husk --systemd-cgroup ARGS as the user, for bundle $UW/ID, output to a file
# (a detached container keeps its stdio: a pipe would never end)
urun() { i=$1; shift; as_user $UH --systemd-cgroup "$@" --bundle $UW/$i $i >$UW/$i.out 2>&1; }
# u_config NAME ARGS_JSON CGROUPS_PATH RESOURCES_JSON: bundle $UW/NAME from `husk spec --rootless`
u_config() {
    b=$UW/$1
    rm -rf $b
    as_user mkdir -p $b
    as_user cp -a $UW/rootfs $b/rootfs
    (cd $b && as_user $UH spec --rootless)
    as_user python3 - "$b/config.json" "$2" "$3" "$4" <<'PY'
import json, sys
p, args, path, res = sys.argv[1:]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = json.loads(args)
c["linux"]["cgroupsPath"] = path
c["linux"]["resources"] = json.loads(res)
json.dump(c, open(p, "w"))
PY
}
u_pid() { as_user $UH state $1 | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'; }
u_wait_stopped() {
    for i in $(seq 100); do as_user $UH state $1 2>/dev/null | grep -q '"stopped"' && return 0; sleep 0.1; done
    return 1
}

u_setup() {
    id $UN >/dev/null 2>&1 || useradd -m -s /bin/sh $UN || return 1
    UID_=$(id -u $UN)
    grep -q "^$UN:" /etc/subuid || usermod --add-subuids 200000-265535 --add-subgids 200000-265535 $UN
    # logind is masked in the VM (and `loginctl enable-linger` asks it): the user manager is
    # started as lingering starts it, with its runtime directory
    systemctl start user@$UID_.service || return 1
    for i in $(seq 100); do [ -S /run/user/$UID_/bus ] && break; sleep 0.2; done
    [ -S /run/user/$UID_/bus ] || { echo "  no /run/user/$UID_/bus"; return 1; }
    # the binary where the user may run it (the repository's tree may not be theirs to read)
    cp "$HUSK" $UW/husk
    chmod 755 $UW/husk
    UH=$UW/husk
    rm -rf $UW/rootfs
    if [ -d "${HUSK_VM_ROOTFS:-}" ]; then
        cp -a "$HUSK_VM_ROOTFS" $UW/rootfs
    else
        sh "$UR/scripts/mkrootfs.sh" $UW/rootfs >/dev/null
    fi
    chown -R $UN: $UW
}

u_husk() {
    M=/sys/fs/cgroup/user.slice/user-$UID_.slice/user@$UID_.service
    check u-features outgrep '"systemdUser": *true' as_user $UH features
    echo "  user manager delegates: $(cat $M/cgroup.controllers)"

    # the lifecycle with limits: the scope in the user manager's tree, the limits as its
    # properties and in the files
    unit=husk-u1.scope
    dir=$M/user.slice/$unit
    u_config u1 '["sleep","300"]' "user.slice:husk:u1" \
        '{"memory":{"limit":67108864},"pids":{"limit":20},"cpu":{"shares":512,"quota":50000,"period":100000}}'
    check u-run urun u1 run --detach || sed 's/^/  /' $UW/u1.out
    pid=$(u_pid u1)
    check u-unit-active [ "$(uctl is-active $unit)" = active ]
    uctl status --no-pager $unit 2>&1 | sed 's/^/  /' | head -10
    check u-unit-has-init outgrep 'sleep 300' uctl status --no-pager $unit
    check u-not-a-system-unit [ "$(systemctl is-active $unit 2>/dev/null)" != active ]
    check u-init-in-scope grep -qx "0::/user.slice/user-$UID_.slice/user@$UID_.service/user.slice/$unit" /proc/$pid/cgroup
    check u-prop-memory-max [ "$(uctl show -P MemoryMax $unit)" = 67108864 ]
    check u-prop-tasks-max [ "$(uctl show -P TasksMax $unit)" = 20 ]
    check u-prop-delegate [ "$(uctl show -P Delegate $unit)" = yes ]
    check u-file-memory-max [ "$(cat $dir/memory.max)" = 67108864 ]
    check u-file-pids-max [ "$(cat $dir/pids.max)" = 20 ]
    check u-file-cpu-max [ "$(cat $dir/cpu.max)" = "50000 100000" ]
    check u-update as_user $UH update --memory 100663296 --pids-limit 30 u1
    check u-update-prop [ "$(uctl show -P MemoryMax $unit)" = 100663296 ]
    check u-update-file [ "$(cat $dir/pids.max)" = 30 ]
    # exec from outside the manager's tree (runuser from this service, as a login shell is):
    # the manager moves the process in
    got=$(as_user $UH exec u1 cat /proc/self/cgroup 2>&1)
    check u-exec-in-scope [ "$got" = "0::/" ] || echo "  $got"
    as_user $UH exec --detach u1 sleep 300
    check u-exec-procs [ "$(wc -l < $dir/cgroup.procs)" = 2 ]
    check u-ps [ "$(as_user $UH ps u1 | grep -c sleep)" = 2 ]
    check u-pause as_user $UH pause u1
    check u-paused grep -q "frozen 1" $dir/cgroup.events
    check u-resume as_user $UH resume u1
    as_user $UH kill --all u1 KILL
    u_wait_stopped u1
    check u-kill-all-stopped outgrep stopped as_user $UH state u1
    check u-delete as_user $UH delete u1
    check u-unit-gone nounit $unit
    check u-cgroup-gone [ ! -e $dir ]

    # delete --force of a running container
    u_config u2 '["sleep","300"]' "user.slice:husk:u2" '{}'
    urun u2 run --detach
    check u-force-active [ "$(uctl is-active husk-u2.scope)" = active ]
    check u-delete-force as_user $UH delete --force u2
    check u-force-unit-gone nounit husk-u2

    # limits enforced: a fork limit, an OOM kill. The init stays and an exec'd process hits
    # the limit: a scope whose processes have all gone is removed by the manager at once,
    # its cgroup's counters with it.
    u_config lim '["sleep","300"]' "user.slice:husk:lim" '{"pids":{"limit":8},"memory":{"limit":33554432,"swap":33554432}}'
    check u-lim-run urun lim run --detach || sed 's/^/  /' $UW/lim.out
    ldir=$M/user.slice/husk-lim.scope
    as_user $UH exec lim sh -c 'for i in $(seq 30); do sleep 5 & done' >/dev/null 2>&1
    check u-pids-enforced [ "$(cat $ldir/pids.current)" -le 8 ]
    check u-pids-refused [ "$(sed -n 's/^max //p' $ldir/pids.events)" -gt 0 ]
    as_user $UH exec lim dd if=/dev/zero of=/dev/null bs=96M count=1 >/dev/null 2>&1
    check u-oom-kill [ "$(sed -n 's/^oom_kill //p' $ldir/memory.events)" -ge 1 ]
    check u-oom-init-survives outgrep running as_user $UH state lim
    check u-lim-delete-force as_user $UH delete --force lim
    check u-lim-unit-gone nounit husk-lim

    # a limit the user manager was not delegated (io on Debian 12: Delegate=pids memory cpu):
    # refused, naming it, and nothing left behind
    if ! grep -qw io $M/cgroup.controllers; then
        u_config io '["true"]' "user.slice:husk:io" '{"blockIO":{"weight":500}}'
        urun io run
        sed 's/^/  /' $UW/io.out
        check u-undelegated-refused grep -q "io controller, which the user's systemd manager was not delegated" $UW/io.out
        check u-undelegated-unit-gone nounit husk-io
        as_user $UH delete --force io 2>/dev/null
    fi

    # no user bus: the error names where husk looked
    runuser -u $UN -- env -i PATH=/usr/bin:/bin XDG_RUNTIME_DIR=$UW $UH --root $UW/st --systemd-cgroup run \
        --bundle $UW/u2 nobus >$UW/nobus.out 2>&1
    sed 's/^/  /' $UW/nobus.out
    check u-no-bus-error grep -q "DBUS_SESSION_BUS_ADDRESS is not set and .*XDG_RUNTIME_DIR/bus.* is missing" $UW/nobus.out
    rm -rf $UW/st
    check u-no-scopes-left nounit 'husk-.*\.scope'

    # runc 1.1.5 beside, the same config and commands as the user
    R=$(command -v runc)
    [ -n "$R" ] || { echo "SKIP u-runc (no runc in the guest)"; return; }
    u_config r1 '["sleep","300"]' "user.slice:runc:r1" '{"memory":{"limit":67108864},"pids":{"limit":20}}'
    as_user $R --systemd-cgroup run --detach --bundle $UW/r1 r1 >$UW/r1.out 2>&1
    check u-runc-run [ $? = 0 ] || sed 's/^/  /' $UW/r1.out
    check u-runc-unit-active [ "$(uctl is-active runc-r1.scope)" = active ]
    check u-runc-pids-max [ "$(cat $M/user.slice/runc-r1.scope/pids.max)" = 20 ]
    # runc moves an exec'd process itself and, rootless, ignores a failure: from outside the
    # manager's tree it stays where it was (husk's lands in the scope, u-exec-in-scope)
    echo "  runc exec from outside the manager's tree: $(as_user $R exec r1 cat /proc/self/cgroup 2>&1)"
    as_user $R delete --force r1
    check u-runc-unit-gone nounit runc-r1
}

# rootless podman as a user on a systemd host runs with cgroup_manager = systemd (its default
# there, and this containers.conf does not set it): podman asks
# the user manager for conmon's scope, the runtime (--systemd-cgroup, cgroupsPath
# user.slice:libpod:ID) for the container's
u_podman() {
    if ! command -v podman >/dev/null || ! command -v newuidmap >/dev/null; then
        echo "SKIP u-podman (no podman or newuidmap in the guest)"
        return
    fi
    d=$UW/podman
    as_user mkdir -p $d
    cat > $d/containers.conf <<CONF
[engine]
events_logger = "file"
runtime_supports_json = ["husk", "runc"]
[engine.runtimes]
husk = ["$UH"]
runc = ["$(command -v runc)"]
CONF
    chown $UN: $d/containers.conf
    P="env CONTAINERS_CONF=$d/containers.conf podman --storage-driver vfs"
    as_user tar -C $UW/rootfs -cf $d/rootfs.tar .
    # no cgroup_manager above: podman's own default for a user with a systemd session
    check u-podman-default-systemd [ "$(as_user $P info --format '{{.Host.CgroupManager}}' 2>/dev/null)" = systemd ]
    if ! as_user $P import $d/rootfs.tar localhost/husk-busybox >/dev/null 2>$d/err; then
        bad u-podman-import "$(tail -1 $d/err)"
        return
    fi
    for rt in husk runc; do
        out=$(as_user $P run --rm --runtime $rt --network none localhost/husk-busybox sh -c 'echo hi; exit 3' 2>$d/err)
        st=$?
        check u-podman-$rt-run-rm [ "$out" = hi -a $st = 3 ] || echo "  $out / $(tail -2 $d/err)"
        id=$(as_user $P run -d --runtime $rt --network none --pids-limit 12 --memory 67108864 \
            localhost/husk-busybox sleep 300 2>$d/err)
        st=$?
        check u-podman-$rt-run-d [ $st = 0 ]
        [ $st = 0 ] || { echo "  $(tail -2 $d/err)"; as_user $P rm -f $id >/dev/null 2>&1; continue; }
        scope=libpod-$id.scope
        check u-podman-$rt-scope-active [ "$(uctl is-active $scope 2>/dev/null)" = active ]
        check u-podman-$rt-scope-tasks-max [ "$(uctl show -P TasksMax $scope 2>/dev/null)" = 12 ]
        cg=$(uctl show -P ControlGroup $scope 2>/dev/null)
        echo "  $rt: $scope in $cg"
        check u-podman-$rt-pids-max [ "$(cat /sys/fs/cgroup$cg/pids.max 2>/dev/null)" = 12 ]
        check u-podman-$rt-memory-max [ "$(cat /sys/fs/cgroup$cg/memory.max 2>/dev/null)" = 67108864 ]
        got=$(as_user $P exec $id cat /proc/self/cgroup 2>&1)
        case "$got" in
        "0::/"|*"/$scope") ok u-podman-$rt-exec ;;
        *) bad u-podman-$rt-exec "$got" ;;
        esac
        check u-podman-$rt-pids-limit-enforced outgrep fork \
            as_user $P exec $id sh -c 'for i in $(seq 20); do sleep 3 & done; wait' 
        check u-podman-$rt-rm as_user $P rm -f -t 0 $id
        check u-podman-$rt-scope-gone nounit libpod-$id
    done
    as_user $P system reset -f >/dev/null 2>&1
}

u_main() {
    if ! $HUSK features 2>/dev/null | grep -q '"systemdUser": *true'; then
        echo "SKIP systemd-user (husk features: systemdUser false)"
        return
    fi
    if ! u_setup; then
        bad u-setup "no user manager with a user bus for $UN"
        return
    fi
    u_husk
    echo "VM: systemd-user podman at $(cut -d' ' -f1 /proc/uptime)s"
    u_podman
    systemctl stop user@$UID_.service
}
u_main
