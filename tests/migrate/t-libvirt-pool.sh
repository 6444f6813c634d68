#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# `bridgectl migrate create --pool NAME` against a real libvirtd: a per-run
# `dir` pool gets the volume VM-sda (virStorageVolCreateXML), libparted
# partitions it, swap is recreated; a re-run reuses everything; a volume of
# another size is refused. Starts libvirtd (and virtlogd) when it is not
# running and stops only what it started; the pool is removed in a trap.
# Also: a (defined, never started) `logical` pool whose VG is not on this
# host: plan reads the VG name from the pool XML and refuses to guess its
# extent size unless --alloc-unit is given.
set -u
. "$(dirname "$0")/lib.sh"
M=$(migrate_cmd) || die "cannot build bridgectl-migrate"
command -v libvirtd >/dev/null && command -v virsh >/dev/null || skip "libvirt-daemon-system is not installed"
URI=qemu:///system
POOL=bridged-t-$$-$RANDOM
LPOOL=bridged-tl-$$-$RANDOM
LVG=bridged_novg_$$
W=$(mktemp -d /tmp/bridged-pool.XXXXXX)
chmod 755 "$W"
cleanup() {
	virsh -c "$URI" pool-destroy "$POOL" >/dev/null 2>&1
	virsh -c "$URI" pool-undefine "$POOL" >/dev/null 2>&1
	virsh -c "$URI" pool-undefine "$LPOOL" >/dev/null 2>&1
	libvirtd_stop
	rm -rf "$W"
}
trap cleanup EXIT
libvirtd_start || die "$LIBVIRT_ERR"

mkdir -p "$W/pool"
virsh -c "$URI" pool-define-as "$POOL" dir --target "$W/pool" >/dev/null || die "pool-define-as"
virsh -c "$URI" pool-start "$POOL" >/dev/null || die "pool-start"

truncate -s 12M "$W/root.img"
truncate -s 8M "$W/swap.img"
mkswap -q -U 5a5a5a5a-0000-4000-8000-00000000beef -L vmswap "$W/swap.img" || die mkswap
cat >"$W/vm.cfg" <<CFG
name = 'poolvm'
memory = 128
root = '/dev/xvda1 ro'
disk = [ 'phy:$W/root.img,xvda1,w', 'phy:$W/swap.img,xvda2,w' ]
CFG

echo "== create in pool $POOL"
out=$("$M" create --json --connect "$URI" --pool "$POOL" "$W/vm.cfg") || die "create failed"
echo "$out"
grep -q '"volume": "created"' <<<"$out" || die "volume not created"
vol=$(virsh -c "$URI" vol-path --pool "$POOL" poolvm-xvda) || die "libvirt does not know the volume"
[ "$vol" = "$W/pool/poolvm-xvda" ] || die "volume path $vol"
cap=$(virsh -c "$URI" vol-info --bytes --pool "$POOL" poolvm-xvda | awk '/^Capacity/ {print $2}')
[ "$cap" = 25165824 ] || die "capacity $cap, expected 25165824 (21 MiB rounded up to 4 MiB)"
tbl=$(parted -m -s "$vol" unit s print | tail -n +3)
[ "$tbl" = "1:2048s:26623s:24576s:::boot;
2:26624s:43007s:16384s:linux-swap(v1)::swap;" ] || die "table: $tbl"
blkid -p -o export --offset $((26624 * 512)) "$vol" | grep -qx UUID=5a5a5a5a-0000-4000-8000-00000000beef ||
	die "swap UUID not kept"

echo "== re-run reuses"
out=$("$M" create --json --connect "$URI" --pool "$POOL" "$W/vm.cfg") || die "re-run failed"
grep -q '"volume": "reused"' <<<"$out" && grep -q '"partitions": "reused"' <<<"$out" || die "not reused: $out"

echo "== a volume of another size is refused"
truncate -s 30M "$W/root.img"
if out=$("$M" create --connect "$URI" --pool "$POOL" "$W/vm.cfg" 2>&1); then die "size mismatch accepted"; fi
grep -q "exists with capacity 25165824 bytes, the plan needs 41943040" <<<"$out" || die "refusal: $out"
echo "== a logical pool: the VG's extent size, never assumed"
# (root.img is 30 MiB now: 39 MiB of partitions = 48 MiB in 16 MiB extents, 40 MiB in 4 MiB ones)
virsh -c "$URI" pool-define-as "$LPOOL" logical --source-name "$LVG" --target "/dev/$LVG" >/dev/null ||
	die "pool-define-as logical"
if out=$("$M" plan --connect "$URI" --pool "$LPOOL" "$W/vm.cfg" 2>&1); then die "plan guessed the extent size: $out"; fi
grep -q "pool $LPOOL is the LVM volume group $LVG, but its extent size cannot be read here" <<<"$out" ||
	die "logical pool without a readable VG: $out"
out=$("$M" plan --json --connect "$URI" --pool "$LPOOL" --alloc-unit 16777216 "$W/vm.cfg" 2>&1) ||
	die "plan with --alloc-unit: $out"
grep -q '"size_bytes": 50331648,' <<<"$out" && grep -q "volume group $LVG: extent size unknown here" <<<"$out" ||
	die "plan with --alloc-unit: $out"
echo "all good"
