#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Scenario 1: VM-to-VM ARP and ping through the tunnel, in aead and in none
# mode; status --json shows the session up with counters that grew.
# Topology: two_hosts in tests/lib/netns.sh (vm1 - a ==== b - vm2).
. "$(dirname "$0")/../lib/netns.sh"

for mode in aead none; do
	P=bt$(printf '%04x' $((RANDOM % 65536)))
	two_hosts "$mode"
	wait_for 5 session_up a b || fail "$mode: session a->b not up"
	wait_for 5 session_up b a || fail "$mode: session b->a not up"
	nsx "$P-vm1" ping -c 3 -i 0.2 -W 2 198.19.1.2 >"$WORK/ping.out" ||
		{ cat "$WORK/ping.out"; fail "$mode: vm1 cannot ping vm2"; }
	# ARP resolved across the tunnel: vm1's neighbour entry holds vm2's MAC
	mac2=$(nsx "$P-vm2" cat /sys/class/net/eth0/address)
	nsx "$P-vm1" ip -j neigh show 198.19.1.2 | jq -e --arg m "$mac2" '.[0].lladdr == $m' >/dev/null ||
		fail "$mode: ARP entry for vm2 is not vm2's MAC $mac2"
	for h in a b; do
		peer=$([ $h = a ] && echo b || echo a)
		st=$(ctl $h status --json)
		echo "$st" | jq -e --arg p "$peer" --arg m "$mode" '.peers[] | select(.name==$p) |
			.state == "up" and .encryption == $m and .rx_frames >= 3 and .tx_frames >= 3 and
			.rx_bytes > 0 and .tx_bytes > 0 and .last_handshake != null' >/dev/null ||
			{ echo "$st"; fail "$mode: status of $h does not show an up session with traffic"; }
		cipher=$(echo "$st" | jq -r '.peers[0].cipher')
		if [ "$mode" = none ]; then [ "$cipher" = none ] || fail "none mode reports cipher $cipher"
		else [ "$cipher" != none ] || fail "aead mode reports cipher none"; fi
	done
	log "$mode: ping and ARP ok, cipher $(ctl a status --json | jq -r '.peers[0].cipher')"
	# the human form names the peer and the state
	ctl a status | grep -q "state: *up" || fail "human status lacks 'state: up'"
	# tear down this mode's topology before the next
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	PIDS=()
	for ns in "${NSS[@]}"; do ip netns del "$ns"; done
	NSS=()
	rm -f "$WORK"/*.sock "$WORK"/*.key
done
echo "ok"
