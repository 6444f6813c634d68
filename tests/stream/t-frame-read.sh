#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: early
# The block reader's wake-up mark (io_read_frame: SO_RCVLOWAT + poll) over
# real TCP between two namespace hosts: the last record of a stream, sent
# in two parts with a pause between them, is read whole while its sender
# sends nothing more and waits for a reply. A reader that blocked in read()
# under a mark of the record's length sleeps for good there (the kernel
# wakes it when the mark's worth is unread beyond what that read already
# copied); tests/stream/frame-read gives up after 10 s and fails.
. "$(dirname "$0")/lib.sh"
FR=$TOP/tests/stream/frame-read
[ -x "$FR" ] || fail "$FR not built (make tests)"
two_hosts
# LEN PAUSE_MS: just over the 64 KiB threshold, a 1 MiB block, a 16 MiB one
# (above half of a small tcp_rmem maximum the kernel caps the mark)
for c in "65537 100" "1048576 200" "1048576 0" "16777216 100"; do
	read -r len ms <<<"$c"
	nsx "$P-b" "$FR" listen 198.18.0.2 $PORT "$len" >"$WORK/fr-rx.out" 2>"$WORK/fr-rx.err" &
	rxp=$!
	PIDS+=("$rxp")
	wait_listen $PORT
	nsx "$P-a" "$FR" send 198.18.0.2 $PORT "$len" "$ms" 2>"$WORK/fr-tx.err" ||
		fail "$len bytes, pause $ms ms: sender: $(cat "$WORK/fr-tx.err") / reader: $(cat "$WORK/fr-rx.err")"
	wait "$rxp" || fail "$len bytes, pause $ms ms: reader: $(cat "$WORK/fr-rx.err")"
	grep -q "^read $len bytes" "$WORK/fr-rx.out" || fail "$len bytes: reader said: $(cat "$WORK/fr-rx.out")"
	log "$len bytes in two parts ($ms ms apart): read whole, no wait for more"
	PORT=$((PORT + 1))
done
echo ok
