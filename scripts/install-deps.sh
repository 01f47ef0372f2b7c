#!/bin/sh
# Installs the Debian 12 packages husk's build and tests need (as root).
# Optional groups: `engines` (podman, containerd, Docker for tests/engines), `cri` (containerd,
# CNI plugins, catatonit and a gRPC client for tests/cri, and the CRI API from containerd's
# Debian source) and `vm` (qemu and cpio for the cgroup-v2 VM of tests/vm, systemd and dbus for
# the systemd VM, which boots the host's own tree); e.g. `install-deps.sh engines cri vm`.
set -eu
pkgs="build-essential pkg-config libseccomp-dev libcap-dev libyajl-dev libmount-dev busybox-static \
python3 python3-pytest python3-jsonschema iproute2 musl-tools gperf dpkg-dev clang libfuzzer-14-dev uidmap"
norec=""
cri=""
for group in "$@"; do
    case $group in
        engines) pkgs="$pkgs podman conmon containerd docker.io" ;;
        cri) pkgs="$pkgs containerd runc containernetworking-plugins catatonit python3-grpcio python3-grpc-tools"
            cri=1 ;;
        vm) norec="qemu-system-x86 cpio systemd dbus" ;;
        *) echo "install-deps: unknown group $group" >&2; exit 1 ;;
    esac
done
# install PACKAGES... [--no-install-recommends]: whichever are not installed yet
install() {
    opts=""
    missing=""
    for p in "$@"; do
        case $p in
            --*) opts="$opts $p" ;;
            *) dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p" ;;
        esac
    done
    [ -n "$missing" ] || return 0
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq $opts $missing
}

# shellcheck disable=SC2086
install $pkgs
# qemu's recommends pull in a desktop's worth of media libraries: leave them out
# shellcheck disable=SC2086
[ -z "$norec" ] || install --no-install-recommends $norec
# husk links against musl when these are built (see scripts/musl-deps.sh); without them `make`
# falls back to a static glibc build, so a failure here is only a warning
sh "$(dirname "$0")/musl-deps.sh" || echo "install-deps: musl libraries not built; husk will link glibc" >&2
# the CRI API that containerd's Debian source vendors, for tests/cri's client (build/cri/api.proto)
[ -z "$cri" ] || sh "$(dirname "$0")/cri-proto.sh"
