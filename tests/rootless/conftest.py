"""Rootless husk: husk run by an unprivileged user (runuser), as root's CI would test it.

A session user (USER below) is made with useradd (which gives it /etc/subuid and /etc/subgid
ranges) and removed at the end with every process it left. Each test works in a directory of
its own under /tmp that the user owns (pytest's tmp_path is private to root)."""
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

HUSK = os.path.abspath(os.environ.get("HUSK", os.path.join(os.path.dirname(__file__), "..", "..", "husk")))
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
USER = "husk-rl17"


def _kill_user_procs(uid):
    for _ in range(50):
        left = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if os.stat(f"/proc/{d}").st_uid == uid:
                    left.append(int(d))
            except OSError:
                pass
        if not left:
            return
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)


@pytest.fixture(scope="session")
def rl_user():
    """(name, uid, gid) of the unprivileged user; made for the session unless it exists."""
    made = False
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/bin/sh", USER], check=True)
        pw = pwd.getpwnam(USER)
        made = True
    yield USER, pw.pw_uid, pw.pw_gid
    _kill_user_procs(pw.pw_uid)
    if made:
        subprocess.run(["userdel", USER], check=False)


@pytest.fixture(scope="session")
def rl_template(rl_user):
    """A busybox rootfs the user owns, copied per test."""
    d = tempfile.mkdtemp(prefix="husk-rl-template-")
    os.chmod(d, 0o755)
    subprocess.run(["sh", os.path.join(REPO, "scripts", "mkrootfs.sh"), d + "/rootfs"], check=True)
    subprocess.run(["chown", "-R", f"{rl_user[1]}:{rl_user[2]}", d], check=True)
    yield d + "/rootfs"
    shutil.rmtree(d, ignore_errors=True)


class Rootless:
    """Runs husk (or another runtime) as the user, XDG_RUNTIME_DIR a directory it owns."""

    def __init__(self, user, base, template, binary=HUSK):
        self.user, self.uid, self.gid = user
        self.base = base
        self.template = template
        self.binary = binary
        self.xdg = os.path.join(base, "xdg")
        os.mkdir(self.xdg, 0o700)
        os.chown(self.xdg, self.uid, self.gid)
        self.ids = []

    def env(self, xdg=True, **extra):
        e = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "USER": self.user, "HOME": self.base}
        if xdg:
            e["XDG_RUNTIME_DIR"] = self.xdg
        e.update(extra)
        return e

    def cmd(self, *args, xdg=True, binary=None, timeout=20, check=False, prefix=()):
        """runuser -u USER -- env -i ... RUNTIME args; output through files, never pipes a
        detached container could hold open."""
        env = self.env(xdg)
        argv = [*prefix, "runuser", "-u", self.user, "--", "env", "-i",
                *[f"{k}={v}" for k, v in env.items()], binary or self.binary, *args]
        with tempfile.TemporaryFile("w+", dir=self.base) as out, tempfile.TemporaryFile("w+", dir=self.base) as err:
            p = subprocess.run(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, timeout=timeout,
                               cwd=self.base)
            out.seek(0)
            err.seek(0)
            p.stdout, p.stderr = out.read(), err.read()
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p

    def bundle(self, args=("sleep", "100"), edit=None, binary=None):
        """A bundle from `husk spec --rootless` as the user, terminal off, args set."""
        b = os.path.join(self.base, "bundle-" + uuid.uuid4().hex[:8])
        os.mkdir(b)
        os.chown(b, self.uid, self.gid)
        shutil.copytree(self.template, b + "/rootfs", symlinks=True)
        subprocess.run(["chown", "-R", f"{self.uid}:{self.gid}", b + "/rootfs"], check=True)
        self.cmd("spec", "--rootless", "--bundle", b, check=True)
        with open(b + "/config.json") as f:
            cfg = json.load(f)
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = list(args)
        if edit:
            edit(cfg)
        with open(b + "/config.json", "w") as f:
            json.dump(cfg, f)
        return b

    def new_id(self):
        i = "rl-" + uuid.uuid4().hex[:10]
        self.ids.append(i)
        return i

    def cleanup(self):
        for i in self.ids:
            for rt in {self.binary, "runc"}:
                self.cmd("delete", "--force", i, binary=rt)


@pytest.fixture
def rl(rl_user, rl_template):
    base = tempfile.mkdtemp(prefix="husk-rl-")
    os.chmod(base, 0o755)
    os.chown(base, rl_user[1], rl_user[2])
    r = Rootless(rl_user, base, rl_template)
    yield r
    r.cleanup()
    shutil.rmtree(base, ignore_errors=True)
