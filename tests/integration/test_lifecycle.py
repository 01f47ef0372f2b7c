"""create → start → kill → delete, status transitions, run and its exit codes."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import HUSK


@pytest.mark.parametrize("command", ["create", "run"])
def test_creating_status_while_create_runs(husk, tmp_path, command):
    """`list` takes no lock: while create is still at work (here: in a createRuntime hook)
    it reports the container as creating, never as created or running."""
    out = tmp_path / "list.json"
    hook = {"path": "/bin/sh",
            "args": ["sh", "-c", f"{HUSK} --root {husk.root} list --format json > {out}"]}

    def edit(c):
        c["hooks"] = {"createRuntime": [hook]}
    b = husk.bundle(["true"], edit=edit)
    if command == "create":
        cid, p = husk.create(b)
    else:
        cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    seen = json.loads(out.read_text())
    assert [(c["id"], c["status"]) for c in seen] == [(cid, "creating")]
    if command == "create":
        assert husk.status(cid) == "created"


def test_full_lifecycle(husk):
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    st = husk.state(cid)
    assert st["status"] == "created"
    assert st["id"] == cid
    assert st["bundle"] == str(b)
    assert st["ociVersion"].startswith("1.")
    assert {"rootfs", "created", "owner"} <= set(st)
    pid = int((b / "pid").read_text())
    assert pid == st["pid"] and pid > 0
    assert os.path.exists(f"/proc/{pid}")
    # created: the user's program has not run yet
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert b"sleep" not in f.read()

    p = husk.cmd("start", cid, check=True)
    assert p.stdout == "" and p.stderr == ""
    assert husk.status(cid) == "running"
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] == b"sleep"

    husk.cmd("kill", cid, "KILL", check=True)
    assert husk.wait_status(cid, "stopped")
    assert husk.state(cid)["status"] == "stopped"

    husk.cmd("delete", cid, check=True)
    assert husk.status(cid) is None
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    husk.assert_no_leftovers(cid, b)


def test_kill_default_is_term_and_signal_forms(husk):
    b = husk.bundle(["sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.05; done"])
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    time.sleep(0.2)
    husk.cmd("kill", cid, check=True)
    assert husk.wait_status(cid, "stopped")
    for form in ("9", "SIGKILL", "KILL"):
        b2 = husk.bundle(["sleep", "100"])
        c2, _ = husk.create(b2)
        husk.cmd("start", c2, check=True)
        husk.cmd("kill", c2, form, check=True)
        assert husk.wait_status(c2, "stopped"), form


@pytest.mark.parametrize("pidns", [True, False])
def test_kill_all_reaches_the_containers_other_processes(husk, pidns):
    """--all: every process in the container's cgroups, also with the host's pid namespace
    (where the init's death takes nothing else with it)."""
    def edit(c):
        if not pidns:
            c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]
    # the init ignores TERM: it stops only once its child, reached by --all alone, is gone
    b = husk.bundle(["sh", "-c", "sleep 100 & echo $! > /tmp/child; trap '' TERM; wait"], edit=edit)
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    child = b / "rootfs" / "tmp" / "child"
    end = time.time() + 5
    while not (child.exists() and child.read_text().strip()) and time.time() < end:
        time.sleep(0.02)
    husk.cmd("kill", "--all", cid, "TERM", check=True)
    if not pidns:
        pid = int(child.read_text())
        end = time.time() + 5
        while os.path.exists(f"/proc/{pid}") and time.time() < end:
            time.sleep(0.02)
        assert not os.path.exists(f"/proc/{pid}")
    assert husk.wait_status(cid, "stopped")


def test_kill_stopped_container_fails_without_effect(husk):
    b = husk.bundle(["true"])
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    assert husk.wait_status(cid, "stopped")
    before = husk.state(cid)
    p = husk.cmd("kill", cid, "KILL")
    assert p.returncode != 0
    assert "not running" in p.stderr
    assert husk.state(cid) == before


def test_kill_all_stopped_container_reaches_what_its_init_left(husk):
    """--all on a stopped container (runc 1.1): the processes its init left in its cgroups (no
    pid namespace of its own) are signalled, and with nothing left it still succeeds, since
    containerd's shim sends it after every such exit and takes a failure for a missed kill."""
    def edit(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]
    b = husk.bundle(["sh", "-c", "sleep 100 & echo $! > /tmp/child"], edit=edit)
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    assert husk.wait_status(cid, "stopped")
    pid = int((b / "rootfs" / "tmp" / "child").read_text())
    assert os.path.exists(f"/proc/{pid}")
    husk.cmd("kill", "--all", cid, "KILL", check=True)
    end = time.time() + 5
    while os.path.exists(f"/proc/{pid}") and time.time() < end:
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{pid}")
    husk.cmd("kill", "--all", cid, "KILL", check=True)
    assert husk.state(cid)["status"] == "stopped"
    assert husk.cmd("kill", cid, "KILL").returncode != 0


