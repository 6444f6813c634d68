#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# `bridgectl fdb`: where each MAC is. After traffic across, each host lists
# its own VM's MAC as local on the VM's port and the other VM's MAC behind
# the tunnel to the other host; the ports' own addresses and the loop
# guard's probe sources are never listed; a MAC filter, a MAC not seen, a
# malformed MAC (exit 2), an unknown segment (exit 1). Then vm2 moves to a
# (a new interface with its MAC on a's bridge): a lists it local.
#
#   before: vm1 - [br-dmz] a ==== b [br-dmz] - vm2
#   after:  vm1, vm2' - [br-dmz] a ==== b [br-dmz]
. "$(dirname "$0")/../lib/netns.sh"
command -v jq >/dev/null || skip "jq missing"
two_hosts aead
wait_for 5 session_up a b || fail "session not up on a"
wait_for 5 session_up b a || fail "session not up on b"
nsx "$P-vm1" ping -c 2 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "vm1 cannot reach vm2"
nsx "$P-vm2" ping -c 2 -i 0.2 -W 2 198.19.1.1 >/dev/null || fail "vm2 cannot reach vm1"
mac1=$(nsx "$P-vm1" cat /sys/class/net/eth0/address)
mac2=$(nsx "$P-vm2" cat /sys/class/net/eth0/address)
tap_a=$(ctl a status --json | jq -r '.peers[] | select(.name=="b") | .tunnels[0].tap')
tap_b=$(ctl b status --json | jq -r '.peers[] | select(.name=="a") | .tunnels[0].tap')
log "vm1 $mac1 on a, vm2 $mac2 on b; tunnel ports $tap_a (a), $tap_b (b)"

# entry HOST MAC [fdb args]: the one entry of MAC, compact, or nothing
entry() {
	local h=$1 m=$2; shift 2
	ctl "$h" fdb --json "$@" | jq -c --arg m "$m" '.entries[] | select(.mac == $m)'
}
# is HOST MAC JQ-CONDITION: MAC has exactly one entry on HOST, matching
is() {
	local e
	e=$(entry "$1" "$2")
	[ "$(printf '%s\n' "$e" | grep -c .)" -eq 1 ] && jq -e "$3" <<<"$e" >/dev/null
}
expect() { # what HOST MAC JQ-CONDITION
	wait_for 3 is "$2" "$3" "$4" || fail "$1: $(ctl "$2" fdb --json | jq -c .)"
	log "ok: $1: $(entry "$2" "$3")"
}
local_on() { echo ".kind == \"local\" and .port == \"$1\" and .peer == null and .segment == \"dmz\" and .bridge == \"br-dmz\" and .vlan == null and (.age_ms | type) == \"number\""; }
tunnel_to() { echo ".kind == \"tunnel\" and .port == \"$1\" and .peer == \"$2\" and .segment == \"dmz\" and .bridge == \"br-dmz\" and .vlan == null and (.age_ms | type) == \"number\""; }

expect "a: vm1 local on vn-vm1" a "$mac1" "$(local_on vn-vm1)"
expect "a: vm2 behind the tunnel to b" a "$mac2" "$(tunnel_to "$tap_a" b)"
expect "b: vm2 local on vn-vm2" b "$mac2" "$(local_on vn-vm2)"
expect "b: vm1 behind the tunnel to a" b "$mac1" "$(tunnel_to "$tap_b" a)"
age=$(entry a "$mac1" | jq '.age_ms')
[ "$age" -ge 0 ] && [ "$age" -lt 10000 ] || fail "a: age of vm1's MAC: $age ms"
ctl a fdb --json | jq -e '.truncated == false and (has("missing") | not)' >/dev/null ||
	fail "a: truncated or missing in an unfiltered answer"

# Nothing but learned MACs: no port's own address (the bridge's, the VM
# ports', the TAPs', the probe port's), no probe source.
for h in a b; do
	own=$(nsx "$P-$h" ip -j link show | jq -c '[.[] | .address]')
	ctl "$h" fdb --json | jq -e --argjson own "$own" \
		'[.entries[] | select(.mac as $m | $own | index($m))] | length == 0' >/dev/null ||
		fail "$h: a port's own address listed: $(ctl "$h" fdb --json | jq -c .)"
	ctl "$h" fdb --json | jq -e '[.entries[] | select(.mac | startswith("02:62:64:"))] | length == 0' >/dev/null ||
		fail "$h: a probe source MAC listed"
	# every entry is one the kernel has learned
	learned=$(nsx "$P-$h" bridge -j fdb show br br-dmz | jq -c '[.[] | select((.state // "") != "permanent" and (.state // "") != "static" and (.flags // [] | index("self") | not)) | .mac]')
	ctl "$h" fdb --json | jq -e --argjson l "$learned" '[.entries[] | select(.mac as $m | $l | index($m) | not)] | length == 0' >/dev/null ||
		fail "$h: an entry the kernel has not learned: $(ctl "$h" fdb --json | jq -c .) vs $learned"
	log "ok: $h: only learned MACs, no own addresses, no probe sources ($(nsx "$P-$h" bridge fdb show br br-dmz | grep -c '02:62:64') probe entries in the kernel's FDB)"
