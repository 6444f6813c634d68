#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# The old host's side of a cutover, besides the disks: its bridged
# (MigrateListen, MigrateSource = xl) serves a VM's Xen config, its state,
# a graceful shutdown with a timeout (refused, or destroyed with --force),
# a start (a rollback), and its autostart off and back; `bridgectl migrate
# source` asks from the new host.
#
#   new (bridgectl migrate source)          old (bridged, MigrateListen :5881)
#     ul0 198.18.0.2/24 ===== veth ===== 198.18.0.1/24 ul0
#                                           |  MigrateSourceTool: xl-stand-in
#                                           |  (a STAND-IN for xl: Xen cannot
#                                           |  run here; its "guests" are
#                                           |  background processes)
#                                           XenConfigDir $WORK/xen, XenAutoDir
#                                           $WORK/xen/auto, XenSaveDir $WORK/save
#
# Asserted: the config served is the file, byte for byte; state running ->
# shutdown -> shut off within the timeout, the guest's process gone; start
# brings it back (running, as xl reports it), a second start leaves it
# alone, a start for a VM with no config is refused with nothing started; a
# guest that ignores the shutdown: refused after the timeout and still
# running, destroyed with --force; autostart-off removes the auto link and
# moves the saved image aside (a link named after the VM that points
# elsewhere is left alone and reported), a second off changes nothing,
# restore puts both back byte-identical; an unknown VM and a stranger's key
# are refused; nothing else changes (listings before/after), every action
# logged with the peer's name, children reaped.
. "$(dirname "$0")/../lib/netns.sh"
command -v jq >/dev/null || skip "jq missing"
MPORT=5881
STANDIN=$TOP/tests/stream/xl-stand-in
[ -x "$STANDIN" ] || fail "$STANDIN missing"

add_ns old; add_ns new
underlay old new
genkey old; genkey new; genkey stranger

# The old host: two VMs (web1 with an auto link and a saved image, slow1
# that ignores shutdown requests), a third VM's link, a link named after
# web1 that points elsewhere, another VM's saved image.
export XL_STANDIN_DIR=$WORK/xl-state
mkdir -p "$WORK/xen/auto" "$WORK/save" "$XL_STANDIN_DIR"
cat >"$WORK/xen/web1.cfg" <<'EOC'
# web1: a PV guest (xen-tools style)
name    = 'web1'
memory  = '256'
vcpus   = '2'
disk    = [ 'phy:/dev/vg/web1-disk,xvda2,w' ]
vif     = [ 'mac=00:16:3e:00:00:11,bridge=br-dmz' ]
EOC
printf 'name = "slow1"\nmemory = 128\n# caf\xe9: a Latin-1 byte, served as it is\n' >"$WORK/xen/slow1.cfg"
printf "name = 'other'\n" >"$WORK/xen/other.cfg"
ln -s ../web1.cfg "$WORK/xen/auto/web1"
ln -s ../other.cfg "$WORK/xen/auto/other"
ln -s /srv/old-host/web1.cfg "$WORK/xen/auto/web1.cfg"
head -c 300000 /dev/urandom >"$WORK/save/web1"
head -c 1000 /dev/urandom >"$WORK/save/other"

# every guest the stand-in started is stopped at the end, by PID
on_cleanup 'for f in "$XL_STANDIN_DIR"/domains/*; do [ -e "$f" ] && read -r _ p _ <"$f" && kill -9 "$p"; done 2>/dev/null'

xl() { nsx "$P-old" "$STANDIN" "$@"; }
guest_pid() { read -r _ p _ <"$XL_STANDIN_DIR/domains/$1" && echo "$p"; }

listings() { # what must not change: names, types, link texts, contents
	(cd "$WORK" && find xen save -printf '%p %y %l\n' | sort
	 find xen save -type f -print0 | sort -z | xargs -0 sha256sum)
}

{ NODE_EXTRA="MigrateListen = 198.18.0.1:$MPORT
XenConfigDir = $WORK/xen
MigrateSource = xl
MigrateSourceTool = $STANDIN
XenAutoDir = $WORK/xen/auto
XenSaveDir = $WORK/save
MigrateStateDir = $WORK/state" node_conf old 198.18.0.1; cat <<EOC

[Bridge br-dmz]
Segment = dmz

[Peer new]
PublicKey = $new_PUB
Endpoint = 198.18.0.2:5880
Segments = dmz
EOC
} >"$WORK/old.conf"
start_bridged old
grep -q "migrate: their state, shutdown and autostart through xl $STANDIN" "$WORK/old.log" ||
	fail "the daemon does not name its MigrateSource"

