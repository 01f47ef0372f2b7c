"""Masked paths through a swapped /dev/null (CVE-2025-31133). Masks bind /dev/null over files;
a /dev/null that became a symlink would bind the file it names instead (writable, whatever
mount it came from), and a deleted one would leave the paths unmasked."""
import json
import signal

from conftest import start_swap_racer


def decoy_volume(tmp_path):
    d = tmp_path / "decoyvol"
    d.mkdir()
    f = d / "file"
    f.write_text("decoy\n")
    return d, f


def with_decoy(c, d):
    # the attacker's file of choice, visible in the container (the process below only ever
    # writes to masked paths: the decoy changes only when one of them is the decoy)
    c["mounts"].append({"destination": "/decoyvol", "type": "bind", "source": str(d), "options": ["rbind"]})
    c["linux"]["maskedPaths"].append("/proc/timer_list")


def add_hook(b, *argv):
    c = json.loads((b / "config.json").read_text())
    c.setdefault("hooks", {})["createContainer"] = [{"path": argv[0], "args": list(argv)}]
    (b / "config.json").write_text(json.dumps(c))


WRITE_MASKED = ["sh", "-c", "echo PWNED > /proc/timer_list; true"]


def test_dev_null_symlink_does_not_unmask(husk, tmp_path):
    d, decoy = decoy_volume(tmp_path)

    b = husk.bundle(WRITE_MASKED, edit=lambda c: with_decoy(c, d))
    # between /dev being made and the masks: /dev/null -> the decoy
    add_hook(b, "/bin/ln", "-sfn", "/decoyvol/file", f"{b}/rootfs/dev/null")
    cid, p = husk.run(b)
    assert decoy.read_text() == "decoy\n", "a masked path was the decoy, writable"
    assert p.returncode == 1 and "/dev/null" in p.stderr, p.stderr


def test_deleted_dev_null_is_an_error(husk, tmp_path):
    def edit(c):
        c["linux"]["maskedPaths"].append("/etc/secret")
    b = husk.bundle(["cat", "/etc/secret"], edit=edit)
    (b / "rootfs" / "etc" / "secret").write_text("secret\n")
    add_hook(b, "/bin/rm", "-f", f"{b}/rootfs/dev/null")
    cid, p = husk.run(b)
    assert "secret" not in p.stdout, "the masked path was readable"
    assert p.returncode == 1 and "/dev/null" in p.stderr, p.stderr


def test_masks_still_apply(husk):
    def edit(c):
        c["linux"]["maskedPaths"] += ["/etc/secret", "/proc/timer_list", "/proc/acpi"]
    b = husk.bundle(["sh", "-c", "cat /etc/secret; wc -c < /proc/timer_list; ls /proc/acpi | wc -l"], edit=edit)
    (b / "rootfs" / "etc" / "secret").write_text("secret\n")
    cid, p = husk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0", "0"], p.stdout


def test_dev_null_swap_race_on_shared_dev(husk, tmp_path):
    """A /dev shared with the host (a bind of a directory): a racer keeps renaming a symlink to
    the decoy over dev/null while 40 containers start. Unfixed, most runs bind the decoy over
    /proc/kcore, writable."""
    d, decoy = decoy_volume(tmp_path)
    shdev = tmp_path / "shdev"
    shdev.mkdir()

    def edit(c):
        with_decoy(c, d)
        c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/dev"]
        c["mounts"].insert(1, {"destination": "/dev", "type": "bind", "source": str(shdev), "options": ["rbind"]})
    b = husk.bundle(WRITE_MASKED, edit=edit)
    r = start_swap_racer(tmp_path, shdev, "/decoyvol/file", ["null"])
    wins = 0
    try:
        for _ in range(40):
            cid, p = husk.run(b)
            husk.cmd("delete", "--force", cid)
            if decoy.read_text() != "decoy\n":
                wins += 1
                decoy.write_text("decoy\n")
    finally:
        r.send_signal(signal.SIGKILL)
        r.wait()
    assert wins == 0, f"the decoy was bound over a masked path in {wins} of 40 runs"
