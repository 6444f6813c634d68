#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Scenario 4: a peer configured with the wrong public key gets no tunnel, a
# clear log line, and no traffic reaches the bridge.
# Topology: two_hosts, but b lists a random key for peer a.
. "$(dirname "$0")/../lib/netns.sh"
add_ns a; add_ns b
underlay a b
genkey a; genkey b; genkey stranger
{ node_conf a 198.18.0.1; printf '\n[Bridge br-dmz]\n\n[Peer b]\nPublicKey = %s\nEndpoint = 198.18.0.2:5880\nSegments = br-dmz\n' "$b_PUB"; } > "$WORK/a.conf"
{ node_conf b 198.18.0.2; printf '\n[Bridge br-dmz]\n\n[Peer a]\nPublicKey = %s\nEndpoint = none\nSegments = br-dmz\n' "$stranger_PUB"; } > "$WORK/b.conf"
start_bridged a
start_bridged b
vm a vm1 br-dmz 198.19.1.1/24
vm b vm2 br-dmz 198.19.1.2/24

# a keeps trying; b must refuse and say whose key it refused
wait_for 5 grep -q "handshake rejected.*$a_PUB" "$WORK/b.log" ||
	{ cat "$WORK/b.log"; fail "b did not log the rejected key of a"; }
log "b says: $(grep -m1 'handshake rejected' "$WORK/b.log" | sed 's/^[^:]*: //')"
if nsx "$P-vm1" ping -c 3 -i 0.3 -W 1 198.19.1.2 >/dev/null 2>&1; then fail "vm1 reached vm2 without a tunnel"; fi
[ "$(status_field a b state)" != up ] || fail "a reports a session"
[ "$(status_field b a state)" != up ] || fail "b reports a session"
tap=$(ctl b status --json | jq -r '.peers[0].tunnels[0].tap')
# frames that b's daemon writes into its TAP are the TAP's rx count
rxp=$(nsx "$P-b" ip -j -s link show "$tap" | jq '.[0].stats64.rx.packets')
[ "$rxp" -eq 0 ] || fail "$rxp frames reached b's bridge"
unk=$(ctl b status --json | jq '.node.drops.unknown_peer // .node.drops["unknown-peer"] // 0')
[ "$unk" -gt 0 ] || fail "b counted no unknown-peer drops"
# the reply rule: b sent no UDP back to a (a capture on b's underlay)
bg "$P-b" tcpdump --immediate-mode -i ul0 -nn -U -w "$WORK/b.pcap" udp and src 198.18.0.2 2>"$WORK/td.log"
TD=$BG_PID
wait_for 5 grep -q "listening on" "$WORK/td.log" || fail "tcpdump did not start"
a_tx0=$(nsx "$P-a" ip -j -s link show ul0 | jq '.[0].stats64.tx.packets')
sleep 1.5
kill "$TD"; wait "$TD" 2>/dev/null
a_tx1=$(nsx "$P-a" ip -j -s link show ul0 | jq '.[0].stats64.tx.packets')
replies=$(tcpdump -nn -r "$WORK/b.pcap" 2>/dev/null | wc -l)
log "in 1.5 s a sent $((a_tx1 - a_tx0)) packets to b; b answered with $replies UDP datagrams"
[ $((a_tx1 - a_tx0)) -ge 1 ] || fail "a did not retry its handshake: the reply check shows nothing"
[ "$replies" -eq 0 ] || fail "b answered the unknown peer ($replies datagrams)"
echo ok
