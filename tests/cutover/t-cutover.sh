#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# The centerpiece: `bridgectl cutover VM` moves one running "Xen" VM to the
# real libvirtd on this machine, while a client on the new side pings it
# across bridged's tunnel (topology in tests/cutover/lib.sh):
#
#   old host (netns $P-old): bridged (MigrateListen :5881, MigrateSource xl,
#     the xl STAND-IN tests/stream/xl-stand-in, switched by $XL_STANDIN_DIR/qemu
#     to run a real TCG qemu: the Xen config's dom0 kernel + initrd,
#     root.img = xvda1 (/dev/vda), swap.img = xvda2, data.img = xvda3,
#     vif with the VM's MAC on xenbr0), XenAutoDir auto/VM -> ../VM.cfg
#   new host (the root namespace): bridged ($P-br, segment sv), libvirtd,
#     a dir pool; the client namespace on $P-br pings the guest all along
#
# Today (the part that exists): the guest boots under the stand-in, the
# client pings it ACROSS THE TUNNEL (its MAC learned on the tunnel TAP), the
# old daemon says it runs (`migrate source ... state`) and lists its 3 disks
# (`migrate receive --from ... --list`), shuts it down cleanly through the
# stand-in (QMP system_powerdown, the guest's power button watcher) and it
# starts again.
#
# When `bridgectl cutover --help` works (else: "cutover not built yet"):
#   move      --warm-only (the VM keeps running), 8 MiB written into data.img
#             from the host (a stand-in for the guest's writes), then the
#             cutover: shutdown, delta, define, start, arrival, autostart;
#             asserted: the domain runs and answers, the old qemu is gone and
#             `xl list VM` says invalid domain, the MAC on a vnet port (not
#             the tunnel TAP), root and data partitions byte-equal to the old
#             images at the plan's offsets, the swap with the old UUID, the
#             old auto link gone, the report's downtime_s and the client's
#             longest ping gap printed and within CUTOVER_GAP_TOLERANCE s
#   resume    one move killed -9 three times (during the warm copy, with the
#             underlay slowed; after shutdown is done; after define is done),
#             each time rerun: the same final state
#   rollback  killed after the shutdown step, then `cutover --rollback`: the
#             VM runs on the old host again (stand-in `xl list`) and answers,
#             the new domain is gone, the auto link is back
# CUTOVER_SCENARIOS picks (default: "move resume rollback").
#
# Time-bounded (CUTOVER_BUDGET, default 290 s; each wait is capped by what is
# left); removes every namespace, link, domain, volume, pool, process and
# file it made; skips when libvirtd, qemu, busybox-static or the cloud kernel
# cannot be had.
. "$(dirname "$0")/lib.sh"
cutover_require
cloud_kernel
CUTOVER_SCENARIOS=${CUTOVER_SCENARIOS:-refuse move stage2 resume rollback}
CUTOVER_GAP_TOLERANCE=${CUTOVER_GAP_TOLERANCE:-5}

cutover_setup

step "the Xen guest: xl create through the stand-in (in the old host's namespace)"
guest_start
log "the Xen guest booted under the stand-in in $GUEST_BOOT_S s (qemu $(old_qemu_pid))"
xl list "$VM" >"$WORK/xl-list.out" || fail "xl list $VM: $(cat "$WORK/xl-list.out")"
grep -q "^$VM " "$WORK/xl-list.out" || fail "xl list: $(cat "$WORK/xl-list.out")"
tr -d '\r' <"$(old_console)" | grep "^GUEST-CMDLINE" | grep -q "root=/dev/vda ro console=ttyS0 bridged.ip=$GIP/24" ||
	fail "the stand-in's command line: $(tr -d '\r' <"$(old_console)" | grep '^GUEST-CMDLINE')"

