"""Rootless --systemd-cgroup: husk asks the user's systemd manager (user@UID.service) on the
user bus for the container's scope, as runc and crun do for rootless podman. The whole path
runs against the real user manager in the systemd VM (tests/vm/systemd-user.sh); here, what
needs no user manager: the feature, where husk looks for the bus and its refusals."""
import json
import os
import sys

import pytest

from test_cgroup2 import deleg  # noqa: F401  (the private pure-v2 view with a delegated directory)


def test_features_says_systemd_user(rl):
    p = rl.cmd("features", check=True)
    assert json.loads(p.stdout)["linux"]["cgroup"]["systemdUser"] is True


def test_no_user_bus_names_where_it_looked(rl):
    b = rl.bundle(args=("true",))
    # XDG_RUNTIME_DIR without a bus socket in it, no DBUS_SESSION_BUS_ADDRESS
    p = rl.cmd("--systemd-cgroup", "run", "--bundle", b, rl.new_id())
    assert p.returncode != 0
    assert "DBUS_SESSION_BUS_ADDRESS is not set" in p.stderr, p.stderr
    assert os.path.join(rl.xdg, "bus") in p.stderr and "XDG_RUNTIME_DIR" in p.stderr, p.stderr
    # nothing made: the state directory of that id is gone again
    assert not os.path.exists(os.path.join(rl.xdg, "husk", rl.ids[-1]))
    # neither variable
    p = rl.cmd("--root", os.path.join(rl.base, "st"), "--systemd-cgroup", "run", "--bundle", b, rl.new_id(),
               xdg=False)
    assert p.returncode != 0
    assert "DBUS_SESSION_BUS_ADDRESS is not set and XDG_RUNTIME_DIR is not set" in p.stderr, p.stderr


def v1_host():
    with open("/proc/self/mountinfo") as f:
        return any(" - cgroup " in l for l in f)


def test_cgroup_v1_host_refused_as_runc_does(rl):
    """systemd delegates no v1 hierarchy to a user: runc refuses rootless systemd cgroups on
    v1 too. husk says so before anything is made, naming the way out."""
    if not v1_host():
        pytest.skip("a pure cgroup v2 host (the systemd VM covers it)")
    b = rl.bundle(args=("true",))
    bus = "unix:path=" + os.path.join(rl.base, "nobus")
    p = rl.cmd(f"DBUS_SESSION_BUS_ADDRESS={bus}", rl.binary, "--systemd-cgroup", "run", "--bundle", b, rl.new_id(),
               binary="env")
    assert p.returncode != 0
    assert "needs a cgroup v2 host" in p.stderr and "cgroupfs driver" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(rl.xdg, "husk", rl.ids[-1]))


# ---- the whole path against a stand-in user manager ----
# A real dbus-daemon as the user's bus ($XDG_RUNTIME_DIR/bus) and a stand-in for the user's
# systemd (python3-dbus, run as a script) that answers as systemd does and records the calls:
# its ControlGroup is the delegated directory of test_cgroup2's private pure-v2 view, where
# husk makes the scope's directory itself (the stand-in makes none) and the stand-in moves the
# processes AttachProcessesToUnit names.

BUS_CONFIG = open(os.path.join(os.path.dirname(__file__), "..", "integration", "dbus-bus.conf.in")).read()


