"""Containers in a new user namespace (container root = host uid 100000), as podman
--userns=auto makes them. What the runtime reaches on the host it reaches as itself: the
console socket, bind sources, idmapped mounts, device nodes. The init's own work (the rootfs)
is the mapped root's, so the bundle is made walkable for it.

Also runs against runc (HUSK=/usr/sbin/runc): the console, bind-source and device tests pass
there too; runc 1.1.5 has no idmapped mounts."""
import json
import os
import pathlib
import select
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import accept_fd, base_config

MAP = {"containerID": 0, "hostID": 100000, "size": 65536}


def userns(c):
    c["linux"]["namespaces"].append({"type": "user"})
    c["linux"]["uidMappings"] = [dict(MAP)]
    c["linux"]["gidMappings"] = [dict(MAP)]
    # sysfs belongs to the network namespace's owner: not needed here
    c["mounts"] = [m for m in c["mounts"] if m["type"] != "sysfs"]


@pytest.fixture
def walkable(husk):
    """A directory the mapped root can walk to: the rootfs is the init's to reach, as with
    runc. Not below pytest's base directory, which every pytest session makes 0700 again."""
    d = tempfile.mkdtemp(prefix="husk-userns-", dir="/tmp")
    os.chmod(d, 0o711)
    yield pathlib.Path(d)
    husk.cleanup()
    shutil.rmtree(d, ignore_errors=True)


def bundle(husk, args, edit, where):
    """A bundle whose rootfs the mapped root owns, as an engine's --userns=auto image is."""
    b = where / f"bundle-{uuid.uuid4().hex[:8]}"
    b.mkdir()
    shutil.copytree(husk.template, b / "rootfs", symlinks=True)
    cfg = base_config(list(args))
    edit(cfg)
    (b / "config.json").write_text(json.dumps(cfg))
    for top, dirs, files in os.walk(b / "rootfs"):
        for n in [top] + [os.path.join(top, x) for x in dirs + files]:
            os.lchown(n, MAP["hostID"], MAP["hostID"])
    return b


def root_only_dir(tmp_path, name="private"):
    """A directory only the host's root may enter, as podman's runtime directories are."""
    d = tmp_path / name
    d.mkdir()
    os.chmod(d, 0o700)
    return d


def read_until(fd, want, timeout=10):
    """What a pty master gives until `want` shows up (the process may stay running)."""
    out, end = b"", time.time() + timeout
    while want.encode() not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], max(0.0, end - time.time()))
        if not r:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace").replace("\r", "")


def test_console_socket_in_a_root_only_directory(husk, walkable):
    sockdir = root_only_dir(walkable)
    sock = str(sockdir / "console.sock")
    got = {}
    t = accept_fd(sock, got)

    def edit(c):
        userns(c)
        c["process"]["terminal"] = True
    b = bundle(husk, ["sh", "-c", "echo init-$(id -u); tty; exec sleep 100"], edit, walkable)
    cid = husk.new_id()
    husk.cmd("create", "--bundle", str(b), "--console-socket", sock, cid, check=True)
    t.join(5)
    assert got.get("fd", -1) >= 0, "no pty master came to the console socket"
    master = got["fd"]
    try:
        husk.cmd("start", cid, check=True)
        out = read_until(master, "/dev/pts/")
        assert "init-0" in out and "/dev/pts/0" in out, out
        # exec -t into the running container, through a socket in the same directory (detached:
        # runc refuses a console socket otherwise, and engines detach)
        sock2 = str(sockdir / f"exec-{uuid.uuid4().hex[:6]}.sock")
        got2 = {}
        t2 = accept_fd(sock2, got2)
        p = husk.cmd("exec", "-d", "-t", "--console-socket", sock2, cid, "sh", "-c", "echo exec-$(id -u); tty")
        t2.join(5)
        assert p.returncode == 0, p.stderr
        assert got2.get("fd", -1) >= 0
        out2 = read_until(got2["fd"], "/dev/pts/")
        os.close(got2["fd"])
        assert "exec-0" in out2 and "/dev/pts/" in out2, out2
    finally:
        os.close(master)


