"""Foreground stdio: the container must not reach more of the caller's files than the fds it
was handed. Reopening /proc/self/fd/N opens the file itself again, with any mode the file's
permissions allow: stdout opened for appending becomes readable and writable from offset 0, a
directory on stdin is a path onto the host. husk relays such stdio (files, directories, block
devices) through pipes, as runc relays all of it in the foreground; pipes, sockets and character
devices are handed on as they are (reopening them gives nothing more)."""
import os
import subprocess

import pytest

from conftest import HUSK

SECRET = "SECRET-decoy-content\n"


def husk_with(husk, args, stdin, stdout, stderr=subprocess.DEVNULL):
    return subprocess.run([HUSK, "--root", husk.root, *args], stdin=stdin, stdout=stdout, stderr=stderr,
                          timeout=30)


def foreground(husk, mode, script, **kw):
    """`run` or `exec` of sh -c script; husk.rootfs is the container's rootfs."""
    if mode == "run":
        b = husk.bundle(["sh", "-c", script])
        husk.rootfs = b / "rootfs"
        return husk_with(husk, ["run", "--bundle", str(b), husk.new_id()], **kw)
    b = husk.bundle(["sleep", "100"])
    husk.rootfs = b / "rootfs"
    cid, p = husk.run(b, "--detach")
    assert p.returncode == 0, p.stderr
    return husk_with(husk, ["exec", cid, "sh", "-c", script], **kw)


@pytest.mark.parametrize("mode", ["run", "exec"])
def test_stdout_file_cannot_be_reopened_for_more(husk, tmp_path, mode):
    decoy = tmp_path / "decoy-stdout"
    decoy.write_text(SECRET)
    out = os.open(str(decoy), os.O_WRONLY | os.O_APPEND)
    # read the caller's file back through the shell's stdout, then write over its start
    script = "cat /proc/$$/fd/1 > /tmp/leak & sleep 0.5; kill $! 2>/dev/null; wait $!; printf OVERWRITE 1<>/proc/self/fd/1; echo; echo done"
    try:
        p = foreground(husk, mode, script, stdin=subprocess.DEVNULL, stdout=out)
    finally:
        os.close(out)
    leak = husk.rootfs / "tmp" / "leak"
    leaked = leak.read_text() if leak.exists() else "(none)"
    assert SECRET.strip() not in leaked, f"the container read the caller's stdout file: {leaked!r}"
    text = decoy.read_text()
    assert text.startswith(SECRET), f"the container wrote over the caller's file: {text!r}"
    # what it wrote to stdout still arrives, appended
    assert p.returncode == 0 and text.endswith("OVERWRITE\ndone\n"), text


def test_stdin_file_cannot_be_written(husk, tmp_path):
    decoy = tmp_path / "decoy-stdin"
    decoy.write_text(SECRET)
    with open(decoy) as inp, open(tmp_path / "out", "w+") as out:
        p = foreground(husk, "run", "echo PWNED >> /proc/self/fd/0; cat", stdin=inp, stdout=out)
        out.seek(0)
        got = out.read()
    assert decoy.read_text() == SECRET, "the container wrote to the caller's stdin file"
    assert p.returncode == 0 and SECRET in got   # the input itself is delivered


@pytest.mark.parametrize("mode", ["run", "exec"])
def test_stdin_directory_is_no_path_to_the_host(husk, tmp_path, mode):
    hostdir = tmp_path / "hostdir"
    hostdir.mkdir()
    (hostdir / "host-marker").write_text("x")
    fd = os.open(str(hostdir), os.O_RDONLY | os.O_DIRECTORY)
    try:
        with open(tmp_path / "out", "w+") as out:
            p = foreground(husk, mode, "ls -a /proc/self/fd/0/; cd /proc/self/fd/0 && ls -a ..", stdin=fd,
                           stdout=out, stderr=subprocess.STDOUT)
            out.seek(0)
            got = out.read()
    finally:
        os.close(fd)
    assert "host-marker" not in got and "hostdir" not in got, got


def test_stdin_directory_as_cwd(husk, tmp_path):
    # CVE-2024-21626 through stdin: the init's cwd /proc/self/fd/0 is resolved in the container
    hostdir = tmp_path / "hostdir"
    hostdir.mkdir()
    (hostdir / "host-marker").write_text("x")

    def edit(c):
        c["process"]["cwd"] = "/proc/self/fd/0"
    b = husk.bundle(["ls", "-a"], edit=edit)
    fd = os.open(str(hostdir), os.O_RDONLY | os.O_DIRECTORY)
    try:
        with open(tmp_path / "out", "w+") as out:
            p = husk_with(husk, ["run", "--bundle", str(b), husk.new_id()], stdin=fd, stdout=out,
                          stderr=subprocess.STDOUT)
            out.seek(0)
            got = out.read()
    finally:
        os.close(fd)
    assert "host-marker" not in got, got
    assert p.returncode != 0


def test_stdio_still_flows_and_pipes_pass_through(husk, tmp_path):
    (tmp_path / "in").write_text("line one\nline two\n")
    with open(tmp_path / "in") as inp, open(tmp_path / "out", "w+") as out, open(tmp_path / "err", "w+") as err:
        p = foreground(husk, "run", "wc -l; echo to-err >&2; exit 5", stdin=inp, stdout=out, stderr=err)
        out.seek(0)
        err.seek(0)
        assert p.returncode == 5 and out.read().strip() == "2" and err.read() == "to-err\n"
    # a pipe is handed on as it is: its reopen is the same pipe
    b = husk.bundle(["readlink", "/proc/self/fd/1"])
    p = subprocess.run([HUSK, "--root", husk.root, "run", "--bundle", str(b), husk.new_id()],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout.startswith("pipe:"), p.stdout
