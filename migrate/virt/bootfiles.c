/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stage 1's kernel and initrd, copied into libvirt's boot directory; see bootfiles.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate/virt/bootfiles.h"

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static int file_copy(const struct boot_source *src, int out, char *err, size_t errlen)
{
	const char *path = src->data;
	char buf[65536];
	int in, r = 0;

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		r = write_all(out, buf, (size_t)n);
		if (r < 0) {
			snprintf(err, errlen, "writing a copy of %s: %s", path, strerror(-r));
			break;
		}
	}
	close(in);
	return r;
}

void boot_source_file(struct boot_source *ret, const char *path)
{
	ret->what = path;
	ret->copy = file_copy;
	ret->data = path;
}

int boot_file_path(const char *dir, const char *vm, const char *kind, char **ret)
{
	if (asprintf(ret, "%s/%s-%s", dir, vm, kind) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The files at a and b hold the same bytes. */
static bool same_bytes(const char *a, const char *b)
{
	char ba[65536], bb[65536];
	int fa, fb;
	bool same = false;

	fa = open(a, O_RDONLY | O_CLOEXEC);
	fb = open(b, O_RDONLY | O_CLOEXEC);
	if (fa >= 0 && fb >= 0) {
		for (;;) {
			ssize_t na = read(fa, ba, sizeof(ba)), nb;
			size_t got = 0;

			if (na < 0)
				break;
			/* read b to the same length (a short read is not a difference) */
			while (got < (size_t)na) {
				nb = read(fb, bb + got, (size_t)na - got);
				if (nb <= 0)
					break;
				got += (size_t)nb;
			}
			if (got != (size_t)na || memcmp(ba, bb, got))
				break;
			if (na == 0) {
				same = read(fb, bb, 1) == 0;
				break;
			}
		}
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

int boot_file_place(const struct boot_source *src, const char *path, bool *ret_changed, char *err, size_t errlen)
{
	char *tmp = NULL, *dcopy = strdup(path), *dir;
	struct stat st;
	int fd = -1, r;

	if (!dcopy)
		return -ENOMEM;
	dir = dirname(dcopy);
	if (stat(dir, &st) < 0 && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		r = -ENOMEM;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	r = src->copy(src, fd, err, errlen);
	if (r < 0)
		goto out;
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (same_bytes(tmp, path)) {
		*ret_changed = false;
		goto out;	/* the temporary file goes */
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	*ret_changed = true;
out:
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(dcopy);
	return r;
}
