"""The exec trampoline (CVE-2019-5736): every container program is exec'd by a tiny sealed
copy of src/trampoline, never by husk's binary; the program sees nothing of it."""
import os
import shutil


def seccomp_denying(*names):
    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                 "syscalls": [{"names": list(names), "action": "SCMP_ACT_ERRNO"}]}
    return edit


def test_program_sees_its_own_exe_and_no_extra_fd(husk):
    b = husk.bundle(["sh", "-c", "readlink /proc/self/exe; readlink /proc/$$/exe; ls /proc/self/fd"])
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["/bin/busybox", "/bin/busybox", "0", "1", "2", "3"]


def test_failed_exec_after_create_is_reported(husk):
    # found at create, not exec'able at start: the trampoline's execve fails
    b = husk.bundle(["/bin/bad"])
    (b / "rootfs" / "bin" / "bad").write_text("#!/no/such/interpreter\n")
    os.chmod(b / "rootfs" / "bin" / "bad", 0o755)
    cid, _ = husk.create(b)
    p = husk.cmd("start", cid)
    assert p.returncode == 1 and 'exec: "/bin/bad": no such file or directory' in p.stderr, p.stderr
    b2 = husk.bundle(["sleep", "100"])
    cid, p = husk.run(b2, "--detach")
    assert p.returncode == 0, p.stderr
    shutil.copy2(b / "rootfs" / "bin" / "bad", b2 / "rootfs" / "bin" / "bad")
    p = husk.cmd("exec", cid, "/bin/bad")
    assert p.returncode == 1 and 'exec: "/bin/bad": no such file or directory' in p.stderr, p.stderr


def test_seccomp_denying_execve_only(husk):
    # the trampoline's execve is refused: the hint names the filter, as before
    b = husk.bundle(["true"], edit=seccomp_denying("execve"))
    cid, _ = husk.create(b)
    p = husk.cmd("start", cid)
    assert p.returncode == 1, p.stderr
    assert 'linux.seccomp may block execve: exec: "true": operation not permitted' in p.stderr, p.stderr


def test_seccomp_denying_execveat_is_named(husk):
    b = husk.bundle(["true"], edit=seccomp_denying("execveat"))
    cid, _ = husk.create(b)
    p = husk.cmd("start", cid)
    assert p.returncode == 1, p.stderr
    assert "linux.seccomp may block execveat, which husk's exec trampoline needs" in p.stderr, p.stderr


def test_re_running_the_trampoline_does_nothing(husk):
    # the program `#!/proc/self/exe` reaches the trampoline, which refuses to run, for the
    # init (run) and for exec alike
    b = husk.bundle(["/bin/s", "x"])
    (b / "rootfs" / "bin" / "s").write_text("#!/proc/self/exe --log=/tmp/x\n")
    os.chmod(b / "rootfs" / "bin" / "s", 0o755)
    cid, p = husk.run(b)
    assert p.returncode == 127 and "not a program to run" in p.stderr, p.stderr
    b2 = husk.bundle(["sleep", "100"])
    shutil.copy2(b / "rootfs" / "bin" / "s", b2 / "rootfs" / "bin" / "s")
    cid, p = husk.run(b2, "--detach")
    assert p.returncode == 0, p.stderr
    p = husk.cmd("exec", cid, "/bin/s")
    assert p.returncode == 127 and "not a program to run" in p.stderr, p.stderr
    assert not os.path.exists(b2 / "rootfs" / "tmp" / "x")   # husk never ran


def test_cap_sys_ptrace_runs_from_a_sealed_copy(husk):
    # such a config's init (and exec) run from a sealed memfd copy of husk, not its binary
    def edit(c):
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k].append("CAP_SYS_PTRACE")
    b = husk.bundle(["sleep", "100"], edit=edit)
    cid, _ = husk.create(b)
    p = husk.cmd("exec", cid, "readlink", "/proc/1/exe")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "/memfd:husk (deleted)"
    husk.cmd("start", cid, check=True)
    p = husk.cmd("exec", cid, "readlink", "/proc/1/exe")
    assert p.stdout.strip() == "/bin/busybox"


def test_exec_granting_cap_sys_ptrace(husk):
    # the init of a config without the capability waits as husk's binary: no such exec then
    b = husk.bundle(["sleep", "100"])
    cid, _ = husk.create(b)
    p = husk.cmd("exec", "--cap", "CAP_SYS_PTRACE", cid, "readlink", "/proc/1/exe")
    assert p.returncode == 1 and "CAP_SYS_PTRACE" in p.stderr and "start it first" in p.stderr, p.stderr
    assert p.stdout == ""
    husk.cmd("start", cid, check=True)
    p = husk.cmd("exec", "--cap", "CAP_SYS_PTRACE", cid, "readlink", "/proc/1/exe")
    assert p.returncode == 0 and p.stdout.strip() == "/bin/busybox", p.stderr
    # from then on every exec of this container runs from a sealed copy
    p = husk.cmd("exec", "-d", "--pid-file", str(husk.tmp / "ep"), cid, "sleep", "100")
    assert p.returncode == 0, p.stderr
    assert os.path.exists(os.path.join(husk.root, cid, "ptrace"))


