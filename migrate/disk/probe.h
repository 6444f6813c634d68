/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reads what the plan needs from a source volume, read-only: its size
 * (BLKGETSIZE64 or stat) and, through libblkid, whether it holds swap and
 * with which UUID and label. Also probes a byte range of a destination.
 */
#ifndef BRIDGED_MIGRATE_PROBE_H
#define BRIDGED_MIGRATE_PROBE_H

#include <stdbool.h>
#include <stdint.h>

struct probe_info {
	uint64_t size;
	char type[32];		/* "swap", "ext4", ... or "" */
	char uuid[37];
	char label[17];
};

/* Opens path read-only and probes all of it. -errno with err set on failure. */
int probe_path(const char *path, struct probe_info *ret, char *err, size_t errlen);
/* Probes [offset, offset + size) of an open fd. */
int probe_fd(int fd, uint64_t offset, uint64_t size, struct probe_info *ret);
/* One partition of a partition table, in bytes. */
struct probe_part {
	int number;
	uint64_t start, size;
};

/*
 * The partitions of the table on path (msdos or gpt; extended partitions
 * left out, logical ones in), read-only. 0 with *ret_n 0 when path holds no
 * partition table; -errno with err set on failure. Free *ret with free().
 */
int probe_partitions(const char *path, struct probe_part **ret, size_t *ret_n, char *err, size_t errlen);
/* The logical sector size of a block device path, or 512 for a file. */
int probe_sector_size(const char *path, unsigned *ret);

#endif
