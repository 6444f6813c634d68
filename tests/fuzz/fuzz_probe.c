/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the loop guard's probe decoder (bridged/loopguard.c:
 * probe_is, probe_parse, what guard.c and probeport.c run on every probe
 * frame a TAP or a probe port reads) and the decisions taken on a parsed
 * hop list (loopguard_victim, loopguard_block_needed, probe_find_from),
 * plus the in-place edits of a received frame (probe_append_hop,
 * probe_mark_last_hop) as guard.c makes them, in a buffer of the size it
 * uses. Checked: a probe parses back to the same fields after a hop is
 * appended; a probe verifies only with the MAC we would have put on its
 * origin, segment and sequence; the
 * victim, when there is one, is a tunnel of the loop.
 *
 * Built with -DFUZZ_PROBE_GEN_SEEDS it writes seeds to the directory given.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bridged/loopguard.h"

static const uint8_t key[32] = { 0x42, 0x42, 0x42 };
static const uint8_t me[NODE_ID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t them[NODE_ID_LEN] = { 8, 7, 6, 5, 4, 3, 2, 1 };

#ifndef FUZZ_PROBE_GEN_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[PROBE_MAX_LEN + 64], ours[PROBE_MAX_LEN];
	struct probe p, p2;
	uint8_t a[NODE_ID_LEN], b[NODE_ID_LEN];
	size_t len = size < sizeof(frame) ? size : sizeof(frame);
	int r;

	if (sodium_init() < 0)
		abort();
	memcpy(frame, data, len);
	if (!probe_is(frame, len) || probe_parse(frame, len, &p) < 0)
		return 0;
	if (p.n_hops > PROBE_MAX_HOPS)
		abort();
	(void)probe_find_from(&p, me);
	for (unsigned first = 0; first < p.n_hops; first++) {
		if (loopguard_victim(p.hops, p.n_hops, first, a, b) == 1) {
			bool found = false;

			for (unsigned i = first; i < p.n_hops; i++)
				found |= (!memcmp(p.hops[i].from, a, NODE_ID_LEN) && !memcmp(p.hops[i].to, b, NODE_ID_LEN)) ||
					 (!memcmp(p.hops[i].from, b, NODE_ID_LEN) && !memcmp(p.hops[i].to, a, NODE_ID_LEN));
			if (!found)
				abort();        /* the victim is a tunnel of the loop */
		}
		(void)loopguard_block_needed(p.hops, p.n_hops, first, a, b);
	}
	/* verifies as ours only with the MAC we would have put on those
	 * fields (origin, segment, sequence: what the MAC covers) */
	if (probe_verify(&p, key)) {
		size_t n = probe_build(ours, p.origin, p.segment, p.seq, key);

		if (probe_parse(ours, n, &p2) < 0 || memcmp(p2.mac, p.mac, sizeof(p.mac)))
			abort();
	}
	/* guard.c's edits of a received frame, in a PROBE_MAX_LEN buffer */
	if (len <= PROBE_MAX_LEN) {
		probe_mark_last_hop(frame, len, HOP_BLOCKED);
		r = probe_append_hop(frame, len, PROBE_MAX_LEN, me, them, HOP_PROBING);
		if (r >= 0) {
			if (probe_parse(frame, (size_t)r, &p2) < 0 || p2.n_hops != p.n_hops + 1 ||
			    memcmp(p2.origin, p.origin, NODE_ID_LEN) || p2.segment != p.segment || p2.seq != p.seq ||
			    memcmp(p2.hops[p.n_hops].from, me, NODE_ID_LEN) || p2.hops[p.n_hops].flags != HOP_PROBING)
				abort();
			for (unsigned i = 0; i + 1 < p.n_hops; i++)
				if (memcmp(&p2.hops[i], &p.hops[i], sizeof(p.hops[i])))
					abort();
		} else if (r != -E2BIG || p.n_hops < PROBE_MAX_HOPS) {
			if (r != -E2BIG)
				abort();
		}
	}
	return 0;
}

#else

#include "tests/fuzz/seedgen.h"

int main(int argc, char **argv)
{
	uint8_t f[PROBE_MAX_LEN];
	size_t len;
	char name[32];

	if (argc != 2 || sodium_init() < 0)
		return 2;
	len = probe_build(f, me, 0x12345678, 7, key);
	write_seed(argv[1], "ours-no-hops", f, len);
	for (int n = 1; n <= PROBE_MAX_HOPS; n *= 2) {
		len = probe_build(f, me, 0x12345678, 7 + (uint64_t)n, key);
		for (int i = 0; i < n; i++) {
			uint8_t from[NODE_ID_LEN], to[NODE_ID_LEN];

			memset(from, i, sizeof(from));
			memset(to, i + 1, sizeof(to));
			if (i == 0)
				memcpy(from, me, NODE_ID_LEN);
			if (i == n - 1)
				memcpy(to, me, NODE_ID_LEN);   /* back home: a loop */
			len = (size_t)probe_append_hop(f, len, sizeof(f), from, to, i == n / 2 ? HOP_PROBING : 0);
		}
		snprintf(name, sizeof(name), "loop-%d-hops", n);
		write_seed(argv[1], name, f, len);
	}
	len = probe_build(f, them, 1, 1, key);
	len = (size_t)probe_append_hop(f, len, sizeof(f), them, me, HOP_BLOCKED);
	write_seed(argv[1], "theirs-blocked", f, len);
	return 0;
}

#endif
