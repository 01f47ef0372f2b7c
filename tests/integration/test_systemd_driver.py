"""The systemd cgroup driver (--systemd-cgroup) against a real dbus-daemon on a private bus,
with a small stand-in for org.freedesktop.systemd1 (this file run as a script, python3-dbus)
that records the Manager calls husk makes and answers as systemd does: a job path, then the
JobRemoved signal. It makes no cgroups: husk makes every directory itself here, as it does
for the controllers systemd leaves alone, and removes them (the real systemd is in the
systemd VM, tests/vm/systemd-driver.sh)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import HUSK

# The test bus: anyone may own and call anything; {sock} is its socket (shared with
# tests/rootless/test_systemd_user.py).
BUS_CONFIG = open(os.path.join(os.path.dirname(__file__), "dbus-bus.conf.in")).read()


def serve(address, log_path, p2p=None):
    """The stand-in: runs until killed. With p2p, also a peer-to-peer server there, as
    systemd's own socket /run/systemd/private is (no bus daemon, no Hello)."""
    import dbus
    import dbus.service
    from dbus.mainloop.glib import DBusGMainLoop
    from gi.repository import GLib

    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    name = dbus.service.BusName("org.freedesktop.systemd1", bus)
    iface = "org.freedesktop.systemd1.Manager"

    def plain(v):
        if isinstance(v, (dbus.Array, list)):
            return [plain(x) for x in v]
        if isinstance(v, (dbus.Struct, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dbus.Boolean):
            return bool(v)
        if isinstance(v, (dbus.Byte,)):
            return int(v)
        if isinstance(v, (dbus.Int32, dbus.UInt32, dbus.Int64, dbus.UInt64, dbus.Int16, dbus.UInt16)):
            return int(v)
        if isinstance(v, (dbus.String, dbus.ObjectPath)):
            return str(v)
        return v

    def record(**kw):
        with open(log_path, "a") as f:
            f.write(json.dumps(kw) + "\n")

    class Error(dbus.DBusException):
        def __init__(self, name, msg):
            super().__init__(msg)
            self._dbus_error_name = name

    class Manager(dbus.service.Object):
        units = set()
        jobs = 0

        def job(self, unit, result):
            Manager.jobs += 1
            path = f"/org/freedesktop/systemd1/job/{Manager.jobs}"
            n = Manager.jobs
            # after the reply, as systemd's job finishes after its method returns
            GLib.idle_add(lambda: self.JobRemoved(dbus.UInt32(n), dbus.ObjectPath(path), unit, result) and False)
            return dbus.ObjectPath(path)

        @dbus.service.method(iface, in_signature="ssa(sv)a(sa(sv))", out_signature="o", sender_keyword="sender")
        def StartTransientUnit(self, unit, mode, props, aux, sender=None):
            p = {str(k): plain(v) for k, v in props}
            record(call="StartTransientUnit", unit=str(unit), mode=str(mode), props=p, aux=plain(aux),
                   sig=[str(v.signature) if hasattr(v, "signature") else "" for _, v in props])
            if p.get("Slice") == "system.slice":
                raise Error("org.freedesktop.systemd1.TestRefused", f"refusing {unit}")
            if unit in Manager.units:
                raise Error("org.freedesktop.systemd1.UnitExists", f"Unit {unit} was already loaded or has a fragment file.")
            Manager.units.add(str(unit))
            if "jobhang" in unit:   # a job that never ends: husk waits (and is killed)
                Manager.jobs += 1
                return dbus.ObjectPath(f"/org/freedesktop/systemd1/job/{Manager.jobs}")
            return self.job(unit, "failed" if "jobfail" in unit else "done")

        @dbus.service.method(iface, in_signature="ss", out_signature="o")
        def StopUnit(self, unit, mode):
            record(call="StopUnit", unit=str(unit), mode=str(mode))
            if unit not in Manager.units:
                raise Error("org.freedesktop.systemd1.NoSuchUnit", f"Unit {unit} not loaded.")
            Manager.units.discard(str(unit))
            return self.job(unit, "done")

        @dbus.service.method(iface, in_signature="s", out_signature="")
        def ResetFailedUnit(self, unit):
            record(call="ResetFailedUnit", unit=str(unit))
            Manager.units.discard(str(unit))

        @dbus.service.method(iface, in_signature="sba(sv)", out_signature="")
        def SetUnitProperties(self, unit, runtime, props):
            record(call="SetUnitProperties", unit=str(unit), runtime=bool(runtime),
                   props={str(k): plain(v) for k, v in props})
            if unit not in Manager.units:
                raise Error("org.freedesktop.systemd1.NoSuchUnit", f"Unit {unit} not loaded.")

        @dbus.service.method(iface, in_signature="", out_signature="")
        def Subscribe(self):
            record(call="Subscribe")

        # runc and husk ask for systemd's version (CPUQuotaPeriodUSec needs 242); a test
        # sets another in the file beside the log
        @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="ss", out_signature="v")
        def Get(self, interface, prop):
            record(call="Get", iface=str(interface), prop=str(prop))
            v = "252 (252.30-1~deb12u2)"
            if os.path.exists(log_path + ".version"):
                with open(log_path + ".version") as f:
                    v = f.read().strip()
            return dbus.String(v, variant_level=1)

        @dbus.service.signal(iface, signature="uoss")
        def JobRemoved(self, id_, job, unit, result):
            pass

    Manager(bus, "/org/freedesktop/systemd1")
    if p2p:
        import dbus.server
        server = dbus.server.Server(f"unix:path={p2p}")
        peers = []
        server.on_connection_added.append(lambda conn: peers.append(Manager(conn, "/org/freedesktop/systemd1")))
    with open(log_path + ".ready", "w") as f:
        f.write("1")
    GLib.MainLoop().run()
    del name


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    serve(*sys.argv[2:])
    sys.exit(0)


