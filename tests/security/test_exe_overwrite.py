"""CVE-2019-5736: a container rewriting the runtime's binary through /proc/PID/exe. Each test
runs a static attacker (exe_attacker.c) in the container against the decoy copy of husk: it
grabs /proc/PID/exe of any husk process it can see and reopens it for writing once the
binary is no longer running."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import binary_intact

_HERE = os.path.dirname(os.path.abspath(__file__))
SECONDS = 4   # how long the attacker keeps trying


@pytest.fixture(scope="session")
def attacker(tmp_path_factory):
    out = tmp_path_factory.mktemp("attacker") / "attacker"
    subprocess.run(["cc", "-static", "-O1", "-o", str(out), os.path.join(_HERE, "exe_attacker.c")], check=True)
    return out


@pytest.fixture
def target(decoy):
    """The decoy, put back after a successful attack so that its cleanup (delete --force)
    runs husk and not the attacker's marker, leaving no container behind."""
    yield decoy
    if not binary_intact(decoy):
        fresh = decoy.binary + ".restored"
        with open(fresh, "wb") as f:
            f.write(decoy.original)
        os.chmod(fresh, 0o755)
        os.replace(fresh, decoy.binary)


def attack_bundle(decoy, attacker, args, edit=None):
    b = decoy.bundle(args, edit=edit)
    shutil.copy2(attacker, b / "rootfs" / "attacker")
    return b


def attacker_args(decoy, *extra):
    return ["/attacker", "--target", decoy.binary, "--log", "/tmp/attack.log", "--seconds", str(SECONDS), *extra]


def wait_log(bundle, word, timeout):
    """The attacker's log once it contains word (or the timeout passed)."""
    path = bundle / "rootfs" / "tmp" / "attack.log"
    end = time.time() + timeout
    text = ""
    while time.time() < end:
        text = path.read_text() if path.exists() else ""
        if word in text:
            break
        time.sleep(0.02)
    return text


def add_caps(*caps):
    def edit(c):
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k] += list(caps)
    return edit


def test_exec_of_proc_self_exe_script(target, attacker):
    decoy = target
    """The issue's attack: pid 1 turns /bin/date into `#!/proc/self/exe`; `exec c /bin/date`
    must not run husk in the container."""
    b = attack_bundle(decoy, attacker, attacker_args(decoy, "--script", "/bin/date", "--fifo", "/tmp/fifo"))
    cid, _ = decoy.create(b)
    decoy.cmd("start", cid, check=True)
    assert "ready" in wait_log(b, "ready", 5)
    decoy.cmd("exec", cid, "/bin/date", timeout=SECONDS + 10)
    log = wait_log(b, "done", SECONDS + 5)
    assert "WROTE" not in log, log
    assert binary_intact(decoy), log


def test_init_of_proc_self_exe_script(target, attacker):
    decoy = target
    """The same through the init: config.json's process is the `#!/proc/self/exe` script. In
    the host's pid namespace the attacker outlives the init it watches."""
    def edit(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]
    b = attack_bundle(decoy, attacker, ["/bin/date"], edit=edit)
    os.unlink(b / "rootfs" / "bin" / "date")
    (b / "rootfs" / "bin" / "date").write_text("#!/proc/self/exe --log=/tmp/fifo\n")
    os.chmod(b / "rootfs" / "bin" / "date", 0o755)
    os.mkfifo(b / "rootfs" / "tmp" / "fifo")
    cid, _ = decoy.create(b)
    pid = int((b / "pid").read_text())
    decoy.cmd("exec", "-d", cid, *attacker_args(decoy, "--pid", str(pid), "--fifo", "/tmp/fifo"), check=True)
    assert "ready" in wait_log(b, "ready", 5)
    decoy.cmd("start", cid, timeout=SECONDS + 10)
    log = wait_log(b, "done", SECONDS + 5)
    assert "WROTE" not in log, log
    assert binary_intact(decoy), log


def test_created_init_exe_with_cap_sys_ptrace(target, attacker):
    decoy = target
    """CAP_SYS_PTRACE opens /proc/1/exe of the created init despite PR_SET_DUMPABLE 0; once
    `start` has exec'd the program, that handle must not reopen husk's binary for writing."""
    b = attack_bundle(decoy, attacker, ["sleep", "100"], edit=add_caps("CAP_SYS_PTRACE"))
    cid, _ = decoy.create(b)
    decoy.cmd("exec", "-d", cid, *attacker_args(decoy, "--pid", "1"), check=True)
    log = wait_log(b, "grabbed", 5)
    assert "grabbed" in log, log   # the attack did get its handle on the waiting init
    decoy.cmd("start", cid, check=True)
    log = wait_log(b, "done", SECONDS + 5)
    assert "WROTE" not in log, log
    assert binary_intact(decoy), log
