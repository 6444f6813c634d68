#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# A real boot of the domain `bridgectl migrate domain` defines (TCG guest,
# the real libvirtd on qemu:///system):
#
#   old "Xen" VM: root.img (ext4, mkfs.ext4 -d from a busybox tree holding
#   the Debian cloud kernel's modules and /boot) as xvda1, a swap as xvda2,
#   vif with a fixed MAC on xenbr0, kernel and ramdisk from "dom0"
#        |  migrate create --pool P        -> volume VM-xvda, msdos table
#        |  migrate send | receive --offset -> root.img into partition 1
#        v
#   migrate domain --stage 1 --bridge-map xenbr0=BR   (no --kernel)
#     -> the kernel and initrd are the guest's own, streamed out of its
#        /boot on the new volume (libext2fs, at partition 1's offset) into
#        the boot directory; the guest boots that cloud kernel, its initramfs loads
#        virtio-scsi and mounts root=/dev/sda1 (translated from xvda1),
#        /sbin/init prints what it sees, brings eth0 up (its MAC, the
#        address from the Xen 'extra') and answers ping from BR's address;
#        it installs extlinux and the MBR code into its own disk, as an
#        operator would install a bootloader before stage 2
#   virsh destroy; migrate domain --stage 2 (updated in place)
#   virsh start
#     -> SeaBIOS, the MBR, extlinux, the same kernel from the guest's /boot;
#        init reports bridged.boot=disk and answers ping again.
#
# Before: --kernel/--initrd override the guest's own; a guest with no
# kernel in /boot, or only a Xen one, is refused naming the preflight
# finding (no-kernel, xen-kernel-only) and nothing is defined.
#
# Asserts on what the guest prints on its serial console (--console-log)
# and on its answers, not on exit codes alone. Time-bounded; removes every
# domain, volume, pool, bridge and file it made; skips when libvirtd, qemu,
# extlinux or the cloud kernel cannot be had.
set -u
. "$(dirname "$0")/lib.sh"
M=$(migrate_cmd) || die "cannot build bridgectl-migrate"
[ "$(id -u)" = 0 ] || skip "needs root (libvirt's system instance, a bridge)"
for c in qemu-system-x86_64 mkfs.ext4 mkswap cpio extlinux ip ping jq; do
	command -v $c >/dev/null || skip "$c is not installed (make deps)"
done
MBR=/usr/lib/syslinux/mbr/mbr.bin
[ -f $MBR ] || skip "$MBR missing (syslinux-common)"
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || skip "busybox is not static (busybox-static)"

URI=$LIBVIRT_URI
P=bdb$$
VM=bridged-boot-$$
POOL=bridged-db-$$-$RANDOM
BR=$P-br
NET=198.18.$((RANDOM % 200 + 20))
MAC=00:16:3e:b0:07:$(printf %02x $((RANDOM % 256)))
W=$(mktemp -d /tmp/bridged-boot.XXXXXX)
chmod 755 "$W"
RPID=
cleanup() {
	[ -n "${KEEP_DISK:-}" ] && cp --sparse=always "$W/pool/$VM-xvda" "$KEEP_DISK" 2>/dev/null
	virsh -c "$URI" destroy "$VM" >/dev/null 2>&1
	virsh -c "$URI" undefine "$VM" >/dev/null 2>&1
	virsh -c "$URI" vol-delete --pool "$POOL" "$VM-xvda" >/dev/null 2>&1
	virsh -c "$URI" pool-destroy "$POOL" >/dev/null 2>&1
	virsh -c "$URI" pool-undefine "$POOL" >/dev/null 2>&1
	ip link del "$BR" 2>/dev/null
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null
	libvirtd_stop
	rm -rf "$W"
}
trap cleanup EXIT
libvirtd_start || skip "$LIBVIRT_ERR"
cloud_kernel
step() { echo "== $*"; }

