#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# kill -9 of the sender, then of the receiver, at a random point of a copy
# of 256 MiB of random data (1 MiB blocks, rate-limited so that the kill
# lands mid-way): the rerun of the same two commands completes verified,
# byte-identical, and resends little:
#   sender killed:   the receiver keeps every block it wrote, so
#                    resent <= (window + 1) blocks
#   receiver killed: resent <= (checkpoint + window + 1) blocks plus what
#                    sat in the TCP buffers (tcp_wmem + tcp_rmem maxima)
# where resent = data bytes of the killed run + of the rerun - image size.
# Then a sparse source, receiver killed: the rerun completes verified,
# byte-identical over a destination of garbage.
. "$(dirname "$0")/lib.sh"
two_hosts
bs=$MiB
win=4
ckpt=4
size=$((256 * MiB))
random_file "$WORK/src.img" 256

# kill_run WHO: one interrupted copy then a rerun; prints the resent bytes
kill_run() {
	local who=$1 d1 d2 pid
	rm -f "$WORK"/.dst.img@*
	truncate -s 0 "$WORK/dst.img"; truncate -s $size "$WORK/dst.img"
	rx $who-1-rx --checkpoint $ckpt --window $win "$WORK/dst.img"
	txbg $who-1-tx --block-size $bs --window $win --max-rate 40M "$WORK/src.img"
	# a random point between 15 % and 55 % of the copy: at 40 MB/s the rest
	# takes 3 s or more, time enough to see the point and kill on a busy machine
	local at=$(((RANDOM % 40 + 15) * size / 100))
	wait_done $who-1-rx "$at"
	sleep 0.$((RANDOM % 5))
	if [ "$who" = sender ]; then pid=$TXPID; else pid=$RXPID; fi
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	if [ "$who" = sender ]; then
		wait_pid "$RXPID" 20; local rc=$?
		[ $rc = 4 ] || fail "receiver after the sender's death: exit $rc, want 4 (interrupted)"
		[ "$(result $who-1-rx)" = interrupted ] || fail "receiver reports $(result $who-1-rx)"
		d1=$(result $who-1-rx data_bytes)
	else
		wait_pid "$TXPID" 20; local rc=$?
		[ $rc = 4 ] || fail "sender after the receiver's death: exit $rc, want 4 (interrupted)"
		[ "$(result $who-1-tx)" = interrupted ] || fail "sender reports $(result $who-1-tx)"
		d1=$(result $who-1-tx data_bytes)
	fi
	[ "$d1" -lt $size ] || fail "$who: the first run was not interrupted"
	rx $who-2-rx --checkpoint $ckpt --window $win "$WORK/dst.img"
	tx $who-2-tx --block-size $bs --window $win "$WORK/src.img" || fail "$who: rerun send exit $?"
	wait_pid "$RXPID" 30 || fail "$who: rerun receive exit $?"
	expect_verified $who-2-rx $who-2-tx
	[ "$(result $who-2-tx image_hash)" = "$(result $who-2-rx image_hash)" ] || fail "$who: hashes differ"
	same "$WORK/src.img" "$WORK/dst.img"
	d2=$(result $who-2-tx data_bytes)
	RESENT=$((d1 + d2 - size))
	log "$who killed after $((d1 / MiB)) MiB: rerun resumed $(($(result $who-2-tx resumed_bytes) / MiB)) MiB, sent $((d2 / MiB)) MiB, resent $RESENT bytes"
}

kill_run sender
[ $RESENT -le $(((win + 1) * bs)) ] || fail "sender killed: resent $RESENT bytes > $(((win + 1) * bs))"

wmem=$(awk '{print $3}' /proc/sys/net/ipv4/tcp_wmem)
rmem=$(awk '{print $3}' /proc/sys/net/ipv4/tcp_rmem)
kill_run receiver
bound=$(((ckpt + win + 1) * bs + wmem + rmem))
[ $RESENT -le $bound ] || fail "receiver killed: resent $RESENT bytes > $bound"

