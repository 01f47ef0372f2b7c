"""fd leaks into the container (the CVE-2024-21626 class): a directory fd of husk's (its state
directory above all) that reaches the container's process is a way onto the host's filesystem
through /proc/self/fd/N, as a cwd or as a path. Only the caller's fds may be handed on."""
import os
import signal
import subprocess
import time

import pytest

from conftest import HUSK


def cwd_bundle(husk, fd, args=("sh", "-c", "ls -a")):
    def edit(c):
        c["process"]["cwd"] = f"/proc/self/fd/{fd}"
    return husk.bundle(list(args), edit=edit)


def reached_the_host(p):
    # the state directory (config.json, state.json) or the state root seen from inside
    return p.returncode == 0 and ("state.json" in p.stdout or "config.json" in p.stdout)


def test_cwd_cannot_reach_a_host_fd(husk):
    # CVE-2024-21626: no fd of husk's is left for the cwd to go through, for the init ...
    for fd in range(3, 21):
        cid, p = husk.run(cwd_bundle(husk, fd))
        assert not reached_the_host(p), f"cwd /proc/self/fd/{fd}: {p.stdout}"
        assert p.returncode != 0 and f"/proc/self/fd/{fd}" in p.stderr
        husk.assert_no_leftovers(cid)
    # ... nor for exec's process
    cid, p = husk.run(husk.bundle(["sleep", "100"]), "--detach")
    assert p.returncode == 0, p.stderr
    for fd in range(3, 21):
        p = husk.cmd("exec", "--cwd", f"/proc/self/fd/{fd}", cid, "ls", "-a")
        assert not reached_the_host(p), f"exec --cwd /proc/self/fd/{fd}: {p.stdout}"
        assert p.returncode != 0 and f"/proc/self/fd/{fd}" in p.stderr


def test_preserve_fds_beyond_what_was_passed_is_refused(husk):
    # only 0-2 are passed: fds 3..8 would be whatever husk itself opened there
    runs = [(fd, husk.run(cwd_bundle(husk, fd), "--preserve-fds", "6")) for fd in range(3, 9)]
    cid, p = husk.run(husk.bundle(["sleep", "100"]), "--detach")
    assert p.returncode == 0, p.stderr
    execs = [(fd, husk.cmd("exec", "--preserve-fds", "10", "--cwd", f"/proc/self/fd/{fd}", cid, "ls", "-a"))
             for fd in range(3, 13)]
    for fd, (rcid, p) in runs:
        assert not reached_the_host(p), f"run: cwd /proc/self/fd/{fd}: {p.stdout}"
    for fd, p in execs:
        assert not reached_the_host(p), f"exec --cwd /proc/self/fd/{fd}: {p.stdout}"
    for fd, (rcid, p) in runs:
        assert p.returncode != 0 and "--preserve-fds 6" in p.stderr, p.stderr
        husk.assert_no_leftovers(rcid)
    for fd, p in execs:
        assert p.returncode != 0 and "--preserve-fds 10" in p.stderr, p.stderr


def test_preserve_fds_with_a_hole_is_refused(husk, tmp_path):
    f = tmp_path / "passed"
    f.write_text("x")
    fd = os.open(str(f), os.O_RDONLY)

    def place():   # fd 3 passed, fd 4 not
        os.dup2(fd, 3)
    try:
        runs = [subprocess.run([HUSK, "--root", husk.root, "run", "--preserve-fds", "6", "--bundle",
                                str(cwd_bundle(husk, n)), husk.new_id()], capture_output=True, text=True,
                               preexec_fn=place, close_fds=False, stdin=subprocess.DEVNULL, timeout=20)
                for n in range(4, 9)]
    finally:
        os.close(fd)
    for p in runs:
        assert not reached_the_host(p), p.stdout
    for p in runs:
        assert p.returncode != 0 and "fd 4 was not passed" in p.stderr, p.stderr


