"""linux.rootfsPropagation and bind propagation (config-linux.md "Rootfs Mount Propagation",
config.md "Mounts"), decided against runc 1.1.5 side by side.

A tmpfs made shared on the host is bound into the container with rbind,rshared; the container
mounts a tmpfs below it; whether the host sees that mount depends on rootfsPropagation, because
it is applied to the host's tree in the container's mount namespace before the bind (runc's
prepareRoot): a recursive slave or private makes the host's copy stop sending events back.
runc 1.1.5 gave the same answers for every value but "unbindable" and "runbindable", which it
refuses (its rootfs bind fails below an unbindable "/"); husk makes the container's rootfs
unbindable instead, as the spec describes (crun 1.8.1 does for "unbindable"; runc's main branch
now keeps the rootfs bind working the same way)."""
import os
import subprocess

import pytest

from test_mounts import mountinfo

# rootfsPropagation → does a mount made in the container at an rshared bind reach the host
REACHES_HOST = {
    None: False,            # husk's and runc's default: rslave
    "shared": True,         # what Docker sends for --mount bind-propagation=rshared
    "rshared": True,
    "slave": True,          # only "/" itself is made a slave: the host's shared tmpfs stays a peer
    "rslave": False,
    "private": True,
    "rprivate": False,
    "unbindable": True,     # runc 1.1.5: refused (see above)
    "runbindable": False,   # runc 1.1.5: refused
}


@pytest.fixture
def host_mounts():
    """Mounts a test makes on the host, lazily and recursively unmounted afterwards."""
    made = []
    yield made
    for m in reversed(made):
        subprocess.run(["umount", "-R", "-l", str(m)], stderr=subprocess.DEVNULL)


def shared_tmpfs(path, host_mounts):
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "husk-prop", str(path)], check=True)
    host_mounts.append(path)
    subprocess.run(["mount", "--make-shared", str(path)], check=True)
    (path / "sub").mkdir()
    return path


def host_sees(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == str(path) for line in f)


def with_sys_admin(c):
    for k in ("bounding", "effective", "permitted"):
        c["process"]["capabilities"][k].append("CAP_SYS_ADMIN")


def mount_below_bind(husk, host, rootfs_prop, bind_prop="rshared"):
    def edit(c):
        with_sys_admin(c)
        c["mounts"].append({"destination": "/mnt/h", "type": "bind", "source": str(host),
                            "options": ["rbind", bind_prop]})
        if rootfs_prop:
            c["linux"]["rootfsPropagation"] = rootfs_prop
    cid, p = husk.run(husk.bundle(["sh", "-c", "mount -t tmpfs -o size=1m inner /mnt/h/sub && echo mounted"],
                                  edit=edit))
    assert p.returncode == 0, p.stderr
    assert "mounted" in p.stdout
    return host_sees(host / "sub")


@pytest.mark.parametrize("prop", list(REACHES_HOST), ids=lambda p: p or "unset")
def test_rshared_bind_reaches_host_as_runc(husk, tmp_path, host_mounts, prop):
    host = shared_tmpfs(tmp_path / "host", host_mounts)
    assert mount_below_bind(husk, host, prop) == REACHES_HOST[prop]


@pytest.mark.parametrize("bind_prop", ["rprivate", "rslave"])
def test_private_or_slave_bind_never_reaches_host(husk, tmp_path, host_mounts, bind_prop):
    host = shared_tmpfs(tmp_path / "host", host_mounts)
    assert not mount_below_bind(husk, host, "rshared", bind_prop)


@pytest.mark.parametrize("prop", ["shared", "slave", "private", "unbindable"])
def test_rootfs_on_a_shared_mount_stays_off_the_host(husk, tmp_path, host_mounts, prop):
    # runc's bats "mount propagation parent mount shared": the bundle is a shared mount of its
    # own; pivot_root refuses a new root below a shared parent, and the rootfs bind must not
    # show up among the host's mounts.
    def edit(c):
        c["linux"]["rootfsPropagation"] = prop
    b = husk.bundle(["true"], edit=edit)
    subprocess.run(["mount", "--bind", str(b), str(b)], check=True)
    host_mounts.append(b)
    subprocess.run(["mount", "--make-shared", str(b)], check=True)
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    assert not host_sees(b / "rootfs")


def test_old_root_detach_leaves_host_mounts(husk, tmp_path, host_mounts):
    # With a non-recursive rootfsPropagation the host's shared mounts stay peers of the host
    # in the container's namespace; detaching the old root after pivot_root must not unmount
    # their submounts on the host.
    host = shared_tmpfs(tmp_path / "host", host_mounts)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "husk-prop-sub", str(host / "sub")], check=True)

    def edit(c):
        c["linux"]["rootfsPropagation"] = "shared"
    cid, p = husk.run(husk.bundle(["true"], edit=edit))
    assert p.returncode == 0, p.stderr
    assert host_sees(host / "sub")


@pytest.mark.parametrize("prop,tag", [("shared", "shared:"), ("rshared", "shared:"), ("unbindable", "unbindable"),
                                      ("private", None), ("rslave", None)])
def test_container_root_propagation(husk, prop, tag):
    def edit(c):
        c["linux"]["rootfsPropagation"] = prop
    cid, p = husk.run(husk.bundle(["cat", "/proc/self/mountinfo"], edit=edit))
    assert p.returncode == 0, p.stderr
    root = next(line for line in p.stdout.splitlines() if line.split()[4] == "/")
    optional = root.split(" - ")[0].split()[6:]
    if tag:
        assert any(o.startswith(tag) for o in optional), root
    else:
        assert not any(o.startswith(("shared:", "unbindable")) for o in optional), root
    assert "/" in mountinfo(p.stdout)
