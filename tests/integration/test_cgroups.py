"""Cgroups on this host (hybrid here; v1/v2 paths are chosen by what is mounted)."""
import json
import os
import uuid


def own(ctrl):
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, c, path = line.rstrip("\n").split(":", 2)
            if c == ctrl:
                return path
    return None


def pids_dir():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "/sys/fs/cgroup"
    return "/sys/fs/cgroup/pids"


def test_default_cgroup_below_our_own_and_removed(husk):
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    pid = husk.state(cid)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    for line in lines:
        path = line.split(":", 2)[2]
        assert path.endswith(f"/husk-{cid}"), line
    base = own("pids") if not os.path.exists("/sys/fs/cgroup/cgroup.controllers") else own("")
    d = os.path.join(pids_dir() + base.rstrip("/"), f"husk-{cid}")
    assert os.path.isdir(d)
    husk.cmd("delete", "--force", cid, check=True)
    assert not os.path.exists(d)


def test_child_cgroups_the_container_made_are_removed(husk):
    # what systemd or a nested runtime does inside a container: cgroups below its own, with
    # processes in them; delete removes them depth-first (the kernel removes empty leaves only)
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    pid = husk.state(cid)["pid"]
    dirs = []
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f.read().splitlines():
            _, ctrls, path = line.split(":", 2)
            name = ctrls.replace("name=", "") if ctrls else ""
            root = "/sys/fs/cgroup" + ("/unified" if not ctrls and os.path.isdir("/sys/fs/cgroup/unified") else
                                       ("/" + name if ctrls else ""))
            d = root + path
            if os.path.isdir(d) and path.endswith(f"/husk-{cid}"):
                dirs.append(d)
    assert dirs
    for d in dirs:
        os.makedirs(os.path.join(d, "sub", "deeper"))
    # the init itself moves into a child, in the pids hierarchy (or the only one)
    target = next((d for d in dirs if "/pids/" in d), dirs[0])
    with open(os.path.join(target, "sub", "deeper", "cgroup.procs"), "w") as f:
        f.write(str(pid))
    # still the container's processes
    p = husk.cmd("ps", "--format", "json", cid, check=True)
    assert pid in json.loads(p.stdout)
    p = husk.cmd("delete", "--force", cid)
    assert p.returncode == 0, p.stderr
    for d in dirs:
        assert not os.path.exists(d), d
    try:
        with open(f"/proc/{pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")   # killed, not yet reaped
    except FileNotFoundError:
        pass


def test_pids_limit_enforced_and_absolute_path(husk):
    # absolute, yet below our own memory cgroup: test cgroups stay inside our accounting
    base = (own("memory") or own("") or "/").rstrip("/")
    name = base.lstrip("/") + ("/" if base else "") + "husk-test-" + uuid.uuid4().hex[:8]

    def edit(c):
        c["linux"]["cgroupsPath"] = f"/{name}/ctr"
        c["linux"]["resources"] = {"pids": {"limit": 8}}
    b = husk.bundle(["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done; wait"], edit=edit)
    cid, _ = husk.create(b)
    d = os.path.join(pids_dir(), name, "ctr")
    assert open(os.path.join(d, "pids.max")).read().strip() == "8"
    husk.cmd("start", cid, check=True)
    import time
    time.sleep(0.5)
    assert int(open(os.path.join(d, "pids.current")).read()) <= 8
    husk.cmd("delete", "--force", cid, check=True)
    # both the leaf and the parent husk made are gone
    assert not os.path.exists(os.path.join(pids_dir(), name))


