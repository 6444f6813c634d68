#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Least privilege (docs/SECURITY.md): after start-up the daemon that parses
# network input runs as the user bridged with CAP_NET_ADMIN alone (uid,
# gid and the capability sets read from /proc/PID/status and decoded), a
# privileged helper (root, its child) does the root work; the tunnel
# works, a SIGHUP that adds a tunnel works (the helper reads the 0600 file
# in a 0700 directory), the StateFile and the MetricsFile are written, the
# control socket is removed at exit, and the helper ends with the daemon;
# the seccomp filter is on, and a forbidden system call (the test build's
# mount(2)) kills the process; User = root keeps today's behaviour.
# Topology: two_hosts (vm1 - a ==== b - vm2), then a second segment.
. "$(dirname "$0")/../lib/netns.sh"

CAP_NAMES=(chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap
	linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner
	sys_module sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice
	sys_resource sys_time sys_tty_config mknod lease audit_write audit_control setfcap
	mac_override mac_admin syslog wake_alarm block_suspend audit_read perfmon bpf
	checkpoint_restore)
# decode_caps HEX: the capability names of a /proc/PID/status mask, or "none"
decode_caps() {
	local v=$((16#$1)) i out=()
	for ((i = 0; i < 64; i++)); do
		(( (v >> i) & 1 )) && out+=("cap_${CAP_NAMES[$i]:-$i}")
	done
	[ ${#out[@]} -gt 0 ] && echo "${out[*]}" || echo none
}
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }

uid=$(id -u bridged) gid=$(id -g bridged)
NODE_EXTRA_a="MetricsFile = $WORK/a.prom"
two_hosts aead
wait_for 5 session_up a b || fail "session a->b not up"
nsx "$P-vm1" ping -c 3 -i 0.2 -W 2 198.19.1.2 >/dev/null || fail "vm1 cannot ping vm2 with privileges dropped"
log "ping across with privileges dropped: ok"

for h in a b; do
	eval "pid=\$${h}_PID"
	[ "$(field "$pid" Uid)" = "$uid $uid $uid $uid" ] || fail "$h: Uid is '$(field "$pid" Uid)', want $uid x4"
	[ "$(field "$pid" Gid)" = "$gid $gid $gid $gid" ] || fail "$h: Gid is '$(field "$pid" Gid)', want $gid x4"
	[ -z "$(field "$pid" Groups)" ] || fail "$h: supplementary groups left: $(field "$pid" Groups)"
	for s in CapEff CapPrm; do
		got=$(decode_caps "$(field "$pid" $s)")
		[ "$got" = cap_net_admin ] || fail "$h: $s is '$got', want cap_net_admin alone"
	done
	for s in CapInh CapBnd CapAmb; do
		got=$(decode_caps "$(field "$pid" $s)")
		[ "$got" = none ] || fail "$h: $s is '$got', want none"
	done
	[ "$(field "$pid" NoNewPrivs)" = 1 ] && [ "$(field "$pid" Seccomp)" = 2 ] ||
		fail "$h: no seccomp filter (NoNewPrivs $(field "$pid" NoNewPrivs), Seccomp $(field "$pid" Seccomp))"
	log "$h: pid $pid uid $uid gid $gid CapEff=CapPrm=cap_net_admin CapInh=CapBnd=CapAmb=none, seccomp filter"
	helper=$(ps -o pid=,comm= --ppid "$pid" | awk '$2 == "bridged-priv" { print $1 }')
	[ -n "$helper" ] || fail "$h: no privileged helper (a child named bridged-priv)"
	[ "$(field "$helper" Uid | cut -d" " -f1)" = 0 ] || fail "$h: the helper is not root"
	eval "${h}_HELPER=$helper"
done

# the StateFile and the MetricsFile of a 0700 root directory, through the helper
wait_for 5 test -s "$WORK/a.state" || fail "a: the StateFile was not written"
[ "$(stat -c %u "$WORK/a.state")" = 0 ] || fail "a: the StateFile is not the helper's (root)"
wait_for 5 grep -q '^bridged_' "$WORK/a.prom" || fail "a: the MetricsFile was not written"
m1=$(stat -c %Y.%N "$WORK/a.prom" 2>/dev/null || stat -c %Y "$WORK/a.prom")
sleep 1.5
[ "$(stat -c %Y.%N "$WORK/a.prom" 2>/dev/null || stat -c %Y "$WORK/a.prom")" != "$m1" ] ||
	fail "a: the MetricsFile is not rewritten every second"

# SIGHUP adding a segment (a bridge, a TAP per side): CAP_NET_ADMIN suffices,
# and the 0600 configuration in the 0700 $WORK is read by the helper
chmod 0600 "$WORK"/*.conf
for h in a b; do
	sed -i 's/^Segments = dmz$/Segments = dmz, br-sv/' "$WORK/$h.conf"
	printf '\n[Bridge br-sv]\n' >> "$WORK/$h.conf"
done
kill -HUP "$a_PID" "$b_PID"
wait_for 5 nsx "$P-a" ip link show br-sv || { grep -i reload "$WORK/a.log"; fail "br-sv not created on a after SIGHUP"; }
wait_for 5 nsx "$P-b" ip link show br-sv || fail "br-sv not created on b after SIGHUP"
vm a sv1 br-sv 198.19.2.1/24
vm b sv2 br-sv 198.19.2.2/24
wait_for 5 session_up a b || fail "session not back after adding a segment"
wait_for 5 nsx "$P-sv1" ping -c 1 -W 1 198.19.2.2 || fail "no traffic on the segment added by SIGHUP"
[ "$(ctl a status --json | jq '.peers[0].tunnels | length')" -eq 2 ] || fail "a does not show 2 tunnels"
log "SIGHUP added a tunnel with privileges dropped: ok"

# a clean stop: the control socket goes (the helper removes it), the helper ends
stop_bridged a
[ ! -e "$WORK/a.sock" ] || fail "a: the control socket is left behind"
wait_for 3 sh -c "! kill -0 $a_HELPER 2>/dev/null" || fail "a: the helper outlived the daemon"
grep -q 'running as bridged' "$WORK/a.log" || fail "a: no log line about the drop"

# a forbidden system call kills the process: the test build makes a mount(2)
# at SIGHUP when asked (tests/netns/bridged-test, never installed)
TESTBIN=$TOP/tests/netns/bridged-test
[ -x "$TESTBIN" ] || fail "$TESTBIN not built (make tests)"
BRIDGED=$TESTBIN BRIDGED_TEST_FORBIDDEN_SYSCALL=1 start_bridged a
kill -HUP "$a_PID"
wait_for 5 sh -c "! kill -0 $a_PID 2>/dev/null" || fail "the test build survived a forbidden system call"
wait "$a_PID"; st=$?
forget_pid "$a_PID"
[ "$st" = $((128 + 31)) ] || fail "the test build ended with status $st, not killed by SIGSYS (159)"
grep -q 'seccomp: system call [0-9]* (mount) is not allowed' "$WORK/a.log" ||
	fail "no log line naming the forbidden call"
grep -q 'mount(2) returned' "$WORK/a.log" && fail "mount(2) returned to the daemon"
log "a forbidden system call (mount) killed the network process with SIGSYS, named in the log"

# User = root: today's behaviour, with a warning
sed -i '/^\[Node\]/a User = root' "$WORK/a.conf"
start_bridged a
[ "$(field "$a_PID" Uid)" = "0 0 0 0" ] || fail "User = root: the daemon runs as $(field "$a_PID" Uid)"
[ "$(field "$a_PID" Seccomp)" = 0 ] || fail "User = root: a seccomp filter is installed"
grep -q 'User = root: the daemon keeps every privilege' "$WORK/a.log" || fail "User = root: no warning"
[ -z "$(ps -o pid= --ppid "$a_PID")" ] || fail "User = root: a helper was forked"
log "User = root: no drop, no helper, a warning"
echo ok
