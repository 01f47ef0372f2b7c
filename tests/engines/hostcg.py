"""The test process's own cgroups, shared by tests/engines and tests/cri: engines and containerd
put containers below them, never anywhere on the host the tests did not create."""
import os


def own_cgroup():
    """Our own cgroup (the memory hierarchy's on a v1/hybrid host, the unified one on v2):
    engines would otherwise put containers at the hierarchy root, outside the memory
    accounting of whoever runs the tests."""
    paths = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            paths[ctrls] = path
    return paths.get("memory", paths.get("", "/")).rstrip("/")


def cgroup_hierarchies():
    """Mount points of every cgroup hierarchy under /sys/fs/cgroup."""
    res = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] in ("cgroup", "cgroup2") and left.split()[4].startswith("/sys/fs/cgroup"):
                res.append(left.split()[4])
    return res


def rmdir_tree(top):
    """Removes the cgroup `top` and every cgroup below it, deepest first; True when some are
    still busy (a process has not left yet: the caller retries)."""
    left = False
    for root, dirs, _ in os.walk(top, topdown=False):
        for d in dirs + ([""] if root == top else []):
            try:
                os.rmdir(os.path.join(root, d) if d else root)
            except FileNotFoundError:
                pass
            except OSError:
                left = True
    return left
