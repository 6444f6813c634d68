#!/usr/bin/env bash
# suite: unit
# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages (docs/man/) stay true:
#   - mandoc -T lint says nothing about bridged(8), bridgectl(8), bridged.conf(5);
#   - every option of `bridged -h` is an entry of bridged(8)'s OPTIONS and
#     the other way round;
#   - every option in `bridgectl --help` and in each command's `--help`
#     (the commands read from the help itself) is in bridgectl(8), and
#     every option bridgectl(8) mentions is in one of those helps; every
#     command has its section;
#   - every key of the daemon's key table (tests/man/config-keys) is an
#     entry of bridged.conf(5) under its section, and the other way round;
#   - `make install DESTDIR=...` installs the three pages.
set -u
TOP=${BRIDGED_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
MAN=$TOP/docs/man
BRIDGED=$TOP/bridged/bridged
BRIDGECTL=$TOP/bridged/bridgectl
W=$(mktemp -d /tmp/t-man.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v mandoc >/dev/null || { echo "SKIP: no mandoc (scripts/deps.sh)"; exit 77; }
for x in "$BRIDGED" "$BRIDGECTL" "$TOP/tests/man/config-keys"; do [ -x "$x" ] || fail "$x not built"; done
render() { mandoc -T utf8 "$1" | sed 's/.\x08//g'; }
# set_diff A B: lines of file A not in file B
set_diff() { comm -23 <(sort -u "$1") <(sort -u "$2"); }

# 1. lint
for p in bridged.8 bridgectl.8 bridged.conf.5; do
	out=$(mandoc -T lint -W style "$MAN/$p" 2>&1)
	[ -z "$out" ] || fail "mandoc -T lint $p: $out"
done
echo "# mandoc -T lint: clean"

# 2. bridged: the short options of -h and the OPTIONS entries of bridged(8)
"$BRIDGED" -h | sed -n 's/^  \(-[a-zA-Z]\)\b.*/\1/p' > "$W/help.bridged"
awk '/^\.SH /{ s = $2 } s == "OPTIONS" && prev == ".TP" { print } { prev = $0 }' "$MAN/bridged.8" |
	sed -n 's/^\.BI\? \\\(-[a-zA-Z]\)\b.*/\1/p' | sed 's/\\//' > "$W/man.bridged"
[ "$(wc -l < "$W/help.bridged")" -ge 5 ] || fail "bridged -h: fewer than 5 options found"
d=$(set_diff "$W/help.bridged" "$W/man.bridged"); [ -z "$d" ] || fail "bridged -h options missing from bridged(8): $d"
d=$(set_diff "$W/man.bridged" "$W/help.bridged"); [ -z "$d" ] || fail "bridged(8) options bridged -h does not have: $d"
echo "# bridged(8): $(tr '\n' ' ' < "$W/help.bridged")"

# 3. bridgectl: the commands from its help, each command's help
opts() { grep -o -- '\(^\|[^A-Za-z0-9_-]\)--[a-z][a-z0-9-]*' | sed 's/^[^-]*//'; shortopts; }
shortopts() { :; }
"$BRIDGECTL" --help > "$W/h.top" || fail "bridgectl --help failed"
cmds=$(sed -n '/^Commands/,/^Options/s/^  \([a-z][a-z0-9-]*\)\b.*/\1/p' "$W/h.top" | sort -u)
[ -n "$cmds" ] || fail "no commands in bridgectl --help"
cat "$W/h.top" > "$W/h.all"
for c in $cmds; do
	[ "$c" = help ] && continue
	"$BRIDGECTL" "$c" --help > "$W/h.$c" 2>&1 || fail "bridgectl $c --help exits non-zero"
	cat "$W/h.$c" >> "$W/h.all"
	subs=$(sed -n '/^Subcommands/,/^$/s/^  \([a-z][a-z0-9-]*\)\b.*/\1/p' "$W/h.$c")
	for s in $subs; do
		"$BRIDGECTL" "$c" "$s" --help > "$W/h.$c.$s" 2>&1 || fail "bridgectl $c $s --help exits non-zero"
		cat "$W/h.$c.$s" >> "$W/h.all"
		grep -q "^\.SS \"\?$c $s\b" "$MAN/bridgectl.8" || fail "bridgectl(8) has no section for '$c $s'"
	done
	grep -q "^\.SS \"\?$c\b" "$MAN/bridgectl.8" || fail "bridgectl(8) has no section for '$c'"
done
opts < "$W/h.all" | sort -u > "$W/help.ctl"
grep -ho '^ *\(-[a-z]\), --' "$W/h.all" | sed 's/^ *\(-[a-z]\).*/\1/' | sort -u >> "$W/help.ctl"
render "$MAN/bridgectl.8" > "$W/bridgectl.txt"
opts < "$W/bridgectl.txt" | sort -u > "$W/man.ctl"
grep -o '^ *\(-[a-z]\), --' "$W/bridgectl.txt" | sed 's/^ *\(-[a-z]\).*/\1/' | sort -u >> "$W/man.ctl"
[ "$(wc -l < "$W/help.ctl")" -ge 40 ] || fail "fewer than 40 bridgectl options found in the helps"
d=$(set_diff "$W/help.ctl" "$W/man.ctl"); [ -z "$d" ] || fail "options in bridgectl's helps missing from bridgectl(8): $(echo $d)"
d=$(set_diff "$W/man.ctl" "$W/help.ctl"); [ -z "$d" ] || fail "options in bridgectl(8) that no bridgectl help has: $(echo $d)"
echo "# bridgectl(8): $(wc -l < "$W/help.ctl") options, commands: $(echo $cmds)"

# 4. bridged.conf(5) against the key table
"$TOP/tests/man/config-keys" | sort > "$W/keys.table" || fail "config-keys failed"
awk '/^\.SH /{ s = $2; gsub(/[\[\]"]/, "", s) }
     prev == ".TP" && match($0, /^\\fB[A-Za-z]+\\fR = /) { print s, substr($0, 4, RLENGTH - 9) }
     { prev = $0 }' "$MAN/bridged.conf.5" | sort > "$W/keys.man"
[ "$(wc -l < "$W/keys.table")" -ge 20 ] || fail "key table: fewer than 20 keys"
d=$(set_diff "$W/keys.table" "$W/keys.man"); [ -z "$d" ] || fail "keys missing from bridged.conf(5) (section key): $(echo $d)"
d=$(set_diff "$W/keys.man" "$W/keys.table"); [ -z "$d" ] || fail "bridged.conf(5) documents keys the table does not have: $(echo $d)"
echo "# bridged.conf(5): $(wc -l < "$W/keys.table") keys"

# 5. make install puts them in place
make -s -C "$TOP" --no-print-directory install-man DESTDIR="$W/root" PREFIX=/usr >/dev/null || fail "make install-man"
for f in usr/share/man/man8/bridged.8 usr/share/man/man8/bridgectl.8 usr/share/man/man5/bridged.conf.5; do
	[ -f "$W/root/$f" ] || fail "make install did not install /$f"
	cmp -s "$W/root/$f" "$MAN/$(basename "$f")" || fail "/$f differs from docs/man"
done
grep -q '^install:.*install-man' "$TOP/Makefile" || fail "make install does not include install-man"
echo ok
