#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs every Debian 12 package that bridged's build, tests and demo need.
# Idempotent and non-interactive. --if-missing: do nothing when all are there.
set -e
PKGS="build-essential pkg-config clang
libnl-3-dev libnl-route-3-dev libsodium-dev libjson-c-dev libssl-dev libxxhash-dev liburing-dev
libcmocka-dev libparted-dev libvirt-dev libblkid-dev libxml2-dev
libext2fs-dev comerr-dev zlib1g-dev liblzma-dev libzstd-dev libsystemd-dev libcap-ng-dev libseccomp-dev libfuse3-dev
systemd mandoc
dpkg-dev debhelper lintian fakeroot tmux
iproute2 iptables iputils-ping tcpdump iperf3 jq ethtool procps psmisc kmod socat openssl
parted fdisk util-linux e2fsprogs
libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils busybox-static cpio lvm2 netcat-openbsd
libxml2-utils extlinux syslinux-common"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	[ "$1" = "--if-missing" ] || echo "deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
