#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
#
# netcfg against the real kernel, in a network namespace of its own, through
# tests/netns/netcfg-tool. Exit 0 pass, 77 skip, anything else fail.
#
#   netns nct-<run>
#   +------------------------------------------------------------------+
#   |  br0 (created: STP 0, fwd 0, 198.18.10.1/24, MTU 1400, up)       |
#   |    +-- v2a ==veth== v2b       (enslave / release / port state)   |
#   |  br1 (made by "ip link", adopted)                                |
#   |    +-- v1a ==veth== v1b       (existing port: must stay)         |
#   |  cf0 ==veth== cf1             (name conflict: not a bridge)      |
#   |  br2 + v3a ==veth== v3b       (reconcile, loop-guard block)      |
#   +------------------------------------------------------------------+
#
# Only addresses from 198.18.0.0/15; everything lives and dies with the
# namespace; the watcher is stopped by its PID.
set -eu

TOP=${BRIDGED_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TOOL=$TOP/tests/netns/netcfg-tool

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || skip "needs root"
command -v ip >/dev/null && command -v bridge >/dev/null || skip "iproute2 missing"
command -v jq >/dev/null || skip "jq missing"
[ -x "$TOOL" ] || die "$TOOL not built (make tests)"

NS=nct-$$-$RANDOM
WORK=$(mktemp -d /tmp/t-netcfg.XXXXXX)
WATCH_PID=
cleanup() {
	if [ -n "$WATCH_PID" ]; then
		kill "$WATCH_PID" 2>/dev/null || true
		wait "$WATCH_PID" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS" || skip "cannot create a network namespace"

nsx() { ip netns exec "$NS" "$@"; }
tool() { nsx "$TOOL" "$@"; }
# jq on one link's "ip -j -d link show" object.
linkq() { nsx ip -j -d link show dev "$1" | jq -r ".[0] | $2"; }
portstate() { nsx bridge -j link show dev "$1" | jq -r '.[0].state'; }
expect() { # what got want
	[ "$2" = "$3" ] || die "$1: got '$2', want '$3'"
	ok "$1 = $3"
}
# Polls a command until it prints want (2 s at most): no fixed sleeps.
wait_for() { # what want cmd...
	local what=$1 want=$2 got= i
	shift 2
	for i in $(seq 100); do
		got=$("$@" 2>/dev/null) || true
		[ "$got" = "$want" ] && { ok "$what = $want"; return 0; }
		sleep 0.02
	done
	die "$what: got '$got', want '$want' (waited 2 s)"
}
must_fail() { # what cmd...
	local what=$1
	shift
	if "$@" >"$WORK/out" 2>&1; then
		die "$what: succeeded: $(cat "$WORK/out")"
	fi
	ok "$what: refused: $(tail -n1 "$WORK/out")"
}

nsx ip link set lo up

echo "== create a bridge"
tool ensure-bridge br0 0 0 198.18.10.1/24 1400
expect "br0 kind" "$(linkq br0 .linkinfo.info_kind)" bridge
expect "br0 stp_state" "$(linkq br0 .linkinfo.info_data.stp_state)" 0
expect "br0 forward_delay" "$(linkq br0 .linkinfo.info_data.forward_delay)" 0
expect "br0 mtu" "$(linkq br0 .mtu)" 1400
expect "br0 UP" "$(linkq br0 '.flags | index("UP") != null')" true
expect "br0 address" "$(nsx ip -j addr show dev br0 | jq -r '.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"')" 198.18.10.1/24
idx=$(linkq br0 .ifindex)

echo "== ensure again: idempotent, same bridge"
expect "ensure again" "$(tool ensure-bridge br0 0 0 198.18.10.1/24 1400)" "br0 ifindex=$idx"
expect "br0 addresses" "$(nsx ip -j addr show dev br0 | jq '[.[0].addr_info[] | select(.family == "inet")] | length')" 1

echo "== STP on with a delay, then off with delay 0 (kernel order: delay before STP)"
tool ensure-bridge br0 1 4 >/dev/null
expect "br0 stp_state" "$(linkq br0 .linkinfo.info_data.stp_state)" 1
expect "br0 forward_delay" "$(linkq br0 .linkinfo.info_data.forward_delay)" 400
tool ensure-bridge br0 0 0 >/dev/null
expect "br0 stp_state" "$(linkq br0 .linkinfo.info_data.stp_state)" 0
expect "br0 forward_delay" "$(linkq br0 .linkinfo.info_data.forward_delay)" 0
tool ensure-bridge br0 1 4 >/dev/null
must_fail "STP on with delay 1 s" tool ensure-bridge br0 1 1
tool ensure-bridge br0 0 0 >/dev/null

echo "== adopt an existing bridge that has a port"
nsx ip link add br1 type bridge
nsx ip link add v1a type veth peer name v1b
nsx ip link set v1a master br1
expect "br1 forward_delay before" "$(linkq br1 .linkinfo.info_data.forward_delay)" 1500
idx1=$(linkq br1 .ifindex)
expect "adopt br1" "$(tool ensure-bridge br1)" "br1 ifindex=$idx1"
expect "br1 forward_delay" "$(linkq br1 .linkinfo.info_data.forward_delay)" 0
expect "br1 UP" "$(linkq br1 '.flags | index("UP") != null')" true
expect "v1a still in br1" "$(linkq v1a .master)" br1

echo "== a name taken by a link of another kind"
nsx ip link add cf0 type veth peer name cf1
must_fail "ensure-bridge cf0" tool ensure-bridge cf0
grep -q "not a bridge" "$WORK/out" || die "no clear message: $(cat "$WORK/out")"
expect "cf0 kind untouched" "$(linkq cf0 .linkinfo.info_kind)" veth

echo "== enslave and release (a veth stands in for a TAP)"
nsx ip link add v2a type veth peer name v2b
tool enslave v2a br0
expect "v2a master" "$(linkq v2a .master)" br0
tool enslave v2a br0
ok "enslave again: no error"
expect "tool dump" "$(tool dump | awk '$1 == "v2a" { print $4 }')" master=br0
tool release v2a
expect "v2a master after release" "$(linkq v2a .master)" null
tool release v2a
ok "release again: no error"
tool enslave v2a br1
tool enslave v2a br0
expect "v2a moved br1 -> br0" "$(linkq v2a .master)" br0
must_fail "enslave into a veth" tool enslave v2b cf0

echo "== port state"
must_fail "state on a port that is down" tool port-state v2a forwarding
nsx ip link set v2a up
nsx ip link set v2b up
wait_for "v2a state" forwarding portstate v2a
tool port-state v2a blocking
# STP off: the kernel would re-elect BLOCKING to forwarding at once;
# netcfg applies it as DISABLED, which stays.
expect "v2a state after blocking" "$(portstate v2a)" disabled
expect "tool get v2a" "$(tool get v2a | sed 's/.* state=//')" disabled
tool port-state v2a blocking
ok "blocking again: no error"
tool port-state v2a forwarding
expect "v2a state" "$(portstate v2a)" forwarding
tool port-state v2a learning
expect "v2a state" "$(portstate v2a)" learning
tool port-state v2a forwarding
tool release v2a
must_fail "state on a released port" tool port-state v2a blocking

echo "== MTU and up/down"
tool set-mtu v2a 1280
expect "v2a mtu" "$(linkq v2a .mtu)" 1280
tool set-up v2a down
expect "v2a UP" "$(linkq v2a '.flags | index("UP") != null')" false
tool set-up v2a up
expect "v2a UP" "$(linkq v2a '.flags | index("UP") != null')" true

echo "== reconcile: create, enslave, block; then heal what the kernel undoes"
nsx ip link add v3a type veth peer name v3b
nsx ip link set v3b up
tool reconcile br2:v3a:blocked >"$WORK/rec"
cat "$WORK/rec"
expect "actions" "$(tr '\n' ' ' <"$WORK/rec")" "create-bridge br2 enslave v3a port-up v3a port-block v3a in sync "
expect "v3a master" "$(linkq v3a .master)" br2
expect "v3a state" "$(portstate v3a)" disabled
# A carrier flap: the kernel puts the port back to forwarding by itself.
nsx ip link set v3b down
wait_for "v3a state, carrier down" disabled portstate v3a
nsx ip link set v3b up
wait_for "v3a state, carrier back" forwarding portstate v3a
expect "reconcile after flap" "$(tool reconcile br2:v3a:blocked | tr '\n' ' ')" "port-block v3a in sync "
expect "v3a state" "$(portstate v3a)" disabled
# The bridge deleted under us: recreated, port back in, blocked again.
nsx ip link del br2
expect "reconcile after delete" "$(tool reconcile br2:v3a:blocked | tr '\n' ' ')" "create-bridge br2 enslave v3a port-block v3a in sync "
expect "v3a master" "$(linkq v3a .master)" br2
expect "v3a state" "$(portstate v3a)" disabled

echo "== notifications lost (ENOBUFS) read as a change"
expect "no events" "$(tool overflow 0)" changed=0
tool -v overflow 40 >"$WORK/ovf" 2>&1 || die "overflow: $(cat "$WORK/ovf")"
expect "after overflow" "$(grep '^changed=' "$WORK/ovf")" changed=1
grep -q "notifications lost" "$WORK/ovf" || die "no ENOBUFS seen: $(tail -n3 "$WORK/ovf")"
ok "ENOBUFS seen and reported as a change"

echo "== notifications: watch sees br0 deleted"
tool enslave v2a br0
tool watch 10 br0 >"$WORK/watch" 2>&1 &
WATCH_PID=$!
wait_for "watcher" ready head -n1 "$WORK/watch"
nsx ip link del br0
rc=0
wait "$WATCH_PID" || rc=$?
WATCH_PID=
cat "$WORK/watch"
[ $rc -eq 0 ] || die "watch exited $rc"
grep -qx "del br0" "$WORK/watch" || die "watch did not report 'del br0'"
grep -qx "change v2a" "$WORK/watch" || die "watch did not report v2a losing its master"
ok "watch: del br0, change v2a"

echo "PASS"
