"""podman (+ conmon) with husk as its OCI runtime, private storage, cgroupfs, no network."""
import os
import subprocess
import tarfile

import pytest

from conftest import HUSK, need, own_cgroup


@pytest.fixture(scope="module")
def podman(tmp_path_factory, rootfs):
    need("podman", "conmon")
    d = tmp_path_factory.mktemp("podman")
    conf = d / "containers.conf"
    # podman passes --log-format=json only to runtimes it knows; it asks for rlimits this
    # host cannot raise without CAP_SYS_RESOURCE (ENGINES.md)
    conf.write_text(f"""[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "husk"
runtime_supports_json = ["husk"]
cgroup_manager = "cgroupfs"
events_logger = "file"
[engine.runtimes]
husk = ["{HUSK}"]
""")
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    parent = own_cgroup() + "/husk-podman-test"
    base = ["podman", "--root", str(d / "root"), "--runroot", str(d / "runroot"), "--tmpdir", str(d / "tmp"),
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
            "--runtime", "husk"]

    def pm(*args, check=True, timeout=120, tty=False):
        if args and args[0] == "run":
            args = ("run", "--cgroup-parent", parent, *args[1:])
        if tty:
            # a real terminal for -t, as a user's shell would have (ENGINES.md)
            import shlex
            line = " ".join(shlex.quote(a) for a in [*base, *args])
            return subprocess.run(["script", "-qec", line, "/dev/null"], capture_output=True, text=True, env=env,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        p = subprocess.run([*base, *args], capture_output=True, text=True, env=env, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p
    tar = d / "rootfs.tar"
    with tarfile.open(tar, "w") as t:
        for name in sorted(os.listdir(rootfs)):
            t.add(os.path.join(rootfs, name), arcname=name)
    pm("import", str(tar), "localhost/husk-busybox")
    yield pm
    pm("rm", "-af", check=False)


def test_run_rm(podman):
    p = podman("run", "--rm", "--network", "none", "localhost/husk-busybox", "sh", "-c", "echo hi; id -u")
    assert p.stdout.split() == ["hi", "0"]


def test_exit_codes_and_errors(podman):
    p = podman("run", "--rm", "--network", "none", "localhost/husk-busybox", "sh", "-c", "exit 4", check=False)
    assert p.returncode == 4
    p = podman("run", "--rm", "--network", "none", "localhost/husk-busybox", "/nonexistent", check=False)
    assert p.returncode == 127
    assert "/nonexistent" in p.stderr


def test_detached_exec_pause_stop_rm(podman):
    podman("run", "-d", "--name", "pd", "--network", "none", "localhost/husk-busybox", "sleep", "300")
    p = podman("exec", "pd", "sh", "-c", "echo from-exec; cat /proc/1/cmdline | tr '\\0' ' '")
    assert "from-exec" in p.stdout and "sleep 300" in p.stdout
    podman("pause", "pd")
    assert podman("inspect", "-f", "{{.State.Status}}", "pd").stdout.strip() == "paused"
    podman("unpause", "pd")
    assert podman("inspect", "-f", "{{.State.Status}}", "pd").stdout.strip() == "running"
    podman("stop", "-t", "1", "pd")
    podman("rm", "pd")
    assert "pd" not in podman("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_terminals(podman):
    p = podman("run", "--rm", "-t", "--network", "none", "localhost/husk-busybox", "sh", "-c", "tty", tty=True)
    assert "/dev/pts/0" in p.stdout
    podman("run", "-d", "--name", "pt", "--network", "none", "localhost/husk-busybox", "sleep", "300")
    p = podman("exec", "-t", "pt", "sh", "-c", "tty; echo in-exec", tty=True)
    assert "/dev/pts/" in p.stdout and "in-exec" in p.stdout
    podman("rm", "-f", "-t", "0", "pt")
