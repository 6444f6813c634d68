#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# The storage guest (docs TESTING.md "LVM, inside a guest"): the host kernel
# has no device-mapper, so a TCG guest (Debian cloud kernel, busybox
# initramfs with lvm, parted, util-linux mkswap/blkid and bridgectl-migrate)
# runs the seed case on real LVM:
#
#   vda -> VG r5: fileserver_root (12 MiB), fileserver_swap (8 MiB, mkswap -U -L)
#   vdb -> VG r1 (16 MiB extents): fileserver-sda, made by the `lvcreate`
#          line of `bridgectl migrate plan --commands --pool r1`, whose size
#          is a multiple of the extent size read from the VG (32 MiB, not
#          the 24 MiB a 4 MiB extent gives); a differing --alloc-unit is
#          refused, naming both values; the script's extent check passes
#   bridgectl migrate create --target sda=/dev/r1/fileserver-sda
#   -> libparted partitions the LV (dm partition maps, DM_DISABLE_UDEV=1),
#      swap is recreated; checked with parted -m and blkid inside the guest.
#
# The kernel is fetched once into $CACHE with apt-get download (never
# installed on the host).
set -u
. "$(dirname "$0")/lib.sh"
M=$(migrate_cmd) || die "cannot build bridgectl-migrate"
for c in qemu-system-x86_64 cpio lvm parted mkswap blkid busybox; do
	command -v $c >/dev/null || skip "$c is not installed (make deps)"
done
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q dynamic && skip "busybox is not static (busybox-static)"

