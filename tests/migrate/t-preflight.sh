#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# suite: unit (no root, no network)
# `bridgectl migrate preflight` on ext4 images built with `mkfs.ext4 -d`
# from trees written here: a clean guest (no findings) and one variant per
# finding, each asserting the exact set of finding ids; initramfs images in
# gzip, xz, zstd and early-cpio + zstd; a systemd guest; a partitioned disk
# (the file system at an offset, a separate /boot); a Xen config; a
# non-ext file system, a zero image and corrupted ext4 images (an error, no
# crash); waivers and exit codes.
set -u
. "$(dirname "$0")/lib.sh"
M=$(migrate_cmd) || die "cannot build bridgectl-migrate"
for t in mkfs.ext4 cpio gzip jq sfdisk; do
	command -v $t >/dev/null || skip "$t is not installed"
done
W=$(mktemp -d /tmp/bridged-preflight.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1

KV=6.1.0-9-amd64
RU=0b5e55ed-1234-4abc-8def-0123456789ab	# root UUID
BU=b0075555-1234-4abc-8def-0123456789ab	# /boot UUID
SU=5a5a5a5a-1234-4abc-8def-0123456789ab	# swap UUID
MAC=00:16:3e:5a:0b:12
pass=0

# initramfs IMAGE COMPRESSOR MODULES...: a cpio with those modules (and an /init)
initramfs() {
	local out=$1 comp=$2 d m
	shift 2
	d=$(mktemp -d "$W/initrd.XXXXXX")
	mkdir -p "$d/lib/modules/$KV/kernel/drivers"
	for m in "$@"; do
		echo "module $m" >"$d/lib/modules/$KV/kernel/drivers/$m.ko"
	done
	printf '#!/bin/sh\n' >"$d/init"
	(cd "$d" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | $comp >"$out"
	rm -rf "$d"
}

# clean TREE: a guest preflight finds nothing wrong with
clean() {
	local t=$1
	mkdir -p "$t"/{etc/udev/rules.d,boot/grub,sbin,usr/sbin,usr/lib/grub/i386-pc,lib/modules/$KV/kernel,root}
	cat >"$t/etc/fstab" <<-EOF
	# /etc/fstab: static file system information.
	UUID=$RU	/	ext4	errors=remount-ro	0	1
	UUID=$SU	none	swap	sw	0	0
	proc /proc proc defaults 0 0
	EOF
	cat >"$t/etc/inittab" <<-EOF
	id:2:initdefault:
	1:2345:respawn:/sbin/getty 38400 tty1
	T0:23:respawn:/sbin/getty -L ttyS0 115200 vt100
	EOF
	printf 'console\ntty1\nttyS0\n' >"$t/etc/securetty"
	cat >"$t/etc/udev/rules.d/70-persistent-net.rules" <<-EOF
	# net device ()
	SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="$MAC", ATTR{type}=="1", KERNEL=="eth*", NAME="eth0"
	EOF
	echo acpid >"$t/usr/sbin/acpid"
	echo init >"$t/sbin/init"
	echo kernel >"$t/boot/vmlinuz-$KV"
	initramfs "$t/boot/initrd.img-$KV" "gzip -9" virtio_scsi virtio_pci virtio_blk ahci
	cat >"$t/boot/grub/grub.cfg" <<-EOF
	set default="0"
	menuentry 'Debian GNU/Linux' --class debian {
		search --no-floppy --fs-uuid --set=root $RU
		linux	/boot/vmlinuz-$KV root=UUID=$RU ro console=ttyS0,115200n8
		initrd	/boot/initrd.img-$KV
	}
	EOF
	echo boot.img >"$t/usr/lib/grub/i386-pc/boot.img"
	cat >"$t/lib/modules/$KV/modules.dep" <<-EOF
	kernel/drivers/scsi/virtio_scsi.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
	kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio.ko
	kernel/drivers/block/virtio_blk.ko:
	kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko
	kernel/drivers/net/ethernet/intel/e1000/e1000.ko:
	kernel/drivers/ata/ahci.ko: kernel/drivers/ata/libahci.ko
	EOF
	echo "kernel/drivers/ata/ata_piix.ko" >"$t/lib/modules/$KV/modules.builtin"
}

# mkimg TREE IMG [UUID]
mkimg() {
	mkfs.ext4 -q -F -U "${3:-$RU}" -d "$1" "$2" 32M >/dev/null 2>"$2.mkfs" || die "mkfs.ext4 -d $1: $(cat "$2.mkfs")"
}

# ids JSON: the sorted distinct finding ids
ids() { jq -r '[.findings[].id] | sort | unique | join(" ")' "$1"; }

# expect NAME RC "IDS" ARGS...: runs preflight --json ARGS, checks rc and ids
expect() {
	local name=$1 rc=$2 want=$3 got r
	shift 3
	"$M" preflight --json "$@" >"$name.json" 2>"$name.err"
	r=$?
	! grep -q -e Sanitizer -e 'runtime error' "$name.err" || die "$name: sanitizer report: $(cat "$name.err")"
	jq -e . "$name.json" >/dev/null 2>&1 || die "$name: no JSON (rc $r): $(cat "$name.err")"
	got=$(ids "$name.json")
	[ "$got" = "$want" ] || die "$name: ids '$got', expected '$want'
$(jq -c '.findings[] | [.id, .severity, .file, .line, .message]' "$name.json")
$(cat "$name.err")"
	[ "$r" = "$rc" ] || die "$name: exit $r, expected $rc ($(cat "$name.err"))"
	echo "ok $name: [$got] rc $r"
	pass=$((pass + 1))
}

# variant NAME: a clean tree in NAME.tree for the caller to break
variant() {
	rm -rf "$1.tree"
	clean "$1.tree"
}

# ---- the clean guest, and the same guest under every bus and NIC --------
variant clean
mkimg clean.tree clean.img
expect clean 0 "" clean.img --mac $MAC
"$M" preflight clean.img --mac $MAC >clean.txt || die "text output: $(cat clean.txt)"
grep -q "^0 error(s) (0 waived), 0 warning(s), 0 info" clean.txt || die "text summary: $(cat clean.txt)"
[ "$(jq -r .kernel clean.json)" = "/boot/vmlinuz-$KV" ] || die "kernel: $(jq .kernel clean.json)"
[ "$(jq -r .initramfs_format clean.json)" = gzip ] || die "format: $(jq .initramfs_format clean.json)"
[ "$(jq -r '.file_systems[0].uuid' clean.json)" = "$RU" ] || die "root uuid"
expect clean-virtio 0 "" clean.img --disk-bus virtio
expect clean-sata 0 "" clean.img --disk-bus sata
expect clean-ide 0 "" clean.img --disk-bus ide	# ata_piix is built in
expect clean-e1000 0 "" clean.img --nic-model e1000

# ---- initramfs formats ---------------------------------------------------
for c in "xz --check=crc32" "zstd -q -19"; do
	command -v "${c%% *}" >/dev/null || continue
	n=initrd-${c%% *}
	variant "$n"
	initramfs "$n.tree/boot/initrd.img-$KV" "$c" virtio_scsi virtio_pci
	mkimg "$n.tree" "$n.img"
	expect "$n" 0 "" "$n.img"
	[ "$(jq -r .initramfs_format "$n.json")" = "${c%% *}" ] || die "$n: format $(jq .initramfs_format "$n.json")"
done
if command -v zstd >/dev/null; then
	# early microcode cpio, then a zstd cpio (what Debian's update-initramfs makes)
	variant initrd-early
	mkdir -p early/kernel/x86/microcode && echo ucode >early/kernel/x86/microcode/GenuineIntel.bin
	(cd early && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >initrd-early.tree/boot/initrd.img-$KV
	initramfs main.zst "zstd -q" virtio_scsi virtio_pci
	cat main.zst >>initrd-early.tree/boot/initrd.img-$KV
	mkimg initrd-early.tree initrd-early.img
	expect initrd-early 0 "" initrd-early.img
	[ "$(jq -r .initramfs_format initrd-early.json)" = cpio+zstd ] || die "early: $(jq .initramfs_format initrd-early.json)"
fi
# no initramfs, the drivers built in: fine
variant builtin
rm builtin.tree/boot/initrd.img-$KV
printf 'kernel/drivers/scsi/virtio_scsi.ko\nkernel/drivers/virtio/virtio_pci.ko\n' >builtin.tree/lib/modules/$KV/modules.builtin
mkimg builtin.tree builtin.img
expect builtin 0 "" builtin.img

# ---- one variant per finding ---------------------------------------------
variant fstab-xvd
sed -i "s|^UUID=$RU|/dev/xvda1|" fstab-xvd.tree/etc/fstab
mkimg fstab-xvd.tree fstab-xvd.img
expect fstab-xvd 1 "fstab-xvd" fstab-xvd.img
jq -e '.findings[0] | .file == "/etc/fstab" and .line == 2 and .severity == "error" and (.hint | test("sda1"))' \
	fstab-xvd.json >/dev/null || die "fstab-xvd finding: $(jq -c .findings fstab-xvd.json)"
expect fstab-xvd-waived 0 "fstab-xvd" fstab-xvd.img --waive fstab-xvd
jq -e '.findings[0].waived and .errors == 0 and .waived_errors == 1' fstab-xvd-waived.json >/dev/null ||
	die "waiver not recorded: $(cat fstab-xvd-waived.json)"
"$M" preflight fstab-xvd.img --waive fstab-xvd >waived.txt
grep -q '\[fstab-xvd\] (waived)' waived.txt || die "text waiver: $(cat waived.txt)"
"$M" preflight fstab-xvd.img --waive no-such-id >/dev/null 2>&1
[ $? = 2 ] || die "an unknown --waive id is a usage error"
# /dev/sda1 is right under scsi, wrong under virtio
variant fstab-sd
sed -i "s|^UUID=$RU|/dev/sda1|" fstab-sd.tree/etc/fstab
mkimg fstab-sd.tree fstab-sd.img
expect fstab-sd 0 "" fstab-sd.img
expect fstab-sd-virtio 1 "fstab-xvd" fstab-sd.img --disk-bus virtio
# noauto: a warning
variant fstab-noauto
echo "/dev/hdb1 /mnt/cd iso9660 noauto,ro 0 0" >>fstab-noauto.tree/etc/fstab
mkimg fstab-noauto.tree fstab-noauto.img
expect fstab-noauto 0 "fstab-xvd" fstab-noauto.img
jq -e '.findings[0].severity == "warning"' fstab-noauto.json >/dev/null || die "noauto is not a warning"

variant fstab-uuid
sed -i "s|^UUID=$RU|UUID=deadbeef-0000-4000-8000-000000000000|" fstab-uuid.tree/etc/fstab
mkimg fstab-uuid.tree fstab-uuid.img
expect fstab-uuid-missing 1 "fstab-uuid-missing" fstab-uuid.img

variant grub-xvd
sed -i "s|root=UUID=$RU|root=/dev/xvda1|" grub-xvd.tree/boot/grub/grub.cfg
printf 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="resume=/dev/xvda2 console=ttyS0"\n' >grub-xvd.tree/etc/default-grub
mkdir -p grub-xvd.tree/etc/default && mv grub-xvd.tree/etc/default-grub grub-xvd.tree/etc/default/grub
mkimg grub-xvd.tree grub-xvd.img
expect grub-xvd 1 "grub-xvd" grub-xvd.img
[ "$(jq '[.findings[] | select(.id == "grub-xvd")] | length' grub-xvd.json)" = 2 ] ||
	die "grub-xvd: grub.cfg and /etc/default/grub expected: $(jq -c .findings grub-xvd.json)"

variant no-kernel
rm no-kernel.tree/boot/vmlinuz-$KV no-kernel.tree/boot/initrd.img-$KV
mkimg no-kernel.tree no-kernel.img
expect no-kernel 1 "no-kernel" no-kernel.img

variant xen-kernel
rm xen-kernel.tree/boot/vmlinuz-$KV
echo xen >xen-kernel.tree/boot/vmlinuz-2.6.26-2-xen-686
mkimg xen-kernel.tree xen-kernel.img
expect xen-kernel-only 1 "xen-kernel-only" xen-kernel.img

variant no-disk-driver
initramfs no-disk-driver.tree/boot/initrd.img-$KV "gzip" virtio_pci
mkimg no-disk-driver.tree no-disk-driver.img
expect initramfs-no-disk-driver 1 "initramfs-no-disk-driver" no-disk-driver.img
expect initramfs-no-disk-driver-sata 0 "initramfs-no-disk-driver" no-disk-driver.img --disk-bus sata \
	--waive initramfs-no-disk-driver
variant no-initrd
rm no-initrd.tree/boot/initrd.img-$KV
mkimg no-initrd.tree no-initrd.img
expect no-initrd 1 "initramfs-no-disk-driver" no-initrd.img

variant no-nic-driver
sed -i '/virtio_net/d' no-nic-driver.tree/lib/modules/$KV/modules.dep
mkimg no-nic-driver.tree no-nic-driver.img
expect initramfs-no-nic-driver 1 "initramfs-no-nic-driver" no-nic-driver.img
expect no-nic-driver-e1000 0 "" no-nic-driver.img --nic-model e1000

variant initrd-lz4
printf '\x02\x21\x4c\x18lz4 data' >initrd-lz4.tree/boot/initrd.img-$KV
mkimg initrd-lz4.tree initrd-lz4.img
expect initramfs-unreadable 0 "initramfs-unreadable" initrd-lz4.img
variant initrd-bad
initramfs initrd-bad.tree/boot/initrd.img-$KV "gzip" virtio_scsi virtio_pci
head -c 200 initrd-bad.tree/boot/initrd.img-$KV >x && mv x initrd-bad.tree/boot/initrd.img-$KV
mkimg initrd-bad.tree initrd-bad.img
expect initramfs-truncated 0 "initramfs-unreadable" initrd-bad.img

variant no-serial
sed -i '/ttyS0/d' no-serial.tree/etc/inittab
mkimg no-serial.tree no-serial.img
expect no-serial-getty 0 "no-serial-getty" no-serial.img

variant hvc
sed -i 's/ttyS0 115200 vt100/hvc0 9600 vt100/' hvc.tree/etc/inittab
mkimg hvc.tree hvc.img
expect hvc-getty-only 0 "hvc-getty-only" hvc.img
jq -e '.findings[0] | .file == "/etc/inittab" and .line == 3' hvc-getty-only.json >/dev/null ||
	die "hvc: $(cat hvc-getty-only.json)"

variant securetty
printf 'console\ntty1\nhvc0\n' >securetty.tree/etc/securetty
mkimg securetty.tree securetty.img
expect securetty-no-ttys0 0 "securetty-no-ttys0" securetty.img

variant pnet
mkimg pnet.tree pnet.img
expect persistent-net-mac 1 "persistent-net-mac" pnet.img --mac 00:16:3e:00:00:99
variant pnet-vif
sed -i 's/DRIVERS=="?\*"/DRIVERS=="vif"/' pnet-vif.tree/etc/udev/rules.d/70-persistent-net.rules
mkimg pnet-vif.tree pnet-vif.img
expect persistent-net-driver 1 "persistent-net-mac" pnet-vif.img --mac $MAC

variant no-acpid
rm no-acpid.tree/usr/sbin/acpid
mkimg no-acpid.tree no-acpid.img
expect no-acpid 0 "no-acpid" no-acpid.img

variant pygrub
rm -r pygrub.tree/usr/lib/grub pygrub.tree/boot/grub/grub.cfg
cat >pygrub.tree/boot/grub/menu.lst <<EOF
default 0
title Debian
root (hd0,0)
kernel /boot/vmlinuz-$KV root=UUID=$RU ro console=ttyS0
initrd /boot/initrd.img-$KV
EOF
mkimg pygrub.tree pygrub.img
expect pygrub-only 0 "pygrub-only" pygrub.img
variant no-bootloader
rm -r no-bootloader.tree/usr/lib/grub no-bootloader.tree/boot/grub
mkimg no-bootloader.tree no-bootloader.img
expect no-bootloader 0 "no-bootloader" no-bootloader.img

# ---- a systemd guest: units, the console= generator, logind ----------------
variant systemd
rm systemd.tree/etc/inittab systemd.tree/sbin/init systemd.tree/usr/sbin/acpid
mkdir -p systemd.tree/lib/systemd systemd.tree/etc/systemd/system/getty.target.wants
echo systemd >systemd.tree/lib/systemd/systemd
echo logind >systemd.tree/lib/systemd/systemd-logind
ln -s /lib/systemd/systemd systemd.tree/sbin/init
mkimg systemd.tree systemd.img
expect systemd 0 "" systemd.img	# console=ttyS0 on grub's command line
sed -i 's/ console=ttyS0,115200n8//' systemd.tree/boot/grub/grub.cfg
mkimg systemd.tree systemd2.img
expect systemd-no-console 0 "no-serial-getty" systemd2.img
ln -s /lib/systemd/system/serial-getty@.service "systemd.tree/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"
mkimg systemd.tree systemd3.img
expect systemd-unit 0 "" systemd3.img

# ---- merged /usr through symlinks: /lib -> usr/lib -------------------------
variant merged
mkdir -p merged.tree/usr/lib
mv merged.tree/lib/modules merged.tree/usr/lib/modules
rmdir merged.tree/lib && ln -s usr/lib merged.tree/lib
mkimg merged.tree merged.img
expect merged-usr 0 "" merged.img

# ---- a partitioned disk: root and swap partitions, and a separate /boot ----
variant disk
mkimg disk.tree disk-root.img
truncate -s 8M disk-swap.img && mkswap -q -U $SU disk-swap.img >/dev/null
truncate -s 48M disk.img
printf 'label: dos\nstart=2048, size=65536, type=83, bootable\nstart=67584, size=16384, type=82\n' |
	sfdisk -q disk.img >/dev/null || die "sfdisk"
dd if=disk-root.img of=disk.img bs=1M seek=1 conv=notrunc status=none
dd if=disk-swap.img of=disk.img bs=512 seek=67584 conv=notrunc status=none
expect disk 0 "" disk.img
[ "$(jq -r '.file_systems[0].offset' disk.json)" = 1048576 ] || die "disk: offset $(jq .file_systems disk.json)"
expect disk-offset 0 "" disk.img --offset 1048576
# a UUID on no partition of the disk (complete: the disk's partitions are all)
echo "UUID=12345678-1234-4abc-8def-0123456789ab /srv ext4 defaults 0 2" >>disk.tree/etc/fstab
mkimg disk.tree disk-root2.img
cp disk.img disk2.img && dd if=disk-root2.img of=disk2.img bs=1M seek=1 conv=notrunc status=none
expect disk-uuid-missing 1 "fstab-uuid-missing" disk2.img
# a bare file system cannot know the other volumes: not reported
expect bare-uuid-unknown 0 "" disk-root2.img

variant sepboot
mkdir -p sepboot.boot
mv sepboot.tree/boot/* sepboot.boot/
sed -i '/swap/d' sepboot.tree/etc/fstab
echo "UUID=$BU /boot ext4 defaults 0 2" >>sepboot.tree/etc/fstab
sed -i "s|linux\t/boot/|linux\t/|; s|initrd\t/boot/|initrd\t/|" sepboot.boot/grub/grub.cfg
mkimg sepboot.tree sepboot-root.img
mkfs.ext4 -q -F -U $BU -d sepboot.boot sepboot-boot.img 16M >/dev/null || die "mkfs boot"
truncate -s 56M sepboot.img
printf 'label: dos\nstart=2048, size=65536, type=83\nstart=67584, size=32768, type=83\n' |
	sfdisk -q sepboot.img >/dev/null || die "sfdisk"
dd if=sepboot-root.img of=sepboot.img bs=1M seek=1 conv=notrunc status=none
dd if=sepboot-boot.img of=sepboot.img bs=512 seek=67584 conv=notrunc status=none
expect sepboot 0 "" sepboot.img
jq -e '[.file_systems[].dir] == ["/", "/boot"] and .kernel == "/boot/vmlinuz-'$KV'"' sepboot.json >/dev/null ||
	die "sepboot: $(jq -c '[.file_systems, .kernel]' sepboot.json)"
# the root alone: /boot is not inspected (a warning), its checks skipped
expect sepboot-bare 0 "fs-not-inspected" sepboot-root.img

# ---- a Xen config: root=, the disk list, the vif MACs ------------------------
cat >vm.cfg <<EOF
name = 'fileserver'
memory = 256
kernel = '/boot/vmlinuz-2.6.26-2-xen-686'
root = '/dev/xvda1 ro'
extra = 'console=hvc0 xencons=tty'
disk = [ 'file:$W/clean.img,xvda1,w', 'file:$W/disk-swap.img,xvda2,w' ]
vif = [ 'mac=$MAC, bridge=br-sv' ]
EOF
expect xencfg 1 "root-xvd" vm.cfg
jq -e '.findings[0] | .file == "vm.cfg" and (.hint | test("UUID='"$RU"'"))' xencfg.json >/dev/null ||
	die "root-xvd: $(jq -c .findings xencfg.json)"
sed -i 's/xvda1/sda1/g; s/xvda2/sda2/' vm.cfg
expect xencfg-sd 0 "" vm.cfg
expect xencfg-vm-name 0 "" --xen-dir "$W" vm
sed -i "s/mac=$MAC/mac=00:16:3e:00:00:01/" vm.cfg
expect xencfg-mac 1 "persistent-net-mac" vm.cfg
# the swap UUID is checked against the planned volumes
sed -i "s/mac=00:16:3e:00:00:01/mac=$MAC/; s|'file:$W/disk-swap.img,sda2,w'|'file:$W/clean.img,sda3,r'|" vm.cfg
"$M" preflight --json vm.cfg >xencfg-noswap.json 2>/dev/null
jq -e '[.findings[].id] | index("fstab-uuid-missing")' xencfg-noswap.json >/dev/null ||
	die "swap UUID not on any planned volume: $(jq -c .findings xencfg-noswap.json)"
echo "ok xencfg-noswap"

# an HVM guest: a whole-disk vdev, read through its partition table; no root=
cat >hvm.cfg <<EOF
name = 'hvm'
memory = 256
type = 'hvm'
disk = [ 'file:$W/disk.img,hda,w' ]
vif = [ 'mac=$MAC' ]
EOF
expect xencfg-hvm 0 "" hvm.cfg
jq -e '.file_systems[0].offset == 1048576' xencfg-hvm.json >/dev/null || die "hvm: $(jq -c .file_systems xencfg-hvm.json)"

# ---- not ext, nothing at all, corrupted ------------------------------------
if command -v mkfs.minix >/dev/null; then
	truncate -s 8M minix.img && mkfs.minix minix.img >/dev/null 2>&1
	expect minix 1 "fs-not-inspected" minix.img
	jq -e '.findings[0].message | test("minix")' minix.json >/dev/null || die "minix: $(cat minix.json)"
fi
truncate -s 8M zero.img
expect zero 1 "fs-not-inspected" zero.img
head -c 4M /dev/urandom >random.img
expect random 1 "fs-not-inspected" random.img
# superblock damaged around the magic (0xff bytes: blkid still sees ext, libext2fs refuses)
cp clean.img badsb.img
ff() { head -c "$1" /dev/zero | tr '\0' '\377'; }
ff 56 | dd of=badsb.img bs=1 seek=1024 conv=notrunc status=none
ff 20 | dd of=badsb.img bs=1 seek=1082 conv=notrunc status=none
expect bad-superblock 1 "fs-unreadable" badsb.img
# random bytes over the first inode table (root directory inode included)
cp clean.img badino.img
it=$(dumpe2fs clean.img 2>/dev/null | sed -n 's/.*Inode table at \([0-9]*\)-.*/\1/p' | head -n1)
bs=$(dumpe2fs -h clean.img 2>/dev/null | sed -n 's/^Block size: *//p')
[ -n "$it" ] && [ -n "$bs" ] || die "dumpe2fs: cannot find the inode table"
dd if=/dev/urandom of=badino.img bs="$bs" seek="$it" count=8 conv=notrunc status=none
"$M" preflight --json badino.img >badino.json 2>badino.err
r=$?
! grep -q -e Sanitizer -e 'runtime error' badino.err || die "badino: sanitizer report: $(cat badino.err)"
[ $r = 1 ] || die "corrupted inode table: exit $r, expected 1: $(cat badino.err)"
jq -e '[.findings[] | select(.severity == "error")] | length > 0' badino.json >/dev/null ||
	die "corrupted inode table: no error: $(cat badino.json)"
echo "ok badino: $(ids badino.json) rc $r"
# truncated image
head -c 2M clean.img >short.img
expect short 1 "fs-unreadable" short.img
jq -e '.findings[0].message | test("truncated")' short.json >/dev/null || die "short: $(cat short.json)"

# ---- usage ---------------------------------------------------------------
"$M" preflight --disk-bus floppy clean.img >/dev/null 2>&1; [ $? = 2 ] || die "bad --disk-bus"
"$M" preflight >/dev/null 2>&1; [ $? = 2 ] || die "no argument"
"$M" preflight --help | grep -q -- '--waive ID' || die "--help"
"$M" preflight --json /nonexistent/vm.cfg >/dev/null 2>&1; [ $? = 1 ] || die "missing input"

echo "all $pass preflight cases passed"
