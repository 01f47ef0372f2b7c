"""A pod's life through containerd's CRI plugin as kubelet drives it: every test runs with the husk
handler and with the runc one (conftest.py), and expects the same of both."""
import ipaddress
import json
import os
import time

import pytest

import cri

grpc = pytest.importorskip("grpc")


def running(client, pod_id, config, name, command, **kw):
    cid = client.create(pod_id, config, client.container_config(name, command, **kw))
    client.start(cid)
    return cid


def ns_of(client, cid):
    code, out, err = client.exec_sync(cid, ["sh", "-c", "for n in net ipc uts pid; do readlink /proc/self/ns/$n; done"])
    assert code == 0, err
    return dict(zip(("net", "ipc", "uts", "pid"), out.split()))


def test_two_containers_share_the_pods_namespaces(client, pod):
    """RunPodSandbox, then two containers that join the sandbox's network, IPC and UTS
    namespaces by path (each has a pid namespace of its own: kubelet's default)."""
    api = client.api
    pod_id, config, _ = pod(hostname="husk-pod")
    st = client.pod_status(pod_id).status
    assert st.state == api.SANDBOX_READY
    ip = st.network.ip
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(cri.SUBNET), ip
    a = running(client, pod_id, config, "a", ["sleep", "300"])
    b = running(client, pod_id, config, "b", ["sleep", "300"])
    na, nb = ns_of(client, a), ns_of(client, b)
    assert (na["net"], na["ipc"], na["uts"]) == (nb["net"], nb["ipc"], nb["uts"])
    assert na["pid"] != nb["pid"]
    for cid in (a, b):
        s = client.status(cid).status
        assert s.state == api.CONTAINER_RUNNING and s.metadata.name in ("a", "b")
        code, out, _ = client.exec_sync(cid, ["sh", "-c", "hostname; ip -4 addr show eth0; ip -4 addr show lo"])
        assert code == 0 and out.splitlines()[0] == "husk-pod" and f"inet {ip}/" in out, out
        assert "inet 127.0.0.1/8" in out, out  # CNI's loopback plugin, which containerd adds
    # what one container puts in the pod's IPC namespace (a POSIX message queue) the other sees
    code, _, err = client.exec_sync(a, ["touch", "/dev/mqueue/husk-q"])
    assert code == 0, err
    code, out, _ = client.exec_sync(b, ["ls", "/dev/mqueue"])
    assert out.split() == ["husk-q"], out
    listed = client.rt.ListContainers(api.ListContainersRequest(
        filter=api.ContainerFilter(pod_sandbox_id=pod_id)), timeout=30).containers
    assert sorted(c.id for c in listed) == sorted([a, b])
    assert all(c.state == api.CONTAINER_RUNNING for c in listed)
    pods = client.rt.ListPodSandbox(api.ListPodSandboxRequest(
        filter=api.PodSandboxFilter(id=pod_id)), timeout=30).items
    assert [p.runtime_handler for p in pods] == [client.handler]


def test_shared_process_namespace(client, pod):
    """shareProcessNamespace: the containers join the sandbox's pid namespace too, the pause
    process its pid 1; a container's exit makes the shim kill --all what its init left."""
    api = client.api
    pod_id, config, _ = pod(share_pid=True)
    a = running(client, pod_id, config, "a", ["sleep", "300"], share_pid=True)
    b = running(client, pod_id, config, "b", ["sh", "-c", "sleep 301 & exit 5"], share_pid=True)
    st = client.wait_state(b, api.CONTAINER_EXITED)
    assert (st.state, st.exit_code) == (api.CONTAINER_EXITED, 5)
    code, out, _ = client.exec_sync(a, ["ps", "-o", "pid,args"])
    procs = [line.split(None, 1) for line in out.splitlines()[1:]]
    assert ["1", "/catatonit -P"] in procs, out
    assert ["sleep", "300"] in [p[1].split() for p in procs]
    # the orphan `sleep 301` went with its container (the pause reaps it)
    end = time.monotonic() + 5
    while "sleep 301" in out and time.monotonic() < end:
        time.sleep(0.05)
        out = client.exec_sync(a, ["ps", "-o", "args"])[1]
    assert "sleep 301" not in out, out


def test_exec_sync_exit_code_and_output(client, pod):
    pod_id, config, _ = pod()
    cid = running(client, pod_id, config, "c", ["sleep", "300"])
    assert client.exec_sync(cid, ["sh", "-c", "echo out; echo err >&2; exit 7"]) == (7, "out\n", "err\n")
    assert client.exec_sync(cid, ["true"]) == (0, "", "")
    # a missing program: the exec fails, and says why
    with pytest.raises(grpc.RpcError) as e:
        client.exec_sync(cid, ["/nonexistent"])
    msg = e.value.details()
    assert "/nonexistent" in msg and "no such file or directory" in msg.lower(), msg


