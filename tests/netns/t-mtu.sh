#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario 2: full-size frames over a 1500-byte underlay. A 1472-byte
# don't-fragment ping passes VM to VM, and an underlay capture during a bulk
# transfer counts zero IP fragments (the protocol fragments by itself).
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
echo ok
