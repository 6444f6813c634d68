#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# systemd's notify protocol without systemd: the test binds NOTIFY_SOCKET
# itself (tests/netns/notify-listen) and runs a real bridged against it.
#   READY=1 arrives only once the bridge, the TAP, the UDP socket and the
#   control socket exist (the listener stops the daemon on READY=1 and
#   looks); STATUS= carries the peer summary and follows the peer's health;
#   WATCHDOG=1 every half WATCHDOG_USEC; a stalled loop (SIGSTOP) sends
#   none, and they resume after SIGCONT; SIGHUP sends RELOADING=1 then
#   READY=1; SIGTERM sends STOPPING=1; without WATCHDOG_USEC no keep-alive.
# Topology:
#   [br-dmz]--tap (bridged a, NOTIFY_SOCKET) 198.18.0.1 ==ul0== 198.18.0.2 (bridged b)
. "$(dirname "$0")/../lib/netns.sh"
LISTEN=$TOP/tests/netns/notify-listen
[ -x "$LISTEN" ] || fail "$LISTEN not built (make tests)"
add_ns a; add_ns b
underlay a b
genkey a; genkey b
{ node_conf a 198.18.0.1; printf '\n[Bridge br-dmz]\nSegment = dmz\n\n[Peer b]\nPublicKey = %s\nEndpoint = 198.18.0.2:5880\nSegments = dmz\n' "$b_PUB"; } > "$WORK/a.conf"
{ node_conf b 198.18.0.2; printf '\n[Bridge br-dmz]\nSegment = dmz\n\n[Peer a]\nPublicKey = %s\nEndpoint = none\nSegments = dmz\n' "$a_PUB"; } > "$WORK/b.conf"

# What must exist when READY=1 arrives (the daemon is stopped meanwhile).
cat > "$WORK/ready-hook.sh" <<EOC
test -S "$WORK/a.sock" || { echo "hook: no control socket" >&2; exit 1; }
ip -n "$P-a" -j -d link show master br-dmz | jq -e 'any(.[]; .ifname == "b.dmz" and .linkinfo.info_kind == "tun")' >/dev/null || { echo "hook: no TAP b.dmz in br-dmz" >&2; exit 1; }
ip netns exec "$P-a" ss -Hlun 'sport = :5880' | grep -q 5880 || { echo "hook: no UDP socket" >&2; exit 1; }
EOC

NOTES=$WORK/notify.out
# the notify socket in a folder the daemon reaches once it dropped its
# privileges (as /run/systemd/notify): not in the 0700 $WORK
NDIR=$(mktemp -d "/tmp/$P-notify.XXXXXX")
chmod 0755 "$NDIR"
on_cleanup "rm -rf '$NDIR'"
# start_a SECONDS [env...]: the listener, then bridged a with NOTIFY_SOCKET
start_a() {
	local secs=$1; shift
	: > "$NOTES"
	"$LISTEN" "$NDIR/notify.sock" "$secs" "bash $WORK/ready-hook.sh" > "$NOTES" 2>>"$WORK/listen.log" &
	LPID=$!
	PIDS+=("$LPID")
	wait_for 5 grep -q LISTENING "$NOTES" || fail "notify-listen did not start"
	ip netns exec "$P-a" env NOTIFY_SOCKET="$NDIR/notify.sock" "$@" \
		"$BRIDGED" -f -v -c "$WORK/a.conf" >>"$WORK/a.log" 2>&1 &
	a_PID=$!
	PIDS+=("$a_PID")
}
wd_times() { awk '$3 == "WATCHDOG=1" { print $1 }' "$NOTES"; }
wd_count() { wd_times | wc -l; }

start_bridged b
start_a 60 WATCHDOG_USEC=1000000
wait_for 10 grep -q ' READY=1' "$NOTES" || { cat "$NOTES"; fail "no READY=1 within 10 s"; }
wait_for 5 grep -q 'hook rc=' "$NOTES" || fail "the READY hook did not run"
grep -m1 'hook rc=' "$NOTES" | grep -q 'rc=0$' || { cat "$NOTES" "$WORK/listen.log"; fail "READY=1 came before the bridge, TAP and sockets were up"; }
ready=$(grep -m1 ' READY=1' "$NOTES")
log "ready: $ready"
[ "$(awk '{print $2}' <<<"$ready")" = "$a_PID" ] || fail "READY=1 not sent by the daemon's own PID $a_PID"
grep -q 'STATUS=1 peer: b [a-z]*; 1 bridge' <<<"$ready" || fail "READY=1 without the peer summary: $ready"

# STATUS follows the peer's health
wait_for 10 grep -q 'STATUS=1 peer: b up; 1 bridge' "$NOTES" || { cat "$NOTES"; fail "no STATUS= saying peer b is up"; }

# WATCHDOG=1 at half of WATCHDOG_USEC (1 s)
wd_atleast() { [ "$(wd_count)" -ge "$1" ]; }
wait_for 10 wd_atleast 6 || fail "fewer than 6 WATCHDOG=1 in 10 s"
intervals=$(wd_times | awk 'NR > 1 { print $1 - prev } { prev = $1 }' | tr '\n' ' ')
log "keep-alive intervals (ms): $intervals"
for i in $intervals; do
	[ "$i" -ge 350 ] && [ "$i" -le 900 ] || fail "keep-alive interval $i ms, expected about 500"
done

# a stalled loop sends no keep-alive; they resume once it runs again
n1=$(wd_count)
kill -STOP "$a_PID"
sleep 2.5
n2=$(wd_count)
kill -CONT "$a_PID"
[ $((n2 - n1)) -le 1 ] || fail "$((n2 - n1)) keep-alives while the daemon was stopped"
wait_for 3 wd_atleast $((n2 + 2)) || fail "keep-alives did not resume after SIGCONT"
gap=$(wd_times | awk 'NR > 1 && $1 - prev > max { max = $1 - prev } { prev = $1 } END { print max + 0 }')
log "longest gap between keep-alives: $gap ms (stopped 2.5 s)"
[ "$gap" -ge 2000 ] || fail "longest keep-alive gap $gap ms, the stop should have made one of 2 s or more"

# SIGHUP: RELOADING=1, then READY=1
kill -HUP "$a_PID"
wait_for 5 grep -q 'RELOADING=1 MONOTONIC_USEC=' "$NOTES" || fail "no RELOADING=1 on SIGHUP"
wait_for 5 sh -c "sed -n '/RELOADING=1/,\$p' '$NOTES' | grep -q ' READY=1 STATUS='" || fail "no READY=1 after the reload"

# SIGTERM: STOPPING=1, and the listener ends with it
kill -TERM "$a_PID"
wait_for 10 grep -q 'STOPPING=1' "$NOTES" || fail "no STOPPING=1 on SIGTERM"
wait "$a_PID" || fail "bridged exited with $? after SIGTERM"
forget_pid "$a_PID"
wait "$LPID"; forget_pid "$LPID"

# without WATCHDOG_USEC: READY=1, no keep-alive
rm -f "$WORK/a.sock"
start_a 3
wait_for 10 grep -q ' READY=1' "$NOTES" || fail "no READY=1 without a watchdog"
wait "$LPID"; forget_pid "$LPID"
[ "$(wd_count)" -eq 0 ] || fail "WATCHDOG=1 sent without WATCHDOG_USEC"
grep -q 'watchdog: keep-alive every 500 ms' "$WORK/a.log" || fail "the daemon did not log its keep-alive period"
echo ok
