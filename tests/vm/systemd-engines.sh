#!/bin/sh
# Engines with their systemd cgroup drivers driving husk inside the systemd VM (its payload,
# tests/vm/systemd/payload.sh, sources every tests/vm/systemd-*.sh): podman with cgroup_manager =
# systemd, Docker with native.cgroupdriver=systemd and containerd's ctr with the runc shim's
# systemd cgroup option, each running, exec'ing into, limiting and removing a container through
# husk, and through runc beside it. Each of these calls `husk --systemd-cgroup`: without the
# driver (`husk features` says systemd false) everything is reported as skipped, not passed.
# Prints "TEST name: PASS|FAIL (why)" and "SKIP name (why)"; never exits (it is sourced).
# Environment: HUSK (the binary), HUSK_REPO, HUSK_VM_ROOTFS (a busybox rootfs to copy).
command -v check >/dev/null 2>&1 || {
    PASS=0; FAIL=0
    ok() { echo "TEST $1: PASS"; PASS=$((PASS + 1)); }
    bad() { echo "TEST $1: FAIL ($2)"; FAIL=$((FAIL + 1)); }
    check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "$*"; fi; }
}
EH=${HUSK:-husk}
ER=${HUSK_REPO:-$(pwd)}
EW=/tmp/husk-engines
ERUNC=$(command -v runc)
MEM=67108864

# eng_live NAME SCOPE EXEC...: the scope is an active unit with the limit as its property and in
# its cgroup's memory.max, and a process exec'd into the container is in that cgroup (its own
# root where the engine gives a cgroup namespace); eng_gone NAME PATTERN: after the removal no
# unit is left
eng_live() {
    en=$1 scope=$2
    shift 2
    check $en-scope-active [ "$(systemctl is-active "$scope" 2>/dev/null)" = active ]
    check $en-scope-memory [ "$(systemctl show -P MemoryMax "$scope" 2>/dev/null)" = $MEM ]
    cg=$(systemctl show -P ControlGroup "$scope" 2>/dev/null)
    check $en-cgroup-memory-max [ "$(cat /sys/fs/cgroup$cg/memory.max 2>/dev/null)" = $MEM ]
    got=$("$@" cat /proc/self/cgroup 2>&1)
    case "$got" in
    "0::/"|*"/$scope") ok $en-exec-in-scope ;;
    *) bad $en-exec-in-scope "$got"; systemctl list-units --all --no-legend --type=scope | sed 's/^/  unit: /' ;;
    esac
}
eng_gone() {
    check $1-scope-gone sh -c "! systemctl list-units --all --no-legend | grep -q '$2'"
}

eng_podman() {
    d=$EW/podman
    mkdir -p $d
    cat > $d/containers.conf <<CONF
[engine]
runtime = "husk"
runtime_supports_json = ["husk", "runc"]
cgroup_manager = "systemd"
events_logger = "file"
[engine.runtimes]
husk = ["$EH"]
runc = ["$ERUNC"]
CONF
    P="env CONTAINERS_CONF=$d/containers.conf podman --root $d/root --runroot $d/run --tmpdir $d/tmp --storage-driver vfs"
    tar -C $EW/rootfs -cf $d/rootfs.tar .
    if ! $P import $d/rootfs.tar localhost/husk-busybox >/dev/null 2>$d/err; then
        bad podman-import "$(tail -1 $d/err)"
        return
    fi
    for rt in husk runc; do
        id=$($P run -d --runtime $rt --network none --memory $MEM localhost/husk-busybox sleep 300 2>$d/err)
        st=$?
        check podman-$rt-run [ $st = 0 ]
        [ $st = 0 ] || { echo "  $(tail -2 $d/err)"; $P rm -f $id >/dev/null 2>&1; continue; }
        eng_live podman-$rt libpod-$id.scope $P exec $id
        check podman-$rt-rm $P rm -f -t 0 $id
        eng_gone podman-$rt libpod-$id
    done
    $P system reset -f >/dev/null 2>&1
}