def test_run_exit_codes(husk):
    _, p = husk.run(husk.bundle(["sh", "-c", "exit 3"]))
    assert p.returncode == 3
    _, p = husk.run(husk.bundle(["true"]))
    assert p.returncode == 0


def test_run_killed_by_signal_exits_128_plus_n(husk, tmp_path):
    b = husk.bundle(["sleep", "100"])
    cid = husk.new_id()
    out = open(tmp_path / "run.out", "w")
    p = subprocess.Popen([HUSK, "--root", husk.root, "run", "--bundle", str(b), cid],
                         stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    assert husk.wait_status(cid, "running")
    husk.cmd("kill", cid, "KILL", check=True)
    assert p.wait(timeout=10) == 128 + signal.SIGKILL
    # run removes the container once it exits
    assert husk.status(cid) is None


def test_run_forwards_signals(husk, tmp_path):
    b = husk.bundle(["sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done"])
    cid = husk.new_id()
    out = open(tmp_path / "run.out", "w")
    p = subprocess.Popen([HUSK, "--root", husk.root, "run", "--bundle", str(b), cid],
                         stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    assert husk.wait_status(cid, "running")
    time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 42


def test_run_detach_and_keep(husk):
    b = husk.bundle(["sleep", "100"])
    cid, p = husk.run(b, "--detach")
    assert p.returncode == 0
    assert husk.status(cid) == "running"
    p = husk.cmd("delete", cid)
    assert p.returncode != 0 and "not stopped" in p.stderr
    assert husk.status(cid) == "running"
    husk.cmd("delete", "--force", cid, check=True)
    assert husk.status(cid) is None
    husk.assert_no_leftovers(cid, b)

    cid, p = husk.run(husk.bundle(["true"]), "--keep")
    assert p.returncode == 0
    assert husk.status(cid) == "stopped"


def test_delete_created_container(husk):
    b = husk.bundle()
    cid, _ = husk.create(b)
    pid = husk.state(cid)["pid"]
    p = husk.cmd("delete", cid)
    assert p.returncode == 1 and "not stopped: it is created" in p.stderr
    assert husk.status(cid) == "created"
    husk.cmd("delete", "--force", cid, check=True)
    time.sleep(0.05)
    assert husk.status(cid) is None
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    husk.assert_no_leftovers(cid, b)


def test_delete_force_missing_is_ok(husk):
    assert husk.cmd("delete", "--force", "never-existed").returncode == 0
    p = husk.cmd("delete", "never-existed")
    assert p.returncode == 1 and "does not exist" in p.stderr


def test_list(husk):
    b = husk.bundle()
    cid, _ = husk.create(b)
    p = husk.cmd("list", "-q", check=True)
    assert cid in p.stdout.split()
    import json
    p = husk.cmd("list", "--format", "json", check=True)
    entries = {e["id"]: e for e in json.loads(p.stdout)}
    assert entries[cid]["status"] == "created"
    p = husk.cmd("list", check=True)
    assert p.stdout.splitlines()[0].startswith("ID")


def test_spec_writes_runnable_config(husk, tmp_path):
    d = tmp_path / "specbundle"
    d.mkdir()
    p = husk.cmd("spec", "--bundle", str(d), check=True)
    import json
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["process"]["terminal"] is True and cfg["process"]["args"] == ["sh"]
    p = husk.cmd("spec", "--bundle", str(d))
    assert p.returncode == 1 and "exists" in p.stderr
    d2 = tmp_path / "rootless"
    d2.mkdir()
    husk.cmd("spec", "--rootless", "--bundle", str(d2), check=True)
    cfg = json.loads((d2 / "config.json").read_text())
    assert any(n["type"] == "user" for n in cfg["linux"]["namespaces"])


def test_run_leaves_a_new_container_of_its_id_alone(husk):
    """`run` removes the state and cgroups create made for it: after a `delete --force` of
    its container and a create of a new one under the same id, run's own delete (once it
    has reaped its init) finds its directory gone and touches nothing of the new one."""
    b = husk.bundle(["sleep", "100"])
    cid = husk.new_id()
    p = subprocess.Popen([husk.binary, "--root", husk.root, "run", "--bundle", str(b), cid],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert husk.wait_status(cid, "running")
        os.kill(p.pid, signal.SIGSTOP)      # run cannot reap its init until it goes on
        husk.cmd("delete", "--force", cid, check=True)
        b2 = husk.bundle(["sleep", "100"])
        husk.create(b2, cid)
        pid = husk.state(cid)["pid"]
    finally:
        os.kill(p.pid, signal.SIGCONT)
        p.wait(timeout=10)
    assert husk.status(cid) == "created"
    assert os.path.exists(f"/proc/{pid}")
