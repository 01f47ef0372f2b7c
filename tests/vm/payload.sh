#!/bin/sh
# Cgroup v2 checks with every controller, run by the VM's init.
. /checks.sh


# placement: the cgroup, the namespace rooted at it, every controller visible
config place '["sh","-c","cat /proc/self/cgroup; cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max"]' \
    '{"pids":{"limit":10},"memory":{"limit":67108864},"cpu":{"quota":50000,"period":100000,"shares":1024}}'
out=$($H run --bundle $B place 2>&1)
echo "$out" | sed 's/^/  /'
check placement-ns-root [ "$(echo "$out" | sed -n 1p)" = "0::/" ]
check pids-max-inside [ "$(echo "$out" | sed -n 2p)" = "10" ]
check memory-max-inside [ "$(echo "$out" | sed -n 3p)" = "67108864" ]
check cgroup-removed [ ! -e $CG/husk-vm/place ]

# pids.max enforced: a fork loop hits the limit, pids.events counts the refusals
check_pids_limit $CG/husk-vm/pids

# memory.max enforced: a hog is OOM-killed and memory.events counts it
config mem '["sh","-c","dd if=/dev/zero of=/dev/null bs=96M count=1"]' '{"memory":{"limit":33554432,"swap":33554432}}'
$H create --bundle $B mem >/dev/null 2>&1
$H start mem
for i in $(seq 100); do $H state mem 2>/dev/null | grep -q stopped && break; sleep 0.1; done
kills=$(sed -n 's/^oom_kill //p' $CG/husk-vm/mem/memory.events)
check memory-oom-kill [ "${kills:-0}" -ge 1 ]
$H delete --force mem

# events: stats and the OOM count of a container whose child was OOM-killed
config oom '["sh","-c","dd if=/dev/zero of=/dev/null bs=96M count=1; sleep 300"]' '{"memory":{"limit":33554432,"swap":33554432},"pids":{"limit":50}}'
$H run --detach --bundle $B oom >/dev/null 2>&1
sleep 1
ev=$($H events --stats oom)
echo "  $ev"
check events-oom sh -c "echo '$ev' | grep -q '\"oomKills\":[1-9]'"
check events-pids sh -c "echo '$ev' | grep -q '\"pids\":{\"current\":1'"
$H delete --force oom

# cpu.max throttles a busy loop
config cpu '["sh","-c","i=0; end=$(($(date +%s)+2)); while [ $(date +%s) -lt $end ]; do i=$((i+1)); done"]' \
    '{"cpu":{"quota":20000,"period":100000}}'
$H create --bundle $B cpu >/dev/null 2>&1
$H start cpu
sleep 2.5
thr=$(sed -n 's/^nr_throttled //p' $CG/husk-vm/cpu/cpu.stat)
check cpu-max-file [ "$(cat $CG/husk-vm/cpu/cpu.max)" = "20000 100000" ]
check cpu-throttled [ "${thr:-0}" -gt 0 ]
$H delete --force cpu

# a container that makes cgroups of its own (systemd does) and moves into one: delete
# removes them with the container's
config nest '["sh","-c","mkdir /sys/fs/cgroup/sub && echo $$ > /sys/fs/cgroup/sub/cgroup.procs && exec sleep 300"]' \
    '{"pids":{"limit":20}}'
$H run --detach --bundle $B nest
for i in $(seq 50); do grep -q . $CG/husk-vm/nest/sub/cgroup.procs 2>/dev/null && break; sleep 0.1; done
check nested-cgroup-made grep -q . $CG/husk-vm/nest/sub/cgroup.procs
$H delete --force nest
check nested-cgroup-removed [ ! -e $CG/husk-vm/nest ]

# devices: the eBPF filter denies what the rules deny, allows the default devices
check_device_rules

# pause / resume / update / kill --all / delete
config life '["sleep","300"]' '{"pids":{"limit":20},"memory":{"limit":67108864}}'
$H run --detach --bundle $B life
$H pause life
check pause-frozen grep -q "frozen 1" $CG/husk-vm/life/cgroup.events
check pause-status sh -c "$H state life | grep -q paused"
$H resume life
check resume-thawed grep -q "frozen 0" $CG/husk-vm/life/cgroup.events
$H update --memory 134217728 --pids-limit 30 life
check update-memory [ "$(cat $CG/husk-vm/life/memory.max)" = "134217728" ]
check update-pids [ "$(cat $CG/husk-vm/life/pids.max)" = "30" ]
$H exec --detach life sleep 300
check exec-in-cgroup [ "$(wc -l < $CG/husk-vm/life/cgroup.procs)" = "2" ]
$H kill --all life KILL
sleep 0.3
check kill-all [ "$(wc -l < $CG/husk-vm/life/cgroup.procs)" = "0" ]
$H delete --force life
check delete-removes-cgroup [ ! -e $CG/husk-vm/life ]

# a parent someone else made (an engine's slice) whose subtree_control lacks +pids: husk
# enables it on the way down from the root, as runc's v2 manager does, then sets the limit
mkdir $CG/eng-slice
config eng '["cat","/sys/fs/cgroup/pids.max"]' '{"pids":{"limit":12}}'
sed -i 's#"/husk-vm/eng"#"/eng-slice/eng"#' $B/config.json
out=$($H run --bundle $B eng 2>&1)
echo "  $out"
check parent-slice-pids-enabled grep -qw pids $CG/eng-slice/cgroup.subtree_control
check parent-slice-pids-limit [ "$out" = "12" ]
rmdir $CG/eng-slice

# rootless: pids.max in a subtree delegated to an unprivileged user
check_rootless_pids

echo "SUMMARY: $PASS passed, $FAIL failed"
