/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"

int file_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int file_write_atomic(const char *path, const void *data, size_t len, bool make_dir)
{
	char *tmp = NULL, *dir = NULL, *slash;
	int fd = -1, r;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		r = -ENOMEM;
		goto out;
	}
	dir = strdup(path);
	if (!dir) {
		r = -ENOMEM;
		goto out;
	}
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else
		strcpy(dir, slash ? "/" : ".");
	/* mkostemp creates the file new, with mode 0600 */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && make_dir) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			goto out;
		}
		strcpy(tmp + strlen(path), ".XXXXXX");
		fd = mkostemp(tmp, O_CLOEXEC);
	}
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = file_write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		goto out;
	}
	/* the rename is durable once the directory is */
	r = fsync_dir(dir);
out:
	free(tmp);
	free(dir);
	return r;
}
