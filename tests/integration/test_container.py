"""The container is really separate, and its process is set up as configured."""
import os
import subprocess

from conftest import HUSK


def output(husk, args, edit=None):
    cid, p = husk.run(husk.bundle(args, edit=edit))
    assert p.returncode == 0, p.stderr
    husk.assert_no_leftovers(cid)
    return p.stdout


def test_hostname_and_pid1(husk):
    out = output(husk, ["sh", "-c", "hostname; echo $$"])
    assert out.split() == ["husk-test", "1"]


def test_domainname(husk):
    def edit(c):
        c["domainname"] = "example.org"
    assert output(husk, ["cat", "/proc/sys/kernel/domainname"], edit).strip() == "example.org"


def test_own_mount_table_and_network(husk):
    out = output(husk, ["sh", "-c", "cat /proc/self/mountinfo; echo ---; ls /sys/class/net"])
    mounts, nets = out.split("---")
    assert len(mounts.splitlines()) < 30
    points = [line.split()[4] for line in mounts.splitlines() if line.strip()]
    assert "/" in points and "/proc" in points
    assert not any(p.startswith("/tmp/pytest") for p in points)
    assert nets.split() == ["lo"]


def test_namespaces_differ_from_host(husk):
    out = output(husk, ["sh", "-c", "for n in pid net ipc uts mnt; do readlink /proc/self/ns/$n; done"])
    host = [os.readlink(f"/proc/self/ns/{n}") for n in ("pid", "net", "ipc", "uts", "mnt")]
    for mine, theirs in zip(out.split(), host):
        assert mine != theirs


def test_join_network_namespace_by_path(husk, tmp_path):
    holder = subprocess.Popen(["unshare", "--net", "sleep", "30"])
    try:
        import time
        for _ in range(100):
            if os.readlink(f"/proc/{holder.pid}/ns/net") != os.readlink("/proc/self/ns/net"):
                break
            time.sleep(0.02)
        want = os.readlink(f"/proc/{holder.pid}/ns/net")

        def edit(c):
            c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
            c["linux"]["namespaces"].append({"type": "network", "path": f"/proc/{holder.pid}/ns/net"})
        assert output(husk, ["readlink", "/proc/self/ns/net"], edit).strip() == want
    finally:
        holder.kill()
        holder.wait()


def test_user_groups_umask_cwd_env(husk):
    def edit(c):
        c["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 65534], "umask": 0o027}
        c["process"]["cwd"] = "/tmp"
        c["process"]["env"].append("GREETING=hello world")
    out = output(husk, ["sh", "-c", "id -u; id -g; id -G; umask; pwd; echo \"$GREETING\"; echo $HOME"], edit)
    lines = out.splitlines()
    assert lines[0] == "1000" and lines[1] == "1000"
    assert sorted(lines[2].split()) == sorted(["1000", "5", "65534"])
    assert lines[3] == "0027"
    assert lines[4] == "/tmp"
    assert lines[5] == "hello world"
    assert lines[6] == "/home/user"


def test_default_umask_and_home(husk):
    out = output(husk, ["sh", "-c", "umask; echo $HOME"])
    assert out.split() == ["0022", "/root"]


def test_capabilities_as_configured(husk):
    def edit(c):
        caps = ["CAP_KILL", "CAP_NET_RAW"]
        c["process"]["capabilities"] = {"bounding": caps, "effective": caps, "permitted": caps}
    out = output(husk, ["sh", "-c", "grep -E '^Cap(Eff|Bnd|Prm)' /proc/self/status"], edit)
    want = hex((1 << 5) | (1 << 13))[2:].rjust(16, "0")
    for line in out.splitlines():
        assert line.split()[1] == want, line


def test_no_new_privileges_and_seccomp(husk):
    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                                               "errnoRet": 1}]}
    out = output(husk, ["sh", "-c", "grep NoNewPrivs /proc/self/status; mkdir /tmp/x 2>&1; echo rc=$?"], edit)
    assert "NoNewPrivs:\t1" in out
    assert "Operation not permitted" in out and "rc=1" in out


def test_readonly_root_masked_and_readonly_paths(husk):
    def edit(c):
        c["root"]["readonly"] = True
        c["linux"]["maskedPaths"] = ["/proc/timer_list", "/sys/firmware", "/no/such/path"]
    out = output(husk, ["sh", "-c",
                        "touch /x 2>&1; echo rc=$?; wc -c < /proc/timer_list; ls /sys/firmware | wc -l; "
                        "echo 1 > /proc/sys/kernel/domainname 2>&1; echo rc=$?"], edit)
    assert "Read-only file system" in out
    lines = out.split("rc=")
    assert lines[1].split()[0] == "1"
    assert lines[2].split()[0] == "1"
    assert "\n0\n0\n" in out  # file masked by /dev/null, directory by an empty tmpfs


