#!/usr/bin/env bash
# Set up everything imagesmith and its tests need on a fresh Debian 12 machine (run as root):
# system packages, a virtualenv with imagesmith installed, a Docker daemon, and test fixtures.
# Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  packer docker.io qemu-system-x86 qemu-utils openssh-server openssh-client
  busybox-static xorriso debootstrap pigz zstd xz-utils lz4
  docker-registry cpio extlinux syslinux-common dosfstools mtools e2fsprogs
  linux-image-cloud-amd64 dropbear-bin isolinux openssh-sftp-server ovmf systemd-boot-efi
  redis-server ansible-core
)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'

# A Docker daemon with no bridge: containers get no network (the brief allows loopback only).
if ! docker info >/dev/null 2>&1; then
  echo "setup: starting dockerd"
  mkdir -p /var/log
  nohup dockerd --bridge=none --iptables=false >/var/log/imagesmith-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see /var/log/imagesmith-dockerd.log" >&2; exit 1; }
fi

# Test fixtures that must exist before the tests run.
for script in scripts/fixtures/*.sh; do
  [ -e "$script" ] || continue
  echo "setup: $script"
  bash "$script"
done
echo "setup: done"
