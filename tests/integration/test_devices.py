"""Device cgroup rules as engines write them (config-linux.md "Device allowlist"): each rule's
access applied exactly, plus the implicit rules runc adds and default containers rely on."""
import os

from test_cgroups import run_in_v2_view

# What `docker run --device /dev/loop7:/dev/xloop:r` writes: the node, and an `r` rule after
# the engine's deny-all.
def loop_read_only(c):
    c["process"]["capabilities"] = {k: ["CAP_MKNOD", "CAP_DAC_OVERRIDE"] for k in ("bounding", "effective", "permitted")}
    c["linux"]["devices"] = [{"path": "/dev/xloop", "type": "b", "major": 7, "minor": 7, "fileMode": 0o660}]
    c["linux"]["resources"] = {"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "b", "major": 7, "minor": 7, "access": "r"},
    ]}


SCRIPT = ("exec 3</dev/xloop && echo read-ok; (exec 4<>/dev/xloop) 2>/dev/null && echo write-ok; "
          "mknod /tmp/kmsg c 1 11 && echo mknod-c; mknod /tmp/blk b 7 8 && echo mknod-b; "
          "mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && (exec 5<>/dev/net/tun) && echo tun-ok; "
          "(exec 6</tmp/kmsg) 2>/dev/null && echo kmsg-open; echo done")


def check(out):
    lines = out.split()
    assert "read-ok" in lines
    assert "write-ok" not in lines          # the rule says r: never widened to rwm
    assert "mknod-c" in lines and "mknod-b" in lines   # runc's `c *:* m` and `b *:* m`
    assert "kmsg-open" not in lines         # ... which allow making a node, not using it
    assert "tun-ok" in lines                # runc's /dev/net/tun rule
    assert lines[-1] == "done"


def test_device_access_exact_and_implicit_rules_v1(husk):
    cid, p = husk.run(husk.bundle(["sh", "-c", SCRIPT], edit=loop_read_only))
    assert p.returncode == 0, p.stderr
    check(p.stdout)


def test_device_access_exact_and_implicit_rules_v2(husk):
    cid = husk.new_id()
    p = run_in_v2_view(husk, husk.bundle(["sh", "-c", SCRIPT], edit=loop_read_only), cid)
    assert p.returncode == 0, p.stderr
    check(p.stdout)


def test_dev_core_only_where_the_kernel_has_kcore(husk):
    # runc's /dev/core -> /proc/kcore, made only where the kernel has it (CONFIG_PROC_KCORE)
    cid, p = husk.run(husk.bundle(["sh", "-c", "readlink /dev/core || echo none"]))
    assert p.returncode == 0, p.stderr
    want = "/proc/kcore" if os.path.lexists("/proc/kcore") else "none"
    assert p.stdout.split() == [want]
