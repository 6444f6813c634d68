#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Chaos soak (issue 14, docs/RELIABILITY.md): two VMs exchange a paced TCP
# stream of a known pseudo-random sequence and a ping through bridged while,
# at seeded random intervals, the peer daemon is kill -9'd and restarted,
# the underlay goes down and up, 20 % loss bursts of 2 s, SIGHUP reloads
# with and without a change, the tunnel port is pulled from its bridge, the
# bridge is deleted, the underlay MTU drops to 1280 and back.
# Pass: the stream arrives byte-identical; each disruption is recovered
# within 2 s of its end (daemon events and ping); the daemons' RSS and open
# descriptors after are within a small bound of before; no sanitizer report.
# SOAK_SECONDS (default 45) of chaos; SOAK_SEED replays a run.
# Topology: two_hosts (vm1 - a ==== b - vm2).
# ASan keeps freed memory in a quarantine (256 MiB by default), which would
# show as RSS growth: a 1 MiB one keeps the RSS comparison meaningful.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:quarantine_size_mb=1}
. "$(dirname "$0")/../lib/netns.sh"
for t in iptables socat openssl cmp stdbuf; do
	command -v $t >/dev/null || skip "$t missing"
done

SOAK_SECONDS=${SOAK_SECONDS:-45}
[ -n "${SOAK_KEEP:-}" ] && on_cleanup 'mkdir -p "$SOAK_KEEP" && cp -a "$WORK"/. "$SOAK_KEEP"/ && rm -f "$SOAK_KEEP"/*.bin "$SOAK_KEEP"/*.key' # keep the logs
SOAK_SEED=${SOAK_SEED:-$(( $(date +%s%N) % 1000000 ))}
RECOVER_MS=${RECOVER_MS:-2000}    # each disruption recovered within this of its end
FD_SLACK=${FD_SLACK:-0}           # open descriptors after may exceed before by this
RSS_SLACK_KB=${RSS_SLACK_KB:-8192} # RSS after may exceed before by this (KiB)
RATE=262144                       # stream: bytes per second
CHUNK=32768                       # bytes per write of the pacer
log "soak: SOAK_SECONDS=$SOAK_SECONDS SOAK_SEED=$SOAK_SEED (replay: SOAK_SEED=$SOAK_SEED SOAK_SECONDS=$SOAK_SECONDS bash $0)"

# the seeded generator (an LCG: the same seed gives the same disruptions)
rng=$SOAK_SEED
rnd() { # N: R = a number in [0, N)
	rng=$(( (rng * 1103515245 + 12345) % 2147483648 ))
	R=$(( (rng / 65536) % $1 ))
}
now() { echo "${EPOCHREALTIME}"; }               # wall clock, as the events' "time"
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

two_hosts aead
wait_for 10 session_up a b || fail "session a->b not up"
wait_for 10 session_up b a || fail "session b->a not up"
nsx "$P-vm1" ping -c 2 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "no initial ping"
tap_a=$(ctl a status --json | jq -r '.peers[0].tunnels[0].tap')
tap_b=$(ctl b status --json | jq -r '.peers[0].tunnels[0].tap')

events_to() { # HOST: (re)subscribes to HOST's events, appending to $WORK/ev-HOST.json
	"$BRIDGECTL" --socket "$WORK/$1.sock" events --json >> "$WORK/ev-$1.json" 2>/dev/null &
	PIDS+=($!)
	eval "EV_$1=$!"
}
events_to a; events_to b

# ---- the stream: SOAK_SECONDS + 4 s of a known sequence, paced ----------------
size=$(( RATE * (SOAK_SECONDS + 4) / CHUNK * CHUNK ))
key=$(printf '%032x' "$SOAK_SEED")
head -c "$size" /dev/zero | openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000 > "$WORK/tx.bin" ||
	fail "cannot generate the sequence"
