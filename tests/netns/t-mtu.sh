#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario 2: full-size frames over a 1500-byte underlay. A 1472-byte
# don't-fragment ping passes VM to VM, and an underlay capture during
# full-size UDP datagrams and a bulk TCP transfer counts zero IP fragments
# (the protocol fragments by itself).
# Topology: two_hosts (vm1 - a ==== b - vm2), VM MTU 1500, underlay MTU 1500.
. "$(dirname "$0")/../lib/netns.sh"
two_hosts aead
wait_for 5 session_up a b || fail "session not up"

nsx "$P-vm1" ping -c 3 -i 0.2 -W 2 -M do -s 1472 198.19.1.2 > "$WORK/ping.out" ||
	{ cat "$WORK/ping.out"; fail "1472-byte DF ping did not pass"; }
log "1472-byte DF ping passes"

bg "$P-a" tcpdump --immediate-mode -i ul0 -nn -s 96 -U -w "$WORK/ul.pcap" udp or '(ip[6:2] & 0x3fff != 0)' 2>"$WORK/tcpdump.log"
TCPDUMP=$BG_PID
wait_for 5 grep -q "listening on" "$WORK/tcpdump.log" || fail "tcpdump did not start"
rx0=$(status_field b a rx_bytes)
# full-size frames first (1472-byte UDP datagrams: 1514-byte frames, each
# cut in two by the protocol), then TCP (its super-frames go as segments
# of at most one datagram each: docs/PROTOCOL.md, "Super-frames under loss")
bg "$P-vm2" iperf3 -s -1 -B 198.19.1.2 >/dev/null 2>&1
wait_for 5 nsx "$P-vm2" sh -c "ss -ltn | grep -q ':5201'" || fail "iperf3 server did not start"
timeout 20 ip netns exec "$P-vm1" iperf3 -c 198.19.1.2 -u -l 1472 -b 200M -t 1 -J > "$WORK/iperf-udp.json" ||
	fail "iperf3 -u failed"
bg "$P-vm2" iperf3 -s -1 -B 198.19.1.2 >/dev/null 2>&1
wait_for 5 nsx "$P-vm2" sh -c "ss -ltn | grep -q ':5201'" || fail "iperf3 server did not start"
timeout 20 ip netns exec "$P-vm1" iperf3 -c 198.19.1.2 -t 3 -J > "$WORK/iperf.json" || fail "iperf3 failed"
sleep 0.3
kill "$TCPDUMP"; wait "$TCPDUMP" 2>/dev/null
rx1=$(status_field b a rx_bytes)
total=$(tcpdump -nn -r "$WORK/ul.pcap" 2>/dev/null | wc -l)
frags=$(tcpdump -nn -r "$WORK/ul.pcap" 'ip[6:2] & 0x3fff != 0' 2>/dev/null | wc -l)
# the tunnel's own fragments: byte 3 of a data packet is its fragment count
tfrag=$(tcpdump -nn -r "$WORK/ul.pcap" 'udp port 5880 and udp[8] == 4 and udp[11] > 1' 2>/dev/null | wc -l)
gbps=$(jq '.end.sum_received.bits_per_second / 1e9' "$WORK/iperf.json")
log "bulk: $((rx1 - rx0)) bytes through the tunnel, $gbps Gbit/s; underlay: $total packets, $tfrag tunnel fragments, $frags IP fragments"
[ $((rx1 - rx0)) -gt 10000000 ] || fail "the bulk transfer moved less than 10 MB"
[ "$total" -gt 1000 ] || fail "capture saw only $total packets"
[ "$tfrag" -gt 100 ] || fail "only $tfrag tunnel fragments: full-size frames did not cross, the test shows nothing"
[ "$frags" -eq 0 ] || fail "$frags IP fragments on the underlay"

