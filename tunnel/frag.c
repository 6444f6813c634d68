/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fragment reassembly (frag.h). */
#include "tunnel/frag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void frag_table_init(struct frag_table *ft)
{
	memset(ft, 0, sizeof(*ft));
}

void frag_table_free(struct frag_table *ft)
{
	size_t i;

	for (i = 0; i < FRAG_SLOTS; i++)
		free(ft->slots[i].buf);
	memset(ft, 0, sizeof(*ft));
}

static struct frag_slot *slot_find(struct frag_table *ft, uint32_t receiver, uint64_t base)
{
	size_t i;

	for (i = 0; i < FRAG_SLOTS; i++) {
		struct frag_slot *s = &ft->slots[i];

		if (s->used && s->receiver == receiver && s->base == base)
			return s;
	}
	return NULL;
}

static struct frag_slot *slot_take(struct frag_table *ft, unsigned *dropped)
{
	struct frag_slot *oldest = NULL;
	size_t i;

	for (i = 0; i < FRAG_SLOTS; i++) {
		struct frag_slot *s = &ft->slots[i];

		if (!s->used)
			return s;
		if (!oldest || s->started_ns < oldest->started_ns)
			oldest = s;
	}
	oldest->used = false;
	(*dropped)++;
	return oldest;
}

int frag_add(struct frag_table *ft, const struct wire_data_hdr *h,
	     const uint8_t *payload, size_t len, uint64_t now_ns,
	     const uint8_t **ret_frame, unsigned *ret_dropped)
{
	uint64_t base = h->counter - h->frag_index, bit = 1ull << h->frag_index;
	struct frag_slot *s;
	size_t chunk;

	*ret_dropped = 0;
	s = slot_find(ft, h->receiver, base);
	if (!s) {
		s = slot_take(ft, ret_dropped);
		if (s->cap < h->frame_len) {
			/* Grows once per slot to the largest frame seen. */
			size_t cap = h->frame_len < 2048 ? 2048 : WIRE_FRAME_MAX;
			uint8_t *b = realloc(s->buf, cap);

			if (!b)
				return -ENOMEM;
			s->buf = b;
			s->cap = cap;
		}
		s->used = true;
		s->receiver = h->receiver;
		s->base = base;
		s->segment_id = h->segment_id;
		s->kind = h->kind;
		s->frame_len = h->frame_len;
		s->count = h->frag_count;
		s->n_got = 0;
		s->got = 0;
		s->started_ns = now_ns;
	} else if (s->segment_id != h->segment_id || s->kind != h->kind || s->frame_len != h->frame_len ||
		   s->count != h->frag_count || (s->got & bit)) {
		return -EBADMSG;
	}
	chunk = wire_frag_chunk(h->frame_len, h->frag_count);
	memcpy(s->buf + (size_t)h->frag_index * chunk, payload, len);
	s->got |= bit;
	if (++s->n_got < s->count)
		return 0;
	s->used = false;
	*ret_frame = s->buf;
	return 1;
}

unsigned frag_expire(struct frag_table *ft, uint64_t now_ns, uint64_t timeout_ns)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < FRAG_SLOTS; i++) {
		struct frag_slot *s = &ft->slots[i];

		if (s->used && now_ns - s->started_ns >= timeout_ns) {
			s->used = false;
			n++;
		}
	}
	return n;
}

uint64_t frag_next_deadline(const struct frag_table *ft, uint64_t timeout_ns)
{
	uint64_t d = UINT64_MAX;
	size_t i;

	for (i = 0; i < FRAG_SLOTS; i++)
		if (ft->slots[i].used && ft->slots[i].started_ns + timeout_ns < d)
			d = ft->slots[i].started_ns + timeout_ns;
	return d;
}
