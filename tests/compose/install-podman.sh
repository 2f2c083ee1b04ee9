#!/usr/bin/env bash
# Installs what the compose test needs on a Debian machine without Docker or a registry,
# as ../shared/CONTAINERS.md found to work: podman with runc, podman-compose, debootstrap
# (for the local base image). Run as root; safe to run again.
set -euo pipefail
if ! command -v podman >/dev/null || ! command -v podman-compose >/dev/null \
        || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc podman-compose debootstrap >/dev/null
fi
# These sandboxes refuse setrlimit from crun and have no systemd: runc, no default ulimits,
# cgroupfs, and file-based logs and events. An existing containers.conf is left alone.
if [ ! -e /etc/containers/containers.conf ]; then
    cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = []
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
fi
podman --version
