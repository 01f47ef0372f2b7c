"""Fixtures for driving the real husk binary as root against busybox bundles."""
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

HUSK = os.environ.get("HUSK", os.path.join(os.path.dirname(__file__), "..", "..", "husk"))
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def base_config(args):
    """A small, complete config: what most tests start from."""
    return {
        "ociVersion": "1.3.0",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: ["CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_DAC_OVERRIDE",
                                 "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]
                             for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "husk-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/kcore", "/sys/firmware"],
            "readonlyPaths": ["/proc/sys"],
        },
    }


def accept_fd(path, result, timeout=10):
    """Listens on a unix socket at path; in a thread, accepts one connection and stores the
    message and the fd it carries (SCM_RIGHTS) in result["msg"] and result["fd"]."""
    import array
    import socket
    import threading
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(timeout)

    def serve():
        conn, _ = srv.accept()
        fds = array.array("i")
        msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(fds.itemsize))
        for level, typ, data in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(data[:fds.itemsize])
        result["msg"] = msg
        result["fd"] = fds[0] if fds else -1
        conn.close()
        if "then" in result:
            result["then"](result)
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


@pytest.fixture(scope="session")
def template_rootfs(tmp_path_factory):
    d = tmp_path_factory.mktemp("template") / "rootfs"
    subprocess.run(["sh", os.path.join(REPO, "scripts", "mkrootfs.sh"), str(d)], check=True)
    return d


class Husk:
    def __init__(self, tmp_path, template, binary=HUSK):
        self.binary = binary
        self.tmp = tmp_path
        self.root = str(tmp_path / "state")
        self.template = template
        self.ids = []

    def cmd(self, *args, check=False, timeout=20, **kw):
        """Runs husk; stdio of anything it leaves behind goes to files, never our pipes."""
        out = open(self.tmp / f"out-{uuid.uuid4().hex[:8]}", "w+")
        err = open(self.tmp / f"err-{uuid.uuid4().hex[:8]}", "w+")
        try:
            p = subprocess.run([self.binary, "--root", self.root, *args], stdout=out, stderr=err,
                               stdin=subprocess.DEVNULL, timeout=timeout, **kw)
            out.seek(0)
            err.seek(0)
            p.stdout, p.stderr = out.read(), err.read()
        finally:
            out.close()
            err.close()
        if check and p.returncode != 0:
            raise AssertionError(f"husk {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p

    def bundle(self, args=("sleep", "100"), edit=None, name=None):
        b = self.tmp / (name or f"bundle-{uuid.uuid4().hex[:8]}")
        b.mkdir()
        shutil.copytree(self.template, b / "rootfs", symlinks=True)
        cfg = base_config(list(args))
        if edit:
            edit(cfg)
        (b / "config.json").write_text(json.dumps(cfg))
        return b

    def new_id(self):
        i = "t-" + uuid.uuid4().hex[:12]
        self.ids.append(i)
        return i

    def create(self, bundle, cid=None, check=True):
        cid = cid or self.new_id()
        if cid not in self.ids:
            self.ids.append(cid)
        pidfile = bundle / "pid"
        p = self.cmd("create", "--bundle", str(bundle), "--pid-file", str(pidfile), cid, check=check)
        return cid, p

    def create_edited(self, edit, args=("sleep", "100")):
        """A bundle changed by edit, created without checking the outcome: (cid, process, bundle)."""
        b = self.bundle(args, edit=edit)
        cid, p = self.create(b, check=False)
        return cid, p, b

    def run(self, bundle, *extra, timeout=20):
        cid = self.new_id()
        return cid, self.cmd("run", "--bundle", str(bundle), *extra, cid, timeout=timeout)

    def state(self, cid):
        p = self.cmd("state", cid, check=True)
        return json.loads(p.stdout)

    def status(self, cid):
        p = self.cmd("state", cid)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)["status"]

    def wait_status(self, cid, want, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            if self.status(cid) == want:
                return True
            time.sleep(0.02)
        return False

    def assert_no_leftovers(self, cid, bundle=None):
        assert not os.path.exists(os.path.join(self.root, cid)), "state directory left behind"
        if bundle is not None:
            with open("/proc/self/mountinfo") as f:
                mounts = f.read()
            assert str(bundle) not in mounts, "mount left behind on the host"

    def cleanup(self):
        for cid in self.ids:
            self.cmd("delete", "--force", cid)


@pytest.fixture
def husk(tmp_path, template_rootfs):
    h = Husk(tmp_path, template_rootfs)
    yield h
    h.cleanup()
