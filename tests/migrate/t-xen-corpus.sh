#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# suite: unit (no root, no network)
# The Xen config corpus: every tests/migrate/xen/good/*.cfg must give exactly
# its .json from `bridgectl migrate inspect --json`; every bad/*.cfg must
# fail (exit 1) with exactly the first stderr line in its .err
# ("FILE:LINE:COL: error: ..."). UPDATE=1 rewrites the expected files.
set -u
. "$(dirname "$0")/lib.sh"
M=$(migrate_cmd) || die "cannot build bridgectl-migrate"
cd "$TOP/tests/migrate/xen" || exit 1
fails=0 n=0
for f in good/*.cfg; do
	n=$((n + 1))
	exp=${f%.cfg}.json
	if ! out=$(cd good && "$M" inspect --json "$(basename "$f")" 2>&1); then
		echo "FAIL $f: inspect failed: $out"; fails=$((fails + 1)); continue
	fi
	if [ "${UPDATE:-0}" = 1 ]; then printf '%s\n' "$out" >"$exp"; fi
	if ! diff -u "$exp" <(printf '%s\n' "$out"); then
		echo "FAIL $f: output differs from $exp"; fails=$((fails + 1)); continue
	fi
	echo "ok   $f"
done
for f in bad/*.cfg; do
	n=$((n + 1))
	exp=${f%.cfg}.err
	out=$(cd bad && "$M" inspect --json "$(basename "$f")" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 1 ]; then
		echo "FAIL $f: exit status $rc, expected 1"; fails=$((fails + 1)); continue
	fi
	if [ "${UPDATE:-0}" = 1 ]; then printf '%s\n' "$out" | head -1 >"$exp"; fi
	if [ "$(printf '%s\n' "$out" | head -1)" != "$(cat "$exp")" ]; then
		echo "FAIL $f: got '$(printf '%s' "$out" | head -1)', expected '$(cat "$exp")'"
		fails=$((fails + 1)); continue
	fi
	echo "ok   $f ($(cut -d' ' -f1 "$exp"))"
done
echo "$n configs, $fails failures"
[ "$n" -ge 30 ] || die "corpus has $n configs, at least 30 expected"
[ $fails -eq 0 ]
