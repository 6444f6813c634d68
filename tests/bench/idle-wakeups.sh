#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# How often an idle daemon wakes up: two hosts, one peer each, one segment,
# no traffic; counts bridged's epoll_wait calls on host a over SECONDS (10)
# with strace -c and prints wake-ups per second. A benchmark, not a test:
#   bash tests/bench/idle-wakeups.sh [SECONDS]
. "$(dirname "$0")/../lib/netns.sh"
SECS=${1:-10}
command -v strace >/dev/null || skip "strace not installed"
two_hosts
up() { [ "$(status_field a b state)" = up ]; }
wait_for 10 up || fail "the session did not come up"
sleep 2      # past the probe round: the steady state
timeout -s INT "$SECS" strace -c -f -e trace=epoll_wait,epoll_pwait -p "$a_PID" 2>"$WORK/strace.txt" || true
calls=$(awk '$NF ~ /^epoll_(p)?wait$/ { n += $4 } END { print n + 0 }' "$WORK/strace.txt")
cat "$WORK/strace.txt" | sed 's/^/# /'
echo "idle wake-ups: $calls in $SECS s = $(awk -v c="$calls" -v s="$SECS" 'BEGIN { printf "%.1f", c / s }') per second"
