/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest file systems through libext2fs, read-only; see fs.h. The only
 * includer of <ext2fs/ext2fs.h>. Opened without EXT2_FLAG_RW, so nothing
 * is ever written (not even the journal: it is not replayed, and a file
 * system that needs recovery is reported as such).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>
#include <et/com_err.h>

#include "migrate/guest/fs.h"

struct guest_fs {
	ext2_filsys fs;
	char error[256];
};

/* libext2fs' codes as -errno: system errors are errno values already. */
static int ext_errno(struct guest_fs *g, errcode_t e, const char *what)
{
	if (!e)
		return 0;
	snprintf(g->error, sizeof(g->error), "%s: %s", what, error_message(e));
	if (e > 0 && e < 4096)
		return -(int)e;
	switch (e) {
	case EXT2_ET_FILE_NOT_FOUND:
		return -ENOENT;
	case EXT2_ET_NO_DIRECTORY:
		return -ENOTDIR;
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_FILE_TOO_BIG:
		return -EFBIG;
	default:
		return -EIO;
	}
}

/* Whether an ext superblock magic is at offset + 1080 (so the rest is libext2fs' to judge). */
static int has_ext_magic(const char *path, uint64_t offset)
{
	unsigned char m[2];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, m, sizeof(m), (off_t)(offset + 1024 + 56));
	close(fd);
	if (n < 0)
		return -errno;
	return n == 2 && m[0] == 0x53 && m[1] == 0xef;
}

