#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: early
# The disk stream under faults (docs/RELIABILITY.md, "t-faults"):
#
# 1. Cuts: a copy of FAULTS_MIB MiB of random data (default 256; 1024 for
#    the long run) with `send --retry` and `receive --retry`, while the
#    connection is cut NCUTS times (seeded from SEED, printed for a replay)
#    at random moments: a burst of TCP resets for 0.5-1.5 s, either on the
#    receiver's INPUT or on the sender's OUTPUT (iptables REJECT
#    --reject-with tcp-reset, in the namespaces). Both ends must carry on by
#    themselves: verified on both sides, byte-identical, one reconnect per
#    cut on each side, and per cut the sender resent at most the window
#    plus what the socket's send buffer held (the blocks in flight).
# 2. Strangers during a retry: while the sender is cut off, a peer with
#    another key and then the right peer with another image connect: both
#    are refused (exit 3, nothing written) and the copy goes on, verified.
# 3. Power loss (docs/RELIABILITY.md): the receiver writes through a loop
#    device onto a file in a FUSE file system (tests/stream/wcache-fs) that
#    holds every write in a volatile write cache until an fsync/fdatasync,
#    like a disk's cache; the receiver is killed with -9 and the cache is
#    dropped. The map must claim no block that is not on "stable storage",
#    and the rerun must be byte-identical.
. "$(dirname "$0")/lib.sh"
command -v iptables >/dev/null || skip "iptables missing"
SEED=${SEED:-$RANDOM}
RANDOM=$SEED
MIB=${FAULTS_MIB:-256}
NCUTS=${NCUTS:-$((3 + RANDOM % 3))}
log "SEED=$SEED FAULTS_MIB=$MIB NCUTS=$NCUTS (replay: SEED=$SEED FAULTS_MIB=$MIB bash $0)"
two_hosts
bs=$MiB
win=4
ckpt=4
size=$((MIB * MiB))
random_file "$WORK/src.img" "$MIB"

# events NAME EVENT: how many EVENT lines NAME's JSON holds so far
events() { grep -c "\"event\":\"$2\"" "$WORK/$1.json" 2>/dev/null || true; }

# reset_burst SIDE SECONDS: TCP resets on the stream's port for SECONDS
reset_burst() {
	local side=$1 t=$2 ns chain rule
	if [ "$side" = rx ]; then ns=$P-b chain=INPUT; else ns=$P-a chain=OUTPUT; fi
	rule=("$chain" -p tcp --dport "$PORT" -j REJECT --reject-with tcp-reset)
	nsx "$ns" iptables -A "${rule[@]}"
	CLEANUP+=("ip netns exec $ns iptables -D ${rule[*]}")
	sleep "$t"
	nsx "$ns" iptables -D "${rule[@]}"
}

# ---------------------------------------------------------------- 1. cuts
# The link is the bottleneck (a token bucket on the sender's side of the
# veth, as on a WAN): TCP's send buffer is full when a cut comes, so the
# cut loses data in flight, which the sender must send again.
rate=$((MIB < 512 ? 320 : 640))mbit
nsx "$P-a" tc qdisc add dev ul0 root tbf rate "$rate" burst 256kb latency 20ms
truncate -s "$size" "$WORK/dst.img"
rx cut-rx --retry 30 --checkpoint $ckpt --window $win "$WORK/dst.img"
txbg cut-tx --retry 30 --block-size $bs --window $win "$WORK/src.img"
done_cuts=0
for ((k = 1; k <= NCUTS; k++)); do
	# wait until the previous cut is healed on both sides (30 s at most)
	for ((i = 0; i < 600; i++)); do
		[ "$(events cut-tx reconnected)" -ge $done_cuts ] && [ "$(events cut-rx reconnected)" -ge $done_cuts ] && break
		kill -0 "$TXPID" 2>/dev/null || break
		sleep 0.05
	done
	[ "$(events cut-tx reconnected)" -ge $done_cuts ] || fail "cut $done_cuts not healed within 30 s"
	# a pause after the last cut: 0.2 s to 0.2 + FAULTS_MIB / 320 s
	p=$((2 + RANDOM % (MIB / 32 > 8 ? MIB / 32 : 8)))
	sleep "$((p / 10)).$((p % 10))"
	kill -0 "$TXPID" 2>/dev/null || break
	side=rx
	((RANDOM % 2)) && side=tx	# (not in a $(...): a subshell reseeds RANDOM)
	hold=$((5 + RANDOM % 11))
	hold=$((hold / 10)).$((hold % 10))
	log "cut $k: resets on the $([ $side = rx ] && echo "receiver's INPUT" || echo "sender's OUTPUT") for $hold s"
	reset_burst "$side" "$hold"
	done_cuts=$k
