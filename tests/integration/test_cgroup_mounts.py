"""Mounts of type cgroup: their filesystem options reach the kernel, and a cgroup2 already
visible at the destination (/sys bound from the host) still gives the container its own
cgroup. Run on the hybrid host and in the pure-v2 private view (../shared/TESTING.md)."""
import pytest

from test_cgroups import run_in_v2_view


def cgroup_mount(options, cgroupns=True, rbind_sys=False):
    def edit(c):
        if cgroupns:
            c["linux"]["namespaces"].append({"type": "cgroup"})
        if rbind_sys:
            # the host's network namespace: sysfs cannot be mounted fresh, /sys is bound with
            # its submounts, the host's cgroup mount among them
            c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
            c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/sys"]
            c["mounts"].append({"destination": "/sys", "type": "bind", "source": "/sys",
                                "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})
        c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                            "options": ["nosuid", "noexec", "nodev", "relatime", *options]})
    return edit


def run(husk, view, args, edit):
    b = husk.bundle(args, edit=edit)
    if view == "v2":
        cid = husk.new_id()
        return run_in_v2_view(husk, b, cid)
    return husk.run(b)[1]


@pytest.mark.parametrize("view", ["hybrid", "v2"])
@pytest.mark.parametrize("cgroupns", [True, False], ids=["cgroupns", "host-cgroupns"])
def test_invalid_cgroup_option_fails_create(husk, view, cgroupns):
    p = run(husk, view, ["true"], cgroup_mount(["bogus"], cgroupns))
    assert p.returncode != 0
    assert "bogus" in p.stderr and "Invalid argument" in p.stderr, p.stderr


@pytest.mark.parametrize("view", ["hybrid", "v2"])
def test_cgroup2_option_is_taken(husk, view):
    # nsdelegate is cgroup2's: in a cgroup namespace the kernel checks it without changing the
    # host's hierarchy; on the hybrid host the v1 hierarchies do without it
    p = run(husk, view, ["cat", "/proc/self/cgroup"], cgroup_mount(["nsdelegate"]))
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("view", ["hybrid", "v2"])
def test_cgroup2_over_host_sys_is_the_containers(husk, view):
    # the host's cgroup2 is already mounted at /sys/fs/cgroup: the kernel refuses a fresh
    # cgroup2 there (EBUSY); the container still sees its own cgroup and no parent
    script = ("cat /proc/self/cgroup; d=/sys/fs/cgroup; [ -e $d/unified ] && d=$d/unified; "
              "echo procs: $(cat $d/cgroup.procs); ls $d | grep -c husk- || true")
    p = run(husk, view, ["sh", "-c", script], cgroup_mount([], rbind_sys=True))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "0::/" in lines
    # only the container's processes: sh is pid 1, and cat/ls have come and gone
    assert any(line.startswith("procs: 1") for line in lines), p.stdout
    assert lines[-1] == "0", p.stdout   # no sibling husk-* cgroups visible