class FakeSystemd:
    def __init__(self, tmp):
        self.tmp = tmp
        self.sock = str(tmp / "bus")
        self.log = str(tmp / "calls.jsonl")
        (tmp / "bus.conf").write_text(BUS_CONFIG.format(sock=self.sock))
        self.daemon = subprocess.Popen(["dbus-daemon", "--nofork", "--print-address",
                                        f"--config-file={tmp / 'bus.conf'}"],
                                       stdout=subprocess.PIPE, text=True)
        self.address = self.daemon.stdout.readline().strip()
        assert self.address.startswith("unix:"), self.address
        self.p2p = str(tmp / "private")
        self.service = subprocess.Popen(["/usr/bin/python3", __file__, "--serve", self.address, self.log, self.p2p])
        for _ in range(200):
            if os.path.exists(self.log + ".ready"):
                break
            time.sleep(0.025)
        else:
            raise AssertionError("the fake systemd did not start")

    def calls(self, unit=None):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            c = [json.loads(line) for line in f]
        return [x for x in c if unit is None or x.get("unit") == unit]

    def env(self):
        return dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address)

    def stop(self):
        for p in (self.service, self.daemon):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    if not shutil.which("dbus-daemon"):
        pytest.skip("dbus-daemon is not installed")
    f = FakeSystemd(tmp_path_factory.mktemp("sdbus"))
    yield f
    f.stop()


# the slices the tests use: husk makes them in every hierarchy and removes them
SLICE = "husktest-sd.slice"
SLICE_PATH = "husktest.slice/husktest-sd.slice"


def mounts():
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            a, b = line.split(" - ", 1)
            fs = b.split()[0]
            mp = a.split()[4]
            if fs in ("cgroup", "cgroup2") and mp.startswith("/sys/fs/cgroup"):
                out.append(mp)
    return out


def gone(pid):
    """Exited (a zombie until whoever adopted it reaps it) or reaped."""
    for _ in range(100):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.01)
    return False


def v1_memory():
    return "/sys/fs/cgroup/memory" if os.path.isdir("/sys/fs/cgroup/memory") else None


class SD:
    """husk --systemd-cgroup on the fake's bus."""

    def __init__(self, husk, fake):
        self.h, self.f = husk, fake

    def cmd(self, *args, **kw):
        return self.h.cmd("--systemd-cgroup", *args, env=self.f.env(), **kw)

    def bundle(self, args=("sleep", "100"), path=None, res=None):
        def edit(c):
            if path is not None:
                c["linux"]["cgroupsPath"] = path
            if res:
                c["linux"]["resources"] = res
        return self.h.bundle(list(args), edit=edit)


