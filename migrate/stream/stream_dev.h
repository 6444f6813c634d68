/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Disk stream sources and destinations (stream.h): opening with the
 * refusals, sizes, positioned I/O, writing zeros efficiently (BLKZEROOUT on
 * block devices, punched holes in files) and the state file's location.
 */
#ifndef BRIDGED_MIGRATE_STREAM_DEV_H
#define BRIDGED_MIGRATE_STREAM_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "migrate/stream/stream.h"

struct stream_source {
	int fd;
	char *path;		/* as given */
	char *real;		/* realpath, for the source id */
	bool is_blk;
	bool warm;		/* opened in use (--warm) */
	uint64_t size;
};

struct dest_ring;

struct stream_dest {
	int fd;
	int dfd;		/* the same file opened with O_DIRECT, when direct */
	bool direct;		/* aligned block writes go through dfd */
	bool no_prealloc;	/* dest_prealloc failed once (or is off) */
	struct dest_ring *ring;	/* io_uring writes (dest_ring_start), or NULL */
	char *path;
	bool is_blk;
	uint64_t size;
	uint32_t sector;	/* logical sector size of a block device */
	struct stream_dest_opts o;
	char *state_path;	/* the resume map */
};

/* Makes sure offset + length fits: grows a file opened with create, else
 * -ENOSPC with the numbers in errbuf. Writes nothing when refusing. */
int dest_prepare(struct stream_dest *d, uint64_t length, char *errbuf, size_t errlen);
/* Image-relative I/O (the destination offset is added here). */
int dest_write(struct stream_dest *d, const void *buf, size_t len, uint64_t off);
int dest_read(struct stream_dest *d, void *buf, size_t len, uint64_t off);
/* Makes [off, off+len) of the image read as zeros without sending them
 * through the page cache when the kernel can. */
int dest_zero(struct stream_dest *d, size_t len, uint64_t off);
int dest_sync(struct stream_dest *d);

/* Allocates [off, off+len) of a regular file destination ahead of its
 * O_DIRECT writes (fallocate, unwritten extents, size unchanged): on ext4
 * a direct write that allocates takes the inode lock exclusively, one into
 * an allocated (unwritten) extent shares it, so the writes in flight run
 * side by side. A no-op for block devices and buffered destinations; turns
 * itself off after the first failure (the writes allocate as before). */
void dest_prealloc(struct stream_dest *d, uint64_t off, uint64_t len);

/* Block writes through io_uring (liburing): one thread queues them, another
 * reaps them, at most depth in flight. dest_ring_start returns -errno when
 * io_uring is not there (old kernel, seccomp, io_uring_disabled): the caller
 * then writes with dest_write from a pool of threads. */
int dest_ring_start(struct stream_dest *d, unsigned depth);
void dest_ring_stop(struct stream_dest *d);
/* Queues the write of len bytes at image offset off, tag coming back from
 * dest_ring_reap. Waits while depth writes are in flight. Returns 0, or
 * -errno with nothing queued (after dest_ring_abort: -ECANCELED). */
int dest_ring_write(struct stream_dest *d, const void *buf, size_t len, uint64_t off, void *tag);
/* Waits for one write to complete: its tag and result (bytes written, or
 * -errno). -ENOENT when none is in flight. From one thread at a time. */
int dest_ring_reap(struct stream_dest *d, void **tag, int *res);
/* on: wakes a dest_ring_write waiting for room, and makes it and later
 * ones return -ECANCELED (the reaper may have stopped); off: undoes it. */
void dest_ring_cancel(struct stream_dest *d, bool on);
/* Writes in flight. */
unsigned dest_ring_inflight(struct stream_dest *d);

/* Drops the destination's cached pages so a read-back hits the disk. */
void dest_drop_cache(struct stream_dest *d, uint64_t length);

/* True when len bytes at buf are all zero. */
bool buf_is_zero(const uint8_t *buf, size_t len);

#endif
