"""Docker (dockerd --add-runtime husk=..., no iptables/bridge), containers with --network none."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import (CONSOLE_PROBE, DEVICE_PROBE, EXEC_CASES, EXEC_SETUP, EXIT_CASES, HUSK, RUNC, console_mounts,
                      user_options as options, in_tty, mounted, own_cgroup, shared_tmpfs, unmount_all)

# Debian's docker.io, whatever else sits earlier in PATH (ENGINES.md)
DOCKER = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
# Docker reserves the name "runc" for the runc it finds in PATH: the reference gets its own
RT = {"husk": "husk", "runc": "refrunc"}


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
         "--add-runtime", f"refrunc={RUNC}",
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
    dk.sock = sock
    yield dk, ref
    dk("rm", "-f", *dk("ps", "-aq").stdout.split(), check=False)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_run_rm(docker, runtime):
    dk, ref = docker
    p = dk("run", "--rm", "--runtime", RT[runtime], "--network", "none", ref, "sh", "-c", "echo hi; hostname")
    assert p.stdout.split()[0] == "hi"


def test_exit_code_and_error(docker, runtime):
    dk, ref = docker
    p = dk("run", "--rm", "--runtime", RT[runtime], "--network", "none", ref, "sh", "-c", "exit 6", check=False)
    assert p.returncode == 6
    p = dk("run", "--rm", "--runtime", RT[runtime], "--network", "none", ref, "/nonexistent", check=False)
    assert p.returncode == 127 and "/nonexistent" in p.stderr


def test_detached_exec_top_update_stop(docker, runtime):
    dk, ref = docker
    dk("run", "-d", "--name", "dd", "--runtime", RT[runtime], "--network", "none", ref, "sleep", "300")
    assert "from-exec" in dk("exec", "dd", "echo", "from-exec").stdout
    assert "sleep 300" in dk("top", "dd").stdout
    dk("update", "--pids-limit", "100", "dd")
    dk("stop", "-t", "1", "dd")
    dk("rm", "dd")


def test_init(docker, runtime):
    dk, ref = docker
    p = dk("run", "--rm", "--init", "--runtime", RT[runtime], "--network", "none", ref, "sh", "-c",
           "cat /proc/1/cmdline")
    assert "docker-init" in p.stdout or "tini" in p.stdout


# What Docker 20.10 returns when the runtime cannot start the program, runc's codes: `docker
# run`'s CLI (runStartContainerErr) matches the error text case-sensitively, "executable file
# not found" or "no such file or directory" 127, then "permission denied" 126, else 125.
# `docker exec` says 126 for every failed start.
DOCKER_EXIT_CODES = {
    "run": {"missing command": 127, "missing file": 127, "directory": 126, "not executable": 126,
            "permission denied": 126, "inaccessible cwd": 0},
    "exec": {"missing command": 126, "missing file": 126, "directory": 126, "not executable": 126,
             "permission denied": 126, "inaccessible cwd": 0},
}


def test_exit_code_table(docker, runtime):
    dk, ref = docker
    got = {"run": {}, "exec": {}}
    for case, (opts, args) in EXIT_CASES.items():
        p = dk("run", "--rm", "--runtime", RT[runtime], "--network", "none", *options(opts), ref, *args,
               check=False)
        got["run"][case] = p.returncode
    dk("run", "-d", "--name", "dx", "--runtime", RT[runtime], "--network", "none", ref, "sleep", "300")
    try:
        dk("exec", "dx", *EXEC_SETUP)
        for case, (opts, args) in EXEC_CASES.items():
            got["exec"][case] = dk("exec", *options(opts), "dx", *args, check=False).returncode
    finally:
        dk("rm", "-f", "dx", check=False)
    assert got == DOCKER_EXIT_CODES, json.dumps(got)


def test_exec_tty_three_times(docker, runtime):
    """`docker exec -t` again and again into one container with a terminal: each gets a pty,
    none stacks a mount on /dev/console (the init's is the only one)."""
    dk, ref = docker
    dk("run", "-d", "-t", "--name", "dt", "--runtime", RT[runtime], "--network", "none", ref, "sleep", "300")
    try:
        init = console_mounts(dk("exec", "dt", "sh", "-c", CONSOLE_PROBE).stdout)
        assert init == [1]
        for i in range(3):
            p = in_tty([DOCKER, "-H", f"unix://{dk.sock}", "exec", "-t", "dt", "sh", "-c", CONSOLE_PROBE])
            assert p.returncode == 0, f"exec {i}: {p.stdout}{p.stderr}"
            assert "/dev/pts/" in p.stdout, p.stdout
            assert console_mounts(p.stdout) == init, p.stdout
        assert console_mounts(dk("exec", "dt", "sh", "-c", CONSOLE_PROBE).stdout) == init
    finally:
        dk("rm", "-f", "dt", check=False)


def test_read_only_device(docker, runtime, loop_device):
    """--device HOST:/dev/xdev:r: the container reads it, its write is refused."""
    dk, ref = docker
    dev, img = loop_device
    p = dk("run", "--rm", "--runtime", RT[runtime], "--network", "none", "--device", f"{dev}:/dev/xdev:r", ref,
           "sh", "-c", DEVICE_PROBE)
    assert p.stdout.split() == ["husk-readable", "write-refused"], p.stdout + p.stderr
    assert "Operation not permitted" in p.stderr
    assert img.read_bytes().startswith(b"husk-readable\n\0")


def test_rshared_bind_propagates_to_the_host(docker, runtime, tmp_path):
    """bind-propagation=rshared: a mount the container makes below the bind appears on the host."""
    dk, ref = docker
    x = tmp_path / "shared"
    shared_tmpfs(x)
    try:
        p = dk("run", "--rm", "--runtime", RT[runtime], "--network", "none", "--cap-add", "SYS_ADMIN",
               "--mount", f"type=bind,src={x},dst=/m,bind-propagation=rshared", ref,
               "sh", "-c", "mount -t tmpfs from-container /m/sub && echo seen > /m/sub/f", check=False)
        assert p.returncode == 0, p.stderr
        assert mounted(x / "sub")
        assert (x / "sub" / "f").read_text() == "seen\n"
    finally:
        unmount_all(x)


def test_exec_root_only_file_as_a_user(docker, runtime):
    """`docker exec --user 1000` of a 0700 root file: the exec'd process holds CAP_DAC_OVERRIDE
    up to its execve, so runc runs it (and /bin/sh, without it, cannot read the script: 2)."""
    dk, ref = docker
    dk("run", "-d", "--name", "dr", "--runtime", RT[runtime], "--network", "none", ref, "sleep", "300")
    try:
        p = dk("exec", "--user", "1000:1000", "dr", "/bin/rootonly", check=False)
        assert p.returncode == 2 and "can't open '/bin/rootonly'" in p.stderr, p.stderr
    finally:
        dk("rm", "-f", "dr", check=False)
