# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the cutover's end-to-end test (sourced, not run).
#
#   client ns $P-cl                 new host = the ROOT namespace          old host ns $P-old
#   eth0 $GNET.20/24 --veth-- $P-cv  [$P-br] -- $P-old tap (bridged) ==UDP==  (bridged) tap -- [xenbr0]
#   pings the guest all along        |  real libvirtd, dir pool $P-pool    |             |  vif$DOMID.0
#                                    |  (the moved domain's vnetN joins)   |             qemu (TCG) = the "Xen" VM,
#                                    $P-ul $UL.1/24 ====== veth ====== ul0 $UL.2/24       started by the xl STAND-IN
#                                                                          MigrateListen $UL.2:5881, MigrateSource xl
#
# The "Xen" VM is a real guest: tests/stream/xl-stand-in (a STAND-IN for
# xl: Xen cannot run here) runs its Xen config as a TCG qemu in the old
# host's namespace when $XL_STANDIN_DIR/qemu exists (guest_start, or the
# old daemon itself when it runs `xl create`). Its serial console is
# $XL_STANDIN_DIR/guests/$VM.console; the new domain's is $NEW_CONSOLE.
#
# Every name carries the per-run prefix $P (namespaces, links, the VM, the
# pool, files in $WORK); cleanup runs from the EXIT trap of tests/lib/netns.sh
# (hooks: the stand-in's guests, the domain, the volume, the pool, the new
# host's bridged, its bridge, libvirtd if we started it); processes are
# stopped by PID only; every wait is bounded in time and by the script's
# budget ($CUTOVER_BUDGET seconds from the start, default 290).
P=${P:-cu$(printf '%04x' $((RANDOM % 65536)))}
. "$(dirname "${BASH_SOURCE[0]}")/../lib/netns.sh"
chmod 755 "$WORK"	# qemu of libvirt runs as libvirt-qemu: the boot files are read from here
. "$(dirname "${BASH_SOURCE[0]}")/../migrate/lib.sh"
# netns.sh's fail/skip are the ones of this test (migrate/lib.sh redefined skip: same text)
die() { fail "$@"; }