def test_exec_and_attach_streams(client, pod):
    """Exec and Attach return a URL on containerd's streaming server: a websocket with k8s's
    channel protocol, what kubectl exec and attach speak."""
    api = client.api
    pod_id, config, _ = pod()
    cid = running(client, pod_id, config, "c", ["sleep", "300"])
    url = client.rt.Exec(api.ExecRequest(container_id=cid, cmd=["sh", "-c", "echo streamed; echo e >&2; exit 3"],
                                         stdout=True, stderr=True), timeout=30).url
    out, err, status = client.stream(url)
    assert (out, err, cri.exit_code_of(status)) == ("streamed\n", "e\n", 3), status
    url = client.rt.Exec(api.ExecRequest(container_id=cid, cmd=["head", "-n1"], stdin=True, stdout=True),
                         timeout=30).url
    out, _, status = client.stream(url, stdin=b"through stdin\n")
    assert (out, cri.exit_code_of(status)) == ("through stdin\n", 0)
    # attach to a container's own stdio: it reads a line from the attached stdin and answers
    att = running(client, pod_id, config, "att", ["sh", "-c", "read l; echo got $l"], stdin=True)
    url = client.rt.Attach(api.AttachRequest(container_id=att, stdin=True, stdout=True), timeout=30).url
    out, _, _ = client.stream(url, stdin=b"hello\n")
    assert out == "got hello\n"
    st = client.wait_state(att, api.CONTAINER_EXITED)
    assert st.state == api.CONTAINER_EXITED and st.exit_code == 0


def test_logs_through_the_cri_log_files(client, pod):
    api = client.api
    pod_id, config, logs = pod()
    cid = running(client, pod_id, config, "c", ["sh", "-c", "echo to-stdout; echo to-stderr >&2"])
    st = client.wait_state(cid, api.CONTAINER_EXITED)
    assert st.exit_code == 0
    assert st.log_path == str(logs / "c.log")
    # the CRI log format: RFC 3339 time, stream, P(artial) or F(ull), the line
    lines = sorted(line.split(" ", 1)[1] for line in (logs / "c.log").read_text().splitlines())
    assert lines == ["stderr F to-stderr", "stdout F to-stdout"]
    # kubelet's log rotation: the file moved away, ReopenContainerLog, the next lines in a new one
    r = running(client, pod_id, config, "r", ["sh", "-c", "read l; echo $l"], stdin=True)
    os.rename(logs / "r.log", logs / "r.log.1")
    client.rt.ReopenContainerLog(api.ReopenContainerLogRequest(container_id=r), timeout=30)
    url = client.rt.Attach(api.AttachRequest(container_id=r, stdin=True), timeout=30).url
    client.stream(url, stdin=b"after reopen\n")
    client.wait_state(r, api.CONTAINER_EXITED)
    assert (logs / "r.log").read_text().split(" ", 1)[1] == "stdout F after reopen\n"


def cgroup_file(cgroups_path, v1_ctrl, name):
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return f"/sys/fs/cgroup{cgroups_path}/{name}"
    return f"/sys/fs/cgroup/{v1_ctrl}{cgroups_path}/{name}"


def test_update_resources_and_stats(client, pod):
    api = client.api
    pod_id, config, _ = pod()
    res = api.LinuxContainerResources(memory_limit_in_bytes=256 << 20, cpu_shares=1024)
    cid = running(client, pod_id, config, "c", ["sleep", "300"], resources=res)
    spec = json.loads(client.status(cid, verbose=True).info["info"])["runtimeSpec"]
    path = spec["linux"]["cgroupsPath"]
    assert path.startswith(client.ctrd.cgroup + "/"), path
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    mem = cgroup_file(path, "memory", "memory.max" if v2 else "memory.limit_in_bytes")
    cpu = cgroup_file(path, "cpu", "cpu.weight" if v2 else "cpu.shares")
    with open(mem) as f:
        assert int(f.read()) == 256 << 20
    client.rt.UpdateContainerResources(api.UpdateContainerResourcesRequest(
        container_id=cid, linux=api.LinuxContainerResources(memory_limit_in_bytes=64 << 20, cpu_shares=512)),
        timeout=30)
    with open(mem) as f:
        assert int(f.read()) == 64 << 20
    with open(cpu) as f:
        assert int(f.read()) == (20 if v2 else 512)  # 512 shares are weight 20 (runc's conversion)
    code, out, _ = client.exec_sync(cid, ["sh", "-c", "head -c 1000000 /dev/zero | wc -c"])
    assert (code, out.strip()) == (0, "1000000")
    stats = client.rt.ContainerStats(api.ContainerStatsRequest(container_id=cid), timeout=30).stats
    assert stats.attributes.id == cid
    assert stats.cpu.usage_core_nano_seconds.value > 0
    assert stats.memory.working_set_bytes.value > 0
    listed = client.rt.ListContainerStats(api.ListContainerStatsRequest(
        filter=api.ContainerStatsFilter(pod_sandbox_id=pod_id)), timeout=30).stats
    assert [s.attributes.id for s in listed] == [cid]


