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


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            pytest.skip(f"{t} is not installed (scripts/install-deps.sh --engines installs it)")
