#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Loop guard at larger topologies: rings of 4, 5 and 6 hosts (a-b, b-c, ...,
# last-a) and a full mesh of 4, one segment (dmz), bridge br-dmz and a VM
# (198.19.1.<i>) on every host, underlay hub 198.18.0.<i>. SEGMENTS=2: two
# segments over the same tunnels, dmz (br-dmz, VM vm-<h> 198.19.1.<i>) and
# lan (br-lan, VM vm-<h>-lan 198.19.2.<i>), every peer with `Segments = dmz
# lan`: a TAP per (peer, segment), PEER.SEGMENT, each its own loop-guard
# port, so each segment must form its own tree; every assertion below holds
# on each segment. Each topology is
# formed FORMATIONS times, alternately
#   simultaneous: all daemons started at once (in the background), and
#   staggered:    one by one in a random order, 0-400 ms apart (seeded RNG:
#                 SEED=... replays the schedule; the seed is printed).
# Between formations every daemon is stopped (SIGTERM, by PID). On exit the
# daemon closes its TAPs and its probe port (they must be gone) and leaves
# the bridge; the test deletes the bridges, so that the next formation
# starts from scratch (the daemons create them again, the VM ports are put
# back). After each formation, once the guard settled (every session up, no
# port probing or down, the states unchanged for 0.7 s; at most CONVERGE_S
# seconds after the last daemon started; the convergence time is from that
# start to the first poll of the settled states):
#   1. exactly E - (N - 1) tunnels are blocked (ring 1, K4 3); a tunnel is
#      blocked when either end is; REQUIRE_BOTH_ENDS=1 (default) wants both
#      ends of each blocked tunnel blocked;
#   2. the tunnels forwarding at both ends form a spanning tree of the hosts;
#   3. a broadcast ping from every VM (in parallel) gets exactly one reply
#      from every other VM: two = a frame went round a loop, none = a host
#      is cut off. (`ping -b -w 1 -i 10`: one request, replies for 1 s;
#      with -c 1, ping would stop at the first reply, its own.)
# After the last formation of a topology the daemon of a host the tree needs
# (most forwarding tunnels, not an end of a blocked one: a blocked tunnel
# must re-open) is killed (SIGKILL); the others must settle again and reach
# each other within IdleKeepalive + DeadAfter + LoopRetryMax + 2 s (LoopRetryMin = 500ms,
# LoopRetryMax = 3s here).
# On the first failure: the guard state of every port, the loop-guard log
# lines of that formation, exit 1. One line per formation, one SUMMARY line
# per topology. About 2.5 min on 2 cores with the defaults.
#
# The topologies run side by side (one process each, own prefix and seed
# SEED+i; PARALLEL=0 runs them one after the other).
#
# Env: TOPOLOGIES (default "ring4 ring5 ring6 mesh4"; ringN/meshN, N 3..12;
# mesh12 is the site-scale case of docs/RELIABILITY.md: 66 tunnels, 55 blocked),
# FORMATIONS (per topology, alternately simultaneous and staggered; default
# 4; 20 or more as a soak), SEGMENTS (1 or 2, default 1), SEED, PARALLEL (default 1), REQUIRE_BOTH_ENDS (default 1), CONVERGE_S (default 10),
# KEEP_GOING=1 (go on after a failure and count them; still exit 1),
# KEEP_LOGS=DIR (on a failure, copy the daemon logs and configurations to
# DIR/<failure>-<topology>-<formation>/).
. "$(dirname "$0")/../lib/netns.sh"

