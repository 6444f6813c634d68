#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Disk stream round trips between two namespace hosts (tests/stream/lib.sh):
#   random data (256 MiB, 1 GiB with STREAM_BIG=1), encrypted and --plain;
#   a 4 GiB sparse image that is 95 % zeros, into a destination full of
#   garbage where the source has zeros; an ext4 image made with mkfs.ext4 -d
#   and written as a partition at its offset inside a bigger "disk"; a
#   small image of holes and data at offsets that are not the blocks'.
# Each: verified on both sides, same image hash, byte-identical (cmp).
# The receiver's writer: io_uring by default (unless the kernel has it
# disabled), the thread pool with BRIDGED_STREAM_WRITER=threads, io_uring
# with one write in flight (BRIDGED_STREAM_RING_DEPTH=1), each
# byte-identical; preallocation ahead of the writes leaves a mostly-zero
# destination sparse.
. "$(dirname "$0")/lib.sh"
two_hosts

size=256
[ "${STREAM_BIG:-0}" = 1 ] && size=1024
random_file "$WORK/rand.img" $size
truncate -s $((size * MiB)) "$WORK/rand.out"
rx rand-rx "$WORK/rand.out"
tx rand-tx "$WORK/rand.img" || fail "send of random data: exit $?"
wait_pid "$RXPID" 30 || fail "receive of random data: exit $?"
expect_verified rand-rx rand-tx
[ "$(result rand-tx image_hash)" = "$(result rand-rx image_hash)" ] || fail "image hashes differ"
[ "$(result rand-tx data_bytes)" = $((size * MiB)) ] || fail "random data: data_bytes $(result rand-tx data_bytes)"
same "$WORK/rand.img" "$WORK/rand.out"
want=io_uring
[ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ] || want=threads
[ "$(result rand-rx writer)" = "$want" ] || fail "writer $(result rand-rx writer), expected $want"
log "random $size MiB: verified in $(result rand-tx duration) s, writer $want"

# the fallback writer (a pool of threads), into a new file
BRIDGED_STREAM_WRITER=threads rx thr-rx --create "$WORK/thr.out"
tx thr-tx "$WORK/rand.img" || fail "send (threads writer): exit $?"
wait_pid "$RXPID" 30 || fail "receive (threads writer): exit $?"
expect_verified thr-rx thr-tx
[ "$(result thr-rx writer)" = threads ] || fail "BRIDGED_STREAM_WRITER=threads: writer $(result thr-rx writer)"
same "$WORK/rand.img" "$WORK/thr.out"
rm -f "$WORK/thr.out"
log "random $size MiB, threads writer: verified"

# io_uring with one write in flight: every write waits for room
if [ "$want" = io_uring ]; then
	BRIDGED_STREAM_RING_DEPTH=1 rx d1-rx --create "$WORK/d1.out"
	tx d1-tx "$WORK/rand.img" || fail "send (1 write in flight): exit $?"
	wait_pid "$RXPID" 30 || fail "receive (1 write in flight): exit $?"
	expect_verified d1-rx d1-tx
	[ "$(result d1-rx writes_inflight)" = 1 ] || fail "RING_DEPTH=1: writes_inflight $(result d1-rx writes_inflight)"
	same "$WORK/rand.img" "$WORK/d1.out"
	rm -f "$WORK/d1.out"
	log "random $size MiB, io_uring with 1 write in flight: verified"
fi

# holes and data at odd offsets (4 KiB pieces, 64 KiB blocks): a block is
# sent as zeros only when all of it is a hole, whatever extent the sender
# found for an earlier block (it asks once per extent, not per block)
bs64=65536
truncate -s $((64 * bs64)) "$WORK/holes.img"
for at in 0 $((3 * bs64 - 4096)) $((3 * bs64)) $((10 * bs64 + 8192)) $((40 * bs64 + 61440)) $((50 * bs64 + 4096)); do
	head -c 4096 /dev/urandom | dd of="$WORK/holes.img" bs=4096 seek=$((at / 4096)) conv=notrunc status=none
done
head -c $((2 * bs64)) /dev/urandom | dd of="$WORK/holes.img" bs=$bs64 seek=20 conv=notrunc status=none
# data in blocks 0, 2, 3, 10, 20, 21, 40 and 50; the other 56 and the end are holes
rx holes-rx --create "$WORK/holes.out"
tx holes-tx --block-size $bs64 "$WORK/holes.img" || fail "holes send: exit $?"
wait_pid "$RXPID" 30 || fail "holes receive: exit $?"
expect_verified holes-rx holes-tx
same "$WORK/holes.img" "$WORK/holes.out"
[ "$(result holes-tx data_bytes)" = $((8 * bs64)) ] || fail "holes: data_bytes $(result holes-tx data_bytes), want $((8 * bs64))"
[ "$(result holes-tx zero_bytes)" = $((56 * bs64)) ] || fail "holes: zero_bytes $(result holes-tx zero_bytes), want $((56 * bs64))"
rm -f "$WORK/holes.img" "$WORK/holes.out"
log "holes at odd offsets: verified, 8 data blocks of 64"