# --- the initramfs: virtio-scsi, then switch_root to root= ---
step "guest images (kernel $KVER)"
I=$W/initramfs
mkdir -p "$I"/{bin,lib/modules,proc,sys,dev,newroot}
cp /bin/busybox "$I/bin/busybox"
ln -s busybox "$I/bin/sh"
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
	 drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/scsi/scsi_common \
	 drivers/scsi/scsi_mod drivers/scsi/virtio_scsi drivers/scsi/sd_mod; do
	cp "$MODS/$m.ko" "$I/lib/modules/" || skip "module $m missing in $KVER"
done
cat >"$I/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci scsi_common scsi_mod \
	 virtio_scsi sd_mod; do
	insmod /lib/modules/$m.ko
done
root=$(sed -n 's/.*root=\([^ ]*\).*/\1/p' /proc/cmdline)
echo "INITRAMFS root=$root"
for i in $(seq 100); do [ -b "$root" ] && break; sleep 0.1; done
mount -t ext4 -o ro "$root" /newroot || { echo "INITRAMFS cannot mount $root"; ls /dev; sleep 5; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
INIT
chmod +x "$I/init"
(cd "$I" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$W/initrd.gz" || die "cpio"

# --- the old VM's root file system: busybox, its kernel's modules, /boot, extlinux ---
R=$W/root
mkdir -p "$R"/{bin,sbin,etc,proc,sys,dev,tmp,boot/extlinux,usr/lib/syslinux/mbr} "$R/lib/modules/$KVER"
cp /bin/busybox "$R/bin/busybox"
# the applets as links in the image: the root is mounted read-only
for a in $(/bin/busybox --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
for m in net/core/failover drivers/net/net_failover drivers/net/virtio_net; do
	cp "$MODS/$m.ko" "$R/lib/modules/$KVER/" || skip "module $m missing in $KVER"
done
cp "$KDIR/boot/vmlinuz-$KVER" "$R/boot/vmlinuz-$KVER"
cp "$W/initrd.gz" "$R/boot/initrd.img-$KVER"
# what depmod writes: the NIC's modules are the kernel's (preflight's driver check reads it)
cp "$KDIR/lib/modules/$KVER/modules.builtin" "$R/lib/modules/$KVER/" 2>/dev/null
printf 'kernel/net/core/failover.ko:\nkernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko\n' \
	>"$R/lib/modules/$KVER/modules.dep"
printf 'kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko\n' \
	>>"$R/lib/modules/$KVER/modules.dep"
# the links Debian keeps: not kernels of their own
ln -s "boot/vmlinuz-$KVER" "$R/vmlinuz"
ln -s "vmlinuz-$KVER" "$R/boot/vmlinuz"
copy_bin "$R" "$(readlink -f "$(command -v extlinux)")"
cp "$(readlink -f "$(command -v extlinux)")" "$R/bin/extlinux"
cp $MBR "$R/usr/lib/syslinux/mbr/mbr.bin"
cat >"$R/boot/extlinux/extlinux.conf" <<CONF
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  LINUX /boot/vmlinuz-$KVER
  INITRD /boot/initrd.img-$KVER
  APPEND root=/dev/sda1 ro console=ttyS0,115200 bridged.ip=$NET.2/24 bridged.boot=disk
CONF
printf '/dev/sda1 / ext4 ro 0 1\n' >"$R/etc/fstab"
cat >"$R/sbin/init" <<INIT
#!/bin/sh
export PATH=/bin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc; mount -t sysfs sys /sys
for m in failover net_failover virtio_net; do insmod /lib/modules/$KVER/\$m.ko; done
cmdline=\$(cat /proc/cmdline)
root=\$(awk '\$2 == "/" && \$1 != "rootfs" {print \$1}' /proc/mounts)
case " \$cmdline " in *" bridged.boot=disk "*) boot=disk ;; *) boot=kernel ;; esac
echo "GUEST-UP boot=\$boot root=\$root"
echo "GUEST-CMDLINE \$cmdline"
ip=\$(echo "\$cmdline" | sed -n 's/.*bridged.ip=\([^ ]*\).*/\1/p')
for i in \$(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
echo "GUEST-MAC \$(cat /sys/class/net/eth0/address)"
ip link set lo up; ip link set eth0 up; ip addr add "\$ip" dev eth0
if [ \$boot = kernel ]; then
	# what an operator does before stage 2: a bootloader in the guest's own disk.
	# mkfs.ext4 -d left holes where the kernel has zero blocks and extlinux
	# reads no holes: the files are written whole first, as a package would.
	mount -o remount,rw / &&
	for f in /boot/vmlinuz-* /boot/initrd.img-*; do cat "\$f" >"\$f.new" && mv "\$f.new" "\$f"; done &&
	extlinux --install /boot/extlinux >/dev/null 2>&1 &&
	dd if=/usr/lib/syslinux/mbr/mbr.bin of=/dev/sda bs=440 count=1 conv=notrunc 2>/dev/null &&
	sync && mount -o remount,ro / && echo "GUEST-BOOTLOADER installed" || echo "GUEST-BOOTLOADER failed"
fi
echo "GUEST-READY"
while :; do sleep 60; done
INIT
chmod +x "$R/sbin/init"
# extlinux 6.04 reads ext4 without the newest features
mkfs.ext4 -q -F -O ^metadata_csum,^64bit,^orphan_file -L groot -d "$R" "$W/root.img" 48M 2>/dev/null ||
	mkfs.ext4 -q -F -O ^metadata_csum,^64bit -L groot -d "$R" "$W/root.img" 48M || die "mkfs.ext4 -d"
truncate -s 8M "$W/swap.img"
mkswap -q -U 5eed5eed-b007-4000-8000-000000000001 "$W/swap.img" || die mkswap
cat >"$W/vm.cfg" <<CFG
# the old VM: per-partition volumes, the dom0's kernel
name    = '$VM'
memory  = 256
vcpus   = 1
kernel  = '/boot/vmlinuz-$KVER'
ramdisk = '/boot/initrd.img-$KVER'
root    = '/dev/xvda1 ro'
extra   = 'bridged.ip=$NET.2/24 panic=-1'
disk    = [ 'phy:$W/root.img,xvda1,w', 'phy:$W/swap.img,xvda2,w' ]
vif     = [ 'mac=$MAC,bridge=xenbr0' ]
CFG

step "migrate create, send | receive"
mkdir -p "$W/pool" "$W/boot" "$W/state"
virsh -c "$URI" pool-define-as "$POOL" dir --target "$W/pool" >/dev/null || die "pool-define-as"
virsh -c "$URI" pool-start "$POOL" >/dev/null || die "pool-start"
"$M" create --connect "$URI" --pool "$POOL" "$W/vm.cfg" || die "migrate create"
VOL=$W/pool/$VM-xvda
off=$("$M" plan --json "$W/vm.cfg" | jq '.disks[0].partitions[] | select(.source_vdev == "xvda1") | .start_bytes')
[ "$off" = 1048576 ] || die "partition 1 at $off"
PORT=$((20000 + RANDOM % 20000))
"$M" receive --listen 127.0.0.1:$PORT --plain --quiet --accept-timeout 30 --state "$W/state" --offset "$off" \
	"$VOL" >"$W/receive.log" 2>&1 &
RPID=$!
"$M" send "$W/root.img" --to 127.0.0.1:$PORT --plain --quiet --connect-timeout 30 >"$W/send.log" 2>&1 ||
	die "send: $(cat "$W/send.log")"
wait $RPID || die "receive: $(cat "$W/receive.log")"
RPID=
grep -q verified "$W/receive.log" || die "receive did not verify: $(cat "$W/receive.log")"
cmp -s -n "$(stat -c %s "$W/root.img")" -i 0:"$off" "$W/root.img" "$VOL" || die "partition 1 differs from root.img"

ip link add "$BR" type bridge || die "bridge"
ip addr add "$NET.1/24" dev "$BR" && ip link set "$BR" up || die "bridge address"

# wait_log FILE PATTERN SECONDS: until the console log has a line matching PATTERN
wait_log() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		virsh -c "$URI" domstate "$VM" 2>/dev/null | grep -q running || break
		sleep 0.5
	done
	echo "--- console ($1):"; tr -d '\r' <"$1" 2>/dev/null | tail -40
	return 1
}
# ping_guest SECONDS: the guest answers on the bridge
ping_guest() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		ping -c 1 -W 1 -I "$BR" "$NET.2" >/dev/null 2>&1 && return 0
	done
	return 1
}
stop_guest() {
	virsh -c "$URI" destroy "$VM" >/dev/null || die "destroy"
	for _ in $(seq 60); do
		virsh -c "$URI" domstate "$VM" | grep -q "shut off" && return 0
		sleep 0.5
	done
	die "$VM does not stop"
}

