"""Device fileMode race. A device's setuid/setgid bits need a chmod after mknod; done by name, it
followed a symlink a racer swapped in meanwhile on a /dev shared with the host, turning the
racer's target (here a decoy file) into mode 4666."""
import os
import signal
import stat

from conftest import start_swap_racer



def test_device_mode_race_on_shared_dev(husk, tmp_path):
    shdev = tmp_path / "shdev"
    shdev.mkdir()
    decoy = tmp_path / "decoy"
    decoy.write_text("decoy\n")
    os.chmod(decoy, 0o644)

    def edit(c):
        c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/dev"]
        c["mounts"].insert(1, {"destination": "/dev", "type": "bind", "source": str(shdev), "options": ["rbind"]})
        c["linux"]["devices"] = [{"path": f"/dev/racy{i}", "type": "c", "major": 1, "minor": 3,
                                  "fileMode": 0o4666} for i in range(16)]
    b = husk.bundle(["true"], edit=edit)
    # the nodes husk just made become symlinks to the decoy, as fast as the racer goes
    r = start_swap_racer(tmp_path, shdev, decoy, [f"racy{i}" for i in range(16)])
    wins = 0
    try:
        for _ in range(100):
            cid, p = husk.run(b)
            husk.cmd("delete", "--force", cid)
            if stat.S_IMODE(os.stat(decoy).st_mode) != 0o644:
                wins += 1
                os.chmod(decoy, 0o644)
    finally:
        r.send_signal(signal.SIGKILL)
        r.wait()
    assert wins == 0, f"the decoy's mode was changed in {wins} of 100 runs"


def test_device_modes_still_apply(husk):
    def edit(c):
        c["linux"]["devices"] = [
            {"path": "/dev/suid", "type": "c", "major": 1, "minor": 3, "fileMode": 0o4755, "uid": 5, "gid": 6},
            {"path": "/dev/fifo", "type": "p", "fileMode": 0o2640, "uid": 7, "gid": 8},
        ]
    b = husk.bundle(["stat", "-c", "%a %u %g %F", "/dev/suid", "/dev/fifo"], edit=edit)
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["4755 5 6 character special file", "2640 7 8 fifo"]
