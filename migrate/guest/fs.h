/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One guest file system, read-only, in user space with libext2fs: no
 * mount, no kernel file system driver ever parses guest data. fs.c is the
 * only includer of <ext2fs/ext2fs.h>. Paths here are inside this file
 * system and are not resolved: no symlink is followed (tree.h does that,
 * across the guest's mounts, without ever leaving the guest).
 */
#ifndef BRIDGED_MIGRATE_GUEST_FS_H
#define BRIDGED_MIGRATE_GUEST_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/guest/tree.h"

struct guest_fs;

/* The tree ops of a guest_fs (tree.h). */
extern const struct guest_tree_ops guest_fs_tree_ops;

/*
 * Opens the ext2/3/4 file system that starts offset bytes into path (an
 * image file or a block device), read-only. -errno with err set on
 * failure: -EMEDIUMTYPE when there is no ext superblock, -EIO when
 * libext2fs refuses it (a corrupted superblock or group descriptors).
 */
int guest_fs_open(const char *path, uint64_t offset, struct guest_fs **ret, char *err, size_t errlen);
void guest_fs_close(struct guest_fs *fs);

/* UUID ("" when null), label, whether the journal holds unreplayed transactions. */
void guest_fs_info(const struct guest_fs *fs, char uuid[37], char label[17], bool *ret_needs_recovery);

/* The file system's size in bytes (block count times block size), from its superblock. */
uint64_t guest_fs_bytes(const struct guest_fs *fs);

/*
 * Looks path up (absolute, inside this file system) without following any
 * symlink: -ENOENT, -ENOTDIR (a component is not a directory), -EIO
 * (corrupted metadata: guest_fs_error() says what).
 */
int guest_fs_lstat(struct guest_fs *fs, const char *path, enum guest_ftype *ret_type, uint64_t *ret_size);
/* A symlink's target into buf (NUL-terminated): -EINVAL when not a symlink, -ENAMETOOLONG. */
int guest_fs_readlink(struct guest_fs *fs, const char *path, char *buf, size_t buflen);
/*
 * A regular file's content into a new buffer (NUL-terminated, *ret_len
 * without the NUL); -EFBIG when it is larger than cap, -EISDIR, -EINVAL
 * when it is not a regular file.
 */
int guest_fs_read(struct guest_fs *fs, const char *path, size_t cap, char **ret, size_t *ret_len);
/*
 * A regular file's content, in chunks passed to sink (which returns 0 or
 * -errno to stop): the file is never held whole. -EFBIG when it is larger
 * than cap, -EISDIR, -EINVAL when it is not a regular file, -EIO when it
 * ends short of its size.
 */
int guest_fs_stream(struct guest_fs *fs, const char *path, uint64_t cap, guest_sink_fn sink, void *data);
/* The names in a directory ("." and ".." left out), at most max. */
int guest_fs_list(struct guest_fs *fs, const char *path, size_t max, char ***ret, size_t *ret_n);
/* What libext2fs said last ("" when nothing). */
const char *guest_fs_error(const struct guest_fs *fs);

#endif
