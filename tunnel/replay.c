/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Replay window (replay.h), after WireGuard's src/receive.c counter_validate. */
#include "tunnel/replay.h"

#include <string.h>

#define WORDS (REPLAY_BITS_TOTAL / REPLAY_WORD_BITS)

void replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool replay_check(const struct replay *r, uint64_t c, uint64_t reject_after)
{
	uint64_t idx;

	if (c >= reject_after || r->counter >= reject_after + 1)
		return false;
	c++;
	if (REPLAY_WINDOW_SIZE + c < r->counter)
		return false;
	if (c > r->counter)
		return true;
	idx = (c / REPLAY_WORD_BITS) & (WORDS - 1);
	return !(r->bitmap[idx] & (1ull << (c & (REPLAY_WORD_BITS - 1))));
}

bool replay_update(struct replay *r, uint64_t c, uint64_t reject_after)
{
	uint64_t idx, idx_cur, top, i, bit;

	if (c >= reject_after || r->counter >= reject_after + 1)
		return false;
	c++;
	if (REPLAY_WINDOW_SIZE + c < r->counter)
		return false;
	idx = c / REPLAY_WORD_BITS;
	if (c > r->counter) {
		idx_cur = r->counter / REPLAY_WORD_BITS;
		top = idx - idx_cur;
		if (top > WORDS)
			top = WORDS;
		for (i = 1; i <= top; i++)
			r->bitmap[(i + idx_cur) & (WORDS - 1)] = 0;
		r->counter = c;
	}
	idx &= WORDS - 1;
	bit = 1ull << (c & (REPLAY_WORD_BITS - 1));
	if (r->bitmap[idx] & bit)
		return false;
	r->bitmap[idx] |= bit;
	return true;
}