@pytest.fixture
def sd(husk, fake):
    s = SD(husk, fake)
    yield s
    for cid in husk.ids:
        husk.cmd("delete", "--force", cid, env=fake.env())
    for mp in mounts():
        # the slices too: husk made them here (systemd makes and keeps them on a real host)
        assert not os.path.exists(os.path.join(mp, "husktest.slice")), f"cgroup left in {mp}"


def test_run_makes_and_stops_the_scope(sd, fake):
    res = {"memory": {"limit": 64 << 20}, "pids": {"limit": 77}, "cpu": {"shares": 512, "quota": 25000, "period": 100000}}
    cid = sd.h.new_id()
    b = sd.bundle(["cat", "/proc/self/cgroup"], path=f"{SLICE}:husk:{cid}", res=res)
    p = sd.cmd("run", "--bundle", str(b), cid)
    assert p.returncode == 0, p.stderr
    unit = f"husk-{cid}.scope"
    # inside, the init was in the scope's cgroup (a cgroup namespace shows "/")
    assert re.search(r"memory:/(\n|$)", p.stdout) or f"/{SLICE_PATH}/{unit}" in p.stdout, p.stdout
    calls = fake.calls(unit)
    assert [c["call"] for c in calls] == ["StartTransientUnit", "StopUnit", "ResetFailedUnit"], calls
    st = calls[0]
    assert st["mode"] == "replace" and st["aux"] == []
    pr = st["props"]
    assert pr["Slice"] == SLICE and pr["Delegate"] is True and pr["DefaultDependencies"] is False
    assert pr["Description"] == f"husk container {cid}"
    assert len(pr["PIDs"]) == 1 and pr["PIDs"][0] > 1
    assert pr["TasksMax"] == 77
    # 25 ms per 100 ms: 250 ms of CPU per second; the period is systemd's default, not sent
    assert pr["CPUQuotaPerSecUSec"] == 250000 and "CPUQuotaPeriodUSec" not in pr
    if v1_memory():
        assert pr["MemoryLimit"] == 64 << 20 and pr["CPUShares"] == 512
    else:
        assert pr["MemoryMax"] == 64 << 20 and "CPUWeight" in pr
    sd.h.assert_no_leftovers(cid, b)


def test_lifecycle_update_pause_delete(sd, fake):
    cid = sd.h.new_id()
    b = sd.bundle(["sleep", "100"], path=f"{SLICE}:ctr:{cid}", res={"memory": {"limit": 32 << 20}})
    p = sd.cmd("create", "--bundle", str(b), cid)
    assert p.returncode == 0, p.stderr
    unit = f"ctr-{cid}.scope"
    pid = sd.h.state(cid)["pid"]
    st = fake.calls(unit)[0]
    assert st["call"] == "StartTransientUnit" and st["props"]["PIDs"] == [pid]
    # the init is in the scope before it runs the container's program
    with open(f"/proc/{pid}/cgroup") as f:
        cg = f.read()
    assert f"/{SLICE_PATH}/{unit}" in cg, cg
    mem = v1_memory()
    d = os.path.join(mem or "/sys/fs/cgroup", SLICE_PATH, unit)
    limit_file = "memory.limit_in_bytes" if mem else "memory.max"
    with open(os.path.join(d, limit_file)) as f:
        assert int(f.read()) == 32 << 20
    assert sd.cmd("start", cid).returncode == 0
    # update: the properties and the files
    p = sd.h.cmd("update", "--memory", str(48 << 20), "--pids-limit", "55", cid, env=fake.env())
    assert p.returncode == 0, p.stderr
    up = [c for c in fake.calls(unit) if c["call"] == "SetUnitProperties"]
    assert len(up) == 1 and up[0]["runtime"] is True
    assert up[0]["props"]["TasksMax"] == 55
    assert up[0]["props"]["MemoryLimit" if mem else "MemoryMax"] == 48 << 20
    with open(os.path.join(d, limit_file)) as f:
        assert int(f.read()) == 48 << 20
    # pause, resume, ps work on the scope's cgroup
    assert sd.h.cmd("pause", cid).returncode == 0
    assert sd.h.status(cid) == "paused"
    assert sd.h.cmd("resume", cid).returncode == 0
    ps = sd.h.cmd("ps", "--format", "json", cid)
    assert ps.returncode == 0 and pid in json.loads(ps.stdout)
    # delete (no --systemd-cgroup needed: the state knows the unit) stops it
    assert sd.h.cmd("kill", cid, "KILL").returncode == 0
    assert sd.h.wait_status(cid, "stopped")
    p = sd.h.cmd("delete", cid, env=fake.env())
    assert p.returncode == 0, p.stderr
    assert [c["call"] for c in fake.calls(unit)][-2:] == ["StopUnit", "ResetFailedUnit"]
    assert not os.path.exists(d)
    sd.h.assert_no_leftovers(cid, b)