step "the client pings the guest across the tunnel"
ping_ok 30 || fail "the client ($CIP) gets no answer from the guest ($GIP)"
port=$(fdb_port "$MAC")
[ "$port" = "$TUNTAP" ] || fail "the guest's MAC is on port '$port' of $BR, not on the tunnel TAP $TUNTAP"
nsx "$P-cl" ping -c 5 -i 0.2 -W 2 "$GIP" >"$WORK/ping5.out" || fail "ping: $(cat "$WORK/ping5.out")"
log "$(tail -n 1 "$WORK/ping5.out") (MAC $MAC on $TUNTAP)"

step "the old host's daemon: state, disks"
src state state --json || fail "migrate source state: exit $? ($(cat "$WORK/state.err"))"
[ "$(jq -r .state "$WORK/state.out")" = running ] || fail "state: $(cat "$WORK/state.out")"
log "state: $(jq -c . "$WORK/state.out")"
"$BRIDGECTL" migrate receive --from "$UL.2:$MPORT" --key "$WORK/new.key" --peer-key "$old_PUB" \
	--connect-timeout 5 --vm "$VM" --list --json >"$WORK/list.out" 2>"$WORK/list.err" ||
	fail "migrate receive --list: exit $? ($(cat "$WORK/list.err"))"
jq -e --arg r "$IMG/root.img" --arg s "$IMG/swap.img" --arg d "$IMG/data.img" \
	'(.disks | length) == 3 and
	 .disks[0].vdev == "xvda1" and .disks[0].target == $r and .disks[0].size == 50331648 and
	 .disks[1].vdev == "xvda2" and .disks[1].target == $s and .disks[1].size == 8388608 and
	 .disks[2].vdev == "xvda3" and .disks[2].target == $d and .disks[2].size == 67108864' \
	"$WORK/list.out" >/dev/null || fail "list: $(cat "$WORK/list.out")"
log "disks: $(jq -c '[.disks[] | "\(.vdev) \(.size)"]' "$WORK/list.out")"

step "the old daemon shuts the real guest down (xl shutdown: the ACPI power button), xl create again"
t0=$SECONDS
src down shutdown --timeout 30 --json || fail "migrate source shutdown: exit $? ($(cat "$WORK/down.err"))"
[ "$(jq -r .result "$WORK/down.out")" = "shut off" ] && [ "$(jq -r .destroyed "$WORK/down.out")" = false ] ||
	fail "shutdown: $(cat "$WORK/down.out")"
log "shut off in $((SECONDS - t0)) s: $(jq -c . "$WORK/down.out")"
tr -d '\r' <"$(old_console)" | grep -q GUEST-POWERBUTTON && tr -d '\r' <"$(old_console)" | grep -q GUEST-SHUTDOWN ||
	fail "the guest did not power off cleanly: $(tr -d '\r' <"$(old_console)" | tail -n 5)"
[ -z "$(old_qemu_pid)" ] || fail "shut off, and qemu $(old_qemu_pid) still runs"
xl list "$VM" >"$WORK/xl-off.out" 2>&1 && fail "xl list still lists $VM"
grep -q "^$VM is an invalid domain identifier" "$WORK/xl-off.out" || fail "xl list: $(cat "$WORK/xl-off.out")"
guest_start
ping_ok 30 || fail "the guest does not answer after its second start"
log "started again in $GUEST_BOOT_S s, answers"

if ! cutover_built; then
	echo "cutover not built yet: the move is not tested"
	log "setup and the old side done in $SECONDS s"
	echo "all good"
	exit 0
fi

# ==== the cutover (bridgectl cutover) ==========================================
STEPS='["inspect","plan","create","warm-copy","preflight","confirm","shutdown","delta-copy","define","start","arrival","autostart"]'

# old_sums: the old images' sha256, one line each (only meaningful once the
# old guest is stopped)
old_sums() { (cd "$IMG" && sha256sum root.img swap.img data.img); }

