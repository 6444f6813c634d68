#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: early
# The old host's bridged serves the source side of a disk copy
# (MigrateListen): the new host lists the disks of the VM "fileserver" and
# fetches both by VM + vdev with `bridgectl migrate receive --from`;
# the copies are byte-identical and reported verified, a rerun resends
# nothing. Refused, with nothing written: a vdev the config does not name,
# a VM that does not exist, a path-traversal VM name, a client whose key is
# no [Peer] of the old host, a disk target with an escape sequence (quoted
# escaped). The sources are unchanged.
#
# A running VM "busy" (a process holds its disk open and keeps writing to
# three blocks): a copy and a delta without --warm are refused; a warm
# copy is verified, a warm delta too; once the writer stopped, the final
# --delta sends exactly the three changed blocks, byte-identical. The list
# reports its swap area's UUID and label (mkswap -U -L), and a swap area
# holding a hibernation image; the other disks have "swap": null.
. "$(dirname "$0")/../lib/netns.sh"
command -v jq >/dev/null || skip "jq missing"
command -v mkswap >/dev/null || skip "mkswap missing"
MiB=$((1024 * 1024))
MPORT=5881

add_ns old; add_ns new
underlay old new
genkey old; genkey new; genkey stranger

# The old host: a VM config with two file disks, a decoy image beside it
# that no config names, and a config outside XenConfigDir.
mkdir -p "$WORK/xen" "$WORK/images"
head -c $((64 * MiB)) /dev/urandom >"$WORK/images/fileserver-root.img"
# mostly zeros: 48 MiB with a few random MiB at odd places
truncate -s $((48 * MiB)) "$WORK/images/fileserver-data.img"
for off in 0 7 31 47; do
	head -c $MiB /dev/urandom | dd of="$WORK/images/fileserver-data.img" bs=1M seek=$off \
		conv=notrunc status=none
done
head -c $MiB /dev/urandom >"$WORK/images/secret.img"
cat >"$WORK/xen/fileserver.cfg" <<EOC
name = "fileserver"
memory = 1024
vcpus = 2
disk = [ 'file:$WORK/images/fileserver-root.img,xvda1,w',
         'file:$WORK/images/fileserver-data.img,xvda2,w' ]
vif = [ 'mac=00:16:3e:00:00:01,bridge=br-dmz' ]
EOC
# a disk target with a terminal escape sequence (ESC [2J clears the screen)
printf "name = 'esc'\ndisk = [ 'file:%s/images/\033[2J.img,xvda,w' ]\n" "$WORK" >"$WORK/xen/esc.cfg"
cat >"$WORK/evil.cfg" <<EOC
name = "evil"
disk = [ 'file:$WORK/images/secret.img,xvda,w' ]
EOC
# the running VM "busy": a data disk, a swap area, a hibernated swap area
SWAP_UUID=6a0f3c2e-91d4-4b7a-8e15-2c9d0b7f4a13
mkdir -p "$WORK/busy"
head -c $((32 * MiB)) /dev/urandom >"$WORK/busy/busy-root.img"
truncate -s $((8 * MiB)) "$WORK/busy/busy-swap.img"
mkswap -U $SWAP_UUID -L swap-busy "$WORK/busy/busy-swap.img" >"$WORK/mkswap.out" 2>&1 ||
	fail "mkswap: $(cat "$WORK/mkswap.out")"
cp "$WORK/busy/busy-swap.img" "$WORK/busy/busy-hib.img"
printf 'S1SUSPEND\0' | dd of="$WORK/busy/busy-hib.img" bs=1 seek=4086 conv=notrunc status=none
cat >"$WORK/xen/busy.cfg" <<EOC
name = "busy"
disk = [ 'file:$WORK/busy/busy-root.img,xvda1,w', 'file:$WORK/busy/busy-swap.img,xvda2,w',
         'file:$WORK/busy/busy-hib.img,xvda3,w' ]
