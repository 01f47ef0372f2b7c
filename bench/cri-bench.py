#!/usr/bin/python3
"""crictl-style timing of one pod through containerd's CRI plugin: RunPodSandbox + CreateContainer
+ StartContainer, with the husk handler and the runc one, alternating which goes first each round.
Uses tests/cri's harness (containerd on private dirs in a network namespace of its own).

    bench/cri-bench.py [--rounds N]        (HUSK=path, default ./husk; as root)
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "cri"))
import cri  # noqa: E402


def one_pod(client, n, logs):
    """Milliseconds for each of the three calls, the pod removed afterwards (not timed)."""
    config = client.pod_config(f"bench-{client.handler}-{n}", logs)
    t0 = time.perf_counter()
    pod = client.run_pod(config)
    t1 = time.perf_counter()
    cid = client.create(pod, config, client.container_config("c", ["sleep", "300"]))
    t2 = time.perf_counter()
    client.start(cid)
    t3 = time.perf_counter()
    client.remove_pod(pod)
    return [(t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t3 - t0) * 1e3]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    why = cri.missing_tools()
    if why:
        sys.exit(f"cri-bench: {why} (scripts/install-deps.sh cri installs it)")
    ctrd = cri.Containerd()
    ctrd.track_netns = False  # its status call is not part of what is timed, nor is it kubelet's
    with tempfile.TemporaryDirectory(prefix="husk-cri-bench-") as tmp:
        rootfs = os.path.join(tmp, "rootfs")
        subprocess.run(["sh", os.path.join(cri.REPO, "scripts", "mkrootfs.sh"), rootfs], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(rootfs, "etc", "hostname"), "w") as f:
            f.write("busybox\n")
        try:
            ctrd.start(rootfs)
            clients = {h: cri.Client(ctrd, h) for h in ("husk", "runc")}
            for h in clients:  # warm up: images, snapshots, the shim binary in the page cache
                one_pod(clients[h], "warm", tmp)
            res = {h: [] for h in clients}
            for n in range(args.rounds):
                order = ("husk", "runc") if n % 2 == 0 else ("runc", "husk")
                for h in order:
                    res[h].append(one_pod(clients[h], n, tmp))
            for c in clients.values():
                c.close()
        finally:
            ctrd.stop()
    print(f"{args.rounds} pods per handler, median (min) in ms")
    print(f"{'handler':8} {'RunPodSandbox':>16} {'CreateContainer':>16} {'StartContainer':>16} {'total':>16}")
    for h, rows in res.items():
        cols = list(zip(*rows))
        print(f"{h:8} " + " ".join(f"{statistics.median(c):9.1f} ({min(c):5.1f})" for c in cols))


if __name__ == "__main__":
    main()
