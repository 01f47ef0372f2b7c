"""husk spec --rootless + the lifecycle as an unprivileged user, runc 1.1.5 beside where it
runs rootless too."""
import json
import os
import shutil
import subprocess
import time

import pytest

RUNTIMES = ["husk", "runc"]


def runtime(rl, name):
    return rl.binary if name == "husk" else shutil.which("runc")


def wait_stopped(rl, cid, binary=None, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        p = rl.cmd("state", cid, binary=binary)
        if p.returncode != 0 or json.loads(p.stdout)["status"] == "stopped":
            return True
        time.sleep(0.05)
    return False


def test_state_root_defaults_to_xdg_runtime_dir(rl):
    b = rl.bundle(["true"])
    cid = rl.new_id()
    p = rl.cmd("create", "--bundle", b, cid)
    assert p.returncode == 0, p.stderr
    assert os.path.isdir(os.path.join(rl.xdg, "husk", cid)), "state not under $XDG_RUNTIME_DIR/husk"
    # the seccomp cache follows the root: beside it, never /run/husk-cache
    assert os.path.isdir(os.path.join(rl.xdg, "husk-cache")) or not os.path.exists("/run/husk-cache/x")
    listed = rl.cmd("list", "-q", check=True).stdout.split()
    assert cid in listed
    rl.cmd("delete", "--force", cid, check=True)
    assert not os.path.exists(os.path.join(rl.xdg, "husk", cid))


def test_no_xdg_runtime_dir_names_root(rl):
    p = rl.cmd("list", xdg=False)
    assert p.returncode != 0
    assert "XDG_RUNTIME_DIR" in p.stderr and "--root" in p.stderr, p.stderr
    # spec needs no state directory
    d = os.path.join(rl.base, "specdir")
    os.mkdir(d)
    os.chown(d, rl.uid, rl.gid)
    assert rl.cmd("spec", "--rootless", "--bundle", d, xdg=False).returncode == 0


@pytest.mark.parametrize("rt", RUNTIMES)
def test_run_exit_code_and_identity(rl, rt):
    b = rl.bundle(["sh", "-c", "id -u; cat /proc/self/uid_map; ls /dev/null; exit 7"])
    p = rl.cmd("run", "--bundle", b, rl.new_id(), binary=runtime(rl, rt))
    assert p.returncode == 7, p.stderr
    out = p.stdout.split()
    assert out[:4] == ["0", "0", str(rl.uid), "1"], p.stdout
    assert "/dev/null" in out


@pytest.mark.parametrize("rt", RUNTIMES)
def test_create_start_exec_kill_delete(rl, rt):
    bin_ = runtime(rl, rt)
    b = rl.bundle(["sleep", "100"])
    cid = rl.new_id()
    assert rl.cmd("create", "--bundle", b, cid, binary=bin_).returncode == 0
    st = json.loads(rl.cmd("state", cid, binary=bin_, check=True).stdout)
    assert st["status"] == "created" and st["pid"] > 0
    assert os.stat(f"/proc/{st['pid']}").st_uid == rl.uid, "the init is not the user's"
    rl.cmd("start", cid, binary=bin_, check=True)
    assert json.loads(rl.cmd("state", cid, binary=bin_).stdout)["status"] == "running"
    p = rl.cmd("exec", cid, "sh", "-c", "echo hi; id -u", binary=bin_)
    assert p.returncode == 0 and p.stdout.split() == ["hi", "0"], p.stderr
    assert rl.cmd("kill", cid, "KILL", binary=bin_).returncode == 0
    assert wait_stopped(rl, cid, bin_)
    assert rl.cmd("delete", cid, binary=bin_).returncode == 0
    assert rl.cmd("state", cid, binary=bin_).returncode != 0


def test_commands_without_a_cgroup(rl):
    """No writable cgroup on this host for the user: ps finds the processes through the pid
    namespace, kill --all too; pause, events and update say they cannot."""
    b = rl.bundle(["sleep", "100"])
    cid = rl.new_id()
    p = rl.cmd("--debug", "run", "-d", "--bundle", b, cid)
    assert p.returncode == 0, p.stderr
    assert "rootless: no cgroup" in p.stderr
    rl.cmd("exec", "-d", cid, "sleep", "99", check=True)
    pids = json.loads(rl.cmd("ps", "--format", "json", cid, check=True).stdout)
    assert len(pids) == 2, pids
    for name, args in (("pause", ("pause", cid)), ("events", ("events", "--stats", cid)),
                       ("update", ("update", "--pids-limit", "10", cid))):
        p = rl.cmd(*args)
        assert p.returncode != 0 and "has no cgroup" in p.stderr and "rootless" in p.stderr, (name, p.stderr)
    assert rl.cmd("kill", "--all", cid, "KILL").returncode == 0
    assert wait_stopped(rl, cid)
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    rl.cmd("delete", cid, check=True)


def test_resource_limit_without_cgroup_names_it(rl):
    b = rl.bundle(["true"], edit=lambda c: c["linux"].__setitem__("resources", {"memory": {"limit": 64 << 20}}))
    p = rl.cmd("run", "--bundle", b, rl.new_id())
    assert p.returncode != 0
    assert "linux.resources.memory" in p.stderr and "rootless" in p.stderr, p.stderr
    assert os.listdir(os.path.join(rl.xdg, "husk")) == []


def test_sysfs_bound_when_it_cannot_be_mounted(rl):
    """A user namespace without its own network namespace may not mount sysfs (runc 1.1.5
    fails here): the host's /sys is bound instead, read-only on every mount of the tree."""
    def edit(c):
        c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/sys"] + [
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}]
    b = rl.bundle(["sh", "-c", "ls /sys/kernel >/dev/null && touch /sys/fs/cgroup/x; echo $?"], edit=edit)
    p = rl.cmd("run", "--bundle", b, rl.new_id())
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[-1] == "1" and "Read-only" in p.stderr


