#!/usr/bin/python3
"""What --systemd-cgroup costs a `run`, at native speed (issue 18: at most 2 ms more than cgroupfs).

This host has no systemd as PID 1, and the systemd VM runs under TCG (~100x slower), so the
benchmark boots Debian's systemd as PID 1 in a husk system container (the bundle of
tests/vm/systemd/mksysbundle.sh, in a private mount namespace with a pure cgroup2 view, as
tests/integration/test_system_container.py does), binds this husk and a busybox bundle into
it, and runs, inside it, `husk run` of /bin/true interleaved iteration by iteration:

  cgroupfs     husk's own cgroup directory
  systemd      --systemd-cgroup through the system bus (dbus-daemon), the scope
               system.slice/husk-ID.scope (cgroupsPath system.slice:husk:ID)
  sd-private   --systemd-cgroup through systemd's own socket /run/systemd/private (no bus
               daemon: the fallback of a host without dbus-daemon)
  runc-cgroupfs, runc-systemd
               runc (--runc, runc 1.1.5 here) the same way, with and without --systemd-cgroup

--gap MS sleeps that long before each run: a `run` on a host where nothing else moved a process
between cgroups just before. systemd's move of the init into the scope (its write to
cgroup.procs) takes the kernel's cgroup_threadgroup_rwsem for writing, which waits for an RCU
grace period unless a write shortly before left it in its fast mode (or the cgroup2 mount has
`favordynmods`): back to back, the runs share grace periods; with a gap each pays one.

--floor N measures the driver's floor after the runs: bench/sd-floor.c, a minimal static client
(husk's own D-Bus code and nothing else of husk) doing only what the driver must per `run`, N
times with the same --gap: a new connection whose first write holds the authentication, Hello,
the match and StartTransientUnit of a scope with one waiting process (Delegate, no default
dependencies), then its JobRemoved; the process ends; a new connection, StopUnit and its
JobRemoved. Timed inside the client, from the connection to the job's signal: what systemd,
dbus-daemon and the kernel take for the two calls, whoever makes them.

Per mode it prints the median, p10 and p90 of wall time and of husk's CPU (wait4: husk and the
container's /bin/true, which is the same in every mode), the mean CPU with its standard error,
the CPU that systemd (PID 1), dbus-daemon and journald spent per run (their schedstat), and the
median of the per-iteration difference to cgroupfs. It prints numbers, it asserts nothing.

usage: bench/systemd-driver.py [--husk ./husk] [--iterations 200] [--modes cgroupfs,systemd,...]
       [--tmp DIR] [--json FILE] [--compare OTHER-HUSK] [--rt] [--gap MS] [--runc PATH]
       [--floor N] [--if-available]
(`make bench-systemd`; `make check` runs one iteration, skipped where systemd is not installed)
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ("cgroupfs", "systemd", "sd-private")
RUNC_MODES = ("runc-cgroupfs", "runc-systemd")
# the bench case of bench/bench.c: /bin/true, a read-only busybox rootfs, four namespaces
BUNDLE = {
    "ociVersion": "1.0.2", "root": {"path": "rootfs", "readonly": True}, "hostname": "bench",
    "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/bin/true"],
                "env": ["PATH=/bin:/usr/bin"], "cwd": "/", "noNewPrivileges": True,
                "capabilities": {k: ["CAP_KILL"] for k in ("bounding", "effective", "permitted")}},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}],
    "linux": {"namespaces": [{"type": t} for t in ("pid", "mount", "uts", "ipc")]},
}


# ---- inside the system container ----

def proc_cpu_ns(pid):
    """CPU time of a process so far (schedstat: nanoseconds, not clock ticks)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except OSError:
        return 0


DAEMONS = {"systemd": "pid1", "dbus-daemon": "dbus", "systemd-journal": "journald"}


def daemon_pids():
    """systemd (PID 1), dbus-daemon and journald: the work the driver causes outside husk."""
    pids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm in DAEMONS and (d == "1" or comm != "systemd"):
                pids[DAEMONS[comm]] = int(d)
    return pids


def one_run(husk, mode, cid, bundle, root):
    if mode.startswith("runc-"):
        husk, root = "/bench/runc", "/run/runc-bench"
    argv = [husk, "--root", root]
    env = dict(os.environ)
    if mode.endswith("systemd") or mode.endswith("sd-private"):
        argv.append("--systemd-cgroup")
    if mode.endswith("sd-private"):
        # no such bus: husk falls back to systemd's own socket
        env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=/nonexistent-bus"
    argv += ["run", "--bundle", bundle, cid]
    pids = daemon_pids()
    s0 = {k: proc_cpu_ns(p) for k, p in pids.items()}
    t0 = time.perf_counter()
    pid = os.posix_spawn(husk, argv, env)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    s1 = {k: proc_cpu_ns(p) for k, p in pids.items()}
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{mode}: husk run {cid} failed ({status})")
    r = {"wall": wall * 1e3, "cpu": (ru.ru_utime + ru.ru_stime) * 1e3}
    for k in DAEMONS.values():
        r[k] = (s1.get(k, 0) - s0.get(k, 0)) / 1e6
    return r