LOG=$W/console.log
DOM=(domain --connect "$URI" --pool "$POOL" --domain-type qemu --bridge-map "xenbr0=$BR" --console-log "$LOG")

step "stage 1 refused: a guest without a usable kernel"
# the same VM under another name, its disk a file with the root file
# system at partition 1's offset (--target): /boot empty, then Xen only
for case in no-kernel xen-kernel-only; do
	N=$W/$case
	rm -rf "$N" && cp -a "$R" "$N" && rm -f "$N"/boot/vmlinuz* "$N"/boot/initrd* "$N/vmlinuz"
	[ $case = xen-kernel-only ] && cp "$KDIR/boot/vmlinuz-$KVER" "$N/boot/vmlinuz-2.6.32-5-xen-amd64"
	mkfs.ext4 -q -F -E offset="$off" -d "$N" "$W/$case.img" 48M || die "mkfs.ext4 $case"
	sed "s/^name .*/name = '$VM-$case'/" "$W/vm.cfg" >"$W/$case.cfg"
	if out=$("$M" "${DOM[@]}" --target "xvda=$W/$case.img" --boot-dir "$W/boot" "$W/$case.cfg" 2>&1); then
		die "$case: stage 1 without --kernel was accepted: $out"
	fi
	echo "$out"
	grep -q "\[$case\]" <<<"$out" || die "$case: the error does not name the finding: $out"
	grep -q -- "pass --kernel PATH (and --initrd PATH)" <<<"$out" || die "$case: the error does not say --kernel: $out"
	virsh -c "$URI" dominfo "$VM-$case" >/dev/null 2>&1 && die "$case: a domain was defined"
	ls "$W/boot" | grep -q . && die "$case: boot files were placed: $(ls "$W/boot")"
