"""Mount options as the container sees them (/proc/self/mountinfo, stat, writes that fail)."""
import os

from test_container import output


def mountinfo(out):
    """mount point → (per-mount options, super options)"""
    res = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) < 10 or "-" not in f:
            continue
        sep = f.index("-")
        res[f[4]] = (set(f[5].split(",")), f[sep + 1], set(f[sep + 3].split(",")))
    return res


def test_flags_and_data_options(husk):
    def edit(c):
        c["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                            "options": ["nosuid", "nodev", "noexec", "noatime", "mode=700", "size=1m"]})
    mi = mountinfo(output(husk, ["cat", "/proc/self/mountinfo"], edit))
    opts, fstype, sup = mi["/scratch"]
    assert {"nosuid", "nodev", "noexec", "noatime"} <= opts
    assert fstype == "tmpfs" and "mode=700" in sup and "size=1024k" in sup


def test_bind_readonly_and_recursive_readonly(husk, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "file").write_text("data\n")

    def edit(c):
        c["mounts"] += [
            {"destination": "/ro", "type": "bind", "source": str(src), "options": ["bind", "ro", "nosuid"]},
            {"destination": "/rro", "type": "bind", "source": str(src), "options": ["rbind", "rro"]},
            {"destination": "/rro/sub", "type": "tmpfs", "source": "tmpfs"},
        ]
    out = output(husk, ["sh", "-c", "cat /ro/file; touch /ro/x 2>&1; touch /rro/x 2>&1; echo; cat /proc/self/mountinfo"],
                 edit)
    assert out.startswith("data\n")
    assert out.count("Read-only file system") == 2
    mi = mountinfo(out)
    assert "ro" in mi["/ro"][0] and "nosuid" in mi["/ro"][0]
    assert "ro" in mi["/rro"][0]
    assert not (src / "x").exists()


def test_recursive_attr_applies_to_submounts(husk, tmp_path):
    src = tmp_path / "tree"
    (src / "inner").mkdir(parents=True)

    def edit(c):
        c["mounts"] += [
            {"destination": "/tree", "type": "bind", "source": str(src), "options": ["rbind"]},
            {"destination": "/tree/inner", "type": "tmpfs", "source": "tmpfs"},
            {"destination": "/tree", "type": "bind", "source": str(src), "options": ["rbind", "rnoexec"]},
        ]
    mi = mountinfo(output(husk, ["cat", "/proc/self/mountinfo"], edit))
    assert "noexec" in mi["/tree"][0]


def test_tmpcopyup(husk):
    def edit(c):
        c["mounts"].append({"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]})
    out = output(husk, ["sh", "-c", "head -1 /etc/passwd; grep ' /etc ' /proc/self/mountinfo | wc -l; "
                                    "touch /etc/new && echo ok"], edit)
    lines = out.split()
    assert lines[0].startswith("root:x:0:0") and lines[1] == "1" and lines[2] == "ok"


def test_idmapped_bind_shows_mapped_owner(husk, tmp_path):
    src = tmp_path / "owned"
    src.mkdir()
    (src / "f").write_text("x")
    os.chown(src / "f", 0, 0)

    def edit(c):
        c["mounts"].append({"destination": "/idm", "type": "bind", "source": str(src), "options": ["bind", "idmap"],
                            "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                            "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]})
    cid, p = husk.run(husk.bundle(["stat", "-c", "%u %g", "/idm/f"], edit=edit))
    if p.returncode != 0 and "idmapped" in p.stderr:
        import pytest
        pytest.skip("this filesystem does not support idmapped mounts: " + p.stderr.strip())
    assert p.returncode == 0, p.stderr
    # on-disk ids are the mapping's containerIDs; they show as its hostIDs
    assert p.stdout.split() == ["1000", "1000"]


def test_dev_is_a_tmpfs_when_not_configured(husk):
    def edit(c):
        c["mounts"] = [m for m in c["mounts"] if not m["destination"].startswith("/dev")]
    b = husk.bundle(["sh", "-c", "grep ' /dev ' /proc/self/mountinfo; ls /dev"], edit=edit)
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    assert "tmpfs" in p.stdout and "null" in p.stdout
    assert os.listdir(b / "rootfs" / "dev") == []  # nothing was made in the bundle


def test_propagation_of_a_mount(husk, tmp_path):
    def edit(c):
        c["mounts"].append({"destination": "/shared", "type": "tmpfs", "source": "tmpfs", "options": ["rshared"]})
        c["mounts"].append({"destination": "/private", "type": "tmpfs", "source": "tmpfs", "options": ["private"]})
    out = output(husk, ["cat", "/proc/self/mountinfo"], edit)
    for line in out.splitlines():
        f = line.split()
        if f[4] == "/shared":
            assert any(x.startswith("shared:") for x in f[6:f.index("-")])
        if f[4] == "/private":
            assert f[6] == "-"