def test_bind_sources_below_a_root_only_directory(husk, walkable):
    private = root_only_dir(walkable)
    (private / "vol").mkdir()
    (private / "vol" / "f").write_text("dir-ok\n")
    (private / "file").write_text("file-ok\n")
    os.chmod(private / "file", 0o600)

    def edit(c):
        userns(c)
        c["mounts"] += [
            {"destination": "/vol", "type": "bind", "source": str(private / "vol"), "options": ["rbind", "ro"]},
            {"destination": "/etc/file", "type": "bind", "source": str(private / "file"), "options": ["bind"]},
        ]
    cmd = "cat /vol/f; touch /vol/x 2>/dev/null || echo ro-ok; grep -c ' /vol ' /proc/self/mountinfo; ls /etc/file"
    cid, p = husk.run(bundle(husk, ["sh", "-c", cmd], edit, walkable))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["dir-ok", "ro-ok", "1", "/etc/file"]
    husk.assert_no_leftovers(cid)


def test_bind_of_a_shared_host_mount_does_not_propagate_back(husk, walkable):
    # the source is cloned from the host's mount namespace: the container's copy must be a
    # slave of its mount (as a bind made inside the container's rslave namespace is), never
    # a peer through which the container's mounts reach the host
    src = walkable / "shared"
    src.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "husk-test", str(src)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(src)], check=True)
        (src / "sub").mkdir()

        def edit(c):
            userns(c)
            for k in ("bounding", "effective", "permitted"):
                c["process"]["capabilities"][k].append("CAP_SYS_ADMIN")
            c["mounts"].append({"destination": "/m", "type": "bind", "source": str(src), "options": ["rbind"]})
        cmd = "mount -t tmpfs none /m/sub && grep ' /m ' /proc/self/mountinfo"
        cid, p = husk.run(bundle(husk, ["sh", "-c", cmd], edit, walkable))
        assert p.returncode == 0, p.stderr
        fields = p.stdout.split(" - ")[0].split()[6:]
        assert any(f.startswith("master:") for f in fields), p.stdout
        assert not any(f.startswith("shared:") for f in fields), p.stdout
        assert not os.path.ismount(src / "sub"), "the container's mount reached the host"
    finally:
        subprocess.run(["umount", "-R", str(src)])


def idmap_mounts(src):
    def edit(c):
        userns(c)
        c["mounts"] += [
            # the container's own mappings
            {"destination": "/idm", "type": "bind", "source": str(src), "options": ["bind", "idmap"]},
            # the mount's: on-disk 1000 shows as host 100500, the container's 500
            {"destination": "/idm2", "type": "bind", "source": str(src), "options": ["rbind", "ridmap"],
             "uidMappings": [{"containerID": 1000, "hostID": 100500, "size": 1}],
             "gidMappings": [{"containerID": 1000, "hostID": 100500, "size": 1}]},
        ]
    return edit


def test_idmapped_mounts_in_a_user_namespace(husk, walkable):
    src = walkable / "idm"
    src.mkdir()
    (src / "f").write_text("x")
    os.chown(src / "f", 1000, 1000)
    (src / "r").write_text("y")
    os.chown(src / "r", 0, 0)
    cmd = "stat -c '%u:%g' /idm/f /idm/r /idm2/f; echo z > /idm/r && echo root-writes"
    cid, p = husk.run(bundle(husk, ["sh", "-c", cmd], idmap_mounts(src), walkable))
    if p.returncode != 0 and "does its filesystem support" in p.stderr:
        pytest.skip("this filesystem does not support idmapped mounts: " + p.stderr.strip())
    assert p.returncode == 0, p.stderr
    # without the idmap the file would be the overflow id 65534 in the container
    assert p.stdout.split() == ["1000:1000", "0:0", "500:500", "root-writes"]
    assert (src / "r").read_text() == "z\n"
    assert os.stat(src / "r").st_uid == 0   # written through the mount, owned as before
    husk.assert_no_leftovers(cid)


def test_device_the_host_lacks(husk, walkable):
    name = "xnull-" + uuid.uuid4().hex[:6]
    assert not os.path.exists("/dev/" + name)

    def edit(c):
        userns(c)
        c["linux"]["devices"] = [
            {"path": "/dev/" + name, "type": "c", "major": 1, "minor": 3, "fileMode": 0o666},
            {"path": "/dev/sub/xzero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o640,
             "uid": 7, "gid": 8},
        ]
    cmd = (f"stat -c '%t:%T %a %u:%g' /dev/{name} /dev/sub/xzero; echo hi > /dev/{name} && echo write-ok; "
           "head -c 2 /dev/sub/xzero | od -An -tx1")
    cid, p = husk.run(bundle(husk, ["sh", "-c", cmd], edit, walkable))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["1:3", "666", "0:0"]
    assert lines[1].split() == ["1:5", "640", "7:8"]
    assert lines[2] == "write-ok"
    assert lines[3].split() == ["00", "00"]
    assert not os.path.exists("/dev/" + name), "the node was made on the host"
    husk.assert_no_leftovers(cid)