done
echo "ok   refused: no-kernel, xen-kernel-only; nothing defined"

step "--kernel/--initrd override the guest's own"
out=$("$M" "${DOM[@]}" --stage 1 --kernel "$KDIR/boot/vmlinuz-$KVER" --initrd "$W/initrd.gz" --boot-dir "$W/boot" \
	--xml "$W/vm.cfg" 2>&1) || die "domain --xml --kernel: $out"
grep -q "the guest's own kernel" <<<"$out" && die "--kernel given, yet the guest's own kernel was read: $out"
grep -q "<kernel>$W/boot/$VM-vmlinuz</kernel>" <<<"$out" || die "--xml --kernel: no <kernel>: $out"

step "stage 1: the guest's own kernel from its /boot on the new disk"
out=$("$M" "${DOM[@]}" --stage 1 --boot-dir "$W/boot" --json "$W/vm.cfg") || die "domain --stage 1: $out"
[ "$(jq -r .result <<<"$out")" = defined ] || die "stage 1: $out"
jq -c '.guest_kernel, .boot_files, .warnings' <<<"$out"
[ "$(jq -r .guest_kernel.version <<<"$out")" = "$KVER" ] || die "stage 1 did not choose $KVER: $out"
[ "$(jq -r .guest_kernel.initrd <<<"$out")" = "/boot/initrd.img-$KVER" ] || die "stage 1: not the guest's initrd: $out"
[ "$(jq -r '.boot_files[0].source' <<<"$out")" = "guest:/boot/vmlinuz-$KVER" ] || die "stage 1: kernel source: $out"
jq -e '[.warnings[] | select(test("driver"))] | length == 0' <<<"$out" >/dev/null || die "stage 1: drivers lacking: $out"
cmp -s "$KDIR/boot/vmlinuz-$KVER" "$W/boot/$VM-vmlinuz" || die "the placed kernel is not the guest's"
cmp -s "$W/initrd.gz" "$W/boot/$VM-initrd" || die "the placed initrd is not the guest's"
[ "$(stat -c %a "$W/boot/$VM-vmlinuz")" = 644 ] || die "the placed kernel is not 0644"
text=$("$M" "${DOM[@]}" --stage 1 --boot-dir "$W/boot" "$W/vm.cfg") || die "domain --stage 1 again: $text"
grep -q "^domain $VM: unchanged" <<<"$text" || die "stage 1 again is not unchanged: $text"
grep -qx "  kernel the guest's own $KVER (/boot/vmlinuz-$KVER, /boot/initrd.img-$KVER)" <<<"$text" ||
	die "the chosen version is not printed: $text"