int guest_fs_open(const char *path, uint64_t offset, struct guest_fs **ret, char *err, size_t errlen)
{
	struct guest_fs *g;
	char opts[64];
	errcode_t e;
	int r;

	r = has_ext_magic(path, offset);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (!r) {
		snprintf(err, errlen, "no ext2/3/4 superblock at offset %" PRIu64, offset);
		return -EMEDIUMTYPE;
	}
	/* once, for error_message(): the table links itself into com_err's list */
	static bool tables;
	if (!tables) {
		initialize_ext2_error_table();
		tables = true;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	snprintf(opts, sizeof(opts), "offset=%" PRIu64, offset);
	e = ext2fs_open2(path, opts, EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP, 0, 0, unix_io_manager, &g->fs);
	if (e) {
		snprintf(err, errlen, "libext2fs cannot open the file system at offset %" PRIu64 ": %s", offset,
			 error_message(e));
		free(g);
		return e > 0 && e < 4096 ? -(int)e : -EIO;
	}
	*ret = g;
	return 0;
}

void guest_fs_close(struct guest_fs *g)
{
	if (!g)
		return;
	ext2fs_close_free(&g->fs);
	free(g);
}

void guest_fs_info(const struct guest_fs *g, char uuid[37], char label[17], bool *ret_needs_recovery)
{
	const struct ext2_super_block *sb = g->fs->super;
	const unsigned char *u = sb->s_uuid;
	bool zero = true;

	for (int i = 0; i < 16; i++)
		zero = zero && !u[i];
	if (zero)
		uuid[0] = '\0';
	else
		snprintf(uuid, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
			 u[14], u[15]);
	memcpy(label, sb->s_volume_name, 16);
	label[16] = '\0';
	*ret_needs_recovery = (sb->s_feature_incompat & EXT3_FEATURE_INCOMPAT_RECOVER) != 0;
}

uint64_t guest_fs_bytes(const struct guest_fs *g)
{
	return ext2fs_blocks_count(g->fs->super) * (uint64_t)EXT2_BLOCK_SIZE(g->fs->super);
}

const char *guest_fs_error(const struct guest_fs *g)
{
	return g->error;
}

/* The inode of path, following no symlink. */
static int lookup(struct guest_fs *g, const char *path, ext2_ino_t *ret, struct ext2_inode *ret_inode)
{
	ext2_ino_t ino = EXT2_ROOT_INO;
	struct ext2_inode inode;
	const char *p = path;
	errcode_t e;

	e = ext2fs_read_inode(g->fs, ino, &inode);
	if (e)
		return ext_errno(g, e, "/");
	for (;;) {
		size_t l;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		l = strcspn(p, "/");
		if (!LINUX_S_ISDIR(inode.i_mode))
			return -ENOTDIR;
		if (l > EXT2_NAME_LEN)
			return -ENAMETOOLONG;
		e = ext2fs_lookup(g->fs, ino, p, (int)l, NULL, &ino);
		if (e)
			return ext_errno(g, e, path);
		e = ext2fs_read_inode(g->fs, ino, &inode);
		if (e)
			return ext_errno(g, e, path);
		p += l;
	}
	*ret = ino;
	*ret_inode = inode;
	return 0;
}

static enum guest_ftype ftype(const struct ext2_inode *inode)
{
	if (LINUX_S_ISREG(inode->i_mode))
		return GUEST_FT_REG;
	if (LINUX_S_ISDIR(inode->i_mode))
		return GUEST_FT_DIR;
	if (LINUX_S_ISLNK(inode->i_mode))
		return GUEST_FT_LNK;
	return GUEST_FT_OTHER;
}

int guest_fs_lstat(struct guest_fs *g, const char *path, enum guest_ftype *ret_type, uint64_t *ret_size)
{
	struct ext2_inode inode;
	ext2_ino_t ino;
	int r = lookup(g, path, &ino, &inode);

	if (r < 0)
		return r;
	if (ret_type)
		*ret_type = ftype(&inode);
	if (ret_size)
		*ret_size = EXT2_I_SIZE(&inode);
	return 0;
}

/* Reads up to len bytes of inode ino's data into buf; *ret_n the count. */
static int read_data(struct guest_fs *g, ext2_ino_t ino, const char *path, char *buf, size_t len, size_t *ret_n)
{
	ext2_file_t f;
	size_t got = 0;
	errcode_t e;

	e = ext2fs_file_open(g->fs, ino, 0, &f);
	if (e)
		return ext_errno(g, e, path);
	while (got < len) {
		unsigned int chunk = len - got > (1u << 20) ? (1u << 20) : (unsigned int)(len - got), n = 0;

		e = ext2fs_file_read(f, buf + got, chunk, &n);
		if (e || !n)
			break;
		got += n;
	}
	ext2fs_file_close(f);
	if (e)
		return ext_errno(g, e, path);
	*ret_n = got;
	return 0;
}

int guest_fs_readlink(struct guest_fs *g, const char *path, char *buf, size_t buflen)
{
	struct ext2_inode inode;
	ext2_ino_t ino;
	uint64_t size;
	size_t n = 0;
	int r = lookup(g, path, &ino, &inode);

	if (r < 0)
		return r;
	if (!LINUX_S_ISLNK(inode.i_mode))
		return -EINVAL;
	size = EXT2_I_SIZE(&inode);
	if (size + 1 > buflen)
		return -ENAMETOOLONG;
	if (ext2fs_is_fast_symlink(&inode)) {
		if (size > sizeof(inode.i_block))
			return -EIO;
		memcpy(buf, inode.i_block, (size_t)size);
		n = (size_t)size;
	} else {
		r = read_data(g, ino, path, buf, (size_t)size, &n);
		if (r < 0)
			return r;
	}
	buf[n] = '\0';
	if (n != size || memchr(buf, '\0', n))
		return -EIO;
	return 0;
}

int guest_fs_read(struct guest_fs *g, const char *path, size_t cap, char **ret, size_t *ret_len)
{
	struct ext2_inode inode;
	ext2_ino_t ino;
	uint64_t size;
	size_t n = 0;
	char *buf;
	int r = lookup(g, path, &ino, &inode);

	if (r < 0)
		return r;
	if (LINUX_S_ISDIR(inode.i_mode))
		return -EISDIR;
	if (!LINUX_S_ISREG(inode.i_mode))
		return -EINVAL;
	size = EXT2_I_SIZE(&inode);
	if (size > cap)
		return -EFBIG;
	buf = malloc((size_t)size + 1);
	if (!buf)
		return -ENOMEM;
	r = read_data(g, ino, path, buf, (size_t)size, &n);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = n;
	return 0;
}

int guest_fs_stream(struct guest_fs *g, const char *path, uint64_t cap, guest_sink_fn sink, void *data)
{
	struct ext2_inode inode;
	ext2_file_t f;
	ext2_ino_t ino;
	uint64_t size, got = 0;
	errcode_t e = 0;
	char *buf;
	int r = lookup(g, path, &ino, &inode);

	if (r < 0)
		return r;
	if (LINUX_S_ISDIR(inode.i_mode))
		return -EISDIR;
	if (!LINUX_S_ISREG(inode.i_mode))
		return -EINVAL;
	size = EXT2_I_SIZE(&inode);
	if (size > cap)
		return -EFBIG;
	buf = malloc(1u << 16);
	if (!buf)
		return -ENOMEM;
	e = ext2fs_file_open(g->fs, ino, 0, &f);
	if (e) {
		free(buf);
		return ext_errno(g, e, path);
	}
	while (got < size) {
		unsigned int n = 0;

		e = ext2fs_file_read(f, buf, 1u << 16, &n);
		if (e || !n)
			break;
		/* never more than the inode's size, whatever the blocks say */
		if (n > size - got)
			n = (unsigned int)(size - got);
		r = sink(data, buf, n);
		if (r < 0)
			break;
		got += n;
	}
	ext2fs_file_close(f);
	free(buf);
	if (r < 0)
		return r;
	if (e)
		return ext_errno(g, e, path);
	if (got != size) {
		snprintf(g->error, sizeof(g->error), "%s: ends after %" PRIu64 " of %" PRIu64 " bytes", path, got, size);
		return -EIO;
	}
	return 0;
}

struct list_ctx {
	char **names;
	size_t n, max;
	int err;
};

static int list_cb(struct ext2_dir_entry *d, int offset, int blocksize, char *buf, void *priv)
{
	struct list_ctx *c = priv;
	int l = ext2fs_dirent_name_len(d);
	char **nn;

	(void)offset;
	(void)blocksize;
	(void)buf;
	if ((l == 1 && d->name[0] == '.') || (l == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return 0;
	if (c->n >= c->max)
		return DIRENT_ABORT;
	nn = realloc(c->names, (c->n + 1) * sizeof(*nn));
	if (!nn) {
		c->err = -ENOMEM;
		return DIRENT_ABORT;
	}
	c->names = nn;
	nn[c->n] = strndup(d->name, (size_t)l);
	if (!nn[c->n]) {
		c->err = -ENOMEM;
		return DIRENT_ABORT;
	}
	c->n++;
	return 0;
}

int guest_fs_list(struct guest_fs *g, const char *path, size_t max, char ***ret, size_t *ret_n)
{
	struct list_ctx c = { .max = max };
	struct ext2_inode inode;
	ext2_ino_t ino;
	errcode_t e;
	int r = lookup(g, path, &ino, &inode);

	if (r < 0)
		return r;
	if (!LINUX_S_ISDIR(inode.i_mode))
		return -ENOTDIR;
	e = ext2fs_dir_iterate(g->fs, ino, 0, NULL, list_cb, &c);
	r = c.err ? c.err : ext_errno(g, e, path);
	if (r < 0) {
		for (size_t i = 0; i < c.n; i++)
			free(c.names[i]);
		free(c.names);
		return r;
	}
	*ret = c.names;
	*ret_n = c.n;
	return 0;
}

/* ---- as a tree's file system ---- */

static int fs_lstat(void *fs, const char *path, enum guest_ftype *ret_type, uint64_t *ret_size)
{
	return guest_fs_lstat(fs, path, ret_type, ret_size);
}

static int fs_readlink(void *fs, const char *path, char *buf, size_t buflen)
{
	return guest_fs_readlink(fs, path, buf, buflen);
}

static int fs_read(void *fs, const char *path, size_t cap, char **ret, size_t *ret_len)
{
	return guest_fs_read(fs, path, cap, ret, ret_len);
}

static int fs_list(void *fs, const char *path, size_t max, char ***ret, size_t *ret_n)
{
	return guest_fs_list(fs, path, max, ret, ret_n);
}

static int fs_stream(void *fs, const char *path, uint64_t cap, guest_sink_fn sink, void *data)
{
	return guest_fs_stream(fs, path, cap, sink, data);
}

const struct guest_tree_ops guest_fs_tree_ops = {
	.lstat = fs_lstat,
	.readlink = fs_readlink,
	.read = fs_read,
	.list = fs_list,
	.stream = fs_stream,
};

