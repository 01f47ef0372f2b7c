"""containerd (ctr, io.containerd.runc.v2 with --runc-binary husk or runc), as ENGINES.md records it."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import (CONSOLE_PROBE, EXEC_CASES, EXEC_SETUP, EXIT_CASES, RUNTIMES, console_mounts, in_tty,
                      need, own_cgroup)


@pytest.fixture(scope="module")
def ctrd(tmp_path_factory, image_tar):
    need("containerd", "ctr")
    d = tmp_path_factory.mktemp("containerd")
    sock = d / "containerd.sock"
    cfg = d / "config.toml"
    cfg.write_text(f"""version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
""")
    log = open(d / "containerd.log", "w")
    proc = subprocess.Popen(["containerd", "--config", str(cfg)], stdout=log, stderr=log)
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.1)
    env = {"runc_root": str(d / "runc-root")}

    def ctr(*args, check=True, timeout=60, **kw):
        p = subprocess.run(["ctr", "-a", str(sock), *args], capture_output=True, text=True, timeout=timeout, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)}: {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p
    tar, ref = image_tar
    ctr("images", "import", "--no-unpack=false", tar)
    env["ref"] = ref
    env["ctr"] = ctr
    env["sock"] = str(sock)
    yield env
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def c(ctrd, runtime):
    """ctrd with the runtime under test: c["run"](*args) gives `ctr run`'s arguments."""
    root = os.path.join(ctrd["runc_root"], runtime)

    def run_args(*extra):
        # the container id is the argument after the image reference
        cid = extra[extra.index(ctrd["ref"]) + 1]
        return ["run", "--runtime", "io.containerd.runc.v2", "--runc-binary", RUNTIMES[runtime], "--runc-root", root,
                "--cgroup", f"{own_cgroup()}/husk-ctr-test/{cid}", *extra]
    return dict(ctrd, run=run_args, root=root)


def remove(c, cid):
    ctr = c["ctr"]
    ctr("task", "kill", "-s", "SIGKILL", cid, check=False)
    for _ in range(50):
        if ctr("task", "delete", cid, check=False).returncode == 0 or cid not in ctr("task", "ls").stdout:
            break
        time.sleep(0.1)
    ctr("containers", "delete", cid, check=False)
    ctr("snapshots", "rm", cid, check=False)


def test_run_rm(c):
    p = c["ctr"](*c["run"]("--rm", c["ref"], "c-rm", "sh", "-c", "echo hello from husk; hostname"))
    assert "hello from husk" in p.stdout


def test_exit_code(c):
    p = c["ctr"](*c["run"]("--rm", c["ref"], "c-exit", "sh", "-c", "exit 3"), check=False)
    assert p.returncode == 3


def test_detached_exec_ps_pause_kill_delete(c):
    ctr = c["ctr"]
    ctr(*c["run"]("-d", c["ref"], "c-d", "sleep", "300"))
    p = ctr("task", "exec", "--exec-id", "e1", "c-d", "sh", "-c", "echo in-exec")
    assert "in-exec" in p.stdout
    p = ctr("task", "ps", "c-d")
    assert len(p.stdout.strip().splitlines()) >= 2
    ctr("task", "pause", "c-d")
    assert "PAUSED" in ctr("task", "ls").stdout
    ctr("task", "resume", "c-d")
    assert "RUNNING" in ctr("task", "ls").stdout
    ctr("task", "kill", "-s", "SIGKILL", "c-d")
    for _ in range(50):
        if "STOPPED" in ctr("task", "ls").stdout:
            break
        time.sleep(0.1)
    ctr("task", "delete", "c-d")
    ctr("containers", "delete", "c-d")
    assert "c-d" not in ctr("containers", "ls").stdout
    assert not os.path.exists(os.path.join(c["root"], "default", "c-d"))


def test_bad_executable_reaches_the_user(c):
    p = c["ctr"](*c["run"]("--rm", c["ref"], "c-bad", "/nonexistent"), check=False)
    assert p.returncode != 0
    assert "/nonexistent" in p.stderr and "no such file or directory" in p.stderr.lower()