# --plain, into a fresh file made by --create
rx plain-rx --plain --create "$WORK/plain.out"
nsx "$P-a" "$TOOL" send --to "198.18.0.2:$PORT" --plain --json "$WORK/rand.img" \
	>"$WORK/plain-tx.json" 2>"$WORK/plain-tx.err" || fail "plain send: exit $?"
wait_pid "$RXPID" 30 || fail "plain receive: exit $?"
expect_verified plain-rx plain-tx
same "$WORK/rand.img" "$WORK/plain.out"
[ "$(stat -c %s "$WORK/plain.out")" = $((size * MiB)) ] || fail "--create: wrong size"
rm -f "$WORK/plain.out" "$WORK/rand.out"
log "plain: verified"

# 4 GiB, 95 % zeros: 205 MiB of data in 41 runs of 5 MiB spread over it
sparse=$WORK/sparse.img
truncate -s 4G "$sparse"
for i in $(seq 0 40); do
	head -c $((5 * MiB)) /dev/urandom | dd of="$sparse" bs=1M seek=$((i * 99 + 7)) conv=notrunc status=none
done
truncate -s 4G "$WORK/sparse.out"
# garbage where the source has zeros: the receiver must write the zeros
for at in 0 1000 4000 4095; do
	head -c $MiB /dev/urandom | dd of="$WORK/sparse.out" bs=1M seek=$at conv=notrunc status=none
done
rx sparse-rx "$WORK/sparse.out"
tx sparse-tx "$sparse" || fail "sparse send: exit $?"
wait_pid "$RXPID" 60 || fail "sparse receive: exit $?"
expect_verified sparse-rx sparse-tx
zero=$(result sparse-tx zero_bytes)
data=$(result sparse-tx data_bytes)
[ $((zero + data)) = $((4096 * MiB)) ] || fail "sparse: zero $zero + data $data != 4 GiB"
[ "$zero" -ge $((3700 * MiB)) ] || fail "sparse: only $zero zero bytes skipped"
# framing only besides the data: a DATA record's header and tags (under 100
# bytes a block), and a ZERO record per 64 MiB of hole (2 per hole here),
# not per block (3891 records of 36 bytes: 140 KB)
[ $(($(result sparse-tx bytes_sent) - data)) -lt $((64 * 1024)) ] ||
	fail "sparse: $(($(result sparse-tx bytes_sent) - data)) bytes besides the data crossed the wire"
same "$sparse" "$WORK/sparse.out"
# checkpoints: every 16 data blocks, a block of zeros weighing 1/16 of one,
# plus one a second and the final flush's (256 of them when zeros counted whole)
ck=$(result sparse-rx checkpoints) dur=$(result sparse-rx duration)
ckmax=$(((data / MiB * 16 + zero / MiB) / 256 + ${dur%.*} + 3))
[ "$ck" -ge 1 ] && [ "$ck" -le $ckmax ] || fail "sparse: $ck checkpoints in ${dur} s, want 1..$ckmax"
used=$(du -k "$WORK/sparse.out" | cut -f1)
[ "$used" -lt $((600 * 1024)) ] || fail "sparse: destination not sparse ($used KiB used)"
rm -f "$WORK/sparse.out"
log "sparse 4 GiB: verified, $((zero / MiB)) MiB of zeros skipped, $((data / MiB)) MiB sent in $(result sparse-tx duration) s, $ck checkpoints"

# ext4 image with files, written at 1 MiB inside a 600 MiB "disk"
command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 missing"
mkdir -p "$WORK/tree/a/b"
for i in $(seq 1 40); do head -c $((RANDOM * 40)) /dev/urandom >"$WORK/tree/a/f$i"; done
for i in $(seq 1 20); do seq 1 $((RANDOM * 3)) >"$WORK/tree/a/b/t$i.txt"; done
random_file "$WORK/tree/big.bin" 64
mkfs.ext4 -q -F -d "$WORK/tree" "$WORK/ext4.img" 500M || fail "mkfs.ext4 -d"
truncate -s 600M "$WORK/disk.out"
head -c $MiB /dev/urandom >"$WORK/head.bin"
dd if="$WORK/head.bin" of="$WORK/disk.out" conv=notrunc status=none
rx ext4-rx --offset $MiB "$WORK/disk.out"
tx ext4-tx --block-size 1M "$WORK/ext4.img" || fail "ext4 send: exit $?"
wait_pid "$RXPID" 30 || fail "ext4 receive: exit $?"
expect_verified ext4-rx ext4-tx
same "$WORK/ext4.img" "$WORK/disk.out" $MiB
cmp -n $MiB "$WORK/head.bin" "$WORK/disk.out" >/dev/null || fail "ext4: the bytes before --offset changed"
[ "$(sha256sum <"$WORK/ext4.img")" = "$(tail -c +$((MiB + 1)) "$WORK/disk.out" | head -c $((500 * MiB)) | sha256sum)" ] ||
	fail "ext4: sha256 differs"
log "ext4 500 MiB at offset 1 MiB: verified, $(($(result ext4-tx zero_bytes) / MiB)) MiB zeros skipped"
echo ok
