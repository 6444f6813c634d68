/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Session index table (index.h). */
#include "tunnel/index.h"

#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

static size_t slot_of(const struct index_table *t, uint32_t idx)
{
	/* Indices are random, but they are also chosen by packets we look up:
	 * mix anyway, it is one multiply. */
	return (size_t)((idx * 0x9e3779b1u) >> 7) & (t->cap - 1);
}

int index_table_init(struct index_table *t)
{
	t->cap = 64;
	t->n = 0;
	t->e = calloc(t->cap, sizeof(*t->e));
	return t->e ? 0 : -ENOMEM;
}

void index_table_free(struct index_table *t)
{
	free(t->e);
	t->e = NULL;
	t->cap = t->n = 0;
}

static void insert(struct index_table *t, const struct index_entry *in)
{
	size_t i = slot_of(t, in->idx);

	while (t->e[i].idx)
		i = (i + 1) & (t->cap - 1);
	t->e[i] = *in;
	t->n++;
}

static int grow(struct index_table *t)
{
	struct index_table nt = { .cap = t->cap * 2 };
	size_t i;

	nt.e = calloc(nt.cap, sizeof(*nt.e));
	if (!nt.e)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->e[i].idx)
			insert(&nt, &t->e[i]);
	free(t->e);
	*t = nt;
	return 0;
}

struct index_entry *index_table_find(const struct index_table *t, uint32_t idx)
{
	size_t i;

	if (!idx || !t->e)
		return NULL;
	for (i = slot_of(t, idx); t->e[i].idx; i = (i + 1) & (t->cap - 1))
		if (t->e[i].idx == idx)
			return &t->e[i];
	return NULL;
}

int index_table_alloc(struct index_table *t, uint32_t kind, void *ptr, uint32_t *ret_idx)
{
	struct index_entry e = { .kind = kind, .ptr = ptr };
	int r;

	if ((t->n + 1) * 2 > t->cap) {
		r = grow(t);
		if (r < 0)
			return r;
	}
	do
		e.idx = randombytes_random();
	while (e.idx == 0 || index_table_find(t, e.idx));
	insert(t, &e);
	*ret_idx = e.idx;
	return 0;
}

void index_table_remove(struct index_table *t, uint32_t idx)
{
	struct index_entry *e = index_table_find(t, idx);
	size_t i, j, k;

	if (!e)
		return;
	i = (size_t)(e - t->e);
	t->e[i].idx = 0;
	t->n--;
	/* Backward-shift: move later members of the cluster into the hole
	 * when their home slot does not lie cyclically in (i, j]. */
	for (j = (i + 1) & (t->cap - 1); t->e[j].idx; j = (j + 1) & (t->cap - 1)) {
		k = slot_of(t, t->e[j].idx);
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			t->e[i] = t->e[j];
			t->e[j].idx = 0;
			i = j;
		}
	}
}
