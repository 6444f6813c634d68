#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Scenario 5: captured data packets replayed into b, and bit-flipped ones,
# are dropped and counted (replay, auth), and the tunnel keeps working.
# Topology: two_hosts aead; the attacker is a process in host a's namespace
# sending from another UDP port (udp-replay, tests/netns/udp-replay.c).
. "$(dirname "$0")/../lib/netns.sh"
REPLAY=$TOP/tests/netns/udp-replay
[ -x "$REPLAY" ] || fail "$REPLAY not built (make tests)"
two_hosts aead
wait_for 5 session_up a b || fail "session not up"

bg "$P-b" tcpdump --immediate-mode -i ul0 -nn -s 0 -U -w "$WORK/cap.pcap" src 198.18.0.1 and udp dst port 5880 2>"$WORK/td.log"
TD=$BG_PID
wait_for 5 grep -q "listening on" "$WORK/td.log" || fail "tcpdump did not start"
nsx "$P-vm1" ping -c 10 -i 0.05 -s 200 -W 2 198.19.1.2 >/dev/null || fail "ping failed"
sleep 0.2; kill "$TD"; wait "$TD" 2>/dev/null

drop() { ctl b status --json | jq --arg r "$1" '.peers[0].drops[$r] + .node.drops[$r]'; }
rep0=$(drop replay); auth0=$(drop auth)
# whatever gets through would reach vm2 as ICMP: watch for it
bg "$P-vm2" tcpdump --immediate-mode -i eth0 -nn -U -w "$WORK/vm2.pcap" icmp 2>"$WORK/td2.log"
TD2=$BG_PID
wait_for 5 grep -q "listening on" "$WORK/td2.log" || fail "tcpdump in vm2 did not start"

n=$(nsx "$P-a" "$REPLAY" "$WORK/cap.pcap" 198.18.0.2 5880 --min-len 200)
[ "$n" -ge 10 ] || fail "only $n data packets captured to replay"
wait_for 2 test "$(drop replay)" -ge $((rep0 + n)) || fail "replays counted: $(( $(drop replay) - rep0 )) of $n"
log "replayed $n packets: replay drops +$(( $(drop replay) - rep0 ))"

# flip a bit of the counter's top byte (offset 15): the header is the AEAD's
# additional data, so the packet must fail authentication, not pass as new
n2=$(nsx "$P-a" "$REPLAY" "$WORK/cap.pcap" 198.18.0.2 5880 --min-len 200 --flip 15)
wait_for 2 test "$(drop auth)" -ge $((auth0 + n2)) || fail "auth drops: $(( $(drop auth) - auth0 )) of $n2"
# flip a payload bit (offset 40): fails authentication (counter fresh? no: replay first) -> dropped either way
n3=$(nsx "$P-a" "$REPLAY" "$WORK/cap.pcap" 198.18.0.2 5880 --min-len 200 --flip 40)
sleep 0.3
log "flipped: auth drops +$(( $(drop auth) - auth0 )), replay drops +$(( $(drop replay) - rep0 ))"
kill "$TD2"; wait "$TD2" 2>/dev/null
leaked=$(tcpdump -nn -r "$WORK/vm2.pcap" 2>/dev/null | wc -l)
[ "$leaked" -eq 0 ] || fail "$leaked replayed or tampered ICMP packets reached vm2"
# the endpoint did not move to the attacker's port
ep=$(status_field b a endpoint)
[ "$ep" = "198.18.0.1:5880" ] || fail "endpoint moved to $ep"
nsx "$P-vm1" ping -c 3 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "tunnel broken after the attack"
echo ok
