# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the migrate test scripts (sourced, not run).
TOP=${BRIDGED_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# The `bridgectl migrate` command: $BRIDGECTL_MIGRATE when set, else the
# stand-alone tests/migrate/bridgectl-migrate (`bridgectl migrate` without
# the daemon's parts; built by `make tests`, rebuilt here when stale).
migrate_cmd() {
	if [ -n "${BRIDGECTL_MIGRATE:-}" ]; then
		echo "$BRIDGECTL_MIGRATE"
		return
	fi
	make -s -C "$TOP" tests/migrate/bridgectl-migrate >&2 || return 1
	echo "$TOP/tests/migrate/bridgectl-migrate"
}

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*" >&2; exit 1; }

# --- libvirtd without systemd (docs TESTING.md) ---
# libvirtd_start: starts virtlogd and libvirtd unless they run, and waits
# until $LIBVIRT_URI answers (the first start probes qemu for ~8 s).
# Returns 1 with the reason in $LIBVIRT_ERR. libvirtd_stop stops only what
# libvirtd_start started (by PID): call it from the test's cleanup.
LIBVIRT_URI=${LIBVIRT_URI:-qemu:///system}
STARTED_LIBVIRTD= STARTED_VIRTLOGD= LIBVIRT_ERR=
_pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
libvirtd_start() {
	if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then
		LIBVIRT_ERR="libvirt-daemon-system is not installed (make deps)"
		return 1
	fi
	if ! _pid_alive /run/libvirtd.pid; then
		if ! _pid_alive /run/virtlogd.pid; then
			virtlogd -d || { LIBVIRT_ERR="virtlogd did not start"; return 1; }
			for _ in $(seq 50); do _pid_alive /run/virtlogd.pid && break; sleep 0.1; done
			STARTED_VIRTLOGD=$(cat /run/virtlogd.pid 2>/dev/null)
		fi
		libvirtd -d || { LIBVIRT_ERR="libvirtd did not start"; return 1; }
		for _ in $(seq 50); do _pid_alive /run/libvirtd.pid && break; sleep 0.1; done
		STARTED_LIBVIRTD=$(cat /run/libvirtd.pid 2>/dev/null)
	fi
	for _ in $(seq 60); do
		virsh -c "$LIBVIRT_URI" version >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	LIBVIRT_ERR="libvirtd does not answer on $LIBVIRT_URI after 30 s"
	return 1
}
libvirtd_stop() {
	[ -n "$STARTED_LIBVIRTD" ] && kill "$STARTED_LIBVIRTD" 2>/dev/null
	[ -n "$STARTED_VIRTLOGD" ] && kill "$STARTED_VIRTLOGD" 2>/dev/null
	STARTED_LIBVIRTD= STARTED_VIRTLOGD=
}

# --- the Debian cloud kernel (docs TESTING.md) ---
# cloud_kernel: fetched once into $CACHE with apt-get download and
# dpkg-deb -x (never installed on the host); sets KVER, KDIR (the unpacked
# package: $KDIR/boot/vmlinuz-$KVER) and MODS ($KDIR/lib/modules/$KVER/kernel).
# Skips the test when the package cannot be named or fetched.
CACHE=${BRIDGED_TEST_CACHE:-/var/cache/bridged-test}
cloud_kernel() {
	local pkg
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
	[ -n "$pkg" ] || pkg=$(ls -d "$CACHE"/kernel/lib/modules/*/ 2>/dev/null | head -1 | xargs -r basename |
			       sed 's/^/linux-image-/')
	[ -n "$pkg" ] || skip "cannot name the cloud kernel package (apt-cache depends linux-image-cloud-amd64)"
	KVER=${pkg#linux-image-}
	KDIR=$CACHE/kernel
	if [ ! -f "$KDIR/boot/vmlinuz-$KVER" ]; then
		mkdir -p "$CACHE" && (cd "$CACHE" && apt-get download "$pkg" >/dev/null 2>&1) ||
			skip "cannot download $pkg"
		dpkg-deb -x "$CACHE/${pkg}_"*.deb "$KDIR" || die "dpkg-deb -x $pkg"
	fi
	MODS=$KDIR/lib/modules/$KVER/kernel
}

# copy_bin ROOT PATH: PATH into the tree ROOT at the same place, with the
# libraries ldd names (for a busybox initramfs or root file system).
copy_bin() {
	local root=$1 b=$2 lib
	mkdir -p "$root$(dirname "$b")"
	cp -L "$b" "$root$b"
	for lib in $(ldd "$b" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
