#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# MAC-move watch: vm1's veth moves from a's bridge to b's bridge (a migrated
# VM): exactly one move event on a names vm1's MAC and the old and new ports,
# and no alarm. Then a MAC flapping between two ports raises the alarm.
#
#   before: vm1 - [br-dmz] a ==== b [br-dmz] - vm2
#   after:        [br-dmz] a ==== b [br-dmz] - vm2, vm1
#   flap:   f1, f2 (same MAC) on a's bridge, talking in turn
. "$(dirname "$0")/../lib/netns.sh"
two_hosts aead
wait_for 5 session_up a b || fail "session not up"
nsx "$P-vm1" ping -c 2 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "no initial traffic"
mac1=$(nsx "$P-vm1" cat /sys/class/net/eth0/address)
tap=$(ctl a status --json | jq -r '.peers[0].tunnels[0].tap')
events_bg a "$WORK/events-a.json"

# migrate vm1: its host-side veth end goes to b's bridge
ip -n "$P-a" link set vn-vm1 netns "$P-b"
nsx "$P-b" ip link set vn-vm1 master br-dmz up
# a VM that arrives announces itself (a booting guest ARPs, qemu sends
# RARPs after a live migration): a fresh ARP request is flooded to a. Without
# it vm1's unicast to vm2 would stay in b's bridge (the kernel flushes the
# ARP cache on the carrier loss today; this does not lean on that)
nsx "$P-vm1" ip neigh flush dev eth0
nsx "$P-vm1" ping -c 3 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "vm1 cannot talk after the move"
moved() { has_event "$WORK/events-a.json" ".type==\"mac-move\" and .mac==\"$mac1\""; }
wait_for 3 moved || { cat "$WORK/events-a.json"; fail "no mac-move event for $mac1"; }
sleep 1
n=$(jq -s --arg m "$mac1" '[.[] | select(.type=="mac-move" and .mac==$m)] | length' "$WORK/events-a.json")
ev=$(jq -c --arg m "$mac1" 'select(.type=="mac-move" and .mac==$m)' "$WORK/events-a.json" | head -1)
log "event: $ev"
[ "$n" -eq 1 ] || fail "$n move events for $mac1, expected exactly 1"
jq -e --arg t "$tap" '.from_port == "vn-vm1" and .to_port == $t' <<<"$ev" >/dev/null ||
	fail "the move event does not name vn-vm1 -> $tap"
has_event "$WORK/events-a.json" '.type=="mac-flap"' && fail "a single move raised an alarm"

# a flapping MAC: two namespaces with one MAC on two ports of a's bridge
for f in f1 f2; do
	add_ns $f
	ip link add eth0 netns "$P-$f" type veth peer name "vn-$f" netns "$P-a"
	nsx "$P-$f" ip link set eth0 address 02:00:00:00:fa:01
	nsx "$P-$f" ip addr add 198.19.1.$([ $f = f1 ] && echo 51 || echo 52)/24 dev eth0
	nsx "$P-$f" ip link set eth0 up
	nsx "$P-a" ip link set "vn-$f" master br-dmz up
done
for i in 1 2 3 4; do
	for f in f1 f2; do nsx "$P-$f" ping -c 1 -W 0.3 198.19.1.2 >/dev/null 2>&1 || true; done
done
wait_for 3 has_event "$WORK/events-a.json" '.type=="mac-flap" and .mac=="02:00:00:00:fa:01"' ||
	{ cat "$WORK/events-a.json"; fail "no mac-flap alarm"; }
grep -q "LOOP ALARM: MAC 02:00:00:00:fa:01 flapping" "$WORK/a.log" || fail "no alarm in the log"
echo ok