# a sparse source (1 MiB of data, then a 3 MiB hole, 32 times) into a
# destination of garbage: each hole travels as one ZERO record; the rerun
# after the receiver's death completes verified and byte-identical; a
# block of zeros spoilt at rest is then sent again alone
truncate -s $((128 * MiB)) "$WORK/sp.img"
for ((i = 0; i < 32; i++)); do
	head -c $MiB /dev/urandom | dd of="$WORK/sp.img" bs=$MiB seek=$((i * 4)) conv=notrunc status=none
done
head -c $((128 * MiB)) /dev/urandom >"$WORK/sp.out"
rx sp-1-rx --checkpoint 2 --window $win "$WORK/sp.out"
txbg sp-1-tx --block-size $bs --window $win --max-rate 4M "$WORK/sp.img"
wait_done sp-1-rx $((32 * MiB))
kill -9 "$RXPID"
wait "$RXPID" 2>/dev/null
wait_pid "$TXPID" 20; rc=$?
[ $rc = 4 ] || fail "sparse: sender after the receiver's death: exit $rc, want 4"
rx sp-2-rx --checkpoint 2 --window $win "$WORK/sp.out"
tx sp-2-tx --block-size $bs --window $win "$WORK/sp.img" || fail "sparse: rerun send exit $?"
wait_pid "$RXPID" 30 || fail "sparse: rerun receive exit $?"
expect_verified sp-2-rx sp-2-tx
same "$WORK/sp.img" "$WORK/sp.out"
[ "$(result sp-2-tx resumed_bytes)" -gt 0 ] || fail "sparse: the rerun resumed nothing"
[ $(($(result sp-2-tx zero_bytes) + $(result sp-2-tx data_bytes) + $(result sp-2-tx resumed_bytes))) = $((128 * MiB)) ] ||
	fail "sparse: zero + data + resumed bytes of the rerun != 128 MiB"
log "sparse, receiver killed: rerun resumed $(($(result sp-2-tx resumed_bytes) / MiB)) MiB, zeros $(($(result sp-2-tx zero_bytes) / MiB)) MiB, data $(($(result sp-2-tx data_bytes) / MiB)) MiB"

# a block of zeros gone bad at rest in the middle of a hole (block 2 of the
# hole 1-3): --verify-readback names it and forgets it; the next rerun sends
# that block alone, a run cut short by the blocks the receiver still has
printf x | dd of="$WORK/sp.out" bs=1 seek=$((2 * MiB + 100)) conv=notrunc status=none
rx sp-3-rx --verify-readback "$WORK/sp.out"
tx sp-3-tx --block-size $bs "$WORK/sp.img"; txrc=$?
wait_pid "$RXPID" 20; rxrc=$?
[ $txrc = 1 ] && [ $rxrc = 1 ] || fail "sparse at rest: exit statuses send $txrc receive $rxrc, want 1 and 1"
[ "$(result sp-3-rx nbad)" = 1 ] && [ "$(result sp-3-rx 'bad_blocks[0]')" = $((2 * MiB)) ] ||
	fail "sparse at rest: named $(result sp-3-rx bad_blocks), want [$((2 * MiB))]"
rx sp-4-rx "$WORK/sp.out"
tx sp-4-tx --block-size $bs "$WORK/sp.img" || fail "sparse at rest rerun: exit $?"
wait_pid "$RXPID" 20 || fail "sparse at rest rerun receive: exit $?"
expect_verified sp-4-rx sp-4-tx
[ "$(result sp-4-tx zero_bytes)" = $MiB ] && [ "$(result sp-4-tx data_bytes)" = 0 ] ||
	fail "sparse at rest rerun: zeros $(result sp-4-tx zero_bytes), data $(result sp-4-tx data_bytes), want one block of zeros"
same "$WORK/sp.img" "$WORK/sp.out"
echo ok
