"""System containers (the LXC use): Debian's systemd as PID 1 in a husk container.

The bundle is tests/vm/systemd/mksysbundle.sh's (the host's /usr read-only, a small /etc of its
own, tmpfs /run, /tmp and /var, a cgroup namespace with a writable cgroup2 mount). systemd needs
a pure cgroup v2 tree it can write below its own cgroup; this host's is hybrid, so husk runs in a
private mount namespace with cgroup2 at /sys/fs/cgroup (../shared/TESTING.md), as the systemd VM
(tests/vm/systemd) does on a real systemd host.
"""
import os
import shutil
import subprocess
import time

import pytest

from conftest import HUSK, REPO

MKSYS = os.path.join(REPO, "tests", "vm", "systemd", "mksysbundle.sh")


def v2(husk, *args, timeout=30):
    """husk in a private mount namespace whose /sys/fs/cgroup is a pure cgroup2 mount."""
    script = 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"'
    out = open(husk.tmp / "v2.out", "w+")
    try:
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                            HUSK, "--root", husk.root, *args], stdout=out, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, text=True, timeout=timeout)
        out.seek(0)
        p.stdout = out.read()
    finally:
        out.close()
    return p


def in_ctr(husk, cid, *cmd, timeout=30):
    return v2(husk, "exec", cid, *cmd, timeout=timeout)


@pytest.fixture
def system_container(husk):
    if not os.path.exists("/usr/lib/systemd/systemd"):
        pytest.skip("no /usr/lib/systemd/systemd on this host (apt-get install systemd)")
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) for the private cgroup2 view")
    b = husk.tmp / "sys"
    subprocess.run(["sh", MKSYS, str(b)], check=True, timeout=30)
    out = husk.tmp / "out"
    out.mkdir()
    import json
    cfg = json.loads((b / "config.json").read_text())
    cfg["mounts"].append({"destination": "/husk-out", "type": "bind", "source": str(out),
                          "options": ["rbind", "rw"]})
    (b / "config.json").write_text(json.dumps(cfg))
    cid = "sys-" + os.urandom(4).hex()
    # stdio of the detached container goes to a file, never our pipes
    with open(husk.tmp / "console.log", "w") as log:
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"', "sh",
                            HUSK, "--root", husk.root, "run", "--detach", "--bundle", str(b), cid],
                           stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=30)
    assert p.returncode == 0, (husk.tmp / "console.log").read_text()
    try:
        yield cid, out
    finally:
        # husk's own cleanup runs outside the v2 view, where this container's cgroup is unknown
        v2(husk, "delete", "--force", cid)


def test_systemd_boots_serves_and_halts(husk, system_container):
    cid, out = system_container
    # boot: once systemd listens, is-system-running --wait blocks until the boot is over
    end = time.time() + 60
    while in_ctr(husk, cid, "test", "-S", "/run/systemd/private").returncode != 0:
        assert time.time() < end, "systemd's private socket did not appear in 60 s"
        time.sleep(0.2)
    p = in_ctr(husk, cid, "systemctl", "is-system-running", "--wait", timeout=90)
    state = p.stdout.strip()
    if state not in ("running", "degraded"):
        failed = in_ctr(husk, cid, "systemctl", "--failed", "--no-legend").stdout
        pytest.fail(f"systemctl is-system-running: {state!r} {p.stderr}; failed units: {failed}")
    assert in_ctr(husk, cid, "cat", "/proc/1/comm").stdout.strip() == "systemd"
    # systemd moved itself into init.scope: its cgroup namespace and the writable mount work
    cg = in_ctr(husk, cid, "cat", "/proc/1/cgroup").stdout.splitlines()
    assert "0::/init.scope" in cg, cg
    # a service ran, and journald has its output
    assert in_ctr(husk, cid, "systemctl", "is-active", "husk-hello.service").stdout.strip() == "active"
    j = in_ctr(husk, cid, "journalctl", "--no-pager", "-u", "husk-hello.service")
    assert "hello from a service" in j.stdout, j.stdout + j.stderr
    # a transient service over systemd's D-Bus API
    r = in_ctr(husk, cid, "systemd-run", "--wait", "--quiet", "-p", "StandardOutput=journal",
               "/bin/echo", "transient")
    assert r.returncode == 0, r.stderr

    # SIGRTMIN+3 is systemd's "halt": it stops every unit and exits
    k = v2(husk, "kill", cid, "SIGRTMIN+3")
    assert k.returncode == 0, k.stderr
    assert husk.wait_status(cid, "stopped", timeout=30), "systemd did not halt on SIGRTMIN+3"
    assert (out / "hello-stopped").read_text().strip() == "stopped", "the service was not stopped"
    d = v2(husk, "delete", cid)
    assert d.returncode == 0, d.stderr
    assert not os.path.exists(os.path.join(husk.root, cid))