def test_delete_force_of_a_running_container(sd, fake):
    cid = sd.h.new_id()
    b = sd.bundle(["sleep", "100"], path=f"{SLICE}::{cid}")
    p = sd.cmd("run", "--detach", "--bundle", str(b), cid)
    assert p.returncode == 0, p.stderr
    unit = f"{cid}.scope"   # an empty prefix: NAME.scope
    pid = sd.h.state(cid)["pid"]
    p = sd.h.cmd("delete", "--force", cid, env=fake.env())
    assert p.returncode == 0, p.stderr
    assert gone(pid)
    assert [c["call"] for c in fake.calls(unit)] == ["StartTransientUnit", "StopUnit", "ResetFailedUnit"]
    sd.h.assert_no_leftovers(cid, b)


def test_refusal_and_the_default_path(sd, fake):
    # systemd's error (name and message) is the create's error; nothing is left. The fake
    # refuses system.slice, so the default path (no cgroupsPath: husk-ID.scope in
    # system.slice) is seen without husk making system.slice directories on this host.
    cid = sd.h.new_id()
    b = sd.bundle()
    p = sd.cmd("create", "--bundle", str(b), cid)
    assert p.returncode == 1
    assert f"org.freedesktop.systemd1.TestRefused: refusing husk-{cid}.scope" in p.stderr, p.stderr
    st = fake.calls(f"husk-{cid}.scope")[0]
    assert st["props"]["Slice"] == "system.slice"
    sd.h.assert_no_leftovers(cid, b)


def test_failed_job_leaves_nothing(sd, fake):
    cid = "jobfail-" + sd.h.new_id()
    sd.h.ids.append(cid)
    b = sd.bundle(path=f"{SLICE}:husk:{cid}")
    p = sd.cmd("create", "--bundle", str(b), cid)
    assert p.returncode == 1 and 'the job ended "failed"' in p.stderr, p.stderr
    unit = f"husk-{cid}.scope"
    calls = [c["call"] for c in fake.calls(unit)]
    assert calls[0] == "StartTransientUnit" and "StopUnit" in calls, calls
    sd.h.assert_no_leftovers(cid, b)


