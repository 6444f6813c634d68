#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Loop guard, layer 1: a second daemon with host b's key (host b2, another
# address) connecting to a is refused with a clear log line; the first
# session stays up and traffic never duplicates. A second daemon on the same
# host with the same configuration refuses to start.
#
#   vm1 - [br-dmz] a 198.18.0.1 --hub-- b 198.18.0.2 [br-dmz] - vm2
#                                  \--- b2 198.18.0.3 [br-dmz] - vm3 (b's key)
. "$(dirname "$0")/../lib/netns.sh"
for h in a b b2; do add_ns $h; done
underlay_hub a 1; underlay_hub b 2; underlay_hub b2 3
genkey a; genkey b
cp "$WORK/b.key" "$WORK/b2.key"
{ node_conf a 198.18.0.1; printf '\n[Bridge br-dmz]\n\n[Peer b]\nPublicKey = %s\nEndpoint = none\nSegments = br-dmz\n' "$b_PUB"; } > "$WORK/a.conf"
for h in b b2; do
	addr=198.18.0.2; [ $h = b2 ] && addr=198.18.0.3
	{ node_conf $h $addr; printf '\n[Bridge br-dmz]\n\n[Peer a]\nPublicKey = %s\nEndpoint = 198.18.0.1:5880\nSegments = br-dmz\n' "$a_PUB"; } > "$WORK/$h.conf"
done
start_bridged a
start_bridged b
vm a vm1 br-dmz 198.19.1.1/24
vm b vm2 br-dmz 198.19.1.2/24
wait_for 5 session_up a b || fail "session a-b not up"
hs=$(status_field a b handshakes)

start_bridged b2
vm b2 vm3 br-dmz 198.19.1.2/24     # the same address as vm2: any leak shows as DUP!
wait_for 5 grep -q "duplicate identity" "$WORK/a.log" || fail "a did not refuse the second daemon with b's key"
log "a says: $(grep -m1 'duplicate identity' "$WORK/a.log" | sed 's/^[^:]*: //')"
nsx "$P-vm1" ping -c 20 -i 0.1 -W 1 198.19.1.2 > "$WORK/ping.out" 2>&1 || fail "vm1 cannot reach vm2"
grep -q "DUP!" "$WORK/ping.out" && fail "duplicate replies: traffic went two ways"
grep -q " 0% packet loss" "$WORK/ping.out" || fail "packets lost while b2 knocked: $(grep loss "$WORK/ping.out")"
[ "$(status_field a b endpoint)" = "198.18.0.2:5880" ] || fail "a's session moved to $(status_field a b endpoint)"
[ "$(status_field a b handshakes)" = "$hs" ] || fail "a accepted another handshake"
[ "$(status_field b2 a state)" != up ] || fail "b2 got a session"

# a second daemon with a's configuration on a's host refuses to start
if ip netns exec "$P-a" "$BRIDGED" -f -c "$WORK/a.conf" > "$WORK/a2.log" 2>&1; then fail "a second daemon started"; fi
grep -q "another bridged already runs" "$WORK/a2.log" || { cat "$WORK/a2.log"; fail "no clear message from the second daemon"; }
[ "$(nsx "$P-a" ip -j link show | jq '[.[] | select(.ifname | startswith("b."))] | length')" -eq 1 ] ||
	fail "duplicate TAP devices on a"
echo ok
