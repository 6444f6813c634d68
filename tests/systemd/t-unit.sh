#!/usr/bin/env bash
# suite: unit
# SPDX-License-Identifier: GPL-2.0-or-later
# dist/systemd/bridged.service.in, rendered as `make install` renders it:
# `systemd-analyze verify` says nothing at all about it (the tool works
# without systemd as PID 1: a unit with an unknown key is reported, the
# control below), the notify, watchdog, reload and restart settings are
# there, and `systemd-analyze security --offline` rates its exposure at
# 3.0 or better (the score is in docs/OPERATIONS.md).
set -u
TOP=${BRIDGED_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze (package systemd)"; exit 77; }
[ -x "$TOP/bridged/bridged" ] || { echo "FAIL: bridged not built"; exit 1; }
W=$(mktemp -d /tmp/t-unit.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$W/ok" "$W/bad"
make -s -C "$TOP" --no-print-directory render-unit BINDIR="$TOP/bridged" SYSCONFDIR=/etc \
	UNIT_OUT="$W/ok/bridged.service" || fail "make render-unit"
grep -qE '@[A-Z]+@' "$W/ok/bridged.service" && fail "unsubstituted @VAR@ left"

out=$(systemd-analyze verify --man=no "$W/ok/bridged.service" 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify complains: $out"
echo "# systemd-analyze verify: clean"

# the control: verify does report problems here
sed 's/^Type=notify$/Type=notifyy/' "$W/ok/bridged.service" > "$W/bad/bridged.service"
bad=$(systemd-analyze verify --man=no "$W/bad/bridged.service" 2>&1)
grep -q 'Failed to parse service type' <<<"$bad" || fail "verify did not report a bad Type= (got: $bad)"

for kv in Type=notify NotifyAccess=main 'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure \
	  WatchdogSec=10s ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
	  'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID CAP_SETPCAP' \
	  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' SystemCallFilter=@system-service \
	  "ExecStart=$TOP/bridged/bridged -f -c /etc/bridged/bridged.conf"; do
	grep -qxF "$kv" "$W/ok/bridged.service" || fail "the unit lacks $kv"
done

sec=$(systemd-analyze security --offline=true "$W/ok/bridged.service" 2>&1) || fail "security: $sec"
score=$(sed -n 's/.*Overall exposure level for bridged.service: \([0-9.]*\).*/\1/p' <<<"$sec")
[ -n "$score" ] || fail "no exposure score in: $(tail -3 <<<"$sec")"
echo "# systemd-analyze security --offline=true: exposure $score"
awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "exposure $score, above 3.0"
grep -q "exposure level.*\*\*$score\*\*\|exposure $score\|score $score\|: $score" "$TOP/docs/OPERATIONS.md" ||
	fail "docs/OPERATIONS.md does not state the score $score"
echo ok
