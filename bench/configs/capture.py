#!/usr/bin/python3
"""Captures the config.json Docker and podman hand their OCI runtime for `run --rm --network
none busybox true`, for bench/bench's engine cases (bench/README.md). Not part of `make bench`:
it starts dockerd and podman, each once, on private directories and sockets under WORKDIR,
with a wrapper runtime that copies the bundle's config.json and execs runc. Then
`sanitize.py` turns the raw captures into bench/configs/{docker,podman}.json.

usage (as root): bench/configs/capture.py WORKDIR
"""
import os
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "engines"))
import image  # noqa: E402

DOCKER, DOCKERD = "/usr/bin/docker", "/usr/sbin/dockerd"


def own_cgroup():
    with open("/proc/self/cgroup") as f:
        paths = dict(line.rstrip("\n").split(":", 2)[1:] for line in f)
    return paths.get("memory", paths.get("", "/")).rstrip("/")


def wrapper(work, engine):
    """A runtime that saves the config of each create, then is runc."""
    path = os.path.join(work, f"rt-{engine}")
    with open(path, "w") as f:
        f.write(f"""#!/bin/sh
prev=
for a in "$@"; do
  [ "$prev" = --bundle ] && cp "$a/config.json" {work}/{engine}.raw.json
  prev=$a
done
exec /usr/sbin/runc "$@"
""")
    os.chmod(path, 0o755)
    return path


def capture_docker(work, tar, ref, parent):
    d = os.path.join(work, "docker")
    os.makedirs(d)
    sock = os.path.join(d, "docker.sock")
    log = open(os.path.join(d, "dockerd.log"), "w")
    proc = subprocess.Popen(
        [DOCKERD, "--data-root", d + "/data", "--exec-root", d + "/exec", "--pidfile", d + "/pid",
         "-H", "unix://" + sock, "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--bridge=none",
         "--exec-opt", "native.cgroupdriver=cgroupfs", "--add-runtime", "capture=" + wrapper(work, "docker"),
         "--cgroup-parent", parent], stdout=log, stderr=log)

    def dk(*args):
        return subprocess.run([DOCKER, "-H", "unix://" + sock, *args], capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)
    try:
        for _ in range(300):
            if os.path.exists(sock) and dk("version").returncode == 0:
                break
            time.sleep(0.1)
        dk("load", "-i", tar)
        p = dk("run", "--rm", "--runtime", "capture", "--network", "none", ref, "true")
        print("docker run:", p.returncode, p.stderr.strip())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        subprocess.run(["umount", "-R", d + "/data"], stderr=subprocess.DEVNULL)
        subprocess.run(["umount", "-R", d + "/exec"], stderr=subprocess.DEVNULL)


def capture_podman(work, rootfs, parent):
    d = os.path.join(work, "podman")
    os.makedirs(d)
    conf = os.path.join(d, "containers.conf")
    with open(conf, "w") as f:
        f.write(f"""[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "capture"
runtime_supports_json = ["capture"]
cgroup_manager = "cgroupfs"
events_logger = "file"
[engine.runtimes]
capture = ["{wrapper(work, 'podman')}"]
""")
    env = dict(os.environ, CONTAINERS_CONF=conf)
    base = ["podman", "--root", d + "/root", "--runroot", d + "/runroot", "--tmpdir", d + "/tmp",
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
            "--runtime", "capture"]
    tar = os.path.join(d, "rootfs.tar")
    subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
    subprocess.run([*base, "import", tar, "localhost/husk-busybox"], env=env, capture_output=True, check=True)
    p = subprocess.run([*base, "run", "--rm", "--cgroup-parent", parent, "--network", "none",
                        "localhost/husk-busybox", "true"], env=env, capture_output=True, text=True, timeout=120)
    print("podman run:", p.returncode, p.stderr.strip())
    subprocess.run([*base, "rm", "-af"], env=env, capture_output=True)
    subprocess.run(["umount", "-R", d + "/root"], stderr=subprocess.DEVNULL)
    subprocess.run(["umount", "-R", d + "/runroot"], stderr=subprocess.DEVNULL)


def main():
    work = os.path.abspath(sys.argv[1])
    os.makedirs(work, exist_ok=True)
    rootfs = os.path.join(work, "rootfs")
    subprocess.run(["sh", os.path.join(REPO, "scripts", "mkrootfs.sh"), rootfs], check=True)
    with open(os.path.join(rootfs, "etc", "hostname"), "w") as f:
        f.write("busybox\n")
    tar = os.path.join(work, "busybox.tar")
    ref = image.build(rootfs, tar)
    parent = own_cgroup() + "/husk-bench-capture"
    capture_docker(work, tar, ref, parent)
    capture_podman(work, rootfs, parent)
    print("raw configs:", [n for n in os.listdir(work) if n.endswith(".raw.json")])


if __name__ == "__main__":
    main()
