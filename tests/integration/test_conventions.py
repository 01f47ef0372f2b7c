"""Lifecycle conventions runc and crun share and that scripts and engines assume (README
"Compatibility")."""
import os

from test_container import output as run_out


def test_missing_cwd_is_created(husk):
    def edit(c):
        c["process"]["cwd"] = "/work/deep/dir"
    assert run_out(husk, ["pwd"], edit).split() == ["/work/deep/dir"]


def test_loopback_up_in_new_network_namespace(husk):
    # IFF_UP is bit 0 of the interface flags
    out = run_out(husk, ["cat", "/sys/class/net/lo/flags"])
    assert int(out.strip(), 16) & 1
    # husk brings it up from outside while the init builds; with a hook that runs before the
    # start the init does it itself, first, as runc's does
    def edit(c):
        c["hooks"] = {"createRuntime": [{"path": "/bin/true"}]}
    out = run_out(husk, ["cat", "/sys/class/net/lo/flags"], edit)
    assert int(out.strip(), 16) & 1


def test_init_and_exec_each_lead_a_session(husk):
    # field 6 of /proc/PID/stat is the session id: a process of its own session has sid == pid
    script = "set -- $(cat /proc/$$/stat); echo $$ $6"
    pid, sid = run_out(husk, ["sh", "-c", script]).split()
    assert pid == sid
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    p = husk.cmd("exec", cid, "sh", "-c", script, check=True)
    pid, sid = p.stdout.split()
    assert pid == sid
    husk.cmd("delete", "--force", cid, check=True)


def test_hook_without_env_inherits_husks_environment(husk, tmp_path):
    out = tmp_path / "hook-env"

    def edit(c):
        c["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", f'echo "$HUSK_CONV_TEST" > {out}']}]}
    b = husk.bundle(["true"], edit=edit)
    cid = husk.new_id()
    p = husk.cmd("run", "--bundle", str(b), cid, env=dict(os.environ, HUSK_CONV_TEST="inherited"))
    assert p.returncode == 0, p.stderr
    assert out.read_text() == "inherited\n"


def test_tmpfs_keeps_mount_point_mode(husk):
    def edit(c):
        c["mounts"].append({"destination": "/keep", "type": "tmpfs", "source": "tmpfs"})
        c["mounts"].append({"destination": "/given", "type": "tmpfs", "source": "tmpfs", "options": ["mode=750"]})
    b = husk.bundle(["stat", "-c", "%a", "/keep", "/given"], edit=edit)
    os.mkdir(b / "rootfs" / "keep", 0o710)
    os.chmod(b / "rootfs" / "keep", 0o710)
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["710", "750"]


def test_failing_poststart_deletes_the_container(husk, tmp_path):
    log = tmp_path / "poststop"

    def edit(c):
        c["hooks"] = {"poststart": [{"path": "/bin/false"}],
                      "poststop": [{"path": "/bin/sh", "args": ["sh", "-c", f"echo ran > {log}"]}]}
    b = husk.bundle(["sleep", "100"], edit=edit)
    cid, _ = husk.create(b)
    p = husk.cmd("start", cid)
    assert p.returncode == 1 and "poststart hook #0" in p.stderr
    # runtime.md "Lifecycle" 9: stop, then steps 12 and 13: destroyed, poststop run
    assert husk.status(cid) is None
    assert log.read_text() == "ran\n"
    husk.assert_no_leftovers(cid, b)


def test_failed_start_leaves_the_container_created(husk):
    def edit(c):
        del c["process"]
    b = husk.bundle(edit=edit)
    cid, p = husk.create(b, check=False)
    assert p.returncode == 0, p.stderr
    p = husk.cmd("start", cid)
    assert p.returncode != 0 and "process" in p.stderr
    assert husk.status(cid) == "created"   # runtime.md "Errors": as before the operation


def test_mounts_without_mount_namespace_are_an_error(husk):
    def edit(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "mount"]
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "mount namespace" in p.stderr
    husk.assert_no_leftovers(cid, b)


def test_non_executable_program_fails_create_without_blaming_seccomp(husk):
    def edit(c):
        c["process"]["args"] = ["/etc/passwd"]
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                 "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1, p.stderr
    assert 'exec: "/etc/passwd": permission denied' in p.stderr
    assert "seccomp" not in p.stderr
    husk.assert_no_leftovers(cid, b)


def cgroup_dirs(pid):
    """{controllers: host directory} of a process's cgroups, on v1, hybrid and v2 hosts."""
    out = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if ctrls == "":
                base = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
            else:
                base = "/sys/fs/cgroup/" + ctrls.replace("name=", "")
            if os.path.isdir(base):
                out[ctrls] = base + path
    return out


def test_exec_cgroup_runs_in_a_sub_cgroup(husk):
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    dirs = cgroup_dirs(husk.state(cid)["pid"])
    for d in dirs.values():
        os.mkdir(os.path.join(d, "sub"))   # the container's to make; delete removes it
        for f in ("cpuset.cpus", "cpuset.mems"):   # a v1 cpuset takes tasks once these are set
            if os.path.exists(os.path.join(d, f)):
                with open(os.path.join(d, f)) as src, open(os.path.join(d, "sub", f), "w") as dst:
                    dst.write(src.read())
    show = ["cat", "/proc/self/cgroup"]

    def placed(p):
        assert p.returncode == 0, p.stderr
        return {l.split(":", 2)[1]: l.split(":", 2)[2].endswith("/sub") for l in p.stdout.splitlines()}

    assert all(placed(husk.cmd("exec", "--cgroup", "sub", cid, *show)).values())
    if "pids" in dirs and "memory" in dirs:   # v1 (runc's CTRL:PATH form): only that hierarchy
        got = placed(husk.cmd("exec", "--cgroup", "pids:sub", cid, *show))
        assert got["pids"] and not got["memory"]
    for bad in ("../..", "nosuch", "/sub", "sub/../.."):
        p = husk.cmd("exec", "--cgroup", bad, cid, "true")
        assert p.returncode != 0 and "--cgroup" in p.stderr, (bad, p.stderr)
    husk.cmd("delete", "--force", cid, check=True)
    assert not any(os.path.exists(d) for d in dirs.values())


def test_directory_as_program_fails_create_in_engines_words(husk):
    # Docker's CLI gives 126 only for "permission denied" in lower case (else 125), as runc says
    cid, p, b = husk.create_edited(lambda c: c["process"].update(args=["/etc"]))
    assert p.returncode == 1
    assert 'exec: "/etc": is a directory: permission denied' in p.stderr, p.stderr
    husk.assert_no_leftovers(cid, b)


def test_cwd_only_root_may_enter_works_for_a_user(husk):
    # runc enters process.cwd before switching to the user: `docker run -u 1000 -w /root` works
    def edit(c):
        c["process"]["user"] = {"uid": 1000, "gid": 1000}
        c["process"]["cwd"] = "/root"
    b = husk.bundle(["sh", "-c", "pwd; id -u; ls . >/dev/null 2>&1 || echo unreadable"], edit=edit)
    os.chmod(os.path.join(b, "rootfs", "root"), 0o700)
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["/root", "1000", "unreadable"]
    husk.assert_no_leftovers(cid, b)
