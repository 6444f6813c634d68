/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small in-order pipeline for the disk stream: a ring of slots, one
 * thread per stage (read, hash, send on the sender; receive, hash, write on
 * the receiver). Stage k takes slot n after stage k-1 finished with it; the
 * first stage reuses a slot once the last stage released it. The first
 * stage ends the run by returning PIPE_LAST for its final slot.
 */
#ifndef BRIDGED_MIGRATE_STREAM_PIPE_H
#define BRIDGED_MIGRATE_STREAM_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/stream/stream.h"

#define PIPE_LAST 1
#define PIPE_STAGES_MAX 4

enum slot_kind {
	SLOT_NONE,
	SLOT_DATA,		/* bytes in buf */
	SLOT_ZERO,		/* all zero, nothing in buf */
	SLOT_RESUMED,		/* the receiver has it already, not read */
	SLOT_UNCHANGED,		/* delta: same hash on both sides */
	SLOT_BAD,		/* receiver: failed verification */
	SLOT_END,		/* no block: the end of the stream */
	SLOT_KIND_MAX,
};

struct pipe_slot {
	int state;		/* the stage that owns it */
	bool last;
	enum slot_kind kind;
	uint64_t index, offset;
	uint32_t len;
	uint8_t hash[STREAM_HASH_LEN];		/* computed here */
	uint8_t peer_hash[STREAM_HASH_LEN];	/* from the other side */
	bool peer_valid;
	uint8_t *buf;
};

/* Returns 0, PIPE_LAST (first stage only) or -errno (stops the pipeline). */
typedef int (*pipe_stage_fn)(struct pipe_slot *s, void *arg);
/* Called once, from the failing stage's thread, when the run aborts: must
 * unblock stages sleeping in I/O (shutdown of the socket). */
typedef void (*pipe_abort_fn)(int err, void *arg);

/* Runs the stages to the end. Returns 0 or the first stage's error. */
int pipe_run(unsigned nslots, size_t bufsize, unsigned nstages, const pipe_stage_fn *stages,
	     pipe_abort_fn on_abort, void *arg);

#endif
