"""Each command's errors: messages, exit codes, and nothing left behind on failure."""
import json
import os
import subprocess

import pytest

from conftest import HUSK


def test_unknown_command_and_option(husk):
    p = husk.cmd("frobnicate")
    assert p.returncode == 1
    assert p.stderr.strip().count("\n") == 0 and "unknown command" in p.stderr
    p = husk.cmd("state", "--bogus", "x")
    assert p.returncode == 1 and "unknown option: --bogus" in p.stderr
    p = subprocess.run([HUSK, "--bogus", "list"], capture_output=True, text=True)
    assert p.returncode == 1 and "unknown option" in p.stderr


def test_help_and_version(husk):
    p = subprocess.run([HUSK, "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and "husk version" in p.stdout
    for c in ("create", "start", "run", "state", "kill", "delete", "list", "spec"):
        p = husk.cmd(c, "--help")
        assert p.returncode == 0 and p.stdout.startswith(f"Usage: husk {c}"), c
    p = subprocess.run([HUSK, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "Commands:" in p.stdout


def test_unknown_id(husk):
    for args in (("state", "nope"), ("start", "nope"), ("kill", "nope", "KILL"), ("delete", "nope")):
        p = husk.cmd(*args)
        assert p.returncode == 1, args
        assert 'container "nope" does not exist' in p.stderr, args


def test_invalid_ids(husk):
    b = husk.bundle()
    for bad in ("../x", "a/b", ".hidden", "-x" * 0 + "sp ace"):
        p = husk.cmd("create", "--bundle", str(b), "--", bad)
        assert p.returncode == 1 and "container id" in p.stderr, bad
    assert not os.path.exists(os.path.join(husk.tmp, "x"))


def test_duplicate_id(husk):
    b = husk.bundle()
    cid, _ = husk.create(b)
    _, p = husk.create(husk.bundle(), cid=cid, check=False)
    assert p.returncode == 1 and "already exists" in p.stderr
    assert husk.status(cid) == "created"


def test_wrong_state(husk):
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    p = husk.cmd("start", cid)
    assert p.returncode == 1 and "not created" in p.stderr
    assert husk.status(cid) == "running"


def test_bad_config_names_path_and_leaves_nothing(husk):
    def edit(c):
        c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": "abc"}]
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1
    assert 'config.json: .process.rlimits[0].hard: expected a non-negative integer, got "abc"' in p.stderr
    husk.assert_no_leftovers(cid, b)
    (b / "config.json").write_text('{"ociVersion": "1.0.0",\n "root": }')
    cid, p = husk.create(b, check=False)
    assert p.returncode == 1 and "invalid JSON at line 2" in p.stderr
    (b / "config.json").write_text('{"ociVersion": "2.0.0"}')
    cid, p = husk.create(b, check=False)
    assert p.returncode == 1 and "unsupported version" in p.stderr


def test_missing_executable_fails_create(husk):
    # like runc: the program is looked up at create, where engines read the error
    b = husk.bundle(["/nonexistent"])
    cid, p = husk.create(b, check=False)
    assert p.returncode == 1
    assert 'exec: "/nonexistent": no such file or directory' in p.stderr
    husk.assert_no_leftovers(cid, b)
    b = husk.bundle(["no-such-program"])
    cid, p = husk.run(b)
    assert p.returncode != 0
    assert 'exec: "no-such-program": executable file not found in $PATH' in p.stderr
    husk.assert_no_leftovers(cid, b)


def test_run_setup_error_is_never_lost(husk):
    # run queues its start before the init is ready; an init that fails first leaves that
    # byte unread, and the kernel reports ECONNRESET ahead of the error the init sent
    b = husk.bundle(["no-such-program"])
    for _ in range(150):
        cid, p = husk.run(b)
        assert p.returncode == 1
        assert 'executable file not found in $PATH' in p.stderr, p.stderr
    husk.assert_no_leftovers(cid, b)


def test_program_removed_after_create_fails_start(husk):
    b = husk.bundle(["/bin/mytrue"])
    os.symlink("busybox", b / "rootfs" / "bin" / "mytrue")
    cid, _ = husk.create(b)
    os.unlink(b / "rootfs" / "bin" / "mytrue")
    p = husk.cmd("start", cid)
    assert p.returncode == 1 and 'exec: "/bin/mytrue": no such file or directory' in p.stderr
    assert husk.wait_status(cid, "stopped")


def test_failed_create_leaves_nothing(husk):
    def edit(c):
        c["mounts"].append({"destination": "/data", "type": "bind", "source": "/does/not/exist",
                            "options": ["rbind"]})
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "/does/not/exist" in p.stderr
    husk.assert_no_leftovers(cid, b)
    assert not (b / "pid").exists()

    def bad_cwd(c):   # a missing cwd is created (test_conventions.py); one below a file cannot be
        c["process"]["cwd"] = "/etc/passwd/dir"
    cid, p, b = husk.create_edited(bad_cwd)
    assert p.returncode == 1 and "/etc/passwd/dir" in p.stderr
    husk.assert_no_leftovers(cid, b)


def test_rlimit_hard_raise_is_a_clear_error(husk):
    def edit(c):
        c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1 << 30}]
    cid, p, b = husk.create_edited(edit)
    with open("/proc/self/status") as f:
        pass
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard >= 1 << 30:
        return  # this machine may raise it
    assert p.returncode == 1
    assert "RLIMIT_NOFILE" in p.stderr and "CAP_SYS_RESOURCE" in p.stderr
    husk.assert_no_leftovers(cid, b)


def test_systemd_cgroup_without_systemd_is_a_clear_error(husk, tmp_path):
    # no systemd on the bus: the create fails naming it, and leaves nothing
    b = husk.bundle()
    cid = husk.new_id()
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={tmp_path}/no-bus")
    p = subprocess.run([HUSK, "--root", husk.root, "--systemd-cgroup", "create", "--bundle", str(b), cid],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env)
    assert p.returncode == 1 and "systemd is not reachable" in p.stderr, p.stderr
    husk.assert_no_leftovers(cid, b)


def test_json_log(husk, tmp_path):
    log = tmp_path / "log.json"
    p = husk.cmd("--log", str(log), "--log-format=json", "state", "nope") if False else \
        subprocess.run([HUSK, "--root", husk.root, "--log", str(log), "--log-format=json", "state", "nope"],
                       capture_output=True, text=True)
    assert p.returncode == 1
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[-1]["level"] == "error"
    assert 'container "nope" does not exist' in lines[-1]["msg"]
    assert "time" in lines[-1]


def test_foreign_state_is_left_alone(husk):
    # another runtime's container under the same --root: not listed, never deleted
    d = os.path.join(husk.root, "other")
    os.makedirs(d)
    with open(os.path.join(d, "state.json"), "w") as f:
        f.write('{"id": "other", "init_process_pid": 1}')
    assert "other" not in husk.cmd("list", "-q", check=True).stdout.split()
    p = husk.cmd("delete", "--force", "other")
    assert p.returncode == 1 and "not written by husk" in p.stderr
    assert os.path.exists(d)


@pytest.mark.parametrize("userns", [False, True])
def test_init_setup_error_before_go_is_reported(husk, userns):
    # the init sets the hostname before create's GO when it has no user namespace of its own:
    # its error must still be the one reported, with nothing left behind
    def edit(c):
        c["hostname"] = "h" * 70
        if userns:
            c["linux"]["namespaces"].append({"type": "user"})
            c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
            c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and 'set hostname "hhh' in p.stderr and "Invalid argument" in p.stderr, p.stderr
    husk.assert_no_leftovers(cid, b)