# assert_moved NAME PING: the final state after the cutover run NAME (its
# report in cut-NAME.out), the client's pings in $WORK/PING.ping
assert_moved() {
	local name=$1 ping=$2 vol dom_if port off size v rep down gap
	jq -e --argjson steps "$STEPS" '.version == 1 and .vm != null and .state == "done" and
		([.steps[].name] == $steps) and all(.steps[]; .status == "done" or .status == "skipped")' \
		"$(journal)" >/dev/null || fail "$name: the journal: $(jq -c . "$(journal)")"
	[ "$(virsh -c "$URI" domstate "$VM" 2>&1)" = running ] || fail "$name: the new domain: $(virsh -c "$URI" domstate "$VM" 2>&1)"
	[ -z "$(old_qemu_pid)" ] || fail "$name: the old qemu $(old_qemu_pid) still runs"
	xl list "$VM" >"$WORK/xl-gone.out" 2>&1 && fail "$name: xl list still lists $VM"
	grep -q "^$VM is an invalid domain identifier" "$WORK/xl-gone.out" || fail "$name: xl list: $(cat "$WORK/xl-gone.out")"
	wait_console "$NEW_CONSOLE" 'GUEST-READY' 60 || fail "$name: the new domain's guest did not reach GUEST-READY"
	tr -d '\r' <"$NEW_CONSOLE" | grep -qx "GUEST-UP root=/dev/sda1" || fail "$name: the new guest's root is not /dev/sda1"
	tr -d '\r' <"$NEW_CONSOLE" | grep -qx "GUEST-MAC $MAC" || fail "$name: the new guest's MAC is not $MAC"
	ping_ok 30 || fail "$name: the client gets no answer from the moved guest"
	dom_if=$(virsh -c "$URI" domiflist "$VM" | awk -v m="$MAC" 'tolower($5) == m { print $1 }')
	port=$(fdb_port "$MAC")
	[ -n "$dom_if" ] && [ "$port" = "$dom_if" ] && [ "$port" != "$TUNTAP" ] ||
		fail "$name: the MAC is on '$port' of $BR, not on the domain's port '$dom_if' (tunnel: $TUNTAP)"
	vol=$(virsh -c "$URI" vol-path --pool "$POOL" "$VM-xvda") || fail "$name: no volume $VM-xvda"
	for v in xvda1:root xvda3:data; do
		off=$(plan_offset "${v%%:*}")
		size=$(stat -c %s "$IMG/${v#*:}.img")
		[ -n "$off" ] || fail "$name: no plan offset for ${v%%:*}"
		cmp -n "$size" -i 0:"$off" "$IMG/${v#*:}.img" "$vol" || fail "$name: ${v%%:*} differs from ${v#*:}.img (at $off)"
	done
	off=$(plan_offset xvda2)
	[ "$(swap_uuid "$vol" "$off")" = "$SWAP_UUID" ] || fail "$name: the swap at $off has UUID $(swap_uuid "$vol" "$off")"
	[ "$(blkid -p -O "$off" -s UUID -o value "$vol" 2>/dev/null)" = "$SWAP_UUID" ] || fail "$name: blkid: not the swap UUID"
	[ ! -e "$WORK/xen/auto/$VM" ] && [ ! -L "$WORK/xen/auto/$VM" ] || fail "$name: the old host's auto/$VM is still there"
	rep=$(report "$name")
	[ -n "$rep" ] || fail "$name: no report event"
	jq -e --argjson steps "$STEPS" '(.downtime_s | type) == "number" and .bytes_warm >= 0 and .bytes_delta >= 0 and
		[.steps[].name] == $steps' <<<"$rep" >/dev/null || fail "$name: the report: $rep"
	down=$(jq -r .downtime_s <<<"$rep")
	pinger_stop
	read -r gap _ <<<"$(ping_gap "$WORK/$ping.ping")"
	log "$name: downtime_s $down (report), longest ping gap $gap s (client); warm $(jq .bytes_warm <<<"$rep") B, delta $(jq .bytes_delta <<<"$rep") B"
	log "$name: steps $(jq -c '[.steps[] | "\(.name) \(.seconds)"]' <<<"$rep")"
	awk -v a="$down" -v b="$gap" -v t="$CUTOVER_GAP_TOLERANCE" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }' ||
		fail "$name: downtime_s $down and the client's gap $gap differ by more than $CUTOVER_GAP_TOLERANCE s"
}

