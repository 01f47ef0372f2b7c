"""podman (+ conmon) with husk or runc as its OCI runtime, private storage, cgroupfs, no network."""
import json
import os
import subprocess
import tarfile

import pytest

from conftest import (CONSOLE_PROBE, DEVICE_PROBE, EXEC_CASES, EXEC_SETUP, EXIT_CASES, HUSK, RUNC, console_mounts,
                      user_options as options, in_tty, mounted, need, own_cgroup, shared_tmpfs, unmount_all)

IMG = "localhost/husk-busybox"


@pytest.fixture(scope="module")
def podman(tmp_path_factory, rootfs):
    """podman bound to a runtime: podman(rt)(*args, check=True, timeout=120, tty=False)."""
    need("podman", "conmon")
    d = tmp_path_factory.mktemp("podman")
    conf = d / "containers.conf"
    # podman passes --log-format=json only to runtimes it knows; it asks for rlimits this
    # host cannot raise without CAP_SYS_RESOURCE (ENGINES.md)
    conf.write_text(f"""[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "husk"
runtime_supports_json = ["husk", "runc"]
cgroup_manager = "cgroupfs"
events_logger = "file"
[engine.runtimes]
husk = ["{HUSK}"]
runc = ["{RUNC}"]
""")
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    parent = own_cgroup() + "/husk-podman-test"
    base = ["podman", "--root", str(d / "root"), "--runroot", str(d / "runroot"), "--tmpdir", str(d / "tmp"),
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]

    def bind(rt):
        def pm(*args, check=True, timeout=120, tty=False):
            if args and args[0] == "run":
                args = ("run", "--cgroup-parent", parent, *args[1:])
            argv = [*base, "--runtime", rt, *args]
            if tty:
                # a real terminal for -t, as a user's shell would have (ENGINES.md)
                return in_tty(argv, env=env, timeout=timeout)
            p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout,
                               stdin=subprocess.DEVNULL)
            if check and p.returncode != 0:
                raise AssertionError(f"podman {' '.join(args)}: {p.returncode}\n{p.stdout}\n{p.stderr}")
            return p
        return pm
    tar = d / "rootfs.tar"
    with tarfile.open(tar, "w") as t:
        for name in sorted(os.listdir(rootfs)):
            t.add(os.path.join(rootfs, name), arcname=name)
    bind("husk")("import", str(tar), IMG)
    yield bind
    bind("husk")("rm", "-af", check=False)


@pytest.fixture
def pm(podman, runtime):
    return podman(runtime)


def test_run_rm(pm):
    p = pm("run", "--rm", "--network", "none", IMG, "sh", "-c", "echo hi; id -u")
    assert p.stdout.split() == ["hi", "0"]


def test_exit_codes_and_errors(pm):
    p = pm("run", "--rm", "--network", "none", IMG, "sh", "-c", "exit 4", check=False)
    assert p.returncode == 4
    p = pm("run", "--rm", "--network", "none", IMG, "/nonexistent", check=False)
    assert p.returncode == 127
    assert "/nonexistent" in p.stderr