tx_sum=$(sha256sum < "$WORK/tx.bin" | cut -d' ' -f1)
bg "$P-vm2" socat -u TCP-LISTEN:7001,bind=198.19.1.2,reuseaddr "CREATE:$WORK/rx.bin"
RX_PID=$BG_PID
wait_for 5 nsx "$P-vm2" sh -c "ss -ltn | grep -q ':7001 '" || fail "receiver did not start"
pacer() { # writes tx.bin to stdout, CHUNK by CHUNK, at RATE (catching up after a stall)
	local i n=$(( size / CHUNK )) t0 due now d
	t0=${EPOCHREALTIME/./}
	for ((i = 0; i < n; i++)); do
		due=$(( t0 + i * CHUNK * 1000000 / RATE ))
		now=${EPOCHREALTIME/./}
		d=$(( due - now ))
		[ $d -gt 0 ] && sleep "$((d / 1000000)).$(printf '%06d' $((d % 1000000)))"
		dd if="$WORK/tx.bin" bs=$CHUNK skip=$i count=1 status=none || return 1
	done
}
mkfifo "$WORK/tx.fifo"
bg "$P-vm1" socat -u "OPEN:$WORK/tx.fifo" TCP:198.19.1.2:7001,connect-timeout=5
TX_PID=$BG_PID
pacer > "$WORK/tx.fifo" &
PACER_PID=$!
PIDS+=($PACER_PID)
# the ping: every 50 ms, stamped, for the whole soak
ip netns exec "$P-vm1" stdbuf -oL ping -D -i 0.05 -W 1 -w $((SOAK_SECONDS + 60)) 198.19.1.2 > "$WORK/ping.out" 2>&1 &
PING_PID=$!
PIDS+=($PING_PID)

# ---- resources before --------------------------------------------------------
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
sample() { # HOST: "FDS RSS" of HOST's daemon, the least of 5 looks 200 ms apart
	local pid f r fm=999999 rm=999999999
	eval "pid=\${${1}_PID}"
	for _ in 1 2 3 4 5; do
		f=$(fds "$pid"); r=$(rss "$pid")
		[ "$f" -lt "$fm" ] && fm=$f
		[ "$r" -lt "$rm" ] && rm=$r
		sleep 0.2
	done
	echo "$fm $rm"
}
sleep 3    # warm up: the stream and the ping running, ASan's quarantine filling
read -r fd_a0 rss_a0 <<<"$(sample a)"
read -r fd_b0 rss_b0 <<<"$(sample b)"
log "before: a ${fd_a0} fds ${rss_a0} KiB RSS; b ${fd_b0} fds ${rss_b0} KiB RSS"

# ---- disruptions ---------------------------------------------------------------
last_reply() { # the stamp of the ping's last reply
	grep 'bytes from' "$WORK/ping.out" | tail -n 1 | sed -n 's/^\[\([0-9.]*\)\].*/\1/p'
}
first_reply_after() { # T: the stamp of the ping's first reply after T
	sed -n 's/^\[\([0-9.]*\)\] .*bytes from.*/\1/p' "$WORK/ping.out" |
		awk -v t="$1" '$1 > t { print; exit }'
}
healthy_since() { # T: sessions up both ways with every port forwarding, a reply after T
	session_up a b && session_up b a &&
		awk -v r="$(last_reply)" -v t="$1" 'BEGIN { exit !(r != "" && r > t) }'
}
other() { [ "$1" = a ] && echo b || echo a; }
host_pid() { eval "echo \${${1}_PID}"; }

sv_on=0
toggle_sv() { # adds or removes segment br-sv on both hosts (a change for SIGHUP)
	local h
	for h in a b; do
		if [ $sv_on = 0 ]; then
			sed -i 's/^Segments = dmz$/Segments = dmz, br-sv/' "$WORK/$h.conf"
			printf '\n[Bridge br-sv]\n' >> "$WORK/$h.conf"
		else
			sed -i 's/^Segments = dmz, br-sv$/Segments = dmz/; /^\[Bridge br-sv\]$/d' "$WORK/$h.conf"
		fi
		"$BRIDGED" -n -c "$WORK/$h.conf" >/dev/null || fail "edited config of $h is invalid"
	done
	sv_on=$(( 1 - sv_on ))
}