# reset_to_old: the VM back on the old host, nothing on the new side
reset_to_old() {
	step "reset: the VM on the old host again, the new side empty"
	cutover_forget_new
	src restore autostart-restore --json || fail "autostart-restore: $(cat "$WORK/restore.err")"
	[ "$(readlink "$WORK/xen/auto/$VM")" = "../$VM.cfg" ] || fail "reset: the auto link is not back"
	[ -n "$(old_qemu_pid)" ] || guest_start
	ping_ok 30 || fail "reset: the guest does not answer on the old host"
	[ "$(fdb_port "$MAC")" = "$TUNTAP" ] || fail "reset: the MAC is not on the tunnel TAP"
}

scenario_move() {
	local warm_sums qpid rc
	step "move: --dry-run says what each step would do and changes nothing"
	cutover dry 30 --dry-run || fail "cutover --dry-run: exit $? ($(tail -n 5 "$WORK/cut-dry.err"))"
	for s in $(jq -r '.[]' <<<"$STEPS"); do
		grep -q -w -- "$s" "$WORK/cut-dry.out" || fail "--dry-run does not name the step $s: $(cat "$WORK/cut-dry.out")"
	done
	[ ! -e "$(journal)" ] || jq -e 'all(.steps[]; .status == "pending")' "$(journal)" >/dev/null ||
		fail "--dry-run ran a step: $(jq -c . "$(journal)")"
	virsh -c "$URI" vol-info --pool "$POOL" "$VM-xvda" >/dev/null 2>&1 && fail "--dry-run created a volume"
	log "dry run: $(wc -l <"$WORK/cut-dry.out") lines, e.g. $(grep -m 1 -w shutdown "$WORK/cut-dry.out")"

	step "move: --warm-only (inspect, plan, create, warm copy, preflight), the VM keeps running"
	pinger_start move "$(left 240)"
	cutover warm 120 --warm-only --json || fail "cutover --warm-only: exit $? ($(tail -n 5 "$WORK/cut-warm.err"))"
	jq -e '.state == "warm" and ([.steps[] | select(.status == "done" or .status == "skipped") | .name] ==
		["inspect","plan","create","warm-copy","preflight"]) and
		all(.steps[5:][]; .status == "pending")' "$(journal)" >/dev/null ||
		fail "--warm-only: the journal: $(jq -c . "$(journal)")"
	[ -n "$(old_qemu_pid)" ] || fail "--warm-only stopped the old VM"
	virsh -c "$URI" dominfo "$VM" >/dev/null 2>&1 && fail "--warm-only defined the domain"
	ping_ok 5 || fail "--warm-only: the guest does not answer any more"
	log "warm: $(jq -c '[.steps[] | select(.status == "done") | "\(.name) \(.seconds)"]' "$(journal)")"

	# the guest's writes after the warm copy (a stand-in: from the host;
	# qemu has the raw file open, which is fine)
	dd if=/dev/urandom of="$IMG/data.img" bs=1M seek=20 count=8 conv=notrunc status=none || fail "dd into data.img"

	# the conditions are checked again before the shutdown: the tunnel down
	# now (hours after the warm copy, say) refuses the final run
	step "move: the underlay cut after the warm copy: cutover --yes is refused before the shutdown"
	qpid=$(old_qemu_pid)
	ip link set "$P-ul" down
	wait_for 10 session_down new "$OLDPEER" || fail "the session stays up with the underlay down"
	cutover cut 60 --yes || rc=$?
	ip link set "$P-ul" up
	[ "${rc:-0}" -eq 3 ] || fail "cutover with the tunnel down: exit ${rc:-0}, not 3 ($(tail -n 3 "$WORK/cut-cut.err"))"
	grep -q "step 6 (confirm) failed: the tunnel to $OLDPEER is not up" "$WORK/cut-cut.err" ||
		fail "cutover with the tunnel down: $(cat "$WORK/cut-cut.err")"
	[ "$(old_qemu_pid)" = "$qpid" ] && [ "$(jstep shutdown)" = pending ] ||
		fail "refused, and the old VM changed ($qpid -> $(old_qemu_pid)) or the shutdown ran ($(jstep shutdown))"
	log "refused: $(grep -m 1 'step 6' "$WORK/cut-cut.err")"
	wait_for 15 session_up new "$OLDPEER" || fail "no session after the underlay came back"

	step "move: cutover --yes (confirm, shutdown, delta copy, define, start, arrival, autostart)"
	cutover final 180 --yes --json || fail "cutover: exit $? ($(tail -n 5 "$WORK/cut-final.err"))"
	# the expectations, now that the old guest is stopped
	[ -z "$(old_qemu_pid)" ] || fail "the old VM still runs after the cutover"
	warm_sums=$(old_sums)
	assert_moved final move
	[ "$(jq .bytes_delta <<<"$(report final)")" -ge $((8 * MiB)) ] || fail "the delta copy did not carry the 8 MiB written"
	[ "$(old_sums)" = "$warm_sums" ] || fail "an old image changed after the old guest stopped"
	# a rerun of a finished move changes nothing and says so, with the report
	cutover again 30 || fail "cutover (again, done): exit $? ($(tail -n 3 "$WORK/cut-again.err"))"
	grep -q "^$VM: already cut over (done)" "$WORK/cut-again.out" &&
		grep -q "^  downtime [0-9.]* s (shutdown request -> MAC on the local port): shutdown" "$WORK/cut-again.out" ||
		fail "the rerun of a done cutover: $(cat "$WORK/cut-again.out")"
	sed 's/^/#   /' "$WORK/cut-again.out"
	"$BRIDGECTL" cutover --list --json --state-dir "$CUTSTATE" >"$WORK/list-cut.out" || fail "cutover --list"
	jq -e --arg v "$VM" '[.[] | select(.vm == $v and .state == "done")] | length == 1' "$WORK/list-cut.out" >/dev/null ||
		fail "cutover --list: $(cat "$WORK/list-cut.out")"
	log "move: done in $SECONDS s"
}