def test_run_with_a_terminal(c):
    p = in_tty(["ctr", "-a", c["sock"], *c["run"]("--rm", "-t", c["ref"], "c-tty", "sh", "-c", "tty")])
    assert "/dev/pts/" in p.stdout, p.stdout + p.stderr


def test_exec_tty_three_times(c):
    """`ctr task exec -t` again and again into one container with a terminal: each gets a pty,
    none stacks a mount on /dev/console (the init's is the only one)."""
    ctr = c["ctr"]
    p = in_tty(["ctr", "-a", c["sock"], *c["run"]("-d", "-t", c["ref"], "c-t", "sleep", "300")])
    try:
        assert p.returncode == 0, p.stdout + p.stderr
        init = console_mounts(ctr("task", "exec", "--exec-id", "probe0", "c-t", "sh", "-c", CONSOLE_PROBE).stdout)
        assert init == [1]
        for i in range(1, 4):
            p = in_tty(["ctr", "-a", c["sock"], "task", "exec", "-t", "--exec-id", f"tty{i}", "c-t",
                        "sh", "-c", CONSOLE_PROBE])
            assert p.returncode == 0, f"exec {i}: {p.stdout}{p.stderr}"
            assert "/dev/pts/" in p.stdout, p.stdout
            assert console_mounts(p.stdout) == init, p.stdout
        p = ctr("task", "exec", "--exec-id", "probe4", "c-t", "sh", "-c", CONSOLE_PROBE)
        assert console_mounts(p.stdout) == init
    finally:
        remove(c, "c-t")


# What ctr returns when the runtime cannot start the program, runc's codes: ctr matches no
# error text, any failed create or exec is its own exit 1. `ctr run` has no --user: its
# "permission denied" is a program on a noexec bind, and it cannot have the cwd case.
CTR_EXIT_CODES = {
    "run": {"missing command": 1, "missing file": 1, "directory": 1, "not executable": 1, "permission denied": 1},
    "exec": {"missing command": 1, "missing file": 1, "directory": 1, "not executable": 1, "permission denied": 1,
             "inaccessible cwd": 0},
}


def test_exit_code_table(c, tmp_path):
    ctr = c["ctr"]
    nx = tmp_path / "nx"
    nx.mkdir()
    shutil.copy("/bin/busybox", nx / "busybox")
    run_cases = {k: v for k, v in EXIT_CASES.items() if "user" not in v[0]}
    run_cases["permission denied"] = (
        {"mount": f"type=bind,src={nx},dst=/nx,options=rbind:ro:noexec"}, ["/nx/busybox", "true"])
    got = {"run": {}, "exec": {}}
    for i, (case, (opts, args)) in enumerate(run_cases.items()):
        m = ["--mount", opts["mount"]] if "mount" in opts else []
        got["run"][case] = ctr(*c["run"]("--rm", *m, c["ref"], f"c-x{i}", *args), check=False).returncode
        remove(c, f"c-x{i}")
    ctr(*c["run"]("-d", c["ref"], "c-x", "sleep", "300"))
    try:
        ctr("task", "exec", "--exec-id", "setup", "c-x", *EXEC_SETUP)
        for i, (case, (opts, args)) in enumerate(EXEC_CASES.items()):
            o = [*(["--user", opts["user"]] if "user" in opts else []),
                 *(["--cwd", opts["cwd"]] if "cwd" in opts else [])]
            got["exec"][case] = ctr("task", "exec", *o, "--exec-id", f"x{i}", "c-x", *args, check=False).returncode
    finally:
        remove(c, "c-x")
    assert got == CTR_EXIT_CODES, json.dumps(got)


def test_exec_root_only_file_as_a_user(c):
    """`ctr task exec --user 1000` of a 0700 root file: the exec'd process holds
    CAP_DAC_OVERRIDE up to its execve, so runc runs it (and /bin/sh, without it, cannot read
    the script: 2)."""
    ctr = c["ctr"]
    ctr(*c["run"]("-d", c["ref"], "c-r", "sleep", "300"))
    try:
        p = ctr("task", "exec", "--user", "1000:1000", "--exec-id", "r1", "c-r", "/bin/rootonly", check=False)
        assert p.returncode == 2 and "can't open '/bin/rootonly'" in p.stderr, p.stderr
    finally:
        remove(c, "c-r")
