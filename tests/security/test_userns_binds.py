"""Bind sources of a container in a user namespace are cloned with the host's identity
(test_userns.py). A clone of the host's mount would carry its flags unlocked: the container's
root, with CAP_SYS_ADMIN in its user namespace, could remount a read-only, nosuid bind of a
host directory read-write and write through it. husk clones inside the init's mount
namespace, whose copies the kernel locked when it was made for the container's user
namespace, as a bind made by the init itself (and runc's) is."""
import os
import subprocess

from test_userns import bundle, userns, walkable  # noqa: F401 (fixture)


def test_userns_cannot_clear_locked_flags_of_a_bind(husk, walkable):  # noqa: F811
    fs, ro = walkable / "fs", walkable / "ro"
    fs.mkdir()
    ro.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "husk-decoy", str(fs)], check=True)
    try:
        (fs / "decoy").write_text("original\n")
        os.chmod(fs / "decoy", 0o666)
        # read-only and nosuid at the mount only: the filesystem itself stays writable
        subprocess.run(["mount", "--bind", str(fs), str(ro)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro,nosuid", str(ro)], check=True)

        def edit(c):
            userns(c)
            for k in ("bounding", "effective", "permitted"):
                c["process"]["capabilities"][k].append("CAP_SYS_ADMIN")
            c["mounts"].append({"destination": "/x", "type": "bind", "source": str(ro), "options": ["rbind"]})
        attack = ("mount -o remount,bind,rw /x && echo pwned > /x/decoy; mount -o remount,bind,suid /x; "
                  "grep ' /x ' /proc/self/mountinfo")
        cid, p = husk.run(bundle(husk, ["sh", "-c", attack], edit, walkable))
        assert p.returncode == 0, p.stderr
        assert (fs / "decoy").read_text() == "original\n", "the container wrote through a read-only bind"
        opts = p.stdout.split()[5].split(",")
        assert "ro" in opts and "nosuid" in opts, p.stdout
    finally:
        subprocess.run(["umount", str(ro)])
        subprocess.run(["umount", str(fs)])
