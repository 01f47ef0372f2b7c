"""Targeted crash cases from the crash-safety issue: what a killed husk leaves is shown by
state/list and removed by delete (--force), and a container's init never outlives a create
that died before the state was durable."""
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import sweep

HUSK = os.path.abspath(os.environ.get("HUSK", os.path.join(sweep.REPO, "husk")))


@pytest.fixture
def sw():
    tmp = tempfile.mkdtemp(prefix="husk-crash-")
    s = sweep.Sweep(HUSK, tmp)
    s.ids = []
    try:
        yield s
    finally:
        # by hand too: against an unfixed husk, delete --force may fail or wait for ever
        for cid in s.ids:
            try:
                s.run("delete", "--force", cid, timeout=10)
            except subprocess.TimeoutExpired:
                pass
            s.scrub(cid)
        for d in getattr(s, "extra_cgroups", []):
            for sub in (os.path.join(d, "inner"), d):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass
        shutil.rmtree(tmp, ignore_errors=True)


def new_id(s):
    cid = "crash-" + os.urandom(4).hex()
    s.ids.append(cid)
    return cid


def husk_out(s, *args):
    p = subprocess.run([s.husk, "--root", s.root, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def test_directory_without_state_is_shown_and_deleted(sw):
    """The issue's trigger: `mkdir ROOT/x; husk delete --force x` left x for ever (runc removes it)."""
    cid = new_id(sw)
    os.makedirs(os.path.join(sw.root, cid))
    rc, out, _ = husk_out(sw, "list", "--format", "json")
    assert rc == 0
    assert [(c["id"], c["status"]) for c in json.loads(out)] == [(cid, "stopped")]
    rc, out, _ = husk_out(sw, "state", cid)
    assert rc == 0 and json.loads(out)["status"] == "stopped"
    rc, _, err = husk_out(sw, "delete", "--force", cid)
    assert rc == 0, err
    assert not os.path.exists(os.path.join(sw.root, cid))
    # the id is free again
    sw.run("create", "--bundle", sw.bundles["sleep"], cid, check=True)
    sw.run("delete", "--force", cid, check=True)


def test_delete_without_force_removes_a_dead_create(sw):
    cid = new_id(sw)
    os.makedirs(os.path.join(sw.root, cid))
    rc, _, err = husk_out(sw, "delete", cid)
    assert rc == 0, err
    assert not os.path.exists(os.path.join(sw.root, cid))


def test_list_says_creating_while_a_create_holds_the_lock(sw):
    cid = new_id(sw)
    d = os.path.join(sw.root, cid)
    os.makedirs(d)
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        rc, out, _ = husk_out(sw, "list", "--format", "json")
        assert rc == 0
        assert [(c["id"], c["status"]) for c in json.loads(out)] == [(cid, "creating")]
    finally:
        os.close(fd)
    rc, out, _ = husk_out(sw, "list", "-q")
    assert out.split() == [cid]


def nth_call(s, cid, syscall, needle):
    """Which call of syscall (1-based) create makes with needle in its trace line."""
    # counted as the traced create will run: with the state root made (the first create
    # of a root makes it, which costs openat calls of its own)
    s.run("create", "--bundle", s.bundles["sleep"], cid, check=True)
    s.run("delete", "--force", cid, check=True)
    trace = os.path.join(s.tmp, "nth.trace")
    p = s._spawn(["strace", "-qq", "-o", trace, "-e", f"trace={syscall}", s.husk, "--root", s.root, "create",
                  "--bundle", s.bundles["sleep"], cid], 30)
    assert p.returncode == 0, p.stderr
    s.run("delete", "--force", cid, check=True)
    with open(trace) as f:
        lines = [line for line in f if line.startswith(syscall + "(")]
    os.unlink(trace)
    return next(i + 1 for i, line in enumerate(lines) if needle in line)


def joined_netns(cfg):
    # a namespace joined by path: create goes through an intermediate process, and the init's
    # parent exits at once (no parent-death signal to rely on)
    cfg["linux"]["namespaces"] = [n if n["type"] != "network" else {"type": "network", "path": "/proc/self/ns/net"}
                                  for n in cfg["linux"]["namespaces"]]


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
@pytest.mark.parametrize("joined", [False, True], ids=["own-namespaces", "joined-namespace"])
@pytest.mark.parametrize("where", ["before-go", "before-state"])
def test_init_dies_with_a_create_killed_before_its_state_is_saved(sw, joined, where):
    """create dies before the init's go (the init waits for it), or once the init is ready
    (create held up copying the config) but before state.json exists: either way the init
    must not stay behind, waiting for a go or a start that cannot come."""
    if joined:
        with open(os.path.join(sw.bundles["sleep"], "config.json")) as f:
            cfg = json.load(f)
        joined_netns(cfg)
        with open(os.path.join(sw.bundles["sleep"], "config.json"), "w") as f:
            json.dump(cfg, f)
    cid = new_id(sw)
    if where == "before-go":
        # create's first send is the go (the intermediate's pid message is not create's)
        kill = ["-e", "trace=sendto", "-e", "inject=sendto:signal=KILL:when=1"]
    else:
        n = nth_call(sw, cid, "openat", "state.json.tmp")
        kill = ["-e", "trace=sendfile,openat", "-e", "inject=sendfile:delay_enter=300000:when=1",
                "-e", f"inject=openat:signal=KILL:when={n}"]
    p = sw.run("create", "--bundle", sw.bundles["sleep"], cid, strace=kill)
    assert p.returncode in (-9, 137), p.stderr
    assert not os.path.exists(os.path.join(sw.root, cid, "state.json"))
    # on its own, before any delete
    assert sw.settle(cid)["processes"] == 0, "the init outlived the create that died"
    rc, out, _ = husk_out(sw, "list", "-q")
    assert cid in out.split()
    rc, _, err = husk_out(sw, "delete", "--force", cid)
    assert rc == 0, err
    left = sw.settle(cid)
    assert left == {"state": 0, "hidden": 0, "cgroups": 0, "processes": 0, "mounts": 0}


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
def test_delete_killed_after_removing_the_state_file(sw):
    """A delete killed between unlinking state.json and removing the directory."""
    cid = new_id(sw)
    sw.run("create", "--bundle", sw.bundles["sleep"], cid, check=True)
    sw.run("start", cid, check=True)
    p = sw.run("delete", "--force", cid, strace=["-e", "trace=unlinkat", "-e", "inject=unlinkat:signal=KILL:when=2"])
    assert p.returncode in (-9, 137)
    assert os.path.isdir(os.path.join(sw.root, cid))
    assert not os.path.exists(os.path.join(sw.root, cid, "state.json"))
    rc, out, _ = husk_out(sw, "list", "-q")
    assert cid in out.split()
    rc, _, err = husk_out(sw, "delete", "--force", cid)
    assert rc == 0, err
    assert sw.settle(cid) == {"state": 0, "hidden": 0, "cgroups": 0, "processes": 0, "mounts": 0}
    sw.run("create", "--bundle", sw.bundles["sleep"], cid, check=True)


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
def test_nested_cgroups_of_a_killed_create_are_removed(sw):
    """cgroupsPath a/b, both made by create, which dies at the clone (before its state exists):
    the plan in its creating mark names them, delete --force removes the two levels."""
    cid = new_id(sw)
    top = "husk-crash-" + os.urandom(4).hex()
    with open(os.path.join(sw.bundles["sleep"], "config.json")) as f:
        cfg = json.load(f)
    cfg["linux"]["cgroupsPath"] = f"{top}/inner"
    b = os.path.join(sw.tmp, "bundle-nested")
    os.mkdir(b)
    os.symlink(os.path.join(sw.bundles["sleep"], "rootfs"), os.path.join(b, "rootfs"))
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    dirs = [c.replace(f"/husk-{cid}", f"/{top}") for c in sweep.cgroup_candidates(cid)]
    sw.extra_cgroups = dirs
    p = sw.run("create", "--bundle", b, cid, strace=["-e", "trace=clone3", "-e", "inject=clone3:signal=KILL:when=1"])
    assert p.returncode in (-9, 137), p.stderr
    made = [d for d in dirs if os.path.isdir(os.path.join(d, "inner"))]
    assert made, "create died before making its cgroups"
    rc, _, err = husk_out(sw, "delete", "--force", cid)
    assert rc == 0, err
    assert not [d for d in dirs if os.path.exists(d)]
    assert not os.path.exists(os.path.join(sw.root, cid))


def test_delete_force_empties_the_cgroups_a_dead_create_planned(sw):
    """A dead create's record (its creating mark) names a cgroup that still holds a process
    (an init on its way out, a hook's child): delete --force kills it and removes the cgroup,
    never leaving the cgroup behind the removed directory."""
    cid = new_id(sw)
    cg = next(c for c in sweep.cgroup_candidates(cid) if "/pids/" in c)
    os.makedirs(os.path.join(sw.root, cid))
    os.mkdir(cg)
    sleeper = subprocess.Popen(["sleep", "100"])
    try:
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(sleeper.pid))
        with open(os.path.join(sw.root, cid, "creating"), "w") as f:
            f.write(f"-1:0:pids:{cg}\n")
        rc, _, err = husk_out(sw, "delete", "--force", cid)
        assert rc == 0, err
        assert sleeper.wait(timeout=5) == -9
        assert not os.path.exists(cg)
        assert not os.path.exists(os.path.join(sw.root, cid))
    finally:
        sleeper.kill()
        sleeper.wait()
        for _ in range(100):
            try:
                os.rmdir(cg)
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)