def test_memory_and_cpu_written(husk):
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return
    def edit(c):
        c["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "cpu": {"shares": 0, "quota": 20000, "period": 100000}}
    b = husk.bundle(edit=edit)
    cid, _ = husk.create(b)
    mem = "/sys/fs/cgroup/memory" + own("memory").rstrip("/") + f"/husk-{cid}"
    assert int(open(mem + "/memory.limit_in_bytes").read()) == 64 << 20
    cpu = "/sys/fs/cgroup/cpu" + own("cpu").rstrip("/") + f"/husk-{cid}"
    assert open(cpu + "/cpu.cfs_quota_us").read().strip() == "20000"
    assert open(cpu + "/cpu.shares").read().strip() == "1024"  # 0 means unset


def test_cgroup_namespace_rooted_at_container(husk):
    def edit(c):
        c["linux"]["namespaces"].append({"type": "cgroup"})
    cid, p = husk.run(husk.bundle(["cat", "/proc/self/cgroup"], edit=edit))
    assert p.returncode == 0, p.stderr
    for line in p.stdout.splitlines():
        assert line.split(":", 2)[2] == "/", line


def test_unenforceable_resource_is_an_error(husk):
    def edit(c):
        c["linux"]["resources"] = {"network": {"classID": 5}}
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "net_cls" in p.stderr
    husk.assert_no_leftovers(cid, b)


def test_systemd_cgroups_path_refused(husk):
    def edit(c):
        c["linux"]["cgroupsPath"] = "system.slice:husk:abc"
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "--systemd-cgroup" in p.stderr


def test_update_live_limits(husk):
    b = husk.bundle(["sleep", "100"])
    cid, p = husk.run(b, "--detach")
    assert p.returncode == 0, p.stderr
    husk.cmd("update", "--pids-limit", "42", cid, check=True)
    base = own("pids") if not os.path.exists("/sys/fs/cgroup/cgroup.controllers") else own("")
    d = os.path.join(pids_dir() + base.rstrip("/"), f"husk-{cid}")
    assert open(os.path.join(d, "pids.max")).read().strip() == "42"
    f = husk.tmp / "res.json"
    f.write_text('{"pids": {"limit": 43}}')
    husk.cmd("update", "--resources", str(f), cid, check=True)
    assert open(os.path.join(d, "pids.max")).read().strip() == "43"
    f.write_text('{"pids": {"limit": "lots"}}')
    p = husk.cmd("update", "--resources", str(f), cid)
    assert p.returncode == 1 and ".linux.resources.pids.limit" in p.stderr


def run_in_v2_view(husk, bundle, cid):
    """husk run in a private mount namespace that sees a pure cgroup2 /sys/fs/cgroup
    (../shared/TESTING.md): enough for placement, freeze and the eBPF device filter."""
    import subprocess
    from conftest import HUSK
    script = 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"'
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                           HUSK, "--root", husk.root, "run", "--bundle", str(bundle), cid],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def test_v2_device_filter(husk):
    def edit_deny(c):
        c["process"]["capabilities"] = {k: ["CAP_MKNOD", "CAP_DAC_OVERRIDE"] for k in ("bounding", "effective", "permitted")}
        c["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
    # mknod itself is allowed (runc's implicit `b *:* m`); using the node takes a rule
    script = ("mknod /tmp/blk b 7 8 && echo made; head -c0 /tmp/blk 2>&1 && echo opened; "
              "echo x > /dev/null && echo null-ok; head -c1 /dev/zero | wc -c")
    cid = husk.new_id()
    p = run_in_v2_view(husk, husk.bundle(["sh", "-c", script], edit=edit_deny), cid)
    assert p.returncode == 0, p.stderr
    assert "made" in p.stdout and "opened" not in p.stdout and "Operation not permitted" in p.stdout
    assert "null-ok" in p.stdout and p.stdout.split()[-1] == "1"  # default devices stay usable

    def edit_allow(c):
        edit_deny(c)
        c["linux"]["resources"]["devices"].append({"allow": True, "type": "b", "major": 7, "minor": 8,
                                                   "access": "r"})
    cid = husk.new_id()
    p = run_in_v2_view(husk, husk.bundle(["sh", "-c", script], edit=edit_allow), cid)
    assert p.returncode == 0, p.stderr
    assert "opened" in p.stdout


def test_v2_device_filter_in_force_at_first_instruction(husk):
    """`run` attaches the device filter while the init builds its rootfs, after the clone
    (create_limits), and sends the start only then: the program's very first action, opening
    a node the rules deny, is refused. Ten runs: a filter attached after the start would be
    a race the program wins some of the time."""
    def edit(c, allow=False):
        c["linux"]["devices"] = [{"path": "/dev/xfuse", "type": "c", "major": 10, "minor": 229,
                                  "fileMode": 0o666, "uid": 0, "gid": 0}]
        c["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
        if allow:
            c["linux"]["resources"]["devices"].append({"allow": True, "type": "c", "major": 10,
                                                       "minor": 229, "access": "r"})
    b = husk.bundle(["head", "-c0", "/dev/xfuse"], edit=edit)
    for _ in range(10):
        p = run_in_v2_view(husk, b, husk.new_id())
        assert p.returncode == 1 and "Operation not permitted" in p.stderr, (p.returncode, p.stdout, p.stderr)
    # the same node with a rule that allows it opens: the refusal above was the filter's
    p = run_in_v2_view(husk, husk.bundle(["head", "-c0", "/dev/xfuse"], edit=lambda c: edit(c, True)), husk.new_id())
    assert p.returncode == 0, p.stderr


def test_events_stats_and_oom(husk):
    import json
    def edit(c):
        c["linux"]["resources"] = {"memory": {"limit": 16 << 20, "swap": 16 << 20}}
    b = husk.bundle(["sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 100"], edit=edit)
    cid, p = husk.run(b, "--detach")
    assert p.returncode == 0, p.stderr
    import time
    time.sleep(0.5)
    p = husk.cmd("events", "--stats", cid, check=True)
    ev = json.loads(p.stdout)
    assert ev["type"] == "stats" and ev["id"] == cid
    assert ev["data"]["memory"]["oomKills"] >= 1
    assert ev["data"]["memory"]["usage"]["limit"] == 16 << 20
    assert ev["data"]["pids"]["current"] == 1


def _kernel_keeps_kmem_limit():
    """Probe in a memory cgroup of our own: does a kmem limit read back as written?"""
    base = own("memory")
    if base is None or not os.path.isdir("/sys/fs/cgroup/memory"):
        return None
    d = "/sys/fs/cgroup/memory" + base.rstrip("/") + "/husk-kmem-probe-" + uuid.uuid4().hex[:6]
    os.mkdir(d)
    try:
        with open(d + "/memory.kmem.limit_in_bytes", "w") as f:
            f.write(str(64 << 20))
        return int(open(d + "/memory.kmem.limit_in_bytes").read()) == 64 << 20
    except FileNotFoundError:
        return False
    finally:
        os.rmdir(d)


def test_kernel_memory_never_silently_dropped(husk):
    keeps = _kernel_keeps_kmem_limit()
    if keeps is None:  # no v1 memory controller: the v2 refusal is tested in the VM
        return
    def edit(c):
        c["linux"]["resources"] = {"memory": {"kernel": 64 << 20}}
    cid, p, b = husk.create_edited(edit)
    if keeps:
        assert p.returncode == 0, p.stderr
        mem = "/sys/fs/cgroup/memory" + own("memory").rstrip("/") + f"/husk-{cid}"
        assert int(open(mem + "/memory.kmem.limit_in_bytes").read()) == 64 << 20
    else:
        assert p.returncode == 1
        assert "linux.resources.memory.kernel: this kernel ignores kernel memory limits" in p.stderr
        husk.assert_no_leftovers(cid, b)
        assert not os.path.exists("/sys/fs/cgroup/memory" + own("memory").rstrip("/") + f"/husk-{cid}")


def test_blkio_weight_cfq_or_bfq_or_refused(husk):
    d = "/sys/fs/cgroup/blkio"
    if not os.path.isdir(d):
        return
    def edit(c):
        c["linux"]["resources"] = {"blockIO": {"weight": 500}}
    cid, p, b = husk.create_edited(edit)
    cg = d + own("blkio").rstrip("/") + f"/husk-{cid}"
    if p.returncode == 0:
        # CFQ's file on old kernels, BFQ's where BFQ group scheduling is built
        f = cg + "/blkio.weight" if os.path.exists(cg + "/blkio.weight") else cg + "/blkio.bfq.weight"
        assert open(f).read().split()[-1] == "500"
    else:
        assert "this kernel has no `blkio.weight`" in p.stderr, p.stderr
        husk.assert_no_leftovers(cid, b)
        assert not os.path.exists(cg)


def test_blkio_throttle_written(husk):
    d = "/sys/fs/cgroup/blkio"
    if not os.path.exists(d + "/blkio.throttle.read_bps_device"):
        return
    st = os.stat("/dev/" + sorted(x for x in os.listdir("/sys/block") if not x.startswith(("loop", "ram", "zram")))[0])
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    def edit(c):
        c["linux"]["resources"] = {"blockIO": {"throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1048576}]}}
    cid, p = husk.create(husk.bundle(edit=edit))
    cg = d + own("blkio").rstrip("/") + f"/husk-{cid}"
    assert f"{major}:{minor} 1048576" in open(cg + "/blkio.throttle.read_bps_device").read()
