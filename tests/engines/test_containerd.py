"""containerd (ctr, io.containerd.runc.v2 with --runc-binary husk), as ENGINES.md records it."""
import os
import signal
import subprocess
import time

import pytest

from conftest import HUSK, need, own_cgroup


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


def run_args(env, *extra):
    # the container id is the argument after the image reference
    cid = extra[extra.index(env["ref"]) + 1]
    return ["run", "--runtime", "io.containerd.runc.v2", "--runc-binary", HUSK, "--runc-root", env["runc_root"],
            "--cgroup", f"{own_cgroup()}/husk-ctr-test/{cid}", *extra]


def test_run_rm(ctrd):
    p = ctrd["ctr"](*run_args(ctrd, "--rm", ctrd["ref"], "c-rm", "sh", "-c", "echo hello from husk; hostname"))
    assert "hello from husk" in p.stdout


def test_exit_code(ctrd):
    p = ctrd["ctr"](*run_args(ctrd, "--rm", ctrd["ref"], "c-exit", "sh", "-c", "exit 3"), check=False)
    assert p.returncode == 3


def test_detached_exec_ps_pause_kill_delete(ctrd):
    ctr = ctrd["ctr"]
    ctr(*run_args(ctrd, "-d", ctrd["ref"], "c-d", "sleep", "300"))
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
    assert not os.path.exists(os.path.join(ctrd["runc_root"], "default", "c-d"))


def test_bad_executable_reaches_the_user(ctrd):
    p = ctrd["ctr"](*run_args(ctrd, "--rm", ctrd["ref"], "c-bad", "/nonexistent"), check=False)
    assert p.returncode != 0
    assert "/nonexistent" in p.stderr and "no such file or directory" in p.stderr.lower()


def test_run_with_a_terminal(ctrd):
    import shlex
    args = ["ctr", "-a", ctrd["sock"], *run_args(ctrd, "--rm", "-t", ctrd["ref"], "c-tty", "sh", "-c", "tty")]
    p = subprocess.run(["script", "-qec", " ".join(shlex.quote(a) for a in args), "/dev/null"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert "/dev/pts/" in p.stdout, p.stdout + p.stderr