# The underlay MTU drops to 1280 mid-run (both ends of the link, as when the
# path changes) and comes back: 1472-byte DF pings every 50 ms go on
# through the change (the first datagram over the new MTU is refused,
# EMSGSIZE; the daemon reads the kernel's path MTU and cuts its fragments
# for it from the next frame), TCP moves data at 1280 without a single IP
# fragment, and the fragments grow back when the MTU does (netlink).
pmtu() { status_field "$1" "$2" path_mtu; }
pmtu_is() { [ "$(pmtu "$1" "$2")" = "$3" ]; }
too_big() { ctl "$1" status --json | jq '[.node.queues[].too_big] | add'; }
[ "$(pmtu a b)" = 1500 ] || fail "path MTU $(pmtu a b) before the drop, want 1500"
bg "$P-vm1" ping -D -n -i 0.05 -w 8 -M do -s 1472 198.19.1.2 >"$WORK/ping-pmtu.out" 2>&1
PING=$BG_PID
sleep 1.5
for h in a b; do nsx "$P-$h" ip link set ul0 mtu 1280; done
log "underlay MTU 1280 at both ends"
bg "$P-a" tcpdump --immediate-mode -i ul0 -nn -s 96 -U -w "$WORK/ul2.pcap" udp or '(ip[6:2] & 0x3fff != 0)' 2>"$WORK/tcpdump2.log"
TCPDUMP=$BG_PID
wait_for 5 grep -q "listening on" "$WORK/tcpdump2.log" || fail "tcpdump did not start"
bg "$P-vm2" iperf3 -s -1 -B 198.19.1.2 >/dev/null 2>&1
wait_for 5 nsx "$P-vm2" sh -c "ss -ltn | grep -q ':5201'" || fail "iperf3 server did not start"
# both ways: super-frames cut into full-size fragments, larger than 1280
timeout 20 ip netns exec "$P-vm1" iperf3 -c 198.19.1.2 -t 2 --bidir -J > "$WORK/iperf2.json" ||
	fail "iperf3 at MTU 1280 failed"
kill "$TCPDUMP"; wait "$TCPDUMP" 2>/dev/null
pmtu_is a b 1280 || fail "a: path MTU still $(pmtu a b) after the drop"
pmtu_is b a 1280 || fail "b: path MTU still $(pmtu b a) after the drop"
log "path MTU learnt: a $(pmtu a b), b $(pmtu b a); datagrams refused as too big: a $(too_big a), b $(too_big b)"
gbps=$(jq '[.end.sum_received.bits_per_second, .end.sum_received_bidir_reverse.bits_per_second] | min / 1e9' "$WORK/iperf2.json")
frags=$(tcpdump -nn -r "$WORK/ul2.pcap" 'ip[6:2] & 0x3fff != 0' 2>/dev/null | wc -l)
log "TCP at underlay MTU 1280: $gbps Gbit/s (the slower way), $frags IP fragments"
awk -v g="$gbps" 'BEGIN { exit !(g > 0.01) }' || fail "TCP at MTU 1280 moved $gbps Gbit/s: a black hole"
[ "$frags" -eq 0 ] || fail "$frags IP fragments on the underlay at MTU 1280"
for h in a b; do nsx "$P-$h" ip link set ul0 mtu 1500; done
log "underlay MTU back to 1500"
wait_for 3 pmtu_is a b 1500 || fail "a: path MTU $(pmtu a b) after the MTU came back, want 1500"
wait_for 3 pmtu_is b a 1500 || fail "b: path MTU $(pmtu b a) after the MTU came back, want 1500"
wait "$PING" 2>/dev/null
# the pings: how many were lost, and the longest time without an answer
read -r sent got gap < <(awk '/bytes from/ { split($1, t, /[][]/); if (last) { g = t[2] - last; if (g > max) max = g }
	last = t[2]; n++ } /transmitted/ { s = $1 } END { printf "%d %d %d\n", s, n, max * 1000 }' "$WORK/ping-pmtu.out")
log "1472-byte DF pings across both changes: $got of $sent answered, longest gap $gap ms"
[ "$((sent - got))" -le 4 ] || fail "$((sent - got)) of $sent pings lost across the MTU changes"
[ "$gap" -le 500 ] || fail "pings unanswered for $gap ms across the MTU changes"
echo ok
