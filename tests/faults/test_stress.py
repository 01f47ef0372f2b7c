"""Concurrency on one --root: many lifecycles at once with readers walking the same root, and
many creates racing for one id."""
import json
import os
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import sweep

LIFECYCLES = 50
ROUNDS = 10
RACERS = 20


def husk(s, *args):
    # output through files: a pipe would stay open in the container's processes
    with tempfile.TemporaryFile("w+", dir=s.tmp) as out, tempfile.TemporaryFile("w+", dir=s.tmp) as err:
        p = subprocess.run([s.husk, "--root", s.root, *args], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                           timeout=60)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read()


def lifecycle(s, cid):
    """create, start (the process is `true`), wait until stopped, delete; errors as strings."""
    rc, _, err = husk(s, "create", "--bundle", s.bundles["true"], cid)
    if rc:
        return f"create {cid}: {err.strip()}"
    rc, _, err = husk(s, "start", cid)
    if rc:
        husk(s, "delete", "--force", cid)
        return f"start {cid}: {err.strip()}"
    end = time.time() + 20
    while time.time() < end:
        rc, out, err = husk(s, "state", cid)
        if rc:
            return f"state {cid}: {err.strip()}"
        if json.loads(out)["status"] == "stopped":
            break
        time.sleep(0.01)
    else:
        return f"{cid} never stopped"
    rc, _, err = husk(s, "delete", cid)
    return f"delete {cid}: {err.strip()}" if rc else None


def test_concurrent_lifecycles_with_readers(sweeper):
    problems = []
    stop = threading.Event()
    statuses = {"creating", "created", "running", "paused", "stopped"}

    reads = [0, 0]   # lists, entries seen

    def reader():
        while not stop.is_set():
            rc, out, err = husk(sweeper, "list", "--format", "json")
            reads[0] += 1
            if rc:
                problems.append(f"list: {err.strip()}")
                continue
            try:
                entries = json.loads(out)
            except ValueError:
                problems.append(f"list printed no JSON: {out[:200]!r}")
                continue
            reads[1] += len(entries)
            for e in entries:
                if e["status"] not in statuses:
                    problems.append(f"list: status {e['status']!r}")
                # state of a listed container: its document, or gone meanwhile
                rc, out, err = husk(sweeper, "state", e["id"])
                if rc and "does not exist" not in err:
                    problems.append(f"state {e['id']}: {err.strip()}")
                break

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    t0 = time.time()
    try:
        with ThreadPoolExecutor(LIFECYCLES) as pool:
            for r in range(ROUNDS):
                ids = [f"stress-{r}-{i}" for i in range(LIFECYCLES)]
                problems += [p for p in pool.map(lambda c: lifecycle(sweeper, c), ids) if p]
    finally:
        stop.set()
        for t in readers:
            t.join()
        for cid in [d for d in os.listdir(sweeper.root) if d[0] != "."] if os.path.isdir(sweeper.root) else []:
            husk(sweeper, "delete", "--force", cid)
            sweeper.scrub(cid)
    print(f"\nstress: {LIFECYCLES} lifecycles x {ROUNDS} rounds in {time.time() - t0:.1f} s, "
          f"{reads[0]} lists seeing {reads[1]} containers")
    assert not problems, "\n".join(problems[:20])
    assert not [d for d in os.listdir(sweeper.root) if d[0] != "."]
    assert not sweeper.processes()


def test_concurrent_creates_of_one_id(sweeper):
    cid = "stress-race"
    barrier = threading.Barrier(RACERS)

    def create(_):
        barrier.wait()
        return husk(sweeper, "create", "--bundle", sweeper.bundles["sleep"], cid)

    try:
        with ThreadPoolExecutor(RACERS) as pool:
            results = list(pool.map(create, range(RACERS)))
        wins = [r for r in results if r[0] == 0]
        losses = [r for r in results if r[0] != 0]
        assert len(wins) == 1, [r[2] for r in results]
        assert all("already exists" in r[2] for r in losses), [r[2] for r in losses]
        rc, out, _ = husk(sweeper, "state", cid)
        assert rc == 0 and json.loads(out)["status"] == "created"
    finally:
        husk(sweeper, "delete", "--force", cid)
        sweeper.scrub(cid)
    assert not os.path.exists(os.path.join(sweeper.root, cid))
    assert not any(os.path.isdir(c) for c in sweep.cgroup_candidates(cid))
    assert not sweeper.processes()
