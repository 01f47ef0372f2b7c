#!/usr/bin/python3
"""The rootless `run` row: `RUNTIME run` of `husk spec --rootless`'s config (args ["true"]) by an
unprivileged user, husk against runc and crun, interleaved. Run as root (it makes the user,
husk-bench-rl, and removes it). Every runtime runs in the same private pure-v1 cgroup view (the
hybrid host's cgroup2 hidden, TESTING.md): crun refuses hybrid layouts; rootless, none of them
can make a cgroup there and each goes on without.

    python3 bench/rootless.py --husk ./husk [--iterations 30]
"""
import argparse
import ctypes
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

USER = "husk-bench-rl"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def private_v1_view():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x00020000) != 0:   # CLONE_NEWNS
        sys.exit("unshare(CLONE_NEWNS): " + os.strerror(ctypes.get_errno()))
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    if os.path.exists("/sys/fs/cgroup/unified/cgroup.controllers"):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k,mode=555", "none", "/sys/fs/cgroup/unified"],
                       check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--husk", default=os.path.join(REPO, "husk"))
    ap.add_argument("--iterations", type=int, default=30)
    a = ap.parse_args()
    made = False
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/bin/sh", USER], check=True)
        pw = pwd.getpwnam(USER)
        made = True
    base = tempfile.mkdtemp(prefix="husk-bench-rl-")
    try:
        os.chmod(base, 0o755)
        husk = os.path.join(base, "husk")
        shutil.copy(a.husk, husk)
        os.chmod(husk, 0o755)
        subprocess.run(["sh", os.path.join(REPO, "scripts", "mkrootfs.sh"), base + "/b/rootfs"], check=True,
                       stdout=subprocess.DEVNULL)
        os.mkdir(base + "/xdg", 0o700)
        subprocess.run(["chown", "-R", f"{pw.pw_uid}:{pw.pw_gid}", base], check=True)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "XDG_RUNTIME_DIR": base + "/xdg",
               "USER": USER, "HOME": base}
        as_user = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[], env=env, cwd=base + "/b")
        subprocess.run([husk, "spec", "--rootless"], check=True, **as_user)
        with open(base + "/b/config.json") as f:
            cfg = json.load(f)
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = ["true"]
        cfg["ociVersion"] = "1.0.2"   # the newest crun 1.8.1 accepts
        with open(base + "/b/config.json", "w") as f:
            json.dump(cfg, f)
        private_v1_view()
        runtimes = {"husk": [husk], "runc": [shutil.which("runc")], "crun": [shutil.which("crun")]}
        times, failed = {k: [] for k in runtimes}, {}
        n = 0
        for it in range(a.iterations + 2):
            for name, argv in runtimes.items():
                if name in failed or not argv[0]:
                    failed.setdefault(name, "not installed")
                    continue
                n += 1
                t0 = time.perf_counter()
                p = subprocess.run([*argv, "run", f"b{n}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True, **as_user)
                dt = time.perf_counter() - t0
                if p.returncode != 0:
                    failed[name] = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
                elif it >= 2:   # two warm-up rounds
                    times[name].append(dt * 1000)
        print(f"rootless `run` (true), {a.iterations} runs each, interleaved, as uid {pw.pw_uid}, pure-v1 view:")
        print(f"  {'runtime':8} {'median ms':>10} {'p90 ms':>8} {'min ms':>8}")
        for name, v in times.items():
            if name in failed:
                print(f"  {name:8} fails: {failed[name]}")
                continue
            v.sort()
            print(f"  {name:8} {statistics.median(v):10.2f} {v[int(len(v) * 0.9) - 1]:8.2f} {v[0]:8.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
        if made:
            for d in os.listdir("/proc"):   # anything left of the user's (none expected)
                try:
                    if d.isdigit() and os.stat(f"/proc/{d}").st_uid == pw.pw_uid:
                        os.kill(int(d), 9)
                except OSError:
                    pass
            subprocess.run(["userdel", USER], check=False)


if __name__ == "__main__":
    main()
