#!/usr/bin/python3
"""Turns capture.py's raw configs into the committed bench/configs/{docker,podman}.json: nothing
of the capturing host left in them. root.path is "rootfs" (bench/bench links the bundle's rootfs
there); the bind mounts' sources are files/<name> in the bundle (bench/bench makes them);
cgroupsPath goes (every runtime then uses its default, one cgroup per container id); Docker's
prestart hook (libnetwork-setkey, run by dockerd's own binary) goes; the engine's random
hostname is "bench". Everything else (namespaces, mounts and their options, masks, read-only
paths, sysctls, rlimits, device rules, capabilities, the seccomp profile) is as captured.

usage: bench/configs/sanitize.py WORKDIR   (the directory capture.py filled)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def sanitize(c):
    c["root"] = {"path": "rootfs"}
    c.pop("hooks", None)
    c["hostname"] = "bench"
    c["process"]["env"] = [e if not e.startswith("HOSTNAME=") else "HOSTNAME=bench" for e in c["process"]["env"]]
    c["linux"].pop("cgroupsPath", None)
    for m in c.get("mounts", []):
        src = m.get("source", "")
        if src.startswith("/"):
            m["source"] = "files/" + os.path.basename(src).lstrip(".")
    for ns in c["linux"].get("namespaces", []):
        ns.pop("path", None)   # a namespace of the capturing host's: a new one here
    return c


def main():
    work = sys.argv[1]
    for engine in ("docker", "podman"):
        with open(os.path.join(work, engine + ".raw.json")) as f:
            c = sanitize(json.load(f))
        with open(os.path.join(HERE, engine + ".json"), "w") as f:
            json.dump(c, f, indent=1)
            f.write("\n")
        print(engine, "->", [m["source"] for m in c["mounts"] if m["source"].startswith("files/")])


if __name__ == "__main__":
    main()
