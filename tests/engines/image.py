"""Builds an image tar from a busybox rootfs that `ctr images import`, `docker load` and
`podman load` all accept: an OCI image layout plus docker-archive's manifest.json."""
import gzip
import hashlib
import io
import json
import os
import tarfile
import time


def _add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def layer_from_rootfs(rootfs):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(rootfs)):
            t.add(os.path.join(rootfs, name), arcname=name)
    raw_bytes = raw.getvalue()
    gz = gzip.compress(raw_bytes, mtime=0)
    return raw_bytes, gz


def build(rootfs, out, name="localhost/husk-busybox", tag="latest", image_config=None):
    """image_config replaces the image's run configuration (Env, Cmd, Entrypoint...)."""
    raw, gz = layer_from_rootfs(rootfs)
    diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    layer_digest = hashlib.sha256(gz).hexdigest()
    config = {
        "architecture": "amd64", "os": "linux",
        "config": image_config or {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "husk tests"}],
    }
    cfg = json.dumps(config).encode()
    cfg_digest = hashlib.sha256(cfg).hexdigest()
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cfg_digest,
                   "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + layer_digest,
                    "size": len(gz)}],
    }
    man = json.dumps(manifest).encode()
    man_digest = hashlib.sha256(man).hexdigest()
    ref = f"{name}:{tag}"
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + man_digest,
        "size": len(man), "annotations": {"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag},
        "platform": {"architecture": "amd64", "os": "linux"}}]}
    docker_manifest = [{"Config": f"blobs/sha256/{cfg_digest}", "RepoTags": [ref],
                        "Layers": [f"blobs/sha256/{layer_digest}"]}]
    with tarfile.open(out, "w") as t:
        _add(t, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        _add(t, "index.json", json.dumps(index).encode())
        _add(t, f"blobs/sha256/{cfg_digest}", cfg)
        _add(t, f"blobs/sha256/{man_digest}", man)
        _add(t, f"blobs/sha256/{layer_digest}", gz)
        _add(t, "manifest.json", json.dumps(docker_manifest).encode())
        _add(t, "repositories", json.dumps({name: {tag: layer_digest}}).encode())
    return ref