TOPOLOGIES=${TOPOLOGIES:-ring4 ring5 ring6 mesh4}
FORMATIONS=${FORMATIONS:-3}  # 20 or more for a soak; 3 (12 formations, ~50 s under ASan) in make check
SEED=${SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
# a topology run side by side with others: the seed plus its index
[ -n "${SBS_INDEX:-}" ] && SEED=$((SEED + SBS_INDEX))
REQUIRE_BOTH_ENDS=${REQUIRE_BOTH_ENDS:-1}
CONVERGE_S=${CONVERGE_S:-10}
KEEP_GOING=${KEEP_GOING:-0}
SEGMENTS=${SEGMENTS:-1}
case $SEGMENTS in
1) SEGS=(dmz) ;;
2) SEGS=(dmz lan) ;;
*) fail "SEGMENTS=$SEGMENTS: 1 (dmz) or 2 (dmz and lan)" ;;
esac
declare -A SEGNET=([dmz]=1 [lan]=2)   # the VMs of segment S: 198.19.SEGNET[S].<i>/24
STABLE_MS=700                    # guard states unchanged this long: settled
CONFIRM_MS=10000                 # at most this long after the bound to see it so
RETRY_MIN_MS=500 RETRY_MAX_MS=3000
RANDOM=$SEED                     # the staggered schedules come from here only
log "seed $SEED (replay: SEED=$SEED FORMATIONS=$FORMATIONS TOPOLOGIES=\"$TOPOLOGIES\"${SEGS[1]:+ SEGMENTS=$SEGMENTS})"

# Side by side: one child per topology, each in its own namespaces, with
# the seed SEED + its index.
if [ "${PARALLEL:-1}" = 1 ] && [ -z "${SBS_INDEX:-}" ] && [ "$(wc -w <<<"$TOPOLOGIES")" -gt 1 ]; then
	export SEED FORMATIONS SEGMENTS
	side_by_side TOPOLOGIES $TOPOLOGIES
fi

ALL=(a b c d e f g h i j k l)
declare -A IDX=([a]=1 [b]=2 [c]=3 [d]=4 [e]=5 [f]=6 [g]=7 [h]=8 [i]=9 [j]=10 [k]=11 [l]=12)
declare -A PID=() OFF=() G=() UF=()
now_ms() { NOW=$(( ${EPOCHREALTIME/./} / 1000 )); }
# vmname SEGMENT HOST: the VM of HOST on SEGMENT (vm-a on dmz, vm-a-lan on lan)
vmname() { if [ "$1" = dmz ]; then echo "vm-$2"; else echo "vm-$2-$1"; fi; }

# topology NAME: TH = its hosts, TE = its tunnels "x-y" (x has the endpoint)
topology() {
	local n=${1#ring} x y
	n=${n#mesh}
	[[ $n =~ ^([3-9]|1[0-2])$ ]] || fail "unknown topology $1"
	TH=("${ALL[@]:0:n}") TE=()
	case $1 in
	ring*) for ((x = 0; x < n; x++)); do TE+=("${TH[x]}-${TH[(x + 1) % n]}"); done ;;
	mesh*) for ((x = 0; x < n; x++)); do for ((y = x + 1; y < n; y++)); do
			TE+=("${TH[x]}-${TH[y]}"); done; done ;;
	*) fail "unknown topology $1" ;;
	esac
}