EOC
sums() { sha256sum "$WORK"/images/*.img; }
BEFORE=$(sums)

{ NODE_EXTRA="MigrateListen = 198.18.0.1:$MPORT
XenConfigDir = $WORK/xen" node_conf old 198.18.0.1; cat <<EOC

[Bridge br-dmz]
Segment = dmz

[Peer new]
PublicKey = $new_PUB
Endpoint = 198.18.0.2:5880
Segments = dmz
EOC
} >"$WORK/old.conf"
start_bridged old
grep -q "migrate: serving the disks of the VMs in $WORK/xen on 198.18.0.1:$MPORT" "$WORK/old.log" ||
	fail "the daemon does not say it serves MigrateListen"

# fetch NAME KEY ARGS...: receive --from in the new host, JSON to NAME.json
fetch() {
	local name=$1 key=$2; shift 2
	nsx "$P-new" "$BRIDGECTL" migrate receive --from 198.18.0.1:$MPORT --key "$WORK/$key.key" \
		--peer-key "$old_PUB" --connect-timeout 5 --json "$@" \
		>"$WORK/$name.json" 2>"$WORK/$name.err"
}
result() { jq -r "select(.event == \"result\") | .${2:-result}" "$WORK/$1.json"; }

# the list: both disks with their sizes, nothing else
fetch list new --vm fileserver --list || fail "list: exit $? ($(cat "$WORK/list.err"))"
jq -e --arg r "$WORK/images/fileserver-root.img" --arg d "$WORK/images/fileserver-data.img" \
	'.vm == "fileserver" and (.disks | length) == 2 and
	 .disks[0].vdev == "xvda1" and .disks[0].target == $r and .disks[0].size == 67108864 and
	 .disks[1].vdev == "xvda2" and .disks[1].target == $d and .disks[1].size == 50331648' \
	"$WORK/list.json" >/dev/null || fail "list: $(cat "$WORK/list.json")"
jq -e '.disks[0].swap == null and .disks[1].swap == null and (.disks[0] | has("swap"))' \
	"$WORK/list.json" >/dev/null || fail "list: swap on a data disk: $(cat "$WORK/list.json")"
log "list: the VM's two disks with their sizes, no swap"

# both disks, by VM + vdev; the second at an offset inside a bigger volume
fetch root new --vm fileserver --disk xvda1 --create "$WORK/new-root.img" ||
	fail "fetch xvda1: exit $? ($(cat "$WORK/root.err"))"
[ "$(result root)" = verified ] || fail "xvda1: $(result root) $(result root message)"
cmp "$WORK/images/fileserver-root.img" "$WORK/new-root.img" || fail "xvda1: copy differs"
[ "$(result root data_bytes)" = $((64 * MiB)) ] || fail "xvda1: data bytes $(result root data_bytes)"
truncate -s $((50 * MiB)) "$WORK/new-disk.img"
fetch data new --vm fileserver --disk xvda2 --offset $MiB --verify-readback "$WORK/new-disk.img" ||
	fail "fetch xvda2: exit $? ($(cat "$WORK/data.err"))"
[ "$(result data)" = verified ] || fail "xvda2: $(result data) $(result data message)"
cmp -n $((48 * MiB)) "$WORK/images/fileserver-data.img" - < <(tail -c +$((MiB + 1)) "$WORK/new-disk.img") ||
	fail "xvda2: copy differs"
[ "$(result data zero_bytes)" = $((44 * MiB)) ] || fail "xvda2: zero bytes $(result data zero_bytes)"
[ "$(result data image_hash)" = "$(result data peer_image_hash)" ] || fail "xvda2: hashes differ"
log "both disks copied, byte-identical, verified (44 MiB of zeros skipped)"

# the rerun resumes: nothing travels
fetch root2 new --vm fileserver --disk xvda1 "$WORK/new-root.img" || fail "rerun: exit $?"
[ "$(result root2)" = verified ] && [ "$(result root2 data_bytes)" = 0 ] &&
	[ "$(result root2 resumed_bytes)" = $((64 * MiB)) ] || fail "rerun: $(cat "$WORK/root2.json")"
log "rerun: resumed, 0 data bytes"

# refusals: exit 3, a clear reason, nothing written (no file, no state)
refused() { # NAME WHAT PATTERN
	local rc=$1 name=$2 pat=$3
	[ "$rc" = 3 ] || fail "$name: exit $rc, want 3 ($(cat "$WORK/$name.err"))"
	[ "$(result "$name")" = refused ] || fail "$name: result $(result "$name")"
	grep -q -- "$pat" "$WORK/$name.err" || fail "$name: the reason is not '$pat': $(cat "$WORK/$name.err")"
	[ ! -e "$WORK/$name.img" ] || fail "$name: the destination was created"
	! ls "$WORK"/."$name".img@* >/dev/null 2>&1 || fail "$name: a state file was created"
}
fetch novdev new --vm fileserver --disk xvdb --create "$WORK/novdev.img"
refused $? novdev "VM fileserver has no disk xvdb (its disks: xvda1, xvda2)"
fetch novm new --vm mailserver --disk xvda1 --create "$WORK/novm.img"
refused $? novm "no VM mailserver here"
fetch trav new --vm ../evil --disk xvda --create "$WORK/trav.img"
refused $? trav "is not a VM name"
fetch dot new --vm .hidden --disk xvda --create "$WORK/dot.img"
refused $? dot "is not a VM name"
fetch stranger stranger --vm fileserver --disk xvda1 --create "$WORK/stranger.img"
refused $? stranger "not authenticated"
# the daemon quotes the bad target escaped, in its log and in the refusal
# (which the client prints escaped again: \\x1b)
fetch esc new --vm esc --disk xvda --create "$WORK/esc.img"
refused $? esc 'VM esc disk xvda: .*/images/\\\\x1b\[2J\.img: No such file'
# a rejected peer still gets nothing through --list
fetch stranger-list stranger --vm fileserver --list
[ $? = 3 ] && ! grep -q fileserver-root "$WORK/stranger-list.json" || fail "stranger: list answered"
log "refused: unknown vdev, unknown VM, ../ and dot names, a key that is no peer, escaped target"

for pat in "refused: VM fileserver has no disk xvdb" "refused: no VM mailserver here" \
	"refused: \"../evil\" is not a VM name" "198.18.0.2:[0-9]*: refused: "; do
	grep -q -- "migrate: .*$pat" "$WORK/old.log" || fail "no log line for '$pat'"
done
grep -q -- 'refused: VM esc disk xvda: .*/images/\\x1b\[2J\.img' "$WORK/old.log" ||
	fail "no escaped target in the log"
! grep -q "$(printf '\033')" "$WORK/old.log" "$WORK/esc.err" || fail "a raw ESC byte was printed"
grep -q "migrate: peer new (198.18.0.2:[0-9]*): VM fileserver disk xvda1: verified" "$WORK/old.log" ||
	fail "no log line for the copy"

# --- a running VM: warm copy, then the final delta -----------------------------
# The "VM" holds its disk open for writing and rewrites 64 KiB in blocks 3,
# 17 and 29 (1 MiB blocks), in turn, every 50 ms, until told to stop (at
# most 60 s); it counts its writes.
(exec 3<>"$WORK/busy/busy-root.img"
 for i in $(seq 0 1199); do
	[ -e "$WORK/busy/stop" ] && break
	b=$(( i % 3 == 0 ? 3 : i % 3 == 1 ? 17 : 29 ))
	head -c 65536 /dev/urandom | dd of="$WORK/busy/busy-root.img" bs=64K seek=$((b * 16 + i % 16)) \
		conv=notrunc status=none
	echo $((i + 1)) >"$WORK/busy/count.tmp" && mv "$WORK/busy/count.tmp" "$WORK/busy/count"
	sleep 0.05
 done) &
writer=$!
PIDS+=("$writer")
writes() { cat "$WORK/busy/count" 2>/dev/null || echo 0; }
wait_for 5 bash -c "[ \$(cat '$WORK/busy/count' 2>/dev/null || echo 0) -ge 1 ]" || fail "the writer did not start"

fetch busylist new --vm busy --list || fail "busy list: exit $? ($(cat "$WORK/busylist.err"))"
jq -e --arg u $SWAP_UUID '.disks[0].in_use == true and .disks[0].swap == null and
	.disks[1].swap == {"uuid": $u, "label": "swap-busy", "hibernated": false, "pagesize": 4096} and
	.disks[2].swap == {"uuid": $u, "label": "swap-busy", "hibernated": true, "pagesize": 4096}' \
	"$WORK/busylist.json" >/dev/null || fail "busy list: $(cat "$WORK/busylist.json")"
log "list: the swap area's UUID and label, a hibernated one, the disk in use"

fetch busycold new --vm busy --disk xvda1 --create "$WORK/busycold.img"
refused $? busycold "VM busy disk xvda1 (.*) is in use (the VM is running?); shut the VM down first, or copy it warm"
fetch busydelta new --vm busy --disk xvda1 --delta --create "$WORK/busydelta.img"
refused $? busydelta "in use .*the final delta pass is taken with the VM shut down"
log "a disk in use: a copy and a final delta without --warm are refused, nothing written"

fetch busywarm new --vm busy --disk xvda1 --warm --create "$WORK/busy-copy.img" ||
	fail "warm copy: exit $? ($(cat "$WORK/busywarm.err"))"
[ "$(result busywarm)" = verified ] || fail "warm copy: $(result busywarm) $(result busywarm message)"
grep -q "migrate: peer new (198.18.0.2:[0-9]*): sending VM busy disk xvda1 (.*), warm: in use" \
	"$WORK/old.log" || fail "no log line for the warm copy"
fetch busywarm2 new --vm busy --disk xvda1 --warm --delta "$WORK/busy-copy.img" ||
	fail "warm delta: exit $? ($(cat "$WORK/busywarm2.err"))"
[ "$(result busywarm2)" = verified ] || fail "warm delta: $(result busywarm2) $(result busywarm2 message)"
log "warm copy of the disk in use, and a warm delta: verified"

# every block the writer touches is written again after the copies, then it stops
n=$(writes)
wait_for 10 bash -c "[ \$(cat '$WORK/busy/count') -ge $((n + 3)) ]" || fail "the writer stopped writing"
touch "$WORK/busy/stop"
wait "$writer" 2>/dev/null
forget_pid "$writer"
cmp -s "$WORK/busy/busy-root.img" "$WORK/busy-copy.img" && fail "the writer changed nothing after the copy"
fetch busyfinal new --vm busy --disk xvda1 --delta "$WORK/busy-copy.img" ||
	fail "final delta: exit $? ($(cat "$WORK/busyfinal.err"))"
[ "$(result busyfinal)" = verified ] || fail "final delta: $(result busyfinal) $(result busyfinal message)"
cmp "$WORK/busy/busy-root.img" "$WORK/busy-copy.img" || fail "final delta: the copy differs"
[ "$(result busyfinal data_bytes)" = $((3 * MiB)) ] &&
	[ "$(result busyfinal unchanged_bytes)" = $((29 * MiB)) ] &&
	[ "$(result busyfinal bytes_sent)" -lt $((4 * MiB)) ] ||
	fail "final delta: $(result busyfinal data_bytes) data bytes, $(result busyfinal unchanged_bytes) unchanged, $(result busyfinal bytes_sent) on the wire; want the 3 changed MiB"
log "final delta with the writer stopped: the 3 changed MiB sent, 29 MiB unchanged, byte-identical"

[ "$(sums)" = "$BEFORE" ] || fail "a source image changed"
# the copies ran in children of the daemon, all reaped; the daemon still answers
# (the privileged helper is there, docs/SECURITY.md: the disks in the 0700
# $WORK reached the unprivileged worker through it)
ps -o comm= --ppid "$old_PID" | grep -qx bridged-priv || fail "the old host's daemon has no privileged helper"
children_reaped "$old_PID"
ctl old status --json >/dev/null || fail "the daemon does not answer any more"
stop_bridged old
grep -q "stopped" "$WORK/old.log" || fail "the daemon did not stop cleanly"
log "sources unchanged, children reaped, daemon clean"
