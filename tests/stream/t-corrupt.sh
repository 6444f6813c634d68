#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Corruption is detected and the block named, exit non-zero:
#   one byte flipped in flight by tests/stream/flip-proxy (encrypted: the
#   record fails authentication; --plain: the block hash differs), then one
#   byte flipped at rest in the destination (--verify-readback). Each time
#   the rerun repairs the named block and ends verified.
#
#   a: send --> 198.18.0.2:5001 [flip-proxy in b] --> 127.0.0.1:5000 receive
. "$(dirname "$0")/lib.sh"
two_hosts
bs=$MiB
random_file "$WORK/src.img" 64
truncate -s 64M "$WORK/dst.img"
flip=$((20 * MiB + 12345))	# a stream offset, inside block ~20

# flip_run NAME enc|plain: one copy through the proxy; both sides must fail
# naming the block.
flip_run() {
	local name=$1 mode=$2 ppid txrc rxrc rxk txk
	if [ "$mode" = plain ]; then rxk=(--plain); txk=(--plain)
	else rxk=(--key "$WORK/b.key" --peer-key "$APUB"); txk=(--key "$WORK/a.key" --peer-key "$BPUB"); fi
	ip netns exec "$P-b" "$PROXY" 198.18.0.2 5001 127.0.0.1 5000 $flip 2>"$WORK/$name-proxy.err" &
	ppid=$!
	PIDS+=("$ppid")
	wait_listen 5001
	ip netns exec "$P-b" "$TOOL" receive --listen 127.0.0.1:5000 --json "${rxk[@]}" "$WORK/dst.img" \
		>"$WORK/$name-rx.json" 2>"$WORK/$name-rx.err" &
	RXPID=$!
	PIDS+=("$RXPID")
	wait_listen 5000
	nsx "$P-a" "$TOOL" send --to 198.18.0.2:5001 --json --block-size $bs "${txk[@]}" "$WORK/src.img" \
		>"$WORK/$name-tx.json" 2>"$WORK/$name-tx.err"
	txrc=$?
	wait_pid "$RXPID" 20
	rxrc=$?
	wait_pid "$ppid" 10 || true
	[ "${DEBUG:-}" ] && cat "$WORK/$name-rx.json" "$WORK/$name-tx.json"
	grep -q flipped "$WORK/$name-proxy.err" || fail "$name: the proxy flipped nothing"
	[ $txrc = 1 ] && [ $rxrc = 1 ] || fail "$name: exit statuses send $txrc receive $rxrc, want 1 and 1"
	[ "$(result $name-rx)" = mismatch ] || fail "$name: receiver says $(result $name-rx)"
	[ "$(result $name-tx)" = mismatch ] || fail "$name: sender says $(result $name-tx)"
	[ "$(result $name-rx nbad)" -ge 1 ] || fail "$name: no block named"
}

# The block holding stream byte $flip: ~150 bytes of framing per 1 MiB
# block, so it is block flip/bs (or the one before).
near() { local off=$1 want=$(((flip / bs) * bs)); [ "$off" = "$want" ] || [ "$off" = $((want - bs)) ]; }

# encrypted: the flipped record does not authenticate; the receiver stops
flip_run enc enc
off=$(result enc-rx 'bad_blocks[0]')
near "$off" || fail "enc: named block $off, flipped near $flip"
[ "$(result enc-tx 'bad_blocks[0]')" = "$off" ] || fail "enc: the sender names another block"
grep -q "offset $off failed authentication" "$WORK/enc-rx.json" || fail "enc: message does not name the block"
log "encrypted: flip in flight detected, block at $off named"
# rerun: resumes, everything verified
rx enc-rerun-rx "$WORK/dst.img"
tx enc-rerun-tx --block-size $bs "$WORK/src.img" || fail "enc rerun: exit $?"
wait_pid "$RXPID" 20 || fail "enc rerun receive: exit $?"
expect_verified enc-rerun-rx enc-rerun-tx
# everything before the flipped block was kept (nothing lost in the pipeline)
[ "$(result enc-rerun-tx resumed_bytes)" = "$off" ] || fail "enc rerun resumed $(result enc-rerun-tx resumed_bytes), want $off"
same "$WORK/src.img" "$WORK/dst.img"