W=$(mktemp -d /tmp/bridged-guest.XXXXXX)
QPID=
cleanup() {
	[ -n "$QPID" ] && kill "$QPID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# --- kernel ---
cloud_kernel

# --- initramfs ---
R=$W/root
mkdir -p "$R"/{bin,sbin,lib/modules,etc,proc,sys,dev,run,tmp}
cp /bin/busybox "$R/bin/busybox"
for b in "$(command -v lvm)" "$(command -v dmsetup)" "$(command -v parted)" "$(command -v mkswap)" \
	 "$(command -v blkid)" "$M"; do
	copy_bin "$R" "$(readlink -f "$b")"
done
cp "$(readlink -f "$M")" "$R/bin/bridgectl-migrate"
cp -r /etc/lvm "$R/etc/" 2>/dev/null || mkdir -p "$R/etc/lvm"
for m in virtio/virtio_ring virtio/virtio virtio/virtio_pci_modern_dev virtio/virtio_pci_legacy_dev \
	 virtio/virtio_pci block/virtio_blk md/dm-mod; do
	cp "$MODS/drivers/$m.ko" "$R/lib/modules/" || skip "module $m missing in $KVER"
done
cat >"$R/vm.cfg" <<'CFG'
# the seed case: one LV per partition on the old host's VG r5
name        = 'fileserver'
memory      = '256'
root        = '/dev/sda1 ro'
disk        = [ 'phy:/dev/r5/fileserver_root,sda1,w',
                'phy:/dev/r5/fileserver_swap,sda2,w' ]
vif         = [ 'mac=00:16:3e:5a:0b:12,bridge=br-sv' ]
CFG
cat >"$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/mapper /run/lock/lvm /tmp
export DM_DISABLE_UDEV=1 ASAN_OPTIONS=detect_leaks=0
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk dm-mod; do
	insmod /lib/modules/$m.ko
done
for i in $(seq 50); do [ -b /dev/vdb ] && break; sleep 0.1; done
step() { echo "STEP $*"; "$@" || { echo "RESULT FAIL at: $*"; poweroff -f; }; }
LVM="lvm"
step $LVM pvcreate -q -y /dev/vda /dev/vdb
step $LVM vgcreate -q r5 /dev/vda
step $LVM vgcreate -q -s 16m r1 /dev/vdb
ln -s "$(command -v lvm)" /bin/vgs
step $LVM lvcreate -q -y -n fileserver_root -L 12m r5
step $LVM lvcreate -q -y -n fileserver_swap -L 8m r5
step /usr/sbin/mkswap -U 5eed5eed-1111-4222-8333-444455556666 -L fsswap /dev/r5/fileserver_swap
printf 'root fs' > /dev/r5/fileserver_root
S1=$(md5sum /dev/r5/fileserver_root /dev/r5/fileserver_swap)
step sh -c 'bridgectl-migrate plan --pool r1 --commands /vm.cfg > /tmp/cmds'
cat /tmp/cmds
echo "LVCREATE $(grep '^lvcreate' /tmp/cmds)"
e=$(bridgectl-migrate plan --pool r1 --alloc-unit 4194304 --commands /vm.cfg 2>&1 >/dev/null); echo "ALLOCERR rc=$? $e"
echo "ALLOCOK $(bridgectl-migrate plan --pool r1 --alloc-unit 16777216 --commands /vm.cfg | grep '^lvcreate')"
step sh -c "sed -n '/^ext=/,/^\\[/p' /tmp/cmds | sh"
step sh -c "grep '^lvcreate' /tmp/cmds | sed 's/^/lvm /' | sh"
step bridgectl-migrate create --target sda=/dev/r1/fileserver-sda /vm.cfg
step bridgectl-migrate create --json --target sda=/dev/r1/fileserver-sda /vm.cfg
echo "LVSIZE $($LVM lvs --noheadings --units b --nosuffix -o lv_size r1/fileserver-sda | tr -d ' ')"
echo "TABLE_BEGIN"; /usr/sbin/parted -m -s /dev/r1/fileserver-sda unit s print; echo "TABLE_END"
ls -l /dev/mapper
echo "BLKID $(/usr/sbin/blkid -o export /dev/mapper/r1-fileserver--sda2 | tr '\n' ' ')"
S2=$(md5sum /dev/r5/fileserver_root /dev/r5/fileserver_swap)
[ "$S1" = "$S2" ] && echo "SOURCES unchanged" || echo "SOURCES changed"
echo "RESULT DONE"
poweroff -f
INIT
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$W/initrd.gz" || die "cpio"

truncate -s 64M "$W/vda.img" "$W/vdb.img"
LOG=$W/serial.log
timeout 90 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
	-kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$W/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1" \
	-drive "file=$W/vda.img,if=virtio,format=raw" -drive "file=$W/vdb.img,if=virtio,format=raw" \
	>"$LOG" 2>&1 </dev/null &
QPID=$!
wait $QPID
QPID=
tr -d '\r' <"$LOG" >"$LOG.txt"
cat "$LOG.txt" | grep -v '^\[' | tail -60
grep -q "RESULT DONE" "$LOG.txt" || die "the guest did not finish: $(grep RESULT "$LOG.txt")"
tbl=$(sed -n '/TABLE_BEGIN/,/TABLE_END/p' "$LOG.txt" | grep '^[12]:')
[ "$tbl" = "1:2048s:26623s:24576s:::boot;
2:26624s:43007s:16384s:linux-swap(v1)::swap;" ] || die "table in the guest: $tbl"
grep "^BLKID" "$LOG.txt" | grep -q 'UUID=5eed5eed-1111-4222-8333-444455556666' &&
	grep "^BLKID" "$LOG.txt" | grep -q 'LABEL=fsswap' &&
	grep "^BLKID" "$LOG.txt" | grep -q 'TYPE=swap' || die "swap in the guest: $(grep ^BLKID "$LOG.txt")"
grep -qx "LVCREATE lvcreate --yes -n fileserver-sda -L 33554432b r1" "$LOG.txt" ||
	die "lvcreate not sized by the VG's 16 MiB extent: $(grep ^LVCREATE "$LOG.txt")"
grep -qx "ALLOCOK lvcreate --yes -n fileserver-sda -L 33554432b r1" "$LOG.txt" ||
	die "a matching --alloc-unit: $(grep ^ALLOCOK "$LOG.txt")"
grep "^ALLOCERR rc=1 " "$LOG.txt" | grep -q "4194304 differs .* r1 .*16777216" ||
	die "a differing --alloc-unit was not refused naming both: $(grep ^ALLOCERR "$LOG.txt")"
grep -qx "LVSIZE 33554432" "$LOG.txt" || die "LV size: $(grep ^LVSIZE "$LOG.txt")"
grep -q "SOURCES unchanged" "$LOG.txt" || die "a source LV changed"
grep -q '"partitions": "reused"' "$LOG.txt" || die "the re-run did not reuse the table"
echo "all good"
