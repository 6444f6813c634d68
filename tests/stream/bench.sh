#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Disk stream benchmark (not part of make check): the seed procedure
#   new: nc -l 5000 | dd iflag=fullblock of=DEST bs=32768
#   old: dd if=SRC bs=32768 | nc -N NEW 5000
#   then md5sum SRC (old) and head -c SIZE DEST | md5sum (new), compared
# against `send` / `receive` (encrypted, default options, verification
# included), end to end, on the same two namespace hosts in one run, for:
# random data, a mostly-zero image (95 % zeros), an ext4 image with files.
# CPU: user+sys seconds of each of our processes divided by wall time.
# The seed's dd leaves its copy in the page cache (not on disk) when it
# ends; ours flushes before "verified": the second seed column adds
# conv=fdatasync to the seed's dd for a like-for-like figure.
#
#   tests/stream/bench.sh [RANDOM_MIB [SPARSE_GIB [EXT4_MIB]]]   (default 1024 4 1024)
#
# Knobs (environment): IMAGES ["random sparse ext4"], REPS [3] rounds,
# PLAIN [0]: 1 = also ours with --plain on the random image, into the
# disk's $WORK, into a new file in /dev/shm (without the disk), and over an
# existing file there (the destination's memory already in place, as a
# volume's blocks are: in this guest the host supplies memory at first
# touch, and a new 1 GiB tmpfs file costs 0.2-4 s of that), after each round
# (interleaved: round r of every procedure before round r+1; the table
# shows medians), PINS ["1 0"]: 1 = "one core per host" (every sender-side
# process of both procedures on CPU 0 with taskset -c 0, every receiver-side
# one on CPU 1, like ../shared/bench/anchors.sh PIN=1), 0 = unpinned.
# Phases: seed = copy (dd | nc) then verification (md5sum of both sides);
# ours verifies inline, its second phase is the receiver's final flush before
# the verdict (flush_duration). CPU = user+sys of each side over the wall
# time (1.00 = one core): seed copy (dd+nc on each side, over the copy
# time), ours send and receive (over the whole run).
#
# Same starting state for every timed run, of either procedure (SETTLE=1,
# the default): the previous run's output removed, `sync`, the page cache
# dropped (echo 3 > /proc/sys/vm/drop_caches) and the source read back into
# it, `sync` again, then a wait until the disk holding $WORK has no request
# in flight (5 samples 0.1 s apart, at most 5 s: other users of a shared
# machine keep writing). Dirty + Writeback of /proc/meminfo and the load
# average at each start are listed after the tables, and ours' stage
# timings of each run. The order of the procedures rotates from round to
# round (round 1: seed, seed+fdatasync, ours; round 2: seed+fdatasync,
# ours, seed; ...), so none always follows the same one. SETTLE=0: only
# `sync` before each run (the bench before 2026-12-01).
#
# ALTS: variants of ours run in the same rounds (rotating with the others),
# space-separated, each a comma-separated list of environment settings for
# both sides, e.g. ALTS="BRIDGED_STREAM_WRITER=threads,BRIDGED_STREAM_PREALLOC=0"
# (the receiver before io_uring and preallocation, docs/STREAM.md).
#
# Uses an optimised build of the stream tool ($WORK/src, make: -O2, no
# sanitizers); the seed uses netcat-openbsd (-N: close on EOF; the seed's
# `-q 15` would add 15 s of idle waiting to every copy).
. "$(dirname "$0")/lib.sh"
command -v nc >/dev/null || skip "nc (netcat-openbsd) missing: make deps"
IMAGES=${IMAGES:-random sparse ext4}
REPS=${REPS:-3}
PINS=${PINS:-1 0}
SETTLE=${SETTLE:-1}
PLAIN=${PLAIN:-0}
read -r -a ALT <<<"${ALTS:-}"
OURS_ENV=()	# environment of ours (an ALTS variant)
RAND_MIB=${1:-1024}
SPARSE_GIB=${2:-4}
EXT4_MIB=${3:-1024}

# optimised build: the tree as it is (tracked and new files) built by the
# Makefile in a copy, so the worktree's own (maybe sanitized) objects stay
TOOL=$WORK/src/tests/stream/stream-tool
mkdir -p "$WORK/src"
(cd "$TOP" && git ls-files -z --cached --others --exclude-standard | tar cf - --null -T - 2>/dev/null) |
	tar xf - -C "$WORK/src" || fail "copy of the tree"
make -C "$WORK/src" -j2 tests/stream/stream-tool >"$WORK/build.log" 2>&1 ||
	fail "build of the stream tool: $(tail -5 "$WORK/build.log")"
