"""Hostile bundles: nothing a rootfs contains can make husk mount, create or write outside it."""
import os
import uuid

import pytest


def host_mounts():
    with open("/proc/self/mountinfo") as f:
        return f.read()


def check_host_unchanged(before, *paths):
    assert host_mounts().count("\n") == before.count("\n"), "the host's mount table changed"
    for p in paths:
        assert not os.path.exists(p), f"{p} was created on the host"


def test_symlinked_destination_stays_inside(husk, tmp_path):
    target = tmp_path / ("host-" + uuid.uuid4().hex[:6])
    target.mkdir()

    def edit(c):
        c["mounts"].append({"destination": "/evil/inner", "type": "tmpfs", "source": "tmpfs"})
        c["mounts"].append({"destination": "/up/x", "type": "tmpfs", "source": "tmpfs"})
    b = husk.bundle(["cat", "/proc/self/mountinfo"], edit=edit)
    # absolute and ../ symlinks that would leave the rootfs if followed on the host
    os.symlink(str(target), b / "rootfs" / "evil")
    os.symlink("../../../../../../../../" + str(target).lstrip("/"), b / "rootfs" / "up")
    before = host_mounts()
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    check_host_unchanged(before, target / "inner", target / "x")
    assert os.listdir(target) == []
    # the mounts landed inside the rootfs, where the symlinks resolve relative to it
    assert (b / "rootfs" / str(target).lstrip("/") / "inner").is_dir()
    points = [line.split()[4] for line in p.stdout.splitlines()]
    assert str(target / "inner") in points and str(target / "x") in points


def test_proc_as_symlink_is_refused(husk, tmp_path):
    """CVE-2023-28642 (the /proc-as-a-symlink sequel of CVE-2019-16884, fixed in runc 1.1.5): an
    image whose /proc is a symlink would have procfs mounted wherever it points, and the LSM
    label written through a /proc that is not procfs. The mount over /proc itself is
    test_bind_over_proc_is_refused."""
    b = husk.bundle(["true"])
    os.rmdir(b / "rootfs" / "proc")
    os.symlink("/tmp", b / "rootfs" / "proc")
    before = host_mounts()
    cid, p = husk.create(b, check=False)
    assert p.returncode == 1 and "/proc" in p.stderr and "not a directory" in p.stderr
    check_host_unchanged(before)
    husk.assert_no_leftovers(cid, b)


def test_symlinked_dev_stays_inside(husk, tmp_path):
    hostdir = tmp_path / "hostdev"
    hostdir.mkdir()
    b = husk.bundle(["sh", "-c", "echo x > /dev/null && head -c1 /dev/urandom | wc -c"])
    os.rmdir(b / "rootfs" / "dev")
    os.symlink(str(hostdir), b / "rootfs" / "dev")
    before = host_mounts()
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "1"
    check_host_unchanged(before)
    assert os.listdir(hostdir) == []


def test_device_path_escape_is_refused(husk):
    def edit(c):
        c["linux"]["devices"] = [{"path": "/dev/../../etc/evil", "type": "c", "major": 1, "minor": 3}]
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "/dev/../../etc/evil" in p.stderr
    assert not os.path.exists("/etc/evil")


def test_bind_onto_symlinked_file_stays_inside(husk, tmp_path):
    secret = tmp_path / "host-file"
    secret.write_text("host\n")
    src = tmp_path / "src"
    src.write_text("container\n")

    def edit(c):
        c["mounts"].append({"destination": "/etc/target", "type": "bind", "source": str(src), "options": ["bind"]})
    b = husk.bundle(["cat", "/etc/target"], edit=edit)
    os.symlink(str(secret), b / "rootfs" / "etc" / "target")
    before = host_mounts()
    cid, p = husk.run(b)
    check_host_unchanged(before)
    assert secret.read_text() == "host\n"
    # either the bind landed inside the rootfs or it was refused; never on the host file
    if p.returncode == 0:
        assert p.stdout == "container\n"