def serve(address, log_path, control_group, host_dir):
    import dbus
    import dbus.service
    from dbus.mainloop.glib import DBusGMainLoop
    from gi.repository import GLib

    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    name = dbus.service.BusName("org.freedesktop.systemd1", bus)
    iface = "org.freedesktop.systemd1.Manager"

    def record(**kw):
        with open(log_path, "a") as f:
            f.write(json.dumps(kw) + "\n")

    class Manager(dbus.service.Object):
        jobs = 0
        slices = {}

        def job(self, unit):
            Manager.jobs += 1
            n, path = Manager.jobs, f"/org/freedesktop/systemd1/job/{Manager.jobs}"
            GLib.idle_add(lambda: self.JobRemoved(dbus.UInt32(n), dbus.ObjectPath(path), unit, "done") and False)
            return dbus.ObjectPath(path)

        def uid(self, sender):
            return int(bus.get_unix_user(sender))

        @dbus.service.method(iface, in_signature="ssa(sv)a(sa(sv))", out_signature="o", sender_keyword="sender")
        def StartTransientUnit(self, unit, mode, props, aux, sender=None):
            p = {str(k): v for k, v in props}
            Manager.slices[str(unit)] = str(p["Slice"])
            record(call="StartTransientUnit", unit=str(unit), uid=self.uid(sender), names=sorted(p),
                   slice=str(p["Slice"]), pids=[int(x) for x in p["PIDs"]], tasks=int(p.get("TasksMax", 0)))
            return self.job(unit)

        @dbus.service.method(iface, in_signature="ss", out_signature="o")
        def StopUnit(self, unit, mode):
            record(call="StopUnit", unit=str(unit))
            return self.job(unit)

        @dbus.service.method(iface, in_signature="s", out_signature="")
        def ResetFailedUnit(self, unit):
            record(call="ResetFailedUnit", unit=str(unit))

        @dbus.service.method(iface, in_signature="sba(sv)", out_signature="")
        def SetUnitProperties(self, unit, runtime, props):
            record(call="SetUnitProperties", unit=str(unit))

        @dbus.service.method(iface, in_signature="ssau", out_signature="", sender_keyword="sender")
        def AttachProcessesToUnit(self, unit, sub, pids, sender=None):
            record(call="AttachProcessesToUnit", unit=str(unit), uid=self.uid(sender), pids=[int(x) for x in pids])
            # systemd (the system manager, for a user manager) moves the user's processes
            d = f"{host_dir}/{Manager.slices[str(unit)]}/{unit}"
            for pid in pids:
                with open(d + "/cgroup.procs", "w") as f:
                    f.write(str(int(pid)))

        @dbus.service.method(iface, in_signature="", out_signature="")
        def Subscribe(self):
            pass

        @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="ss", out_signature="v")
        def Get(self, interface, prop):
            record(call="Get", prop=str(prop))
            return dbus.String(control_group, variant_level=1)

        @dbus.service.signal(iface, signature="uoss")
        def JobRemoved(self, id_, job, unit, result):
            pass

    Manager(bus, "/org/freedesktop/systemd1")
    with open(log_path + ".ready", "w") as f:
        f.write("1")
    GLib.MainLoop().run()
    del name


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    serve(*sys.argv[2:])
    sys.exit(0)


@pytest.fixture
def user_manager(rl, deleg):
    """(prefix into the private view, log reader, host path of the manager's cgroup)"""
    import shutil
    import subprocess
    import time
    if not shutil.which("dbus-daemon"):
        pytest.skip("dbus-daemon is not installed")
    prefix, base, hostdir, _ = deleg
    sock = os.path.join(rl.xdg, "bus")
    conf = os.path.join(rl.base, "bus.conf")
    with open(conf, "w") as f:
        f.write(BUS_CONFIG.format(sock=sock))
    daemon = subprocess.Popen(["dbus-daemon", "--nofork", "--print-address", f"--config-file={conf}"],
                              stdout=subprocess.PIPE, text=True)
    address = daemon.stdout.readline().strip()
    log = os.path.join(rl.base, "calls.jsonl")
    service = subprocess.Popen(["/usr/bin/python3", __file__, "--serve", address, log, base,
                                f"{hostdir}/ctrs"])
    for _ in range(200):
        if os.path.exists(log + ".ready"):
            break
        time.sleep(0.025)
    else:
        raise AssertionError("the stand-in user manager did not start")

    def calls():
        if not os.path.exists(log):
            return []
        with open(log) as f:
            return [json.loads(line) for line in f]
    yield prefix, calls, f"{hostdir}/ctrs"
    # the containers go (deleg's own cleanup) while the manager still answers
    for i in rl.ids:
        rl.cmd("delete", "--force", i, prefix=prefix)
    for p in (service, daemon):
        p.terminate()
        p.wait(5)


