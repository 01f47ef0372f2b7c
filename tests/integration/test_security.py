"""Process security: capability sets, seccomp actions and argument filters, rlimits."""
import pytest

from test_container import output

CAP = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7,
       "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18}


def mask(*names):
    return format(sum(1 << CAP[n] for n in names), "016x")


def status(out):
    return {line.split(":")[0]: line.split()[1] for line in out.splitlines() if line.startswith("Cap")}


@pytest.mark.parametrize("uid", [0, 1000])
def test_capability_sets(husk, uid):
    def edit(c):
        c["process"]["user"] = {"uid": uid, "gid": uid}
        c["process"]["capabilities"] = {
            "bounding": ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
            "permitted": ["CAP_KILL", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_KILL", "CAP_NET_RAW"],
            "inheritable": ["CAP_NET_BIND_SERVICE"],
            "ambient": ["CAP_NET_BIND_SERVICE"],
        }
    st = status(output(husk, ["grep", "^Cap", "/proc/self/status"], edit))
    # grep itself is the program: ambient caps become its permitted and effective ones
    assert st["CapBnd"] == mask("CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN", "CAP_NET_BIND_SERVICE")
    assert st["CapInh"] == mask("CAP_NET_BIND_SERVICE")
    assert st["CapAmb"] == mask("CAP_NET_BIND_SERVICE")
    if uid == 0:
        # exec as root with no_new_privs: the configured permitted set, all effective
        assert st["CapPrm"] == mask("CAP_KILL", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE")
        assert st["CapEff"] == st["CapPrm"]
    else:
        assert st["CapPrm"] == mask("CAP_NET_BIND_SERVICE") and st["CapEff"] == mask("CAP_NET_BIND_SERVICE")


def test_unknown_capability_is_named(husk):
    def edit(c):
        c["process"]["capabilities"]["bounding"].append("CAP_BOGUS")
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and 'unknown capability "CAP_BOGUS"' in p.stderr


def test_seccomp_errno_and_argument_filter(husk):
    def edit(c):
        c["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28},
                # personality(0xffffffff) (a query) is allowed, anything else fails with EPERM
                {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                 "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_NE"}]},
                {"names": ["no_such_syscall_here"], "action": "SCMP_ACT_ERRNO"},
            ],
        }
    out = output(husk, ["sh", "-c", "mkdir /tmp/d 2>&1; setarch i686 true 2>&1; echo setarch=$?; "
                                    "uname -m"], edit)
    assert "No space left on device" in out
    assert "setarch=1" in out or "Operation not permitted" in out
    assert "x86_64" in out


def test_seccomp_programs_cached_and_checked(husk):
    """The built program is kept beside the root and reused; a damaged entry is rebuilt."""
    import glob
    import os

    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                                               "errnoRet": 28}]}
    b = husk.bundle(["sh", "-c", "mkdir /tmp/d 2>&1; true"], edit=edit)
    cache = husk.root + "-cache/seccomp"
    for round in range(3):
        cid, p = husk.run(b)
        assert p.returncode == 0, p.stderr
        assert "No space left on device" in p.stdout, (round, p.stdout)
        files = glob.glob(cache + "/*")
        assert len(files) == 1, files
        data = open(files[0], "rb").read()
        if round == 0:
            first = data
        else:
            assert data == first   # round 2: rebuilt and rewritten after the damage
        if round == 1:
            # flip a byte of the program: the checksum turns the hit into a rebuild
            with open(files[0], "r+b") as f:
                f.seek(-3, os.SEEK_END)
                byte = f.read(1)
                f.seek(-3, os.SEEK_END)
                f.write(bytes([byte[0] ^ 0xff]))
    # a different profile is a different entry; `list` never shows the cache
    def edit2(c):
        edit(c)
        c["linux"]["seccomp"]["syscalls"][0]["errnoRet"] = 1
    cid, p = husk.run(husk.bundle(["sh", "-c", "mkdir /tmp/d 2>&1; true"], edit=edit2))
    assert "Operation not permitted" in p.stdout
    assert len(glob.glob(cache + "/*")) == 2
    assert husk.cmd("list", "-q", check=True).stdout.strip() == ""
    assert not os.path.exists(os.path.join(husk.root, ".seccomp"))


def test_seccomp_kill_process(husk):
    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                 "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_KILL_PROCESS"}]}
    cid, p = husk.run(husk.bundle(["sh", "-c", "pwd"], edit=edit))
    assert p.returncode == 128 + 31  # SIGSYS


def test_rlimits_visible(husk):
    def edit(c):
        c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
                                   {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
                                   {"type": "RLIMIT_NPROC", "soft": 1000, "hard": 1000}]
    out = output(husk, ["sh", "-c", "ulimit -Sn; ulimit -Hn; ulimit -c; ulimit -u"], edit)
    assert out.split() == ["100", "200", "0", "1000"]


def test_apparmor_refused_without_apparmor(husk):
    import os
    if os.path.exists("/sys/kernel/security/apparmor"):
        pytest.skip("AppArmor is enabled here")

    def edit(c):
        c["process"]["apparmorProfile"] = "acme"
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "AppArmor is not enabled" in p.stderr


def test_seccomp_blocking_execve_is_named(husk):
    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                 "syscalls": [{"names": ["execve", "execveat"], "action": "SCMP_ACT_ERRNO"}]}
    b = husk.bundle(["true"], edit=edit)
    cid, _ = husk.create(b)
    p = husk.cmd("start", cid)
    assert p.returncode == 1 and "linux.seccomp may block execve" in p.stderr


def test_no_pivot(husk):
    cid, p = husk.run(husk.bundle(["sh", "-c", "ls /; cat /proc/self/mountinfo | wc -l"]), "--no-pivot")
    assert p.returncode == 0, p.stderr
    assert "bin" in p.stdout.split()
