"""exec: a process in a running container's namespaces and cgroups."""
import os
import time


def running(husk, **kw):
    b = husk.bundle(["sleep", "100"], **kw)
    cid, p = husk.run(b, "--detach")
    assert p.returncode == 0, p.stderr
    return cid


def test_exec_joins_namespaces_and_cgroup(husk):
    cid = running(husk)
    pid = husk.state(cid)["pid"]
    p = husk.cmd("exec", cid, "sh", "-c", "hostname; echo $$; for n in pid net mnt uts ipc; do readlink /proc/self/ns/$n; done")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert lines[0] == "husk-test"
    assert int(lines[1]) > 1  # not the init
    for n, got in zip(("pid", "net", "mnt", "uts", "ipc"), lines[2:]):
        assert got == os.readlink(f"/proc/{pid}/ns/{n}"), n
    with open(f"/proc/{pid}/cgroup") as f:
        want = sorted(f.read().splitlines())
    p = husk.cmd("exec", "-d", "--pid-file", str(husk.tmp / "ep"), cid, "sleep", "5", check=True)
    epid = int((husk.tmp / "ep").read_text())
    with open(f"/proc/{epid}/cgroup") as f:
        assert sorted(f.read().splitlines()) == want


def test_exec_exit_code_user_env_cwd(husk):
    cid = running(husk)
    p = husk.cmd("exec", "--user", "1000:1000", "--env", "FOO=bar", "-e", "PATH=/bin", "--cwd", "/tmp", cid,
                 "sh", "-c", "id -u; id -g; pwd; echo $FOO; echo $PATH; exit 7")
    assert p.returncode == 7, p.stderr
    assert p.stdout.split() == ["1000", "1000", "/tmp", "bar", "/bin"]


def test_exec_process_file(husk):
    cid = running(husk)
    proc = {"args": ["sh", "-c", "echo from-file; umask"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 0, "gid": 0, "umask": 63}}
    import json
    f = husk.tmp / "process.json"
    f.write_text(json.dumps(proc))
    p = husk.cmd("exec", "--process", str(f), cid, check=True)
    assert p.stdout.split() == ["from-file", "0077"]


def test_exec_errors(husk):
    cid = running(husk)
    p = husk.cmd("exec", cid, "/nonexistent")
    assert p.returncode == 1 and 'exec: "/nonexistent": no such file or directory' in p.stderr
    p = husk.cmd("exec", "nope", "true")
    assert p.returncode == 1 and "does not exist" in p.stderr
    husk.cmd("kill", cid, "KILL", check=True)
    assert husk.wait_status(cid, "stopped")
    p = husk.cmd("exec", cid, "true")
    assert p.returncode == 1 and "not running" in p.stderr


def test_exec_signal_exit_code(husk):
    cid = running(husk)
    p = husk.cmd("exec", cid, "sh", "-c", "kill -KILL $$")
    assert p.returncode == 137


def test_ps(husk):
    cid = running(husk)
    pid = husk.state(cid)["pid"]
    import json
    p = husk.cmd("ps", "--format", "json", cid, check=True)
    assert json.loads(p.stdout) == [pid]
    p = husk.cmd("ps", cid, check=True)
    lines = p.stdout.splitlines()
    assert "PID" in lines[0] and len(lines) == 2 and str(pid) in lines[1]


def test_pause_resume(husk):
    b = husk.bundle(["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.01; done"])
    cid, p = husk.run(b, "--detach")
    assert p.returncode == 0, p.stderr
    time.sleep(0.3)
    husk.cmd("pause", cid, check=True)
    assert husk.status(cid) == "paused"
    count = b / "rootfs" / "tmp" / "count"
    before = count.read_text()
    time.sleep(0.3)
    assert count.read_text() == before  # no progress while paused
    p = husk.cmd("pause", cid)
    assert p.returncode == 1 and "not running" in p.stderr
    husk.cmd("resume", cid, check=True)
    assert husk.status(cid) == "running"
    time.sleep(0.3)
    assert count.read_text() != before
    husk.cmd("pause", cid, check=True)
    husk.cmd("delete", "--force", cid, check=True)  # a paused container can be force-deleted
    assert husk.status(cid) is None


def test_container_cannot_reach_the_husk_binary(husk):
    # while created, the init is still husk: its /proc/PID/exe must not open from inside
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    p = husk.cmd("exec", cid, "sh", "-c", "cat /proc/1/exe > /dev/null; echo rc=$?; readlink /proc/1/exe; echo rl=$?")
    assert p.returncode == 0, p.stderr
    assert "rc=1" in p.stdout and "rl=1" in p.stdout
    # nothing of the host reaches the container through inherited fds either
    p = husk.cmd("exec", cid, "ls", "/proc/self/fd")
    assert sorted(p.stdout.split()) == ["0", "1", "2", "3"]


def test_exec_cpu_affinity(husk):
    def edit(c):
        c["process"]["execCPUAffinity"] = {"initial": "0", "final": "0"}
    cid = running(husk, edit=edit)
    p = husk.cmd("exec", cid, "sh", "-c", "grep Cpus_allowed_list /proc/self/status")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[-1] == "0"
    # not for the init
    pid = husk.state(cid)["pid"]
    with open(f"/proc/{pid}/status") as f:
        allowed = [l for l in f if l.startswith("Cpus_allowed_list")][0].split()[-1]
    assert allowed == open("/proc/self/status").read().split("Cpus_allowed_list:")[1].split()[0]
