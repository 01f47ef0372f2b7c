"""Hostile input files: JSON built to crash, hang or mislead husk, and FIFOs where files belong.
Each is refused with a one-line error naming the file and, for JSON, the path inside it."""
import json
import os

import pytest

DEEP = 300000  # 600 KB of brackets: far past any stack


def nested(depth):
    return "[" * depth + "]" * depth


def write_config(bundle, text):
    (bundle / "config.json").write_text(text)


def config_text(husk, edit=None):
    b = husk.bundle(["true"], edit=edit)
    return b, (b / "config.json").read_text()


def refused(p, *words):
    """A clean error: exit 1 (not a signal), one line, saying what and where."""
    assert p.returncode == 1, (p.returncode, p.stderr[-300:])
    assert p.stderr.count("\n") == 1, p.stderr[-600:]
    for w in words:
        assert w in p.stderr, p.stderr


def test_deeply_nested_config_is_refused(husk):
    b, text = config_text(husk)
    write_config(b, text[:-1] + ', "x": ' + nested(DEEP) + "}")
    cid, p = husk.create(b, check=False)
    refused(p, "config.json: .x[0][0][0]", "nested deeper than 256")
    husk.assert_no_leftovers(cid, b)


def test_deeply_nested_resources_is_refused(husk):
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    f = husk.tmp / "resources.json"
    f.write_text('{"pids": {"limit": 10}, "x": ' + nested(DEEP) + "}")
    p = husk.cmd("update", "--resources", str(f), cid)
    refused(p, "resources: .linux.resources.x[0][0]", "nested deeper than 256")
    assert husk.status(cid) == "created"


def test_deeply_nested_process_is_refused(husk):
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    f = husk.tmp / "process.json"
    f.write_text('{"args": ["true"], "cwd": "/", "x": ' + nested(DEEP) + "}")
    p = husk.cmd("exec", "--process", str(f), cid)
    refused(p, "process.json: .x[0][0]", "nested deeper than 256")
    assert husk.status(cid) == "running"


def test_fifo_config_does_not_hang(husk):
    b, _ = config_text(husk)
    os.unlink(b / "config.json")
    os.mkfifo(b / "config.json")
    cid, p = husk.create(b, check=False)  # a hang ends in TimeoutExpired after 20 s
    refused(p, "config.json", "not a regular file")
    husk.assert_no_leftovers(cid, b)


def test_fifo_process_and_resources_do_not_hang(husk):
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    fifo = husk.tmp / "fifo"
    os.mkfifo(fifo)
    refused(husk.cmd("exec", "--process", str(fifo), cid, timeout=10), "not a regular file")
    refused(husk.cmd("update", "--resources", str(fifo), cid, timeout=10), "not a regular file")


def test_fifo_at_pid_file_temporary_does_not_hang(husk):
    b = husk.bundle(["sleep", "100"])
    cid = husk.new_id()
    pidfile = husk.tmp / "pid"
    os.mkfifo(str(pidfile) + ".husk-tmp")
    p = husk.cmd("create", "--bundle", str(b), "--pid-file", str(pidfile), cid, timeout=10)
    refused(p, "pid file")
    assert not pidfile.exists()


def test_fifo_state_file_does_not_hang(husk):
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    state = os.path.join(husk.root, cid, "state.json")
    saved = open(state, "rb").read()
    os.unlink(state)
    os.mkfifo(state)
    try:
        refused(husk.cmd("state", cid, timeout=10), "not a regular file")
    finally:
        os.unlink(state)
        with open(state, "wb") as f:
            f.write(saved)


def set_path(cfg, path, value):
    *parents, last = path
    for k in parents:
        cfg = cfg[k]
    cfg[last] = value


@pytest.mark.parametrize("where,shown", [
    (("process", "args", 0), ".process.args[0]"),
    (("root", "path"), ".root.path"),
    (("mounts", 1, "destination"), ".mounts[1].destination"),
    (("hostname",), ".hostname"),
    (("process", "env", 1), ".process.env[1]"),
])
def test_nul_in_strings_is_refused(husk, where, shown):
    """json.dumps writes NUL as \\u0000; C strings would end there and hide the tail."""
    original = {}

    def edit(c):
        v = c
        for k in where:
            v = v[k]
        original["v"] = v
        set_path(c, where, v + "\x00 --hidden-tail")
    cid, p, b = husk.create_edited(edit, args=("echo", "x"))
    refused(p, "config.json: " + shown + ": \\u0000 (a NUL character) is not allowed")
    husk.assert_no_leftovers(cid, b)


def test_nul_in_exec_process_is_refused(husk):
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    f = husk.tmp / "process.json"
    f.write_text(json.dumps({"args": ["echo\x00", "--rest"], "cwd": "/"}))
    p = husk.cmd("exec", "--process", str(f), cid)
    refused(p, "process.json: .args[0]: \\u0000")


def test_duplicate_keys_are_refused(husk):
    b, text = config_text(husk)
    # the second "args" is what Go (runc) would run; yajl alone kept the first
    write_config(b, text.replace('"args": ["true"]', '"args": ["true"], "args": ["sh", "-c", "exit 7"]', 1))
    cid, p = husk.create(b, check=False)
    refused(p, "config.json: .process.args: duplicate key")
    husk.assert_no_leftovers(cid, b)


def test_duplicate_keys_in_resources_are_refused(husk):
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    f = husk.tmp / "resources.json"
    f.write_text('{"pids": {"limit": 10, "limit": 20}}')
    refused(husk.cmd("update", "--resources", str(f), cid), "resources: .linux.resources.pids.limit: duplicate key")


def test_nul_byte_in_file_is_refused(husk):
    b, text = config_text(husk)
    (b / "config.json").write_bytes(text.encode() + b"\x00trailing")
    cid, p = husk.create(b, check=False)
    refused(p, "config.json: invalid JSON: a NUL byte at offset")


@pytest.mark.parametrize("cmd", ["state", "kill", "delete", "create"])
def test_id_with_newline_is_quoted(husk, cmd):
    bad = "a\nb\x1b[31m"
    args = ["create", "--bundle", str(husk.tmp)] if cmd == "create" else [cmd]
    p = husk.cmd(*args, bad)
    refused(p, 'invalid container id "a\\nb\\u001b[31m"')
    assert "\x1b" not in p.stderr


def test_huge_array_is_parsed_in_linear_time(husk):
    """5M elements: quadratic growth made this minutes (1M: 7 s, 3M: 32 s); bench has the timings."""
    b, text = config_text(husk)
    write_config(b, text[:-1] + ', "x-huge": [' + ",".join(["0"] * 5000000) + "]}")
    cid = husk.new_id()
    p = husk.cmd("create", "--bundle", str(b), cid, timeout=60)
    assert p.returncode == 0, p.stderr
    # the size lives on in the saved config: the commands that read it are linear too
    assert husk.status(cid) == "created"
    husk.cmd("delete", "--force", cid, check=True, timeout=60)
