#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Without -f the daemon detaches (daemon(3)); the detached daemon must still
# stop on SIGTERM. It did not: its signalfd was registered in the epoll set
# by the parent before the fork, so the child was never woken for it.
. "$(dirname "$0")/../lib/netns.sh"
add_ns a
genkey a
{ node_conf a 127.0.0.1; printf '\n[Bridge br-dmz]\nSegment = dmz\n'; } > "$WORK/a.conf"
ip netns exec "$P-a" "$BRIDGED" -c "$WORK/a.conf" || fail "bridged did not start"
wait_for 5 ctl a status --json >/dev/null || fail "no status"
pid=$(ctl a status --json | jq -r .node.pid)
log "detached daemon pid $pid"
kill -TERM "$pid"
wait_for 5 bash -c "! kill -0 $pid 2>/dev/null" || { kill -9 $pid; fail "detached daemon ignored SIGTERM"; }
log "stopped by SIGTERM"
echo ok
