#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: early
# `bridgectl migrate create --target` with real libparted, on image files and
# on loop devices (512- and 4096-byte sectors), read back with
# `parted -m -s DEV unit s print` and blkid. Also: idempotent re-run, refusal
# of a differing table, sources untouched, a source as destination refused.
#
#   sources (files)            destination (one whole disk, msdos)
#   root.img 20 MiB + 1 B  ->  p1  2048s-45055s  boot
#   swap.img 16 MiB (swap) ->  p2 45056s-77823s  swap, same UUID + label
#   data.img 7000000 B     ->  p3 77824s-92159s
set -u
. "$(dirname "$0")/lib.sh"
M=$(migrate_cmd) || die "cannot build bridgectl-migrate"
command -v parted >/dev/null || skip "parted is not installed"
W=$(mktemp -d /tmp/bridged-parted.XXXXXX)
LOOPS=()
cleanup() {
	for l in "${LOOPS[@]}"; do
		partx -d "$l" 2>/dev/null
		losetup -d "$l" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
cd "$W" || exit 1

truncate -s 20971521 root.img
truncate -s 16M swap.img
mkswap -q -U 0b5e55ed-1234-4abc-8def-0123456789ab -L oldswap swap.img || die mkswap
truncate -s 7000000 data.img
printf 'some data' | dd of=root.img conv=notrunc status=none
cat >vm.cfg <<CFG
name = 'fileserver'
memory = 256
root = '/dev/sda1 ro'
disk = [ 'file:$W/root.img,sda1,w', 'file:$W/swap.img,sda2,w', 'file:$W/data.img,sda3,w' ]
CFG
sums=$(md5sum root.img swap.img data.img)

expect_table() { # dev sector-size lines...
	local dev=$1 ss=$2; shift 2
	local got want
	got=$(parted -m -s "$dev" unit s print | tail -n +3)
	want=$(printf '%s\n' "$@")
	[ "$got" = "$want" ] || die "$dev: table is
$got
expected
$want"
	parted -m -s "$dev" unit s print | sed -n 2p | grep -q ":$ss:$ss:msdos:" || die "$dev: not msdos with $ss-byte sectors"
}
T512=("1:2048s:45055s:43008s:::boot;" "2:45056s:77823s:32768s:linux-swap(v1)::swap;" "3:77824s:92159s:14336s:::;")
T4096=("1:256s:5631s:5376s:::boot;" "2:5632s:9727s:4096s:linux-swap(v1)::swap;" "3:9728s:11519s:1792s:::;")

echo "== image file, 512-byte sectors"
"$M" create --target "$W/dest.img" vm.cfg || die "create on an image"
[ "$(stat -c %s dest.img)" = 50331648 ] || die "volume size $(stat -c %s dest.img), expected 50331648"
expect_table dest.img 512 "${T512[@]}"
out=$(blkid -p -o export --offset $((45056 * 512)) --size $((32768 * 512)) dest.img)
grep -qx TYPE=swap <<<"$out" && grep -qx UUID=0b5e55ed-1234-4abc-8def-0123456789ab <<<"$out" &&
	grep -qx LABEL=oldswap <<<"$out" || die "swap not recreated: $out"

echo "== re-run: reused"
out=$("$M" create --json --target "$W/dest.img" vm.cfg) || die "re-run failed"
grep -q '"partitions": "reused"' <<<"$out" && grep -q '"swap": "reused"' <<<"$out" || die "not reused: $out"

echo "== a differing table is refused and left alone"
before=$(md5sum dest.img)
if out=$("$M" create --target "$W/dest.img" --size "$W/data.img=9000000" vm.cfg 2>&1); then
	die "a differing table was accepted"
fi
grep -q "differs from the plan" <<<"$out" && grep -q "partition 3: sectors 77824-92159, planned 77824-96255" <<<"$out" ||
	die "refusal does not name the difference: $out"
[ "$(md5sum dest.img)" = "$before" ] || die "the refused destination was changed"

echo "== a source as destination is refused"
if "$M" create --target "$W/data.img" vm.cfg 2>err.txt; then die "wrote to a source"; fi
grep -q "is the source" err.txt || die "$(cat err.txt)"
[ "$(md5sum root.img swap.img data.img)" = "$sums" ] || die "a source was modified"

echo "== a destination holding a file system is refused"
truncate -s 48M fs.img && mkswap -q fs.img
if "$M" create --target "$W/fs.img" vm.cfg 2>err.txt; then die "overwrote a signature"; fi
grep -q "signature" err.txt || die "$(cat err.txt)"

echo "== six partitions: extended + logical"
for p in a b c d e f; do truncate -s $(( (RANDOM % 5 + 1) * 1048576 + RANDOM )) src-$p.img; done
cat >many.cfg <<CFG
name = 'many'
root = '/dev/xvda1 ro'
disk = [ $(i=1; for p in a b c d e f; do printf "'file:%s/src-%s.img,xvda%d,w'," "$W" $p $i; i=$((i + 1)); done) ]
CFG
"$M" create --target "$W/many.img" many.cfg 2>err.txt || die "create many: $(cat err.txt)"
grep -q RENUMBERED err.txt || die "no renumbering warning"
"$M" plan --json many.cfg >many.json || die "plan many"
tbl=$(parted -m -s many.img unit s print | tail -n +3)
[ "$(cut -d: -f1 <<<"$tbl" | tr '\n' ' ')" = "1 2 3 4 5 6 7 " ] || die "numbers: $tbl"
grep -q '^4:.*:lba;$\|^4:' <<<"$tbl" || die "no partition 4"
for n in 1 2 3 5 6 7; do
	start=$(grep "^$n:" <<<"$tbl" | cut -d: -f2); start=${start%s}
	[ $((start % 2048)) = 0 ] || die "partition $n starts at $start, not on a MiB"
	grep -q "\"start_sector\": $start," many.json || die "partition $n start $start is not in the plan"
done
"$M" create --target "$W/many.img" many.cfg >/dev/null 2>&1 || die "re-run on many"

loop_test() { # sector-size table...
	local ss=$1; shift
	echo "== loop device, $ss-byte sectors"
	rm -f "dest$ss.img"; truncate -s 64M "dest$ss.img"
	local l
	l=$(losetup -f --show --sector-size "$ss" "dest$ss.img") || skip "no free loop device"
	LOOPS+=("$l")
	"$M" create --target "$l" vm.cfg || die "create on $l"
	expect_table "$l" "$ss" "$@"
	[ -b "${l}p2" ] || die "${l}p2 was not added (BLKPG)"
	out=$(blkid -p -o export "${l}p2")
	grep -qx TYPE=swap <<<"$out" && grep -qx UUID=0b5e55ed-1234-4abc-8def-0123456789ab <<<"$out" ||
		die "swap on ${l}p2: $out"
	"$M" create --target "$l" vm.cfg >/dev/null || die "re-run on $l"
	partx -d "$l" 2>/dev/null
	losetup -d "$l"
	LOOPS=()
}
loop_test 512 "${T512[@]}"
loop_test 4096 "${T4096[@]}"
[ "$(md5sum root.img swap.img data.img)" = "$sums" ] || die "a source was modified"
echo "all good"
