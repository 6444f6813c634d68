#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A benchmark, not a test: what a lost datagram costs a single TCP flow
# through bridged with super-frames (Offload = auto: a lost datagram loses
# the whole super-frame, up to ~45 TCP segments) and without (Offload = off:
# one segment per datagram), in one run, interleaved, on the topology of the
# namespace tests (vm1 - a ==== b - vm2, Encryption = none), each underlay
# datagram lost with LOSSES percent probability in both directions (UDP GSO
# trains cut into datagrams first, as a NIC puts them on a wire).
#
#   make && tests/bench/gso-loss.sh            # LOSSES="0 0.01 0.1 1" REPS=3 SECS=5
#
# Prints a table: median Gbit/s (min-max) and TCP retransmissions per cell.
. "$(dirname "$0")/../lib/netns.sh"
command -v iperf3 >/dev/null || skip "iperf3 is not installed (make deps)"
LOSSES=${LOSSES:-0 0.01 0.1 1}
REPS=${REPS:-3}
SECS=${SECS:-5}
declare -A res

run_one() { # MODE LOSS -> "gbps retrans"
	local mode=$1 loss=$2 pid
	P=gl$(printf '%04x' $((RANDOM % 65536)))
	NODE_EXTRA="Offload = $mode" two_hosts none >/dev/null
	wait_for 5 session_up a b || fail "no session"
	# the wire: a UDP GSO train is cut into its datagrams on the way out
	# (the veth without UDP segmentation offload: the kernel does it, as
	# a NIC would), and each datagram is lost on the way in with the given
	# probability (an iptables statistic match: this kernel has no sch_netem)
	for h in a b; do
		nsx "$P-$h" ethtool -K ul0 tx-udp-segmentation off >/dev/null 2>&1 ||
			fail "ethtool -K ul0 tx-udp-segmentation off on $h"
		[ "$loss" = 0 ] || nsx "$P-$h" iptables -A INPUT -i ul0 -p udp -m statistic --mode random \
			--probability "$(awk -v l="$loss" 'BEGIN { printf "%.6f", l / 100 }')" -j DROP ||
			fail "iptables statistic on $h"
	done
	bg "$P-vm2" sh -c "exec iperf3 -s -1 -B 198.19.1.2 >/dev/null 2>&1"
	pid=$BG_PID
	wait_for 5 nsx "$P-vm2" sh -c "ss -ltn | grep -q ':5201'" || fail "iperf3 server"
	timeout $((SECS + 20)) ip netns exec "$P-vm1" iperf3 -c 198.19.1.2 -t "$SECS" -J >"$WORK/i.json" 2>/dev/null
	jq -r '"\(.end.sum_received.bits_per_second / 1e9) \(.end.sum_sent.retransmits)"' "$WORK/i.json" 2>/dev/null || echo "0 0"
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	PIDS=()
	for ns in "${NSS[@]}"; do ip netns del "$ns"; done
	NSS=()
	rm -f "$WORK"/*.sock "$WORK"/*.key "$WORK"/*.state
}

for r in $(seq "$REPS"); do
	for loss in $LOSSES; do
		for mode in auto off; do
			out=$(run_one "$mode" "$loss")
			res[$mode,$loss]+="$out;"
			echo "# round $r, loss $loss %, Offload = $mode: $out (Gbit/s, retransmits)" >&2
		done
	done
done

median() { tr ';' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f (%.2f-%.2f)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
echo "| underlay loss % | Offload = auto, Gbit/s | retrans | Offload = off, Gbit/s | retrans | auto / off |"
echo "|---|---|---|---|---|---|"
for loss in $LOSSES; do
	a=$(echo "${res[auto,$loss]}" | tr ';' '\n' | awk 'NF { print $1 }' | tr '\n' ';' | median)
	o=$(echo "${res[off,$loss]}" | tr ';' '\n' | awk 'NF { print $1 }' | tr '\n' ';' | median)
	ar=$(echo "${res[auto,$loss]}" | tr ';' '\n' | awk 'NF { print $2 }' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	orr=$(echo "${res[off,$loss]}" | tr ';' '\n' | awk 'NF { print $2 }' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	echo "| $loss | $a | $ar | $o | $orr | $(awk -v x="${a%% *}" -v y="${o%% *}" 'BEGIN { printf "%.2f", (y > 0) ? x / y : 0 }') |"
done
