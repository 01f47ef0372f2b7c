"""The cache of built seccomp programs: one container's profile must never be loaded for
another's, and the cache must not sit among the containers in --root."""
import os
import shutil
import subprocess


def _profile(names):
    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                 "syscalls": [{"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}
    return edit


def test_colliding_profiles_get_their_own_programs(husk):
    """A syscall name with a newline in it once made ["mkdir\\n name mkdirat"] (an unknown name,
    skipped: nothing blocked) and ["mkdir", "mkdirat"] one cache key: the second container got
    the first one's program and could mkdir."""
    probe = ["sh", "-c", "mkdir /tmp/d 2>&1 && echo MKDIR-ALLOWED; true"]
    # the poisoning profile first, so its program is what the cache holds
    cid, p = husk.run(husk.bundle(probe, edit=_profile(["mkdir\n name mkdirat"])))
    assert p.returncode == 0, p.stderr
    assert "MKDIR-ALLOWED" in p.stdout   # unknown names are skipped, as runc does
    for _ in range(2):   # a miss, then a hit of its own entry
        cid, p = husk.run(husk.bundle(probe, edit=_profile(["mkdir", "mkdirat"])))
        assert p.returncode == 0, p.stderr
        assert "MKDIR-ALLOWED" not in p.stdout, "the other profile's program was loaded"
        assert "No space left on device" in p.stdout, p.stdout
    # and the other way round: the blocking program never serves the unknown-name profile
    cid, p = husk.run(husk.bundle(probe, edit=_profile(["mkdir\n name mkdirat"])))
    assert "MKDIR-ALLOWED" in p.stdout, p.stdout


def test_cache_is_not_an_entry_of_the_state_root(husk):
    """Tools that share a --root read every entry as a container (`runc --root R list` printed
    "load container .seccomp"): the cache lives beside the root, never in it."""
    cid, p = husk.run(husk.bundle(["true"], edit=_profile(["mkdir"])))
    assert p.returncode == 0, p.stderr
    assert os.listdir(husk.root) == [], os.listdir(husk.root)
    cache = husk.root + "-cache/seccomp"
    st = os.lstat(cache)
    assert st.st_uid == 0 and st.st_mode & 0o7777 == 0o700
    assert len(os.listdir(cache)) == 1
    if shutil.which("runc"):
        r = subprocess.run(["runc", "--root", husk.root, "list"], capture_output=True, text=True, timeout=20)
        assert r.returncode == 0 and r.stderr == "", r.stderr


def test_foreign_cache_directory_is_not_used(husk):
    """A cache directory someone else could write (group/world-writable, or not ours) is never
    read: a planted program would run in the container."""
    probe = ["sh", "-c", "mkdir /tmp/d 2>&1 && echo MKDIR-ALLOWED; true"]
    cid, p = husk.run(husk.bundle(probe, edit=_profile(["mkdir", "mkdirat"])))
    assert "No space left on device" in p.stdout
    cache = husk.root + "-cache/seccomp"
    (entry,) = os.listdir(cache)
    # plant the allow-everything program of another profile under this profile's name
    shutil.rmtree(cache)
    cid, p = husk.run(husk.bundle(probe, edit=_profile(["mkdir\n name mkdirat"])))
    (allow,) = os.listdir(cache)
    os.rename(os.path.join(cache, allow), os.path.join(cache, entry))
    for owner, mode in ((65534, 0o700), (0, 0o777), (0, 0o770)):
        os.chown(cache, owner, owner)
        os.chmod(cache, mode)
        cid, p = husk.run(husk.bundle(probe, edit=_profile(["mkdir", "mkdirat"])))
        assert p.returncode == 0, p.stderr
        assert "MKDIR-ALLOWED" not in p.stdout and "No space left on device" in p.stdout, (owner, mode, p.stdout)
        assert os.listdir(cache) == [entry]   # not written either
    os.chown(cache, 0, 0)
    # a mode fixed back: the entry's own record of its profile still refuses the swap
    os.chmod(cache, 0o700)
    cid, p = husk.run(husk.bundle(probe, edit=_profile(["mkdir", "mkdirat"])))
    assert "MKDIR-ALLOWED" not in p.stdout and "No space left on device" in p.stdout, p.stdout
