#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# bridgectl top under tmux against a running pair of daemons: the peer,
# its state and its tunnel's guard on screen, rx/tx rates that move while
# a ping flood runs, a resize of the window redraws within the new width,
# q quits; without a terminal it refuses with exit 1.
# Topology: two_hosts (vm1 - a ==== b - vm2).
. "$(dirname "$0")/../lib/netns.sh"
command -v tmux >/dev/null || skip "no tmux (scripts/deps.sh)"
two_hosts aead
wait_for 5 session_up a b || fail "session not up"

"$BRIDGECTL" --socket "$WORK/a.sock" top < /dev/null > "$WORK/notty.out" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "top without a terminal: exit $rc, expected 1"
grep -q "needs a terminal" "$WORK/notty.out" || fail "top without a terminal: no clear error"

S=$P-top
export TMUX_TMPDIR=$WORK        # a tmux server of our own
tmux new-session -d -s "$S" -x 120 -y 30 "$BRIDGECTL --socket $WORK/a.sock top"
on_cleanup "tmux kill-server 2>/dev/null"
screen() { tmux capture-pane -p -t "$S"; }
shows() { screen | grep -qE "$1"; }
wait_for 5 shows '^b +up +up ' || { screen; fail "top does not show peer b up"; }
wait_for 5 shows 'segment dmz .*guard forwarding' || { screen; fail "top does not show the tunnel's guard"; }
log "$(screen | sed -n '4,6p' | tr -s ' ')"

# traffic: the rates move
nsx "$P-vm1" ping -c 300 -i 0.01 -s 1000 -W 1 198.19.1.2 >/dev/null 2>&1 &
PING=$!
rate_up() { screen | awk '$1 == "b" { print $4, $5 }' | grep -qE '^[0-9.]+ (kB/s|MB/s)'; }
wait_for 5 rate_up || { screen; fail "rx rate does not move under a ping flood"; }
log "under load: $(screen | awk '$1 == "b"' | tr -s ' ')"
wait $PING

# resize: redrawn within the new width
tmux resize-window -t "$S" -x 60 -y 20
fits() { [ "$(screen | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')" -le 60 ] && shows '60x'; }
wait_for 3 fits || { screen; fail "not redrawn for 60 columns"; }
wait_for 3 shows '^b +up' || { screen; fail "peer gone after the resize"; }
log "after resize: $(screen | head -1)"

# q quits
tmux send-keys -t "$S" q
gone() { ! tmux has-session -t "$S" 2>/dev/null; }
wait_for 3 gone || { screen; fail "q did not quit top"; }
echo ok