done
wait_pid "$TXPID" 120; rc=$?
[ $rc = 0 ] || fail "send --retry exit $rc: $(result cut-tx message)"
wait_pid "$RXPID" 30; rc=$?
[ $rc = 0 ] || fail "receive --retry exit $rc: $(result cut-rx message)"
expect_verified cut-rx cut-tx
[ "$(result cut-tx image_hash)" = "$(result cut-rx image_hash)" ] || fail "image hashes differ"
same "$WORK/src.img" "$WORK/dst.img"
ntx=$(result cut-tx reconnects)
nrx=$(result cut-rx reconnects)
log "$done_cuts cut(s): sender reconnected $ntx time(s), receiver $nrx; resent $(result cut-tx resent_bytes) bytes in all"
[ "$done_cuts" -ge 1 ] || fail "the copy ended before the first cut (too fast: lower the rate)"
[ "$ntx" = "$done_cuts" ] || fail "sender: $ntx reconnects for $done_cuts cuts"
[ "$nrx" = "$done_cuts" ] || fail "receiver: $nrx reconnects for $done_cuts cuts"
# per cut: resent <= (window + 1) blocks + the send buffer's maximum
# (what TCP held unacknowledged when the resets came)
wmem=$(nsx "$P-a" cat /proc/sys/net/ipv4/tcp_wmem | awk '{print $3}')
bound=$(((win + 1) * bs + wmem))
jq -r 'select(.event == "result") | .cuts[] | "\(.at) \(.bytes_done) \(.resent_bytes) \(.outage) \(.cause)"' \
	"$WORK/cut-tx.json" >"$WORK/cuts.txt"
while read -r at bd resent outage cause; do
	log "  cut at ${at%.*} s, $((bd / MiB)) MiB done: $cause; resent $resent bytes ($((resent * 100 / (win * bs)))% of the window); back after ${outage:0:4} s"
	[ "$resent" -le "$bound" ] || fail "a cut made $resent bytes travel again > $bound"
done <"$WORK/cuts.txt"
[ "$(wc -l <"$WORK/cuts.txt")" = "$done_cuts" ] || fail "the sender's result lists $(wc -l <"$WORK/cuts.txt") cuts"
# total: what travelled = the image + what was resent
d=$(result cut-tx data_bytes)
[ "$d" = $((size + $(result cut-tx resent_bytes))) ] || fail "data_bytes $d != image + resent_bytes"

# ------------------------------------------- 2. strangers during a retry
# The sender is cut off (resets on the receiver's INPUT from the veth) for
# as long as it takes: meanwhile, from the receiver's own host (lo, not
# cut), a peer with another key and the right peer with another image
# connect. Both are refused; the copy then resumes, verified.
(umask 077; "$TOOL" genkey >"$WORK/c.key")
random_file "$WORK/other.img" 8
rm -f "$WORK"/.dst.img@*
truncate -s 0 "$WORK/dst.img"; truncate -s "$size" "$WORK/dst.img"
rx st-rx --retry 30 --checkpoint $ckpt --window $win "$WORK/dst.img"
txbg st-tx --retry 30 --block-size $bs --window $win "$WORK/src.img"
wait_done st-rx $((8 * MiB))
rule=(INPUT -i ul0 -p tcp --dport "$PORT" -j REJECT --reject-with tcp-reset)
nsx "$P-b" iptables -A "${rule[@]}"
CLEANUP+=("ip netns exec $P-b iptables -D ${rule[*]}")
# the receiver notices the dead connection (keepalive) and waits for the next
for ((i = 0; i < 300; i++)); do
	[ "$(events st-rx cut)" -ge 1 ] && break
	sleep 0.05