def test_stop_with_grace_period(client, pod):
    """StopContainer: TERM, then KILL once the grace period is over."""
    api = client.api
    pod_id, config, logs = pod()
    polite = running(client, pod_id, config, "polite",
                     ["sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo up; while :; do sleep 0.1; done"])
    deaf = running(client, pod_id, config, "deaf", ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"])
    end = time.monotonic() + 5
    while "up" not in (logs / "polite.log").read_text() and time.monotonic() < end:
        time.sleep(0.05)  # the trap is set
    t = time.monotonic()
    client.stop(polite, 10)
    assert time.monotonic() - t < 5
    st = client.status(polite).status
    assert (st.state, st.exit_code) == (api.CONTAINER_EXITED, 0)
    assert "stdout F got TERM" in (logs / "polite.log").read_text()
    t = time.monotonic()
    client.stop(deaf, 1)
    assert time.monotonic() - t >= 1
    st = client.status(deaf).status
    assert (st.state, st.exit_code) == (api.CONTAINER_EXITED, 137)


def test_non_zero_exit(client, pod):
    api = client.api
    pod_id, config, _ = pod()
    cid = running(client, pod_id, config, "c", ["sh", "-c", "exit 3"])
    st = client.wait_state(cid, api.CONTAINER_EXITED)
    assert (st.state, st.exit_code, st.reason) == (api.CONTAINER_EXITED, 3, "Error")


def test_missing_command_error_reaches_the_caller(client, pod):
    """The container is created (containerd only records it); the runtime's create fails at
    StartContainer, and its reason comes back to the CRI caller."""
    api = client.api
    pod_id, config, _ = pod()
    cid = client.create(pod_id, config, client.container_config("c", ["/nonexistent"]))
    with pytest.raises(grpc.RpcError) as e:
        client.start(cid)
    msg = e.value.details()
    assert "/nonexistent" in msg and "no such file or directory" in msg.lower(), msg
    st = client.status(cid).status
    assert st.state == api.CONTAINER_EXITED and st.exit_code == 128 and st.reason == "StartError"
    assert "/nonexistent" in st.message


def test_security_context(client, pod):
    """runAsUser, readOnlyRootFilesystem, capabilities drop ALL, seccomp RuntimeDefault."""
    api = client.api
    runtime_default = api.SecurityProfile(profile_type=api.SecurityProfile.RuntimeDefault)
    pod_id, config, _ = pod(security=api.LinuxSandboxSecurityContext(
        run_as_user=api.Int64Value(value=1000), seccomp=runtime_default))
    sec = api.LinuxContainerSecurityContext(
        run_as_user=api.Int64Value(value=1000), readonly_rootfs=True,
        capabilities=api.Capability(drop_capabilities=["ALL"]), seccomp=runtime_default)
    cid = running(client, pod_id, config, "c", ["sleep", "300"], security=sec)
    code, out, _ = client.exec_sync(cid, ["id", "-u"])
    assert (code, out) == (0, "1000\n")
    code, _, err = client.exec_sync(cid, ["touch", "/x"])
    assert code != 0 and "read-only file system" in err.lower(), err
    code, out, _ = client.exec_sync(cid, ["cat", "/proc/1/status", "/proc/self/status"])
    fields = [line.split(":", 1) for line in out.splitlines()]
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert [int(v, 16) for k, v in fields if k == key] == [0, 0], key
    assert [v.strip() for k, v in fields if k == "Seccomp"] == ["2", "2"]
    assert [v.strip() for k, v in fields if k == "Uid"] == ["1000\t1000\t1000\t1000"] * 2
    # RuntimeDefault's filter refuses what the profile leaves out even where the kernel's own
    # checks would not get to say no: a new user namespace needs no capability
    code, _, err = client.exec_sync(cid, ["unshare", "-U", "true"])
    assert code != 0 and "operation not permitted" in err.lower(), err