def inner(args):
    husks = {"": args.husk}
    if args.compare:
        husks["base-"] = args.compare
    modes = [p + m for p in husks for m in args.modes.split(",") if not (p and m.startswith("runc-"))]
    res = {m: {k: [] for k in ("wall", "cpu", *DAEMONS.values())} for m in modes}
    root = "/run/husk-bench"
    if args.rt:
        # a loaded machine's run queue out of the picture: the runs, and the daemons they wait
        # for, ahead of every ordinary process (inherited by husk and its children)
        for pid in [0, *daemon_pids().values()]:
            os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(1))
    for w in range(args.warmup + args.iterations):
        # each mode goes first equally often
        k = w % len(modes)
        for m in modes[k:] + modes[:k]:
            if args.gap:
                time.sleep(args.gap / 1e3)
            h = husks["base-" if m.startswith("base-") else ""]
            r = one_run(h, m.removeprefix("base-"), f"b{w}-{m}", args.bundle, root)
            if w >= args.warmup:
                for key in r:
                    res[m][key].append(r[key])
    floor = driver_floor(args.floor, args.gap) if args.floor else None
    left = subprocess.run(["systemctl", "list-units", "--all", "--no-legend", "--plain", "husk-b*", "runc-b*",
                           "floor-*"], capture_output=True, text=True).stdout.strip()
    json.dump({"results": res, "units_left": left, "floor": floor}, sys.stdout)


def driver_floor(n, gap):
    """What a driver cannot do without per `run`: bench/sd-floor.c (see the module's doc)."""
    out = subprocess.run(["/bench/sd-floor", str(n), str(gap)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()]
    return {"start": [int(r[0]) / 1e3 for r in rows], "stop": [int(r[1]) / 1e3 for r in rows]}


# ---- on the host ----

def pct(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def report(res, iterations, husk):
    modes = list(res)
    print(f"husk run /bin/true in a systemd system container, {iterations} iterations interleaved "
          f"({husk}; systemd {systemd_version()})")
    print(f"  {'mode':<15}{'median':>9}{'p10':>9}{'p90':>9}{'cpu':>9}{'cpu mean':>15}"
          f"{'pid1':>8}{'dbus':>8}{'jrnl':>8}{'Δ wall':>9}{'Δ cpu':>9}{'Δ all':>9}")
    for m in modes:
        r = res[m]
        # against the same runtime's cgroupfs
        base = res.get(next((p for p in ("base-", "runc-") if m.startswith(p)), "") + "cgroupfs")
        w, c = r["wall"], r["cpu"]
        daemons = [statistics.mean(r[k]) for k in DAEMONS.values()]
        sem = statistics.stdev(c) / len(c) ** 0.5 if len(c) > 1 else 0
        if base and not m.endswith("cgroupfs"):
            dw = statistics.median(a - b for a, b in zip(w, base["wall"]))
            dc = statistics.median(a - b for a, b in zip(c, base["cpu"]))
            da = (statistics.mean(c) + sum(daemons)) - (statistics.mean(base["cpu"]) +
                                                       sum(statistics.mean(base[k]) for k in DAEMONS.values()))
            d = f"{dw:>+7.2f}ms{dc:>+7.2f}ms{da:>+7.2f}ms"
        else:
            d = f"{'-':>9}{'-':>9}{'-':>9}"
        print(f"  {m:<15}{statistics.median(w):>7.2f}ms{pct(w, .1):>7.2f}ms{pct(w, .9):>7.2f}ms"
              f"{statistics.median(c):>7.2f}ms{statistics.mean(c):>7.2f}±{sem:.2f}ms"
              + "".join(f"{x:>6.2f}ms" for x in daemons) + d)
    print("  cpu: the runtime's own (wait4, with the container's /bin/true); pid1, dbus, jrnl: mean CPU per run of\n"
          "  systemd, dbus-daemon and journald (schedstat); Δ wall, Δ cpu: median of the per-iteration\n"
          "  difference to cgroupfs; Δ all: mean CPU of husk and the three daemons, minus cgroupfs's")


def systemd_version():
    try:
        return subprocess.run(["/usr/lib/systemd/systemd", "--version"], capture_output=True,
                              text=True).stdout.split("\n")[0].split(" ", 1)[1]
    except (OSError, IndexError):
        return "?"


def v2(husk, root, *args, **kw):
    """husk in a private mount namespace whose /sys/fs/cgroup is a pure cgroup2 mount."""
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                           'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"', "sh",
                           husk, "--root", root, *args], stdin=subprocess.DEVNULL, **kw)