eng_docker() {
    d=$EW/docker
    mkdir -p $d
    D="/usr/bin/docker -H unix://$d/sock"
    dockerd --data-root $d/data --exec-root $d/exec --pidfile $d/pid -H unix://$d/sock \
        --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
        --exec-opt native.cgroupdriver=systemd --add-runtime husk=$EH >$d/log 2>&1 &
    for i in $(seq 120); do $D version >/dev/null 2>&1 && break; sleep 1; done
    if ! $D load -i $EW/image.tar >/dev/null 2>$d/err; then
        bad docker-load "$(tail -1 $d/err)"
    else
        for rt in husk runc; do
            id=$($D run -d --runtime $rt --network none --memory $MEM localhost/husk-busybox sleep 300 2>$d/err)
            st=$?
            check docker-$rt-run [ $st = 0 ]
            [ $st = 0 ] || { echo "  $(tail -2 $d/err)"; $D rm -f $id >/dev/null 2>&1; continue; }
            eng_live docker-$rt docker-$id.scope $D exec $id
            check docker-$rt-rm $D rm -f $id
            eng_gone docker-$rt docker-$id
        done
    fi
    [ -f $d/pid ] && kill $(cat $d/pid) && for i in $(seq 30); do [ -e $d/pid ] || break; sleep 1; done
}

eng_ctr() {
    d=$EW/containerd
    mkdir -p $d
    cat > $d/config.toml <<CONF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/sock"
[ttrpc]
  address = "$d/sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
CONF
    containerd --config $d/config.toml >$d/log 2>&1 &
    cpid=$!
    C="ctr -a $d/sock"
    for i in $(seq 60); do $C version >/dev/null 2>&1 && break; sleep 1; done
    if ! $C images import $EW/image.tar >/dev/null 2>$d/err; then
        bad ctr-import "$(tail -1 $d/err)"
    else
        for rt in husk runc; do
            bin=$EH
            [ $rt = runc ] && bin=$ERUNC
            # the shim's systemd option: runc's --systemd-cgroup with a slice:prefix:name path
            check ctr-$rt-run $C run -d --runc-binary $bin --runc-systemd-cgroup --cgroup system.slice:ctr:c-$rt \
                --memory-limit $MEM localhost/husk-busybox:latest c-$rt sleep 300
            eng_live ctr-$rt ctr-c-$rt.scope $C task exec --exec-id e1 c-$rt
            $C task kill -s KILL c-$rt >/dev/null 2>&1
            for i in $(seq 50); do $C task ls 2>/dev/null | grep -q "c-$rt.*RUNNING" || break; sleep 0.2; done
            $C task delete c-$rt >/dev/null 2>&1
            check ctr-$rt-rm $C container delete c-$rt
            eng_gone ctr-$rt ctr-c-$rt
        done
    fi
    kill $cpid
    wait $cpid 2>/dev/null
}

eng_main() {
    if ! $EH features 2>/dev/null | grep -q '"systemd": *true'; then
        for e in podman docker ctr; do
            echo "SKIP systemd-engines-$e (husk features: systemd false, no --systemd-cgroup driver)"
        done
        return
    fi
    rm -rf $EW
    mkdir -p $EW
    if [ -d "${HUSK_VM_ROOTFS:-}" ]; then
        cp -a "$HUSK_VM_ROOTFS" $EW/rootfs
    else
        sh "$ER/scripts/mkrootfs.sh" $EW/rootfs >/dev/null
    fi
    python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import image; image.build(sys.argv[2], sys.argv[3])' \
        "$ER/tests/engines" $EW/rootfs $EW/image.tar
    for e in podman docker ctr; do
        tool=$e
        [ $e = docker ] && tool=dockerd
        if [ -z "$ERUNC" ] || ! command -v $tool >/dev/null 2>&1; then
            echo "SKIP systemd-engines-$e (no $tool or no runc in the guest)"
            continue
        fi
        echo "VM: engine $e at $(cut -d' ' -f1 /proc/uptime)s"
        eng_$e
    done
    rm -rf $EW
}
eng_main