jq -r .cmdline <<<"$out"
virsh -c "$URI" start "$VM" >/dev/null || die "start"
t0=$SECONDS
wait_log "$LOG" "GUEST-READY" 120 || die "stage 1: the guest did not reach its init"
tr -d '\r' <"$LOG" | grep -E '^(INITRAMFS|GUEST)'
tr -d '\r' <"$LOG" | grep -qx "INITRAMFS root=/dev/sda1" || die "stage 1 root= is not /dev/sda1"
tr -d '\r' <"$LOG" | grep -qx "GUEST-UP boot=kernel root=/dev/sda1" || die "stage 1: not booted from /dev/sda1"
tr -d '\r' <"$LOG" | grep "^GUEST-CMDLINE" | grep -q "bridged.ip=$NET.2/24 panic=-1 console=ttyS0,115200" ||
	die "stage 1: the Xen extra and the console are not on the command line"
tr -d '\r' <"$LOG" | grep -qx "GUEST-MAC $MAC" || die "stage 1: eth0 has not the Xen MAC $MAC"
tr -d '\r' <"$LOG" | grep -qx "GUEST-BOOTLOADER installed" || die "stage 1: extlinux could not be installed"
ping_guest 30 || die "stage 1: the guest does not answer ping on $BR"
echo "ok   stage 1: init reached in $((SECONDS - t0)) s, root /dev/sda1, MAC kept, answers ping"
stop_guest

step "stage 2: the disk's own bootloader"
out=$("$M" "${DOM[@]}" --stage 2 "$W/vm.cfg") || die "domain --stage 2: $out"
echo "$out"
grep -q "^domain $VM: updated (stage 2" <<<"$out" || die "stage 2 was not applied in place: $out"
virsh -c "$URI" dumpxml --inactive "$VM" | grep -q "<kernel>" && die "stage 2 still boots a kernel from outside"
virsh -c "$URI" start "$VM" >/dev/null || die "start (stage 2)"
t0=$SECONDS
wait_log "$LOG" "GUEST-READY" 150 || die "stage 2: the guest did not boot from its disk"
tr -d '\r' <"$LOG" | grep -E '^(INITRAMFS|GUEST)'
tr -d '\r' <"$LOG" | grep -qx "GUEST-UP boot=disk root=/dev/sda1" || die "stage 2: not booted by extlinux from the disk"
tr -d '\r' <"$LOG" | grep "^GUEST-CMDLINE" | grep -q "BOOT_IMAGE=/boot/vmlinuz-$KVER" ||
	die "stage 2: the command line is not extlinux's"
ping_guest 30 || die "stage 2: the guest does not answer ping"
echo "ok   stage 2: booted from the disk in $((SECONDS - t0)) s, answers ping"
stop_guest
echo "all good"