scenario_stage2() {
	local out port dom_if
	[ "$(jq -r .state "$(journal)" 2>/dev/null)" = done ] || fail "stage2 comes after the move scenario"
	step "stage 2: the guest installs its bootloader (asked on port 7000), then cutover --stage2"
	nsx "$P-cl" timeout 60 nc "$GIP" 7000 </dev/null >"$WORK/bootloader.out" 2>&1
	grep -q "^GUEST-BOOTLOADER installed on /dev/sda" "$WORK/bootloader.out" ||
		fail "the guest did not install its bootloader: $(cat "$WORK/bootloader.out")"
	cutover st2 150 --stage2 --yes --json || fail "cutover --stage2: exit $? ($(tail -n 5 "$WORK/cut-st2.err"))"
	[ "$(jq -r '.state + " " + (.stage | tostring)' "$(journal)")" = "stage2 2" ] ||
		fail "stage2: the journal: $(jq -c '[.state, .stage]' "$(journal)")"
	virsh -c "$URI" dumpxml --inactive "$VM" | grep -q "<kernel>" && fail "stage 2 still boots a kernel from outside"
	[ "$(virsh -c "$URI" domstate "$VM" 2>&1)" = running ] || fail "stage2: the domain: $(virsh -c "$URI" domstate "$VM" 2>&1)"
	wait_console "$NEW_CONSOLE" 'GUEST-READY' 60 || fail "stage2: the guest did not reach GUEST-READY"
	tr -d '\r' <"$NEW_CONSOLE" | grep -qx "GUEST-BOOT disk" ||
		fail "stage2: not booted by its own bootloader: $(tr -d '\r' <"$NEW_CONSOLE" | grep '^GUEST-')"
	tr -d '\r' <"$NEW_CONSOLE" | grep -qx "GUEST-UP root=/dev/sda1" || fail "stage2: the root is not /dev/sda1"
	ping_ok 30 || fail "stage2: the client gets no answer"
	dom_if=$(virsh -c "$URI" domiflist "$VM" | awk -v m="$MAC" 'tolower($5) == m { print $1 }')
	port=$(fdb_port "$MAC")
	[ -n "$dom_if" ] && [ "$port" = "$dom_if" ] || fail "stage2: the MAC is on '$port', not on the domain's '$dom_if'"
	out=$(jq -r 'select(.event == "step" or .event == "stage2") | .detail // empty' "$WORK/cut-st2.out" | tail -n 1)
	log "stage 2: booted from its disk (extlinux), answers, MAC on $port${out:+; $out}"
}