two_hosts

log "making test images"
random_file "$WORK/random.img" "$RAND_MIB"
truncate -s "${SPARSE_GIB}G" "$WORK/sparse.img"
runs=$((SPARSE_GIB * 1024 * 5 / 100 / 4))	# 5 % as 4 MiB runs
step=$((SPARSE_GIB * 1024 / runs))
for ((i = 0; i < runs; i++)); do
	head -c $((4 * MiB)) /dev/urandom | dd of="$WORK/sparse.img" bs=1M seek=$((i * step + 3)) conv=notrunc status=none
done
mkdir -p "$WORK/tree"
for d in 1 2 3 4; do
	mkdir -p "$WORK/tree/d$d"
	for f in $(seq 1 50); do head -c $((RANDOM * EXT4_MIB * 128 / 1000)) /dev/urandom >"$WORK/tree/d$d/f$f"; done
done
head -c $((EXT4_MIB * MiB / 4)) /dev/urandom >"$WORK/tree/big.bin"
seq 1 3000000 >"$WORK/tree/text.txt"
mkfs.ext4 -q -F -d "$WORK/tree" "$WORK/ext4.img" "${EXT4_MIB}M" || fail "mkfs.ext4"
rm -rf "$WORK/tree"
# every source in the page cache for both procedures
cat "$WORK"/random.img "$WORK"/ext4.img >/dev/null

now() { date +%s.%N; }
DISK=$(basename "$(findmnt -no SOURCE -T "$WORK")")
[ -r "/sys/class/block/$DISK/stat" ] || DISK=

# requests in flight on $DISK
inflight() { awk '{print $9}' "/sys/class/block/$DISK/stat"; }

