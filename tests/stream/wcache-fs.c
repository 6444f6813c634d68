/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: a FUSE file system with one file, disk.img, standing for a
 * disk with a volatile write cache. Every write lands in memory (4 KiB
 * pages) and reaches BACKING only on an fsync / fdatasync of the file
 * (what a loop device on it does for a flush, what the disk stream's
 * checkpoints do); reads see the cache over BACKING. A kill -9 of this
 * process is the power loss: what was not flushed is gone, BACKING holds
 * exactly what reached "stable storage" (tests/stream/t-faults.sh).
 *
 *   wcache-fs BACKING MOUNTPOINT STATUS
 *
 * STATUS is rewritten after every write and flush: "dirty BYTES flushes N
 * flushed BYTES", so the test can say how much a power loss dropped.
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u

static struct {
	int fd, status_fd;
	uint64_t size, npages, dirty, flushes, flushed;
	uint8_t **pages;	/* dirty pages, NULL: read BACKING */
} g;

static const char file_name[] = "disk.img";

static void status(void)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "dirty %llu flushes %llu flushed %llu\n",
			 (unsigned long long)g.dirty, (unsigned long long)g.flushes,
			 (unsigned long long)g.flushed);

	if (ftruncate(g.status_fd, 0) == 0 && pwrite(g.status_fd, line, (size_t)n, 0) < 0)
		return;
}

static bool is_file(const char *path)
{
	return path[0] == '/' && !strcmp(path + 1, file_name);
}

static int wc_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (!is_file(path))
		return -ENOENT;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_size = (off_t)g.size;
	st->st_blksize = PAGE;
	st->st_blocks = (blkcnt_t)(g.size / 512);
	return 0;
}

static int wc_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/"))
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, file_name, NULL, 0, 0);
	return 0;
}

static int wc_open(const char *path, struct fuse_file_info *fi)
{
	(void)fi;
	return is_file(path) ? 0 : -ENOENT;
}

static int page_read(uint64_t p, uint8_t *out)
{
	ssize_t n;

	if (g.pages[p]) {
		memcpy(out, g.pages[p], PAGE);
		return 0;
	}
	n = pread(g.fd, out, PAGE, (off_t)(p * PAGE));
	if (n < 0)
		return -errno;
	memset(out + n, 0, PAGE - (size_t)n);
	return 0;
}

static int wc_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	uint8_t page[PAGE];
	size_t done = 0;

	(void)fi;
	if (!is_file(path))
		return -ENOENT;
	if ((uint64_t)off >= g.size)
		return 0;
	if (size > g.size - (uint64_t)off)
		size = (size_t)(g.size - (uint64_t)off);
	while (done < size) {
		uint64_t o = (uint64_t)off + done, p = o / PAGE;
		size_t in = (size_t)(o % PAGE), n = PAGE - in < size - done ? PAGE - in : size - done;
		int r = page_read(p, page);

		if (r < 0)
			return r;
		memcpy(buf + done, page + in, n);
		done += n;
	}
	return (int)done;
}

static int wc_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	size_t done = 0;

	(void)fi;
	if (!is_file(path))
		return -ENOENT;
	if ((uint64_t)off + size > g.size)
		return -ENOSPC;
	while (done < size) {
		uint64_t o = (uint64_t)off + done, p = o / PAGE;
		size_t in = (size_t)(o % PAGE), n = PAGE - in < size - done ? PAGE - in : size - done;

		if (!g.pages[p]) {
			uint8_t *pg = malloc(PAGE);
			int r;

			if (!pg)
				return -ENOMEM;
			r = page_read(p, pg);
			if (r < 0) {
				free(pg);
				return r;
			}
			g.pages[p] = pg;
			g.dirty += PAGE;
		}
		memcpy(g.pages[p] + in, buf + done, n);
		done += n;
	}
	status();
	return (int)done;
}

/* The flush: the cache goes to BACKING, which is synced. */
static int wc_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)datasync;
	(void)fi;
	if (!is_file(path))
		return -ENOENT;
	for (uint64_t p = 0; p < g.npages; p++) {
		if (!g.pages[p])
			continue;
		if (pwrite(g.fd, g.pages[p], PAGE, (off_t)(p * PAGE)) != (ssize_t)PAGE)
			return -EIO;
		free(g.pages[p]);
		g.pages[p] = NULL;
		g.flushed += PAGE;
	}
	if (fdatasync(g.fd) < 0)
		return -EIO;
	g.dirty = 0;
	g.flushes++;
	status();
	return 0;
}

static int wc_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)fi;
	if (!is_file(path))
		return -ENOENT;
	return (uint64_t)size == g.size ? 0 : -EPERM;
}

static const struct fuse_operations ops = {
	.getattr = wc_getattr,
	.readdir = wc_readdir,
	.open = wc_open,
	.read = wc_read,
	.write = wc_write,
	.fsync = wc_fsync,
	.truncate = wc_truncate,
};

int main(int argc, char **argv)
{
	char *fargv[] = { argv[0], "-f", "-s", "-o", "fsname=wcache", NULL, NULL };
	struct stat st;

	if (argc != 4) {
		fprintf(stderr, "usage: wcache-fs BACKING MOUNTPOINT STATUS\n");
		return 2;
	}
	g.fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (g.fd < 0 || fstat(g.fd, &st) < 0 || (uint64_t)st.st_size % PAGE) {
		fprintf(stderr, "wcache-fs: %s: %s\n", argv[1],
			g.fd < 0 ? strerror(errno) : "size not a multiple of 4096");
		return 1;
	}
	g.status_fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (g.status_fd < 0) {
		fprintf(stderr, "wcache-fs: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	g.size = (uint64_t)st.st_size;
	g.npages = g.size / PAGE;
	g.pages = calloc(g.npages ? g.npages : 1, sizeof(*g.pages));
	if (!g.pages)
		return 1;
	status();
	fargv[5] = argv[2];
	return fuse_main(6, fargv, &ops, NULL);
}