def test_create_killed_while_waiting_for_the_job(sd, fake):
    # husk dies between StartTransientUnit and its job's end: the creating mark names the
    # unit, and delete --force stops it and removes what there is
    cid = "jobhang-" + sd.h.new_id()
    sd.h.ids.append(cid)
    unit = f"husk-{cid}.scope"
    b = sd.bundle(path=f"{SLICE}:husk:{cid}")
    p = subprocess.Popen([sd.h.binary, "--root", sd.h.root, "--systemd-cgroup", "create", "--bundle", str(b), cid],
                         env=fake.env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(500):
        if fake.calls(unit):
            break
        time.sleep(0.01)
    time.sleep(0.1)
    p.kill()
    p.wait()
    st = fake.calls(unit)[0]
    init = st["props"]["PIDs"][0]
    assert os.path.isdir(os.path.join(sd.h.root, cid))
    d = sd.h.cmd("delete", "--force", cid, env=fake.env())
    assert d.returncode == 0, d.stderr
    assert "StopUnit" in [c["call"] for c in fake.calls(unit)]
    assert gone(init)
    sd.h.assert_no_leftovers(cid, b)


def test_unit_exists_is_an_error(sd, fake):
    # a second container with the same cgroupsPath: systemd refuses its unit, which is the
    # first container's; the failed create must neither stop that unit (systemd would kill
    # the first container) nor remove its cgroup, even with no process in it
    cid = sd.h.new_id()
    unit = f"same-x{cid}.scope"
    b = sd.bundle(path=f"{SLICE}:same:x{cid}")
    assert sd.cmd("create", "--bundle", str(b), cid).returncode == 0
    assert sd.h.cmd("kill", cid, "KILL").returncode == 0
    assert sd.h.wait_status(cid, "stopped")
    dirs = [os.path.join(mp, SLICE_PATH, unit) for mp in mounts()]
    assert all(os.path.isdir(d) for d in dirs)
    cid2 = sd.h.new_id()
    b2 = sd.bundle(path=f"{SLICE}:same:x{cid}")
    p = sd.cmd("create", "--bundle", str(b2), cid2)
    assert p.returncode == 1 and "UnitExists" in p.stderr, p.stderr
    assert [c["call"] for c in fake.calls(unit)] == ["StartTransientUnit"] * 2
    assert all(os.path.isdir(d) for d in dirs)
    sd.h.assert_no_leftovers(cid2, b2)
    assert sd.h.cmd("delete", cid, env=fake.env()).returncode == 0
    assert not any(os.path.isdir(d) for d in dirs)


@pytest.mark.parametrize("path,msg", [
    ("a:b", "slice:prefix:name"),
    ("a:b:c:d", "slice:prefix:name"),
    ("nodot:husk:x", "invalid slice name"),
    ("a--b.slice:husk:x", "invalid slice name"),
    ("-a.slice:husk:x", "invalid slice name"),
    ("a.slice:husk:", "non-empty"),
    ("a.slice:husk:x/y", "non-empty"),
    ("a.slice:husk:x.slice", "slice unit of its own"),
])
def test_bad_cgroups_paths(sd, fake, path, msg):
    cid = sd.h.new_id()
    b = sd.bundle(path=path)
    before = len(fake.calls())
    p = sd.cmd("create", "--bundle", str(b), cid)
    assert p.returncode == 1 and msg in p.stderr, p.stderr
    assert len(fake.calls()) == before
    sd.h.assert_no_leftovers(cid, b)


def test_round_trips_and_time(sd, fake):
    # the cost the driver adds to a run, reported by husk --debug: one write of everything
    # (the authentication, Hello, AddMatch, StartTransientUnit), then the answers; the stop
    # likewise (StopUnit), then ResetFailedUnit
    cid = sd.h.new_id()
    b = sd.bundle(["true"], path=f"{SLICE}:husk:{cid}")
    p = sd.h.cmd("--debug", "--systemd-cgroup", "run", "--bundle", str(b), cid, env=fake.env())
    assert p.returncode == 0, p.stderr
    m = re.search(r"StartTransientUnit `[^`]+` via the system bus: (\d+) round trips, (\d+) us", p.stderr)
    assert m, p.stderr
    assert int(m.group(1)) == 1
    s = re.search(r"StopUnit `[^`]+`: (\d+) round trips, (\d+) us", p.stderr)
    assert s and int(s.group(1)) == 2, p.stderr
    print(f"\nsystemd driver on a dbus-daemon: start {m.group(1)} round trip, {int(m.group(2)) / 1000:.2f} ms; "
          f"stop {s.group(1)}, {int(s.group(2)) / 1000:.2f} ms")


def test_container_holds_no_bus_connection(sd, fake):
    # the start's connection opens before the clone (with the plan): the init closes its copy,
    # the container's process has none of husk's sockets
    cid = sd.h.new_id()
    script = "for f in /proc/self/fd/*; do echo ${f##*/} $(readlink $f); done"
    b = sd.bundle(["sh", "-c", script], path=f"{SLICE}:husk:{cid}")
    p = sd.cmd("run", "--bundle", str(b), cid)
    assert p.returncode == 0, p.stderr
    fds = dict(line.split(" ", 1) for line in p.stdout.splitlines() if " " in line)
    assert not [f for f, t in fds.items() if int(f) > 2 and t.startswith("socket:")], fds
    sd.h.assert_no_leftovers(cid, b)


@pytest.mark.parametrize("version,sent", [("252.19-1~deb12u1", True), ("239 (239-58.el8)", False)])
def test_cpu_period_by_systemd_version(sd, fake, version, sent):
    # CPUQuotaPeriodUSec exists from systemd 242 on (an older one refuses the whole unit):
    # sent only when Manager.Version says so, asked only when the period is not the default
    ver = fake.log + ".version"
    with open(ver, "w") as f:
        f.write(version)
    try:
        n_get = sum(c["call"] == "Get" for c in fake.calls())
        cid = sd.h.new_id()
        res = {"cpu": {"quota": 20000, "period": 50000}}
        b = sd.bundle(["true"], path=f"{SLICE}:husk:{cid}", res=res)
        p = sd.cmd("run", "--bundle", str(b), cid)
        assert p.returncode == 0, p.stderr
        gets = [c for c in fake.calls() if c["call"] == "Get"][n_get:]
        assert [(g["iface"], g["prop"]) for g in gets] == [("org.freedesktop.systemd1.Manager", "Version")]
        pr = fake.calls(f"husk-{cid}.scope")[0]["props"]
        assert pr["CPUQuotaPerSecUSec"] == 400000
        assert ("CPUQuotaPeriodUSec" in pr) == sent, pr
        if sent:
            assert pr["CPUQuotaPeriodUSec"] == 50000
        sd.h.assert_no_leftovers(cid, b)
    finally:
        os.unlink(ver)


def test_systemds_own_socket_when_there_is_no_bus(sd, fake):
    # no system bus: as root husk falls back to /run/systemd/private, a peer-to-peer socket
    # (no Hello, no AddMatch, signals unasked). Here the stand-in's peer server is bound there
    # in a mount namespace of the test's own.
    cid = sd.h.new_id()
    unit = f"husk-{cid}.scope"
    b = sd.bundle(["true"], path=f"{SLICE}:husk:{cid}")
    script = ("mount -t tmpfs tmpfs /run/systemd && touch /run/systemd/private && "
              f"mount --bind {fake.p2p} /run/systemd/private && "
              f"exec {sd.h.binary} --debug --root {sd.h.root} --systemd-cgroup run --bundle {b} {cid}")
    env = dict(fake.env(), DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + str(sd.h.tmp / "nobus"))
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], env=env,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "via /run/systemd/private: 2 round trips" in p.stderr, p.stderr
    assert [c["call"] for c in fake.calls(unit)] == ["StartTransientUnit", "StopUnit", "ResetFailedUnit"]
    sd.h.assert_no_leftovers(cid, b)


