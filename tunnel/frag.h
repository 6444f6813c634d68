/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reassembly of fragmented frames: a small bounded table per peer. A frame
 * is identified by (receiver index, counter of its first fragment); its
 * fragments carry consecutive counters (docs/PROTOCOL.md, Fragmentation).
 * Buffers are allocated once per slot and reused, never per frame.
 */
#ifndef BRIDGED_TUNNEL_FRAG_H
#define BRIDGED_TUNNEL_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/wire.h"

#define FRAG_SLOTS 8

struct frag_slot {
	bool used;
	uint32_t receiver;
	uint64_t base;          /* counter of fragment 0 */
	uint32_t segment_id;
	uint8_t kind;           /* every fragment of a frame has the same */
	uint16_t frame_len;
	uint8_t count, n_got;
	uint64_t got;           /* bitmap of fragment indices */
	uint64_t started_ns;
	uint8_t *buf;
	size_t cap;
};

struct frag_table {
	struct frag_slot slots[FRAG_SLOTS];
};

void frag_table_init(struct frag_table *ft);
void frag_table_free(struct frag_table *ft);

/* Adds one authenticated fragment (h validated by wire_data_hdr_decode and
 * wire_data_check_body; payload of the expected length). Returns 1 when the
 * frame is complete (*ret_frame points into the table, valid until the next
 * call; length h->frame_len), 0 when stored, -EBADMSG for a duplicate or
 * inconsistent fragment, -ENOMEM. *ret_dropped gets the number of partial
 * frames evicted to make room. */
int frag_add(struct frag_table *ft, const struct wire_data_hdr *h,
	     const uint8_t *payload, size_t len, uint64_t now_ns,
	     const uint8_t **ret_frame, unsigned *ret_dropped);
/* Drops partial frames started before now - timeout; returns how many. */
unsigned frag_expire(struct frag_table *ft, uint64_t now_ns, uint64_t timeout_ns);
/* When frag_expire next has work (UINT64_MAX: never). */
uint64_t frag_next_deadline(const struct frag_table *ft, uint64_t timeout_ns);

#endif
