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

struct stream_dest {
	int fd;
	int dfd;		/* the same file opened with O_DIRECT, when direct */
	bool direct;		/* aligned block writes go through dfd */
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

/* Drops the destination's cached pages so a read-back hits the disk. */
void dest_drop_cache(struct stream_dest *d, uint64_t length);

/* True when len bytes at buf are all zero. */
bool buf_is_zero(const uint8_t *buf, size_t len);

#endif