maxn=3
for t in $TOPOLOGIES; do topology "$t"; [ ${#TH[@]} -gt "$maxn" ] && maxn=${#TH[@]}; done
# shellcheck disable=SC2034 # read by node_conf
NODE_EXTRA="LoopRetryMin = ${RETRY_MIN_MS}ms"$'\n'"LoopRetryMax = ${RETRY_MAX_MS}ms"
for h in "${ALL[@]:0:maxn}"; do
	add_ns "$h"
	underlay_hub "$h" "${IDX[$h]}"
	genkey "$h"
	for seg in "${SEGS[@]}"; do
		v=$(vmname "$seg" "$h")
		nsx "$P-$h" ip link add "br-$seg" type bridge   # for vm(); deleted before each formation
		vm "$h" "$v" "br-$seg" "198.19.${SEGNET[$seg]}.${IDX[$h]}/24"
		nsx "$P-$v" sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0
	done
	: >"$WORK/$h.log"
done

write_confs() {
	local h e x y pub seg
	for h in "${TH[@]}"; do
		{
			node_conf "$h" "198.18.0.${IDX[$h]}"
			for seg in "${SEGS[@]}"; do printf '\n[Bridge br-%s]\nSegment = %s\n' "$seg" "$seg"; done
			for e in "${TE[@]}"; do
				x=${e%-*} y=${e#*-}
				if [ "$x" = "$h" ]; then
					pub=${y}_PUB
					printf '\n[Peer %s]\nPublicKey = %s\nEndpoint = 198.18.0.%s:5880\nSegments = %s\n' \
						"$y" "${!pub}" "${IDX[$y]}" "${SEGS[*]}"
				elif [ "$y" = "$h" ]; then
					pub=${x}_PUB
					printf '\n[Peer %s]\nPublicKey = %s\nEndpoint = none\nSegments = %s\n' \
						"$x" "${!pub}" "${SEGS[*]}"
				fi
			done
		} >"$WORK/$h.conf"
	done
}

forget_pid() { local k; for k in "${!PIDS[@]}"; do [ "${PIDS[k]}" = "$1" ] && unset 'PIDS[k]'; done; }

launch() { # HOST: starts its daemon in the background, does not wait
	local h=$1
	rm -f "$WORK/$h.sock"
	ip netns exec "$P-$h" "$BRIDGED" -f -v -c "$WORK/$h.conf" >>"$WORK/$h.log" 2>&1 &
	PID[$h]=$!
	PIDS+=("$!")
}

reap() { # HOST: waits (bounded) for its daemon to exit, SIGKILL after 5 s
	local h=$1 pid=${PID[$1]}
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && { log "daemon on $h ignored SIGTERM for 5 s"; kill -9 "$pid"; }
	{ wait "$pid"; } 2>/dev/null
	forget_pid "$pid"
	unset 'PID[$h]'
}

# the daemon's devices in HOST: its TAPs (PEER.SEGMENT), its probe ports
# (BRIDGE.probe), the bridges (br-SEGMENT)
SEGRE=$(IFS='|'; echo "${SEGS[*]}")
devices() { nsx "$P-$1" ip -o link show | awk -F': ' '{ sub("@.*", "", $2); print $2 }' |
	grep -E "^(br-($SEGRE)|br-($SEGRE)\\.probe|[a-l]\\.($SEGRE))\$"; }
no_taps() { ! devices "$1" | grep -qvE "^br-($SEGRE)\$"; }
no_devices() { [ -z "$(devices "$1")" ]; }

stop_all() { # SIGTERM to every daemon, by PID; its TAPs must go with it
	local h
	for h in "${!PID[@]}"; do kill -TERM "${PID[$h]}" 2>/dev/null; done
	for h in "${!PID[@]}"; do reap "$h"; done
	for h in "${TH[@]}"; do
		wait_for 3 no_taps "$h" || fail "$h: TAP or probe port left after the daemon stopped: $(devices "$h" | xargs)"
	done
}

reset_hosts() { # no daemon, no bridge, no TAP: every formation starts from scratch
	local h seg
	stop_all
	for h in "${TH[@]}"; do
		for seg in "${SEGS[@]}"; do nsx "$P-$h" ip link del "br-$seg" 2>/dev/null; done
		wait_for 3 no_devices "$h" || fail "$h: devices left: $(devices "$h" | xargs)"
	done
}

# snapshot HOST...: "host peer session guard", one line per tunnel port
# (with SEGMENTS=2 "host peer session guard segment", a port per peer and
# segment); a
# port probing to retry its block counts as blocked (it forwards nothing, and
# a tunnel blocked at both ends retries every LoopRetryMax: docs/LOOPGUARD.md)
# The hosts are asked all at once, so that a snapshot spans one status
# request, not N in a row: a retry of a blocked tunnel (both ends probe for
# a few tens of ms every LoopRetryMax) caught by one of N sequential
# requests kept a loaded machine from ever seeing two equal snapshots.
snapshot() {
	local h pids=()
	for h; do
		{ ctl_raw "$h" status 2>/dev/null |
			jq -r --arg h "$h" --argjson seg "$((SEGMENTS > 1))" '.peers[] | . as $p | .tunnels[] |
				"\($h) \($p.name) \($p.state) \(if .retrying then "blocked" else .guard end)" +
				(if $seg == 1 then " \(.segment)" else "" end)' \
			>"$WORK/snap.$h" 2>/dev/null; } &
		pids+=($!)
	done
	wait "${pids[@]}"
	for h; do cat "$WORK/snap.$h"; done
}

# snap_ok SNAP: every port of the live hosts: session up and forwarding or
# blocked; ports to the DEAD host: down; all EXPECT_PORTS of them there
snap_ok() {
	local n=0 h p s g seg
	while read -r h p s g seg; do
		[ -n "$h" ] || continue
		if [ "$p" = "$DEAD" ]; then
			[ "$g" = down ] || return 1
		else
			[ "$s" = up ] || return 1
			[ "$g" = forwarding ] || [ "$g" = blocked ] || return 1
		fi
		n=$((n + 1))
	done <<<"$1"
	[ $n -eq "$EXPECT_PORTS" ]
}

# wait_converged BOUND_MS T0_MS HOST...: polls until a snapshot that is
# snap_ok (and, with WANT_TREE set, passes assertions 1 and 2) stayed the
# same for STABLE_MS; SNAP = it, CONV_MS = when it was first seen, from T0.
# Fails when none was first seen within BOUND_MS. A state first seen within
# the bound gets up to CONFIRM_MS more to prove itself stable: a snapshot of
# 12 daemons on a loaded machine takes long enough that the second one
# could come after BOUND_MS + STABLE_MS (CI: a converged state reported
# as "not back", with nothing wrong in it).
wait_converged() {
	local bound=$1 t0=$2 cand="" since=0 s
	shift 2
	while :; do
		now_ms
		s=$(snapshot "$@")
		SNAP=$s
		if snap_ok "$s" && { [ -z "$WANT_TREE" ] || [ -z "$(state_bad)" ]; }; then
			if [ "$s" != "$cand" ]; then
				cand=$s since=$NOW
			elif [ $((NOW - since)) -ge $STABLE_MS ]; then
				CONV_MS=$((since - t0))
				return 0
			fi
		else
			cand=""
		fi
		if [ -n "$cand" ] && [ $((since - t0)) -le "$bound" ]; then
			[ $((NOW - t0)) -le $((bound + STABLE_MS + CONFIRM_MS)) ] || return 1
		else
			[ $((NOW - t0)) -le $((bound + STABLE_MS)) ] || return 1
		fi
		[ -z "$cand" ] && [ $((NOW - t0)) -gt "$bound" ] && return 1
		sleep 0.1
	done
}

# analyse: from SNAP, per segment (analyse_seg), the tunnels between live
# hosts: BLK (blocked at one or both ends, with which), FWD (forwarding at
# both ends), CUT (live hosts without a forwarding tunnel); over all
# segments: BLK_ALL, FWD_ALL (a tunnel once per segment), INFO (all that, in
# words; with SEGMENTS=2 each segment's part begins with its name), BLKINFO
# (the blocked part of INFO), BRIEF
# (the counts per segment: tunnels blocked, ports blocked)
analyse() {
	local h p s g seg part
	G=()
	while read -r h p s g seg; do [ -n "$h" ] && G["$h $p ${seg:-dmz}"]=$g; done <<<"$SNAP"
	INFO="" BRIEF="" BLKINFO="" BLK_ALL=() FWD_ALL=()
	for seg in "${SEGS[@]}"; do
		analyse_seg "$seg"
		BLK_ALL+=("${BLK[@]}") FWD_ALL+=("${FWD[@]}")
		part="blocked: ${BLK[*]:-none}"
		BLKINFO+="${BLKINFO:+; }${SEGS[1]:+$seg }$part"
		[ ${#CUT[@]} -eq 0 ] || part+="; cut off: ${CUT[*]}"
		if [ ${#SEGS[@]} -gt 1 ]; then
			INFO+="${INFO:+; }$seg $part"
			BRIEF+="${BRIEF:+, }$seg: ${#BLK[@]} tunnels blocked ($((2 * ${#BLK[@]} - BLK_ONE)) ports"
			[ $BLK_ONE -eq 0 ] || BRIEF+=", $BLK_ONE at one end only"
			BRIEF+="), ${#FWD[@]} forwarding"
		else
			INFO=$part
		fi
	done
}

# analyse_seg SEGMENT: BLK, BLK_ONE, FWD, CUT of that segment, from G
analyse_seg() {
	local h e x y gx gy seg=$1
	BLK=() BLK_ONE=0 FWD=() CUT=()
	for e in "${TE[@]}"; do
		x=${e%-*} y=${e#*-}
		[ "$x" = "$DEAD" ] || [ "$y" = "$DEAD" ] && continue
		gx=${G["$x $y $seg"]:-none} gy=${G["$y $x $seg"]:-none}
		if [ "$gx" = blocked ] && [ "$gy" = blocked ]; then
			BLK+=("$x-$y(both ends)")
		elif [ "$gx" = blocked ] || [ "$gy" = blocked ]; then
			BLK+=("$x-$y(only at $([ "$gx" = blocked ] && echo "$x" || echo "$y"))")
			BLK_ONE=$((BLK_ONE + 1))
		elif [ "$gx" = forwarding ] && [ "$gy" = forwarding ]; then
			FWD+=("$e")
		fi
	done
	for h in "${LIVE[@]}"; do
		[[ " ${FWD[*]} " =~ [\ -]${h}[\ -] ]] || CUT+=("$h")
	done
}

uf_root() { R=$1; while [ "${UF[$R]}" != "$R" ]; do R=${UF[$R]}; done; }

# spanning: FWD connects all LIVE hosts with ${#LIVE[@]} - 1 tunnels
spanning() {
	local h e x roots=0
	UF=()
	for h in "${LIVE[@]}"; do UF[$h]=$h; done
	for e in "${FWD[@]}"; do
		uf_root "${e%-*}"; x=$R
		uf_root "${e#*-}"
		[ "$x" != "$R" ] && UF[$x]=$R
	done
	for h in "${LIVE[@]}"; do [ "${UF[$h]}" = "$h" ] && roots=$((roots + 1)); done
	[ $roots -eq 1 ] && [ ${#FWD[@]} -eq $((${#LIVE[@]} - 1)) ]
}

# ping_check: a broadcast ping from the VM of every LIVE host on every
# segment, all in parallel; every other live VM of that segment answers
# exactly once, nobody else answers
ping_check() {
	local h o pids=() p n src seg net v
	local -A cnt
	for seg in "${SEGS[@]}"; do
		for h in "${LIVE[@]}"; do
			ip netns exec "$P-$(vmname "$seg" "$h")" ping -n -b -w 1 -i 10 "198.19.${SEGNET[$seg]}.255" \
				>"$WORK/ping-$seg-$h.out" 2>&1 &
			pids+=("$!")
			PIDS+=("$!")
		done
	done
	for p in "${pids[@]}"; do wait "$p"; forget_pid "$p"; done
	PING_BAD=""
	for seg in "${SEGS[@]}"; do
		net=198.19.${SEGNET[$seg]}
		for h in "${LIVE[@]}"; do
			v=$(vmname "$seg" "$h")
			cnt=()
			while read -r src n; do cnt[$src]=$n; done < <(awk '/bytes from/ { sub(":", "", $4); c[$4]++ }
				END { for (a in c) print a, c[a] }' "$WORK/ping-$seg-$h.out")
			unset 'cnt[$net.${IDX[$h]}]'
			for o in "${LIVE[@]}"; do
				[ "$o" = "$h" ] && continue
				n=${cnt[$net.${IDX[$o]}]:-0}
				unset 'cnt[$net.${IDX[$o]}]'
				[ "$n" -eq 1 ] && continue
				if [ "$n" -eq 0 ]; then PING_BAD+=" $v got no reply from $(vmname "$seg" "$o");"
				else PING_BAD+=" $v got $n replies from $(vmname "$seg" "$o") (loop);"; fi
			done
			for src in "${!cnt[@]}"; do PING_BAD+=" $v got ${cnt[$src]} replies from $src (should be cut off);"; done
		done
	done
	[ -z "$PING_BAD" ]
}

# the guard of every port of every host, and the loop-guard log lines since
# the formation started
diagnose() {
	local h
	echo "guard states (host->peer${SEGS[1]:+.segment} session guard):"
	for h in "${TH[@]}"; do
		[ "$h" = "$DEAD" ] && { echo "  $h: daemon killed"; continue; }
		ctl "$h" status --json 2>/dev/null | jq -r --arg h "$h" --argjson seg "$((SEGMENTS > 1))" '.peers[] | . as $p | .tunnels[] as $t |
			"  \($h)->\(.name)\(if $seg == 1 then ".\($t.segment)" else "" end) \(.state) \($t.guard) since \($t.guard_since_s * 1000 | floor) ms, loops \($t.loops)" +
			(if $t.retry_in_s then ", retry in \($t.retry_in_s * 1000 | floor) ms" else "" end)' ||
			echo "  $h: no answer"
	done
	echo "loop guard log lines of this formation:"
	for h in "${TH[@]}"; do
		tail -c +$((${OFF[$h]:-0} + 1)) "$WORK/$h.log" |
			grep -E 'LOOP|-> blocked|blocked ->|-> forwarding|tunnel .* -> down' | tail -n $((40 * SEGMENTS)) | sed "s/^/  $h: /"
	done
	if [ -n "${KEEP_LOGS:-}" ]; then
		local dir=$KEEP_LOGS/$TOTAL_FAILS-$TOPO-$K
		mkdir -p "$dir" && cp "$WORK"/*.log "$WORK"/*.conf "$dir"/ &&
			echo "daemon logs and configurations copied to $dir"
	fi
}

CONV=() FAILS=0 TOTAL_FAILS=0 WANT_TREE="" DEAD="" LIVE=() EXPECT_PORTS=0 EXPECT_BLOCKED=0
TOPO="" K=0 MODE="" SCHED="" DONE=0 KILL_MSG=""
summary() { # TOPO: min/median/max of the convergence times
	local s=() med="-" min="-" max="-"
	if [ ${#CONV[@]} -gt 0 ]; then
		mapfile -t s < <(printf '%s\n' "${CONV[@]}" | sort -n)
		min=${s[0]} max=${s[-1]} med=${s[$(( ${#s[@]} / 2 ))]}
	fi
	printf 'SUMMARY %-6s formations %d (converged %d), convergence ms after the last start min/median/max %s/%s/%s, failures %d%s\n' \
		"$1" "$DONE" ${#CONV[@]} "$min" "$med" "$max" "$FAILS" "${KILL_MSG:-}"
}

failed() { # MESSAGE
	FAILS=$((FAILS + 1)) TOTAL_FAILS=$((TOTAL_FAILS + 1))
	echo "FAIL: $TOPO formation $K/$FORMATIONS ($MODE${SCHED:+: $SCHED}, seed $SEED): $*"
	diagnose
	if [ "$KEEP_GOING" != 1 ]; then
		summary "$TOPO"
		fail "$TOPO: $*"
	fi
}

# state_bad: assertions 1 and 2 on SNAP, on every segment (EXPECT_BLOCKED
# tunnels blocked, a spanning tree forwarding); prints what is wrong, if anything
state_bad() {
	local seg on=""
	analyse
	for seg in "${SEGS[@]}"; do
		analyse_seg "$seg"
		[ ${#SEGS[@]} -gt 1 ] && on="on $seg: "
		if [ ${#BLK[@]} -ne "$EXPECT_BLOCKED" ]; then
			echo "$on${#BLK[@]} tunnels blocked, expected $EXPECT_BLOCKED ($INFO)"
		elif [ "$REQUIRE_BOTH_ENDS" = 1 ] && [ $BLK_ONE -ne 0 ]; then
			echo "${on}a blocked tunnel is blocked at one end only ($INFO)"
		elif ! spanning; then
			echo "${on}the forwarding tunnels (${FWD[*]:-none}) are no spanning tree of ${LIVE[*]} ($INFO)"
		else
			continue
		fi
		return
	done
}

check_state() {
	local bad
	bad=$(state_bad)
	analyse   # state_bad ran in a subshell: INFO, BLK_ALL, FWD_ALL for here
	[ -z "$bad" ] || { failed "$bad"; return 1; }
}

# formation: one start of all daemons of the topology (MODE simultaneous or
# staggered) and the checks
formation() {
	local h order=("${TH[@]}") i j tmp gap t0 seg
	reset_hosts
	for h in "${TH[@]}"; do OFF[$h]=$(stat -c %s "$WORK/$h.log"); done
	SCHED=""
	if [ "$MODE" = simultaneous ]; then
		for h in "${TH[@]}"; do launch "$h"; done
	else
		for ((i = ${#order[@]} - 1; i > 0; i--)); do
			j=$((RANDOM % (i + 1)))
			tmp=${order[i]} order[i]=${order[j]} order[j]=$tmp
		done
		for ((i = 0; i < ${#order[@]}; i++)); do
			gap=0
			if [ $i -gt 0 ]; then
				gap=$((RANDOM % 401))
				sleep "$(printf '0.%03d' $gap)"
			fi
			launch "${order[i]}"
			SCHED+="${SCHED:+ }${order[i]}+${gap}ms"
		done
	fi
	now_ms; t0=$NOW
	for h in "${TH[@]}"; do
		wait_for 5 ctl_raw "$h" status || { failed "bridged on $h does not answer"; return 1; }
		for seg in "${SEGS[@]}"; do
			nsx "$P-$h" ip link set "vn-$(vmname "$seg" "$h")" master "br-$seg" up ||
				{ failed "$h: no bridge br-$seg"; return 1; }
		done
	done
	DEAD="" LIVE=("${TH[@]}") EXPECT_PORTS=$((2 * ${#TE[@]} * SEGMENTS))
	EXPECT_BLOCKED=$((${#TE[@]} - ${#TH[@]} + 1))
	WANT_TREE=""   # settled is settled: then the assertions
	if ! wait_converged $((CONVERGE_S * 1000)) "$t0" "${TH[@]}"; then
		analyse
		failed "not settled within $CONVERGE_S s ($BLKINFO; last poll: $(tr '\n' ',' <<<"$SNAP"))"
		return 1
	fi
	check_state || return 1
	ping_check || { failed "broadcast ping:$PING_BAD ($INFO)"; return 1; }
	CONV+=("$CONV_MS")
	log "$(printf '%-6s %2d/%d %-12s converged %5d ms, %s, pings ok%s' "$TOPO" "$K" "$FORMATIONS" \
		"$MODE" "$CONV_MS" "${BRIEF:-$INFO}" "${SCHED:+ (start: $SCHED)}")"
	return 0
}

# kill_one: SIGKILL the daemon of the host the forwarding tree needs most
# (most forwarding tunnels; not an end of a blocked tunnel), then the rest
# must re-converge to full reachability within IdleKeepalive + DeadAfter +
# LoopRetryMax + 2 s (an idle tunnel is declared dead IdleKeepalive + DeadAfter
# after its last packet)
kill_one() {
	local h e best="" bestscore=-1 score dead_after idle bound deg=0 t_kill
	for h in "${TH[@]}"; do
		score=0
		for e in "${FWD_ALL[@]}"; do [[ $e == "$h"-* || $e == *-"$h" ]] && score=$((score + 10)); done
		[[ " ${BLK_ALL[*]} " =~ [\ -]${h}[-\(] ]] || score=$((score + 1))
		[ $score -gt $bestscore ] && best=$h bestscore=$score
	done
	for e in "${TE[@]}"; do [[ $e == "$best"-* || $e == *-"$best" ]] && deg=$((deg + 1)); done
	LIVE0=${TH[0]}
	[ "$best" = "${TH[0]}" ] && LIVE0=${TH[1]}
	dead_after=$(ctl "$LIVE0" status --json | jq -r '.node.loop_guard.dead_after_ms')
	# an idle tunnel is declared dead IdleKeepalive + DeadAfter after its
	# last packet (docs/PROTOCOL.md, "Idle tunnels")
	idle=$(ctl "${LIVE0}" status --json | jq -r '.node.loop_guard.idle_keepalive_ms // 0')
	bound=$((dead_after + idle + RETRY_MAX_MS + 2000))
	K=kill MODE="kill -9 $best" SCHED=""
	for h in "${TH[@]}"; do OFF[$h]=$(stat -c %s "$WORK/$h.log"); done
	now_ms; t_kill=$NOW
	# (stderr: the shell's "Killed" notice when it reaps the daemon)
	{ kill -KILL "${PID[$best]}"; reap "$best"; } 2>/dev/null
	DEAD=$best LIVE=()
	for h in "${TH[@]}"; do [ "$h" != "$best" ] && LIVE+=("$h"); done
	EXPECT_PORTS=$(((2 * ${#TE[@]} - deg) * SEGMENTS))
	EXPECT_BLOCKED=$((${#TE[@]} - deg - ${#LIVE[@]} + 1))
	# a blocked tunnel that must re-open stays closed at one end until that
	# end's retry (up to LoopRetryMax): wait for the right state, bounded
	WANT_TREE=1
	if ! wait_converged "$bound" "$t_kill" "${LIVE[@]}"; then
		if snap_ok "$SNAP"; then
			failed "after kill -9 $best, the others are not back within $bound ms: $(state_bad)"
		else
			analyse
			failed "after kill -9 $best, the others did not settle within $bound ms ($BLKINFO; last poll: $(tr '\n' ',' <<<"$SNAP"))"
		fi
		return 1
	fi
	check_state || return 1
	ping_check || { failed "after kill -9 $best, broadcast ping:$PING_BAD ($INFO)"; return 1; }
	KILL_MSG=", kill -9 $best: re-converged in $CONV_MS ms (bound $bound ms)"
	log "$TOPO: killed $best (SIGKILL): the others re-converged in $CONV_MS ms (bound $bound), ${BRIEF:-$INFO}, pings ok"
	DEAD=""
}

t_all=$SECONDS
for TOPO in $TOPOLOGIES; do
	topology "$TOPO"
	write_confs
	log "$TOPO: hosts ${TH[*]}, tunnels ${TE[*]} (the first of each pair has the endpoint)"
	CONV=() FAILS=0 DONE=0 KILL_MSG="" ok=0
	for ((K = 1; K <= FORMATIONS; K++)); do
		if [ $((K % 2)) -eq 1 ]; then MODE=simultaneous; else MODE=staggered; fi
		DONE=$K
		formation && ok=1 || ok=0
	done
	if [ $ok = 1 ]; then kill_one; else log "$TOPO: last formation failed, no kill test"; fi
	summary "$TOPO"
	reset_hosts
done
log "$TOTAL_FAILS failure(s), $((SECONDS - t_all)) s"
[ $TOTAL_FAILS -eq 0 ] || fail "$TOTAL_FAILS failure(s) (seed $SEED)"
echo ok