# src NAME KEY ARGS...: `bridgectl migrate source` in the new host; stdout
# to NAME.out, stderr to NAME.err; returns its exit status
src() {
	local name=$1 key=$2; shift 2
	nsx "$P-new" "$BRIDGECTL" migrate source --from 198.18.0.1:$MPORT --key "$WORK/$key.key" \
		--peer-key "$old_PUB" --connect-timeout 5 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
}
field() { jq -r ".$2" "$WORK/$1.out"; }

xl create "$WORK/xen/web1.cfg" >/dev/null || fail "stand-in: create web1"
BEFORE=$(listings)

# --- config: the file itself ------------------------------------------------
src cfg new --vm web1 config || fail "config: exit $? ($(cat "$WORK/cfg.err"))"
cmp "$WORK/xen/web1.cfg" "$WORK/cfg.out" || fail "config: not the file"
src cfg2 new --vm slow1 config || fail "config slow1: exit $?"
cmp "$WORK/xen/slow1.cfg" "$WORK/cfg2.out" || fail "config slow1 (a Latin-1 byte): not the file"
src cfgj new --vm web1 config --json || fail "config --json: exit $?"
[ "$(field cfgj sha256)" = "$(sha256sum <"$WORK/xen/web1.cfg" | cut -d' ' -f1)" ] &&
	[ "$(field cfgj path)" = "$WORK/xen/web1.cfg" ] && [ "$(field cfgj domain)" = web1 ] ||
	fail "config --json: $(cat "$WORK/cfgj.out")"
log "config: served byte for byte (and its sha256)"

# --- state, shutdown --------------------------------------------------------
src st1 new --vm web1 state --json || fail "state: exit $? ($(cat "$WORK/st1.err"))"
[ "$(field st1 state)" = running ] && [ "$(field st1 domid)" = 1 ] && [ "$(field st1 flags)" = -b---- ] ||
	fail "state: $(cat "$WORK/st1.out")"
src st1t new --vm web1 state || fail "state (text): exit $?"
grep -q "^VM web1 (domain web1): running, domid 1, -b---- (blocked) \[xl (" "$WORK/st1t.out" ||
	fail "state (text): $(cat "$WORK/st1t.out")"
pid=$(guest_pid web1)
src down new --vm web1 shutdown --timeout 10 --json || fail "shutdown: exit $? ($(cat "$WORK/down.err"))"
[ "$(field down result)" = "shut off" ] && [ "$(field down destroyed)" = false ] ||
	fail "shutdown: $(cat "$WORK/down.out")"
kill -0 "$pid" 2>/dev/null && fail "shutdown: the guest's process $pid still runs"
src st2 new --vm web1 state --json || fail "state after: exit $?"
[ "$(field st2 state)" = "shut off" ] || fail "state after shutdown: $(cat "$WORK/st2.out")"
src down2 new --vm web1 shutdown || fail "shutdown again: exit $?"
grep -q "VM web1: already shut off" "$WORK/down2.out" || fail "shutdown again: $(cat "$WORK/down2.out")"
log "state: running -> shutdown -> shut off (guest process gone); again: already shut off"

# a guest that ignores the request: refused after the timeout, then --force
touch "$XL_STANDIN_DIR/ignore-shutdown-slow1"
xl create "$WORK/xen/slow1.cfg" >/dev/null || fail "stand-in: create slow1"
pid=$(guest_pid slow1)
t0=$SECONDS
src slow new --vm slow1 shutdown --timeout 2 --json
rc=$?
[ $rc = 3 ] || fail "ignored shutdown: exit $rc, want 3 ($(cat "$WORK/slow.err"))"
[ "$(field slow result)" = refused ] && [ "$(field slow status)" = ETIMEDOUT ] ||
	fail "ignored shutdown: $(cat "$WORK/slow.out")"
grep -q "did not shut down within 2 s.*not destroyed (--force destroys it)" "$WORK/slow.err" ||
	fail "ignored shutdown: $(cat "$WORK/slow.err")"
