#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# GRO on delivery (docs/PROTOCOL.md, "GRO on delivery"): with the VMs'
# offloads off on both ends of their veths (ethtool -K tso gso gro off, as
# the benchmarks' OFFLOAD=off) every TCP segment crosses the tunnel as its
# own frame; b coalesces them into super-frames for its TAP. For Workers = 1
# (frames held for the round) and Workers = 2 (write_later's buffer):
#   - 16 MiB of random data vm1 -> vm2 over IPv4 and 8 MiB over IPv6
#     arrive intact (sha256);
#   - b's status shows super-frames coalesced (gro_superframes, several
#     frames each) and written (tap_written_superframes, the port's
#     superframes_written), the human status the same;
#   - the sender's TCP retransmits little (TcpRetransSegs under 5 % of
#     TcpOutSegs): the super-frames are segmented back intact;
#   - 64-byte UDP datagrams (iperf3, 20 Mbit/s for 2 s) are coalesced
#     into UDP super-frames (USO), and arrive each once, in order (iperf3's
#     sequence numbers), at most half of them lost.
# Topology: two_hosts in tests/lib/netns.sh (vm1 - a ==== b - vm2); the
# VMs' IPv6 addresses from 2001:2::/48 (RFC 5180, benchmarking).
. "$(dirname "$0")/../lib/netns.sh"
command -v nc >/dev/null || skip "nc is not installed (make deps)"
command -v nstat >/dev/null || skip "nstat is not installed (iproute2)"
command -v ethtool >/dev/null || skip "ethtool is not installed (make deps)"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$WORK/send.bin"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$WORK/send6.bin"

js() { ctl "$1" status --json | jq -r "$2"; }
qsum() { js "$1" "[.node.queues[].$2] | add"; }

for WORKERS in 1 2; do
	P=gr$(printf '%04x' $((RANDOM % 65536)))
	two_hosts aead
	wait_for 10 session_up a b || fail "workers $WORKERS: no session a->b"
	wait_for 5 session_up b a || fail "workers $WORKERS: no session b->a"
	for x in "vm1 eth0" "a vn-vm1" "vm2 eth0" "b vn-vm2"; do
		set -- $x
		nsx "$P-$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || fail "ethtool -K $2 in $1"
	done
	# IPv6 in the VMs only (add_ns turns it off): no autoconfiguration
	for v in 1 2; do
		nsx "$P-vm$v" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 net.ipv6.conf.eth0.accept_ra=0 \
			net.ipv6.conf.eth0.autoconf=0
		nsx "$P-vm$v" ip -6 addr add 2001:2::$v/64 dev eth0 nodad
	done
	nsx "$P-vm1" nstat -n >/dev/null
	tcp_transfer "workers $WORKERS, IPv4" "$WORK/send.bin"
	g4=$(qsum b gro_superframes)
	tcp_transfer "workers $WORKERS, IPv6" "$WORK/send6.bin" vm1 vm2 2001:2::2
	gs=$(qsum b gro_superframes) gf=$(qsum b gro_frames) ws=$(qsum b tap_written_superframes)
	pw=$(js b '.peers[0].tunnels[0].offload.superframes_written')
	rd=$(js a '.peers[0].tunnels[0].offload.superframes_read')
	read -r out re < <(nsx "$P-vm1" nstat -az TcpOutSegs TcpRetransSegs | awk '
		$1 == "TcpOutSegs" { o = $2 } $1 == "TcpRetransSegs" { r = $2 } END { print o + 0, r + 0 }')
	log "workers $WORKERS: intact; b coalesced $gf frames into $gs super-frames ($g4 for IPv4), wrote $ws super-frames (port $pw); a read $rd; vm1 sent $out segments, $re retransmitted"
	[ "$rd" -eq 0 ] || fail "workers $WORKERS: a read $rd super-frames from vm1 with its offloads off"
	[ "$g4" -gt 0 ] && [ "$gs" -gt "$g4" ] || fail "workers $WORKERS: super-frames coalesced: $g4 for IPv4, $gs in all"
	[ "$gf" -gt $((2 * gs)) ] || fail "workers $WORKERS: $gf frames in $gs super-frames, not even 2 each"
	[ "$ws" -ge "$gs" ] && [ "$pw" -ge "$gs" ] || fail "workers $WORKERS: $gs coalesced, and $ws written ($pw on the port)"
	# (0 in most runs; 2.5 % once with Workers = 2 under ASan in CI: the
	# sender's TCP sees reordering now and then, cause not found yet; a
	# super-frame segmented back wrong would cost ~30 segments each)
	[ "$out" -gt 10000 ] && [ "$re" -le $((out / 20)) ] || fail "workers $WORKERS: $re of $out segments retransmitted"
	ctl b status | grep -Eq "^  queue 0( \(CPU 0\))?: .* of them coalesced from [0-9]* frames" ||
		fail "workers $WORKERS: the human status has no coalesced frames"
	# UDP: 64-byte datagrams coalesced into UDP super-frames where both
	# TAPs take them (USO); iperf3's sequence numbers in each datagram
	# say every one arrived once and in order
	if [ "$(js b '.node.offloads.uso')" = true ]; then
		g0=$(qsum b gro_superframes) f0=$(qsum b gro_frames)
		bg "$P-vm2" iperf3 -s -1 -B 198.19.1.2
		wait_for 5 nsx "$P-vm2" sh -c "ss -ltn | grep -q ':5201'" || fail "iperf3 server did not start"
		timeout 20 ip netns exec "$P-vm1" iperf3 -c 198.19.1.2 -u -l 64 -b 20M -t 2 -J >"$WORK/udp.json" ||
			fail "workers $WORKERS: iperf3 -u failed"
		read -r pk lost ooo < <(jq -r '[.end.sum.packets, .end.sum.lost_packets,
			([.intervals[].streams[].out_of_order // 0] | add // 0)] | @tsv' "$WORK/udp.json")
		gd=$(( $(qsum b gro_superframes) - g0 )) fd=$(( $(qsum b gro_frames) - f0 ))
		log "workers $WORKERS, UDP 64 B: $pk datagrams sent, $lost lost, $ooo out of order; b coalesced $fd frames into $gd super-frames"
		[ "$pk" -gt 10000 ] || fail "workers $WORKERS: only $pk UDP datagrams sent"
		[ "$ooo" -eq 0 ] || fail "workers $WORKERS: $ooo UDP datagrams out of order"
		# (what is lost is the machine's load: ASan daemons lose 10-20 %
		# of 64-byte datagrams at 40 Mbit/s on two shared cores)
		[ "$lost" -le $((pk / 2)) ] || fail "workers $WORKERS: $lost of $pk UDP datagrams lost"
		[ "$gd" -gt 0 ] && [ "$fd" -gt $((2 * gd)) ] ||
			fail "workers $WORKERS: UDP: $fd frames into $gd super-frames, not even 2 each"
	else
		log "workers $WORKERS: no USO on b's TAPs (a kernel before 6.2): UDP not coalesced, not tested"
	fi
	teardown_hosts
done
echo ok
