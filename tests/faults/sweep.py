"""Kill husk at every syscall of a command, then check that `delete --force` clears what is left.

For each command (create, start, run, delete, exec) the sweep first records the syscalls husk's
own process makes (strace without -f: the init and the container's processes are husk's
children, which must die with it or be found through the state). Kill point k is the k-th of
them: if it is the j-th call of syscall S, strace's per-syscall counter lets `-e inject=S:
signal=KILL:when=j` kill husk on entry to exactly that call (which then never runs). After each kill the sweep counts
what is left (state directory, cgroup directories, processes, host mounts, and whether `list`
shows a state directory), runs `husk delete --force ID`, checks that nothing is left, and that
the id can be created again.

Processes are recognised by an environment marker given to husk (its init is a clone of husk)
and to the container's processes (config env), so a process is found whatever its namespaces
or root.

Standalone: python3 tests/faults/sweep.py [--sample N] [COMMAND...]; --sample 0 is every point.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
COMMANDS = ("create", "start", "run", "delete", "exec")
SETTLE = 3.0    # seconds for a killed command's processes to go (parent-death signal, EOF)


def _base_config():
    """The integration tests' config (their conftest, loaded by path as tests/security does)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("husk_fixtures",
                                                  os.path.join(REPO, "tests", "integration", "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.base_config


def cgroup_candidates(cid):
    """Every directory husk's default cgroupsPath (husk-ID below our own cgroup) would be."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            own[ctrls] = path
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, post = line.split(" - ", 1)
            fstype, _, supers = post.split()[:3]
            mp = pre.split()[4]
            if fstype not in ("cgroup", "cgroup2") or not mp.startswith("/sys/fs/cgroup"):
                continue
            if fstype == "cgroup2":
                key = ""
            else:
                opts = set(supers.split(","))
                key = next((k for k in own if k and set(k.split(",")) <= opts), None)
            if key is None or key not in own:
                continue
            base = own[key].rstrip("/")
            out.append(f"{mp}{base}/husk-{cid}")
    return out


class Sweep:
    def __init__(self, husk, tmp):
        self.husk = husk
        self.tmp = tmp
        self.root = os.path.join(tmp, "state")
        self.mark = "HUSK_FAULT_MARK=" + uuid.uuid4().hex
        self.env = dict(os.environ)
        k, v = self.mark.split("=", 1)
        self.env[k] = v
        base_config = _base_config()
        template = os.path.join(tmp, "template")
        subprocess.run(["sh", os.path.join(REPO, "scripts", "mkrootfs.sh"), template], check=True)
        self.bundles = {}
        for name, args in (("sleep", ["sleep", "1000"]), ("true", ["true"])):
            b = os.path.join(tmp, "bundle-" + name)
            os.mkdir(b)
            shutil.copytree(template, os.path.join(b, "rootfs"), symlinks=True)
            cfg = base_config(args)
            cfg["process"]["env"].append(self.mark)
            with open(os.path.join(b, "config.json"), "w") as f:
                json.dump(cfg, f)
            self.bundles[name] = b
        shutil.rmtree(template)

    def run(self, *args, strace=None, check=False, timeout=30):
        argv = [self.husk, "--root", self.root, *args]
        if strace:
            argv = ["strace", "-qq", "-o", os.devnull, *strace, *argv]
        if strace and "-f" in strace:
            # strace -f stays while a traced init does (a container left created): killing
            # strace after a while detaches it, and the point is judged as any other
            try:
                return self._spawn(argv, 5)
            except subprocess.TimeoutExpired:
                return subprocess.CompletedProcess(argv, None, "", "")
        p = self._spawn(argv, timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"husk {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p

    def _spawn(self, argv, timeout):
        # stderr to a file: a pipe would stay open in the container's processes
        with tempfile.TemporaryFile("w+", dir=self.tmp) as err:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                               env=self.env, timeout=timeout)
            err.seek(0)
            p.stderr = err.read()
        return p

    # What each command needs first, and the command itself.
    def setup(self, cmd, cid):
        if cmd in ("start", "delete", "exec"):
            self.run("create", "--bundle", self.bundles["sleep"], cid, check=True)
        if cmd in ("delete", "exec"):
            self.run("start", cid, check=True)

    def command(self, cmd, cid):
        return {
            "create": ["create", "--bundle", self.bundles["sleep"], cid],
            "start": ["start", cid],
            "run": ["run", "--bundle", self.bundles["true"], cid],
            "delete": ["delete", "--force", cid],
            "exec": ["exec", cid, "true"],
        }[cmd]

    def syscalls(self, cmd, cid):
        """The names of the syscalls husk's own process makes, in order."""
        self.setup(cmd, cid)
        trace = os.path.join(self.tmp, "trace")
        argv = ["strace", "-qq", "-o", trace, self.husk, "--root", self.root, *self.command(cmd, cid)]
        p = self._spawn(argv, 30)
        assert p.returncode == 0, f"{cmd} failed untraced: {p.stderr}"
        names = []
        with open(trace) as f:
            for line in f:
                if line[:1].isalpha() and "(" in line:
                    names.append(line.split("(", 1)[0])
        os.unlink(trace)
        self.run("delete", "--force", cid, check=True)
        return names

    def processes(self):
        found = []
        needle = self.mark.encode() + b"\0"
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if needle in f.read():
                        found.append(int(d))
            except OSError:
                pass
        return found

    def leftovers(self, cid):
        """What a container of this id has on the host: a dict of counts."""
        with open("/proc/self/mountinfo") as f:
            mounts = sum(1 for line in f if self.tmp in line)
        state = os.path.exists(os.path.join(self.root, cid))
        listed = False
        if state:
            p = subprocess.run([self.husk, "--root", self.root, "list", "-q"], capture_output=True, text=True,
                               timeout=30)
            listed = cid in p.stdout.split()
        return {
            "state": int(state),
            "hidden": int(state and not listed),
            "cgroups": sum(1 for c in cgroup_candidates(cid) if os.path.isdir(c)),
            "processes": len(self.processes()),
            "mounts": mounts,
        }

    def settle(self, cid):
        """Leftovers once the killed command's processes had SETTLE seconds to go."""
        end = time.time() + SETTLE
        while True:
            left = self.leftovers(cid)
            if not left["processes"] or time.time() > end:
                return left
            time.sleep(0.02)

    def scrub(self, cid):
        """Removes by hand what delete --force left (an unfixed husk), so each point starts clean:
        only what carries this sweep's marker or name."""
        for pid in self.processes():
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        end = time.time() + SETTLE
        while self.processes() and time.time() < end:
            time.sleep(0.02)
        for c in cgroup_candidates(cid):
            for _ in range(100):
                try:
                    os.rmdir(c)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        shutil.rmtree(os.path.join(self.root, cid), ignore_errors=True)

    def point(self, cmd, cid, name, nth, follow=False):
        """Kill point: the nth call of syscall name. Returns (killed, before, after, reuse_ok, msg).
        follow: strace -f, whose counters are per process: the init, the intermediate and exec's
        processes die too at their own nth call of name, if they make that many."""
        self.setup(cmd, cid)
        p = self.run(*self.command(cmd, cid), strace=["-f"] * follow + [
            "-e", f"trace={name}", "-e", f"inject={name}:signal=KILL:when={nth}"])
        killed = p.returncode in (-9, 137)
        before = self.leftovers(cid)
        d = self.run("delete", "--force", cid)
        after = self.settle(cid)
        msg = "" if d.returncode == 0 else f"delete --force failed: {d.stderr.strip()}"
        c = self.run("create", "--bundle", self.bundles["sleep"], cid)
        reuse = c.returncode == 0
        if not reuse:
            msg += f" create again failed: {c.stderr.strip()}"
        self.run("delete", "--force", cid)
        if any(after.values()) or not reuse:
            self.scrub(cid)
        return killed, before, after, reuse, msg

    def sweep(self, cmd, sample=0, log=print, follow=False):
        cid = f"fault-{cmd}-{uuid.uuid4().hex[:6]}"
        names = self.syscalls(cmd, cid)
        points = list(range(len(names)))
        if sample and sample < len(points):
            # evenly spread, always with the first and the last
            step = (len(points) - 1) / (sample - 1)
            points = sorted({round(i * step) for i in range(sample)})
        seen = {}
        nth = []
        for n in names:
            seen[n] = seen.get(n, 0) + 1
            nth.append(seen[n])
        t0 = time.time()
        fig = {"command": cmd, "syscalls": len(names), "points": 0, "killed": 0, "left_before": 0,
               "hidden_before": 0, "left_after": 0, "not_reusable": 0, "failures": []}
        for k in points:
            try:
                killed, before, after, reuse, msg = self.point(cmd, cid, names[k], nth[k], follow)
            except (AssertionError, subprocess.TimeoutExpired) as e:
                # the setup failed: the previous point left the id unusable
                killed, before, after, reuse, msg = False, {}, {"error": 1}, False, str(e)
                self.run("delete", "--force", cid)
                self.scrub(cid)
            fig["points"] += 1
            fig["killed"] += killed
            fig["left_before"] += any(v for k2, v in before.items() if k2 != "hidden")
            fig["hidden_before"] += before.get("hidden", 0)
            bad = any(after.values()) or not reuse or msg
            fig["left_after"] += any(after.values())
            fig["not_reusable"] += not reuse
            if bad:
                fig["failures"].append(f"{cmd} point {k + 1} ({names[k]} #{nth[k]}): after={after} {msg}")
        self.run("delete", "--force", cid)
        self.scrub(cid)
        log(f"faults: {cmd}{' (-f)' if follow else ''}: {fig['syscalls']} syscalls, {fig['points']} kill points ({fig['killed']} killed), "
            f"left before delete --force: {fig['left_before']} (state hidden from list: {fig['hidden_before']}), "
            f"left after: {fig['left_after']}, id not reusable: {fig['not_reusable']} ({time.time() - t0:.0f} s)")
        for f in fig["failures"][:10]:
            log("  " + f)
        return fig


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=0, help="kill points per command (0: every one)")
    ap.add_argument("--husk", default=os.environ.get("HUSK", os.path.join(REPO, "husk")))
    ap.add_argument("--follow", action="store_true", help="strace -f: kill husk's children at their nth call too")
    ap.add_argument("commands", nargs="*", default=list(COMMANDS))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="husk-faults-")
    total = {"points": 0, "left_before": 0, "hidden_before": 0, "left_after": 0, "not_reusable": 0}
    try:
        s = Sweep(os.path.abspath(a.husk), tmp)
        t0 = time.time()
        for cmd in a.commands:
            fig = s.sweep(cmd, a.sample, follow=a.follow)
            for k in total:
                total[k] += fig[k]
        print(f"faults: all: {total['points']} kill points, left before delete --force: {total['left_before']} "
              f"(hidden from list: {total['hidden_before']}), left after: {total['left_after']}, "
              f"id not reusable: {total['not_reusable']} ({time.time() - t0:.0f} s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if total["left_after"] or total["not_reusable"] else 0


if __name__ == "__main__":
    sys.exit(main())
