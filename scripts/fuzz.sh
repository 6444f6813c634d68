#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The long fuzzing campaign (`make fuzz`, docs/RELIABILITY.md, "Fuzzing"):
# every libFuzzer target of tests/fuzz/ for FUZZ_SECONDS each, FUZZ_JOBS
# targets at a time (default: one per CPU), each on its seed corpus plus a
# working corpus kept in FUZZ_DIR between runs (so a campaign continues
# where the last one stopped). Crashes are written to FUZZ_DIR/artifacts/;
# turn each into a fix and a regression seed (tests/fuzz/fuzz_X_seeds/).
#   FUZZ_SECONDS  per target (default 600)
#   FUZZ_JOBS     targets run at the same time (default: nproc)
#   FUZZ_ONLY     a bash glob on the target name (default: all)
#   FUZZ_DIR      working corpora, logs, artifacts (default /var/tmp/bridged-fuzz)
# Prints one line per target (runs, coverage, corpus, crashes) and exits 1
# when any target crashed. The short campaign of `make check` is
# tests/run.sh (FUZZ_SECONDS=8 each, seeds plus a throwaway corpus).
set -u
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
FUZZ_ONLY=${FUZZ_ONLY:-*}
FUZZ_DIR=${FUZZ_DIR:-/var/tmp/bridged-fuzz}

command -v clang >/dev/null || { echo "fuzz: clang is needed (scripts/deps.sh)"; exit 1; }
make -s --no-print-directory fuzzers || exit 1
mkdir -p "$FUZZ_DIR/artifacts" "$FUZZ_DIR/logs"

targets=()
for f in $(make -s --no-print-directory print-fuzzers); do
	n=$(basename "$f")
	# shellcheck disable=SC2053
	[[ $n == $FUZZ_ONLY ]] && targets+=("$f")
done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no target matches '$FUZZ_ONLY'"; exit 1; }
echo "fuzz: ${#targets[@]} targets, ${FUZZ_SECONDS}s each, $FUZZ_JOBS at a time, in $FUZZ_DIR"

one() { # TARGET: runs it, its log in FUZZ_DIR/logs/NAME.log
	local f=$1 n seeds
	n=$(basename "$f")
	seeds=${f}_seeds
	mkdir -p "$FUZZ_DIR/corpus/$n" "$FUZZ_DIR/artifacts/$n"
	[ -d "$seeds" ] || seeds=
	"./$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$FUZZ_DIR/artifacts/$n/" "$FUZZ_DIR/corpus/$n" $seeds \
		>"$FUZZ_DIR/logs/$n.log" 2>&1
}

running=0
for f in "${targets[@]}"; do
	one "$f" &
	running=$((running + 1))
	if [ $running -ge "$FUZZ_JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

rc=0
printf '%-16s %10s %8s %8s %8s %s\n' target runs exec/s cov corpus crashes
for f in "${targets[@]}"; do
	n=$(basename "$f")
	log=$FUZZ_DIR/logs/$n.log
	runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
	speed=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
	cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n1 | awk '{print $2}')
	corp=$(ls "$FUZZ_DIR/corpus/$n" | wc -l)
	# every artifact left (crash-, leak-, timeout-, oom-): fixed ones are removed by hand
	crashes=$(find "$FUZZ_DIR/artifacts/$n" -type f | wc -l)
	printf '%-16s %10s %8s %8s %8s %s\n' "$n" "${runs:--}" "${speed:--}" "${cov:--}" "$corp" "$crashes"
	if [ "$crashes" -gt 0 ] || grep -q -E '^==[0-9]+== ?ERROR|^SUMMARY: ' "$log"; then
		rc=1
		grep -h -E '^==[0-9]+== ?ERROR|^SUMMARY: |Test unit written' "$log" | sed 's/^/    /'
	fi
done
exit $rc
