"""/dev/console (CVE-2025-52565). `exec -t` used to bind its pty on /dev/console inside the
running container, as root with every capability: a /dev/console the container planted as a
symlink carried the bind onto the file it names, a FIFO hung `exec -t`, and a second `exec -t`
stacked another mount. exec now mounts nothing; the init binds its pty on a file husk made."""
import os
import subprocess
import uuid

from conftest import accept_fd


def read_all(fd):
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(fd)
    return out.decode(errors="replace").replace("\r", "")


def exec_tty(husk, cid, *args, timeout=10):
    sock = str(husk.tmp / f"c-{uuid.uuid4().hex[:6]}.sock")
    got = {}
    t = accept_fd(sock, got, timeout=timeout)
    try:
        p = husk.cmd("exec", "-t", "--console-socket", sock, cid, *args, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ""
    t.join(timeout)
    return p, read_all(got["fd"]) if got.get("fd", -1) >= 0 else ""


def running(husk, edit=None):
    b = husk.bundle(["sleep", "100"], edit=edit)
    cid, _ = husk.create(b)
    husk.cmd("start", cid, check=True)
    return cid, b


def test_exec_tty_does_not_follow_planted_console(husk):
    cid, b = running(husk)
    husk.cmd("exec", cid, "ln", "-sfn", "/etc/passwd", "/dev/console", check=True)
    p, out = exec_tty(husk, cid, "tty", timeout=5)
    # HOME given and no user names looked up: reading a pty at /etc/passwd would block
    check = husk.cmd("exec", "-e", "HOME=/", cid, "sh", "-c",
                     "stat -c %F /etc/passwd; grep -c /etc/passwd /proc/self/mountinfo; true", check=True)
    assert check.stdout.splitlines() == ["regular file", "0"], "the pty was mounted over the container's /etc/passwd"
    assert p is not None and p.returncode == 0, p and p.stderr
    assert "/dev/pts/" in out


def test_exec_tty_with_fifo_console_does_not_hang(husk):
    cid, b = running(husk)
    husk.cmd("exec", cid, "sh", "-c", "rm -f /dev/console; mkfifo /dev/console", check=True)
    p, out = exec_tty(husk, cid, "tty", timeout=8)
    assert p is not None, "exec -t hung on a FIFO at /dev/console"
    assert p.returncode == 0 and "/dev/pts/" in out, p.stderr


def test_repeated_exec_tty(husk):
    cid, b = running(husk)
    for i in range(3):
        p, out = exec_tty(husk, cid, "sh", "-c", "tty; grep -c /dev/console /proc/self/mountinfo; true")
        assert p is not None and p.returncode == 0, (i, p and p.stderr)
        lines = out.split()
        assert lines[0].startswith("/dev/pts/"), out
        # nothing was ever mounted on /dev/console: the init had no terminal
        assert lines[1] == "0", f"exec -t #{i + 1} mounted on /dev/console"


def test_init_console_bind_does_not_follow_symlink_on_shared_dev(husk, tmp_path):
    # a /dev shared with the host, where /dev/console is a symlink to a decoy file
    shdev = tmp_path / "shdev"
    shdev.mkdir()
    vol = tmp_path / "vol"
    vol.mkdir()
    decoy = vol / "file"
    decoy.write_text("decoy\n")
    os.symlink("/vol/file", shdev / "console")

    def edit(c):
        c["process"]["terminal"] = True
        c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/dev"]
        c["mounts"].insert(1, {"destination": "/dev", "type": "bind", "source": str(shdev), "options": ["rbind"]})
        c["mounts"].append({"destination": "/vol", "type": "bind", "source": str(vol), "options": ["rbind"]})
    b = husk.bundle(["sleep", "100"], edit=edit)
    sock = str(tmp_path / "init.sock")
    got = {}
    t = accept_fd(sock, got)
    cid = husk.new_id()
    p = husk.cmd("create", "--bundle", str(b), "--console-socket", sock, cid, check=True)
    t.join(5)
    husk.cmd("start", cid, check=True)
    check = husk.cmd("exec", cid, "stat", "-c", "%F", "/vol/file", "/dev/console", check=True)
    assert check.stdout.splitlines() == ["regular file", "character special file"], \
        "the pty went on the decoy, not on /dev/console"
    assert decoy.read_text() == "decoy\n"
    os.close(got["fd"])
