#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: early
# Block devices on both ends (loop devices; skipped when none is free): a
# mostly-zero source device into a destination device full of garbage, at
# an offset (the zeros are written with BLKZEROOUT, never assumed), then a
# second receive on the held destination device is refused.
. "$(dirname "$0")/lib.sh"
command -v losetup >/dev/null || skip "no losetup"
two_hosts
truncate -s 64M "$WORK/src.raw"
for at in 0 9 33 63; do
	head -c $MiB /dev/urandom | dd of="$WORK/src.raw" bs=1M seek=$at conv=notrunc status=none
done
head -c $((80 * MiB)) /dev/zero | tr '\0' '\252' >"$WORK/dst.raw"
src=$(losetup -f --show "$WORK/src.raw" 2>/dev/null) || skip "no free loop device"
CLEANUP+=("losetup -d $src")
dst=$(losetup -f --show "$WORK/dst.raw" 2>/dev/null) || skip "no second free loop device"
CLEANUP+=("losetup -d $dst")
state=$WORK/state

rx dev-rx --offset $((4 * MiB)) --state "$state" "$dst"
tx dev-tx --block-size $MiB "$src" || fail "send from $src: exit $?"
wait_pid "$RXPID" 30 || fail "receive into $dst: exit $?"
expect_verified dev-rx dev-tx
[ "$(result dev-tx zero_bytes)" = $((60 * MiB)) ] || fail "zero bytes $(result dev-tx zero_bytes), want 60 MiB"
cmp -n $((64 * MiB)) "$src" - < <(tail -c +$((4 * MiB + 1)) "$dst") >/dev/null || fail "$dst differs from $src"
cmp -n $((4 * MiB)) "$dst" - < <(head -c $((4 * MiB)) /dev/zero | tr '\0' '\252') >/dev/null ||
	fail "bytes before the offset changed"
ls "$state"/*@$((4 * MiB)).stream-state >/dev/null || fail "no state file in --state"
log "device to device at offset 4 MiB: verified, 60 MiB of zeros written by the device"

# held: a receive holds the device O_EXCL, a second one is refused
rx hold-rx --offset $((4 * MiB)) --state "$state" "$dst"
ip netns exec "$P-b" "$TOOL" receive --listen 198.18.0.2:$((PORT + 1)) --plain --state "$state" "$dst" \
	>"$WORK/hold2.out" 2>"$WORK/hold2.err"
rc=$?
[ $rc = 3 ] && grep -q "in use" "$WORK/hold2.err" || fail "held device: exit $rc, $(cat "$WORK/hold2.err")"
kill "$RXPID"; wait "$RXPID" 2>/dev/null
log "held destination device: refused"
echo ok