# each disruption: sets WHAT (what was done) and T_END (when it ended)
d_kill() { # the peer daemon (b) kill -9'd, restarted after 0.2-2 s
	stop_bridged b KILL
	wait "$EV_b" 2>/dev/null; forget_pid "$EV_b"
	rnd 1800; sleep "0.$(printf '%03d' $((R / 2 + 100)))"; [ $R -ge 1000 ] && sleep 1
	rm -f "$WORK/b.sock"
	start_bridged b
	events_to b
	WHAT="kill -9 b, restarted"
	T_END=$(now)
}
d_linkdown() { # the underlay down for 0.3-2.3 s on one host
	rnd 2; local h; h=$([ $R = 0 ] && echo a || echo b)
	rnd 2000
	nsx "$P-$h" ip link set ul0 down
	sleep "$(( (R + 300) / 1000 )).$(printf '%03d' $(( (R + 300) % 1000 )))"
	nsx "$P-$h" ip link set ul0 up
	WHAT="ul0 down on $h for $((R + 300)) ms"
	T_END=$(now)
}
d_loss() { # 20 % loss both ways for 2 s
	local h
	for h in a b; do
		nsx "$P-$h" iptables -A OUTPUT -o ul0 -p udp --dport 5880 -m statistic --mode random \
			--probability 0.2 -j DROP || fail "iptables statistic match unavailable"
	done
	sleep 2
	for h in a b; do nsx "$P-$h" iptables -F OUTPUT; done
	WHAT="20 % loss for 2 s"
	T_END=$(now)
}
d_hup() { # SIGHUP, unchanged config, one host or both
	rnd 3
	case $R in
	0) kill -HUP "$a_PID"; WHAT="SIGHUP a (unchanged)" ;;
	1) kill -HUP "$b_PID"; WHAT="SIGHUP b (unchanged)" ;;
	2) kill -HUP "$a_PID" "$b_PID"; WHAT="SIGHUP a and b (unchanged)" ;;
	esac
	T_END=$(now)
}
d_hupchange() { # SIGHUP after adding or removing segment br-sv on both hosts
	toggle_sv
	kill -HUP "$a_PID" "$b_PID"
	WHAT="SIGHUP a and b, segment br-sv $([ $sv_on = 1 ] && echo added || echo removed)"
	T_END=$(now)
}
d_portpull() { # the tunnel port pulled out of br-dmz on one host
	rnd 2; local h tap; h=$([ $R = 0 ] && echo a || echo b)
	tap=$(ctl "$h" status --json | jq -r '.peers[0].tunnels[] | select(.segment=="dmz") | .tap')
	nsx "$P-$h" ip link set "$tap" nomaster
	WHAT="$tap pulled from br-dmz on $h"
	T_END=$(now)
}
d_bridgedel() { # br-dmz deleted on one host: bridged recreates it (with its
	# ports); the VM's port went with it, so "the hypervisor" puts it back
	rnd 2; local h vmif; h=$([ $R = 0 ] && echo a || echo b)
	vmif=$([ "$h" = a ] && echo vn-vm1 || echo vn-vm2)
	nsx "$P-$h" ip link del br-dmz
	wait_for 5 nsx "$P-$h" ip link show br-dmz || fail "bridged did not recreate br-dmz on $h"
	nsx "$P-$h" ip link set "$vmif" master br-dmz up
	WHAT="br-dmz deleted on $h, recreated"
	T_END=$(now)
}
d_mtu() { # the underlay MTU 1280 for 1-3 s
	rnd 2000
	local h
	for h in a b; do nsx "$P-$h" ip link set ul0 mtu 1280; done
	sleep "$(( (R + 1000) / 1000 )).$(printf '%03d' $(( (R + 1000) % 1000 )))"
	for h in a b; do nsx "$P-$h" ip link set ul0 mtu 1500; done
	WHAT="underlay MTU 1280 for $((R + 1000)) ms"
	T_END=$(now)
}
KINDS=(kill linkdown loss hup hupchange portpull bridgedel mtu)