done

# A MAC filter (any case), a MAC not seen, a segment filter.
up2=$(tr 'a-f' 'A-F' <<<"$mac2")
ctl a fdb --json "$up2" | jq -e --arg m "$mac2" '(.entries | length) == 1 and .entries[0].mac == $m and .missing == []' >/dev/null ||
	fail "a: fdb $up2: $(ctl a fdb --json "$up2" | jq -c .)"
log "ok: a: fdb $up2 lists vm2 only"
ghost=02:00:5e:00:fd:b0
out=$(ctl a fdb --json "$mac1" "$ghost") || fail "a: fdb with a MAC not seen exits $?"
jq -e --arg m "$mac1" --arg g "$ghost" '(.entries | length) == 1 and .entries[0].mac == $m and .missing == [$g]' <<<"$out" >/dev/null ||
	fail "a: fdb $mac1 $ghost: $out"
out=$(ctl a fdb "$ghost") || fail "a: fdb $ghost exits $?"
grep -q "^$ghost  *not seen" <<<"$out" || fail "a: fdb $ghost: no 'not seen': $out"
out=$(ctl a fdb --segment dmz "$mac1" "$mac2") || fail "a: fdb --segment dmz exits $?"
log "human output:"; printf '%s\n' "$out" | sed 's/^/#   /'
grep -Eq "^$mac1 +dmz +br-dmz +vn-vm1 +local " <<<"$out" || fail "a: human output, vm1 line"
grep -Eq "^$mac2 +dmz +br-dmz +$tap_a +tunnel b " <<<"$out" || fail "a: human output, vm2 line"
ctl a fdb --json --segment=dmz | jq -e '.entries | length >= 2' >/dev/null || fail "a: --segment=dmz"
log "ok: filters, not seen, human output"

# Usage errors exit 2, an unknown segment 1, help 0.
rc=0; ctl a fdb 52:54:00:zz:00:01 >"$WORK/out" 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "a malformed MAC exits $rc, want 2: $(cat "$WORK/out")"
rc=0; ctl a fdb "$mac1" 52:54:00:00:01 >"$WORK/out" 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "a short MAC exits $rc, want 2: $(cat "$WORK/out")"
rc=0; ctl a fdb --bogus >"$WORK/out" 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "an unknown option exits $rc, want 2"
rc=0; ctl a fdb --segment nosuch >"$WORK/out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "no segment 'nosuch'" "$WORK/out" || fail "an unknown segment exits $rc: $(cat "$WORK/out")"
ctl a fdb --help | grep -q "^Usage: bridgectl fdb" || fail "fdb --help"
ctl a --help | grep -q " fdb \[--json\]" || fail "fdb not in bridgectl --help"
log "ok: malformed MACs and unknown options exit 2, an unknown segment 1"

# vm2 moves to a: its interface on b goes, one with its MAC comes up on
# a's bridge and talks.
nsx "$P-vm2" ip link del eth0
add_ns vm2n
ip link add eth0 netns "$P-vm2n" type veth peer name vn-vm2n netns "$P-a"
nsx "$P-vm2n" ip link set eth0 address "$mac2"
nsx "$P-vm2n" ip addr add 198.19.1.2/24 dev eth0
nsx "$P-vm2n" ip link set eth0 up
nsx "$P-a" ip link set vn-vm2n master br-dmz up
nsx "$P-vm2n" ping -c 2 -i 0.2 -W 2 198.19.1.1 >/dev/null || fail "the moved vm2 cannot reach vm1"
expect "a: the moved vm2 local on vn-vm2n" a "$mac2" "$(local_on vn-vm2n)"
expect "b: the moved vm2 behind the tunnel to a" b "$mac2" "$(tunnel_to "$tap_b" a)"
echo ok