done
[ "$(events st-rx cut)" -ge 1 ] || fail "strangers: the receiver did not notice the cut within 15 s"
nsx "$P-b" "$TOOL" send --to "198.18.0.2:$PORT" --key "$WORK/c.key" --peer-key "$BPUB" --json \
	"$WORK/src.img" >"$WORK/st-key.json" 2>"$WORK/st-key.err"; rc=$?
[ $rc != 0 ] || fail "a peer with another key: exit 0"
nsx "$P-b" "$TOOL" send --to "198.18.0.2:$PORT" --key "$WORK/a.key" --peer-key "$BPUB" --json \
	"$WORK/other.img" >"$WORK/st-img.json" 2>"$WORK/st-img.err"; rc=$?
[ $rc = 3 ] || fail "another image: exit $rc, want 3 (refused)"
grep -q "another image" "$WORK/st-img.json" || fail "another image: the refusal does not say why"
nsx "$P-b" iptables -D "${rule[@]}"
wait_pid "$TXPID" 120; rc=$?
[ $rc = 0 ] || fail "strangers: send --retry exit $rc: $(result st-tx message)"
wait_pid "$RXPID" 30; rc=$?
[ $rc = 0 ] || fail "strangers: receive --retry exit $rc: $(result st-rx message)"
expect_verified st-rx st-tx
same "$WORK/src.img" "$WORK/dst.img"
[ "$(grep -c '"event":"refused"' "$WORK/st-rx.json")" = 2 ] || fail "the receiver did not report 2 refusals"
grep '"event":"refused"' "$WORK/st-rx.json" | grep -q "not authenticated" || fail "the other key's refusal does not name it"
grep '"event":"refused"' "$WORK/st-rx.json" | grep -q "another image" || fail "the other image's refusal does not name it"
[ "$(result st-rx reconnects)" = 1 ] && [ "$(result st-tx reconnects)" = 1 ] ||
	fail "strangers: reconnects $(result st-tx reconnects) / $(result st-rx reconnects), want 1 / 1"
log "strangers during a retry: the other key and another image refused; the copy resumed after $(jq -r 'select(.event == "result") | .cuts[0].outage' "$WORK/st-tx.json" | cut -c1-4) s, verified"
nsx "$P-a" tc qdisc del dev ul0 root

# ---------------------------------------------------------- 3. power loss
[ -x "$TOP/tests/stream/wcache-fs" ] || fail "tests/stream/wcache-fs not built (make tests)"
[ -e /dev/fuse ] || skip "no /dev/fuse"
pmib=64
psize=$((pmib * MiB))
random_file "$WORK/src2.img" $pmib
mkdir -p "$WORK/mnt" "$WORK/state"
truncate -s $psize "$WORK/back.img"	# zeros: a lost block never reads as the source

# boot: the "disk" (wcache-fs on back.img) and a loop device on it; sets LOOP, FSPID
boot() {
	"$TOP/tests/stream/wcache-fs" "$WORK/back.img" "$WORK/mnt" "$WORK/wc.status" 2>>"$WORK/wcache.log" &
	FSPID=$!
	PIDS+=("$FSPID")
	for _ in $(seq 100); do [ -e "$WORK/mnt/disk.img" ] && break; sleep 0.05; done
	[ -e "$WORK/mnt/disk.img" ] || fail "wcache-fs did not mount"
	CLEANUP=("umount -l $WORK/mnt" "${CLEANUP[@]}")
	LOOP=$(losetup -f --show "$WORK/mnt/disk.img") || fail "losetup"
	CLEANUP=("losetup -d $LOOP" "${CLEANUP[@]}")
}
# down: detach and unmount (after the power loss or a clean stop)
down() {
	losetup -d "$LOOP" 2>/dev/null || true
	for _ in $(seq 50); do losetup "$LOOP" >/dev/null 2>&1 || break; sleep 0.1; done
	umount -l "$WORK/mnt" 2>/dev/null || true
}