# events-based recovery of one disruption: the last event bringing a tunnel
# up (from down or connecting) or a port to forwarding, from its start to
# now, after its end ("degraded -> up" is not one: it comes when the
# loss window has forgotten a loss burst, about 10 s later)
ev_recovery() { # T_START T_END T_LIMIT -> ms after T_END (0 when nothing came later)
	jq -s -r --argjson s "$1" --argjson e "$2" --argjson l "$3" '
		[.[] | select((.type == "tunnel-state" and .to == "up" and
				(.from == "down" or .from == "connecting")) or
			(.type == "port-state" and .to == "forwarding")) |
		 select(.time >= $s and .time <= $l) | .time] |
		(max // $e) | (. - $e) * 1000 | if . < 0 then 0 else floor end' \
		"$WORK/ev-a.json" "$WORK/ev-b.json"
}

t_chaos=$SECONDS
n=0 bad=0 queue=()
: > "$WORK/disruptions"
while [ $((SECONDS - t_chaos)) -lt "$SOAK_SECONDS" ]; do
	if [ ${#queue[@]} -eq 0 ]; then # a new round: every kind once, in a seeded order
		queue=("${KINDS[@]}")
		for ((i = ${#queue[@]} - 1; i > 0; i--)); do
			rnd $((i + 1)); x=${queue[$i]}; queue[$i]=${queue[$R]}; queue[$R]=$x
		done
	fi
	kind=${queue[0]}; queue=("${queue[@]:1}")
	rnd 1700; sleep "$(( (R + 300) / 1000 )).$(printf '%03d' $(( (R + 300) % 1000 )))"
	n=$((n + 1))
	T_START=$(now)
	"d_$kind"
	if wait_for 10 healthy_since "$T_END"; then
		T_OK=$(now)
		ping_ms=$(ms_between "$T_END" "$(first_reply_after "$T_END")")
		[ "$ping_ms" -lt 0 ] && ping_ms=0
	else
		T_OK=$(now); ping_ms=99999
	fi
	sleep 0.3 # late events
	ev_ms=$(ev_recovery "$T_START" "$T_END" "$(now)")
	verdict=ok
	{ [ "$ping_ms" -le "$RECOVER_MS" ] && [ "$ev_ms" -le "$RECOVER_MS" ]; } || { verdict=SLOW; bad=$((bad + 1)); }
	printf '%3d %4ds %-10s ping %5d ms  events %5d ms  %-4s %s\n' "$n" \
		$((SECONDS - t_chaos)) "$kind" "$ping_ms" "$ev_ms" "$verdict" "$WHAT" | tee -a "$WORK/disruptions"
	[ "$ping_ms" = 99999 ] && {
		ctl a status --json; ctl b status --json; tail -n 20 "$WORK/ping.out"
		fail "disruption $n ($WHAT) not recovered within 10 s"
	}
done
chaos_s=$((SECONDS - t_chaos))
if [ $sv_on = 1 ]; then # the same configuration as before, for the resources
	toggle_sv
	t=$(now)
	kill -HUP "$a_PID" "$b_PID"
	wait_for 10 healthy_since "$t" || fail "not recovered from removing br-sv at the end"
	log "segment br-sv removed again (the configuration of the start)"
fi

# ---- the stream arrives whole --------------------------------------------------
exited() { # PID: a child of this shell that exited (a zombie still answers kill -0)
	! kill -0 "$1" 2>/dev/null || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
wait_for 60 exited "$PACER_PID" || fail "the sender did not finish within 60 s of the chaos"
wait "$PACER_PID" || fail "the pacer failed (the sending socat died?)"
wait_for 30 exited "$RX_PID" || fail "the receiver did not see the end of the stream"
wait "$RX_PID" 2>/dev/null
rx_size=$(stat -c %s "$WORK/rx.bin")
rx_sum=$(sha256sum < "$WORK/rx.bin" | cut -d' ' -f1)
log "stream: sent $size bytes sha256 $tx_sum"
log "stream: got  $rx_size bytes sha256 $rx_sum"
if [ "$rx_sum" != "$tx_sum" ]; then
	cmp "$WORK/tx.bin" "$WORK/rx.bin" | head -3
	fail "the stream did not arrive byte-identical"
fi
kill -INT "$PING_PID" 2>/dev/null; wait "$PING_PID" 2>/dev/null; forget_pid "$PING_PID"
log "ping: $(grep -E 'transmitted' "$WORK/ping.out")"

# ---- resources after -------------------------------------------------------------
sleep 1
read -r fd_a1 rss_a1 <<<"$(sample a)"
read -r fd_b1 rss_b1 <<<"$(sample b)"
log "after:  a ${fd_a1} fds ${rss_a1} KiB RSS; b ${fd_b1} fds ${rss_b1} KiB RSS (b restarted $(grep -c 'kill -9' "$WORK/disruptions") times)"
log "$n disruptions in $chaos_s s, $bad recovered later than $RECOVER_MS ms"
# the path MTU followed down and back up (docs/PROTOCOL.md, "Path MTU")
log "path MTU changes followed: $(cat "$WORK"/a.log "$WORK"/b.log | grep -c ': path-mtu: ')"
res_bad=
for h in a b; do
	eval "f0=\$fd_${h}0 f1=\$fd_${h}1 r0=\$rss_${h}0 r1=\$rss_${h}1"
	[ "$f1" -le $((f0 + FD_SLACK)) ] || res_bad+=" $h: $f0 -> $f1 fds;"
	[ "$r1" -le $((r0 + RSS_SLACK_KB)) ] || res_bad+=" $h: RSS $r0 -> $r1 KiB;"
done
[ -z "$res_bad" ] || fail "resources grew beyond the bound ($FD_SLACK fds, $RSS_SLACK_KB KiB):$res_bad"
[ "$bad" -eq 0 ] || fail "$bad disruptions recovered later than $RECOVER_MS ms after their end"
# a TAP recreated under its name by a reload is no move of the MACs behind it
self=$(cat "$WORK"/a.log "$WORK"/b.log | grep -c -E 'MAC [0-9a-f:]+ moved from ([^ ]+) to \1$')
[ "$self" -eq 0 ] || fail "$self MAC moves from a port to itself (a recreated TAP) reported"

# ---- no sanitizer report: stop the daemons (LeakSanitizer runs at exit) -----------
stop_bridged a; stop_bridged b
if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK"/a.log "$WORK"/b.log; then
	fail "sanitizer report (the logs follow)"
fi
log "no sanitizer report; the whole test took $SECONDS s"
echo ok
