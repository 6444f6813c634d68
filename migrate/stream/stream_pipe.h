/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small in-order pipeline for the disk stream: a ring of slots, threads
 * per stage (read, hash, send on the sender; receive, hash, write, commit
 * on the receiver). Stage k takes slot n after stage k-1 finished with it;
 * the first stage reuses a slot once the last stage released it. The first
 * stage ends the run by returning PIPE_LAST for its final slot.
 *
 * A stage may run on several threads (workers): worker j takes the slots of
 * sequence numbers j, j + W, j + 2W, ... so several of them are in that
 * stage at once (O_DIRECT writes in flight), and the next stage still takes
 * them in order. The first stage always has one worker.
 */
#ifndef BRIDGED_MIGRATE_STREAM_PIPE_H
#define BRIDGED_MIGRATE_STREAM_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/stream/stream.h"

#define PIPE_LAST 1
#define PIPE_STAGES_MAX 4
#define PIPE_WORKERS_MAX 8

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
	uint64_t seq;		/* the pipeline's sequence number of its content */
	bool last;
	enum slot_kind kind;
	uint64_t index, offset;
	uint32_t len;
	int err;		/* a stage's own result, for a later stage */
	bool pending;		/* receiver: its write is in flight (io_uring) */
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

struct pipe_stage {
	const char *name;
	pipe_stage_fn fn;
	unsigned workers;	/* threads of this stage; 0 = 1 */
	/* NULL, or called once after every thread of the run ended and
	 * before the slots' buffers are freed (I/O still in flight on them
	 * after a failure must complete first). */
	void (*drain)(void *arg);
};

/* Where a stage's threads spent their time, summed over its workers:
 * busy in the stage function, waiting for a slot. Seconds. */
struct pipe_stats {
	double busy, wait;
	uint64_t slots;
};

/* Runs the stages to the end. Returns 0 or the first stage's error. stats
 * (NULL: none) has one entry per stage. */
int pipe_run(unsigned nslots, size_t bufsize, unsigned nstages, const struct pipe_stage *stages,
	     pipe_abort_fn on_abort, void *arg, struct pipe_stats *stats);

#endif
