"""Mounts into /proc (CVE-2019-16884 class) and husk's own /proc writes redirected into them
(CVE-2025-52881). The rootfs points a symlink into /proc, a volume is mounted on that symlink,
and husk would then write oomScoreAdj or a sysctl into a decoy file of that volume."""
import json
import os
import subprocess

import pytest

from conftest import build_c


def volume_bundle(husk, tmp_path, link_target, decoy_name, edit_more, args=("true",)):
    vol = tmp_path / "vol"
    vol.mkdir()
    decoy = vol / decoy_name
    decoy.write_text("decoy\n")

    def edit(c):
        c["mounts"].append({"destination": "/data", "type": "bind", "source": str(vol), "options": ["rbind"]})
        edit_more(c)
    b = husk.bundle(list(args), edit=edit)
    os.symlink(link_target, b / "rootfs" / "data")
    return b, decoy


def test_volume_on_proc_pid_through_symlink(husk, tmp_path):
    # /data -> /proc/1: the volume would cover the init's /proc/1, and oom_score_adj land in it
    b, decoy = volume_bundle(husk, tmp_path, "/proc/1", "oom_score_adj",
                             lambda c: c["process"].__setitem__("oomScoreAdj", 500))
    cid, p = husk.run(b)
    assert decoy.read_text() == "decoy\n", "husk wrote oomScoreAdj into the volume"
    assert p.returncode == 1 and "inside /proc" in p.stderr, p.stderr
    husk.assert_no_leftovers(cid, b)


def test_volume_on_sysctl_dir_through_symlink(husk, tmp_path):
    # /data -> /proc/sys/net/ipv4: the sysctl write would go to the volume's ip_forward
    b, decoy = volume_bundle(husk, tmp_path, "/proc/sys/net/ipv4", "ip_forward",
                             lambda c: c["linux"].__setitem__("sysctl", {"net.ipv4.ip_forward": "1"}))
    cid, p = husk.run(b)
    assert decoy.read_text() == "decoy\n", "husk wrote the sysctl into the volume"
    assert p.returncode == 1 and "inside /proc" in p.stderr, p.stderr


