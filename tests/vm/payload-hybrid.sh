#!/bin/sh
# Cgroup v1 checks on the hybrid layout (every v1 controller plus an empty unified tree), the
# kind of host this project's machine is but with the controllers it lacks (hugetlb, net_cls,
# net_prio, a v1 memory controller of our own).
. /checks.sh


# every resource lands in its own v1 hierarchy, the unified tree tracks the container
config all '["sleep","300"]' \
    '{"memory":{"limit":67108864,"swap":134217728,"swappiness":10},"cpu":{"shares":512,"quota":20000,"period":100000,"cpus":"0"},
      "pids":{"limit":20},"hugepageLimits":[{"pageSize":"2MB","limit":4194304}],"network":{"classID":1048577,"priorities":[{"name":"lo","priority":7}]}}'
$H run --detach --bundle $B all >/dev/null 2>&1
check memory-limit [ "$(cat $CG/memory/husk-vm/all/memory.limit_in_bytes)" = "67108864" ]
check memory-swap [ "$(cat $CG/memory/husk-vm/all/memory.memsw.limit_in_bytes)" = "134217728" ]
check memory-swappiness [ "$(cat $CG/memory/husk-vm/all/memory.swappiness)" = "10" ]
check cpu-shares [ "$(cat $CG/cpu,cpuacct/husk-vm/all/cpu.shares)" = "512" ]
check cpu-quota [ "$(cat $CG/cpu,cpuacct/husk-vm/all/cpu.cfs_quota_us)" = "20000" ]
check cpuset-cpus [ "$(cat $CG/cpuset/husk-vm/all/cpuset.cpus)" = "0" ]
check pids-max [ "$(cat $CG/pids/husk-vm/all/pids.max)" = "20" ]
check hugetlb-limit [ "$(cat $CG/hugetlb/husk-vm/all/hugetlb.2MB.limit_in_bytes)" = "4194304" ]
check net-cls-classid [ "$(cat $CG/net_cls,net_prio/husk-vm/all/net_cls.classid)" = "1048577" ]
check net-prio-map grep -q "^lo 7" $CG/net_cls,net_prio/husk-vm/all/net_prio.ifpriomap
check unified-tracking [ -e $CG/unified/husk-vm/all/cgroup.procs ]
pid=$($H state all | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
check init-in-memory-cgroup grep -q ":memory:/husk-vm/all$" /proc/$pid/cgroup
inside=$($H exec all ls /sys/fs/cgroup 2>&1 | tr '\n' ' ')
echo "  inside: $inside"
check container-sees-hierarchies sh -c "echo '$inside' | grep -q memory && echo '$inside' | grep -q hugetlb"
$H pause all
# a unified tree is there: husk freezes with cgroup.freeze, as on v2
check frozen grep -q "frozen 1" $CG/unified/husk-vm/all/cgroup.events
check paused-status sh -c "$H state all | grep -q paused"
$H resume all
check thawed grep -q "frozen 0" $CG/unified/husk-vm/all/cgroup.events
$H update --memory 50331648 --pids-limit 30 all
check update-memory [ "$(cat $CG/memory/husk-vm/all/memory.limit_in_bytes)" = "50331648" ]
check update-pids [ "$(cat $CG/pids/husk-vm/all/pids.max)" = "30" ]
$H delete --force all
gone=1
for h in memory cpu,cpuacct cpuset pids hugetlb net_cls,net_prio freezer devices blkio unified; do
    [ -e $CG/$h/husk-vm/all ] && gone=0
done
check delete-removes-every-hierarchy [ $gone = 1 ]

# limits enforced, not just written
config hog '["sh","-c","dd if=/dev/zero of=/dev/null bs=96M count=1"]' '{"memory":{"limit":33554432,"swap":33554432}}'
$H run --bundle $B hog >/dev/null 2>&1
check memory-oom-killed [ $? -ne 0 ]
check_pids_limit $CG/pids/husk-vm/pids
check_device_rules

# a limit this kernel accepts but ignores is refused, and nothing is left behind
config kmem '["true"]' '{"memory":{"kernel":67108864}}'
msg=$($H run --bundle $B kmem 2>&1)
check kernel-memory-refused sh -c "echo '$msg' | grep -q 'ignores kernel memory limits'"
check kernel-memory-no-leftover [ ! -e $CG/memory/husk-vm/kmem ]

echo "SUMMARY: $PASS passed, $FAIL failed"
