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
# Uses an optimised build of the stream tool ($WORK/stream-tool, -O2, no
# sanitizers); the seed uses netcat-openbsd (-N: close on EOF; the seed's
# `-q 15` would add 15 s of idle waiting to every copy).
. "$(dirname "$0")/lib.sh"
command -v nc >/dev/null || skip "nc (netcat-openbsd) missing: make deps"
RAND_MIB=${1:-1024}
SPARSE_GIB=${2:-4}
EXT4_MIB=${3:-1024}

# optimised build
TOOL=$WORK/stream-tool
(cd "$TOP" && ${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I. -o "$TOOL" \
	migrate/stream_wire.c migrate/stream_chan.c migrate/stream_map.c migrate/stream_dev.c \
	migrate/stream_pipe.c migrate/stream_engine.c migrate/stream_cli.c tunnel/keys.c \
	tests/stream/stream-tool.c $(pkg-config --cflags --libs libsodium json-c) -lpthread -lm) ||
	fail "build of the stream tool"
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

seed() {	# seed SRC [DDOPT]: prints seconds
	local src=$1 ddopt=${2:-} n t0 t1 a b
	n=$(stat -c %s "$src")
	rm -f "$WORK/seed.out"
	t0=$(now)
	ip netns exec "$P-b" sh -c "nc -l 198.18.0.2 5000 | dd iflag=fullblock of=$WORK/seed.out bs=32768 $ddopt status=none" &
	local rxp=$!
	wait_listen 5000
	ip netns exec "$P-a" sh -c "dd if=$src bs=32768 status=none | nc -N 198.18.0.2 5000"
	wait "$rxp"
	# both sides' md5sum (each on its host, at the same time)
	ip netns exec "$P-a" md5sum "$src" >"$WORK/md5a" &
	local ap=$!
	b=$(ip netns exec "$P-b" sh -c "head -c $n $WORK/seed.out | md5sum")
	wait "$ap"
	t1=$(now)
	a=$(cut -d' ' -f1 "$WORK/md5a")
	[ "$a" = "${b%% *}" ] || fail "seed: md5 differs for $src"
	rm -f "$WORK/seed.out"
	echo "$t1 - $t0" | bc
}

ours() {	# ours SRC: prints "seconds cpu_tx cpu_rx"
	local src=$1 n t0 t1
	n=$(stat -c %s "$src")
	rm -f "$WORK/ours.out" "$WORK"/.ours.out@*
	t0=$(now)
	ip netns exec "$P-b" /usr/bin/time -f "%U %S" -o "$WORK/time-rx" "$TOOL" receive \
		--listen 198.18.0.2:$PORT --key "$WORK/b.key" --peer-key "$APUB" --create -q \
		"$WORK/ours.out" >"$WORK/ours-rx.out" 2>"$WORK/ours-rx.err" &
	local rxp=$!
	ip netns exec "$P-a" /usr/bin/time -f "%U %S" -o "$WORK/time-tx" "$TOOL" send \
		--to 198.18.0.2:$PORT --key "$WORK/a.key" --peer-key "$BPUB" --json -q "$src" \
		>"$WORK/ours-tx.json" 2>"$WORK/ours-tx.err" || fail "send $src: $(cat "$WORK/ours-tx.err")"
	wait "$rxp" || fail "receive $src"
	t1=$(now)
	[ "$(result ours-tx)" = verified ] || fail "ours: not verified"
	cmp -n "$n" "$src" "$WORK/ours.out" >/dev/null 2>&1 || [ "$src" = "$WORK/sparse.img" ] ||
		fail "ours: $src differs"
	local wall
	wall=$(echo "$t1 - $t0" | bc)
	echo "$wall $(awk -v w="$wall" '{printf "%.2f", ($1 + $2) / w}' "$WORK/time-tx")" \
		"$(awk -v w="$wall" '{printf "%.2f", ($1 + $2) / w}' "$WORK/time-rx")"
	rm -f "$WORK/ours.out" "$WORK"/.ours.out@*
}

printf '| image | size | seed dd\\|nc + md5sum | seed, dd conv=fdatasync | send/receive (verified, durable) | speed-up vs seed | vs seed+fdatasync | CPU send | CPU receive |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for img in random sparse ext4; do
	src=$WORK/$img.img
	s=$(seed "$src")
	sf=$(seed "$src" conv=fdatasync)
	read -r o ctx crx < <(ours "$src")
	printf '| %s | %s MiB | %.1f s | %.1f s | %.1f s | %.1fx | %.1fx | %s | %s |\n' "$img" $(($(stat -c %s "$src") / MiB)) \
		"$s" "$sf" "$o" "$(echo "$s / $o" | bc -l)" "$(echo "$sf / $o" | bc -l)" "$ctx" "$crx"
done
