"""Engines driving the freshly built husk: each daemon on private sockets and directories."""
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import image  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HUSK = os.environ.get("HUSK", os.path.join(REPO, "husk"))


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory):
    d = tmp_path_factory.mktemp("img") / "rootfs"
    subprocess.run(["sh", os.path.join(REPO, "scripts", "mkrootfs.sh"), str(d)], check=True)
    # the rootfs of an image: a plain directory tree, a hostname file to bind over
    (d / "etc" / "hostname").write_text("busybox\n")
    return d


@pytest.fixture(scope="session")
def image_tar(rootfs, tmp_path_factory):
    out = tmp_path_factory.mktemp("img") / "busybox.tar"
    ref = image.build(str(rootfs), str(out))
    return str(out), ref


def own_cgroup():
    """Our own cgroup, where test cgroups belong (the memory hierarchy's on a v1/hybrid host,
    the unified one on v2): engines would otherwise put containers at the hierarchy root,
    outside the memory accounting of whoever runs the tests."""
    paths = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            paths[ctrls] = path
    return paths.get("memory", paths.get("", "/")).rstrip("/")


def _hierarchies():
    res = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] in ("cgroup", "cgroup2") and left.split()[4].startswith("/sys/fs/cgroup"):
                res.append(left.split()[4])
    return res


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
                top = os.path.join(h, *own, parent)
                for root, dirs, _ in os.walk(top, topdown=False):
                    for d in dirs + ([""] if root == top else []):
                        try:
                            os.rmdir(os.path.join(root, d) if d else root)
                        except FileNotFoundError:
                            pass
                        except OSError:
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
