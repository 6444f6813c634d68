#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every test of bridged and prints a final "N passed, N failed" line.
#   unit tests   tests/unit/test_*            (cmocka binaries, from make)
#   fuzzers      tests/fuzz/fuzz_*            (libFuzzer, FUZZ_SECONDS each, default 8, when clang
#                                              is present; the long campaign is `make fuzz`)
#   scripts      tests/*/t-*.sh               (namespace scenarios, migrate, golden;
#                                              exit 0 pass, 77 skip, else fail)
# ONLY=pattern runs only tests whose name matches (bash glob).
# SUITE=unit: only what needs neither root nor a network (unit tests,
# fuzzers, and the scripts marked "# suite: unit" in their first lines);
# SUITE=root: only the other scripts (the scenarios); default: all.
set -u
cd "$(dirname "$0")/.."
# 17 targets x 8 s: the short campaign takes what 9 x 15 s took before
FUZZ_SECONDS=${FUZZ_SECONDS:-8}
ONLY=${ONLY:-*}
SUITE=${SUITE:-all}
LOGDIR=${LOGDIR:-$(mktemp -d /tmp/bridged-tests.XXXXXX)}
export BRIDGED_TOP=$PWD
pass=0 fail=0 skip=0 failed=()

run() { # name cmd...
	local name=$1; shift
	# shellcheck disable=SC2053
	[[ $name == $ONLY ]] || return 0
	local log="$LOGDIR/${name//\//_}.log" t0=$SECONDS rc
	"$@" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); printf 'PASS  %-40s %3ds\n' "$name" $((SECONDS - t0))
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -n1 "$log")"
	else
		fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL  %-40s %3ds (log: %s)\n' "$name" $((SECONDS - t0)) "$log"
		tail -n 25 "$log" | sed 's/^/      | /'
	fi
}

in_suite() { # script
	local unit=root
	head -n 12 "$1" | grep -q '^# suite: unit' && unit=unit
	[ "$SUITE" = all ] || [ "$SUITE" = "$unit" ]
}

[ "$SUITE" = root ] || for t in $(make -s --no-print-directory print-unit-tests); do
	run "$t" "./$t"
done

if [ "$SUITE" != root ] && command -v clang >/dev/null 2>&1; then
	if make -s --no-print-directory fuzzers >"$LOGDIR/fuzz-build.log" 2>&1; then
		for f in $(make -s --no-print-directory print-fuzzers); do
			corpus="$LOGDIR/corpus-$(basename "$f")"
			mkdir -p "$corpus"
			seeds="${f}_seeds"
			[ -d "$seeds" ] || seeds=
			run "$f" "./$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
				-print_final_stats=1 "$corpus" $seeds
		done
	else
		run fuzz-build false
		cat "$LOGDIR/fuzz-build.log"
	fi
fi

for s in tests/*/t-*.sh; do
	[ -e "$s" ] || continue
	in_suite "$s" || continue
	run "$s" bash "$s"
done

echo
[ ${#failed[@]} -eq 0 ] || printf 'failed: %s\n' "${failed[*]}"
echo "logs: $LOGDIR"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
