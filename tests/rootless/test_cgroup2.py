"""A cgroup v2 subtree delegated to the user (what systemd's Delegate=yes gives): in a private
pure-v2 view (a mount namespace where cgroup2 is /sys/fs/cgroup), a directory below our own
cgroup whose files the user owns. husk then uses it fully: the container's cgroup is made
there, limits are written (hugetlb: the only v2 controller this host has; pids.max is
checked in the test VM), ps, pause, events and kill --all go through it."""
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest


def host_v2_root():
    for p in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(p + "/cgroup.controllers"):
            return p
    pytest.skip("no cgroup2 hierarchy")


@pytest.fixture
def deleg(rl):
    """(prefix for rl.cmd, cgroupsPath below the delegated directory, its host path)"""
    v2 = host_v2_root()
    with open("/proc/self/cgroup") as f:
        own = [l.split(":", 2)[2].strip() for l in f if l.startswith("0::")][0].rstrip("/")
    name = "husk-rl-" + uuid.uuid4().hex[:8]
    d = f"{v2}{own}/{name}"
    os.mkdir(d)
    try:
        ctrls = open(d + "/cgroup.controllers").read().split()
        if "hugetlb" in ctrls:
            open(d + "/cgroup.subtree_control", "w").write("+hugetlb")
        os.mkdir(d + "/shell")
        os.mkdir(d + "/ctrs")
        if "hugetlb" in ctrls:
            open(d + "/ctrs/cgroup.subtree_control", "w").write("+hugetlb")
        # delegation as cgroup-v2.rst describes it: the directories and their cgroup.procs,
        # cgroup.threads and cgroup.subtree_control; moving between shell/ and ctrs/ takes
        # write access to the common parent's cgroup.procs too
        for p in (d + "/cgroup.procs", d + "/shell", d + "/ctrs"):
            os.chown(p, rl.uid, rl.gid)
        for sub in ("shell", "ctrs"):
            for f in ("cgroup.procs", "cgroup.threads", "cgroup.subtree_control"):
                os.chown(f"{d}/{sub}/{f}", rl.uid, rl.gid)
        holder = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                                   "mount -t cgroup2 none /sys/fs/cgroup && echo ready && exec sleep 300"],
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "ready"
        prefix = ["nsenter", "-t", str(holder.pid), "-m", "--", "sh", "-c",
                  'echo $$ > "$0/cgroup.procs" && exec "$@"', f"/sys/fs/cgroup{own}/{name}/shell"]
        yield prefix, f"{own}/{name}/ctrs", d, "hugetlb" in ctrls
        for i in rl.ids:
            rl.cmd("delete", "--force", i, prefix=prefix)
        holder.kill()
        holder.wait()
    finally:
        for sub in ("ctrs", "shell", ""):
            p = f"{d}/{sub}" if sub else d
            for _ in range(100):
                try:
                    for c in os.listdir(p):
                        if os.path.isdir(f"{p}/{c}"):
                            os.rmdir(f"{p}/{c}")
                    if os.path.isdir(p):
                        os.rmdir(p)
                    break
                except OSError:
                    time.sleep(0.02)


def test_delegated_subtree_used_fully(rl, deleg):
    prefix, base, hostdir, hugetlb = deleg
    cid = rl.new_id()

    def edit(c):
        c["linux"]["cgroupsPath"] = f"{base}/{cid}"
        if hugetlb:
            c["linux"]["resources"] = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}]}
    b = rl.bundle(["sleep", "100"], edit=edit)
    p = rl.cmd("run", "-d", "--bundle", b, cid, prefix=prefix)
    assert p.returncode == 0, p.stderr
    cg = f"{hostdir}/ctrs/{cid}"
    assert os.stat(cg).st_uid == rl.uid, "the container's cgroup is not the user's"
    st = json.loads(rl.cmd("state", cid, prefix=prefix, check=True).stdout)
    assert str(st["pid"]) in open(cg + "/cgroup.procs").read().split()
    if hugetlb:
        assert open(cg + "/hugetlb.2MB.max").read().strip() == str(4 << 20)
    # inside: its own cgroup namespace, rooted at that cgroup
    p = rl.cmd("exec", cid, "cat", "/proc/self/cgroup", prefix=prefix)
    assert p.returncode == 0 and p.stdout.split()[-1] == "0::/", (p.stdout, p.stderr)
    rl.cmd("exec", "-d", cid, "sleep", "99", prefix=prefix, check=True)
    pids = json.loads(rl.cmd("ps", "--format", "json", cid, prefix=prefix, check=True).stdout)
    assert len(pids) == 2
    rl.cmd("pause", cid, prefix=prefix, check=True)
    assert json.loads(rl.cmd("state", cid, prefix=prefix).stdout)["status"] == "paused"
    assert "frozen 1" in open(cg + "/cgroup.events").read()
    rl.cmd("resume", cid, prefix=prefix, check=True)
    ev = json.loads(rl.cmd("events", "--stats", cid, prefix=prefix, check=True).stdout)
    assert ev["type"] == "stats"
    rl.cmd("kill", "--all", cid, "KILL", prefix=prefix, check=True)
    end = time.time() + 5
    while time.time() < end and json.loads(rl.cmd("state", cid, prefix=prefix).stdout)["status"] != "stopped":
        time.sleep(0.05)
    rl.cmd("delete", cid, prefix=prefix, check=True)
    assert not os.path.exists(cg), "delete left the cgroup"


def test_cgroup_mount_bound_on_v2(rl, deleg):
    """A user namespace may not mount the host's cgroup2 (EBUSY): /sys/fs/cgroup is the
    container's cgroup bound there, read-only."""
    prefix, base, hostdir, _ = deleg
    cid = rl.new_id()
    b = rl.bundle(["sh", "-c", "ls /sys/fs/cgroup/cgroup.procs && grep ' /sys/fs/cgroup ' /proc/mounts; "
                   "touch /sys/fs/cgroup/x"],
                  edit=lambda c: c["linux"].__setitem__("cgroupsPath", f"{base}/{cid}"))
    p = rl.cmd("run", "--bundle", b, cid, prefix=prefix)
    assert p.returncode == 1 and "Read-only" in p.stderr, (p.stdout, p.stderr)
    line = [l for l in p.stdout.split("\n") if " /sys/fs/cgroup " in l][-1].split()   # the top one
    assert line[2] == "cgroup2" and "ro" in line[3].split(","), p.stdout
