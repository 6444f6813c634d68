#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# suite: unit (no root, no network)
# `bridgectl migrate plan --commands` quotes every value it puts in the
# script: a VM name with a quote, source paths with blanks, quotes, $ and a
# backslash, a swap label with a quote, a VG name with a blank. The script
# must parse (sh -n) and each command's words must come out intact when the
# line is evaluated into `set --`.
set -u
. "$(dirname "$0")/lib.sh"
M=$(migrate_cmd) || die "cannot build bridgectl-migrate"
command -v mkswap >/dev/null || skip "mkswap is not installed"
W=$(mktemp -d /tmp/bridged-cmds.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1

ROOT="$W/root it's \$HOME \`x\` \\z.img"
SWAP="$W/sw\"ap; rm -rf x.img"
truncate -s 20971521 "$ROOT" || die "truncate"
truncate -s 16M "$SWAP" || die "truncate"
mkswap -q -U 0b5e55ed-1234-4abc-8def-0123456789ab -L "o'ld \$sw" "$SWAP" >/dev/null || die mkswap
# the config spells the paths with Xen string escapes
cat >vm.cfg <<CFG
name = "file'server"
memory = 256
root = '/dev/sda1 ro'
disk = [ "file:$W/root it's \$HOME \`x\` \\\\z.img,sda1,w", 'file:$W/sw"ap; rm -rf x.img,sda2,w' ]
CFG
"$M" inspect --json vm.cfg >inspect.json || die "inspect: $(cat inspect.json)"
grep -qF "root it's" inspect.json || die "the config does not read as intended: $(cat inspect.json)"

VG='my vg'
"$M" plan --commands --pool "$VG" vm.cfg >cmds.sh 2>err.txt || die "plan --commands: $(cat err.txt)"
cat cmds.sh
sh -n cmds.sh || die "the script does not parse"
[ -z "$(sh -c 'ls' 2>/dev/null | grep -v -e '^cmds.sh$' -e '^err.txt$' -e '^vm.cfg$' -e '^inspect.json$' \
	-e '^root it' -e '^sw"ap')" ] || die "stray files"

# words of the first line starting with $1, as sh splits them
words() { # prefix -> prints one word per line (NUL-safe enough: no newlines in these values)
	local line
	line=$(grep -m1 "^$1 " cmds.sh) || die "no '$1' line"
	sh -c 'eval "set -- $1"; printf "%s\n" "$@"' sh "$line"
}
expect() { # prefix words...
	local p=$1 got want
	shift
	got=$(words "$p")
	want=$(printf '%s\n' "$@")
	[ "$got" = "$want" ] || die "'$p' line splits into
$got
expected
$want"
}
DEV="/dev/$VG/file'server-sda"
expect lvcreate lvcreate --yes -n "file'server-sda" -L 41943040b "$VG"
expect "parted -s -a none" parted -s -a none "$DEV" unit s mklabel msdos
expect kpartx kpartx -a -s "$DEV"
expect dd dd "if=$ROOT" "of=/dev/mapper/my vg-file'server--sda1" bs=1M conv=fsync status=progress
expect mkswap mkswap -U 0b5e55ed-1234-4abc-8def-0123456789ab -L "o'ld \$sw" "/dev/mapper/my vg-file'server--sda2"
grep -q "^parted -s '/dev/my vg/file'\\\\''server-sda' set 1 boot on$" cmds.sh || die "boot line"
# the extent check names the VG as one word too
ext=$(grep -m1 '^ext=' cmds.sh)
case $ext in *"vg_extent_size 'my vg' |"*) ;; *) die "extent check: $ext" ;; esac
# no comment line may be broken by a value
[ "$(grep -c -v -e '^#' -e '^$' -e '^set -e$' -e '^export ' -e '^ext=' -e '^\[ ' -e '^lvcreate ' -e '^parted ' \
	-e '^kpartx ' -e '^dd ' -e '^mkswap ' cmds.sh)" = 0 ] || die "unexpected lines"
echo "all good"