def test_detached_exec_pause_stop_rm(pm):
    pm("run", "-d", "--name", "pd", "--network", "none", IMG, "sleep", "300")
    p = pm("exec", "pd", "sh", "-c", "echo from-exec; cat /proc/1/cmdline | tr '\\0' ' '")
    assert "from-exec" in p.stdout and "sleep 300" in p.stdout
    pm("pause", "pd")
    assert pm("inspect", "-f", "{{.State.Status}}", "pd").stdout.strip() == "paused"
    pm("unpause", "pd")
    assert pm("inspect", "-f", "{{.State.Status}}", "pd").stdout.strip() == "running"
    pm("stop", "-t", "1", "pd")
    pm("rm", "pd")
    assert "pd" not in pm("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_terminals(pm):
    p = pm("run", "--rm", "-t", "--network", "none", IMG, "sh", "-c", "tty", tty=True)
    assert "/dev/pts/0" in p.stdout


def exec_tty_three_times(pm, name):
    """`podman exec -t` again and again into one container with a terminal: each gets a pty,
    none stacks a mount on /dev/console (the init's is the only one)."""
    init = console_mounts(pm("exec", name, "sh", "-c", CONSOLE_PROBE).stdout)
    assert init == [1]
    for i in range(3):
        p = pm("exec", "-t", name, "sh", "-c", CONSOLE_PROBE, tty=True)
        assert p.returncode == 0, f"exec {i}: {p.stdout}{p.stderr}"
        assert "/dev/pts/" in p.stdout, p.stdout
        assert console_mounts(p.stdout) == init, p.stdout
    assert console_mounts(pm("exec", name, "sh", "-c", CONSOLE_PROBE).stdout) == init


def test_exec_tty_three_times(pm):
    pm("run", "-d", "-t", "--name", "pt", "--network", "none", IMG, "sleep", "300")
    try:
        exec_tty_three_times(pm, "pt")
    finally:
        pm("rm", "-f", "-t", "0", "pt", check=False)


# What podman 4.3 returns when the runtime cannot start the program, runc's codes: libpod's
# getOCIRuntimeError reads the runtime's error text in any case, "permission denied" or
# "operation not permitted" 126, then "executable file not found in" or "no such file or
# directory" 127.
PODMAN_EXIT_CODES = {
    "run": {"missing command": 127, "missing file": 127, "directory": 126, "not executable": 126,
            "permission denied": 126, "inaccessible cwd": 0},
    "exec": {"missing command": 127, "missing file": 127, "directory": 126, "not executable": 126,
             "permission denied": 126, "inaccessible cwd": 0},
}


def test_exit_code_table(pm):
    got = {"run": {}, "exec": {}}
    for case, (opts, args) in EXIT_CASES.items():
        got["run"][case] = pm("run", "--rm", "--network", "none", *options(opts), IMG, *args, check=False).returncode
    pm("run", "-d", "--name", "px", "--network", "none", IMG, "sleep", "300")
    try:
        pm("exec", "px", *EXEC_SETUP)
        for case, (opts, args) in EXEC_CASES.items():
            got["exec"][case] = pm("exec", *options(opts), "px", *args, check=False).returncode
    finally:
        pm("rm", "-f", "-t", "0", "px", check=False)
    assert got == PODMAN_EXIT_CODES, json.dumps(got)


def test_exec_root_only_file_as_a_user(pm):
    """`podman exec --user 1000` of a 0700 root file: the exec'd process holds CAP_DAC_OVERRIDE
    up to its execve, so runc runs it (and /bin/sh, without it, cannot read the script: 2)."""
    pm("run", "-d", "--name", "pr", "--network", "none", IMG, "sleep", "300")
    try:
        p = pm("exec", "--user", "1000:1000", "pr", "/bin/rootonly", check=False)
        assert p.returncode == 2 and "can't open '/bin/rootonly'" in p.stderr, p.stderr
    finally:
        pm("rm", "-f", "-t", "0", "pr", check=False)


def test_read_only_device(pm, loop_device):
    """--device HOST:/dev/xdev:r: the container reads it, its write is refused."""
    dev, img = loop_device
    p = pm("run", "--rm", "--network", "none", "--device", f"{dev}:/dev/xdev:r", IMG, "sh", "-c", DEVICE_PROBE)
    assert p.stdout.split() == ["husk-readable", "write-refused"], p.stdout + p.stderr
    assert "Operation not permitted" in p.stderr
    assert img.read_bytes().startswith(b"husk-readable\n\0")


def test_rshared_volume_propagates_to_the_host(pm, tmp_path):
    """-v X:/m:rshared: a mount the container makes below the volume appears on the host."""
    x = tmp_path / "shared"
    shared_tmpfs(x)
    try:
        p = pm("run", "--rm", "--network", "none", "--cap-add", "SYS_ADMIN", "-v", f"{x}:/m:rshared", IMG,
               "sh", "-c", "mount -t tmpfs from-container /m/sub && echo seen > /m/sub/f", check=False)
        assert p.returncode == 0, p.stderr
        assert mounted(x / "sub")
        assert (x / "sub" / "f").read_text() == "seen\n"
    finally:
        unmount_all(x)


SUBID_LINE = "containers:300000:131072\n"


@pytest.fixture
def subids():
    """/etc/subuid and /etc/subgid ranges for podman's automatic user namespaces (it allots
    them from the user "containers"); only our line is removed afterwards, whatever else
    changed the files meanwhile."""
    added = []
    for f in ("/etc/subuid", "/etc/subgid"):
        existed = os.path.exists(f)
        old = open(f).read() if existed else ""
        if SUBID_LINE not in old.splitlines(keepends=True):
            with open(f, "a") as w:
                w.write(("" if old.endswith("\n") or not old else "\n") + SUBID_LINE)
            added.append((f, existed))
    yield
    for f, existed in added:
        lines = open(f).read().splitlines(keepends=True)
        lines.remove(SUBID_LINE)
        if not existed and not lines:
            os.unlink(f)
            continue
        with open(f, "w") as w:
            w.write("".join(lines))


def test_userns_auto_with_terminals(pm, subids):
    """--userns=auto with -t: the init's terminal, then exec -t three times, inside a user
    namespace whose root is not the host's."""
    p = pm("run", "--rm", "-t", "--userns=auto", "--network", "none", IMG, "sh", "-c",
           "tty; cat /proc/self/uid_map", tty=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "/dev/pts/0" in p.stdout
    assert p.stdout.split()[1:3] == ["0", "300000"], p.stdout
    pm("run", "-d", "-t", "--userns=auto", "--name", "pu", "--network", "none", IMG, "sleep", "300")
    try:
        exec_tty_three_times(pm, "pu")
    finally:
        pm("rm", "-f", "-t", "0", "pu", check=False)
