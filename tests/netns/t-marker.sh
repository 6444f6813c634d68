#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Scenario 3: in aead mode a marker sent VM to VM never appears in an
# underlay capture; in none mode it does (so the capture is not blind).
# Topology: two_hosts (vm1 - a ==== b - vm2).
. "$(dirname "$0")/../lib/netns.sh"
MARK=4d41524b45522d425249444745442121   # "MARKER-BRIDGED!!"

for mode in aead none; do
	P=bt$(printf '%04x' $((RANDOM % 65536)))
	two_hosts "$mode"
	wait_for 5 session_up a b || fail "$mode: session not up"
	bg "$P-a" tcpdump --immediate-mode -i ul0 -nn -s 0 -U -w "$WORK/$mode.pcap" udp port 5880 2>"$WORK/tcpdump.log"
	TD=$BG_PID
	wait_for 5 grep -q "listening on" "$WORK/tcpdump.log" || fail "tcpdump did not start"
	nsx "$P-vm1" ping -c 5 -i 0.1 -W 2 -p "$MARK" 198.19.1.2 >/dev/null || fail "$mode: ping failed"
	wait_for 5 pcap_has "$WORK/$mode.pcap" 10 || true   # judged below
	kill "$TD"; wait "$TD" 2>/dev/null
	n=$(grep -a -o "MARKER-BRIDGED!!" "$WORK/$mode.pcap" | wc -l)
	pk=$(tcpdump -nn -r "$WORK/$mode.pcap" 2>/dev/null | wc -l)
	log "$mode: $pk underlay packets, marker found in $n"
	[ "$pk" -ge 10 ] || fail "$mode: capture saw only $pk packets"
	if [ $mode = aead ]; then [ "$n" -eq 0 ] || fail "aead: the marker is visible on the underlay"
	else [ "$n" -ge 10 ] || fail "none: the marker should be visible in plaintext, found $n"; fi
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	PIDS=()
	for ns in "${NSS[@]}"; do ip netns del "$ns"; done
	NSS=()
	rm -f "$WORK"/*.sock
done
echo ok
