#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Who may use the control socket, and where the metrics listen.
#   Without ControlGroup the socket is 0600 and a non-root user (uid 65534,
#   setpriv) cannot connect; with the file opened to everyone (chmod 666)
#   the daemon itself still refuses it (SO_PEERCRED): the client gets a
#   clear error, the daemon logs the uid and pid, the refusal is counted in
#   the metrics. With ControlGroup = nogroup the socket is 0660 root:nogroup,
#   a member (primary or supplementary group) is served, a non-member is
#   refused; root is served throughout. MetricsListen = PORT listens on
#   127.0.0.1 only (ss -ltn in the namespace).
# Topology: one host namespace, no peers.
. "$(dirname "$0")/../lib/netns.sh"
getent group nogroup >/dev/null || skip "no group nogroup"
command -v setpriv >/dev/null || skip "no setpriv"
add_ns a
genkey a
chmod 0711 "$WORK"          # others may reach the socket inside (the file mode decides)
SOCK=$WORK/a.sock
NOGROUP_GID=$(getent group nogroup | cut -d: -f3)

# as USER GROUP SUPPL CMD...: CMD under another uid/gid (SUPPL: groups or "")
as() {
	local u=$1 g=$2 s=$3; shift 3
	if [ -n "$s" ]; then setpriv --reuid "$u" --regid "$g" --groups "$s" "$@"
	else setpriv --reuid "$u" --regid "$g" --clear-groups "$@"; fi
}
metrics() { nsx "$P-a" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9587; printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3'; }

# --- 1: no ControlGroup: root only --------------------------------------
{ node_conf a 127.0.0.1; echo "MetricsListen = 9587"; } > "$WORK/a.conf"
start_bridged a
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK"), want 600"
ctl a status --json | jq -e '.node.pid > 0' >/dev/null || fail "root is not served"
# the file mode refuses connect() first
as 65534 65534 "" "$BRIDGECTL" --socket "$SOCK" status >"$WORK/out" 2>&1 && fail "uid 65534 served through a 0600 socket"
grep -q "Permission denied (root only)" "$WORK/out" || { cat "$WORK/out"; fail "no clear error for EACCES"; }
# the daemon refuses too, whatever the file mode says
chmod 0666 "$SOCK"
as 65534 65534 "" "$BRIDGECTL" --socket "$SOCK" status >"$WORK/out" 2>&1 && { cat "$WORK/out"; fail "uid 65534 served by the daemon"; }
grep -q "refused this user: permission denied: uid 65534 may not use the control socket (root only)" "$WORK/out" ||
	{ cat "$WORK/out"; fail "refused client: no clear error"; }
as 65534 65534 "" "$BRIDGECTL" --socket "$SOCK" events --count 1 --timeout 2 >"$WORK/out" 2>&1 &&
	fail "uid 65534 got the event stream"
grep -q "refused this user" "$WORK/out" || { cat "$WORK/out"; fail "events: no clear refusal"; }
# the log names the client's uid and pid (setpriv execs: $! is bridgectl's pid)
setpriv --reuid 65534 --regid 65534 --clear-groups "$BRIDGECTL" --socket "$SOCK" fdb >"$WORK/out" 2>&1 &
cpid=$!
wait "$cpid" && fail "uid 65534 served (fdb)"
wait_for 2 grep -q "control socket: refused uid 65534 (gid 65534, pid $cpid): neither root nor in ControlGroup" "$WORK/a.log" ||
	{ grep refused "$WORK/a.log"; fail "no log line naming uid 65534 and pid $cpid"; }
ctl a status --json >/dev/null || fail "root not served after refusals"
n=$(metrics | awk '/^bridged_control_refused_total/ {print $2}')
[ "$n" = 3 ] || fail "bridged_control_refused_total $n, want 3"
# metrics on loopback only
nsx "$P-a" ss -Hltn 'sport = :9587' > "$WORK/ss"
grep -q '127.0.0.1:9587' "$WORK/ss" && [ "$(wc -l < "$WORK/ss")" = 1 ] ||
	{ cat "$WORK/ss"; fail "metrics not on 127.0.0.1:9587 only"; }
grep -q "not a loopback address" "$WORK/a.log" && fail "loopback metrics warned about"
log "no ControlGroup: root served, uid 65534 refused by the file mode and by SO_PEERCRED ($n refusals counted), metrics on $(cat "$WORK/ss" | awk '{print $4}')"
stop_bridged a

# --- 2: ControlGroup = nogroup -----------------------------------------
{ node_conf a 127.0.0.1; printf 'ControlGroup = nogroup\nMetricsListen = 0.0.0.0:9587\n'; } > "$WORK/a.conf"
start_bridged a
[ "$(stat -c '%a %G' "$SOCK")" = "660 nogroup" ] || fail "socket $(stat -c '%a %G' "$SOCK"), want 660 nogroup"
ctl a status --json >/dev/null || fail "root is not served (ControlGroup)"
as 65534 "$NOGROUP_GID" "" "$BRIDGECTL" --socket "$SOCK" status --json >"$WORK/out" 2>&1 &&
	jq -e '.node.pid > 0' "$WORK/out" >/dev/null || { cat "$WORK/out"; fail "primary-group member not served"; }
as 65533 65533 "$NOGROUP_GID" "$BRIDGECTL" --socket "$SOCK" status --json >"$WORK/out" 2>&1 &&
	jq -e '.node.pid > 0' "$WORK/out" >/dev/null || { cat "$WORK/out"; fail "supplementary-group member not served"; }
as 65533 65533 "" "$BRIDGECTL" --socket "$SOCK" status >"$WORK/out" 2>&1 && fail "non-member served (0660 socket)"
grep -q "Permission denied" "$WORK/out" || { cat "$WORK/out"; fail "non-member: no clear error"; }
chmod 0666 "$SOCK"
as 65533 65533 "" "$BRIDGECTL" --socket "$SOCK" status >"$WORK/out" 2>&1 && fail "non-member served by the daemon"
grep -q "uid 65533 may not use the control socket (root and group nogroup only)" "$WORK/out" ||
	{ cat "$WORK/out"; fail "non-member: no clear refusal"; }
wait_for 2 grep -q "control socket: refused uid 65533 (gid 65533, pid [0-9]*): neither root nor in ControlGroup nogroup" "$WORK/a.log" ||
	fail "no log line for uid 65533"
grep -q "MetricsListen = 0.0.0.0:9587 is not a loopback address" "$WORK/a.log" ||
	fail "a non-loopback metrics address is not logged as such"
log "ControlGroup = nogroup: socket 660 root:nogroup, members served (primary and supplementary), others refused"
stop_bridged a

# --- 3: an unknown group stops the start with its name --------------------
{ node_conf a 127.0.0.1; echo "ControlGroup = ${P}nosuchgroup"; } > "$WORK/a.conf"
nsx "$P-a" "$BRIDGED" -f -c "$WORK/a.conf" >"$WORK/bad.out" 2>&1 && fail "started with an unknown ControlGroup"
grep -q "ControlGroup = ${P}nosuchgroup: no such group" "$WORK/bad.out" || { cat "$WORK/bad.out"; fail "unknown group: no clear error"; }
echo ok
