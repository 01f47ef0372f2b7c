"""Lifecycle hooks: when each kind runs, what it gets on stdin, and what a failure does."""
import json


def hook(log, tag, extra=""):
    return {"path": "/bin/sh", "args": ["sh", "-c", f"{extra}echo {tag} >> {log}; cat > {log}.{tag}.json"]}


def test_all_hooks_in_order_with_state(husk, tmp_path):
    log = tmp_path / "hooks.log"
    inner = "/hooklog"

    def edit(c):
        c["hooks"] = {
            "prestart": [hook(log, "prestart")],
            "createRuntime": [hook(log, "createRuntime1"), hook(log, "createRuntime2")],
            # createContainer runs in the container's mount namespace before pivot_root: the
            # host path is still reachable; startContainer runs inside the container
            "createContainer": [hook(log, "createContainer")],
            "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", f"echo startContainer >> {inner}"]}],
            "poststart": [hook(log, "poststart")],
            "poststop": [hook(log, "poststop")],
        }
    b = husk.bundle(["sleep", "100"], edit=edit)
    cid, _ = husk.create(b)
    pid = husk.state(cid)["pid"]
    assert log.read_text().split() == ["prestart", "createRuntime1", "createRuntime2", "createContainer"]
    st = json.loads((tmp_path / "hooks.log.createRuntime1.json").read_text())
    assert st["id"] == cid and st["pid"] == pid and st["status"] == "created" and st["bundle"] == str(b)
    husk.cmd("start", cid, check=True)
    assert log.read_text().split()[-1] == "poststart"
    assert json.loads((tmp_path / "hooks.log.poststart.json").read_text())["status"] == "running"
    assert (b / "rootfs" / "hooklog").read_text() == "startContainer\n"
    husk.cmd("delete", "--force", cid, check=True)
    assert log.read_text().split()[-1] == "poststop"
    assert json.loads((tmp_path / "hooks.log.poststop.json").read_text())["status"] == "stopped"


def test_failing_create_hook_stops_and_cleans_up(husk, tmp_path):
    def edit(c):
        c["hooks"] = {"createRuntime": [{"path": "/bin/false"}]}
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "createRuntime hook #0 (/bin/false): exit status 1" in p.stderr
    husk.assert_no_leftovers(cid, b)


def test_hook_timeout_kills_it(husk, tmp_path):
    def edit(c):
        c["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "prestart hook #0 (/bin/sleep): timed out after 1s" in p.stderr
    husk.assert_no_leftovers(cid, b)


def test_failing_poststart_fails_start(husk):
    def edit(c):
        c["hooks"] = {"poststart": [{"path": "/bin/false"}]}
    b = husk.bundle(["sleep", "100"], edit=edit)
    cid, _ = husk.create(b)
    p = husk.cmd("start", cid)
    assert p.returncode == 1 and "poststart hook #0" in p.stderr
    assert husk.status(cid) is None   # stopped, then destroyed (runtime.md "Lifecycle" 9, 12)


def test_failing_poststop_warns_and_continues(husk, tmp_path):
    log = tmp_path / "after"

    def edit(c):
        c["hooks"] = {"poststop": [{"path": "/bin/false"}, hook(log, "second")]}
    b = husk.bundle(["true"], edit=edit)
    cid, p = husk.run(b)
    assert p.returncode == 0
    assert "poststop hook #0 (/bin/false): exit status 1" in p.stderr
    assert log.read_text() == "second\n"
    assert husk.status(cid) is None
