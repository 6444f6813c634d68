#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Warm mode: a source open for writing (a running VM) is refused without
# --warm and nothing is written; with --warm it is copied; then a few MiB of
# it change and the --delta pass sends exactly the changed blocks. A delta
# without the resume map (the receiver hashes its destination) also sends
# only what differs.
. "$(dirname "$0")/lib.sh"
two_hosts
bs=$MiB
random_file "$WORK/src.img" 256
head -c $((256 * MiB)) /dev/zero | tr '\0' '\377' >"$WORK/dst.img"
before=$(sha256sum <"$WORK/dst.img")

# the "VM": a process holding the image open for writing
(exec 3<>"$WORK/src.img"; exec sleep 60) &
vm=$!
PIDS+=("$vm")
for _ in $(seq 50); do [ -e "/proc/$vm/fd/3" ] && break; sleep 0.05; done
[ -e "/proc/$vm/fd/3" ] || fail "the writer did not start"

rx cold-rx "$WORK/dst.img"
tx cold-tx --block-size $bs "$WORK/src.img"
rc=$?
[ $rc = 3 ] || fail "send of a source open for writing: exit $rc, want 3 (refused)"
grep -q "open for writing" "$WORK/cold-tx.err" || fail "refusal does not say why: $(cat "$WORK/cold-tx.err")"
kill "$RXPID"; wait "$RXPID" 2>/dev/null
[ "$(sha256sum <"$WORK/dst.img")" = "$before" ] || fail "refused copy wrote to the destination"
log "source in use: refused without --warm, destination untouched"

rx warm-rx "$WORK/dst.img"
tx warm-tx --warm --block-size $bs "$WORK/src.img" || fail "warm send: exit $?"
wait_pid "$RXPID" 30 || fail "warm receive: exit $?"
expect_verified warm-rx warm-tx

# the VM keeps writing: 3 aligned MiB and one unaligned MiB (2 blocks)
for at in 10 100 200; do
	head -c $MiB /dev/urandom | dd of="$WORK/src.img" bs=1M seek=$at conv=notrunc status=none
done
head -c $MiB /dev/urandom | dd of="$WORK/src.img" bs=512K seek=101 conv=notrunc status=none
changed=$((5 * bs))
kill "$vm"; wait "$vm" 2>/dev/null	# the VM is shut down
rx delta-rx "$WORK/dst.img"
tx delta-tx --delta --block-size $bs "$WORK/src.img" || fail "delta send: exit $?"
wait_pid "$RXPID" 30 || fail "delta receive: exit $?"
expect_verified delta-rx delta-tx
sent=$(result delta-tx data_bytes)
[ "$sent" = $changed ] || fail "delta sent $sent bytes of data, want exactly the $changed changed"
[ "$(result delta-tx unchanged_bytes)" = $((256 * MiB - changed)) ] || fail "delta: unchanged $(result delta-tx unchanged_bytes)"
[ "$(result delta-tx bytes_sent)" -lt $((changed + MiB)) ] || fail "delta: $(result delta-tx bytes_sent) wire bytes"
same "$WORK/src.img" "$WORK/dst.img"
log "delta: $((sent / MiB)) MiB sent of 256 MiB, $(result delta-tx duration) s"

# without the map: the receiver hashes what it has
rm -f "$WORK"/.dst.img@*
head -c 4096 /dev/urandom | dd of="$WORK/src.img" bs=4096 seek=12345 conv=notrunc status=none
rx map-rx "$WORK/dst.img"
tx map-tx --delta --block-size $bs "$WORK/src.img" || fail "map-less delta send: exit $?"
wait_pid "$RXPID" 30 || fail "map-less delta receive: exit $?"
expect_verified map-rx map-tx
[ "$(result map-tx data_bytes)" = $bs ] || fail "map-less delta sent $(result map-tx data_bytes), want one block"
same "$WORK/src.img" "$WORK/dst.img"
log "map-less delta: one block sent"
echo ok
