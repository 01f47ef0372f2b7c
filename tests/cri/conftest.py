"""One containerd with the CRI plugin for the session (tests/cri/cri.py), and a CRI client per
runtime handler: every test runs once with husk and once with runc, and expects the same."""
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import cri  # noqa: E402


@pytest.fixture(scope="session")
def ctrd(tmp_path_factory):
    why = cri.missing_tools()
    if why:
        pytest.skip(f"{why} (scripts/install-deps.sh cri installs it)")
    rootfs = tmp_path_factory.mktemp("img") / "rootfs"
    subprocess.run(["sh", os.path.join(cri.REPO, "scripts", "mkrootfs.sh"), str(rootfs)], check=True)
    (rootfs / "etc" / "hostname").write_text("busybox\n")
    c = cri.Containerd()
    try:
        c.start(str(rootfs))
        yield c
    finally:
        c.stop()


@pytest.fixture(params=["husk", "runc"])
def handler(request):
    return request.param


@pytest.fixture
def client(ctrd, handler):
    c = cri.Client(ctrd, handler)
    yield c
    c.close()


@pytest.fixture
def pod(client, tmp_path, request):
    """A running pod sandbox (its name from the test's), removed afterwards with whatever is in it,
    as kubelet does: StopPodSandbox, RemovePodSandbox."""
    made = []

    def make(security=None, hostname=None, share_pid=False):
        name = f"{request.node.originalname.replace('_', '-')[5:][:40]}-{client.handler}-{len(made)}"
        logs = tmp_path / f"logs-{len(made)}"
        logs.mkdir()
        config = client.pod_config(name, str(logs), security=security, hostname=hostname, share_pid=share_pid)
        pid = client.run_pod(config)
        made.append(pid)
        return pid, config, logs
    yield make
    for pid in made:
        client.remove_pod(pid)
