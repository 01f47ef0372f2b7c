"""A container below a parent cgroup someone else made (an engine's slice) whose
cgroup.subtree_control lacks a controller the config needs: husk enables it along the path
from the hierarchy's root, as runc's v2 manager does, instead of failing. The only cgroup2
controller here is hugetlb (../shared/TESTING.md); the "slice" is made by the test below our
own cgroup2 cgroup, in the hybrid host's unified tree and in the pure-v2 private view."""
import os
import subprocess
import uuid

import pytest

from conftest import HUSK
from test_cgroups import own

LIMIT = 4 << 20


def v2_root(view):
    """The cgroup2 root as this process sees it: the v2 view mounts the same hierarchy."""
    return "/sys/fs/cgroup/unified" if os.path.exists("/sys/fs/cgroup/unified/cgroup.controllers") else "/sys/fs/cgroup"


@pytest.fixture
def slice_dir():
    """An empty cgroup2 directory below our own, its subtree_control empty; removed after."""
    made = []

    def make(view):
        rel = own("").rstrip("/") + f"/husk-slice-{uuid.uuid4().hex[:8]}"
        d = v2_root(view) + rel
        os.mkdir(d)
        made.append(d)
        return rel, d
    yield make
    for d in reversed(made):
        for sub in os.listdir(d):
            p = os.path.join(d, sub)
            if os.path.isdir(p):
                os.rmdir(p)
        os.rmdir(d)


def in_view(view, husk, *args):
    cmd = [HUSK, "--root", husk.root, *args]
    if view == "v2":
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"', "sh", *cmd]
    # files, not pipes: a created init keeps its stdio open
    with open(husk.tmp / "view-out", "w+") as out, open(husk.tmp / "view-err", "w+") as err:
        p = subprocess.run(cmd, stdout=out, stderr=err, timeout=30, stdin=subprocess.DEVNULL)
        out.seek(0)
        err.seek(0)
        p.stdout, p.stderr = out.read(), err.read()
    return p


def hugetlb_in_root(view):
    with open(v2_root(view) + "/cgroup.controllers") as f:
        return "hugetlb" in f.read().split()


@pytest.mark.parametrize("view", ["hybrid", "v2"])
def test_controller_enabled_in_a_parent_husk_did_not_make(husk, slice_dir, view):
    if not os.path.exists("/sys/kernel/mm/hugepages/hugepages-2048kB") or not hugetlb_in_root("hybrid"):
        pytest.skip("no 2MB huge pages or no hugetlb controller in cgroup2")
    rel, d = slice_dir(view)
    with open(d + "/cgroup.subtree_control") as f:
        assert "hugetlb" not in f.read()
    cid = husk.new_id()

    def edit(c):
        c["linux"]["cgroupsPath"] = f"{rel}/{cid}"
        c["linux"]["resources"] = {"hugepageLimits": [{"pageSize": "2MB", "limit": LIMIT}]}
    # the init reads its own limit, so it is checked before delete removes the cgroup
    b = husk.bundle(["cat", "/proc/self/cgroup"], edit=edit)
    p = in_view(view, husk, "create", "--bundle", str(b), cid)
    assert p.returncode == 0, p.stderr
    try:
        with open(d + "/cgroup.subtree_control") as f:
            assert "hugetlb" in f.read().split()
        with open(f"{d}/{cid}/hugetlb.2MB.max") as f:
            assert int(f.read()) == LIMIT
    finally:
        assert in_view(view, husk, "delete", "--force", cid).returncode == 0


def test_controller_the_hierarchy_lacks_stays_an_error(husk, slice_dir):
    rel, d = slice_dir("v2")
    cid = husk.new_id()

    def edit(c):
        c["linux"]["cgroupsPath"] = f"{rel}/{cid}"
        c["linux"]["resources"] = {"pids": {"limit": 10}}
    b = husk.bundle(["true"], edit=edit)
    p = in_view("v2", husk, "create", "--bundle", str(b), cid)
    assert p.returncode != 0
    assert "pids controller, which this host does not provide" in p.stderr, p.stderr
    with open(d + "/cgroup.subtree_control") as f:
        assert f.read().strip() == ""   # nothing enabled for a controller no one can give
    assert not os.path.exists(f"{d}/{cid}")