def test_bind_remount_keeps_locked_flags(rl):
    """A read-only bind of a nosuid,nodev,noexec mount: the kernel locks those flags for the
    user namespace, and a remount that dropped them would fail with EPERM."""
    src = os.path.join(rl.base, "locked")
    os.mkdir(src)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "nosuid,nodev,noexec,size=1m,mode=755,uid=%d" % rl.uid,
                    "rl-locked", src], check=True)
    try:
        with open(src + "/f", "w") as f:
            f.write("x")
        def edit(c):
            c["mounts"].append({"destination": "/mnt", "type": "bind", "source": src, "options": ["rbind", "ro"]})
        b = rl.bundle(["sh", "-c", "cat /mnt/f; echo; grep ' /mnt ' /proc/mounts"], edit=edit)
        p = rl.cmd("run", "--bundle", b, rl.new_id())
        assert p.returncode == 0, p.stderr
        lines = p.stdout.split("\n")
        assert lines[0] == "x"
        opts = lines[1].split()[3].split(",")
        assert {"ro", "nosuid", "nodev", "noexec"} <= set(opts), p.stdout
    finally:
        subprocess.run(["umount", "-l", src], check=False)


def test_multi_range_maps_through_newuidmap(rl):
    """Maps beyond the user's own id go through newuidmap/newgidmap and /etc/subuid."""
    with open("/etc/subuid") as f:
        sub = [l.split(":") for l in f.read().split() if l.startswith(rl.user + ":")]
    if not sub or not shutil.which("newuidmap"):
        pytest.skip("no /etc/subuid range or no newuidmap")
    start, count = int(sub[0][1]), min(int(sub[0][2]), 1000)

    def edit(c):
        for k, own in (("uidMappings", rl.uid), ("gidMappings", rl.gid)):
            c["linux"][k] = [{"containerID": 0, "hostID": own, "size": 1},
                             {"containerID": 1, "hostID": start, "size": count}]
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k].append("CAP_CHOWN")
    b = rl.bundle(["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; touch /dev/shm/f && chown 5:5 /dev/shm/f && stat -c %u /dev/shm/f"],
                  edit=edit)
    p = rl.cmd("run", "--bundle", b, rl.new_id())
    assert p.returncode == 0, p.stderr
    lines = [l.split() for l in p.stdout.strip().split("\n")]
    assert ["1", str(start), str(count)] in lines[:2] and ["1", str(start), str(count)] in lines[2:4], p.stdout
    assert lines[-1] == ["5"]


def test_oom_score_and_rlimit_errors_name_the_field(rl):
    b = rl.bundle(["true"], edit=lambda c: c["process"].__setitem__("oomScoreAdj", -100))
    p = rl.cmd("run", "--bundle", b, rl.new_id())
    assert p.returncode != 0 and "oomScoreAdj" in p.stderr and "below the current value" in p.stderr, p.stderr
    b = rl.bundle(["cat", "/proc/self/oom_score_adj"], edit=lambda c: c["process"].__setitem__("oomScoreAdj", 200))
    p = rl.cmd("run", "--bundle", b, rl.new_id())
    assert p.returncode == 0 and p.stdout.strip() == "200", p.stderr
    hard = int(subprocess.run(["runuser", "-u", rl.user, "--", "sh", "-c", "ulimit -Hn"], capture_output=True,
                              text=True).stdout)
    b = rl.bundle(["true"], edit=lambda c: c["process"].__setitem__(
        "rlimits", [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": hard + 1}]))
    p = rl.cmd("run", "--bundle", b, rl.new_id())
    assert p.returncode != 0 and "RLIMIT_NOFILE" in p.stderr, p.stderr


def test_init_not_dumpable_once_created(rl):
    """The init is dumpable only until its id maps are written (the user must open its
    /proc/PID/uid_map): by the end of create it is not, so nothing of the user's, in or out of
    a container, opens the host's husk binary through its /proc/PID/exe (CVE-2019-5736)."""
    b = rl.bundle(["sleep", "100"])
    cid = rl.new_id()
    rl.cmd("create", "--bundle", b, cid, check=True)
    pid = json.loads(rl.cmd("state", cid, check=True).stdout)["pid"]
    p = subprocess.run(["runuser", "-u", rl.user, "--", "cat", f"/proc/{pid}/exe"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    assert p.returncode != 0 and "Permission denied" in p.stderr, p.stderr
    rl.cmd("delete", "--force", cid, check=True)
