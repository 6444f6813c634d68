#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# suite: unit (no root, no network)
# The command surface without a network: bridged -n on good and bad
# configurations, bridgectl genkey/pubkey, help texts, and a clear error when
# no daemon runs.
set -u
TOP=${BRIDGED_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BRIDGED=$TOP/bridged/bridged BRIDGECTL=$TOP/bridged/bridgectl
W=$(mktemp -d /tmp/bridged-cli.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# keys: genkey -> pubkey is deterministic, 44 characters of base64
"$BRIDGECTL" genkey > "$W/k1" || fail "genkey"
[ "$(wc -c < "$W/k1")" -eq 45 ] || fail "genkey output is not one 44-character line"
p1=$("$BRIDGECTL" pubkey < "$W/k1") && p2=$("$BRIDGECTL" pubkey < "$W/k1") || fail "pubkey"
[ "$p1" = "$p2" ] && [ ${#p1} -eq 44 ] || fail "pubkey not stable: $p1 / $p2"
[ "$p1" != "$(cat "$W/k1")" ] || fail "pubkey printed the private key"
echo "not a key" | "$BRIDGECTL" pubkey 2>"$W/err" && fail "pubkey accepted garbage"
grep -q "not a base64 private key" "$W/err" || fail "pubkey error unclear: $(cat "$W/err")"

# bridged -n: canonical form that parses again to the same text
cp "$TOP/docs/examples/bridged.conf" "$W/good.conf"
"$BRIDGED" -n -c "$W/good.conf" > "$W/canon1" || fail "bridged -n rejects the example config"
"$BRIDGED" -n -c "$W/canon1" > "$W/canon2" || fail "canonical output does not parse"
cmp -s "$W/canon1" "$W/canon2" || fail "canonical output is not a fixed point"
grep -q "^DeadAfter = " "$W/canon1" || fail "defaults not made explicit"

# bad config: every error, with file:line, and a non-zero exit
printf '[Node]\nPrivateKeyFile = /k\nListenPort = 99999\n\n[Peer x]\nPublicKey = nope\nSegments = nowhere\nColour = blue\n' > "$W/bad.conf"
if "$BRIDGED" -n -c "$W/bad.conf" > "$W/out" 2> "$W/err"; then fail "bridged -n accepted a bad config"; fi
for want in "bad.conf:3: \[Node\] ListenPort" "bad.conf:6: \[Peer x\] PublicKey" "bad.conf:8: \[Peer x\] Colour" "nowhere"; do
	grep -q "$want" "$W/err" || { cat "$W/err"; fail "missing error: $want"; }
done
[ ! -s "$W/out" ] || fail "bridged -n printed a config for a bad file"
# bytes from the file are quoted escaped: a terminal control sequence in a
# value must not reach the operator's screen
printf '[Node]\nPrivateKeyFile = /k\nListenAddress = \033[2Jx\n' > "$W/esc.conf"
if "$BRIDGED" -n -c "$W/esc.conf" > "$W/out" 2> "$W/err"; then fail "bridged -n accepted an escape sequence"; fi
grep -qF 'esc.conf:3: [Node] ListenAddress: not an IPv4 or IPv6 address: "\x1b[2Jx"' "$W/err" ||
	{ cat -v "$W/err"; fail "escape sequence not quoted as \\x1b"; }
! grep -q "$(printf '\033')" "$W/err" "$W/out" || { cat -v "$W/err"; fail "raw ESC byte in the output"; }
if "$BRIDGED" -n -c "$W/missing.conf" 2> "$W/err"; then fail "missing file accepted"; fi
grep -q "missing.conf" "$W/err" || fail "the error does not name the missing file"

# help texts
"$BRIDGED" -h | grep -q "Usage: bridged" || fail "bridged -h"
"$BRIDGECTL" --help | grep -q "events" || fail "bridgectl --help lacks events"
"$BRIDGECTL" --help | grep -q "migrate" || fail "bridgectl --help lacks migrate"
# every command of every table is in the help texts, and answers --help
for c in genkey pubkey status events fdb migrate; do
	"$BRIDGECTL" --help | grep -q "^  $c\b" || fail "bridgectl --help lacks $c"
done
for c in inspect plan create domain send receive; do
	"$BRIDGECTL" --help | grep -q "^  migrate $c\b" || fail "bridgectl --help lacks migrate $c"
	"$BRIDGECTL" migrate --help | grep -q "^  $c\b" || fail "bridgectl migrate --help lacks $c"
	"$BRIDGECTL" migrate "$c" --help >/dev/null || fail "bridgectl migrate $c --help failed"
done
"$BRIDGECTL" migrate frobnicate 2>"$W/err"; rc=$?
[ $rc -eq 2 ] && grep -q "unknown command 'frobnicate'" "$W/err" || fail "unknown migrate subcommand: rc $rc"
"$BRIDGECTL" frobnicate 2>"$W/err"; rc=$?
[ $rc -eq 2 ] && grep -q "unknown command 'frobnicate'" "$W/err" || fail "unknown command: rc $rc"
"$BRIDGECTL" frobnicate 2>/dev/null; [ $? -eq 2 ] || fail "unknown command does not exit 2"

# no daemon: a clear error, exit 1
if "$BRIDGECTL" --socket "$W/none.sock" status 2> "$W/err"; then fail "status without daemon succeeded"; fi
grep -q "cannot reach bridged at $W/none.sock" "$W/err" || fail "unclear error: $(cat "$W/err")"
"$BRIDGECTL" --socket "$W/none.sock" fdb 52:54:00:AB:cd:ef 2> "$W/err"; rc=$?
[ $rc -eq 1 ] && grep -q "cannot reach bridged" "$W/err" || fail "fdb without daemon: rc $rc"

# fdb: its help, and its usage errors are found before the daemon is asked
"$BRIDGECTL" fdb --help | grep -q "^Usage: bridgectl fdb \[--json\] \[--segment NAME\] \[MAC...\]" || fail "fdb --help"
for bad in "52:54:00:ab:cd" "52:54:00:ab:cd:eg" "52-54-00-ab-cd-ef" "--segment" "--frob" "--segment="; do
	"$BRIDGECTL" --socket "$W/none.sock" fdb $bad 2> "$W/err"; rc=$?
	[ $rc -eq 2 ] || fail "fdb $bad: rc $rc, want 2: $(cat "$W/err")"
done
"$BRIDGECTL" --socket "$W/none.sock" fdb 52:54:00:ab:cd:eg 2> "$W/err"
grep -q "'52:54:00:ab:cd:eg' is not a MAC address" "$W/err" || fail "fdb: unclear error: $(cat "$W/err")"
"$BRIDGECTL" --socket "$W/none.sock" fdb $(for i in $(seq 17); do printf '02:00:00:00:00:%02x ' "$i"; done) 2> "$W/err"
[ $? -eq 2 ] || fail "fdb with 17 MACs is no usage error"
echo ok
