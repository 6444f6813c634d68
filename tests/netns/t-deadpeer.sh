#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Health and idle tunnels (docs/PROTOCOL.md, "Idle tunnels"):
#  - idle (no frames for 2 s): at most one packet per second each way on the
#    underlay, status says idle;
#  - the peer daemon killed (SIGKILL) while idle: a reports the tunnel down
#    and its TAP loses carrier within IdleKeepalive + DeadAfter (1.8 s, bound
#    2.3 s); restarted: up within 2 s;
#  - killed while a ping crosses: down within 1 s; restarted: up within 2 s.
# Events and metrics show it.
# Topology: two_hosts (vm1 - a ==== b - vm2), metrics on a.
. "$(dirname "$0")/../lib/netns.sh"
NODE_EXTRA="MetricsListen = 127.0.0.1:9587"$'\n'"MetricsFile = $WORK/a.prom"
two_hosts aead
unset NODE_EXTRA
wait_for 5 session_up a b || fail "session not up"
events_bg a "$WORK/events-a.json"
tap=$(ctl a status --json | jq -r '.peers[0].tunnels[0].tap')
down() {
	ctl a status --json | jq -e '.peers[0].health == "down" and .peers[0].carrier == false' >/dev/null &&
	! nsx "$P-a" ip -j link show "$tap" | jq -e '.[0].flags | index("LOWER_UP")' >/dev/null
}
up() { ctl a status --json | jq -e '.peers[0].health == "up" and .peers[0].carrier == true' >/dev/null; }
# times are taken from the daemon's own events (wall clock), so the
# polling of this script does not count
ev_time() { jq -s -r "[.[] | select($1)] | last | .time // empty" "$WORK/events-a.json"; }
ul() { nsx "$P-a" ip -j -s link show ul0 | jq ".[0].stats64.$1.packets"; }

# idle: one packet per second each way (IdleKeepalive 1 s), nothing else
nsx "$P-vm1" ping -c 2 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "no traffic across"
# the far VM confirms its new neighbour entry by a unicast ARP 5 s later
# (delay_first_probe_time): a frame, which ends an idle spell; let it pass
sleep 6
idle() { ctl a status --json | jq -e '.peers[0].idle == true' >/dev/null; }
wait_for 5 idle || fail "the tunnel is not idle 2 s after the last frame"
tx0=$(ul tx) rx0=$(ul rx)
sleep 6
tx=$(( $(ul tx) - tx0 )) rx=$(( $(ul rx) - rx0 ))
log "idle: $tx packets from a to b and $rx from b to a in 6 s"
[ "$tx" -le 7 ] && [ "$rx" -le 7 ] || fail "too chatty when idle: $tx out, $rx in over 6 s (at most 1/s each way)"
[ "$tx" -ge 4 ] && [ "$rx" -ge 4 ] || fail "idle keepalives missing: $tx out, $rx in over 6 s"
ctl a status | grep -q 'idle' || fail "bridgectl status does not say idle"

# killed while idle
t_kill=$(date +%s.%N)
stop_bridged b KILL
wait_for 4 down || fail "a did not see the idle peer die"
t_down=$(ev_time '.type=="tunnel-state" and .to=="down"')
[ -n "$t_down" ] || { cat "$WORK/events-a.json"; fail "no down event"; }
ms=$(awk -v a="$t_kill" -v b="$t_down" 'BEGIN { printf "%d", (b - a) * 1000 }')
log "idle peer killed: a reported down (carrier off) $ms ms later"
[ "$ms" -le 2300 ] || fail "dead-peer detection of an idle peer took $ms ms (bound IdleKeepalive + DeadAfter + 0.5 s)"
restart_b() {
	rm -f "$WORK/b.sock"
	t_start=$(date +%s.%N)
	start_bridged b
	wait_for 5 up || fail "the tunnel did not come back"
	t_up=$(ev_time '.type=="tunnel-state" and .to=="up"')
	ms=$(awk -v a="$t_start" -v b="$t_up" 'BEGIN { printf "%d", (b - a) * 1000 }')
	log "peer restarted: a reported up $ms ms after the start"
	[ "$ms" -le 2000 ] || fail "recovery took $ms ms"
	nsx "$P-vm1" ping -c 2 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "no traffic after recovery"
}
restart_b

# killed while traffic crosses: the 1 s bound
nsx "$P-vm1" ping -i 0.1 -w 20 198.19.1.2 >/dev/null 2>&1 &
PING=$!
PIDS+=("$PING")
sleep 1
[ "$(ctl a status --json | jq -r '.peers[0].idle')" = false ] || fail "a busy tunnel says idle"
t_kill=$(date +%s.%N)
stop_bridged b KILL
wait_for 3 down || fail "a did not see the peer die"
t_down=$(ev_time '.type=="tunnel-state" and .to=="down"')
ms=$(awk -v a="$t_kill" -v b="$t_down" 'BEGIN { printf "%d", (b - a) * 1000 }')
log "busy peer killed: a reported down (carrier off) $ms ms later"
[ "$ms" -le 1000 ] || fail "dead-peer detection took $ms ms"
kill "$PING" 2>/dev/null; wait "$PING" 2>/dev/null
restart_b
# metrics, over HTTP and in the textfile
page=$(ip netns exec "$P-a" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9587; printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3')
grep -q 'bridged_peer_health{peer="b",state="up"} 1' <<<"$page" || { echo "$page" | head; fail "metrics page lacks the peer's health"; }
grep -q '^bridged_peer_rtt_seconds{peer="b",stat="p99"}' <<<"$page" || fail "metrics page lacks RTT"
wait_for 3 grep -q 'bridged_port_guard{peer="b"' "$WORK/a.prom" || fail "no metrics textfile"
# idle connections to the metrics port must not stall the daemon: the
# same three status calls without them first, for what this machine's
# load costs (the scenarios run beside others, tests/run.sh's rows)
t0=$(date +%s%N)
for i in 1 2 3; do ctl a status --json >/dev/null || fail "status failed"; done
base=$(( ($(date +%s%N) - t0) / 3000000 ))
ip netns exec "$P-a" bash -c 'for i in 3 4 5 6 7; do eval "exec $i<>/dev/tcp/127.0.0.1/9587"; done; sleep 4' &
IDLE=$!
sleep 0.3
t0=$(date +%s%N)
for i in 1 2 3; do ctl a status --json >/dev/null || fail "status failed with idle metrics clients"; done
ms=$(( ($(date +%s%N) - t0) / 3000000 ))
kill "$IDLE" 2>/dev/null; wait "$IDLE" 2>/dev/null
log "status took $ms ms each with 5 idle metrics connections open, $base ms without"
# a stall holds the first call for the clients' 4 s (over 1.3 s each)
[ "$ms" -le $((base + 500)) ] || fail "idle metrics connections stall the daemon ($ms ms per status, $base without)"
[ "$(ctl a status --json | jq -r '.peers[0].health')" = up ] || fail "the tunnel suffered from idle clients"
echo ok
