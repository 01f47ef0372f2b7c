"""SCMP_ACT_NOTIFY: the notify fd reaches listenerPath with the container process state,
and the listener's answers decide the syscall."""
import fcntl
import json
import struct

from conftest import accept_fd

NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes
NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes


def listener(path, result):
    def answer(res):
        res["state"] = json.loads(res["msg"])
        fd = res["fd"]
        # answer one notification with EPERM (-1): the container sees the listener's answer
        buf = bytearray(80)
        fcntl.ioctl(fd, NOTIF_RECV, buf)
        notif_id = struct.unpack_from("Q", buf, 0)[0]
        res["nr"] = struct.unpack_from("i", buf, 16)[0]
        fcntl.ioctl(fd, NOTIF_SEND, bytearray(struct.pack("QqiI", notif_id, 0, -1, 0)))
    result["then"] = answer
    return accept_fd(path, result)


import pytest


@pytest.mark.parametrize("nnp", [True, False])
def test_notify_reaches_listener(husk, tmp_path, nnp):
    path = str(tmp_path / "listener.sock")
    result = {}
    t = listener(path, result)

    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": path,
                                 "listenerMetadata": "hello",
                                 "syscalls": [{"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
        # without no_new_privs the filter is loaded during create, with it right before exec
        c["process"]["noNewPrivileges"] = nnp
    b = husk.bundle(["sh", "-c", "mkdir /tmp/x 2>&1; echo rc=$?"], edit=edit)
    cid, p = husk.run(b, timeout=20)
    t.join(10)
    assert p.returncode == 0, p.stderr
    assert "Operation not permitted" in p.stdout and "rc=1" in p.stdout
    st = result["state"]
    assert st["fds"] == ["seccompFd"] and st["metadata"] == "hello"
    assert st["state"]["id"] == cid and st["pid"] > 0
    assert result["nr"] in (39 + 44, 258)  # mkdir (83) or mkdirat (258) on x86_64


def test_notify_without_listener_path_is_refused(husk):
    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                 "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
    cid, p, b = husk.create_edited(edit)
    assert p.returncode == 1 and "listenerPath" in p.stderr
