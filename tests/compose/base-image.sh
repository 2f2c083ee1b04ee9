#!/usr/bin/env bash
# Builds localhost/debian-base:bookworm from Debian's own packages (../shared/CONTAINERS.md):
# no container registry is reachable here, so the Dockerfile's BASE and the redis service
# run on this image. It carries the machine's extra CA certificates (an egress proxy's, if
# any) so that pip inside `podman build` trusts what the host trusts.
set -euo pipefail
IMAGE=${1:-localhost/debian-base:bookworm}
if podman image exists "$IMAGE"; then
    echo "base image $IMAGE exists"
    exit 0
fi
MIRROR=$(awk '/^URIs/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
ROOTFS=$(mktemp -d)
trap 'rm -rf "$ROOTFS"' EXIT
debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,redis-server,ca-certificates \
    bookworm "$ROOTFS" "$MIRROR" >/dev/null
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
    chroot "$ROOTFS" update-ca-certificates >/dev/null
fi
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
tar -C "$ROOTFS" -c . | podman import - "$IMAGE" >/dev/null
echo "base image $IMAGE built"