def test_features_says_systemd(husk):
    p = husk.cmd("features", check=True)
    assert json.loads(p.stdout)["linux"]["cgroup"]["systemd"] is True


# ---- against Debian's systemd, in a husk system container (test_system_container.py's) ----

from test_system_container import in_ctr, system_container  # noqa: E402,F401  (a fixture)


def test_real_systemd_scope_made_ahead(husk, system_container):
    """With systemd's own cgroup2 tree (the system instance), husk makes the scope's directory,
    clones the init into it and lets it build while systemd takes the directory as the unit's
    (its mkdir finds it, its move finds the init there); an error answer (UnitExists) leaves
    the other container's unit and directory alone, one to a unit of its own removes the
    directory husk made; nothing is left after delete."""
    cid, out = system_container
    end = time.time() + 60
    while in_ctr(husk, cid, "test", "-S", "/run/systemd/private").returncode != 0:
        assert time.time() < end, "systemd's private socket did not appear in 60 s"
        time.sleep(0.2)
    assert in_ctr(husk, cid, "systemctl", "is-system-running", "--wait", timeout=90).stdout.strip() in (
        "running", "degraded")
    shutil.copy(HUSK, out / "husk")

    def nocg(cfg):
        cfg["linux"].pop("cgroupsPath", None)
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "cgroup"]
    husk.bundle(["cat", "/proc/self/cgroup"], edit=nocg, name="out/cat")
    husk.bundle(["sleep", "100"], edit=nocg, name="out/sleep")

    def same_unit(cfg):
        nocg(cfg)
        cfg["linux"]["cgroupsPath"] = "system.slice:husk:long"
    husk.bundle(["true"], edit=same_unit, name="out/same")

    def bad_name(cfg):
        nocg(cfg)
        cfg["linux"]["cgroupsPath"] = "system.slice:husk:a b"   # no unit name has a space
    husk.bundle(["true"], edit=bad_name, name="out/bad")
    h = ["/husk-out/husk", "--root", "/run/husk-t", "--systemd-cgroup"]

    r = in_ctr(husk, cid, *h, "--debug", "run", "--bundle", "/husk-out/cat", "one")
    assert r.returncode == 0, r.stderr
    assert "0::/system.slice/husk-one.scope" in r.stdout.splitlines(), r.stdout
    assert "the init cloned into it" in r.stderr, r.stderr

    # the detached container's stdio goes to a file, never the pipes of exec's caller
    r = in_ctr(husk, cid, "sh", "-c", 'exec "$@" </dev/null >/husk-out/long.log 2>&1', "sh", *h,
               "run", "--detach", "--bundle", "/husk-out/sleep", "long")
    assert r.returncode == 0, (out / "long.log").read_text()
    assert in_ctr(husk, cid, "systemctl", "is-active", "husk-long.scope").stdout.strip() == "active"
    show = in_ctr(husk, cid, "systemctl", "show", "-p", "Delegate", "-p", "ControlGroup", "husk-long.scope").stdout
    assert "Delegate=yes" in show and "ControlGroup=/system.slice/husk-long.scope" in show, show
    procs = in_ctr(husk, cid, "cat", "/sys/fs/cgroup/system.slice/husk-long.scope/cgroup.procs").stdout.split()
    assert len(procs) == 1, procs

    # another container asking for the same unit: UnitExists, nothing of the first touched
    r = in_ctr(husk, cid, *h, "run", "--bundle", "/husk-out/same", "other")
    assert r.returncode != 0 and "UnitExists" in r.stderr, (r.returncode, r.stderr)
    assert in_ctr(husk, cid, "systemctl", "is-active", "husk-long.scope").stdout.strip() == "active"
    assert in_ctr(husk, cid, "cat", "/sys/fs/cgroup/system.slice/husk-long.scope/cgroup.procs").stdout.split() == procs

    # refused after husk made the directory and cloned the init into it: the directory goes
    r = in_ctr(husk, cid, *h, "--debug", "run", "--bundle", "/husk-out/bad", "bad")
    assert r.returncode != 0 and "StartTransientUnit" in r.stderr, (r.returncode, r.stderr)
    assert "husk-a b.scope" not in in_ctr(husk, cid, "ls", "/sys/fs/cgroup/system.slice").stdout.splitlines()

    # killed between making the scope's directory and telling systemd (at the clone): the
    # creating mark names the directory, and delete --force removes it (README "Crash safety")
    r = in_ctr(husk, cid, "strace", "-qq", "-o", "/dev/null", "-e", "trace=clone3", "-e",
               "inject=clone3:signal=SIGKILL", *h, "run", "--bundle", "/husk-out/cat", "killed")
    assert r.returncode != 0, r.stdout
    assert "husk-killed.scope" in in_ctr(husk, cid, "ls", "/sys/fs/cgroup/system.slice").stdout.split()
    r = in_ctr(husk, cid, *h, "delete", "--force", "killed")
    assert r.returncode == 0, r.stderr
    assert "husk-killed.scope" not in in_ctr(husk, cid, "ls", "/sys/fs/cgroup/system.slice").stdout.split()

    r = in_ctr(husk, cid, *h, "delete", "--force", "long")
    assert r.returncode == 0, r.stderr
    left = in_ctr(husk, cid, "systemctl", "list-units", "--all", "--no-legend", "--plain", "husk-*.scope").stdout.strip()
    assert not left, left
    dirs = in_ctr(husk, cid, "ls", "/sys/fs/cgroup/system.slice").stdout.split()
    assert not [d for d in dirs if d.startswith("husk-")], dirs