STANDIN=$TOP/tests/stream/xl-stand-in
URI=$LIBVIRT_URI
CUTOVER_BUDGET=${CUTOVER_BUDGET:-290}
VM=$P-vm
POOL=$P-pool
BR=$P-br
OLDPEER=$P-old		# the old host's [Peer] name in the new host's config (cutover --from)
MPORT=5881		# the old host's MigrateListen port
NEW_CONSOLE=$WORK/new-console.log
CUTSTATE=$WORK/cutover	# cutover --state-dir: the journal is $CUTSTATE/$VM.json
BOOTDIR=$WORK/boot	# cutover --boot-dir
IMG=$WORK/img		# the old VM's disks and the "dom0's" initrd
MiB=$((1024 * 1024))
SWAP_UUID=5eed5eed-c0de-4000-8000-0000000000$(printf '%02x' $((RANDOM % 256)))
ROOT_UUID=0c0ffee0-c0de-4000-8000-0000000000$(printf '%02x' $((RANDOM % 256)))
MAC=00:16:3e:c0:$(printf '%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)))
export XL_STANDIN_DIR=$WORK/xl

# step TEXT: a heading with the time since the start
step() { printf '== [%3ds] %s\n' "$SECONDS" "$*"; }

# left [SECONDS]: SECONDS (default: all) capped at what is left of the
# budget; fails the test when nothing is left
left() {
	local rest=$((CUTOVER_BUDGET - SECONDS)) want=${1:-999999}
	[ $rest -gt 0 ] || fail "over the time budget of $CUTOVER_BUDGET s"
	[ "$want" -lt $rest ] && echo "$want" || echo $rest
}

# cutover_require: skips (77) naming what is missing
cutover_require() {
	local c
	for c in qemu-system-x86_64 mkfs.ext4 mkswap blkid cpio gzip jq ip bridge ping stdbuf nc cmp sha256sum extlinux; do
		command -v $c >/dev/null || skip "$c is not installed (make deps)"
	done
	file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || skip "busybox is not static (busybox-static)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	[ -x "$STANDIN" ] || fail "$STANDIN missing"
	[ -x "$BRIDGECTL" ] || fail "$BRIDGECTL not built (make)"
}

# --- free addresses in the root namespace ------------------------------------
# pick_nets: UL (the underlay /24, 198.18.x) unused in the root namespace,
# GNET (the guest's segment, 198.19.y: only in the client and the guest),
# NEWPORT (the new host's UDP port, free in the root namespace)
pick_nets() {
	local x i
	for i in $(seq 50); do
		x=$((RANDOM % 150 + 100))
		ip -4 -o addr show | grep -q " 198\.18\.$x\." && continue
		[ -z "$(ip -4 route show 198.18.$x.0/24)" ] || continue
		UL=198.18.$x
		break
	done
	[ -n "${UL:-}" ] || fail "no free 198.18.x.0/24 in the root namespace"
	GNET=198.19.$((RANDOM % 250 + 1))
	GIP=$GNET.10
	CIP=$GNET.20
	for i in $(seq 50); do
		NEWPORT=$((RANDOM % 10000 + 20000))
		[ -z "$(ss -Hlun "sport = :$NEWPORT")" ] && return 0
	done
	fail "no free UDP port"
}

# --- the guest ---------------------------------------------------------------
# guest_images DIR IP/LEN: the old VM's disks and the "dom0's" initrd, for
# the cloud kernel of cloud_kernel ($KVER, $KDIR, $MODS):
#   DIR/initrd.gz  busybox + virtio_blk (the "Xen" boot: root=/dev/vda under
#                  the stand-in) and virtio_scsi + sd_mod (the KVM boot:
#                  root=/dev/sda1); mounts root= (a device or UUID=) read-only,
#                  switch_root to /sbin/init
#   DIR/root.img   ext4 (mkfs.ext4 -d, UUID $ROOT_UUID, 48 MiB) = xvda1: busybox
#                  init with /etc/inittab (rcS: virtio_net, eth0 up with the
#                  bridged.ip= of the command line, the ACPI power button
#                  watched: it powers off cleanly; a getty on ttyS0), fstab by
#                  UUID=, /boot with the same kernel and initrd (stage 1 boots
#                  the guest's own), modules.dep/modules.builtin for preflight
#   DIR/swap.img   8 MiB, mkswap -U $SWAP_UUID = xvda2
#   DIR/data.img   64 MiB of random bytes = xvda3, never mounted
# The console lines: INITRAMFS root=..., GUEST-UP root=..., GUEST-CMDLINE,
# GUEST-MAC, GUEST-READY (init done, answers ping), GUEST-POWERBUTTON and
# GUEST-SHUTDOWN (a clean poweroff).
guest_images() {
	local dir=$1 ip=$2 I R m
	I=$dir/initramfs.d
	R=$dir/root.d
	mkdir -p "$I"/{bin,lib/modules,proc,sys,dev,newroot}
	cp /bin/busybox "$I/bin/busybox"
	ln -s busybox "$I/bin/sh"
	for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
		 drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
		 drivers/scsi/scsi_common drivers/scsi/scsi_mod drivers/scsi/virtio_scsi drivers/scsi/sd_mod; do
		cp "$MODS/$m.ko" "$I/lib/modules/" || skip "module $m missing in $KVER"
	done
	cat >"$I/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk \
	 scsi_common scsi_mod virtio_scsi sd_mod; do
	insmod /lib/modules/$m.ko
done
root=$(sed -n 's/.*root=\([^ ]*\).*/\1/p' /proc/cmdline)
echo "INITRAMFS root=$root"
dev=$root
for i in $(seq 100); do
	case $root in UUID=* | LABEL=*) dev=$(findfs "$root" 2>/dev/null) ;; esac
	[ -b "$dev" ] && break
	sleep 0.1
done
mount -t ext4 -o ro "$dev" /newroot || { echo "INITRAMFS cannot mount $root"; ls /dev; sleep 5; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
INIT
	chmod +x "$I/init"
	(cd "$I" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$dir/initrd.gz" || fail "cpio"

	mkdir -p "$R"/{bin,sbin,etc/init.d,proc,sys,dev,tmp,root,boot/extlinux,usr/lib/syslinux/mbr} "$R/lib/modules/$KVER"
	cp /bin/busybox "$R/bin/busybox"
	# the applets as links in the image: the root is mounted read-only
	for m in $(/bin/busybox --list); do [ -e "$R/bin/$m" ] || ln -s busybox "$R/bin/$m"; done
	for m in init getty poweroff reboot halt; do ln -s ../bin/busybox "$R/sbin/$m"; done
	for m in net/core/failover drivers/net/net_failover drivers/net/virtio_net drivers/acpi/button \
		 drivers/input/evdev; do
		cp "$MODS/$m.ko" "$R/lib/modules/$KVER/" || skip "module $m missing in $KVER"
	done
	cp "$KDIR/boot/vmlinuz-$KVER" "$R/boot/vmlinuz-$KVER"
	cp "$dir/initrd.gz" "$R/boot/initrd.img-$KVER"
	ln -s "boot/vmlinuz-$KVER" "$R/vmlinuz"
	ln -s "boot/initrd.img-$KVER" "$R/initrd.img"
	# a bootloader the guest installs into its own disk when asked (stage 2):
	# extlinux, the MBR code, its configuration
	copy_bin "$R" "$(readlink -f "$(command -v extlinux)")"
	cp "$(readlink -f "$(command -v extlinux)")" "$R/bin/extlinux"
	cp /usr/lib/syslinux/mbr/mbr.bin "$R/usr/lib/syslinux/mbr/mbr.bin" || skip "no /usr/lib/syslinux/mbr/mbr.bin"
	cat >"$R/boot/extlinux/extlinux.conf" <<CONF
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  LINUX /boot/vmlinuz-$KVER
  INITRD /boot/initrd.img-$KVER
  APPEND root=UUID=$ROOT_UUID ro console=ttyS0,115200 bridged.ip=$ip bridged.boot=disk
CONF
	# what depmod writes (preflight's driver check reads it)
	cp "$KDIR/lib/modules/$KVER/modules.builtin" "$R/lib/modules/$KVER/" 2>/dev/null
	cat >"$R/lib/modules/$KVER/modules.dep" <<'DEP'
kernel/net/core/failover.ko:
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko
kernel/drivers/acpi/button.ko:
kernel/drivers/input/evdev.ko:
DEP
	cat >"$R/etc/fstab" <<FSTAB
# <file system>                           <mount point> <type> <options>             <dump> <pass>
UUID=$ROOT_UUID /             ext4   ro,errors=remount-ro  0      1
UUID=$SWAP_UUID none          swap   sw                    0      0
FSTAB
	cat >"$R/etc/inittab" <<'TAB'
::sysinit:/etc/init.d/rcS
ttyS0::respawn:/sbin/getty -L 115200 ttyS0 vt100
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/init.d/rcK
TAB
	printf 'root::0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
	printf 'root:x:0:\n' >"$R/etc/group"
	printf 'cutover-guest\n' >"$R/etc/hostname"
	cat >"$R/etc/init.d/rcS" <<RCS
#!/bin/sh
# the guest's boot: network from the command line, the power button watched
export PATH=/bin:/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys
# from here on only what this script prints reaches the console (and panics)
echo 1 >/proc/sys/kernel/printk
hostname -F /etc/hostname
for m in failover net_failover virtio_net button evdev; do insmod /lib/modules/$KVER/\$m.ko; done
cmdline=\$(cat /proc/cmdline)
root=\$(awk '\$2 == "/" && \$1 != "rootfs" {print \$1}' /proc/mounts)
echo "GUEST-UP root=\$root"
echo "GUEST-CMDLINE \$cmdline"
ip=\$(echo "\$cmdline" | sed -n 's/.*bridged.ip=\([^ ]*\).*/\1/p')
for i in \$(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
echo "GUEST-MAC \$(cat /sys/class/net/eth0/address)"
ip link set lo up; ip link set eth0 up; ip addr add "\$ip" dev eth0
ev=
for i in \$(seq 30); do
	for e in /sys/class/input/event*; do
		[ "\$(cat \$e/device/name 2>/dev/null)" = "Power Button" ] && ev=/dev/input/\${e##*/}
	done
	[ -n "\$ev" ] && [ -c "\$ev" ] && break
	sleep 0.1
done
# what an operator does before stage 2 (ssh in, install a bootloader), on
# request: a connection to port 7000 runs it, its result on the console too
nc -ll -p 7000 -e /sbin/bootloader-install </dev/null >/dev/null 2>&1 &
case " \$cmdline " in *" bridged.boot=disk "*) echo "GUEST-BOOT disk" ;; *) echo "GUEST-BOOT kernel" ;; esac
if [ -n "\$ev" ]; then
	# busybox init ignores ACPI: one event from the button is a clean poweroff
	(dd if=\$ev of=/dev/null bs=24 count=1 2>/dev/null; printf '\\nGUEST-POWERBUTTON\\n'; poweroff) </dev/null &
else
	echo "GUEST-NO-POWERBUTTON"
fi
echo "GUEST-READY"
RCS
	cat >"$R/sbin/bootloader-install" <<'BLI'
#!/bin/sh
# extlinux into the root file system, the MBR code into its disk. mkfs.ext4 -d
# left holes where the kernel has zero blocks and extlinux reads no holes:
# the files are written whole first, as a package would.
export PATH=/bin:/sbin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
root=$(awk '$2 == "/" && $1 != "rootfs" {print $1}' /proc/mounts)
disk=$(echo "$root" | sed 's/[0-9]*$//')
if mount -o remount,rw / &&
	for f in /boot/vmlinuz-* /boot/initrd.img-*; do cat "$f" >"$f.new" && mv "$f.new" "$f" || exit 1; done &&
	extlinux --install /boot/extlinux >/dev/null 2>&1 &&
	dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc 2>/dev/null &&
	sync && mount -o remount,ro /; then
	r="installed on $disk"
else
	r=failed
fi
echo "GUEST-BOOTLOADER $r" >/dev/console
echo "GUEST-BOOTLOADER $r"
BLI
	cat >"$R/etc/init.d/rcK" <<'RCK'
#!/bin/sh
echo "GUEST-SHUTDOWN"
sync
RCK
	chmod +x "$R/etc/init.d/rcS" "$R/etc/init.d/rcK" "$R/sbin/bootloader-install"
	truncate -s 48M "$dir/root.img"
	# extlinux 6.04 reads ext4 without the newest features
	mkfs.ext4 -q -F -O ^metadata_csum,^64bit,^orphan_file -U "$ROOT_UUID" -L groot -d "$R" "$dir/root.img" 48M \
		2>/dev/null || mkfs.ext4 -q -F -O ^metadata_csum,^64bit -U "$ROOT_UUID" -L groot -d "$R" \
		"$dir/root.img" 48M || fail "mkfs.ext4 -d"
	truncate -s 8M "$dir/swap.img"
	mkswap -q -U "$SWAP_UUID" "$dir/swap.img" >/dev/null || fail mkswap
	head -c $((64 * MiB)) /dev/urandom >"$dir/data.img"
	rm -rf "$I" "$R"
	chmod 644 "$dir"/*.img "$dir/initrd.gz"
}

# xen_config FILE IP/LEN: the old VM's Xen config (per-partition disks, the
# dom0's kernel and ramdisk, the vif on xenbr0 with $MAC)
xen_config() {
	cat >"$1" <<CFG
# $VM: a PV guest of the old Xen host (per-partition volumes, the dom0's kernel)
name    = '$VM'
memory  = 256
vcpus   = 1
kernel  = '$KDIR/boot/vmlinuz-$KVER'
ramdisk = '$IMG/initrd.gz'
root    = '/dev/xvda1 ro'
extra   = 'bridged.ip=$2 panic=-1'
disk    = [ 'phy:$IMG/root.img,xvda1,w',
            'phy:$IMG/swap.img,xvda2,w',
            'phy:$IMG/data.img,xvda3,w' ]
vif     = [ 'mac=$MAC,bridge=xenbr0' ]
on_reboot = 'restart'
CFG
}

# --- the hosts -----------------------------------------------------------------
# hooks, in this order at exit: the stand-in's guests (qemu, by PID), the
# new domain, its volume, the pool, the new host's bridged and its bridge,
# libvirtd (only if we started it). netns.sh then stops the other PIDS and
# deletes the namespaces (the veths go with them).
cutover_cleanup_hooks() {
	on_cleanup '[ "$rc" = 0 ] || [ "$rc" = 77 ] || cutover_dump'
	on_cleanup 'standin_kill_all'
	on_cleanup 'cutover_forget_new'
	on_cleanup '[ -n "${POOL_DEFINED:-}" ] && { virsh -c "$URI" pool-destroy "$POOL"; virsh -c "$URI" pool-undefine "$POOL"; } >/dev/null 2>&1'
	on_cleanup '[ -n "${new_PID:-}" ] && stop_bridged new'
	# the root namespace's ends of the veths (their peers go with them, at once)
	on_cleanup 'ip link del "$P-ul" 2>/dev/null; ip link del "$P-cv" 2>/dev/null; ip link del "$BR" 2>/dev/null'
	on_cleanup 'libvirtd_stop_wait'
}

# libvirtd_stop_wait: libvirtd_stop (only what libvirtd_start started), then
# until those processes are gone (at most 10 s)
libvirtd_stop_wait() {
	local pids="$STARTED_LIBVIRTD $STARTED_VIRTLOGD" p
	libvirtd_stop
	for p in $pids; do
		for _ in $(seq 100); do [ -e "/proc/$p" ] || break; sleep 0.1; done
	done
	return 0
}

# standin_kill_all: every guest the stand-in started, killed by PID and
# waited for (at most 5 s each)
standin_kill_all() {
	local f p
	for f in "$XL_STANDIN_DIR"/domains/*; do
		[ -e "$f" ] || continue
		read -r _ p _ <"$f"
		kill -9 "$p" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	return 0
}

# cutover_forget_new: the new side as before the move: the domain (and its
# volume) gone, the journal, the boot files and the console log removed
cutover_forget_new() {
	virsh -c "$URI" destroy "$VM" >/dev/null 2>&1
	virsh -c "$URI" undefine "$VM" >/dev/null 2>&1
	[ -n "${POOL_DEFINED:-}" ] && virsh -c "$URI" vol-delete --pool "$POOL" "$VM-xvda" >/dev/null 2>&1
	rm -rf "$CUTSTATE" "$BOOTDIR" "$NEW_CONSOLE"
	return 0
}

# cutover_dump: on failure, the consoles' and the cutover's last lines
cutover_dump() {
	local f
	for f in "$XL_STANDIN_DIR"/guests/*.console "$XL_STANDIN_DIR"/guests/*.qemu.log "$NEW_CONSOLE" \
		 "$WORK"/cut-*.err "$WORK"/cut-*.out "$CUTSTATE/$VM.json" "$WORK"/*.ping; do
		[ -s "$f" ] && { echo "--- $f"; tr -d '\r' <"$f" | tail -n 25; }
	done
	return 0
}

# old_host: namespace $P-old joined to the root namespace by a veth
# ($P-ul $UL.1 here, ul0 $UL.2 there); its bridged (xenbr0 = segment sv,
# [Peer new], MigrateListen $UL.2:5881, the xl stand-in with $XL_STANDIN_DIR
# switched to qemu guests, XenConfigDir $WORK/xen with $VM.cfg and the
# link auto/$VM -> ../$VM.cfg, no XenSaveDir)
old_host() {
	add_ns old
	ip link add "$P-ul" type veth peer name ul0 netns "$P-old" || fail "veth $P-ul"
	ip addr add "$UL.1/24" dev "$P-ul" && ip link set "$P-ul" up || fail "address on $P-ul"
	nsx "$P-old" ip addr add "$UL.2/24" dev ul0 && nsx "$P-old" ip link set ul0 up || fail "address on ul0"
	mkdir -p "$WORK/xen/auto" "$XL_STANDIN_DIR" "$WORK/old-state"
	touch "$XL_STANDIN_DIR/qemu"	# the stand-in's switch: every `xl create` is a real qemu guest
	xen_config "$WORK/xen/$VM.cfg" "$GIP/24"
	ln -s "../$VM.cfg" "$WORK/xen/auto/$VM"
	cat >"$WORK/old.conf" <<EOC
[Node]
PrivateKeyFile = $WORK/old.key
ListenAddress = $UL.2
ListenPort = 5880
ControlSocket = $WORK/old.sock
StateFile = $WORK/old.state
MigrateListen = $UL.2:$MPORT
XenConfigDir = $WORK/xen
MigrateSource = xl
MigrateSourceTool = $STANDIN
XenAutoDir = $WORK/xen/auto
XenSaveDir = none
MigrateStateDir = $WORK/old-state

[Bridge xenbr0]
Segment = sv

[Peer new]
PublicKey = $new_PUB
Endpoint = $UL.1:$NEWPORT
Segments = sv
EOC
	# XL_STANDIN_DIR is in its environment: the daemon's tools inherit it
	start_bridged old
	grep -q "migrate: their state, shutdown and autostart through xl $STANDIN" "$WORK/old.log" ||
		fail "the old daemon does not name its MigrateSource"
}

# new_host: the root namespace: libvirtd (started if it does not run), the
# dir pool $POOL in $WORK/pool, bridged with its own socket and state in
# $WORK ($BR = segment sv, [Peer $OLDPEER]); waits for the session
new_host() {
	libvirtd_start || skip "$LIBVIRT_ERR"
	mkdir -p "$WORK/pool" "$BOOTDIR"
	virsh -c "$URI" pool-define-as "$POOL" dir --target "$WORK/pool" >/dev/null || fail "pool-define-as"
	POOL_DEFINED=1
	virsh -c "$URI" pool-start "$POOL" >/dev/null || fail "pool-start"
	cat >"$WORK/new.conf" <<EOC
[Node]
PrivateKeyFile = $WORK/new.key
ListenAddress = $UL.1
ListenPort = $NEWPORT
ControlSocket = $WORK/new.sock
StateFile = $WORK/new.state

[Bridge $BR]
Segment = sv

[Peer $OLDPEER]
PublicKey = $old_PUB
Endpoint = $UL.2:5880
Segments = sv
EOC
	"$BRIDGED" -f -v -c "$WORK/new.conf" >>"$WORK/new.log" 2>&1 &
	new_PID=$!
	PIDS+=("$new_PID")
	wait_for 5 test -S "$WORK/new.sock" || fail "bridged on the new host did not start"
	wait_for 5 ctl new status --json || fail "bridged on the new host does not answer"
	sysctl -qw "net.ipv6.conf.$BR.disable_ipv6=1" 2>/dev/null
	wait_for 10 session_up new "$OLDPEER" || fail "no session new -> old"
	wait_for 10 session_up old new || fail "no session old -> new"
	TUNTAP=$(ctl new status --json | jq -r --arg p "$OLDPEER" '.peers[] | select(.name == $p) | .tunnels[0].tap')
	[ -n "$TUNTAP" ] && [ "$TUNTAP" != null ] || fail "no tunnel TAP for $OLDPEER"
}

# client_ns: namespace $P-cl, eth0 $CIP/24, its veth $P-cv in $BR
client_ns() {
	add_ns cl
	ip link add "$P-cv" type veth peer name eth0 netns "$P-cl" || fail "veth $P-cv"
	sysctl -qw "net.ipv6.conf.$P-cv.disable_ipv6=1" 2>/dev/null
	ip link set "$P-cv" master "$BR" up || fail "$P-cv into $BR"
	nsx "$P-cl" ip addr add "$CIP/24" dev eth0
	nsx "$P-cl" ip link set eth0 up
}

# cutover_setup: keys, addresses, images, both hosts, the client
cutover_setup() {
	cutover_cleanup_hooks
	pick_nets
	genkey old; genkey new
	step "guest images (kernel $KVER), hosts: underlay $UL.0/24, guest $GIP, client $CIP"
	mkdir -p "$IMG"
	guest_images "$IMG" "$GIP/24"
	old_host
	new_host
	client_ns
}

# --- the old host's admin and the guest ----------------------------------------
# xl ARGS...: the stand-in in the old host's namespace, as its admin runs xl
xl() { nsx "$P-old" "$STANDIN" "$@"; }

# old_console: the stand-in guest's serial console
old_console() { echo "$XL_STANDIN_DIR/guests/$VM.console"; }

# old_qemu_pid: the PID of the old VM's qemu (empty when it has none)
old_qemu_pid() {
	local p
	[ -f "$XL_STANDIN_DIR/domains/$VM" ] || return 0
	read -r _ p _ <"$XL_STANDIN_DIR/domains/$VM"
	kill -0 "$p" 2>/dev/null && echo "$p"
	return 0
}

# wait_console FILE PATTERN SECONDS: until the console has a line matching
# PATTERN (an extended regex, carriage returns dropped); on timeout its last
# lines are printed and 1 returned
wait_console() {
	local end=$((SECONDS + $(left "$3")))
	while [ $SECONDS -lt $end ]; do
		tr -d '\r' <"$1" 2>/dev/null | grep -Eq "$2" && return 0
		sleep 0.25
	done
	echo "--- console ($1), no /$2/ within $3 s:"
	tr -d '\r' <"$1" 2>/dev/null | tail -n 30
	return 1
}

# guest_start: `xl create` of the VM through the stand-in, in the old host's
# namespace (the same XL_STANDIN_DIR as the daemon's); waits for GUEST-READY;
# GUEST_BOOT_S is how long that took
guest_start() {
	local t0=$SECONDS
	xl create "$WORK/xen/$VM.cfg" >"$WORK/xl-create.out" 2>&1 || fail "xl create: $(cat "$WORK/xl-create.out")"
	[ -n "$(old_qemu_pid)" ] || fail "xl create: no qemu process"
	wait_console "$(old_console)" 'GUEST-READY' 90 || fail "the Xen guest did not boot under the stand-in"
	GUEST_BOOT_S=$((SECONDS - t0))
	tr -d '\r' <"$(old_console)" | grep -qx "GUEST-UP root=/dev/vda" || fail "the Xen guest's root is not /dev/vda"
	tr -d '\r' <"$(old_console)" | grep -qx "GUEST-MAC $MAC" || fail "the Xen guest's eth0 has not $MAC"
	tr -d '\r' <"$(old_console)" | grep -q "^GUEST-NO-POWERBUTTON" && fail "the guest found no ACPI power button"
	return 0
}

# --- the client ------------------------------------------------------------------
# ping_ok SECONDS: the client gets an answer from the guest within SECONDS
ping_ok() {
	local end=$((SECONDS + $(left "$1")))
	while [ $SECONDS -lt $end ]; do
		nsx "$P-cl" ping -c 1 -W 1 "$GIP" >/dev/null 2>&1 && return 0
	done
	return 1
}

# pinger_start NAME SECONDS: the client pings the guest every 0.2 s, at most
# SECONDS, into $WORK/NAME.ping: a line "[EPOCH] 64 bytes from ..." per
# reply, "[EPOCH] no answer" per miss. One ping process per probe: a single
# long-running ping stops sending once the guest's neighbour entry fails
# (seen: its sequence stuck, no reply recorded after the guest came back).
pinger_start() {
	bg "$P-cl" bash -c 'end=$((SECONDS + $1)); while [ $SECONDS -lt $end ]; do
		if ping -c 1 -n -W 0.5 "$2" >/dev/null 2>&1; then echo "[$(date +%s.%N)] 64 bytes from $2"
		else echo "[$(date +%s.%N)] no answer"; fi; sleep 0.2; done' pinger "$2" "$GIP" >"$WORK/$1.ping" 2>&1
	PINGER_PID=$BG_PID
}

# pinger_stop: SIGINT (ping prints its summary), bounded
pinger_stop() {
	[ -n "${PINGER_PID:-}" ] || return 0
	kill -INT "$PINGER_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$PINGER_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$PINGER_PID" 2>/dev/null
	wait "$PINGER_PID" 2>/dev/null
	forget_pid "$PINGER_PID"
	PINGER_PID=
}

# ping_gap FILE [FROM [TO]]: the longest time without a reply between FROM
# and TO (epoch seconds; default: the first and the last reply): "GAP START
# END REPLIES" in seconds (3 decimals). A reply is a "bytes from" line of
# ping -D; the gap is from the last reply before to the first reply after.
ping_gap() {
	awk -v from="${2:-0}" -v to="${3:-0}" '
		/bytes from/ && match($0, /^\[[0-9.]+\]/) {
			t = substr($0, 2, RLENGTH - 2) + 0
			if (to > 0 && t > to) next
			if (from > 0 && t < from) { prev = t; next }
			n++
			if (prev != "" && t - prev > gap) { gap = t - prev; gs = prev; ge = t }
			prev = t
		}
		END { printf "%.3f %.3f %.3f %d\n", gap, gs, ge, n }' "$1"
}

# --- the new host ------------------------------------------------------------------
# src NAME ARGS...: `bridgectl migrate source` to the old host's daemon, from
# the new host; stdout to $WORK/NAME.out, stderr to .err; its exit status
src() {
	local name=$1
	shift
	"$BRIDGECTL" migrate source --from "$UL.2:$MPORT" --key "$WORK/new.key" --peer-key "$old_PUB" \
		--connect-timeout 5 --vm "$VM" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
}

# fdb_port MAC: the port of $BR where MAC was learned (empty if none)
fdb_port() {
	bridge fdb show br "$BR" | awk -v m="$(echo "$1" | tr A-F a-f)" '$1 == m && $2 == "dev" { print $3; exit }'
}

# --- the cutover (bridgectl cutover, being written) ------------------------------
cutover_built() { "$BRIDGECTL" cutover --help >/dev/null 2>&1; }

# cutover_start NAME ARGS...: `bridgectl cutover $VM` with the test's
# options and ARGS, in the background (CUT_PID is bridgectl's own PID, for
# kill -9), stdout to $WORK/cut-NAME.out, stderr to .err
cutover_start() {
	local name=$1
	shift
	"$BRIDGECTL" --socket "$WORK/new.sock" cutover "$VM" --from "$OLDPEER" --source "$UL.2:$MPORT" \
		--key "$WORK/new.key" --pool "$POOL" --connect "$URI" --bridge-map "xenbr0=$BR" \
		--domain-type qemu --boot-dir "$BOOTDIR" --console-log "$NEW_CONSOLE" --state-dir "$CUTSTATE" \
		"$@" >"$WORK/cut-$name.out" 2>"$WORK/cut-$name.err" &
	CUT_PID=$!
	PIDS+=("$CUT_PID")
}

# cutover_wait SECONDS: waits for the cutover of cutover_start; its exit
# status (124 when it still ran: then it is killed)
cutover_wait() {
	local rc st end=$((SECONDS + $(left "$1")))
	while [ $SECONDS -lt $end ] && kill -0 "$CUT_PID" 2>/dev/null; do sleep 0.2; done
	rc=
	if kill -0 "$CUT_PID" 2>/dev/null; then
		kill -9 "$CUT_PID"
		rc=124
	fi
	wait "$CUT_PID"
	st=$?
	forget_pid "$CUT_PID"
	return "${rc:-$st}"
}

# cutover NAME SECONDS ARGS...: cutover_start + cutover_wait
cutover() {
	local name=$1 t=$2
	shift 2
	cutover_start "$name" "$@"
	cutover_wait "$t"
}

# journal: the cutover's journal; jstep STEP: that step's status
journal() { echo "$CUTSTATE/$VM.json"; }
jstep() { jq -r --arg s "$1" '.steps[] | select(.name == $s) | .status' "$(journal)" 2>/dev/null; }

# wait_jstep STEP STATUS SECONDS: until the journal says STEP is STATUS
# (while the cutover runs); 1 on timeout or when it ended first
wait_jstep() {
	local end=$((SECONDS + $(left "$3")))
	while [ $SECONDS -lt $end ]; do
		[ "$(jstep "$1")" = "$2" ] && return 0
		kill -0 "$CUT_PID" 2>/dev/null || { [ "$(jstep "$1")" = "$2" ]; return; }
		sleep 0.05
	done
	return 1
}

# kill9_at STEP STATUS SECONDS: kill -9 the running cutover as soon as the
# journal says STEP is STATUS (KILL_DELAY seconds later when set)
kill9_at() {
	wait_jstep "$1" "$2" "$3" || fail "the journal never said $1 $2 (now: $(jstep "$1"); $(tail -n 3 "$WORK"/cut-*.err))"
	[ -z "${KILL_DELAY:-}" ] || sleep "$KILL_DELAY"
	kill -9 "$CUT_PID"
	wait "$CUT_PID" 2>/dev/null
	forget_pid "$CUT_PID"
	log "kill -9 of the cutover at $1 = $2"
}

# report NAME [FIELD]: the last "report" event of cut-NAME.out (the whole
# object, or one field)
report() { jq -c "select(.event == \"report\")${2:+ | .$2}" "$WORK/cut-$1.out" | tail -n 1; }

# plan_offset VDEV: where the plan puts VDEV in the new volume (bytes)
plan_offset() {
	"$BRIDGECTL" migrate plan --json "$WORK/xen/$VM.cfg" |
		jq -r --arg v "$1" '.disks[].partitions[] | select(.source_vdev == $v) | .start_bytes'
}

# swap_uuid FILE OFFSET: the UUID of the swap header at OFFSET (bytes
# 1036..1051 of the area, formatted as blkid does)
swap_uuid() {
	od -An -tx1 -j $(($2 + 1036)) -N 16 "$1" | tr -d ' \n' |
		sed 's/^\(.\{8\}\)\(.\{4\}\)\(.\{4\}\)\(.\{4\}\)\(.\{12\}\)$/\1-\2-\3-\4-\5/'
}
