/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Local session indices -> owner, in O(1): an open-addressing hash table
 * with linear probing and backward-shift deletion. Indices are random and
 * non-zero (index_table_alloc); 0 marks an empty slot.
 */
#ifndef BRIDGED_TUNNEL_INDEX_H
#define BRIDGED_TUNNEL_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct index_entry {
	uint32_t idx;
	uint32_t kind;
	void *ptr;
};

struct index_table {
	struct index_entry *e;
	size_t cap, n;          /* cap: power of two */
};

int index_table_init(struct index_table *t);
void index_table_free(struct index_table *t);
/* Picks a fresh random index, stores (kind, ptr); -ENOMEM. */
int index_table_alloc(struct index_table *t, uint32_t kind, void *ptr, uint32_t *ret_idx);
struct index_entry *index_table_find(const struct index_table *t, uint32_t idx);
void index_table_remove(struct index_table *t, uint32_t idx);

#endif
