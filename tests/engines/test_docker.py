"""Docker (dockerd --add-runtime husk=..., no iptables/bridge), containers with --network none."""
import os
import signal
import subprocess
import time

import pytest

from conftest import HUSK, own_cgroup

# Debian's docker.io, whatever else sits earlier in PATH (ENGINES.md)
DOCKER = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"


@pytest.fixture(scope="module")
def docker(tmp_path_factory, image_tar):
    if not os.path.exists(DOCKERD) or not os.path.exists(DOCKER):
        pytest.skip("docker.io is not installed (scripts/install-deps.sh engines installs it)")
    d = tmp_path_factory.mktemp("docker")
    sock = d / "docker.sock"
    log = open(d / "dockerd.log", "w")
    proc = subprocess.Popen(
        [DOCKERD, "--data-root", str(d / "data"), "--exec-root", str(d / "exec"), "--pidfile", str(d / "pid"),
         "-H", f"unix://{sock}", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--bridge=none",
         "--exec-opt", "native.cgroupdriver=cgroupfs", "--add-runtime", f"husk={HUSK}",
         "--cgroup-parent", own_cgroup() + "/husk-docker-test"],
        stdout=log, stderr=log)

    def dk(*args, check=True, timeout=120):
        p = subprocess.run([DOCKER, "-H", f"unix://{sock}", *args], capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p
    for _ in range(300):
        if sock.exists() and dk("version", check=False).returncode == 0:
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("dockerd did not start: " + (d / "dockerd.log").read_text()[-2000:])
    tar, ref = image_tar
    dk("load", "-i", tar)
    yield dk, ref
    dk("rm", "-f", *dk("ps", "-aq").stdout.split(), check=False)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_run_rm(docker):
    dk, ref = docker
    p = dk("run", "--rm", "--runtime", "husk", "--network", "none", ref, "sh", "-c", "echo hi; hostname")
    assert p.stdout.split()[0] == "hi"


def test_exit_code_and_error(docker):
    dk, ref = docker
    p = dk("run", "--rm", "--runtime", "husk", "--network", "none", ref, "sh", "-c", "exit 6", check=False)
    assert p.returncode == 6
    p = dk("run", "--rm", "--runtime", "husk", "--network", "none", ref, "/nonexistent", check=False)
    assert p.returncode == 127 and "/nonexistent" in p.stderr


def test_detached_exec_top_update_stop(docker):
    dk, ref = docker
    dk("run", "-d", "--name", "dd", "--runtime", "husk", "--network", "none", ref, "sleep", "300")
    assert "from-exec" in dk("exec", "dd", "echo", "from-exec").stdout
    assert "sleep 300" in dk("top", "dd").stdout
    dk("update", "--pids-limit", "100", "dd")
    dk("stop", "-t", "1", "dd")
    dk("rm", "dd")


def test_init(docker):
    dk, ref = docker
    p = dk("run", "--rm", "--init", "--runtime", "husk", "--network", "none", ref, "sh", "-c", "cat /proc/1/cmdline")
    assert "docker-init" in p.stdout or "tini" in p.stdout
