"""exec --cap (CVE-2022-29162): a capability asked for on the command line widens bounding,
permitted and effective only. In the inheritable and ambient sets it would survive the exec of a
non-root user's program, which then holds it without any file capability or setuid bit."""
import pytest

NET_RAW = 1 << 13
NET_BIND = 1 << 10


def caps(out):
    return {line.split(":")[0]: int(line.split()[1], 16) for line in out.splitlines() if line.startswith("Cap")}


def running(husk, edit=None):
    cid, p = husk.run(husk.bundle(["sleep", "100"], edit=edit), "--detach")
    assert p.returncode == 0, p.stderr
    return cid


@pytest.mark.parametrize("uid", [0, 1000])
def test_exec_cap_stays_out_of_ambient(husk, uid):
    cid = running(husk)
    p = husk.cmd("exec", "--user", f"{uid}:{uid}", "--cap", "CAP_NET_RAW", cid, "grep", "^Cap", "/proc/self/status")
    assert p.returncode == 0, p.stderr
    c = caps(p.stdout)
    # the attack: a uid-1000 program that still holds CAP_NET_RAW after its exec
    assert not c["CapAmb"] & NET_RAW and not c["CapInh"] & NET_RAW
    assert c["CapBnd"] & NET_RAW
    if uid == 0:
        assert c["CapPrm"] & NET_RAW and c["CapEff"] & NET_RAW   # root keeps what it asked for (runc too)
    else:
        assert c["CapPrm"] == 0 and c["CapEff"] == 0


def test_exec_cap_leaves_the_specs_own_ambient_set(husk):
    def edit(c):
        c["process"]["capabilities"]["bounding"].append("CAP_NET_BIND_SERVICE")
        c["process"]["capabilities"]["inheritable"] = ["CAP_NET_BIND_SERVICE"]
        c["process"]["capabilities"]["ambient"] = ["CAP_NET_BIND_SERVICE"]
    cid = running(husk, edit)
    p = husk.cmd("exec", "--user", "1000:1000", "--cap", "CAP_NET_RAW", cid, "grep", "^Cap", "/proc/self/status")
    assert p.returncode == 0, p.stderr
    c = caps(p.stdout)
    # as runc 1.1.5 shows for the same bundle: only the spec's own ambient capability
    assert c["CapAmb"] == NET_BIND and c["CapInh"] == NET_BIND
    assert c["CapPrm"] == NET_BIND and c["CapEff"] == NET_BIND
