#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Health: 5 % loss on the underlay from a to b (iptables statistic match:
# this kernel has no sch_netem); b's reported loss over a 10 s window is
# within 2 points of 5 %.
# Topology: two_hosts (vm1 - a ==== b - vm2).
. "$(dirname "$0")/../lib/netns.sh"
command -v iptables >/dev/null || skip "iptables missing"
two_hosts aead
wait_for 5 session_up a b || fail "session not up"
nsx "$P-a" iptables -A OUTPUT -o ul0 -p udp --dport 5880 -m statistic --mode random --probability 0.05 -j DROP ||
	skip "iptables statistic match unavailable"
# traffic for a good sample: 100 pings per second for 10 s
nsx "$P-vm1" ping -q -c 1000 -i 0.01 -W 1 198.19.1.2 > "$WORK/ping.out" 2>&1 || true
loss=$(ctl b status --json | jq '.peers[0].loss_pct')
log "b reports $loss % loss (ping saw: $(grep -o '[0-9.]*% packet loss' "$WORK/ping.out"))"
[ "$loss" != null ] || fail "no loss figure"
awk -v l="$loss" 'BEGIN { exit !(l >= 3 && l <= 7) }' || fail "reported loss $loss % is not within 2 points of 5 %"
echo ok