scenario_resume() {
	local sums maps
	reset_to_old
	pinger_start resume "$(left 240)"
	step "resume: kill -9 during the warm copy (underlay slowed to 100 Mbit/s)"
	nsx "$P-old" tc qdisc add dev ul0 root tbf rate 100mbit burst 64kb latency 100ms || fail "tc tbf"
	cutover_start r1 --yes --json
	# 2 s into the copy: about 24 of the 88 MiB at 100 Mbit/s
	KILL_DELAY=2 kill9_at warm-copy running 60
	nsx "$P-old" tc qdisc del dev ul0 root
	maps=$(find "$CUTSTATE/$VM.d/stream" -type f -size +0 | wc -l)
	[ "$maps" -gt 0 ] || fail "killed during the warm copy, and no resume map in $CUTSTATE/$VM.d/stream"
	log "killed 2 s into the warm copy: $maps resume map file(s) kept"
	step "resume: rerun, kill -9 once the shutdown step is done"
	cutover_start r2 --yes --json
	kill9_at shutdown "done" 120
	[ -z "$(old_qemu_pid)" ] || fail "the shutdown step is done and the old VM runs"
	sums=$(old_sums)
	step "resume: rerun, kill -9 once the define step is done"
	cutover_start r3 --yes --json
	kill9_at define "done" 120
	virsh -c "$URI" dominfo "$VM" >/dev/null 2>&1 || fail "the define step is done and there is no domain"
	step "resume: rerun to the end"
	cutover r4 150 --yes --json || fail "cutover (resumed): exit $? ($(tail -n 5 "$WORK/cut-r4.err"))"
	assert_moved r4 resume
	[ "$(jq '.steps[] | select(.name == "warm-copy") | .resumed_bytes' "$(journal)")" -gt 0 ] ||
		fail "the warm copy started afresh after the kill -9: $(jq -c '.steps[3]' "$(journal)")"
	log "resume: the warm copy resumed $(jq '.steps[] | select(.name == "warm-copy") | .resumed_bytes' "$(journal)") bytes from its map"
	[ "$(old_sums)" = "$sums" ] || fail "an old image changed after the old guest stopped"
	log "resume: the same final state after three kill -9"
}

