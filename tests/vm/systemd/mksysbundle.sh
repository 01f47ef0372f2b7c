#!/bin/sh
# Makes a system-container bundle in DIR: Debian's systemd as PID 1 (the LXC use), its /usr the
# host's, bound read-only. The rootfs holds only the merged-/usr links and a small /etc of its
# own (so none of the host's enabled services come along); /run, /tmp and /var are tmpfs.
# A unit husk-hello.service shows that services and journald work. See README "System containers".
# usage: mksysbundle.sh DIR [CGROUPS_PATH]
set -eu
dir=${1:?usage: mksysbundle.sh DIR [CGROUPS_PATH]}
cgpath=${2:-}
[ -x /usr/lib/systemd/systemd ] || { echo "mksysbundle: no /usr/lib/systemd/systemd (apt-get install systemd)" >&2; exit 1; }
r=$dir/rootfs
mkdir -p "$r/usr" "$r/etc/systemd/system/multi-user.target.wants" "$r/proc" "$r/sys" "$r/dev" \
         "$r/run" "$r/tmp" "$r/var" "$r/root"
for l in bin sbin lib lib64; do
    [ -e "$r/$l" ] || ln -s "usr/$l" "$r/$l"
done
e=$r/etc
# the host's users and groups (not their passwords): Debian's base set, which systemd-sysusers
# would otherwise create one by one at every boot
cp /etc/passwd /etc/group "$e/"
echo sys > "$e/hostname"
# a machine id of its own: a missing one means a first boot, which presets every unit
tr -d '-' < /proc/sys/kernel/random/uuid > "$e/machine-id"
ln -sf ../usr/lib/os-release "$e/os-release"
[ -f /etc/ld.so.cache ] && cp /etc/ld.so.cache "$e/"
ln -sf /lib/systemd/system/multi-user.target "$e/systemd/system/default.target"
cat > "$e/systemd/system/husk-hello.service" <<'UNIT'
[Unit]
Description=a service in the system container

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/echo hello from a service
# an orderly shutdown stops the service: where the runner bound a directory at /husk-out, it
# can see that this happened
ExecStop=/bin/sh -c 'if [ -d /husk-out ]; then echo stopped > /husk-out/hello-stopped; fi'

[Install]
WantedBy=multi-user.target
UNIT
ln -sf ../husk-hello.service "$e/systemd/system/multi-user.target.wants/husk-hello.service"
# nothing to do in a container: no consoles to log in on
ln -sf /dev/null "$e/systemd/system/getty.target"
ln -sf /dev/null "$e/systemd/system/systemd-ask-password-wall.path"
caps='"CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_FOWNER","CAP_FSETID","CAP_KILL",
 "CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_NET_ADMIN","CAP_NET_RAW",
 "CAP_IPC_LOCK","CAP_IPC_OWNER","CAP_SYS_CHROOT","CAP_SYS_PTRACE","CAP_SYS_ADMIN","CAP_SYS_NICE",
 "CAP_MKNOD","CAP_LEASE","CAP_AUDIT_WRITE","CAP_AUDIT_CONTROL","CAP_SETFCAP","CAP_SYSLOG"'
cat > "$dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/lib/systemd/systemd"],
    "env": ["container=husk", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
    "cwd": "/",
    "capabilities": {"bounding": [$caps], "effective": [$caps], "permitted": [$caps]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}]
  },
  "root": {"path": "rootfs", "readonly": false},
  "hostname": "sys",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "rw"]},
    {"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]},
    {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
    {"destination": "/var", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"},
                   {"type": "network"}, {"type": "cgroup"}],
    ${cgpath:+\"cgroupsPath\": \"$cgpath\",}
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger", "/proc/bus", "/proc/irq"]
  }
}
JSON
