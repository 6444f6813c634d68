#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One daemon with many configured peers, most of them dead (issue 14,
# "scale"): host a has N peers (default 200), one segment each (N TAPs in
# one bridge); peer b is alive on the other end of the underlay, the others
# are dead: half at b's address on a port where nothing listens (ICMP port
# unreachable comes back), half at an address nobody has (ARP fails).
# Prints: start-up time (exec to the first answered status), RSS after
# start and after SECONDS (20) idle, CPU used in those seconds, underlay
# packets sent per second (the dead peers' handshake retries, backed off to
# 5 s each), and the latency of `bridgectl status --json` (median and max of
# 10). A benchmark, not a test:
#   bash tests/bench/many-peers.sh [N] [SECONDS]
. "$(dirname "$0")/../lib/netns.sh"
N=${1:-200}
SECS=${2:-20}
add_ns a; add_ns b
underlay a b
genkey a; genkey b
dead_keys=()
for i in $(seq 3 "$N"); do
	dead_keys+=("$("$BRIDGECTL" genkey | "$BRIDGECTL" pubkey)")
done
{
	node_conf a 198.18.0.1
	printf '\n[Bridge br-dmz]\nSegment = dmz\n'
	printf '\n[Peer b]\nPublicKey = %s\nEndpoint = 198.18.0.2:5880\nSegments = dmz\n' "$b_PUB"
	i=0
	for k in "${dead_keys[@]}"; do
		i=$((i + 1))
		if [ $((i % 2)) = 0 ]; then ep=198.18.0.2:$((20000 + i)); else ep=198.18.0.$((100 + i % 100)):5880; fi
		printf '\n[Peer d%03d]\nPublicKey = %s\nEndpoint = %s\nSegments = dmz\n' "$i" "$k" "$ep"
	done
} > "$WORK/a.conf"
{
	node_conf b 198.18.0.2
	printf '\n[Bridge br-dmz]\nSegment = dmz\n\n[Peer a]\nPublicKey = %s\nEndpoint = none\nSegments = dmz\n' "$a_PUB"
} > "$WORK/b.conf"
start_bridged b
t0=$(date +%s%N)
start_bridged a
t1=$(date +%s%N)
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
up() { [ "$(status_field a b state)" = up ]; }
wait_for 10 up || fail "the live peer's session did not come up"
log "peers: $N configured ($((N - 1)) dead), $(ctl a status --json | jq '[.peers[].tunnels | length] | add') tunnel ports"
log "start-up: $(( (t1 - t0) / 1000000 )) ms from exec to the first answered status"
rss0=$(rss "$a_PID")
sleep 2
c0=$(cpu "$a_PID") p0=$(nsx "$P-a" ip -j -s link show ul0 | jq '.[0].stats64.tx.packets')
sleep "$SECS"
c1=$(cpu "$a_PID") p1=$(nsx "$P-a" ip -j -s link show ul0 | jq '.[0].stats64.tx.packets')
hz=$(getconf CLK_TCK)
log "RSS: $rss0 KiB after start, $(rss "$a_PID") KiB after ${SECS} s"
log "CPU at idle: $(awk -v c=$((c1 - c0)) -v h="$hz" -v s="$SECS" 'BEGIN { printf "%.2f %% of a core", 100 * c / h / s }')"
log "underlay packets sent: $(awk -v p=$((p1 - p0)) -v s="$SECS" 'BEGIN { printf "%.1f", p / s }') per second"
ms=()
for _ in $(seq 10); do
	s=$(date +%s%N)
	ctl a status --json > "$WORK/status.json" || fail "status failed"
	ms+=($(( ($(date +%s%N) - s) / 1000 )))
done
sorted=$(printf '%s\n' "${ms[@]}" | sort -n)
log "bridgectl status --json: median $(sed -n 5p <<<"$sorted") us, max $(tail -1 <<<"$sorted") us, $(wc -c < "$WORK/status.json") bytes"
[ "$(status_field a b state)" = up ] || fail "the live peer went down"
echo ok
