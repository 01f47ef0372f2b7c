"""`kill --all` must never signal outside the container's own cgroups. A container sharing the
host's pid namespace whose cgroups held no process once had every process of that namespace
signalled: every host process. The attack runs in a sandbox pid namespace (unshare --pid
--mount-proc) standing in for the host, so an unfixed husk kills only the sandbox's decoy."""
import json
import os
import subprocess
import sys
import uuid

import pytest

# Runs as pid 1 of the sandbox: the "host" pid namespace of the container.
DRIVER = r'''
import json, os, subprocess, sys, time
husk, root, bundle, cid, mode, tag, sig = sys.argv[1:8]
# never go on unless /proc is the sandbox's own: the pids husk reads must be sandbox pids
assert os.getpid() == 1 and os.readlink("/proc/self/ns/pid") == os.readlink("/proc/1/ns/pid")
assert len([d for d in os.listdir("/proc") if d.isdigit()]) < 20
if mode == "no-cgroups":
    # a private view without cgroup hierarchies: the container gets no cgroup at all
    subprocess.run(["umount", "-R", "/sys/fs/cgroup"], check=True)
    assert " cgroup" not in open("/proc/self/mountinfo").read()

def h(*args):
    # output through files: the created init keeps its stdio open
    with open(root + ".out", "w+") as o, open(root + ".err", "w+") as e:
        r = subprocess.run([husk, "--root", root, *args], stdin=subprocess.DEVNULL, stdout=o, stderr=e, timeout=20)
        o.seek(0), e.seek(0)
        r.stdout, r.stderr = o.read(), e.read()
    return r

out = {}
decoy = subprocess.Popen(["sleep", "60"])
try:
    if mode == "shared":
        # the test's own cgroup "<tag>" below ours, holding the decoy; the container joins it
        for line in open("/proc/self/cgroup").read().splitlines():
            _, ctrls, path = line.split(":", 2)
            name = ctrls.replace("name=", "") if ctrls else "unified"
            base = f"/sys/fs/cgroup/{name}{path.rstrip('/')}"
            if not os.path.isdir(base):
                continue
            os.mkdir(f"{base}/{tag}")
            if name == "cpuset":
                for f in ("cpuset.cpus", "cpuset.mems"):
                    with open(f"{base}/{tag}/{f}", "w") as w:
                        w.write(open(f"{base}/{f}").read())
            with open(f"{base}/{tag}/cgroup.procs", "w") as w:
                w.write(str(decoy.pid))
    p = h("create", "--bundle", bundle, cid)
    assert p.returncode == 0, p.stderr
    init = json.loads(h("state", cid).stdout)["pid"]
    if mode == "emptied":
        # move the init up into the parent husk made ("<tag>", above the container's own),
        # so the container's cgroups hold no process while it runs
        moved = 0
        for line in open(f"/proc/{init}/cgroup").read().splitlines():
            _, ctrls, path = line.split(":", 2)
            parent = os.path.dirname(path)
            assert parent.endswith("/" + tag), path
            name = ctrls.replace("name=", "") if ctrls else "unified"
            procs = f"/sys/fs/cgroup/{name}{parent}/cgroup.procs"
            with open(procs, "w") as f:
                f.write(str(init))
            moved += 1
        out["moved"] = moved
        out["left"] = [l for l in open(f"/proc/{init}/cgroup").read().splitlines() if not l.endswith("/" + tag)]
    k = h("kill", "--all", cid, sig)
    out["kill_rc"], out["kill_err"] = k.returncode, k.stderr
    time.sleep(0.2)
    out["decoy_alive"] = decoy.poll() is None
finally:
    decoy.kill()
    decoy.wait()
    d = h("delete", "--force", cid)
    out["delete_rc"], out["delete_err"] = d.returncode, d.stderr
print(json.dumps(out))
'''


def _attack(husk, tmp_path, mode, sig):
    tag = "husk-sec-" + uuid.uuid4().hex[:8]

    def edit(c):
        # the host's pid namespace (here: the sandbox's), a cgroup below ours made by husk
        # (or, shared, one the test made)
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]
        c["linux"]["cgroupsPath"] = tag if mode == "shared" else tag + "/c1"
    b = husk.bundle(["sleep", "100"], edit=edit)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    cid = "kill-all-" + mode
    try:
        p = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "--propagation", "private", sys.executable, str(driver),
                            husk.binary, husk.root, str(b), cid, mode, tag, sig],
                           capture_output=True, text=True, timeout=60)
    finally:
        # whatever happened in the sandbox: no cgroup of this test stays behind
        for base in ("/sys/fs/cgroup",):
            for dirpath, dirnames, _ in os.walk(base):
                if os.path.basename(dirpath) == tag:
                    for sub in ("c1", ""):
                        try:
                            os.rmdir(os.path.join(dirpath, sub))
                        except OSError:
                            pass
                    dirnames[:] = []
                elif dirpath.count("/") > 6:
                    dirnames[:] = []
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.splitlines()[-1])


# KILL and TERM: on a host with cgroup.kill in a cgroup2 hierarchy (hybrid here) KILL goes
# through it and never reached the fallback; TERM walks the v1 hierarchies, which is where
# the empty walk fell back to the pid namespace.
@pytest.mark.parametrize("sig", ["TERM", "KILL"])
def test_kill_all_with_emptied_cgroups_stays_inside(husk, tmp_path, sig):
    out = _attack(husk, tmp_path, "emptied", sig)
    assert out["moved"] >= 1 and out["left"] == [], out
    assert out["decoy_alive"], f"kill --all signalled a process outside the container: {out}"
    assert out["kill_rc"] == 0, out   # the container's own (empty) cgroups and its init
    assert out["delete_rc"] == 0, out


def test_kill_all_without_pidns_or_cgroup_is_refused(husk, tmp_path):
    out = _attack(husk, tmp_path, "no-cgroups", "KILL")
    assert out["decoy_alive"], f"kill --all signalled a process outside the container: {out}"
    assert out["kill_rc"] != 0 and "--all" in out["kill_err"], out
    assert out["delete_rc"] == 0, out


def test_kill_all_never_signals_a_joined_cgroup(husk, tmp_path):
    """A cgroupsPath that already exists (here one the test made and put the decoy in; "/" would
    be the whole host) is not the container's own: --all refuses rather than signal it."""
    out = _attack(husk, tmp_path, "shared", "TERM")
    assert out["decoy_alive"], f"kill --all signalled a process outside the container: {out}"
    assert out["kill_rc"] != 0 and "--all" in out["kill_err"], out
    assert out["delete_rc"] == 0, out