scenario_rollback() {
	local gap gs ge n t_back
	reset_to_old
	pinger_start rollback "$(left 240)"
	step "rollback: kill -9 once the shutdown step is done, then --rollback"
	cutover_start b1 --yes --json
	kill9_at shutdown "done" 120
	[ -z "$(old_qemu_pid)" ] || fail "the shutdown step is done and the old VM runs"
	cutover b2 120 --rollback --yes --json || fail "cutover --rollback: exit $? ($(tail -n 5 "$WORK/cut-b2.err"))"
	t_back=$(date +%s.%N)
	[ "$(jq -r .state "$(journal)")" = rolled-back ] || fail "rollback: the journal: $(jq -c . "$(journal)")"
	xl list "$VM" >"$WORK/xl-back.out" 2>&1 || fail "rollback: xl list: $(cat "$WORK/xl-back.out")"
	[ -n "$(old_qemu_pid)" ] || fail "rollback: no qemu for the VM on the old host"
	wait_console "$(old_console)" 'GUEST-READY' 90 || fail "rollback: the guest did not boot on the old host"
	ping_ok 30 || fail "rollback: the guest does not answer on the old host"
	[ "$(fdb_port "$MAC")" = "$TUNTAP" ] || fail "rollback: the MAC is not on the tunnel TAP"
	virsh -c "$URI" dominfo "$VM" >/dev/null 2>&1 && fail "rollback: the new domain is still defined"
	[ "$(readlink "$WORK/xen/auto/$VM")" = "../$VM.cfg" ] || fail "rollback: the old host's auto link is not back"
	sleep 1
	pinger_stop
	read -r _ _ _ n <<<"$(ping_gap "$WORK/rollback.ping" "$t_back")"
	[ "$n" -gt 0 ] || fail "rollback: the client's pinger got no reply after the rollback: $(tail -n 3 "$WORK/rollback.ping")"
	read -r gap gs ge n <<<"$(ping_gap "$WORK/rollback.ping")"
	log "rollback: the VM runs on the old host again; the client's longest gap $gap s ($gs - $ge, $n replies, $(grep -c 'no answer' "$WORK/rollback.ping") unanswered)"
}

# refused NAME PATTERN [OPTION...]: a cutover (its own --state-dir) that must
# be refused (exit 3) with a message matching PATTERN, before anything
# changed on either host: the same old qemu, no domain here, no volume in
# the pool, the old host's auto link in place, the journal at inspect/plan.
# RVM, RPOOL, RMAP override the VM, the pool and the bridge map.
refused() {
	local name=$1 pat=$2 qpid rc vols
	shift 2
	qpid=$(old_qemu_pid)
	rm -rf "$WORK/refuse"
	"$BRIDGECTL" --socket "$WORK/new.sock" cutover "${RVM:-$VM}" --from "$OLDPEER" --source "$UL.2:$MPORT" \
		--key "$WORK/new.key" --pool "${RPOOL:-$POOL}" --connect "$URI" --bridge-map "${RMAP:-xenbr0=$BR}" \
		--domain-type qemu --boot-dir "$BOOTDIR" --console-log "$NEW_CONSOLE" --state-dir "$WORK/refuse" \
		--yes "$@" >"$WORK/ref-$name.out" 2>"$WORK/ref-$name.err"
	rc=$?
	[ $rc -eq 3 ] || fail "refuse $name: exit $rc, not 3 (refused): $(tail -n 5 "$WORK/ref-$name.err")"
	grep -q -E -- "$pat" "$WORK/ref-$name.err" ||
		fail "refuse $name: the message does not match '$pat': $(cat "$WORK/ref-$name.err")"
	[ -n "$qpid" ] && [ "$(old_qemu_pid)" = "$qpid" ] || fail "refuse $name: the old qemu changed ($qpid -> $(old_qemu_pid))"
	[ "$name" = domain ] || ! virsh -c "$URI" dominfo "$VM" >/dev/null 2>&1 || fail "refuse $name: a domain $VM is defined"
	vols=$(virsh -c "$URI" vol-list "${RPOOL:-$POOL}" | awk 'NR > 2 && NF { print $1 }')
	[ -z "$vols" ] || fail "refuse $name: volumes in ${RPOOL:-$POOL}: $vols"
	[ "$(readlink "$WORK/xen/auto/$VM")" = "../$VM.cfg" ] || fail "refuse $name: the old host's auto link changed"
	jq -e '.state == "failed" and all(.steps[]; .status == "done" or .status == "failed" or .status == "pending") and
		all(.steps[2:][]; .status == "pending")' "$WORK/refuse/${RVM:-$VM}.json" >/dev/null ||
		fail "refuse $name: the journal: $(jq -c '[.state, [.steps[] | "\(.name) \(.status)"]]' "$WORK/refuse/${RVM:-$VM}.json")"
	log "refused ($name): $(grep -m 1 -E -- "$pat" "$WORK/ref-$name.err")"
}