def test_lifecycle_through_the_user_manager(rl, user_manager):
    prefix, calls, mgr = user_manager
    cid = rl.new_id()
    unit = f"husk-{cid}.scope"
    b = rl.bundle(["sleep", "100"])
    # no DBUS_SESSION_BUS_ADDRESS: $XDG_RUNTIME_DIR/bus
    p = rl.cmd("--systemd-cgroup", "--debug", "run", "-d", "--bundle", b, cid, prefix=prefix)
    assert p.returncode == 0, p.stderr
    assert "via the user bus" in p.stderr, p.stderr
    st = json.loads(rl.cmd("state", cid, prefix=prefix, check=True).stdout)
    start = [c for c in calls() if c["call"] == "StartTransientUnit"][-1]
    assert start["unit"] == unit and start["slice"] == "user.slice" and start["pids"] == [st["pid"]]
    assert start["uid"] == rl.uid
    assert "Delegate" in start["names"] and "DevicePolicy" not in start["names"]
    assert [c["prop"] for c in calls() if c["call"] == "Get"] == ["ControlGroup"]
    scope = f"{mgr}/user.slice/{unit}"
    assert str(st["pid"]) in open(scope + "/cgroup.procs").read().split()
    # exec from outside the delegated tree (the move needs a cgroup.procs above that is root's):
    # the manager moves it
    outside = prefix[:prefix.index("--") + 1]
    p = rl.cmd("exec", cid, "cat", "/proc/self/cgroup", prefix=outside)
    assert p.returncode == 0 and p.stdout.split()[-1] == "0::/", (p.stdout, p.stderr)
    att = [c for c in calls() if c["call"] == "AttachProcessesToUnit"]
    assert len(att) == 1 and att[0]["unit"] == unit and att[0]["uid"] == rl.uid
    # from inside it (a login below the manager) husk moves it itself
    p = rl.cmd("exec", cid, "cat", "/proc/self/cgroup", prefix=prefix)
    assert p.returncode == 0 and p.stdout.split()[-1] == "0::/", (p.stdout, p.stderr)
    assert len([c for c in calls() if c["call"] == "AttachProcessesToUnit"]) == 1
    rl.cmd("delete", "--force", cid, prefix=prefix, check=True)
    assert [c["call"] for c in calls() if c.get("unit") == unit][-2:] == ["StopUnit", "ResetFailedUnit"]
    assert not os.path.exists(scope)


def test_user_namespace_claims_the_outer_uid(rl, user_manager):
    """Rootless podman runs the runtime as uid 0 of its user namespace: the bus sees the user's
    uid, and EXTERNAL must claim that one (claiming 0 is refused)."""
    prefix, calls, mgr = user_manager
    cid = rl.new_id()

    def edit(c):
        # inside `unshare -r` the user is uid 0: the container maps that
        for k in ("uidMappings", "gidMappings"):
            c["linux"][k] = [{"containerID": 0, "hostID": 0, "size": 1}]
    b = rl.bundle(["sleep", "100"], edit=edit)
    p = rl.cmd("-U", "-r", "--", rl.binary, "--systemd-cgroup", "run", "-d", "--bundle", b, cid, prefix=prefix,
               binary="unshare")
    assert p.returncode == 0, p.stderr
    start = [c for c in calls() if c["call"] == "StartTransientUnit"][-1]
    assert start["unit"] == f"husk-{cid}.scope" and start["uid"] == rl.uid
    p = rl.cmd("-U", "-r", "--", rl.binary, "delete", "--force", cid, prefix=prefix, binary="unshare")
    assert p.returncode == 0, p.stderr
    assert not os.path.exists(f"{mgr}/user.slice/husk-{cid}.scope")


def test_system_container_root_keeps_the_system_instance(rl, user_manager):
    """uid 0 of a user namespace with USER=root is a system container's root (as for the state
    directory): its systemd is the system instance, not a user manager (runc: the user bus's
    OwnerUID 0). Here there is no system bus: the error says so, and the user manager saw
    nothing."""
    prefix, calls, mgr = user_manager
    cid = rl.new_id()
    before = len(calls())
    b = rl.bundle(["true"])
    p = rl.cmd("USER=root", "unshare", "-U", "-r", "--", rl.binary, "--root", os.path.join(rl.base, "st"),
               "--systemd-cgroup", "run", "--bundle", b, cid, prefix=prefix, binary="env")
    assert p.returncode != 0
    assert "systemd is not reachable" in p.stderr and "user" not in p.stderr, p.stderr
    assert len(calls()) == before