@pytest.mark.parametrize("listen_pid", [None, "1"])
def test_listen_fds_for_another_process_is_ignored(husk, listen_pid):
    env = dict(os.environ, LISTEN_FDS="6")
    env.pop("LISTEN_PID", None)
    if listen_pid:
        env["LISTEN_PID"] = listen_pid
    def run(b):
        return husk.cmd("run", "--bundle", str(b), husk.new_id(), env=env)
    runs = [(fd, run(cwd_bundle(husk, fd))) for fd in range(3, 9)]
    for fd, p in runs:
        assert not reached_the_host(p), f"cwd /proc/self/fd/{fd}: {p.stdout}"
    for fd, p in runs:
        assert p.returncode != 0
    # not handed on either: the container sees no socket activation
    p = run(husk.bundle(["sh", "-c", "echo [$LISTEN_FDS]; ls /proc/self/fd"]))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["[]", "0", "1", "2", "3"]   # 3: ls's own


def test_state_lock_stays_with_husk(husk):
    # with the state directory's fd in the preserved range, the waiting init held its lock:
    # start, state and delete hung behind it
    b = husk.bundle(["true"])
    cid = husk.new_id()
    p = husk.cmd("create", "--preserve-fds", "8", "--pid-file", str(b / "pid"), "--bundle", str(b), cid)
    try:
        s = husk.cmd("state", cid, timeout=5)
    except subprocess.TimeoutExpired:
        os.kill(int((b / "pid").read_text()), signal.SIGKILL)
        pytest.fail("`state` hung on the lock the container's init was handed")
    assert p.returncode != 0 and "--preserve-fds 8" in p.stderr, p.stderr
    assert s.returncode != 0
    husk.assert_no_leftovers(cid, b)


def test_passed_fds_still_reach_the_container_and_the_lock_does_not(husk, tmp_path):
    f = tmp_path / "passed"
    f.write_text("preserved\n")
    fd = os.open(str(f), os.O_RDONLY)

    def place():
        os.dup2(fd, 3)
        os.dup2(fd, 4)
    b = husk.bundle(["sh", "-c", "cat /proc/self/fd/4; ls /proc/self/fd"])
    cid = husk.new_id()
    out, err = open(tmp_path / "out", "w+"), open(tmp_path / "err", "w+")
    try:
        # files, not pipes: the init keeps its stdio
        p = subprocess.run([HUSK, "--root", husk.root, "create", "--preserve-fds", "2", "--bundle", str(b), cid],
                           stdout=out, stderr=err, preexec_fn=place, close_fds=False,
                           stdin=subprocess.DEVNULL, timeout=20)
        assert p.returncode == 0, open(tmp_path / "err").read()
        assert husk.status(cid) == "created"
        assert husk.cmd("start", cid, timeout=5).returncode == 0
        assert husk.wait_status(cid, "stopped")
        out.seek(0)
        assert out.read().split() == ["preserved", "0", "1", "2", "3", "4", "5"]   # 5: ls's own
    finally:
        os.close(fd)
        out.close()
        err.close()


