#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Super-frames through the tunnel (docs/PROTOCOL.md, Offloads): a TCP
# transfer of 48 MiB of random data from vm1 to vm2 arrives byte-identical
# (sha256) in every case, and the counters show which path it took:
#   aead, both ends Offload = auto: the session says gso on both sides, the
#     TAPs carry TSO offloads, vm1's super-frames are read whole on a and
#     written whole on b, UDP_SEGMENT sends several datagrams per call;
#   none, both auto: the same without encryption;
#   aead, b with Offload = off: no GSO either way (b announces none, so a
#     asks its TAP for no offload), every frame whole, no super-frame read;
#   then vm1 with its own offloads off (ethtool -K tso gso off): per packet,
#     no super-frame read although the tunnel could take them;
#   none, both auto, 1 % of the underlay's datagrams lost: intact, and a
#     lost datagram costs one segment (the super-frames go as segments).
# Topology: two_hosts in tests/lib/netns.sh (vm1 - a ==== b - vm2).
. "$(dirname "$0")/../lib/netns.sh"
command -v nc >/dev/null || skip "nc is not installed (make deps)"
MIB=48
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$WORK/send.bin"

# transfer NAME: vm1 -> vm2 over TCP, the received file's hash compared
transfer() { tcp_transfer "$1" "$WORK/send.bin"; }

# js HOST FILTER: jq on HOST's status
js() { ctl "$1" status --json | jq -r "$2"; }

# QSUM'(A; B)': sum of A over sum of B across the queues
QSUM='def ratio(a; b): ([.node.queues[] | a] | add) as $x | ([.node.queues[] | b] | add) as $y | if $y > 0 then $x / $y else 0 end; ratio'

gso_on() { [ "$(js a '.peers[0].gso')" = true ] && [ "$(js b '.peers[0].gso')" = true ]; }

for c in "aead auto" "none auto" "aead off"; do
	set -- $c
	enc=$1 boff=$2
	P=gs$(printf '%04x' $((RANDOM % 65536)))
	if [ "$boff" = off ]; then NODE_EXTRA_b="Offload = off"; else NODE_EXTRA_b=; fi
	two_hosts "$enc"
	wait_for 5 session_up a b || fail "$c: session a->b not up"
	wait_for 5 session_up b a || fail "$c: session b->a not up"
	# a session that came from a plain initiation (the first ones lost
	# while b was starting) is upgraded a second later
	[ "$boff" = off ] || wait_for 5 gso_on || fail "$c: no GSO after 5 s"
	transfer "$c"
	gso_a=$(js a '.peers[0].gso') gso_b=$(js b '.peers[0].gso')
	rd=$(js a '.peers[0].tunnels[0].offload.superframes_read')
	wr=$(js b '.peers[0].tunnels[0].offload.superframes_written')
	tapo=$(js a '.peers[0].tunnels[0].offload.tap')
	# summed over the queues (one per worker: the flow may be on any)
	dps=$(js a "$QSUM"'(.udp_sent_datagrams; .udp_send_calls)')
	dpm=$(js a "$QSUM"'(.udp_sent_datagrams; .udp_sent_messages)')
	udpseg=$(js a '.node.offloads.udp_segment')
	if [ "$boff" = auto ]; then
		[ "$gso_a" = true ] && [ "$gso_b" = true ] || fail "$c: gso a=$gso_a b=$gso_b, not both true"
		case " $tapo " in *" tso4 "*) ;; *) fail "$c: a's TAP offloads are '$tapo', no tso4" ;; esac
		[ "$rd" -gt 0 ] && [ "$wr" -gt 0 ] || fail "$c: super-frames read on a $rd, written on b $wr"
		if [ "$udpseg" = true ]; then
			awk -v d="$dpm" 'BEGIN { exit !(d > 2) }' || fail "$c: UDP_SEGMENT on, and $dpm datagrams per message"
		fi
	else
		[ "$gso_a" = false ] && [ "$gso_b" = false ] || fail "$c: gso a=$gso_a b=$gso_b with b's Offload = off"
		[ "$tapo" = none ] || fail "$c: a's TAP asks for '$tapo' though b takes no GSO frames"
		[ "$rd" -eq 0 ] && [ "$wr" -eq 0 ] || fail "$c: super-frames read $rd, written $wr with b's Offload = off"
		[ "$(js b '.node.offloads.mode')" = off ] && [ "$(js b '.node.offloads.udp_segment')" = false ] ||
			fail "$c: b's status does not say its offloads are off"
		[ "$(js b "$QSUM"'(.udp_sent_datagrams; .udp_sent_messages)')" = 1 ] ||
			fail "$c: b sends $(js b "$QSUM"'(.udp_sent_datagrams; .udp_sent_messages)') datagrams per message without UDP_SEGMENT"
	fi
	# the human status says the same
	ctl a status | grep -q "^  offloads:    $([ "$(js a '.node.offloads.mode')" = off ] && echo off || echo auto) (UDP_SEGMENT" ||
		fail "$c: the human status has no offloads line"
	ctl a status | grep -Eq "^  queue 0( \(CPU 0\))?: .* super-frames" || fail "$c: the human status has no queue line"
	log "$c: $MIB MiB intact; gso $gso_a, tap offloads '$tapo', super-frames read $rd / written $wr, $dps datagrams per send call, $dpm per message"
	if [ "$boff" = auto ] && [ "$enc" = aead ]; then
		# vm1 sends MTU-sized packets: nothing to coalesce, still intact
		nsx "$P-vm1" ethtool -K eth0 tso off gso off >/dev/null 2>&1 || fail "ethtool -K in vm1"
		rd0=$(js a '.peers[0].tunnels[0].offload.superframes_read')
		transfer "$c, vm1 offloads off"
		rd1=$(js a '.peers[0].tunnels[0].offload.superframes_read')
		[ "$rd1" -eq "$rd0" ] || fail "vm1 without offloads, and $((rd1 - rd0)) super-frames read"
		log "$c, vm1 offloads off: intact, no super-frame"
	fi
	teardown_hosts
