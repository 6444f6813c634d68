#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: early
# Refusals before any write, each leaving the destination byte-identical
# and creating no state: a destination one sector too small (also with
# --offset), a peer with the wrong key, encrypted against --plain, a
# destination held by another receive, a mounted source device (when loop
# devices are available).
. "$(dirname "$0")/lib.sh"
two_hosts
random_file "$WORK/src.img" 32
size=$(stat -c %s "$WORK/src.img")

# check_untouched: same bytes and size as before, no state file
snap() { BEFORE=$(sha256sum <"$WORK/dst.img"); }
check_untouched() {
	[ "$(sha256sum <"$WORK/dst.img")" = "$BEFORE" ] || fail "$1: the destination changed"
	! ls "$WORK"/.dst.img@* >/dev/null 2>&1 || fail "$1: a state file was created"
}
# both_refused NAME: both ends exit 3
both_refused() {
	local txrc=$1 rxrc
	wait_pid "$RXPID" 10
	rxrc=$?
	[ "$txrc" = 3 ] && [ $rxrc = 3 ] || fail "$2: exit send $txrc receive $rxrc, want 3 and 3"
}

head -c $((size - 512)) /dev/urandom >"$WORK/dst.img"
snap
rx small-rx "$WORK/dst.img"
tx small-tx "$WORK/src.img"
both_refused $? "one sector too small"
[ "$(result small-rx)" = refused ] || fail "small: receiver says $(result small-rx)"
grep -q "short by 512" "$WORK/small-rx.json" || fail "small: the refusal does not give the numbers"
check_untouched "one sector too small"
log "destination one sector too small: refused, untouched"

# big enough, but not at this offset
head -c $((size + 4096)) /dev/urandom >"$WORK/dst.img"
snap
rx off-rx --offset 4608 "$WORK/dst.img"
tx off-tx "$WORK/src.img"
both_refused $? "offset"
check_untouched "offset"
log "offset + source beyond the end: refused, untouched"

# a peer with another key
(umask 077; "$TOOL" genkey >"$WORK/c.key")
ip netns exec "$P-b" "$TOOL" receive --listen 198.18.0.2:$PORT --key "$WORK/b.key" --json \
	--peer-key "$("$TOOL" pubkey <"$WORK/c.key")" "$WORK/dst.img" >"$WORK/key-rx.json" 2>"$WORK/key-rx.err" &
RXPID=$!; PIDS+=("$RXPID")
wait_listen $PORT
tx key-tx "$WORK/src.img"
both_refused $? "wrong key"
grep -q "not authenticated" "$WORK/key-rx.err" || fail "wrong key: receiver does not say so"
check_untouched "wrong key"
# the sender expects another receiver key
rx key2-rx "$WORK/dst.img"
ip netns exec "$P-a" "$TOOL" send --to 198.18.0.2:$PORT --key "$WORK/a.key" --json \
	--peer-key "$("$TOOL" pubkey <"$WORK/c.key")" "$WORK/src.img" >"$WORK/key2-tx.json" 2>"$WORK/key2-tx.err"
both_refused $? "wrong receiver key"
check_untouched "wrong receiver key"
log "unauthenticated peers: refused, untouched"

# encrypted sender, --plain receiver
ip netns exec "$P-b" "$TOOL" receive --listen 198.18.0.2:$PORT --plain --json "$WORK/dst.img" \
	>"$WORK/plain-rx.json" 2>"$WORK/plain-rx.err" &
RXPID=$!; PIDS+=("$RXPID")
wait_listen $PORT
tx plain-tx "$WORK/src.img"
both_refused $? "plain mismatch"
grep -q "plain" "$WORK/plain-tx.err" || fail "plain mismatch: sender does not say so"
check_untouched "plain mismatch"

# a destination another receive holds
rx hold-rx "$WORK/dst.img"
ip netns exec "$P-b" "$TOOL" receive --listen 198.18.0.2:$((PORT + 1)) --key "$WORK/b.key" \
	--peer-key "$APUB" "$WORK/dst.img" >"$WORK/hold2.out" 2>"$WORK/hold2.err"
rc=$?
[ $rc = 3 ] || fail "second receive on a held destination: exit $rc, want 3"
grep -q "in use" "$WORK/hold2.err" || fail "held destination: no 'in use'"
kill "$RXPID"; wait "$RXPID" 2>/dev/null
check_untouched "held destination"
log "destination held by another receive: refused"

# a mounted source device (needs a free loop device)
if command -v losetup >/dev/null && mkfs.ext4 -q -F "$WORK/fs.img" 16M 2>/dev/null &&
   loop=$(losetup -f --show "$WORK/fs.img" 2>/dev/null); then
	CLEANUP+=("losetup -d $loop")
	mkdir "$WORK/mnt"
	if mount "$loop" "$WORK/mnt" 2>/dev/null; then
		CLEANUP=("umount $WORK/mnt" "${CLEANUP[@]}")
		rx mnt-rx "$WORK/dst.img"
		tx mnt-tx "$loop"
		rc=$?
		[ $rc = 3 ] || fail "mounted source: exit $rc, want 3"
		grep -q "in use" "$WORK/mnt-tx.err" || fail "mounted source: no 'in use'"
		kill "$RXPID"; wait "$RXPID" 2>/dev/null
		check_untouched "mounted source"
		log "mounted source device: refused without --warm"
	fi
fi
echo ok