def test_exec_setup_holds_no_host_fd(husk):
    """A process with CAP_SYS_PTRACE looks at exec's process while it sets up (it is in the
    container's pid namespace from its clone), through /proc/PID/fd. /etc/passwd made a FIFO
    holds it there: without HOME in its environment, exec reads /etc/passwd for it, which
    blocks until we write. (exec -t no longer opens /dev/console, the earlier hold.)"""
    def edit(c):
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k].append("CAP_SYS_PTRACE")
    cid, p = husk.run(husk.bundle(["sh", "-c", "rm /etc/passwd; mkfifo /etc/passwd; exec sleep 100"], edit=edit),
                      "--detach")
    assert p.returncode == 0, p.stderr
    from conftest import accept_fd
    sock = str(husk.tmp / "console.sock")
    got = {}
    accept_fd(sock, got, timeout=20)
    victim = subprocess.Popen([HUSK, "--root", husk.root, "exec", "-t", "--console-socket", sock, cid, "true"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    spy = r"""
    want="console""-socket"   # not in our own cmdline
    for i in $(seq 400); do
        for d in /proc/[0-9]*; do
            case "$(tr '\0' ' ' < $d/cmdline 2>/dev/null)" in *"$want"*) p=${d#/proc/};; esac
        done
        [ -n "$p" ] && break
        sleep 0.05
    done
    [ -n "$p" ] || { echo "no exec process"; exit 3; }
    echo "pid $p"
    echo "cwd $(readlink /proc/$p/cwd)"
    for f in /proc/$p/fd/*; do
        echo "fd ${f##*/} $(readlink $f)"
        ls -a $f/ 2>/dev/null | sed 's/^/  in: /'
    done
    echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd
    """
    try:
        # HOME given: the spy itself must not wait on /etc/passwd
        p = husk.cmd("exec", "-e", "HOME=/", cid, "sh", "-c", spy, timeout=30)
    finally:
        try:
            victim.wait(timeout=20)
        except subprocess.TimeoutExpired:
            victim.kill()
            victim.wait()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "pid " in p.stdout
    assert "state.json" not in p.stdout and "config.json" not in p.stdout, p.stdout
    assert " in: " not in p.stdout, f"a directory fd of the host:\n{p.stdout}"
    assert husk.root not in p.stdout and str(husk.tmp) not in p.stdout, p.stdout
    assert "cwd /\n" in p.stdout, p.stdout
    targets = [line.split(None, 2)[2] for line in p.stdout.splitlines() if line.startswith("fd ")]
    # and the sealed exec trampoline (CVE-2019-5736), which leads nowhere
    for t in targets:
        assert t.startswith(("socket:", "pipe:", "/dev/", "anon_inode:", "/memfd:husk-exec")), p.stdout


def test_closed_stdio_is_not_filled_by_husk(husk, tmp_path):
    # a caller that closed stdin: the first fd husk opened (its state directory) was the init's
    # fd 0 until its exec, a way out through cwd /proc/self/fd/0
    def run(b):
        with open(tmp_path / "out", "w+") as out:
            p = subprocess.run([HUSK, "--root", husk.root, "run", "--bundle", str(b), husk.new_id()], stdout=out,
                               stderr=subprocess.STDOUT, preexec_fn=lambda: os.close(0), timeout=20)
            out.seek(0)
            p.stdout = out.read()
        return p
    p = run(cwd_bundle(husk, 0))
    assert not reached_the_host(p), p.stdout
    assert p.returncode != 0 and "/proc/self/fd/0" in p.stdout, p.stdout
    p = run(husk.bundle(["readlink", "/proc/self/fd/0"]))
    assert p.returncode == 0 and p.stdout == "/dev/null\n", p.stdout


def test_init_in_a_joined_pid_namespace_holds_no_host_fd(husk, tmp_path):
    """A container joining another's pid namespace (a pod sharing one) is visible there from
    its clone: a process with CAP_SYS_PTRACE in the first looks at the second's init while a
    createContainer hook holds it in setup."""
    def spy_caps(c):
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k].append("CAP_SYS_PTRACE")
    cid, p = husk.run(husk.bundle(["sleep", "100"], edit=spy_caps), "--detach")
    assert p.returncode == 0, p.stderr
    first = husk.state(cid)["pid"]
    flag = tmp_path / "go-on"

    def joins(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]
        c["linux"]["namespaces"].append({"type": "pid", "path": f"/proc/{first}/ns/pid"})
        c["hooks"] = {"createContainer": [{"path": "/bin/sh", "args": [
            "sh", "-c", f"for i in $(seq 400); do [ -e {flag} ] && exit 0; sleep 0.05; done"]}]}
    b = husk.bundle(["true"], edit=joins)
    second = husk.new_id()
    creator = subprocess.Popen([HUSK, "--root", husk.root, "create", "--bundle", str(b), second],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spy = r"""
    want="cre""ate"   # husk's argv, not in our own
    for i in $(seq 400); do
        for d in /proc/[0-9]*; do
            case "$(tr '\0' ' ' < $d/cmdline 2>/dev/null)" in *" $want "*) p=${d#/proc/};; esac
        done
        [ -n "$p" ] && break
        sleep 0.05
    done
    [ -n "$p" ] || { echo "no init"; exit 3; }
    echo "pid $p"
    for f in /proc/$p/fd/*; do
        echo "fd ${f##*/} $(readlink $f)"
        ls -a $f/ 2>/dev/null | sed 's/^/  in: /'
    done
    """
    try:
        p = husk.cmd("exec", cid, "sh", "-c", spy, timeout=30)
    finally:
        flag.write_text("")
        try:
            creator.wait(timeout=20)
        except subprocess.TimeoutExpired:
            creator.kill()
            creator.wait()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "state.json" not in p.stdout and " in: " not in p.stdout, p.stdout
    assert husk.root not in p.stdout, p.stdout
