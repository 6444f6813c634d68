#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The data path's workers (Workers = 2, docs/CONFIG.md): multi-queue TAPs,
# one UDP socket per worker on the shared port.
#   - status says 2 workers and shows one entry per queue; with
#     Steering = cpu on 2 CPUs, worker i keeps to CPU i and status says so
#     (the flows below then run with the CPU steering, and b, Workers = 1,
#     is a sender whose thread moves between CPUs);
#   - 8 parallel TCP flows vm1 -> vm2: both of a's queues read frames from
#     the TAP (the flows are spread over the workers);
#   - one TCP flow: (almost) all of its frames go through one queue of a,
#     and the sender's TCP sees (next to) no reordering (nstat's
#     TcpExt*Reorder at most 1 % of the flow's frames: a flow split over the
#     workers would be reordered all the time; a loaded machine makes a few
#     spurious retransmissions, counted as reordering), the received bytes
#     are intact (sha256);
#   - Workers = 1 on b at the same time: the two work together, and b has
#     one queue.
# Topology: two_hosts in tests/lib/netns.sh (vm1 - a ==== b - vm2).
. "$(dirname "$0")/../lib/netns.sh"
command -v iperf3 >/dev/null || skip "iperf3 is not installed (make deps)"
command -v nstat >/dev/null || skip "nstat is not installed (iproute2)"
unset WORKERS
NODE_EXTRA_a=$'Workers = 2\nSteering = cpu'
NODE_EXTRA_b="Workers = 1"
two_hosts aead
wait_for 10 session_up a b || fail "no session"

js() { ctl "$1" status --json | jq -r "$2"; }
[ "$(js a '.node.workers')" = 2 ] || fail "a's status says $(js a '.node.workers') workers, not 2"
[ "$(js a '.node.queues | length')" = 2 ] || fail "a shows $(js a '.node.queues | length') queues, not 2"
[ "$(js b '.node.workers')" = 1 ] && [ "$(js b '.node.queues | length')" = 1 ] ||
	fail "b (Workers = 1) shows $(js b '.node.workers') workers, $(js b '.node.queues | length') queues"
[ "$(js a '.node.queues[1] | has("drops")')" = true ] || fail "a's queues have no drops counter"
ctl a status | grep -Eq "^  queue 1( \(CPU [0-9]+\))?: .* drops" || fail "the human status has no line for queue 1"
grep -q "data path: 2 workers" "$WORK/a.log" || fail "a did not log its 2 workers"
# Steering = cpu when the 2 workers have CPUs 0 and 1 to themselves:
# worker i keeps to CPU i (its thread's affinity) and says so
if [ "$(nproc)" = 2 ] && grep -q "^Cpus_allowed_list:[[:space:]]*0-1$" /proc/self/status; then
	[ "$(js a '.node.steering')" = cpu ] || fail "a steers by $(js a '.node.steering'), not cpu"
	[ "$(js a '[.node.queues[].cpu] | join(",")')" = "0,1" ] ||
		fail "a's queues keep to CPUs $(js a '[.node.queues[].cpu] | join(",")'), not 0,1"
	pinned=$(grep -h "^Cpus_allowed_list" /proc/"$a_PID"/task/*/status | awk '{print $2}' | sort | tr '\n' ' ')
	case "$pinned" in *"0 "*"1 "*) ;; *) fail "a's threads keep to CPUs: $pinned (no worker on 0 and 1)" ;; esac
	ctl a status | grep -q "^  workers:     2, steering by CPU" || fail "the human status does not say CPU steering"
	ctl a status | grep -Eq "^  queue 1 \(CPU 1\): " || fail "the human status does not say queue 1's CPU"
else
	log "not 2 CPUs 0-1 here: steering by hash expected"
	[ "$(js a '.node.steering')" = hash ] || fail "a steers by $(js a '.node.steering'), not hash"
fi
[ "$(js b '.node.steering')" = none ] || fail "b (Workers = 1) steers by $(js b '.node.steering')"

frames() { js a "[.node.queues[].tap_frames] | join(\" \")"; }

# several flows: both queues read from the TAP
read -r f0 f1 <<<"$(frames)"
bg "$P-vm2" iperf3 -s -1 -B 198.19.1.2 >/dev/null 2>&1
wait_for 5 nsx "$P-vm2" sh -c "ss -ltn | grep -q ':5201'" || fail "iperf3 server did not start"
timeout 30 ip netns exec "$P-vm1" iperf3 -c 198.19.1.2 -t 3 -P 8 -J >"$WORK/par.json" || fail "iperf3 -P 8 failed"
read -r g0 g1 <<<"$(frames)"
d0=$((g0 - f0)) d1=$((g1 - f1))
log "8 flows: queue 0 read $d0 frames, queue 1 $d1 ($(jq -r '.end.sum_received.bits_per_second / 1e9' "$WORK/par.json") Gbit/s)"
[ "$d0" -gt 100 ] && [ "$d1" -gt 100 ] || fail "8 flows went through one queue: $d0 and $d1 frames"

# one flow: one queue, in order
nsx "$P-vm1" nstat -n >/dev/null   # resets nstat's history for this netns
head -c $((32 * 1024 * 1024)) /dev/urandom >"$WORK/send.bin"
read -r f0 f1 <<<"$(frames)"
tcp_transfer "one flow" "$WORK/send.bin"
read -r g0 g1 <<<"$(frames)"
d0=$((g0 - f0)) d1=$((g1 - f1))
reorder=$(nsx "$P-vm1" nstat -az 2>/dev/null | awk '$1 ~ /^TcpExtTCP.*Reorder$/ { s += $2 } END { print s + 0 }')
retrans=$(nsx "$P-vm1" nstat -az 2>/dev/null | awk '$1 == "TcpRetransSegs" { print $2 + 0 }')
log "one flow: queue 0 read $d0 frames, queue 1 $d1; sender's reorder events: $reorder, retransmitted segments: ${retrans:-?}"
big=$((d0 > d1 ? d0 : d1)) small=$((d0 > d1 ? d1 : d0))
[ "$big" -gt 100 ] || fail "one flow: only $big frames read on its queue"
# the few that may stray: the flow's first frames (before its other
# direction was written to its queue), ARP, loop-guard probes
[ "$small" -le $((big / 50 + 20)) ] || fail "one flow read on both queues: $d0 and $d1 frames"
# A flow split over the workers would be reordered all the time; a loaded
# machine (CI beside other jobs) makes a few spurious retransmissions, which
# TCP counts as reordering too (TcpExtTCPTSReorder: the original arrived).
[ $((reorder * 100)) -le "$big" ] ||
	fail "the sender saw $reorder reordering events on a clean path ($retrans segments retransmitted)"
echo ok