done

# Under loss (docs/PROTOCOL.md, "Super-frames under loss"): each datagram
# arriving on either underlay dropped with 1 % probability, the underlay
# veths cutting UDP GSO trains into their datagrams (as a NIC puts them on
# a wire). The super-frames go as their segments, one datagram each, so a
# datagram lost costs TCP one segment, not a super-frame of 40: the
# transfer arrives intact, and the segments vm1 sends again stay within
# 12 per datagram lost on the way to b (sent whole: about 30).
P=gs$(printf '%04x' $((RANDOM % 65536)))
NODE_EXTRA_b=
two_hosts none
wait_for 5 session_up a b || fail "loss: session not up"
wait_for 5 gso_on || fail "loss: no GSO after 5 s"
for h in a b; do
	nsx "$P-$h" ethtool -K ul0 tx-udp-segmentation off >/dev/null 2>&1 || fail "ethtool -K ul0 on $h"
	nsx "$P-$h" iptables -A INPUT -i ul0 -p udp -m statistic --mode random --probability 0.01 -j DROP ||
		skip "iptables statistic match unavailable"
done
retrans() { nsx "$P-vm1" nstat -az TcpRetransSegs | awk '$1 == "TcpRetransSegs" { print $2 }'; }
r0=$(retrans)
transfer "1 % loss"
lost=$(nsx "$P-b" iptables -L INPUT -v -x -n | awk '/statistic/ { print $1 }')
resent=$(( $(retrans) - r0 ))
split=$(js a '.peers[0].tx_split_superframes') segs=$(js a '.peers[0].tx_split_segments')
log "1 % loss: $MIB MiB intact; $lost datagrams lost on the way to b, $resent segments sent again by vm1; $split super-frames sent as $segs segments"
[ "$split" -gt 0 ] || fail "loss: no super-frame sent as segments"
[ "$lost" -ge 20 ] || fail "loss: only $lost datagrams lost, the case shows nothing"
# (2-3 per datagram lost with a plain build, 5 seen under ASan, about 30
# when super-frames went whole)
[ "$resent" -le $((lost * 12 + 20)) ] || fail "loss: $resent segments resent for $lost datagrams lost: super-frames lost whole?"
ctl a status | grep -q "super-frames:   yes (both ends take GSO frames); $split sent as" ||
	ctl a status | grep -q "super-frames:   yes .*sent as .* segments" || fail "loss: the human status does not say super-frames go as segments"
teardown_hosts
echo "ok"
