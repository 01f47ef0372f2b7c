"""process.terminal: console socket (engines) and the foreground relay (`husk run` in a shell)."""
import os
import pty
import subprocess

from conftest import HUSK, accept_fd


def tty_bundle(husk, args):
    def edit(c):
        c["process"]["terminal"] = True
        c["process"]["consoleSize"] = {"height": 33, "width": 101}
    return husk.bundle(args, edit=edit)


def test_console_socket_receives_pty_master(husk, tmp_path):
    path = str(tmp_path / "console.sock")
    got = {}
    t = accept_fd(path, got)
    b = tty_bundle(husk, ["sh", "-c", "tty; stty size; ls -l /dev/console | cut -c1"])
    cid = husk.new_id()
    p = husk.cmd("create", "--bundle", str(b), "--console-socket", path, cid, check=True)
    t.join(5)
    assert "fd" in got
    husk.cmd("start", cid, check=True)
    out = b""
    while True:
        try:
            chunk = os.read(got["fd"], 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    text = out.decode().replace("\r", "")
    lines = text.split()
    assert lines[0].startswith("/dev/pts/")
    assert lines[1:3] == ["33", "101"]
    assert lines[3] == "c"


def test_foreground_run_relays_the_terminal(husk):
    b = tty_bundle(husk, ["sh", "-c", "tty; exit 5"])
    master, slave = pty.openpty()
    cid = husk.new_id()
    p = subprocess.Popen([HUSK, "--root", husk.root, "run", "--bundle", str(b), cid],
                         stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    assert p.wait(timeout=10) == 5
    assert b"/dev/pts/" in out


def test_terminal_without_socket_when_detached_is_an_error(husk):
    b = tty_bundle(husk, ["true"])
    cid, p = husk.run(b, "--detach")
    assert p.returncode == 1 and "console-socket" in p.stderr