[ $((SECONDS - t0)) -le 8 ] || fail "ignored shutdown: took $((SECONDS - t0)) s"
kill -0 "$pid" || fail "ignored shutdown: the guest was stopped anyway"
src st3 new --vm slow1 state --json && [ "$(field st3 state)" = running ] || fail "slow1 not running"
src force new --vm slow1 shutdown --timeout 1 --force --json || fail "--force: exit $?"
[ "$(field force result)" = destroyed ] && [ "$(field force destroyed)" = true ] ||
	fail "--force: $(cat "$WORK/force.out")"
kill -0 "$pid" 2>/dev/null && fail "--force: the guest's process $pid still runs"
log "a guest that ignores shutdown: refused after 2 s and still running; destroyed with --force"

# --- autostart --------------------------------------------------------------
src off new --vm web1 autostart-off || fail "autostart-off: exit $? ($(cat "$WORK/off.err"))"
[ ! -e "$WORK/xen/auto/web1" ] && [ ! -L "$WORK/xen/auto/web1" ] || fail "autostart-off: the link is still there"
[ ! -e "$WORK/save/web1" ] && [ -f "$WORK/save/.web1.bridged-off" ] || fail "autostart-off: the image was not moved aside"
[ "$(readlink "$WORK/xen/auto/web1.cfg")" = /srv/old-host/web1.cfg ] || fail "the link pointing elsewhere was touched"
[ "$(readlink "$WORK/xen/auto/other")" = ../other.cfg ] && [ -f "$WORK/save/other" ] || fail "another VM's entries were touched"
grep -q "left alone: $WORK/xen/auto/web1.cfg: a link to /srv/old-host/web1.cfg, not to the VM's config" \
	"$WORK/off.out" || fail "autostart-off: the link pointing elsewhere is not reported: $(cat "$WORK/off.out")"
grep -q "auto-link .*$WORK/xen/auto/web1 -> ../web1.cfg" "$WORK/off.out" &&
	grep -q "saved-image .*$WORK/save/web1 (aside: $WORK/save/.web1.bridged-off)" "$WORK/off.out" ||
	fail "autostart-off: $(cat "$WORK/off.out")"
OFF=$(listings)
JOURNAL=$(cat "$WORK/state/web1.json")
src off2 new --vm web1 autostart-off --json || fail "autostart-off again: exit $?"
[ "$(listings)" = "$OFF" ] || fail "autostart-off again changed something"
[ "$(cat "$WORK/state/web1.json")" = "$JOURNAL" ] || fail "autostart-off again changed the journal"
[ "$(jq '[.changes[] | select(.changed_now)] | length' "$WORK/off2.out")" = 0 ] &&
	[ "$(jq '.changes | length' "$WORK/off2.out")" = 2 ] || fail "autostart-off again: $(cat "$WORK/off2.out")"
src back new --vm web1 autostart-restore --json || fail "autostart-restore: exit $? ($(cat "$WORK/back.err"))"
[ "$(field back result)" = restored ] || fail "autostart-restore: $(cat "$WORK/back.out")"
[ "$(readlink "$WORK/xen/auto/web1")" = ../web1.cfg ] || fail "restore: the link is not the same"
src back2 new --vm web1 autostart-restore --json && [ "$(field back2 result)" = "nothing to restore" ] ||
	fail "restore again: $(cat "$WORK/back2.out")"
log "autostart: link removed and image aside (a link elsewhere left alone and reported), twice = once, restored"

# --- start (a rollback) ---------------------------------------------------------
refused() { # RC NAME PATTERN
	[ "$1" = 3 ] || fail "$2: exit $1, want 3 ($(cat "$WORK/$2.err"))"
	grep -q -- "$3" "$WORK/$2.err" || fail "$2: the reason is not '$3': $(cat "$WORK/$2.err")"
}
domains() { ls "$XL_STANDIN_DIR/domains"; }
src st5 new --vm web1 state --json && [ "$(field st5 state)" = "shut off" ] || fail "web1 is not shut off"
src up new --vm web1 start --json || fail "start: exit $? ($(cat "$WORK/up.err"))"
[ "$(field up result)" = started ] && [ "$(field up vm)" = web1 ] && [ "$(field up domain)" = web1 ] &&
	[ "$(field up state.state)" = running ] && [ "$(field up state.flags)" = -b---- ] &&
	[ "$(field up state.domid)" = "$(read -r d _ <"$XL_STANDIN_DIR/domains/web1" && echo "$d")" ] ||
	fail "start: $(cat "$WORK/up.out")"