session_down() { ! session_up "$@"; }
mac_on() { [ "$(fdb_port "$1")" = "$2" ]; }

scenario_refuse() {
	local n
	step "refusals: each before anything changes"
	# a VM the old host does not have
	RVM=$P-nosuch refused unknown "$P-nosuch"
	# a bridge here that carries no segment of bridged
	ip link add "$P-nb" type bridge && ip link set "$P-nb" up || fail "bridge $P-nb"
	on_cleanup 'ip link del "$P-nb" 2>/dev/null'
	RMAP="xenbr0=$P-nb" refused nosegment "bridge $P-nb here, which carries no segment"
	# a domain of that name exists here
	printf '<domain type="qemu"><name>%s</name><memory unit="MiB">32</memory><os><type>hvm</type></os></domain>\n' \
		"$VM" >"$WORK/dup.xml"
	virsh -c "$URI" define "$WORK/dup.xml" >/dev/null || fail "virsh define (the namesake)"
	refused domain "a domain named $VM exists here already"
	virsh -c "$URI" undefine "$VM" >/dev/null || fail "virsh undefine (the namesake)"
	# the VM's MAC already live on a local port of $BR (a namesake: the same
	# MAC sending from a namespace of its own)
	add_ns dup
	ip link add "$P-dv" type veth peer name eth0 netns "$P-dup" || fail "veth $P-dv"
	on_cleanup 'ip link del "$P-dv" 2>/dev/null'
	ip link set "$P-dv" master "$BR" up || fail "$P-dv into $BR"
	nsx "$P-dup" ip link set eth0 address "$MAC" up
	nsx "$P-dup" ip addr add "$GIP/24" dev eth0
	bg "$P-dup" ping -i 0.1 -w "$(left 60)" -b "${GIP%.*}.255"
	n=$BG_PID
	wait_for 5 mac_on "$MAC" "$P-dv" || fail "the namesake's MAC is not learned on $P-dv"
	refused maclive "already live on this host"
	kill "$n"; wait "$n" 2>/dev/null; forget_pid "$n"
	ip link del "$P-dv"
	ping_ok 30 || fail "the guest does not answer after the namesake left"
	# the pool lacks the space (a 16 MiB tmpfs under a pool of its own)
	mkdir -p "$WORK/small" && mount -t tmpfs -o size=16m "$P-small" "$WORK/small" || fail "tmpfs"
	on_cleanup 'virsh -c "$URI" pool-destroy "$P-small" >/dev/null 2>&1; virsh -c "$URI" pool-undefine "$P-small" >/dev/null 2>&1; umount "$WORK/small" 2>/dev/null'
	virsh -c "$URI" pool-define-as "$P-small" dir --target "$WORK/small" >/dev/null &&
		virsh -c "$URI" pool-start "$P-small" >/dev/null || fail "pool $P-small"
	RPOOL=$P-small refused space "pool $P-small has [0-9]+ bytes free, the new volumes need [0-9]+"
	# the tunnel down (the underlay cut)
	ip link set "$P-ul" down
	wait_for 10 session_down new "$OLDPEER" || fail "the session stays up with the underlay down"
	refused tunnel "the tunnel to $OLDPEER is not up"
	ip link set "$P-ul" up
	wait_for 15 session_up new "$OLDPEER" || fail "no session after the underlay came back"
	ping_ok 30 || fail "the guest does not answer after the refusals"
	rm -rf "$WORK/refuse"
}

for s in $CUTOVER_SCENARIOS; do
	case $s in
	refuse) scenario_refuse ;;
	move) scenario_move ;;
	stage2) scenario_stage2 ;;
	resume) scenario_resume ;;
	rollback) scenario_rollback ;;
	*) fail "unknown scenario $s" ;;
	esac
done
log "scenarios ($CUTOVER_SCENARIOS) done in $SECONDS s"
echo "all good"
