#!/usr/bin/env bash
# suite: unit
# SPDX-License-Identifier: GPL-2.0-or-later
# bridgectl export ifupdown|networkd: golden outputs for the configs of
# tests/golden/export/ (FILE.conf -> FILE.ifupdown, FILE.networkd); every
# configured bridge is in both, with bridge_ports none (ifupdown) and a
# .netdev of Kind=bridge (networkd); bad input is refused clearly.
set -u
TOP=${BRIDGED_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
D=$TOP/tests/golden/export
BRIDGECTL=$TOP/bridged/bridgectl
W=$(mktemp -d /tmp/t-export.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for f in "$D"/*.conf; do
	name=$(basename "$f" .conf)
	for fmt in ifupdown networkd; do
		(cd "$D" && "$BRIDGECTL" export "$fmt" --config "$name.conf") > "$W/out" 2>"$W/err" ||
			fail "$name $fmt: exit $? ($(cat "$W/err"))"
		diff -u "$D/$name.$fmt" "$W/out" || fail "$name: $fmt output differs from $name.$fmt"
	done
	for br in $(sed -n 's/^\[Bridge \(.*\)\]$/\1/p' "$f"); do
		awk -v b="$br" '$1 == "iface" && $2 == b { f = 1 } f && $1 == "bridge_ports" { print $2; exit }' \
			"$D/$name.ifupdown" | grep -qx none || fail "$name: $br without bridge_ports none"
		grep -q "^Name=$br\$" "$D/$name.networkd" || fail "$name: no networkd files for $br"
	done
	echo "# $name: $(grep -c '^auto ' "$D/$name.ifupdown") stanza(s), $(grep -c '^# file:' "$D/$name.networkd") networkd file(s)"
done
"$BRIDGECTL" export yaml --config "$D/hosts.conf" 2>"$W/err"; [ $? -eq 2 ] || fail "unknown format: exit not 2"
grep -q "unknown format 'yaml' (known: ifupdown, networkd)" "$W/err" || fail "unknown format: no clear error"
"$BRIDGECTL" export 2>/dev/null; [ $? -eq 2 ] || fail "no format: exit not 2"
"$BRIDGECTL" export ifupdown --config "$W/none.conf" 2>"$W/err"; [ $? -eq 1 ] || fail "missing config: exit not 1"
grep -q "none.conf" "$W/err" || fail "missing config: the error does not name the file"
printf '[Node]\nPrivateKeyFile = /k\n[Bridge br0]\nSTP = maybe\n' > "$W/bad.conf"
"$BRIDGECTL" export networkd --config "$W/bad.conf" 2>"$W/err"; [ $? -eq 1 ] || fail "bad config: exit not 1"
grep -q "bad.conf:4: \[Bridge br0\] STP" "$W/err" || fail "bad config: no file:line error ($(cat "$W/err"))"
echo ok
