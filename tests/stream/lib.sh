# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the disk stream scenarios (sourced, not run).
#
#   host a (sender)  ul0 198.18.0.1/24 ===veth=== 198.18.0.2/24 ul0  host b (receiver)
#
# Background processes are started with `ip netns exec` directly (it execs
# the tool, so $! is the tool's PID). Every name carries the per-run prefix $P; cleanup runs from an EXIT trap;
# processes are stopped by PID only; every wait is bounded in time.
set -u
TOP=${BRIDGED_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TOOL=${STREAM_TOOL:-$TOP/tests/stream/stream-tool}
PROXY=$TOP/tests/stream/flip-proxy
P=st$(printf '%04x' $((RANDOM % 65536)))
WORK=$(mktemp -d "/tmp/$P.XXXXXX")
PIDS=()
NSS=()
CLEANUP=()	# commands run first at exit (umount, losetup -d)
MiB=$((1024 * 1024))

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

log() { printf '# [%3ds] %s\n' "$SECONDS" "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; exit 1; }
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root"
[ -x "$TOOL" ] && [ -x "$PROXY" ] || fail "$TOOL or $PROXY not built (make tests)"
command -v jq >/dev/null || skip "jq missing"

cleanup() {
	local rc=$? pid ns c
	for c in "${CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK"/*.err >/dev/null 2>&1; then
		echo "sanitizer report:"
		grep -h -A 15 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK"/*.err | head -60
		[ $rc -eq 0 ] && rc=1
	fi
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		for f in "$WORK"/*.err "$WORK"/*.json; do [ -s "$f" ] && { echo "--- $f"; tail -n 5 "$f"; }; done
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# two_hosts: namespaces $P-a and $P-b joined by a veth, keys in $WORK
two_hosts() {
	local ns
	for ns in a b; do
		ip netns add "$P-$ns" || fail "ip netns add $P-$ns"
		NSS+=("$P-$ns")
		nsx "$P-$ns" ip link set lo up
	done
	ip link add ul0 netns "$P-a" type veth peer name ul0 netns "$P-b"
	nsx "$P-a" ip addr add 198.18.0.1/24 dev ul0
	nsx "$P-b" ip addr add 198.18.0.2/24 dev ul0
	nsx "$P-a" ip link set ul0 up
	nsx "$P-b" ip link set ul0 up
	(umask 077; "$TOOL" genkey >"$WORK/a.key"; "$TOOL" genkey >"$WORK/b.key")
	APUB=$("$TOOL" pubkey <"$WORK/a.key")
	BPUB=$("$TOOL" pubkey <"$WORK/b.key")
	PORT=5000
}

# rx NAME ARGS...: starts a receiver in b (background) listening on
# 198.18.0.2:$PORT, JSON to $WORK/NAME.json; sets RXPID.
rx() {
	local name=$1; shift
	ip netns exec "$P-b" "$TOOL" receive --listen "198.18.0.2:$PORT" --key "$WORK/b.key" --peer-key "$APUB" \
		--json "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" &
	RXPID=$!
	PIDS+=("$RXPID")
	wait_listen "$PORT"
}

# tx NAME ARGS...: runs a sender in a (foreground), JSON to $WORK/NAME.json;
# returns its exit status.
tx() {
	local name=$1; shift
	nsx "$P-a" "$TOOL" send --to "198.18.0.2:$PORT" --key "$WORK/a.key" --peer-key "$BPUB" \
		--json "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"
}

# txbg NAME ARGS...: the same in the background; sets TXPID.
txbg() {
	local name=$1; shift
	ip netns exec "$P-a" "$TOOL" send --to "198.18.0.2:$PORT" --key "$WORK/a.key" --peer-key "$BPUB" \
		--json "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" &
	TXPID=$!
	PIDS+=("$TXPID")
}

# wait_listen PORT [NS]: until something listens on PORT in NS (5 s)
wait_listen() {
	local port=$1 ns=${2:-$P-b}
	for _ in $(seq 100); do
		nsx "$ns" ss -Hltn "sport = :$port" | grep -q . && return 0
		sleep 0.05
	done
	fail "nothing listens on port $port in $ns"
}

# wait_pid PID SECONDS: waits for PID to end, returns its status (124 on timeout)
wait_pid() {
	local pid=$1 t=$2 i
	for ((i = 0; i < t * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid"; return $?; }
		sleep 0.05
	done
	return 124
}

# wait_done NAME BYTES [TRIES]: until NAME's last progress line says
# bytes_done >= BYTES (TRIES x 20 ms, default 400); sets DONE, fails after
wait_done() {
	local name=$1 at=$2 n=${3:-400} i
	for ((i = 0; i < n; i++)); do
		DONE=$(jq -r 'select(.event == "progress") | .bytes_done' "$WORK/$name.json" 2>/dev/null | tail -1)
		[ "${DONE:-0}" -ge "$at" ] && return 0
		sleep 0.02
	done
	fail "$name: the copy did not reach $at bytes"
}

# result NAME [FIELD]: a field (default: result) of NAME's final report
result() { jq -r "select(.event == \"result\") | .${2:-result}" "$WORK/$1.json"; }

# expect_verified NAME...: each run reported "verified"
expect_verified() {
	local n
	for n in "$@"; do
		[ "$(result "$n")" = verified ] || fail "$n: not verified: $(result "$n" message)"
	done
}

# same SRC DST [OFFSET]: DST holds SRC's exact bytes at OFFSET
same() {
	local src=$1 dst=$2 off=${3:-0} n
	n=$(stat -c %s "$src")
	cmp -n "$n" "$src" - < <(tail -c +$((off + 1)) "$dst") >/dev/null ||
		fail "$dst (at $off) differs from $src"
	[ "$(stat -c %s "$dst")" -ge $((off + n)) ] || fail "$dst too short"
}

# random_file PATH MIB
random_file() { head -c $(($2 * MiB)) /dev/urandom >"$1"; }