# settle SRC: the same starting state before every timed run (see above)
settle() {
	local src=$1 i quiet=0
	sync
	[ "$SETTLE" = 1 ] || return 0
	echo 3 >/proc/sys/vm/drop_caches
	cat "$src" >/dev/null
	sync
	[ -n "$DISK" ] || return 0
	for ((i = 0; i < 50 && quiet < 5; i++)); do
		sleep 0.1
		if [ "$(inflight)" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
	done
}

# dirty: Dirty + Writeback of /proc/meminfo, kB
dirty() { awk '/^(Dirty|Writeback):/ {s += $2} END {print s}' /proc/meminfo; }
# state: what a run starts from, for the log
state() { echo "dirty+writeback $(dirty) kB, load $(cut -d' ' -f1-3 /proc/loadavg)"; }
SHM=
if [ "$PLAIN" = 1 ]; then
	SHM=$(mktemp -d /dev/shm/$P.XXXXXX) || fail "mktemp in /dev/shm"
	mkdir "$SHM/keep"
	CLEANUP+=("rm -rf $SHM")
fi
TA=() TB=()	# taskset prefixes of the two hosts (pinned runs)

seed() {	# seed SRC [DDOPT]: prints "total copy verify cpu_tx cpu_rx"
	local src=$1 ddopt=${2:-} n t0 t1 t2 a b
	n=$(stat -c %s "$src")
	rm -f "$WORK/seed.out"
	settle "$src"
	echo "r$r pin=$pin $img seed${ddopt:+ $ddopt}: $(state)" >>"$WORK/starts"
	t0=$(now)
	ip netns exec "$P-b" "${TB[@]}" /usr/bin/time -f "%U %S" -o "$WORK/stime-rx" \
		sh -c "nc -l 198.18.0.2 5000 | dd iflag=fullblock of=$WORK/seed.out bs=32768 $ddopt status=none" &
	local rxp=$!
	wait_listen 5000
	ip netns exec "$P-a" "${TA[@]}" /usr/bin/time -f "%U %S" -o "$WORK/stime-tx" \
		sh -c "dd if=$src bs=32768 status=none | nc -N 198.18.0.2 5000"
	wait "$rxp"
	t1=$(now)
	# both sides' md5sum (each on its host, at the same time)
	ip netns exec "$P-a" "${TA[@]}" md5sum "$src" >"$WORK/md5a" &
	local ap=$!
	b=$(ip netns exec "$P-b" "${TB[@]}" sh -c "head -c $n $WORK/seed.out | md5sum")
	wait "$ap"
	t2=$(now)
	a=$(cut -d' ' -f1 "$WORK/md5a")
	[ "$a" = "${b%% *}" ] || fail "seed: md5 differs for $src"
	rm -f "$WORK/seed.out"
	local c=$(echo "$t1 - $t0" | bc)
	echo "$(echo "$t2 - $t0" | bc) $c $(echo "$t2 - $t1" | bc)" \
		"$(awk -v w="$c" '{printf "%.2f", ($1 + $2) / w}' "$WORK/stime-tx")" \
		"$(awk -v w="$c" '{printf "%.2f", ($1 + $2) / w}' "$WORK/stime-rx")"
}

ours() {	# ours SRC [DIR [ARG...]]: prints "total copy flush cpu_tx cpu_rx"
	local src=$1 dir=${2:-$WORK} n t0 t1
	shift $(($# < 2 ? $# : 2))
	local out=$dir/ours.out create=(--create)
	n=$(stat -c %s "$src")
	rm -f "$dir"/.ours.out@*
	if [ -n "${OURS_KEEP:-}" ]; then	# into an existing destination
		[ "$(stat -c %s "$out" 2>/dev/null)" = "$n" ] || head -c "$n" /dev/zero >"$out"
		create=()
	else
		rm -f "$out"
	fi
	settle "$src"
	echo "r$r pin=$pin $img ours${OURS_ENV[*]:+ ${OURS_ENV[*]}}${*:+ $*} into $dir: $(state)" >>"$WORK/starts"
	t0=$(now)
	ip netns exec "$P-b" "${TB[@]}" env "${OURS_ENV[@]}" /usr/bin/time -f "%U %S" -o "$WORK/time-rx" "$TOOL" receive \
		--listen 198.18.0.2:$PORT --key "$WORK/b.key" --peer-key "$APUB" "${create[@]}" --json -q "$@" \
		"$out" >"$WORK/ours-rx.json" 2>"$WORK/ours-rx.err" &
	local rxp=$!
	wait_listen $PORT	# as for the seed's nc -l
	ip netns exec "$P-a" "${TA[@]}" env "${OURS_ENV[@]}" /usr/bin/time -f "%U %S" -o "$WORK/time-tx" "$TOOL" send \
		--to 198.18.0.2:$PORT --key "$WORK/a.key" --peer-key "$BPUB" --json -q "$@" "$src" \
		>"$WORK/ours-tx.json" 2>"$WORK/ours-tx.err" || fail "send $src: $(cat "$WORK/ours-tx.err")"
	wait "$rxp" || fail "receive $src"
	t1=$(now)
	[ "$(result ours-tx)" = verified ] || fail "ours: not verified"
	cmp -n "$n" "$src" "$out" >/dev/null 2>&1 || [ "$src" = "$WORK/sparse.img" ] ||
		fail "ours: $src differs"
	local wall fl
	wall=$(echo "$t1 - $t0" | bc)
	fl=$(result ours-rx flush_duration)
	for side in tx rx; do
		jq -r --arg w "$wall" 'select(.event == "result") | "  r'$r' pin='$pin' '$img' ours'"${OURS_ENV[*]:+ ${OURS_ENV[*]}}${*:+ $*}"'-'$side' wall \($w)" +
			(if .writer then " writer \(.writer)" else "" end) + ": " +
			([.stages[] | "\(.name) \(.busy * 100 | round / 100)/\(.wait * 100 | round / 100)"] | join(", "))' \
			"$WORK/ours-$side.json" >>"$WORK/stages"
	done
	echo "$wall $(echo "$wall - $fl" | bc) $fl" \
		"$(awk -v w="$wall" '{printf "%.2f", ($1 + $2) / w}' "$WORK/time-tx")" \
		"$(awk -v w="$wall" '{printf "%.2f", ($1 + $2) / w}' "$WORK/time-rx")" \
		"$(result ours-rx duration)"
	rm -f "$dir"/.ours.out@*
	[ -n "${OURS_KEEP:-}" ] || rm -f "$out"
}

# median COLUMN FILE: the median of column COLUMN over the lines of FILE
median() { awk -v c="$1" '{print $c}' "$2" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

for ((r = 1; r <= REPS; r++)); do
	for pin in $PINS; do
		if [ "$pin" = 1 ]; then TA=(taskset -c 0) TB=(taskset -c 1); else TA=() TB=(); fi
		for img in $IMAGES; do
			src=$WORK/$img.img
			log "round $r, pin=$pin, $img"
			nproc=$((3 + ${#ALT[@]}))
			for ((k = 0; k < nproc; k++)); do
				q=$(((k + r - 1) % nproc))
				case $q in
				0) seed "$src" >>"$WORK/r-$pin-$img-seed" ;;
				1) seed "$src" conv=fdatasync >>"$WORK/r-$pin-$img-seedf" ;;
				2) ours "$src" >>"$WORK/r-$pin-$img-ours" ;;
				*) IFS=, read -r -a OURS_ENV <<<"${ALT[q - 3]}"
				   ours "$src" >>"$WORK/r-$pin-$img-alt$((q - 3))"
				   OURS_ENV=() ;;
				esac
			done
			if [ "$PLAIN" = 1 ] && [ "$img" = random ]; then
				ours "$src" "$WORK" --plain >>"$WORK/r-$pin-$img-plain"
				ours "$src" "$SHM" --plain >>"$WORK/r-$pin-$img-plainm"
				OURS_KEEP=1 ours "$src" "$SHM/keep" --plain >>"$WORK/r-$pin-$img-plaink"
			fi
		done
	done
done

for pin in $PINS; do
	echo
	[ "$pin" = 1 ] && echo "one core per host (sender side on CPU 0, receiver side on CPU 1), median of $REPS" ||
		echo "unpinned, median of $REPS"
	echo
	printf '| image | size | seed: copy + md5sum = total | seed, dd conv=fdatasync: total | ours: copy + final flush = total | speed-up vs seed | vs seed+fdatasync | CPU seed copy: send / receive | CPU ours send / receive |\n'
	printf '|---|---|---|---|---|---|---|---|---|\n'
	for img in $IMAGES; do
		src=$WORK/$img.img
		f=$WORK/r-$pin-$img
		s=$(median 1 "$f-seed") sc=$(median 2 "$f-seed") sv=$(median 3 "$f-seed")
		sf=$(median 1 "$f-seedf")
		o=$(median 1 "$f-ours") oc=$(median 2 "$f-ours") of=$(median 3 "$f-ours")
		printf '| %s | %s MiB | %.1f + %.1f = %.1f s | %.1f s | %.1f + %.1f = %.1f s | %.1fx | %.1fx | %s / %s | %s / %s |\n' \
			"$img" $(($(stat -c %s "$src") / MiB)) "$sc" "$sv" "$s" "$sf" "$oc" "$of" "$o" \
			"$(echo "$s / $o" | bc -l)" "$(echo "$sf / $o" | bc -l)" \
			"$(median 4 "$f-seed")" "$(median 5 "$f-seed")" "$(median 4 "$f-ours")" "$(median 5 "$f-ours")"
	done
	echo
	echo "every run (total s; speed-up = seed / ours):"
	for img in $IMAGES; do
		f=$WORK/r-$pin-$img
		paste -d' ' <(awk '{print $1}' "$f-seed") <(awk '{print $1}' "$f-seedf") <(awk '{print $1}' "$f-ours") |
			awk -v i="$img" '{printf "  %s: seed %.1f, seed+fdatasync %.1f, ours %.2f -> %.1fx\n", i, $1, $2, $3, $1 / $3}'
		for ((a = 0; a < ${#ALT[@]}; a++)); do
			paste -d' ' <(awk '{print $1}' "$f-seed") <(awk '{print $1}' "$f-alt$a") |
				awk -v i="$img" -v v="${ALT[a]}" '{printf "  %s: ours with %s %.2f s -> %.1fx\n", i, v, $2, $1 / $2}'
			echo "  $img: ours with ${ALT[a]}: median $(median 1 "$f-alt$a") s (ours: $(median 1 "$f-ours") s)"
		done
	done
done
if [ "$PLAIN" = 1 ]; then
	n=$(stat -c %s "$WORK/random.img")
	echo
	echo "--plain, random data, $((n / MiB)) MiB (GB/s = 10^9 bytes per second of the whole run, to the disk / to a new file in /dev/shm / over an existing one):"
	for pin in $PINS; do
		paste -d' ' <(awk '{print $1}' "$WORK/r-$pin-random-plain") <(awk '{print $1}' "$WORK/r-$pin-random-plainm") \
			<(awk '{print $1}' "$WORK/r-$pin-random-plaink") <(awk '{print $6}' "$WORK/r-$pin-random-plaink") |
			awk -v n="$n" -v p="$pin" '{printf "  pin=%s: %.2f s = %.2f GB/s to the disk, %.2f s = %.2f GB/s to a new /dev/shm file, %.2f s = %.2f GB/s over an existing one (the receiver'"'"'s own duration %.2f s = %.2f GB/s)\n", p, $1, n / $1 / 1e9, $2, n / $2 / 1e9, $3, n / $3 / 1e9, $4, n / $4 / 1e9}'
	done
	echo "  (the whole run: from the receiver's start to both sides' exit, as for the seed; the receiver's own"
	echo "  duration: its --json report's, from the end of the handshake to its verdict)"
fi
echo
echo "at each start (load average: 1, 5, 15 min):"
sed 's/^/  /' "$WORK/starts"
echo "ours, stage busy/wait seconds per run:"
cat "$WORK/stages"