def outer(args):
    for need in ("/usr/lib/systemd/systemd", "/usr/bin/unshare", "/bin/busybox", "/usr/bin/dbus-daemon"):
        if not os.path.exists(need):
            if args.if_available:
                print(f"systemd-driver: skipped, {need} is missing")
                return
            raise SystemExit(f"systemd-driver: {need} is missing")
    tmp = tempfile.mkdtemp(prefix="husk-sdbench-", dir=args.tmp)
    root, sysb, bench = (os.path.join(tmp, d) for d in ("root", "sys", "bench"))
    cid = "sdbench-" + os.urandom(3).hex()
    started = False
    try:
        subprocess.run(["sh", os.path.join(REPO, "tests/vm/systemd/mksysbundle.sh"), sysb], check=True,
                       stdout=subprocess.DEVNULL)
        os.makedirs(bench)
        # copies: the binaries and this script are bound into the system container at /bench
        shutil.copy(args.husk, os.path.join(bench, "husk"))
        if args.compare:
            shutil.copy(args.compare, os.path.join(bench, "husk-base"))
        if args.floor:
            cc = shutil.which("musl-gcc") or "cc"
            subprocess.run([cc, "-std=gnu11", "-D_GNU_SOURCE", "-O2", "-static", "-I", os.path.join(REPO, "include"), "-o",
                            os.path.join(bench, "sd-floor"), os.path.join(REPO, "bench/sd-floor.c"),
                            *(os.path.join(REPO, "src/util", f) for f in ("dbus.c", "dbus_wire.c", "err.c"))],
                           check=True)
        if any(m.startswith("runc-") for m in args.modes.split(",")):
            shutil.copy(args.runc, os.path.join(bench, "runc"))
        shutil.copy(os.path.abspath(__file__), os.path.join(bench, "systemd-driver.py"))
        subprocess.run(["sh", os.path.join(REPO, "scripts/mkrootfs.sh"), os.path.join(bench, "bundle/rootfs")],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(bench, "bundle/config.json"), "w") as f:
            json.dump(BUNDLE, f)
        cfg_path = os.path.join(sysb, "config.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        cfg["mounts"].append({"destination": "/bench", "type": "bind", "source": bench, "options": ["rbind", "rw"]})
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        husk = os.path.join(bench, "husk")
        with open(os.path.join(tmp, "console.log"), "w") as log:
            p = v2(husk, root, "run", "--detach", "--bundle", sysb, cid, stdout=log, stderr=subprocess.STDOUT,
                   timeout=60)
        if p.returncode:
            raise SystemExit("systemd-driver: the system container did not start:\n" +
                             open(os.path.join(tmp, "console.log")).read())
        started = True
        end = time.time() + 60
        while v2(husk, root, "exec", cid, "test", "-S", "/run/systemd/private").returncode:
            if time.time() > end:
                raise SystemExit("systemd-driver: systemd did not come up in 60 s")
            time.sleep(0.2)
        st = v2(husk, root, "exec", cid, "systemctl", "is-system-running", "--wait", capture_output=True,
                text=True, timeout=120).stdout.strip()
        if st not in ("running", "degraded"):
            raise SystemExit(f"systemd-driver: systemctl is-system-running: {st}")
        cmd = ["exec", cid, "/usr/bin/python3", "/bench/systemd-driver.py", "--inner", "--husk", "/bench/husk",
               "--bundle", "/bench/bundle", "--iterations", str(args.iterations), "--warmup", str(args.warmup),
               "--modes", args.modes]
        if args.compare:
            cmd += ["--compare", "/bench/husk-base"]
        cmd += ["--gap", str(args.gap), "--floor", str(args.floor)]
        if args.rt:
            cmd.append("--rt")
        p = v2(husk, root, *cmd, capture_output=True, text=True)
        if p.returncode:
            raise SystemExit(f"systemd-driver: the runs failed:\n{p.stderr}")
        out = json.loads(p.stdout)
        report(out["results"], args.iterations, args.husk)
        if out.get("floor"):
            f = out["floor"]
            tot = [a + b for a, b in zip(f["start"], f["stop"])]
            print(f"  driver floor ({len(tot)} starts and stops of a scope by a minimal client, gap {args.gap} ms): "
                  + ", ".join(f"{k} median {statistics.median(v):.2f} ms p90 {pct(v, .9):.2f} ms"
                              for k, v in (("start", f["start"]), ("stop", f["stop"]), ("both", tot))))
        if out["units_left"]:
            print(f"  units left behind: {out['units_left']}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
    finally:
        if started:
            v2(husk, root, "delete", "--force", cid, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--husk", default=os.path.join(REPO, "husk"))
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--compare", help="another husk build, as rows base-MODE")
    ap.add_argument("--runc", default="/usr/sbin/runc", help="the runc of the runc-* modes")
    ap.add_argument("--gap", type=float, default=0, help="milliseconds of sleep before each run")
    ap.add_argument("--floor", type=int, default=0, help="also the driver's floor, this many times")
    ap.add_argument("--tmp", help="scratch directory's parent (default: $TMPDIR or /tmp)")
    ap.add_argument("--json")
    ap.add_argument("--rt", action="store_true",
                    help="SCHED_FIFO for the runs and the daemons: a loaded machine as if it were quiet")
    ap.add_argument("--if-available", action="store_true", help="skip (exit 0) where systemd is not installed")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--bundle", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        inner(args)
    else:
        args.husk = os.path.abspath(args.husk)
        if args.compare:
            args.compare = os.path.abspath(args.compare)
        outer(args)


if __name__ == "__main__":
    main()