def test_mounts_inside_proc_are_refused(husk, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for dest, typ, source in [("/proc/sys", "tmpfs", "tmpfs"), ("/proc/1", "bind", str(src)),
                              ("/proc", "bind", str(src)), ("/proc/sys", "sysfs", "sysfs")]:
        def edit(c, dest=dest, typ=typ, source=source):
            c["mounts"].append({"destination": dest, "type": typ, "source": source, "options": ["rbind"]
                                if typ == "bind" else []})
        cid, p, b = husk.create_edited(edit)
        assert p.returncode == 1 and "/proc" in p.stderr, (dest, typ, p.stderr)


def test_lxcfs_style_binds_and_proc_on_proc_still_work(husk, tmp_path):
    # runc 1.1.5's list: files lxcfs emulates may be bound over their /proc entries
    fake = tmp_path / "fake-meminfo"
    fake.write_text("MemTotal: 42 kB\n")

    def edit(c):
        c["mounts"].append({"destination": "/proc/meminfo", "type": "bind", "source": str(fake),
                            "options": ["bind", "ro"]})
        c["mounts"].append({"destination": "/proc/uptime", "type": "bind", "source": str(fake),
                            "options": ["bind", "ro"]})
        c["process"]["oomScoreAdj"] = 100
        c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    b = husk.bundle(["sh", "-c", "cat /proc/meminfo /proc/uptime /proc/self/oom_score_adj "
                                 "/proc/sys/net/ipv4/ip_forward"], edit=edit)
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n") == ["MemTotal: 42 kB", "MemTotal: 42 kB", "100", "1", ""]


def add_mount_hook(b, source, target_in_rootfs):
    """A createContainer hook (before pivot_root, in the container's mount namespace) that
    binds source over a file of the rootfs's /proc: what a mount husk did not check would do."""
    c = json.loads((b / "config.json").read_text())
    c.setdefault("hooks", {})["createContainer"] = [{
        "path": "/bin/mount", "args": ["mount", "--bind", str(source), f"{b}/rootfs{target_in_rootfs}"]}]
    (b / "config.json").write_text(json.dumps(c))


def test_covered_sysctl_is_not_written(husk, tmp_path):
    # past every mount check: husk's writes go through a verified procfs handle that crosses
    # no mount, so a file bound over /proc/sys is refused rather than written
    decoy = tmp_path / "decoy"
    decoy.write_text("decoy\n")
    b = husk.bundle(["true"], edit=lambda c: c["linux"].__setitem__("sysctl", {"net.ipv4.ip_forward": "1"}))
    add_mount_hook(b, decoy, "/proc/sys/net/ipv4/ip_forward")
    cid, p = husk.run(b)
    assert decoy.read_text() == "decoy\n", "the sysctl was written to the file mounted over it"
    assert p.returncode == 1 and "ip_forward" in p.stderr, p.stderr


@pytest.fixture
def decoy_process():
    """A process of the test's own whose procfs files stand in for the ones a redirected write
    would reach (CVE-2025-52881: a procfs file bound over another passes any "is it procfs"
    check made on the file alone)."""
    p = subprocess.Popen(["sleep", "60"])
    yield p
    p.kill()
    p.wait()


def test_procfs_file_bound_over_oom_score_adj(husk, decoy_process):
    pid = decoy_process.pid
    before = open(f"/proc/{pid}/oom_score_adj").read()
    b = husk.bundle(["true"], edit=lambda c: c["process"].__setitem__("oomScoreAdj", 567))
    add_mount_hook(b, f"/proc/{pid}/oom_score_adj", "/proc/1/oom_score_adj")
    cid, p = husk.run(b)
    assert open(f"/proc/{pid}/oom_score_adj").read() == before, "oomScoreAdj went to another process"
    assert p.returncode == 1 and "oom" in p.stderr.lower(), p.stderr


def test_procfs_file_bound_over_sysctl(husk, decoy_process):
    pid = decoy_process.pid
    b = husk.bundle(["true"], edit=lambda c: c["linux"].__setitem__("sysctl", {"net.ipv4.ip_forward": "1"}))
    before = open(f"/proc/{pid}/oom_score_adj").read()
    add_mount_hook(b, f"/proc/{pid}/oom_score_adj", "/proc/sys/net/ipv4/ip_forward")
    cid, p = husk.run(b)
    assert open(f"/proc/{pid}/oom_score_adj").read() == before, "the sysctl went to another process's file"
    assert p.returncode == 1 and "ip_forward" in p.stderr, p.stderr


RACER = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
/* swaps /shared/dir (a directory) and /shared/link (a symlink) until argv[1] seconds pass */
int main(int argc, char **argv)
{
    time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 5);
    while (time(NULL) < end)
        for (int i = 0; i < 1000; i++)
            syscall(SYS_renameat2, AT_FDCWD, "/shared/dir", AT_FDCWD, "/shared/link", 2 /* RENAME_EXCHANGE */);
    return 0;
}
"""


def test_symlink_exchange_race_cve_2021_30465(husk, tmp_path):
    """Two containers share a rootfs: the first swaps a directory and a symlink (to a host
    decoy directory) with RENAME_EXCHANGE while husk mounts the second's volumes under it.
    A mount by path resolved before the swap would follow the symlink on the host and cover the
    decoy; husk mounts the fd it resolved inside the rootfs, so nothing lands outside."""
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "marker").write_text("host\n")
    racer_bundle = husk.bundle(["/racer", "8"])
    rootfs = racer_bundle / "rootfs"
    if not build_c(tmp_path, "#include <stdlib.h>\n" + RACER, rootfs / "racer"):
        import pytest
        pytest.skip("no C compiler for the racer")
    shared = rootfs / "shared"
    shared.mkdir()
    (shared / "dir").mkdir()
    os.symlink(str(decoy), shared / "link")
    victim_cfg = racer_bundle.parent / "victim"
    victim_cfg.mkdir()
    cfg = json.loads((racer_bundle / "config.json").read_text())
    cfg["root"]["path"] = str(rootfs)
    cfg["process"]["args"] = ["true"]
    cfg["mounts"] += [{"destination": f"/shared/dir/m{i}", "type": "tmpfs", "source": "tmpfs"}
                      for i in range(8)]
    (victim_cfg / "config.json").write_text(json.dumps(cfg))
    racer_id = husk.new_id()
    husk.cmd("run", "--detach", "--bundle", str(racer_bundle), racer_id, check=True)
    try:
        with open("/proc/self/mountinfo") as f:
            before = f.read().count("\n")
        for _ in range(40):
            cid, p = husk.run(victim_cfg)
            husk.cmd("delete", "--force", cid)
            assert sorted(os.listdir(decoy)) == ["marker"], "a volume landed in the host's decoy directory"
            assert (decoy / "marker").read_text() == "host\n"
        with open("/proc/self/mountinfo") as f:
            assert f.read().count("\n") == before, "the host's mount table changed"
    finally:
        husk.cmd("delete", "--force", racer_id)