# plain: the block arrives, its hash differs; the rest is copied
rm -f "$WORK"/.dst.img@*
truncate -s 0 "$WORK/dst.img"; truncate -s 64M "$WORK/dst.img"
flip_run plain plain
[ "$(result plain-rx nbad)" = 1 ] || fail "plain: $(result plain-rx nbad) blocks named, want 1"
off=$(result plain-rx 'bad_blocks[0]')
near "$off" || fail "plain: named block $off, flipped near $flip"
[ "$(result plain-tx 'bad_blocks[0]')" = "$off" ] || fail "plain: the sender names another block"
log "plain: flip in flight detected, block at $off named"
ip netns exec "$P-b" "$TOOL" receive --listen 198.18.0.2:$PORT --plain --json "$WORK/dst.img" \
	>"$WORK/plain-rerun-rx.json" 2>"$WORK/plain-rerun-rx.err" &
RXPID=$!; PIDS+=("$RXPID")
wait_listen $PORT
nsx "$P-a" "$TOOL" send --to 198.18.0.2:$PORT --plain --json --block-size $bs "$WORK/src.img" \
	>"$WORK/plain-rerun-tx.json" 2>"$WORK/plain-rerun-tx.err" || fail "plain rerun: exit $?"
wait_pid "$RXPID" 20 || fail "plain rerun receive: exit $?"
expect_verified plain-rerun-rx plain-rerun-tx
[ "$(result plain-rerun-tx data_bytes)" = $bs ] || fail "plain rerun sent $(result plain-rerun-tx data_bytes) bytes, want one block"
same "$WORK/src.img" "$WORK/dst.img"

# at rest: flip one byte of the verified destination, rerun with readback
at=$((37 * MiB + 999))
# flip it (xor 0x40: writing a fixed byte into random data left it unchanged
# one run in 256)
b=$(od -An -tu1 -j $at -N1 "$WORK/dst.img" | tr -d ' ')
printf "\\$(printf %03o $((b ^ 0x40)))" | dd of="$WORK/dst.img" bs=1 seek=$at conv=notrunc status=none
[ "$(od -An -tu1 -j $at -N1 "$WORK/dst.img" | tr -d ' ')" = $((b ^ 0x40)) ] || fail "at rest: the flip did not take"
rx rest-rx --verify-readback "$WORK/dst.img"
tx rest-tx --block-size $bs "$WORK/src.img"
txrc=$?
wait_pid "$RXPID" 20
rxrc=$?
[ $txrc = 1 ] && [ $rxrc = 1 ] || fail "at rest: exit statuses send $txrc receive $rxrc, want 1 and 1"
[ "$(result rest-rx)" = mismatch ] || fail "at rest: receiver says $(result rest-rx)"
[ "$(result rest-rx nbad)" = 1 ] && [ "$(result rest-rx 'bad_blocks[0]')" = $((37 * MiB)) ] ||
	fail "at rest: named $(result rest-rx bad_blocks), want [$((37 * MiB))]"
[ "$(result rest-tx 'bad_blocks[0]')" = $((37 * MiB)) ] || fail "at rest: the sender was not told the block"
log "at rest: flip detected by read-back, block at $((37 * MiB)) named"
rx rest-rerun-rx --verify-readback "$WORK/dst.img"
tx rest-rerun-tx --block-size $bs "$WORK/src.img" || fail "at rest rerun: exit $?"
wait_pid "$RXPID" 20 || fail "at rest rerun receive: exit $?"
expect_verified rest-rerun-rx rest-rerun-tx
[ "$(result rest-rerun-tx data_bytes)" = $bs ] || fail "at rest rerun sent $(result rest-rerun-tx data_bytes), want one block"
same "$WORK/src.img" "$WORK/dst.img"
echo ok