def test_host_root_container_runs_husk_itself(husk):
    # all capabilities (no capabilities section, like --privileged) are the host's root
    # already: no sealed copy, whose ~0.8 ms would protect nothing
    def edit(c):
        del c["process"]["capabilities"]
    b = husk.bundle(["sleep", "100"], edit=edit)
    cid, _ = husk.create(b)
    p = husk.cmd("exec", cid, "readlink", "/proc/1/exe")
    assert p.returncode == 0 and p.stdout.strip() == os.path.realpath(husk.binary), p.stderr


DOCKER_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
               "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
               "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def caps_of(out):
    return {k: int(v, 16) for k, v in (l.split(":\t") for l in out.splitlines() if l.startswith("Cap"))}


def root_only_program(b):
    # a 0700 root program in a 0700 root directory: only CAP_DAC_OVERRIDE reaches it
    d = b / "rootfs" / "root"
    d.mkdir(exist_ok=True)
    shutil.copy2(b / "rootfs" / "bin" / "busybox", d / "sh")
    os.chmod(d / "sh", 0o700)
    os.chmod(d, 0o700)


def user_with_caps(ambient=()):
    def edit(c):
        c["process"]["user"] = {"uid": 1000, "gid": 1000}
        caps = c["process"]["capabilities"]
        for k in ("bounding", "effective", "permitted"):
            caps[k] = list(DOCKER_CAPS)
        caps["inheritable"] = list(ambient)
        caps["ambient"] = list(ambient)
    return edit


def test_user_program_execve_checked_with_its_capabilities(husk):
    # Engines give an exec'd non-root process capabilities up to its execve (Docker's 14): as
    # with runc, that execve is checked with them (a 0700 root program runs), and the program
    # then holds exactly the sets an execve as that user gives: nothing the trampoline's hop
    # needed stays raised (no inheritable, no ambient, so no capabilities at all).
    b = husk.bundle(["/root/sh", "-c", "grep ^Cap /proc/self/status"], edit=user_with_caps())
    root_only_program(b)
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    caps = caps_of(p.stdout)
    assert caps["CapInh"] == 0 and caps["CapAmb"] == 0, p.stdout
    assert caps["CapPrm"] == 0 and caps["CapEff"] == 0, p.stdout
    # the same through exec into a running container
    b2 = husk.bundle(["sleep", "100"], edit=user_with_caps())
    root_only_program(b2)
    cid, p = husk.run(b2, "--detach")
    assert p.returncode == 0, p.stderr
    p = husk.cmd("exec", cid, "/root/sh", "-c", "grep ^Cap /proc/self/status")
    assert p.returncode == 0, p.stderr
    assert caps_of(p.stdout)["CapAmb"] == 0 and caps_of(p.stdout)["CapEff"] == 0, p.stdout


def test_configured_ambient_capabilities_survive_the_hop_unchanged(husk):
    b = husk.bundle(["/root/sh", "-c", "grep ^Cap /proc/self/status"],
                    edit=user_with_caps(ambient=["CAP_NET_BIND_SERVICE"]))
    root_only_program(b)
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    bit = 1 << 10   # CAP_NET_BIND_SERVICE
    caps = caps_of(p.stdout)
    assert caps == {"CapInh": bit, "CapPrm": bit, "CapEff": bit, "CapBnd": caps["CapBnd"], "CapAmb": bit}, p.stdout


def test_carried_capabilities_that_cannot_be_restored_stop_the_exec(husk):
    # With noNewPrivileges the filter is loaded after the user switch, so it also covers the
    # trampoline's capset: the program must not start with the hop's ambient caps left raised.
    def edit(c):
        user_with_caps()(c)
        c["process"]["noNewPrivileges"] = True
        seccomp_denying("capset")(c)
    b = husk.bundle(["/root/sh", "-c", "grep ^CapAmb /proc/self/status"], edit=edit)
    root_only_program(b)
    cid, _ = husk.create(b)
    p = husk.cmd("start", cid)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "restore the capabilities carried across husk's exec trampoline" in p.stderr, p.stderr
    assert "CapAmb" not in p.stdout


def test_profile_older_than_faccessat2_still_runs(husk):
    # Seccomp profiles from before faccessat2 (runtime-tools' default) make it EPERM: the
    # lookup falls back to access(2) rather than fail the container.
    def edit(c):
        c["process"]["noNewPrivileges"] = False   # the filter is loaded before the lookup
        seccomp_denying("faccessat2")(c)
    b = husk.bundle(["true"], edit=edit)
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
