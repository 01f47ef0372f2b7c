"""A container without a cgroup namespace on a v1/hybrid host must see exactly its own cgroup in
each hierarchy of its /sys/fs/cgroup: never the root with its release_agent and every other
cgroup. (The bind source came from a copy of /proc/self/cgroup taken before the init moved into
its cgroups: husk's own cgroup, often the root.)"""
import os

import pytest

PROBE = r'''
for d in /sys/fs/cgroup/*/; do
  echo "dir $d"; ls -a "$d" | sed 's/^/  /'
  for e in "$d"*; do [ -d "$e" ] && echo "subdir $e"; done
done
grep ' - cgroup' /proc/self/mountinfo | while read -r id parent dev root mp rest; do echo "mount $mp $root"; done
cat /proc/self/cgroup | sed 's/^/own /'
mkdir /sys/fs/cgroup/pids/probe 2>/dev/null && rmdir /sys/fs/cgroup/pids/probe && echo WRITE-OK
true
'''


def _cgroup_mount(rw):
    def edit(c):
        # `husk spec`'s cgroup mount, without the cgroup namespace
        c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                            "options": ["nosuid", "noexec", "nodev", "relatime", "rw" if rw else "ro"]})
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "cgroup"]
    return edit


def _parse(out):
    dirs, subdirs, mounts, own = {}, [], {}, {}
    cur = None
    for line in out.splitlines():
        if line.startswith("dir "):
            cur = line[4:]
            dirs[cur] = []
        elif line.startswith("  "):
            dirs[cur].append(line.strip())
        elif line.startswith("subdir "):
            subdirs.append(line[7:])
        elif line.startswith("mount "):
            mp, root = line.split()[1:3]
            mounts[mp] = root
        elif line.startswith("own "):
            _, ctrls, path = line[4:].split(":", 2)
            own[ctrls] = path
    return dirs, subdirs, mounts, own


@pytest.mark.skipif(os.path.exists("/sys/fs/cgroup/cgroup.controllers"), reason="a v1/hybrid host")
@pytest.mark.parametrize("rw", [False, True])
def test_container_sees_only_its_own_cgroup(husk, rw):
    cid, p = husk.run(husk.bundle(["sh", "-c", PROBE], edit=_cgroup_mount(rw)))
    assert p.returncode == 0, p.stderr
    dirs, subdirs, mounts, own = _parse(p.stdout)
    assert "/sys/fs/cgroup/pids/" in dirs, p.stdout
    for d, entries in dirs.items():
        assert "release_agent" not in entries, f"{d} is the root of its hierarchy: {entries}"
    assert subdirs == [], f"other cgroups are visible: {subdirs}"
    # each hierarchy's mount is the container's own cgroup in it
    assert own["pids"].endswith("/husk-" + cid), own
    for mp, root in mounts.items():
        name = mp[len("/sys/fs/cgroup/"):]
        ctrls = "" if name == "unified" else "name=systemd" if name == "systemd" else name
        if ctrls in own:
            assert root == own[ctrls], (mp, root, own)
    # read-only unless the config's cgroup mount says rw
    assert ("WRITE-OK" in p.stdout) == rw, p.stdout