def test_default_devices_and_links(husk):
    out = output(husk, ["sh", "-c", "ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; "
                                    "for l in fd stdin ptmx; do readlink /dev/$l; done"])
    for d in ("null", "zero", "full", "random", "urandom", "tty"):
        assert f"/dev/{d}" in out
    assert "/proc/self/fd" in out and "pts/ptmx" in out


def _run_with_fd(husk, args, fd, target, *extra, env=None, prefix=()):
    """`husk run [extra] ARGS` with fd open at `target` in husk (as a caller's fd would be)."""
    def place():
        os.dup2(fd, target)
        os.set_inheritable(target, True)
    b = husk.bundle(args)
    return subprocess.run([*prefix, HUSK, "--root", husk.root, "run", *extra, "--bundle", str(b), husk.new_id()],
                          env=env, capture_output=True, text=True, preexec_fn=place, close_fds=False, timeout=20)


def test_only_stdio_reaches_the_container(husk):
    # an fd open in husk's caller (as the containerd shim's fd 3 is) must not leak in
    r, w = os.pipe()
    try:
        p = _run_with_fd(husk, ["ls", "/proc/self/fd"], r, 7)
        assert p.returncode == 0, p.stderr
        assert sorted(p.stdout.split()) == ["0", "1", "2", "3"]  # 3: ls's own dir fd
    finally:
        os.close(r)
        os.close(w)


def test_preserve_fds(husk, tmp_path):
    f = tmp_path / "data"
    f.write_text("preserved\n")
    fd = os.open(str(f), os.O_RDONLY)
    try:
        p = _run_with_fd(husk, ["cat", "/proc/self/fd/3"], fd, 3, "--preserve-fds", "1")
        assert p.returncode == 0, p.stderr
        assert p.stdout == "preserved\n"
    finally:
        os.close(fd)


def test_user_namespace_mapping(husk, tmp_path):
    def edit(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["mounts"] = [m for m in c["mounts"] if m["type"] != "sysfs"]
    # the mapped root must be able to walk to the bundle
    p = tmp_path
    while str(p) != "/":
        os.chmod(p, os.stat(p).st_mode | 0o001)
        p = p.parent
    out = output(husk, ["sh", "-c", "id -u; cat /proc/self/uid_map"], edit)
    lines = out.splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", "100000", "65536"]


def test_time_namespace_offsets(husk):
    def edit(c):
        c["linux"]["namespaces"].append({"type": "time"})
        c["linux"]["timeOffsets"] = {"boottime": {"secs": 86400 * 365, "nanosecs": 0}}
    up = float(output(husk, ["cat", "/proc/uptime"], edit).split()[0])
    assert up > 86400 * 364


def test_scheduler_and_io_priority(husk):
    def edit(c):
        c["process"]["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
        c["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    out = output(husk, ["sh", "-c", "cut -d' ' -f19,41 /proc/self/stat; ionice -p $$"], edit)
    nice_policy, io = out.splitlines()[:2]
    assert nice_policy.split() == ["7", "3"]  # nice 7, SCHED_BATCH
    assert "best-effort" in io and "6" in io


def test_unsupported_features_refused(husk):
    def edit(c):
        c["linux"]["intelRdt"] = {"closID": "x"}
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "intelRdt" in p.stderr
    husk.assert_no_leftovers(cid, b)


def test_linux_devices_with_deny_all_cgroup(husk):
    def edit(c):
        c["linux"]["devices"] = [
            {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o620, "uid": 1000, "gid": 5},
            {"path": "/dev/sub/fifo", "type": "p", "fileMode": 0o660},
        ]
        c["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
    out = output(husk, ["sh", "-c", "stat -c '%t:%T %a %u %g %F' /dev/mynull /dev/sub/fifo; echo x > /dev/mynull "
                                    "&& echo written; head -c1 /dev/zero | wc -c"], edit)
    lines = out.splitlines()
    assert lines[0] == "1:3 620 1000 5 character special file"
    assert lines[1].startswith("0:0 660 0 0 fifo")
    assert lines[2] == "written" and lines[3] == "1"


def test_capability_the_host_withholds_is_refused(husk):
    import ctypes
    libc = ctypes.CDLL(None)
    if libc.prctl(23, 24, 0, 0, 0) == 1:  # PR_CAPBSET_READ CAP_SYS_RESOURCE
        return  # this host grants it
    def edit(c):
        c["process"]["capabilities"]["effective"].append("CAP_SYS_RESOURCE")
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "CAP_SYS_RESOURCE is not in husk's own bounding set" in p.stderr


def test_listen_fds_are_handed_on(husk, tmp_path):
    f = tmp_path / "sock-standin"
    f.write_text("activated\n")
    fd = os.open(str(f), os.O_RDONLY)
    try:
        # sd_listen_fds(3): LISTEN_PID is the pid of the process that got the fds, husk's own
        env = dict(os.environ, LISTEN_FDS="1")
        p = _run_with_fd(husk, ["sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat /proc/self/fd/3"], fd, 3, env=env,
                         prefix=("sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh"))
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines() == ["1 1", "activated"]
    finally:
        os.close(fd)
