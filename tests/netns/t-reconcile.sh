#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario 7: deleting the bridge or un-enslaving the TAP by hand; the daemon
# restores it within 1 s and says so in its log.
# Topology: two_hosts (vm1 - a ==== b - vm2).
. "$(dirname "$0")/../lib/netns.sh"
two_hosts aead
wait_for 5 session_up a b || fail "session not up"
tap=$(ctl a status --json | jq -r '.peers[0].tunnels[0].tap')

enslaved() { # HOST TAP BRIDGE
	nsx "$P-$1" ip -j link show "$2" | jq -e --arg b "$3" '.[0].master == $b and (.[0].flags | index("UP"))' >/dev/null
}
bridge_ok() {
	nsx "$P-a" ip -j -d link show br-dmz | jq -e '.[0].linkinfo.info_data.stp_state == 0 and
		.[0].linkinfo.info_data.forward_delay == 0 and (.[0].flags | index("UP"))' >/dev/null
}

enslaved a "$tap" br-dmz || fail "tap $tap not in br-dmz at start"
nsx "$P-a" ip link set "$tap" nomaster
ms=$(elapsed_ms enslaved a "$tap" br-dmz) || fail "tap not re-enslaved within 10 s"
log "un-enslaved $tap: back in br-dmz after $ms ms"
[ "$ms" -le 1000 ] || fail "re-enslaving took $ms ms"
grep -q "$tap was not in bridge br-dmz" "$WORK/a.log" || fail "no log line for the re-enslave"

nsx "$P-a" ip link del br-dmz
ms=$(elapsed_ms enslaved a "$tap" br-dmz) || fail "bridge not restored within 10 s"
log "deleted br-dmz: recreated with $tap in it after $ms ms"
[ "$ms" -le 1000 ] || fail "restoring the bridge took $ms ms"
bridge_ok || fail "recreated bridge lacks STP off / forward delay 0 / up"
grep -q "bridge br-dmz was missing" "$WORK/a.log" || fail "no log line for the bridge"

# the VM's port went with the deleted bridge: put it back, traffic flows again
nsx "$P-a" ip link set vn-vm1 master br-dmz up
nsx "$P-vm1" ping -c 2 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "no traffic after the repair"
echo ok
