#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
#
# netcfg's FDB notifications and dump, and its route lookup, against the
# real kernel through tests/netns/netcfg-tool. Exit 0 pass, 77 skip,
# anything else fail.
#
#   netns ncf-<run> ("main")                  netns ncfa-<run>   ncfb-<run>
#   +--------------------------------------+  +-------------+   +-------------+
#   |  brf (STP 0, fwd 0, 198.18.40.1/24)  |  |             |   |             |
#   |    +-- pa ==veth======================== ea          |   |             |
#   |    +-- pb ==veth=================================================== eb |
#   |  brf.100 (VLAN, 198.18.42.1/24)      |  | ea and eb share one MAC,  |
#   |  198.18.43.0/24 dev pa (port route)  |  | IPv6 off: they speak only |
#   |  vx0 (198.18.41.1/24) ==veth== vx1   |  | when pinged from here     |
#   |  unreachable 198.18.44.0/24          |  +---------------------------+
#   +--------------------------------------+
#
# Only addresses from 198.18.0.0/15; everything lives and dies with the
# namespaces; the watcher is stopped by its PID; every wait is bounded.
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

RUN=$$-$RANDOM
NS=ncf-$RUN
NSA=ncfa-$RUN
NSB=ncfb-$RUN
MAC=02:00:5e:12:34:56
WORK=$(mktemp -d /tmp/t-netcfg-fdb.XXXXXX)
WATCH_PID=
cleanup() {
	if [ -n "$WATCH_PID" ]; then
		kill "$WATCH_PID" 2>/dev/null || true
		wait "$WATCH_PID" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$NSA" 2>/dev/null || true
	ip netns del "$NSB" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS" || skip "cannot create a network namespace"
ip netns add "$NSA"
ip netns add "$NSB"

nsx() { ip netns exec "$NS" "$@"; }
tool() { nsx "$TOOL" "$@"; }
expect() { # what got want
	[ "$2" = "$3" ] || die "$1: got '$2', want '$3'"
	ok "$1 = $3"
}
# Polls until cmd prints want (3 s at most): no fixed sleeps.
wait_for() { # what want cmd...
	local what=$1 want=$2 got= i
	shift 2
	for i in $(seq 150); do
		got=$("$@" 2>/dev/null) || true
		[ "$got" = "$want" ] && { ok "$what"; return 0; }
		sleep 0.02
	done
	die "$what: got '$got', want '$want' (waited 3 s)"
}
must_fail() { # what cmd...
	local what=$1
	shift
	if "$@" >"$WORK/out" 2>&1; then
		die "$what: succeeded: $(cat "$WORK/out")"
	fi
	ok "$what: refused: $(tail -n1 "$WORK/out")"
}
# The watcher's lines after the "ready" one, skipping "links".
events() { sed -n '2,$p' "$WORK/watch" | grep -v '^links$' || true; }
# MAC's line of the dump of brf, without its age (it changes).
dump_line() { tool fdb-dump brf | grep -i "^$MAC " | sed 's/ age_ms=[0-9]*$//'; }
# Waits until the watcher has printed n FDB lines.
wait_events() { # n
	kill -0 "$WATCH_PID" 2>/dev/null || die "the FDB watcher has ended: $(tail -n2 "$WORK/watch" | tr '\n' ' ')"
	wait_for "watcher printed $1 FDB event(s)" "$1" sh -c "sed -n '2,\$p' '$WORK/watch' | grep -vc '^links\$'"
}
# A learned entry as iproute2 sees it: the port of MAC on brf, or nothing.
fdb_port() {
	nsx bridge -j fdb show br brf | jq -r --arg m "$MAC" \
		'[.[] | select(.mac == $m and (.state // "") != "permanent" and (.flags // [] | index("self") | not)) | .ifname] | join(",")'
}

nsx ip link set lo up
for ns in "$NSA" "$NSB"; do
	# No IPv6: no DAD, MLD or router solicitations, so the hosts send
	# frames only when this script asks them to.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$ns" ip link set lo up
done

tool ensure-bridge brf 0 0 198.18.40.1/24 >/dev/null 2>"$WORK/ensure" ||
	die "ensure-bridge brf: $(cat "$WORK/ensure")"
nsx ip link add pa type veth peer name ea netns "$NSA"
nsx ip link add pb type veth peer name eb netns "$NSB"
ip netns exec "$NSA" ip link set ea address "$MAC"
ip netns exec "$NSB" ip link set eb address "$MAC"
ip netns exec "$NSA" ip addr add 198.18.40.2/24 dev ea
ip netns exec "$NSB" ip addr add 198.18.40.3/24 dev eb
for p in pa pb; do
	tool enslave "$p" brf
	nsx ip link set "$p" up
done
ip netns exec "$NSA" ip link set ea up
ip netns exec "$NSB" ip link set eb up
wait_for "pa forwarding" forwarding sh -c "ip netns exec $NS bridge -j link show dev pa | jq -r '.[0].state'"
wait_for "pb forwarding" forwarding sh -c "ip netns exec $NS bridge -j link show dev pb | jq -r '.[0].state'"
# Fixed neighbours on every side: no ARP at all, so the hosts send frames
# only when this script pings (an ARP probe 5 s after a ping re-taught the
# bridge a deleted entry on a loaded CI machine)
brmac=$(nsx cat /sys/class/net/brf/address)
for ns in "$NSA" "$NSB"; do
	dev=$([ "$ns" = "$NSA" ] && echo ea || echo eb)
	ip netns exec "$ns" ip neigh replace 198.18.40.1 lladdr "$brmac" dev "$dev" nud permanent
done
nsx ip neigh replace 198.18.40.2 lladdr "$MAC" dev brf nud permanent
nsx ip neigh replace 198.18.40.3 lladdr "$MAC" dev brf nud permanent
# Anything learned while setting up (nothing should be) goes away first.
nsx bridge fdb flush dev brf dynamic 2>/dev/null || true
expect "nothing learned yet" "$(fdb_port)" ""

echo "== FDB: learned on pa, moved to pb, deleted"
# 300 s, stopped by its PID below: a loaded CI run once took more than 20 s
# from here to the last event (a ping heard 4 s before the dump that
# followed it), and a watcher of 20 s had ended before it. Started without
# the shell function, so that its PID is the watcher's own (ip netns exec
# execs it), not a subshell's.
ip netns exec "$NS" "$TOOL" fdb-watch 300 >"$WORK/watch" 2>&1 &
WATCH_PID=$!
wait_for "watcher ready" ready head -n1 "$WORK/watch"

ip netns exec "$NSA" ping -c1 -W2 198.18.40.1 >/dev/null || die "ping from $NSA"
wait_for "bridge learned $MAC on pa" pa fdb_port
wait_events 1
expect "event 1" "$(events | sed -n 1p)" "new $MAC port=pa bridge=brf"

echo "== FDB dump"
expect "fdb-dump brf" "$(dump_line)" "$MAC port=pa bridge=brf"
# The age of a MAC just heard: NDA_CACHEINFO's updated, in ms.
age=$(tool fdb-dump brf | grep -i "^$MAC " | sed -n 's/.* age_ms=\([0-9]*\)$/\1/p')
[ -n "$age" ] && [ "$age" -lt 5000 ] || die "fdb-dump: age of $MAC: '$age', want a number below 5000"
ok "fdb-dump: $MAC heard $age ms ago"
# The learned entries, and the ports' own addresses marked permanent;
# neither the bridge device's own entries nor static or "self" ones.
learned='select((.state // "") != "permanent" and (.state // "") != "static" and (.flags // [] | index("self") | not))'
expect "fdb-dump: the learned entries" "$(tool fdb-dump brf | grep -vc ' permanent' || true)" \
	"$(nsx bridge -j fdb show br brf | jq "[.[] | $learned] | length")"
expect "fdb-dump: the ports' own addresses" "$(tool fdb-dump brf | grep ' permanent' | sort | tr '\n' ' ')" \
	"$(nsx bridge -j fdb show br brf | jq -r '.[] | select((.state // "") == "permanent" and .ifname != "brf" and (.flags // [] | index("self") | not)) |
		"\(.mac) port=\(.ifname) bridge=brf\(if .vlan then " vlan=\(.vlan)" else "" end) permanent"' | sort | tr '\n' ' ')"
pa_mac=$(nsx cat /sys/class/net/pa/address)
tool fdb-dump brf | grep -qx "$pa_mac port=pa bridge=brf permanent" || die "fdb-dump: pa's own $pa_mac not listed as permanent"
ok "fdb-dump: pa's own address is permanent, without an age"

ip netns exec "$NSB" ping -c1 -W2 198.18.40.1 >/dev/null || die "ping from $NSB"
wait_for "bridge moved $MAC to pb" pb fdb_port
wait_events 2
expect "event 2 (move)" "$(events | sed -n 2p)" "new $MAC port=pb bridge=brf"
expect "fdb-dump after move" "$(dump_line)" "$MAC port=pb bridge=brf"

nsx bridge fdb del "$MAC" dev pb master
wait_events 3
expect "event 3 (delete)" "$(events | sed -n 3p)" "del $MAC port=pb bridge=brf"
expect "fdb-dump after delete" "$(tool fdb-dump brf | grep -ic "^$MAC " || true)" 0

# Learning does not count as a link change: no resync for the daemon.
grep -qx links "$WORK/watch" && die "an FDB event was reported as a link change"
ok "no link change reported for FDB events"

echo "== FDB: a port leaving the bridge flushes its entries (a del event)"
ip netns exec "$NSA" ping -c1 -W2 198.18.40.1 >/dev/null || die "ping from $NSA"
wait_events 4
expect "event 4" "$(events | sed -n 4p)" "new $MAC port=pa bridge=brf"
tool release pa
wait_events 5
expect "event 5 (flush on release)" "$(events | sed -n 5p)" "del $MAC port=pa bridge=brf"
wait_for "watcher saw the link change" yes sh -c "grep -qx links '$WORK/watch' && echo yes"
kill "$WATCH_PID" 2>/dev/null || true
wait "$WATCH_PID" 2>/dev/null || true
WATCH_PID=
cat "$WORK/watch"

must_fail "fdb-dump of a missing bridge" tool fdb-dump nosuchbr

echo "== route lookup"
nsx ip link add vx0 type veth peer name vx1
nsx ip addr add 198.18.41.1/24 dev vx0
nsx ip link set vx0 up
nsx ip link set vx1 up
tool enslave pa brf
nsx ip link set pa up
nsx ip route add 198.18.43.0/24 dev pa
nsx ip route add unreachable 198.18.44.0/24

expect "route-oif via the bridge's subnet" "$(tool route-oif 198.18.40.77 | cut -d' ' -f1)" dev=brf
expect "route-oif matches ip route get" "$(tool route-oif 198.18.40.77 | cut -d' ' -f1)" \
	"dev=$(nsx ip -j route get 198.18.40.77 | jq -r '.[0].dev')"
expect "route-oif ifindex" "$(tool route-oif 198.18.40.77 | cut -d' ' -f2)" \
	"ifindex=$(nsx ip -j link show dev brf | jq -r '.[0].ifindex')"
expect "route-via-bridge, bridge subnet" "$(tool route-via-bridge 198.18.40.77 brf)" "1 bridge=brf"
expect "route-oif via a plain veth" "$(tool route-oif 198.18.41.77 | cut -d' ' -f1)" dev=vx0
expect "route-via-bridge, plain veth" "$(tool route-via-bridge 198.18.41.77 brf)" 0
expect "route-oif via a port route" "$(tool route-oif 198.18.43.9 | cut -d' ' -f1)" dev=pa
expect "route-via-bridge, through a port" "$(tool route-via-bridge 198.18.43.9 brf)" "1 bridge=brf"
expect "route-via-bridge, v4-mapped" "$(tool route-via-bridge ::ffff:198.18.40.77 brf)" "1 bridge=brf"
expect "route-oif of a local address" "$(tool route-oif 198.18.40.1 | cut -d' ' -f1)" dev=lo
expect "route-oif ::1" "$(tool route-oif ::1 | cut -d' ' -f1)" dev=lo
nsx ip link add brg type bridge
nsx ip link set brg up
expect "route-via-bridge, another bridge only" "$(tool route-via-bridge 198.18.40.77 brg)" 0
expect "route-via-bridge, among several" "$(tool route-via-bridge 198.18.40.77 brg brf)" "1 bridge=brf"
if nsx ip link add link brf name brf.100 type vlan id 100 2>/dev/null; then
	nsx ip addr add 198.18.42.1/24 dev brf.100
	nsx ip link set brf.100 up
	expect "route-oif via a VLAN on the bridge" "$(tool route-oif 198.18.42.5 | cut -d' ' -f1)" dev=brf.100
	expect "route-via-bridge, VLAN on the bridge" "$(tool route-via-bridge 198.18.42.5 brf)" "1 bridge=brf"
else
	echo "# no 8021q: VLAN check skipped"
fi
must_fail "route-oif, no route" tool route-oif 198.19.250.1
grep -q "Network is unreachable" "$WORK/out" || die "no ENETUNREACH: $(cat "$WORK/out")"
must_fail "route-oif, unreachable route" tool route-oif 198.18.44.1
grep -q "No route to host" "$WORK/out" || die "no EHOSTUNREACH: $(cat "$WORK/out")"
must_fail "route-via-bridge, no route" tool route-via-bridge 198.19.250.1 brf

echo "PASS"