def test_non_namespaced_sysctl_refused(husk):
    def edit(c):
        c["linux"]["sysctl"] = {"vm.overcommit_memory": "1"}
    b = husk.bundle(edit=edit)
    before = open("/proc/sys/vm/overcommit_memory").read()
    cid, p = husk.create(b, check=False)
    assert p.returncode == 1 and "not namespaced" in p.stderr
    assert open("/proc/sys/vm/overcommit_memory").read() == before


def test_namespaced_sysctl_set_inside(husk):
    def edit(c):
        c["linux"]["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "80", "kernel.shmmni": "1000"}
    host = open("/proc/sys/net/ipv4/ip_unprivileged_port_start").read()
    cid, p = husk.run(husk.bundle(["sh", "-c", "cat /proc/sys/net/ipv4/ip_unprivileged_port_start "
                                               "/proc/sys/kernel/shmmni"], edit=edit))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["80", "1000"]
    assert open("/proc/sys/net/ipv4/ip_unprivileged_port_start").read() == host


def _fake_proc(root):
    """A tree of ordinary files shaped like the /proc files husk writes after pivot_root."""
    for d in ("self", "thread-self/attr", "sys/net/ipv4"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for f in ("self/oom_score_adj", "thread-self/attr/exec", "sys/net/ipv4/ip_forward"):
        (root / f).write_text("0\n")
    return {f: (root / f) for f in ("self/oom_score_adj", "thread-self/attr/exec", "sys/net/ipv4/ip_forward")}


def _untouched(files):
    return {k: v.read_text() for k, v in files.items()} == {k: "0\n" for k in files}


@pytest.mark.parametrize("dest", ["/proc", "/proc/self", "/sneaky"])
def test_bind_over_proc_is_refused(husk, tmp_path, dest):
    """CVE-2019-16884: a malicious image's volume at /proc (a bind of ordinary files over the
    procfs mount) made the writes meant for the kernel (LSM label, oomScoreAdj, sysctls) land in
    those files: the container ran without them. Also below /proc and through a symlink in the
    rootfs that leads there."""
    vol = tmp_path / "volume"
    files = _fake_proc(vol)
    src = vol / "self" if dest == "/proc/self" else vol

    def edit(c):
        c["process"]["oomScoreAdj"] = 500
        c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
        # after the proc mount, as an engine adds an image's volumes
        c["mounts"].append({"destination": dest, "type": "bind", "source": str(src), "options": ["rbind"]})
    b = husk.bundle(["true"], edit=edit)
    if dest == "/sneaky":
        os.symlink("/proc", b / "rootfs" / "sneaky")
    before = host_mounts()
    cid, p = husk.create(b, check=False)
    assert p.returncode == 1 and "only procfs" in p.stderr, (p.returncode, p.stderr)
    assert _untouched(files), "a write meant for procfs landed in the volume"
    check_host_unchanged(before)
    husk.assert_no_leftovers(cid, b)


def test_lxcfs_style_binds_into_proc_still_work(husk, tmp_path):
    """The files lxcfs emulates may be bound over their /proc counterparts (runc allows the
    same ones), and procfs itself may be bound anywhere."""
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 42 kB\n")

    def edit(c):
        c["mounts"].append({"destination": "/proc/meminfo", "type": "bind", "source": str(meminfo),
                            "options": ["bind", "ro"]})
    cid, p = husk.run(husk.bundle(["head", "-1", "/proc/meminfo"], edit=edit))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "MemTotal: 42 kB"


def test_fake_proc_in_the_image_gets_no_writes(husk):
    """Without a proc mount, /proc is whatever the image ships: oomScoreAdj is refused rather
    than written into an ordinary file and reported as applied."""
    def edit(c):
        c["mounts"] = [m for m in c["mounts"] if m["type"] != "proc"]
        c["linux"]["readonlyPaths"] = []
        c["linux"]["maskedPaths"] = []
        c["process"]["oomScoreAdj"] = 500
    b = husk.bundle(["true"], edit=edit)
    files = _fake_proc(b / "rootfs" / "proc")
    cid, p = husk.create(b, check=False)
    assert p.returncode == 1 and "procfs" in p.stderr, (p.returncode, p.stderr)
    assert _untouched(files)
    husk.assert_no_leftovers(cid, b)
