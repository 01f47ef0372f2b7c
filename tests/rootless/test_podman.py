"""Rootless podman (the user's own storage, /etc/subuid ranges, network none) with husk as its
OCI runtime, runc 1.1.5 beside it in the same cases. The containers.conf here is the one the
README's "Rootless" section gives."""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import pytest

from conftest import HUSK, REPO

sys.path.insert(0, os.path.join(REPO, "tests", "engines"))
import image  # noqa: E402  (the engines tests' image builder)

RUNTIMES = ["husk", "runc"]
IMAGE = "localhost/husk-busybox"


def conf_text(husk):
    # runtime_supports_nocgroup: the key's spelling in containers-common 0.50 (podman 4.3,
    # Debian 12); later releases read runtime_supports_nocgroups. Each ignores the other's.
    return f"""[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime_supports_json = ["crun", "runc", "husk"]
runtime_supports_nocgroup = ["crun", "husk"]
runtime_supports_nocgroups = ["crun", "krun", "husk"]
[engine.runtimes]
husk = ["{husk}"]
"""


class Podman:
    def __init__(self, user, base):
        self.user, self.uid, self.gid = user
        self.base = base

    def __call__(self, *args, tty=False, timeout=90, check=False):
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": self.base + "/home",
               "USER": self.user, "XDG_RUNTIME_DIR": self.base + "/xdg",
               "CONTAINERS_CONF": self.base + "/containers.conf"}
        argv = ["runuser", "-u", self.user, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()],
                "podman", "--storage-driver", "vfs", *args]
        if tty:
            # a real terminal for -t, as a user's shell has
            argv = ["script", "-qec", " ".join(shlex.quote(a) for a in argv), "/dev/null"]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                           cwd=self.base)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p


@pytest.fixture(scope="module")
def podman(rl_user):
    if not shutil.which("podman") or not shutil.which("conmon") or not shutil.which("newuidmap"):
        pytest.skip("podman, conmon or newuidmap missing")
    base = tempfile.mkdtemp(prefix="husk-rl-podman-")
    os.chmod(base, 0o755)
    # the runtime as the user can run it, whatever the mode of the tree it was built in
    husk = os.path.join(base, "husk")
    shutil.copy(HUSK, husk)
    os.chmod(husk, 0o755)
    with open(base + "/containers.conf", "w") as f:
        f.write(conf_text(husk))
    for d in ("home", "xdg", "vol"):
        os.mkdir(os.path.join(base, d), 0o700 if d == "xdg" else 0o755)
    with open(base + "/vol/f", "w") as f:
        f.write("from-host\n")
    # the image from a root-owned rootfs: its files belong to the container's root
    subprocess.run(["sh", os.path.join(REPO, "scripts", "mkrootfs.sh"), base + "/img"], check=True)
    image.build(base + "/img", base + "/image.tar")
    shutil.rmtree(base + "/img")
    subprocess.run(["chown", "-R", f"{rl_user[1]}:{rl_user[2]}", base], check=True)
    pm = Podman(rl_user, base)
    pm("load", "-i", base + "/image.tar", check=True)
    yield pm
    pm("rm", "-af", timeout=60)
    pm("system", "reset", "-f", timeout=60)
    subprocess.run(["umount", "-R", "-l", base + "/home"], stderr=subprocess.DEVNULL, check=False)
    shutil.rmtree(base, ignore_errors=True)


def run(pm, rt, *args, **kw):
    return pm("run", "--runtime", rt, "--network", "none", *args, **kw)


@pytest.mark.parametrize("rt", RUNTIMES)
def test_run_rm_exit_codes(podman, rt):
    p = run(podman, rt, "--rm", IMAGE, "sh", "-c", "echo hi; id -u; exit 3")
    assert p.returncode == 3 and p.stdout.split() == ["hi", "0"], p.stderr
    p = run(podman, rt, "--rm", IMAGE, "/nonexistent")
    assert p.returncode == 127, p.stderr


@pytest.mark.parametrize("rt", RUNTIMES)
def test_run_tty(podman, rt):
    p = run(podman, rt, "--rm", "-t", IMAGE, "sh", "-c", "tty; exit 2", tty=True)
    assert p.returncode == 2 and "/dev/pts/0" in p.stdout, (p.stdout, p.stderr)


@pytest.mark.parametrize("rt", RUNTIMES)
def test_detached_exec_logs_top_stop_rm(podman, rt):
    name = f"d-{rt}"
    run(podman, rt, "-d", "--name", name, IMAGE, "sh", "-c", "echo started; exec sleep 300", check=True)
    p = podman("exec", name, "sh", "-c", "echo exec-ok; id -u")
    assert p.returncode == 0 and p.stdout.split() == ["exec-ok", "0"], p.stderr
    p = podman("exec", "-t", name, "tty", tty=True)
    assert p.returncode == 0 and "/dev/pts/" in p.stdout, (p.stdout, p.stderr)
    assert podman("logs", name, check=True).stdout.strip() == "started"
    assert "sleep 300" in podman("top", name, check=True).stdout
    podman("stop", "-t", "1", name, check=True)
    assert podman("inspect", "-f", "{{.State.Status}}", name).stdout.strip() == "exited"
    podman("rm", name, check=True)
    assert name not in podman("ps", "-a", "--format", "{{.Names}}").stdout.split()


@pytest.mark.parametrize("rt", RUNTIMES)
def test_userns_keep_id(podman, rt):
    p = run(podman, rt, "--rm", "--userns=keep-id", IMAGE, "sh", "-c", "id -u; cat /proc/self/uid_map")
    assert p.returncode == 0, p.stderr
    out = p.stdout.split()
    assert out[0] == str(podman.uid), p.stdout
    # keep-id: the user is itself inside, its subordinate ids around it, through newuidmap
    assert [str(podman.uid), "0", "1"] == out[4:7], p.stdout


@pytest.mark.parametrize("rt", RUNTIMES)
def test_bind_volume(podman, rt):
    vol = podman.base + "/vol"
    p = run(podman, rt, "--rm", "-v", f"{vol}:/vol", IMAGE, "sh", "-c", f"cat /vol/f; echo {rt} > /vol/{rt}")
    assert p.returncode == 0 and p.stdout.strip() == "from-host", p.stderr
    assert open(f"{vol}/{rt}").read() == f"{rt}\n"
    assert os.stat(f"{vol}/{rt}").st_uid == podman.uid, "container root is not the user on the host"


@pytest.mark.parametrize("rt", RUNTIMES)
def test_cgroups_disabled(podman, rt):
    """--cgroups=disabled: podman passes --cgroup-manager=disabled to a runtime listed in
    runtime_supports_nocgroup, which runc is not (and has no such option)."""
    p = run(podman, rt, "--rm", "--cgroups=disabled", IMAGE, "sh", "-c", "exit 6")
    if rt == "runc":
        assert p.returncode == 125 and "not compatible with NoCgroups" in p.stderr, p.stderr
    else:
        assert p.returncode == 6, p.stderr


@pytest.mark.parametrize("rt", RUNTIMES)
def test_network_host_and_runtime_path(podman, rt):
    """--network host (the user's own network namespace) and --runtime given as a path: podman
    matches its runtime_supports_* lists by the file's base name."""
    path = podman.base + "/husk" if rt == "husk" else shutil.which("runc")
    p = podman("run", "--rm", "--runtime", path, "--network", "host", IMAGE, "sh", "-c", "ls /sys/class/net; exit 8")
    assert p.returncode == 8, p.stderr
    assert "lo" in p.stdout.split()
