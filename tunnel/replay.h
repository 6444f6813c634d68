/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sliding replay window per receive session, WireGuard's counter.c design:
 * a ring of REPLAY_BITS_TOTAL bits, of which REPLAY_WINDOW_SIZE are the
 * window behind the greatest counter seen; accepts reordering.
 */
#ifndef BRIDGED_TUNNEL_REPLAY_H
#define BRIDGED_TUNNEL_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_BITS_TOTAL 8192
#define REPLAY_WORD_BITS 64
#define REPLAY_WINDOW_SIZE (REPLAY_BITS_TOTAL - REPLAY_WORD_BITS)

struct replay {
	uint64_t counter;   /* greatest counter seen + 1; 0: none yet */
	uint64_t bitmap[REPLAY_BITS_TOTAL / REPLAY_WORD_BITS];
};

void replay_init(struct replay *r);
/* Read-only check: could counter c be accepted? (reject_after: counters at
 * or beyond it are refused). Cheap pre-check before decryption. */
bool replay_check(const struct replay *r, uint64_t c, uint64_t reject_after);
/* Accepts and records c; false if it is a replay, too old or beyond
 * reject_after. Call only after the packet authenticated. */
bool replay_update(struct replay *r, uint64_t c, uint64_t reject_after);

#endif
