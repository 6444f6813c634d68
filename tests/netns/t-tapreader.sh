#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The TAP reader (tunnel/datapath.c, tap_read_frames): a backlog of frames
# is read on an io_uring, many reads in one io_uring_enter; one frame at a
# time with read(2); BRIDGED_TAP_READER=read, or no io_uring, read(2) only.
#   - the VMs' offloads off (every frame on its own: the per-packet path,
#     where the TAP backlogs), one TCP flow of 24 MiB vm1 -> vm2: the bytes
#     arrive intact (sha256); a's status names io_uring as the reader of a
#     queue, whose ring made at least 2 reads per call on average, and the
#     human status says so;
#   - BRIDGED_TAP_READER=read (the fallback): the same flow intact, every
#     queue's reader read(2), no reads on a ring.
# Topology: two_hosts in tests/lib/netns.sh (vm1 - a ==== b - vm2), twice.
. "$(dirname "$0")/../lib/netns.sh"
command -v ethtool >/dev/null || skip "ethtool is not installed (make deps)"
head -c $((24 * 1024 * 1024)) /dev/urandom >"$WORK/send.bin"

js() { ctl a status --json | jq -r "$1"; }
for reader in io_uring read; do
	if [ "$reader" = read ]; then
		teardown_hosts
		export BRIDGED_TAP_READER=read
	fi
	two_hosts none
	wait_for 10 session_up a b || fail "$reader: no session"
	for x in "vm1 eth0" "a vn-vm1" "vm2 eth0" "b vn-vm2"; do
		set -- $x
		nsx "$P-$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 ||
			fail "ethtool -K $2 tso off gso off gro off in $1"
	done
	tcp_transfer "$reader: one flow, offloads off" "$WORK/send.bin"
	readers=$(js '[.node.queues[].tap_reader] | unique | join(",")')
	ring_reads=$(js '[.node.queues[].tap_ring_reads] | add')
	ring_calls=$(js '[.node.queues[].tap_ring_calls] | add')
	frames=$(js '[.node.queues[].tap_frames] | add')
	log "$reader: a read $frames frames; readers $readers; $ring_reads reads on the ring in $ring_calls calls"
	[ "$frames" -gt 10000 ] || fail "$reader: a read only $frames frames from its TAP"
	if [ "$reader" = io_uring ]; then
		case ",$readers," in *,io_uring,*) ;; *) fail "no queue of a reads on io_uring: $readers" ;; esac
		[ "$ring_reads" -gt 0 ] || fail "no TAP read went on the ring"
		[ "$ring_reads" -ge $((2 * ring_calls)) ] ||
			fail "the ring made $ring_reads reads in $ring_calls calls: under 2 per call"
		ctl a status | grep -Eq "^  queue [0-9]( \(CPU [0-9]+\))?: .*reader io_uring" ||
			fail "the human status does not name the io_uring reader: $(ctl a status | grep '^  queue')"
	else
		case "$readers" in read | read,"none yet" | "none yet",read) ;;
		*) fail "BRIDGED_TAP_READER=read: readers $readers" ;; esac
		[ "$ring_reads" = 0 ] || fail "BRIDGED_TAP_READER=read: $ring_reads reads on a ring"
	fi
done
echo ok
