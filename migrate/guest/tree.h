/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's directory tree as its fstab mounts it: file systems at mount
 * points ("/", "/boot", "/usr"), and a path resolver that follows symlinks
 * the way the guest's kernel would, but only ever inside this tree: an
 * absolute link starts again at the guest's "/", ".." stops at it, at most
 * GUEST_TREE_MAX_LINKS links per lookup. Nothing outside the guest is
 * reached. The file systems are behind an ops table (fs.h's guest_fs in
 * preflight, a fake in the unit tests): no outside library here.
 */
#ifndef BRIDGED_MIGRATE_GUEST_TREE_H
#define BRIDGED_MIGRATE_GUEST_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_TREE_MAX_LINKS 40
#define GUEST_PATH_MAX 4096

enum guest_ftype {
	GUEST_FT_REG,
	GUEST_FT_DIR,
	GUEST_FT_LNK,
	GUEST_FT_OTHER,
	GUEST_FT_MAX
};

/* Takes n bytes of a file being streamed: 0, or -errno to stop. */
typedef int (*guest_sink_fn)(void *data, const void *buf, size_t n);

struct guest_tree_ops {
	int (*lstat)(void *fs, const char *path, enum guest_ftype *ret_type, uint64_t *ret_size);
	int (*readlink)(void *fs, const char *path, char *buf, size_t buflen);
	int (*read)(void *fs, const char *path, size_t cap, char **ret, size_t *ret_len);
	int (*list)(void *fs, const char *path, size_t max, char ***ret, size_t *ret_n);
	/* Optional: a file in chunks (fs.h's guest_fs_stream); NULL: read whole, then passed on. */
	int (*stream)(void *fs, const char *path, uint64_t cap, guest_sink_fn sink, void *data);
};

struct guest_tree;

struct guest_tree *guest_tree_new(const struct guest_tree_ops *ops);
/* Frees the tree, not the file systems. */
void guest_tree_free(struct guest_tree *t);
/* Mounts fs at dir (absolute, canonical: "/", "/boot"); a later mount at the same dir hides the earlier. */
int guest_tree_mount(struct guest_tree *t, const char *dir, void *fs);

/*
 * Resolves path (absolute) into canonical form in buf: symlinks followed
 * (the last component's too when follow_last). -ENOENT, -ENOTDIR,
 * -ELOOP, -ENAMETOOLONG, -EIO; -ENXIO when no file system is mounted there.
 */
int guest_tree_resolve(struct guest_tree *t, const char *path, bool follow_last, char *buf, size_t buflen);
/* stat, following symlinks. */
int guest_tree_stat(struct guest_tree *t, const char *path, enum guest_ftype *ret_type, uint64_t *ret_size);
/* lstat: the last component is not followed. */
int guest_tree_lstat(struct guest_tree *t, const char *path, enum guest_ftype *ret_type);
int guest_tree_readlink(struct guest_tree *t, const char *path, char *buf, size_t buflen);
/* A file's content (symlinks followed), see guest_fs_read(). */
int guest_tree_read(struct guest_tree *t, const char *path, size_t cap, char **ret, size_t *ret_len);
/* A file's content in chunks to sink (symlinks followed, inside the guest), see guest_fs_stream(). */
int guest_tree_stream(struct guest_tree *t, const char *path, uint64_t cap, guest_sink_fn sink, void *data);
/* A directory's names (symlinks followed), see guest_fs_list(). */
int guest_tree_list(struct guest_tree *t, const char *path, size_t max, char ***ret, size_t *ret_n);
void guest_tree_names_free(char **names, size_t n);
/* Whether path exists (symlinks followed). */
bool guest_tree_exists(struct guest_tree *t, const char *path);

#endif
