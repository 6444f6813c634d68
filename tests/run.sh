#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every test of bridged and prints a final "N passed, N failed" line.
#   unit tests   tests/unit/test_*            (cmocka binaries, from make)
#   fuzzers      tests/fuzz/fuzz_*            (libFuzzer, FUZZ_SECONDS each, default 6, when clang
#                                              is present; the long campaign is `make fuzz`)
#   scripts      tests/*/t-*.sh               (namespace scenarios, migrate, golden;
#                                              exit 0 pass, 77 skip, else fail)
# ONLY=pattern runs only tests whose name matches (bash glob).
# SUITE=unit: only what needs neither root nor a network (unit tests,
# fuzzers, and the scripts marked "# suite: unit" in their first lines);
# SUITE=root: only the other scripts (the scenarios); default: all.
set -u
cd "$(dirname "$0")/.."
# 19 targets x 6 s, two at a time: the short campaign of make check (the long
# one is `make fuzz`)
FUZZ_SECONDS=${FUZZ_SECONDS:-6}
ONLY=${ONLY:-*}
SUITE=${SUITE:-all}
LOGDIR=${LOGDIR:-$(mktemp -d /tmp/bridged-tests.XXXXXX)}
export BRIDGED_TOP=$PWD
pass=0 fail=0 skip=0 failed=()

# report NAME RC SECONDS: one PASS/SKIP/FAIL line, counted
report() {
	local name=$1 rc=$2 t=$3 log="$LOGDIR/${1//\//_}.log"
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1)); printf 'PASS  %-40s %3ds\n' "$name" "$t"
	elif [ "$rc" -eq 77 ]; then
		skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -n1 "$log")"
	else
		fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL  %-40s %3ds (log: %s)\n' "$name" "$t" "$log"
		tail -n 25 "$log" | sed 's/^/      | /'
	fi
}

run() { # name cmd...
	local name=$1; shift
	# shellcheck disable=SC2053
	[[ $name == $ONLY ]] || return 0
	local log="$LOGDIR/${name//\//_}.log" t0=$SECONDS rc
	"$@" >"$log" 2>&1
	rc=$?
	report "$name" $rc $((SECONDS - t0))
}

# What needs neither root nor a network runs JOBS at a time (default: the
# CPUs; JOBS=1 runs everything in a row): its tests share no state (each
# its own temporary folder; the build is done before). The scenarios
# (root) run one at a time: they measure time.
JOBS=${JOBS:-$(nproc)}
ASYNC=()
logged() { # name cmd...: runs cmd into name's log, its status and time into log.rc
	local name=$1 log t0=$SECONDS; shift
	log="$LOGDIR/${name//\//_}.log"
	"$@" >"$log" 2>&1
	echo "$? $((SECONDS - t0))" >"$log.rc"
}
report_logged() { # name: reports what logged wrote
	local rc t
	read -r rc t <"$LOGDIR/${1//\//_}.log.rc" || { rc=1 t=0; }
	report "$1" "$rc" "$t"
}
run_async() { # name cmd...
	local name=$1; shift
	# shellcheck disable=SC2053
	[[ $name == $ONLY ]] || return 0
	[ "$JOBS" -le 1 ] && { run "$name" "$@"; return; }
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	logged "$name" "$@" &
	ASYNC+=("$name")
}
async_done() { # reports the async runs in the order they started
	local name
	wait
	for name in "${ASYNC[@]}"; do report_logged "$name"; done
	ASYNC=()
}

in_suite() { # script
	local unit=root
	head -n 12 "$1" | grep -q '^# suite: unit' && unit=unit
	[ "$SUITE" = all ] || [ "$SUITE" = "$unit" ]
}

[ "$SUITE" = root ] || for t in $(make -s --no-print-directory print-unit-tests); do
	run_async "$t" "./$t"
done

if [ "$SUITE" != root ] && command -v clang >/dev/null 2>&1; then
	if make -s --no-print-directory fuzzers >"$LOGDIR/fuzz-build.log" 2>&1; then
		for f in $(make -s --no-print-directory print-fuzzers); do
			corpus="$LOGDIR/corpus-$(basename "$f")"
			mkdir -p "$corpus"
			seeds="${f}_seeds"
			[ -d "$seeds" ] || seeds=
			run_async "$f" "./$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
				-print_final_stats=1 "$corpus" $seeds
		done
	else
		run fuzz-build false
		cat "$LOGDIR/fuzz-build.log"
	fi
fi

# the scripts of the unit suite (in parallel), then the scenarios (in a row);
# the migrate tests' tool is built once here, not by each of them at once
if [ -z "${BRIDGECTL_MIGRATE:-}" ] &&
	make -s --no-print-directory tests/migrate/bridgectl-migrate >"$LOGDIR/migrate-build.log" 2>&1; then
	export BRIDGECTL_MIGRATE=$PWD/tests/migrate/bridgectl-migrate
fi
for s in tests/*/t-*.sh; do
	[ -e "$s" ] || continue
	in_suite "$s" || continue
	head -n 12 "$s" | grep -q '^# suite: unit' && run_async "$s" bash "$s"
done
async_done
# The scenarios run in two rows at once (ROWS=1: all in one row). The side
# row ("# row: side" in a script's first lines) holds the libvirt guests,
# which share one libvirtd and the guest image cache, and the short
# functional scenarios that bound no rate and no time tighter than seconds;
# the main row holds the ones that measure (rates, loss, timers, load). A
# row runs its scripts one at a time; the side row's lines are printed when
# both rows are done. The main row starts with its "# row: early" scripts
# (disk streams that bound no time), so the side row's guest boots
# overlap them rather than the timers.
ROWS=${ROWS:-2}
[ "$JOBS" -le 1 ] && ROWS=1
main_row=() side_row=() early=()
for s in tests/*/t-*.sh; do
	[ -e "$s" ] || continue
	in_suite "$s" || continue
	head -n 12 "$s" | grep -q '^# suite: unit' && continue
	# shellcheck disable=SC2053
	[[ $s == $ONLY ]] || continue
	if [ "$ROWS" -gt 1 ] && head -n 12 "$s" | grep -q '^# row: side'; then
		side_row+=("$s")
	elif head -n 12 "$s" | grep -q '^# row: early'; then
		early+=("$s")
	else
		main_row+=("$s")
	fi
done
main_row=("${early[@]}" "${main_row[@]}")
side_pid=
if [ ${#side_row[@]} -gt 0 ]; then
	( for s in "${side_row[@]}"; do logged "$s" bash "$s"; done ) &
	side_pid=$!
fi
for s in "${main_row[@]}"; do run "$s" bash "$s"; done
if [ -n "$side_pid" ]; then
	wait "$side_pid"
	for s in "${side_row[@]}"; do report_logged "$s"; done
fi

echo
[ ${#failed[@]} -eq 0 ] || printf 'failed: %s\n' "${failed[*]}"
echo "logs: $LOGDIR"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
