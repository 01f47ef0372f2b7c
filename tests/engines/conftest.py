"""Engines driving the freshly built husk: each daemon on private sockets and directories."""
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import image  # noqa: E402
from hostcg import cgroup_hierarchies as _hierarchies, own_cgroup, rmdir_tree  # noqa: E402,F401

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HUSK = os.environ.get("HUSK", os.path.join(REPO, "husk"))
# Every engine test runs with husk and with runc 1.1.5 (Debian's, the reference husk is held
# to): one daemon per module knows both, each test is parametrized over them.
RUNC = "/usr/sbin/runc"
RUNTIMES = {"husk": HUSK, "runc": RUNC}


def user_options(opts):
    """--user/--workdir of a case in the exit-code table (Docker's and podman's spelling)."""
    return [*(["--user", opts["user"]] if "user" in opts else []),
            *(["--workdir", opts["cwd"]] if "cwd" in opts else [])]


@pytest.fixture(params=sorted(RUNTIMES))
def runtime(request):
    if not os.access(RUNTIMES[request.param], os.X_OK):
        pytest.skip(f"{RUNTIMES[request.param]} is not installed")
    return request.param


# The exit-code table: what an engine returns when the runtime cannot start the program.
# Engines read the runtime's error text (moby's CLI runStartContainerErr and daemon
# translateContainerdStartErr, podman's getOCIRuntimeError), so husk's messages must say what
# runc's say. case: (options, args); options "user" runs the program as another user (a
# root-only file), "cwd" starts it in a directory that user may not enter: runc enters it
# before the switch to the user, so the program runs (exit 0).
EXIT_CASES = {
    "missing command": ({}, ["nosuchcmd"]),
    "missing file": ({}, ["/nonexistent"]),
    "directory": ({}, ["/etc"]),
    "not executable": ({}, ["/etc/passwd"]),
    "permission denied": ({"user": "1000:1000"}, ["/bin/rootonly"]),
    "inaccessible cwd": ({"user": "1000:1000", "cwd": "/root"}, ["true"]),
}
# exec: the same, but EACCES from a program on a noexec mount (/dev/shm in every engine, where
# EXEC_SETUP copies it): engines leave an exec'd non-root process CAP_DAC_OVERRIDE up to its
# execve, which runs the root-only file under runc (test_exec_root_only_file_as_a_user).
EXEC_CASES = dict(EXIT_CASES, **{"permission denied": ({}, ["/dev/shm/busybox", "true"])})
EXEC_SETUP = ["cp", "/bin/busybox", "/dev/shm/busybox"]


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory):
    d = tmp_path_factory.mktemp("img") / "rootfs"
    subprocess.run(["sh", os.path.join(REPO, "scripts", "mkrootfs.sh"), str(d)], check=True)
    # the rootfs of an image: a plain directory tree, a hostname file to bind over
    (d / "etc" / "hostname").write_text("busybox\n")
    # a program only root may run: EACCES for user 1000 (EXIT_CASES)
    ro = d / "bin" / "rootonly"
    ro.write_text("#!/bin/sh\necho root only\n")
    os.chown(ro, 0, 0)
    ro.chmod(0o700)
    (d / "root").chmod(0o700)
    return d


@pytest.fixture(scope="session")
def image_tar(rootfs, tmp_path_factory):
    out = tmp_path_factory.mktemp("img") / "busybox.tar"
    ref = image.build(str(rootfs), str(out))
    return str(out), ref



TEST_PARENTS = ("husk-podman-test", "husk-ctr-test", "husk-docker-test")


@pytest.fixture(scope="session", autouse=True)
def cgroup_cleanup():
    """Engines make their own parent cgroups (conmon's, dockerd's) below the parents the tests
    give them, and leave them: after the session remove those, and the path to our own cgroup
    in hierarchies where it did not exist before, nothing else."""
    own = own_cgroup().strip("/").split("/") if own_cgroup() else []
    chain = [os.path.join(h, *own[:i]) for h in _hierarchies() for i in range(1, len(own) + 1)]
    before = {d for d in chain if os.path.isdir(d)}
    yield
    import time
    for attempt in range(20):
        left = False
        for h in _hierarchies():
            for parent in TEST_PARENTS:
                if rmdir_tree(os.path.join(h, *own, parent)):
                    left = True
        if not left:
            break
        time.sleep(0.1)  # conmon and shims leave their cgroups a moment after the engine returns
    for d in sorted(set(chain) - before, key=len, reverse=True):
        try:
            os.rmdir(d)
        except OSError:
            pass


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            pytest.skip(f"{t} is not installed (scripts/install-deps.sh --engines installs it)")


def in_tty(argv, env=None, timeout=60):
    """argv under a pty of its own (`script`), as from a user's terminal: engines refuse or
    change `-t` without one."""
    import shlex
    return subprocess.run(["script", "-qec", " ".join(shlex.quote(a) for a in argv), "/dev/null"],
                          capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def console_mounts(out):
    """The counts CONSOLE_PROBE printed (a terminal may echo stray input before them)."""
    import re
    return [int(n) for n in re.findall(r"console-mounts=(\d+)", out)]


# Run in the container: its terminal and how many mounts sit on /dev/console. Only the init's
# terminal is /dev/console; an exec'd process gets its pty on stdio and mounts nothing.
CONSOLE_PROBE = 'tty; echo console-mounts=$(grep -c " /dev/console " /proc/self/mountinfo)'


def shared_tmpfs(path):
    """A tmpfs at path in a peer group of its own, for rshared binds to propagate back into."""
    path.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "husk-prop", str(path)], check=True)
    subprocess.run(["mount", "--make-shared", str(path)], check=True)
    (path / "sub").mkdir()


def mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == str(path) for line in f)


def unmount_all(path):
    subprocess.run(["umount", "-R", "-l", str(path)], capture_output=True)


@pytest.fixture
def loop_device(tmp_path):
    """A loop device over a file of ours: a block device outside every engine's default rules,
    so an `:r` rule is all that lets the container open it; a write that got through would
    land in this file, nowhere else."""
    img = tmp_path / "xdev.img"
    img.write_bytes(b"husk-readable\n".ljust(64 * 1024, b"\0"))
    p = subprocess.run(["losetup", "-f", "--show", str(img)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("no loop device: " + p.stderr.strip())
    dev = p.stdout.strip()
    yield dev, img
    subprocess.run(["losetup", "-d", dev], capture_output=True)


# Run in the container against /dev/xdev, allowed `r` only: the read works, the write is refused
# by the device cgroup (EPERM at open).
DEVICE_PROBE = ("head -c 13 /dev/xdev; echo; if echo x > /dev/xdev; then echo write-allowed; "
                "else echo write-refused; fi")
