# Sourced by the VM payloads: each check prints "TEST name: PASS|FAIL", the payload ends with
# "SUMMARY: N passed, M failed".
PASS=0
FAIL=0
H="husk --root /run/husk"
B=/bundle
CG=/sys/fs/cgroup

ok() { echo "TEST $1: PASS"; PASS=$((PASS + 1)); }
bad() { echo "TEST $1: FAIL ($2)"; FAIL=$((FAIL + 1)); }
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "$*"; fi; }

# config NAME ARGS_JSON RESOURCES_JSON [EXTRA_LINUX_JSON]
config() {
    cat > $B/config.json <<JSON
{"ociVersion":"1.3.0","root":{"path":"rootfs"},"hostname":"vm",
 "process":{"args":$2,"cwd":"/","env":["PATH=/bin:/sbin:/usr/bin:/usr/sbin"],
   "capabilities":{"bounding":["CAP_MKNOD","CAP_KILL","CAP_DAC_OVERRIDE"],"effective":["CAP_MKNOD","CAP_KILL","CAP_DAC_OVERRIDE"],"permitted":["CAP_MKNOD","CAP_KILL","CAP_DAC_OVERRIDE"]}},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
   {"destination":"/tmp","type":"tmpfs","source":"tmpfs"},
   {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["rw"]}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"cgroup"}],
   "cgroupsPath":"/husk-vm/$1","resources":$3${4:+,$4}}}
JSON
}

# pids enforced: a fork loop stops at the limit and the refusals are counted.
# $1: the container's pids cgroup directory (the container is named "pids").
check_pids_limit() {
    config pids '["sh","-c","for i in $(seq 30); do sleep 5 & done; sleep 5"]' '{"pids":{"limit":8}}'
    $H run --detach --bundle $B pids >/dev/null 2>&1
    sleep 1
    cur=$(cat "$1/pids.current" 2>/dev/null)
    refused=$(sed -n 's/^max //p' "$1/pids.events" 2>/dev/null)
    check pids-enforced [ "${cur:-99}" -le 8 ]
    check pids-events [ "${refused:-0}" -gt 0 ]
    $H delete --force pids
}

# devices: what the rules deny cannot be opened, the default devices still work. A node can be
# made (runc's implicit `c *:* m` and `b *:* m`, which engines' defaults rely on), not used.
check_device_rules() {
    config dev '["sh","-c","mknod /tmp/k c 1 11 && echo made; echo x > /tmp/k && echo opened; echo x > /dev/null && echo null-ok"]' \
        '{"devices":[{"allow":false,"access":"rwm"}]}'
    $H run --bundle $B dev > /tmp/dev.out 2>&1
    check device-mknod-allowed grep -q made /tmp/dev.out
    check device-denied sh -c "! grep -q opened /tmp/dev.out"
    check device-default-allowed grep -q null-ok /tmp/dev.out
}

# Rootless husk (uid 1000, a single-id map written by itself) in a cgroup v2 subtree delegated
# to it as systemd's Delegate=yes does: the directory and its cgroup.procs, cgroup.threads and
# cgroup.subtree_control are the user's. pids.max set by the user's husk is enforced.
check_rootless_pids() {
    grep -q '^rl:' /etc/passwd || { echo "rl:x:1000:1000::/tmp/rl:/bin/sh" >> /etc/passwd; echo "rl:x:1000:" >> /etc/group; }
    D=$CG/rl
    mkdir -p $D/shell $D/ctrs /tmp/rl/xdg /tmp/rl/b
    echo +pids > $D/cgroup.subtree_control
    echo +pids > $D/ctrs/cgroup.subtree_control
    chown 1000:1000 $D/cgroup.procs $D/shell $D/ctrs
    for f in cgroup.procs cgroup.threads cgroup.subtree_control; do chown 1000:1000 $D/shell/$f $D/ctrs/$f; done
    cp -a $B/rootfs /tmp/rl/b/rootfs
    cat > /tmp/rl/b/config.json <<JSON
{"ociVersion":"1.3.0","root":{"path":"rootfs"},"hostname":"rl",
 "process":{"args":["sh","-c","for i in \$(seq 30); do sleep 5 & done; sleep 5"],"cwd":"/","env":["PATH=/bin:/sbin:/usr/bin"],
   "capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]}},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
   {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["ro"]}],
 "linux":{"namespaces":[{"type":"user"},{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"cgroup"}],
   "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],"gidMappings":[{"containerID":0,"hostID":1000,"size":1}],
   "cgroupsPath":"/rl/ctrs/pids","resources":{"pids":{"limit":8}}}}
JSON
    chown -R 1000:1000 /tmp/rl
    chmod 700 /tmp/rl/xdg
    RL="env XDG_RUNTIME_DIR=/tmp/rl/xdg husk"
    # the shell moves itself into the user's cgroup, then becomes the user
    sh -c "echo \$\$ > $D/shell/cgroup.procs && exec su -s /bin/sh rl -c '$RL run --detach --bundle /tmp/rl/b pids'" > /tmp/rl.out 2>&1
    sleep 1
    cat /tmp/rl.out | sed 's/^/  /'
    cur=$(cat $D/ctrs/pids/pids.current 2>/dev/null)
    refused=$(sed -n 's/^max //p' $D/ctrs/pids/pids.events 2>/dev/null)
    check rootless-cgroup-owned [ "$(stat -c %u $D/ctrs/pids 2>/dev/null)" = 1000 ]
    check rootless-pids-enforced [ "${cur:-99}" -le 8 ]
    check rootless-pids-events [ "${refused:-0}" -gt 0 ]
    su -s /bin/sh rl -c "$RL delete --force pids" 
    check rootless-cgroup-removed [ ! -e $D/ctrs/pids ]
    rmdir $D/ctrs $D/shell $D 2>/dev/null
}
