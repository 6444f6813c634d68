/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Files written so that a crash leaves the old content or the new, never
 * a mix: the state file of remembered endpoints, the autostart journal. */
#ifndef BRIDGED_COMMON_FILEIO_H
#define BRIDGED_COMMON_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

/* Writes all of len bytes (EINTR retried); 0 or -errno. */
int file_write_all(int fd, const void *buf, size_t len);
/* Replaces path with data: a new file beside it (mode 0600, never through a
 * link), written and fsynced, renamed over path, and the directory fsynced
 * so the rename is durable. make_dir: create a missing directory (0700,
 * one level). 0 or -errno; on failure path is untouched and the new file
 * removed. */
int file_write_atomic(const char *path, const void *data, size_t len, bool make_dir);

#endif
