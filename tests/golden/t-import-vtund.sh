#!/usr/bin/env bash
# suite: unit
# SPDX-License-Identifier: GPL-2.0-or-later
# bridgectl import vtund on a corpus of vtund.conf files written from
# vtund.conf(5) (tests/golden/vtund/): each output equals its .out golden
# file; with its PublicKey placeholders replaced by real keys (and the
# placeholder Segments of a session without a bridge removed) it is a
# valid bridged.conf for `bridged -n`; every bad file (bad/) is refused
# with exit 1 and its .err line (FILE:LINE: what); usage errors exit 2.
set -u
TOP=${BRIDGED_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
D=$TOP/tests/golden/vtund
BRIDGECTL=$TOP/bridged/bridgectl
BRIDGED=$TOP/bridged/bridged
W=$(mktemp -d /tmp/t-vtund.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
n=0

for f in "$D"/*.conf; do
	name=$(basename "$f" .conf)
	(cd "$D" && "$BRIDGECTL" import vtund "$name.conf") > "$W/$name.out" 2>"$W/$name.err" ||
		fail "$name: exit $? ($(cat "$W/$name.err"))"
	diff -u "$D/$name.out" "$W/$name.out" || fail "$name: output differs from $name.out"
	# the output as a configuration: a key file, a real public key per
	# peer, a session without a bridge given the first bridge
	(umask 077; "$BRIDGECTL" genkey > "$W/priv.key")
	br=$(sed -n 's/^\[Bridge \(.*\)\]$/\1/p' "$W/$name.out" | head -n1)
	while IFS= read -r l; do
		case $l in
		"PrivateKeyFile = "*) echo "PrivateKeyFile = $W/priv.key" ;;
		"PublicKey = <"*) echo "PublicKey = $("$BRIDGECTL" genkey | "$BRIDGECTL" pubkey)" ;;
		"Segments = <bridge>") echo "Segments = $br" ;;
		*) printf '%s\n' "$l" ;;
		esac
	done < "$W/$name.out" > "$W/$name.bridged.conf"
	if [ -n "$br" ]; then
		"$BRIDGED" -n -c "$W/$name.bridged.conf" > /dev/null 2>"$W/n.err" ||
			fail "$name: the imported sections do not parse: $(cat "$W/n.err")"
	fi
	n=$((n + 1))
	echo "# $name: $(grep -c '^\[Peer' "$W/$name.out") peer(s), $(grep -c '^\[Bridge' "$W/$name.out") bridge(s), $(grep -c '^# import: session' "$W/$name.out") note(s)"
done
for f in "$D"/bad/*.conf; do
	name=$(basename "$f" .conf)
	(cd "$D/bad" && "$BRIDGECTL" import vtund "$name.conf") > "$W/out" 2>"$W/err"
	rc=$?
	[ $rc -eq 1 ] || fail "bad/$name: exit $rc, expected 1"
	[ -s "$W/out" ] && fail "bad/$name: printed sections despite the error"
	diff -u "$D/bad/$name.err" "$W/err" || fail "bad/$name: error message differs"
	n=$((n + 1))
done
"$BRIDGECTL" import vtund "$W/nonexistent.conf" 2>"$W/err"; [ $? -eq 1 ] || fail "a missing file: exit not 1"
grep -q "nonexistent.conf: No such file" "$W/err" || fail "a missing file: no clear error"
"$BRIDGECTL" import openvpn x.conf 2>"$W/err"; [ $? -eq 2 ] || fail "an unknown format: exit not 2"
grep -q "unknown format 'openvpn'" "$W/err" || fail "an unknown format: no clear error"
"$BRIDGECTL" import vtund 2>/dev/null; [ $? -eq 2 ] || fail "no FILE: exit not 2"
echo "# $n files"
echo ok
