#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Loop guard against a hostile VM: vm1 sniffs a probe and sends forged ones
# whose hop list points at the tunnel a-b; no port gets blocked and traffic
# flows. Also: deleting a bridge's probe port by hand, the daemon recreates
# it within 1 s and does not spin.
# Topology: two_hosts (vm1 - a ==== b - vm2).
. "$(dirname "$0")/../lib/netns.sh"
FORGE=$TOP/tests/netns/probe-forge
[ -x "$FORGE" ] || fail "$FORGE not built (make tests)"
two_hosts aead
wait_for 5 session_up a b || fail "session not up"
wait_for 5 session_up b a || fail "session not up"
# traffic, so that the tunnel is not idle: an idle tunnel's forwarding ports
# send no periodic probes (docs/PROTOCOL.md, "Idle tunnels"), and vm1
# would wait for one in vain (seen in CI on a loaded machine)
bg "$P-vm2" ping -q -i 0.1 -w 6 198.19.1.1
TRAFFIC=$BG_PID
nsx "$P-vm1" "$FORGE" eth0 || fail "vm1 saw no probe to forge from"
kill "$TRAFFIC" 2>/dev/null; wait "$TRAFFIC" 2>/dev/null
sleep 0.5
for h in a b; do
	peer=$([ $h = a ] && echo b || echo a)
	[ "$(port_guard $h $peer)" = forwarding ] || fail "a forged probe made $h block its port ($(port_guard $h $peer))"
done
grep -q "LOOP on segment" "$WORK/a.log" "$WORK/b.log" && fail "a forged probe was taken for a loop"
nsx "$P-vm1" ping -c 3 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "traffic broken after forged probes"

# the probe port deleted by hand comes back, and the daemon stays idle
nsx "$P-a" ip link del br-dmz.probe
back() { nsx "$P-a" ip -j link show br-dmz.probe | jq -e '.[0].master == "br-dmz"' >/dev/null; }
ms=$(elapsed_ms back) || fail "probe port not recreated"
log "probe port recreated after $ms ms"
[ "$ms" -le 1000 ] || fail "recreating the probe port took $ms ms"
t0=$(awk '{print $14 + $15}' "/proc/$a_PID/stat")
sleep 1
t1=$(awk '{print $14 + $15}' "/proc/$a_PID/stat")
log "daemon CPU over 1 s afterwards: $((t1 - t0)) ticks"
[ $((t1 - t0)) -le 20 ] || fail "the daemon spins ($((t1 - t0)) ticks in 1 s)"
echo ok