boot
loop1=$LOOP
rx pl1-rx --state "$WORK/state" --window $win "$LOOP"
# 8 MB/s and a power loss at 20-50 % done: at least 4 s of copy left for the
# pause and the wait for dirty blocks below (at 16 MB/s and up to 70 % a
# loaded CI run once saw the copy end, verified, before the kill)
txbg pl1-tx --block-size $bs --window $win --max-rate 8M "$WORK/src2.img"
at=$(((RANDOM % 30 + 20) * psize / 100))
wait_done pl1-rx "$at" 600
done1=$DONE
sleep 0.$((RANDOM % 10))
# at a moment when the cache holds written blocks not flushed yet (5 s at most)
for ((i = 0; i < 500; i++)); do
	read -r _ dirty _ <"$WORK/wc.status"
	[ "${dirty:-0}" -ge $bs ] && break
	sleep 0.01
done
# the power goes: the receiver and the disk's cache die together
kill -9 "$RXPID" "$FSPID"
wait "$RXPID" "$FSPID" 2>/dev/null
read -r _ dropped _ nflush _ flushed <"$WORK/wc.status"
wait_pid "$TXPID" 30; rc=$?
[ $rc = 4 ] || fail "sender after the power loss: exit $rc, want 4 (interrupted)"
down
map=$(ls "$WORK"/state/*.stream-state 2>/dev/null | head -1)
[ -n "$map" ] || fail "power loss: no resume map was saved before it (no checkpoint?)"
nb=$(((psize + bs - 1) / bs))
claimed=0 held=0 i=0
while read -r valid; do
	on=0
	cmp -s -i $((i * bs)):$((i * bs)) -n $bs "$WORK/src2.img" "$WORK/back.img" && on=1
	held=$((held + on))
	if [ "$valid" != 0 ]; then
		claimed=$((claimed + 1))
		[ $on = 1 ] || fail "power loss: the map claims block $i, whose data did not reach stable storage"
	fi
	i=$((i + 1))
done < <(od -An -v -tu1 -w$((1 + 32)) -j96 -N$((nb * 33)) "$map" | awk '{print $1}')
[ $i = $nb ] || fail "read $i map entries, want $nb"
log "power loss after $((done1 / MiB)) MiB: the cache dropped $dropped bytes not flushed ($nflush flushes, $flushed bytes flushed); stable storage holds $held blocks of the source, the map claims $claimed"
[ $claimed -ge 1 ] || fail "power loss: the map claims nothing (no checkpoint before the loss?)"

# the host is back: same commands, same destination
boot
[ "$LOOP" = "$loop1" ] || mv "$map" "$WORK/state/$(basename "$LOOP")@0.stream-state"
rx pl2-rx --state "$WORK/state" --window $win "$LOOP"
tx pl2-tx --block-size $bs --window $win "$WORK/src2.img" || fail "power loss: rerun send exit $?"
wait_pid "$RXPID" 30 || fail "power loss: rerun receive exit $?"
expect_verified pl2-rx pl2-tx
r2=$(result pl2-tx resumed_bytes)
[ "$r2" = $((claimed * bs)) ] || fail "rerun resumed $r2 bytes, the map claimed $((claimed * bs))"
kill "$FSPID"; wait "$FSPID" 2>/dev/null
down
cmp "$WORK/src2.img" "$WORK/back.img" || fail "power loss: stable storage differs from the source after the rerun"
log "rerun: resumed $((r2 / MiB)) MiB, sent $(($(result pl2-tx data_bytes) / MiB)) MiB; stable storage byte-identical"
echo ok
