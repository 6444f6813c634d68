# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the namespace scenarios (sourced, not run).
#
# Every name created carries the per-run prefix $P (namespaces, files);
# cleanup runs from an EXIT trap; daemons are stopped by PID only.
# Addresses: underlay 198.18.0.0/24, VMs 198.19.<segment>.0/24.

set -u
TOP=${BRIDGED_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BRIDGED=${BRIDGED:-$TOP/bridged/bridged}
BRIDGECTL=${BRIDGECTL:-$TOP/bridged/bridgectl}
P=${P:-bt$(printf '%04x' $((RANDOM % 65536)))}
WORK=$(mktemp -d "/tmp/$P.XXXXXX")
PIDS=()
NSS=()
_cleanup_hooks=()

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

log() { printf '# %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; exit 1; }
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root"
[ -x "$BRIDGED" ] || fail "$BRIDGED not built (make)"
# the daemons drop to the package's account after start-up (docs/SECURITY.md):
# every scenario runs that way, as a host with the package would
# (two scenarios may start at once, tests/run.sh's rows: a useradd that
# finds /etc/passwd locked by the other is tried again)
ensure_user() {
	local _i
	for _i in $(seq 20); do
		getent passwd bridged >/dev/null && return 0
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
			--user-group bridged 2>/dev/null || sleep 0.2
	done
	getent passwd bridged >/dev/null || fail "cannot create the system user bridged"
}
ensure_user

on_cleanup() { _cleanup_hooks+=("$*"); }

cleanup() {
	local rc=$? h pid ns
	for h in "${_cleanup_hooks[@]}"; do eval "$h" || true; done
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	# sanitizer reports of the daemons fail the test
	if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK"/*.log >/dev/null 2>&1; then
		echo "sanitizer report in daemon logs:"
		grep -h -A 15 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK"/*.log | head -60
		[ $rc -eq 0 ] && rc=1
	fi
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		for f in "$WORK"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# add_ns NAME: creates netns $P-NAME with lo up, prints nothing
add_ns() {
	local ns=$P-$1
	ip netns add "$ns" || fail "ip netns add $ns"
	NSS+=("$ns")
	# no IPv6: its autoconfiguration chatter would blur frame counts
	nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	nsx "$ns" ip link set lo up
}

# underlay H1 H2 [MTU]: veth between hosts, 198.18.0.1 and .2
underlay() {
	local a=$P-$1 b=$P-$2 mtu=${3:-1500}
	ip link add ul0 netns "$a" mtu "$mtu" type veth peer name ul0 netns "$b" mtu "$mtu"
	nsx "$a" ip addr add 198.18.0.1/24 dev ul0
	nsx "$b" ip addr add 198.18.0.2/24 dev ul0
	nsx "$a" ip link set ul0 up
	nsx "$b" ip link set ul0 up
}

# underlay_n H IDX: extra hosts for 3-host topologies: a shared underlay bridge
# (host "$P-ul") with each host at 198.18.0.IDX
underlay_hub() {
	local h=$P-$1 idx=$2
	if ! ip netns list | grep -qw "$P-ul"; then
		add_ns ul
		nsx "$P-ul" ip link add ulbr type bridge
		nsx "$P-ul" ip link set ulbr up
	fi
	ip link add "ul$idx" netns "$P-ul" type veth peer name ul0 netns "$h"
	nsx "$P-ul" ip link set "ul$idx" master ulbr up
	nsx "$h" ip addr add "198.18.0.$idx/24" dev ul0
	nsx "$h" ip link set ul0 up
}

# vm HOST VMNAME BRIDGE ADDR/LEN [MTU]: a "VM" namespace with one NIC, its
# other end enslaved to BRIDGE in HOST (the bridge must exist).
vm() {
	local h=$P-$1 v=$P-$2 br=$3 addr=$4 mtu=${5:-1500}
	add_ns "$2"
	ip link add eth0 netns "$v" mtu "$mtu" type veth peer name "vn-$2" netns "$h" mtu "$mtu"
	nsx "$v" ip addr add "$addr" dev eth0
	nsx "$v" ip link set eth0 up
	nsx "$h" ip link set "vn-$2" master "$br" up
}

# genkey NAME: writes $WORK/NAME.key (0600) and sets NAME_PUB
genkey() {
	(umask 077; "$BRIDGECTL" genkey > "$WORK/$1.key")
	eval "${1}_PUB=\$(\"\$BRIDGECTL\" pubkey < \"\$WORK/$1.key\")"
}

# start_bridged HOST [extra args]: runs bridged -f -c $WORK/HOST.conf in netns
# $P-HOST; its PID in HOST_PID, log in $WORK/HOST.log; waits for its socket.
start_bridged() {
	local h=$1; shift
	ip netns exec "$P-$h" "$BRIDGED" -f -v -c "$WORK/$h.conf" "$@" >>"$WORK/$h.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	eval "${h}_PID=$pid"
	wait_for 5 test -S "$WORK/$h.sock" || { cat "$WORK/$h.log"; fail "bridged on $h did not start"; }
	wait_for 5 ctl "$h" status --json >/dev/null || fail "bridged on $h does not answer"
	# BRIDGED_STRACE=DIR: the system calls made after start-up (with the
	# privileges dropped), for the seccomp allow-list (docs/SECURITY.md)
	if [ -n "${BRIDGED_STRACE:-}" ]; then
		strace -f -qq -o "$BRIDGED_STRACE/$P-$h.$pid" -p "$pid" &
		PIDS+=($!)
		sleep 0.3
	fi
}

stop_bridged() { # HOST [SIGNAL]
	local h=$1 sig=${2:-TERM} pid
	eval "pid=\${${h}_PID}"
	kill "-$sig" "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait "$pid" 2>/dev/null || true
	# reaped: the cleanup must not signal whoever gets the PID next
	kill -0 "$pid" 2>/dev/null || forget_pid "$pid"
}

forget_pid() { # PID: drop it from the cleanup list
	local keep=() x
	for x in "${PIDS[@]}"; do [ "$x" = "$1" ] || keep+=("$x"); done
	PIDS=(${keep[@]+"${keep[@]}"})
}

# children_reaped PID: waits (5 s) until the daemon PID has no child but its
# privileged helper (docs/SECURITY.md), and the helper none; else fails
children_reaped() {
	local pid=$1 helper
	helper=$(ps -o pid=,comm= --ppid "$pid" | awk '$2 == "bridged-priv" { print $1 }')
	wait_for 5 bash -c "[ -z \"\$(ps -o pid=,comm= --ppid $pid | grep -v bridged-priv)\" ]" ||
		fail "children left: $(ps --ppid "$pid")"
	[ -z "$helper" ] || wait_for 5 bash -c "[ -z \"\$(ps -o pid= --ppid $helper)\" ]" ||
		fail "root processes left: $(ps --ppid "$helper")"
}

ctl() { local h=$1; shift; "$BRIDGECTL" --socket "$WORK/$h.sock" "$@"; }

# ctl_raw HOST REQUEST: the daemon's answer to one control-socket request
# ("status" gives the JSON of status --json), through socat: for polling
# loops, where a sanitized bridgectl (about 0.14 s of CPU per run under
# ASan) polling several daemons every 100 ms starved the daemons it watched.
ctl_raw() { printf '%s\n' "$2" | socat -t 5 -T 5 - "UNIX-CONNECT:$WORK/$1.sock"; }

# status_field HOST PEER FIELD: one field of a peer in status --json
status_field() {
	ctl "$1" status --json | jq -r --arg p "$2" --arg f "$3" '.peers[] | select(.name==$p) | .[$f]'
}

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds
wait_for() {
	local t=$1; shift
	local end=$(( $(date +%s%N) + t * 1000000000 ))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# elapsed_ms CMD...: polls like wait_for (max 10 s) and prints how long it took
elapsed_ms() {
	local t0; t0=$(date +%s%N)
	wait_for 10 "$@" || { echo 99999; return 1; }
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

# conf HOST: writes $WORK/HOST.conf from stdin after a [Node] section
node_conf() { # HOST LISTEN_ADDR (NODE_EXTRA: lines for every host, NODE_EXTRA_HOST for one)
	local one="NODE_EXTRA_$1"
	cat <<EOC
[Node]
PrivateKeyFile = $WORK/$1.key
ListenAddress = $2
ListenPort = 5880
ControlSocket = $WORK/$1.sock
StateFile = $WORK/$1.state
${WORKERS:+Workers = $WORKERS}
${NODE_EXTRA:-}
${!one:-}
EOC
}

# two_hosts ENCRYPTION: the standard topology of the scenarios.
#
#   vm1 198.19.1.1                                   vm2 198.19.1.2
#    | veth                                            | veth
#   [br-dmz]--tap (bridged)   host a   ====ul0====   host b   (bridged) tap--[br-dmz]
#                       198.18.0.1/24  MTU 1500  198.18.0.2/24
#
# Host a has an endpoint for b; b is listen-only for a (Endpoint = none).
two_hosts() {
	local enc=${1:-aead}
	add_ns a; add_ns b
	underlay a b
	genkey a; genkey b
	{ node_conf a 198.18.0.1; cat <<EOC

[Bridge br-dmz]
Segment = dmz

[Peer b]
PublicKey = $b_PUB
Endpoint = 198.18.0.2:5880
Segments = dmz
Encryption = $enc
EOC
	} > "$WORK/a.conf"
	{ node_conf b 198.18.0.2; cat <<EOC

[Bridge br-dmz]
Segment = dmz

[Peer a]
PublicKey = $a_PUB
Endpoint = none
Segments = dmz
Encryption = $enc
EOC
	} > "$WORK/b.conf"
	start_bridged a
	start_bridged b
	vm a vm1 br-dmz 198.19.1.1/24
	vm b vm2 br-dmz 198.19.1.2/24
}

# teardown_hosts: stops the daemons and removes the namespaces (and the
# daemons' keys, sockets, state), for a scenario that runs two_hosts again.
teardown_hosts() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	PIDS=()
	for ns in "${NSS[@]}"; do ip netns del "$ns"; done
	NSS=()
	rm -f "$WORK"/*.sock "$WORK"/*.key "$WORK"/*.state
}

# tcp_transfer WHAT FILE [FROM TO ADDR]: FILE over TCP from netns FROM (vm1)
# to ADDR (198.19.1.2) in TO (vm2) with nc, the received copy's sha256
# compared with FILE's (fails naming WHAT).
tcp_transfer() {
	local what=$1 file=$2 from=${3:-vm1} to=${4:-vm2} addr=${5:-198.19.1.2} fam=-4 lpid want got
	case $addr in *:*) fam=-6 ;; esac
	rm -f "$WORK/recv.bin"
	bg "$P-$to" sh -c "exec nc $fam -l -d -p 5000 >'$WORK/recv.bin'" 2>/dev/null || true
	lpid=$BG_PID
	wait_for 5 nsx "$P-$to" sh -c "ss -ltn | grep -q ':5000 '" || fail "$what: the receiver did not listen"
	timeout 60 ip netns exec "$P-$from" nc -N -w 10 "$addr" 5000 <"$file" ||
		fail "$what: the sender failed (exit $?)"
	for _ in $(seq 100); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.1; done
	want=$(sha256sum <"$file" | cut -d' ' -f1)
	got=$(sha256sum <"$WORK/recv.bin" | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "$what: $(stat -c %s "$WORK/recv.bin") bytes arrived, sha256 $got, not $want"
}

# session_up HOST PEER: the session is up and every tunnel port forwards
session_up() {
	ctl "$1" status --json | jq -e --arg p "$2" '.peers[] | select(.name==$p) |
		.state == "up" and ([.tunnels[].guard] | all(. == "forwarding"))' >/dev/null
}

# bg NS CMD...: runs CMD in netns NS in the background; BG_PID is CMD's own
# PID (ip netns exec execs it), also recorded for cleanup.
bg() {
	local ns=$1; shift
	ip netns exec "$ns" "$@" &
	BG_PID=$!
	PIDS+=("$BG_PID")
}

# events_bg HOST FILE: `bridgectl events --json` of HOST into FILE, in the background
events_bg() {
	"$BRIDGECTL" --socket "$WORK/$1.sock" events --json > "$2" 2>&1 &
	PIDS+=($!)
	EVENTS_PID=$!
	# the hello line: the subscription is live (a loaded machine took
	# longer than the 0.2 s sleep that stood here, and an event was missed)
	wait_for 10 has_event "$2" '.type=="hello"' || fail "events of $1: no hello"
}

# port_guard HOST PEER: the loop-guard state of HOST's (first) tunnel port to PEER
port_guard() {
	ctl "$1" status --json | jq -r --arg p "$2" '.peers[] | select(.name==$p) | .tunnels[0].guard'
}

# has_event FILE EXPR: an event in FILE (JSON lines) matches the jq EXPR
# (jq 1.6's -e looks at the last input only, hence the slurp)
has_event() { jq -s -e "[.[] | select($2)] | length > 0" "$1" >/dev/null 2>&1; }

# pcap_has FILE N [FILTER]: the capture FILE (being written, tcpdump -U)
# holds at least N packets (matching FILTER): wait for it before stopping
# a capture, a loaded machine's tcpdump reads late
pcap_has() { [ "$(tcpdump -nn -r "$1" ${3:+"$3"} 2>/dev/null | wc -l)" -ge "$2" ]; }

# side_by_side VAR VALUE...: runs this script once per VALUE, all at the
# same time, each with VAR=VALUE and SBS_INDEX=i in its environment and its
# own name prefix (so its own namespaces); prints each one's output tagged
# with its VALUE, then exits: 0 when every one passed. The children see
# SBS_INDEX and must not call this again.
side_by_side() {
	local var=$1 i=0 rc=0 v kids=()
	shift
	for v in "$@"; do
		env "$var=$v" SBS_INDEX=$i P="$P$i" bash "$0" >"$WORK/sbs-$i.out" 2>&1 &
		kids+=($!)
		i=$((i + 1))
	done
	i=0
	for v in "$@"; do
		wait "${kids[$i]}" || rc=1
		sed "s/^/[$v] /" "$WORK/sbs-$i.out"
		i=$((i + 1))
	done
	[ $rc -eq 0 ] || fail "one of $var = $* failed"
	echo ok
	exit 0
}