pid=$(guest_pid web1)
kill -0 "$pid" || fail "start: the guest's process does not run"
src up2 new --vm web1 start || fail "start again: exit $? ($(cat "$WORK/up2.err"))"
grep -q "^VM web1: already running$" "$WORK/up2.out" &&
	grep -q "^  VM web1 (domain web1): running, domid [0-9]*, -b---- (blocked) \[xl (" "$WORK/up2.out" ||
	fail "start again: $(cat "$WORK/up2.out")"
[ "$(guest_pid web1)" = "$pid" ] || fail "start again: another guest was started"
DOMAINS=$(domains)
src upnone new --vm mailserver start --json
refused $? upnone "no VM mailserver here"
[ "$(field upnone status)" = ENOENT ] || fail "start of an unknown VM: not ENOENT: $(cat "$WORK/upnone.out")"
src upflag new --vm web1 start --force
[ $? = 2 ] || fail "start --force: not a usage error"
[ "$(domains)" = "$DOMAINS" ] || fail "a refused start changed the domains: $(domains)"
log "start: shut off -> running (as xl reports it); again: already running; an unknown VM: refused, nothing started"

# --- refusals -----------------------------------------------------------------
src novm new --vm mailserver state --json
refused $? novm "no VM mailserver here"
[ "$(field novm status)" = ENOENT ] || fail "unknown VM: not ENOENT: $(cat "$WORK/novm.out")"
src stranger stranger --vm web1 shutdown --force --timeout 1
refused $? stranger "not authenticated"
src stranger2 stranger --vm web1 autostart-off
refused $? stranger2 "not authenticated"
src trav new --vm ../evil config
[ $? = 2 ] || fail "../evil: not a usage error"
src st4 new --vm web1 state --json && [ "$(field st4 state)" = running ] ||
	fail "web1 does not run after the stranger's shutdown: $(cat "$WORK/st4.out")"
log "refused: an unknown VM (ENOENT), a stranger's key (the VM still runs)"

# nothing else changed
[ "$(listings)" = "$BEFORE" ] || { diff <(echo "$BEFORE") <(listings); fail "something else changed"; }

for pat in "peer new (198.18.0.2:[0-9]*): served the config of VM web1" \
	"peer new (198.18.0.2:[0-9]*): VM web1: state: {" \
	"peer new (198.18.0.2:[0-9]*): shutting down VM web1 (domain web1, xl (" \
	"peer new (198.18.0.2:[0-9]*): VM web1: shutdown: {.*\"result\":\"shut off\"" \
	"peer new (198.18.0.2:[0-9]*): refused: VM slow1 did not shut down within 2 s" \
	"peer new (198.18.0.2:[0-9]*): VM slow1: shutdown: {.*\"result\":\"destroyed\"" \
	"peer new (198.18.0.2:[0-9]*): VM web1: autostart-off: {" \
	"peer new (198.18.0.2:[0-9]*): VM web1: autostart-restore: {" \
	"peer new (198.18.0.2:[0-9]*): starting VM web1 (domain web1, xl (.*); $WORK/xen/web1.cfg)" \
	"peer new (198.18.0.2:[0-9]*): VM web1: start: {.*\"result\":\"started\"" \
	"peer new (198.18.0.2:[0-9]*): VM web1: start: {.*\"result\":\"already running\"" \
	"peer new (198.18.0.2:[0-9]*): refused: no VM mailserver here" \
	"198.18.0.2:[0-9]*: refused: not authenticated"; do
	grep -q -- "migrate: $pat" "$WORK/old.log" || fail "no log line for '$pat'"
done
children_reaped "$old_PID"
# the client's sanitizer reports (the daemon's are checked at cleanup)
! grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK"/*.err || fail "sanitizer report above"
ctl old status --json >/dev/null || fail "the daemon does not answer any more"
stop_bridged old
log "nothing else changed, every action logged with the peer, children reaped"
