#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario 6: killing a peer daemon (SIGKILL) and starting it again: VM-to-VM
# traffic resumes within 2 s of its start, with no duplicate TAP left behind.
# Both sides in turn: b (listen-only) and a (the initiator).
# Topology: two_hosts (vm1 - a ==== b - vm2).
. "$(dirname "$0")/../lib/netns.sh"
two_hosts aead
wait_for 5 session_up a b || fail "session not up"
nsx "$P-vm1" ping -c 2 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "no initial ping"

# tunnel TAPs (the loop guard's probe port, "<bridge>.probe", is a TAP too)
ntaps() { nsx "$P-$1" ip -j -d link show | jq '[.[] | select(.linkinfo.info_kind == "tun" and (.ifname | endswith(".probe") | not))] | length'; }
ping1() { nsx "$P-vm1" ping -c 1 -W 1 198.19.1.2; }

for h in b a; do
	stop_bridged $h KILL
	wait_for 2 test "$(ntaps $h)" -eq 0 || fail "$h: TAP left behind after SIGKILL"
	rm -f "$WORK/$h.sock"
	t0=$(date +%s%N)
	start_bridged $h
	wait_for 10 ping1 || fail "no traffic 10 s after restarting $h"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	log "$h restarted: traffic resumed $ms ms after start"
	[ $ms -le 2000 ] || fail "$h: traffic resumed only after $ms ms"
	[ "$(ntaps $h)" -eq 1 ] || fail "$h: $(ntaps $h) TAP devices, expected 1"
done
echo ok
