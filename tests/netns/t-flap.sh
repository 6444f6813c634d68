#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Underlay flap: the underlay goes down long enough for both ends to declare
# the tunnel down (DeadAfter), then up. Both tunnel ports come back at once,
# and the kernel re-enables a bridge port on every carrier change: a probe
# flooded through that window must not count as a loop (the chaos soak saw
# "loop through tunnels a->b, b->a" and a 2 s block). Five flaps: each time
# the VMs talk again within 2 s of the link coming up, and no port blocks.
# Topology: two_hosts (vm1 - a ==== b - vm2).
. "$(dirname "$0")/../lib/netns.sh"
two_hosts aead
wait_for 5 session_up a b || fail "session not up"
wait_for 5 session_up b a || fail "session b->a not up"
tap_b=$(ctl b status --json | jq -r '.peers[0].tunnels[0].tap')
ping1() { nsx "$P-vm1" ping -c 1 -W 0.3 198.19.1.2; }
# vm2 keeps talking: its ARP/IP traffic keeps the bridges busy during the flap
nsx "$P-vm2" ping -q -i 0.05 -w 40 198.19.1.1 >/dev/null 2>&1 &
PIDS+=($!)
worst=0
for i in 1 2 3 4 5; do
	h=$([ $((i % 2)) = 0 ] && echo a || echo b)
	nsx "$P-$h" ip link set ul0 down
	wait_for 3 sh -c "$BRIDGECTL --socket $WORK/a.sock status --json | jq -e '.peers[0].health == \"down\"'" ||
		fail "flap $i: a did not see the tunnel down"
	wait_for 3 sh -c "$BRIDGECTL --socket $WORK/b.sock status --json | jq -e '.peers[0].health == \"down\"'" ||
		fail "flap $i: b did not see the tunnel down"
	nsx "$P-$h" ip link set ul0 up
	# the kernel's re-enable, made certain: b's tunnel port forced to
	# forwarding every 10 ms for 0.6 s (the reconcile blocks it again)
	for _ in $(seq 60); do nsx "$P-b" bridge link set dev "$tap_b" state 3 2>/dev/null; sleep 0.01; done &
	FORCE=$!
	ms=$(elapsed_ms ping1) || fail "flap $i: no traffic 10 s after the underlay came up"
	log "flap $i (ul0 of $h): VMs talk again $ms ms after the underlay came up"
	[ "$ms" -gt "$worst" ] && worst=$ms
	wait "$FORCE"
	wait_for 3 session_up a b || fail "flap $i: ports of a not forwarding"
	wait_for 3 session_up b a || fail "flap $i: ports of b not forwarding"
done
if grep -h 'LOOP' "$WORK/a.log" "$WORK/b.log"; then
	fail "a loop was reported where there is none"
fi
[ "$worst" -le 2000 ] || fail "recovery took up to $worst ms"
echo ok
