/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disk stream sources and destinations (stream_dev.h). */
#include "migrate/stream/stream_dev.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <liburing.h>
#include <pthread.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate/stream/stream_chan.h"

#define STREAM_STATE_DIR "/var/lib/bridged/stream"
#define DEST_DIRECT_ALIGN 4096	/* buffer, length and offset of an O_DIRECT write */

bool buf_is_zero(const uint8_t *buf, size_t len)
{
	/* memcmp against itself shifted by one is vectorised by libc. */
	return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}

static int blk_size(int fd, uint64_t *ret)
{
	uint64_t sz;

	if (ioctl(fd, BLKGETSIZE64, &sz) < 0)
		return -errno;
	*ret = sz;
	return 0;
}

int stream_source_open(const char *path, bool warm, struct stream_source **ret,
		       char *errbuf, size_t errlen)
{
	struct stream_source *s;
	struct stat st;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->path = strdup(path);
	s->real = realpath(path, NULL);
	if (!s->path || !s->real) {
		r = s->path ? -errno : -ENOMEM;
		stream_errf(errbuf, errlen, "%s: %s", path, strerror(-r));
		goto err;
	}
	if (stat(path, &st) < 0) {
		r = -errno;
		stream_errf(errbuf, errlen, "%s: %s", path, strerror(-r));
		goto err;
	}
	if (S_ISBLK(st.st_mode)) {
		s->is_blk = true;
		/* O_EXCL on a block device fails while anyone holds it exclusively:
		 * mounted, a running Xen domain's blkback, another copy. */
		s->fd = open(path, O_RDONLY | O_CLOEXEC | O_EXCL);
		if (s->fd < 0 && errno == EBUSY && warm)
			s->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0) {
			r = -errno;
			if (r == -EBUSY)
				stream_errf(errbuf, errlen, "%s: in use (mounted or held by a running VM); "
				     "copy it with --warm now and again with --delta once it is stopped",
				     path);
			else
				stream_errf(errbuf, errlen, "%s: %s", path, strerror(-r));
			goto err;
		}
		r = blk_size(s->fd, &s->size);
		if (r < 0) {
			stream_errf(errbuf, errlen, "%s: size: %s", path, strerror(-r));
			goto err;
		}
	} else if (S_ISREG(st.st_mode)) {
		s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
		if (s->fd < 0 && errno == EPERM)
			s->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0) {
			r = -errno;
			stream_errf(errbuf, errlen, "%s: %s", path, strerror(-r));
			goto err;
		}
		/* A read lease is refused (EAGAIN) while any process has the
		 * file open for writing: that is the running VM's image. */
		if (fcntl(s->fd, F_SETLEASE, F_RDLCK) == 0) {
			fcntl(s->fd, F_SETLEASE, F_UNLCK);
		} else if (errno == EAGAIN && !warm) {
			r = -EBUSY;
			stream_errf(errbuf, errlen, "%s: open for writing by another process (a running VM?); "
			     "copy it with --warm now and again with --delta once it is stopped", path);
			goto err;
		}
		s->size = (uint64_t)st.st_size;
	} else {
		r = -EINVAL;
		stream_errf(errbuf, errlen, "%s: not a block device or regular file", path);
		goto err;
	}
	posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	s->warm = warm;
	*ret = s;
	return 0;
err:
	stream_source_free(s);
	return r;
}

void stream_source_free(struct stream_source *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s->real);
	free(s);
}

uint64_t stream_source_size(const struct stream_source *s)
{
	return s->size;
}

int stream_source_fd(const struct stream_source *s)
{
	return s->fd;
}

const char *stream_source_real(const struct stream_source *s)
{
	return s->real;
}

bool stream_source_is_blk(const struct stream_source *s)
{
	return s->is_blk;
}

bool stream_source_warm(const struct stream_source *s)
{
	return s->warm;
}

int stream_source_adopt(int fd, const char *path, const char *real, bool is_blk, bool warm,
			uint64_t size, struct stream_source **ret)
{
	struct stream_source *s = calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	s->path = strdup(path);
	s->real = strdup(real);
	s->is_blk = is_blk;
	s->warm = warm;
	s->size = size;
	if (!s->path || !s->real) {
		stream_source_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

/* The state file's name: one per (destination, offset), so several
 * partitions of one whole-disk volume resume independently. */
static int state_path(struct stream_dest *d, const char *path)
{
	char *copy1 = strdup(path), *copy2 = strdup(path);
	const char *dir, *base;
	int r = 0, n;

	if (!copy1 || !copy2) {
		r = -ENOMEM;
		goto out;
	}
	dir = dirname(copy1);
	base = basename(copy2);
	if (d->o.state_dir)
		n = asprintf(&d->state_path, "%s/%s@%llu.stream-state", d->o.state_dir, base,
			     (unsigned long long)d->o.offset);
	else if (d->is_blk)
		n = asprintf(&d->state_path, "%s/%s@%llu.stream-state", STREAM_STATE_DIR, base,
			     (unsigned long long)d->o.offset);
	else
		n = asprintf(&d->state_path, "%s/.%s@%llu.stream-state", dir, base,
			     (unsigned long long)d->o.offset);
	if (n < 0) {
		d->state_path = NULL;
		r = -ENOMEM;
	}
out:
	free(copy1);
	free(copy2);
	return r;
}

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];
	size_t i, n = strlen(dir);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = i < n ? '/' : '\0';
	}
	return 0;
}

/* A second descriptor of the destination with O_DIRECT, for the aligned
 * block writes that make up a copy: the data goes from the receive buffer
 * to the device without a copy into the page cache and without a later
 * write-back of dirty pages (on this kind of machine that halves the
 * receiver's CPU and more than doubles what a flushed copy can reach).
 * Durability is unchanged: the checkpoints still fdatasync before the map
 * claims a block. Without O_DIRECT support (tmpfs, some filesystems), every
 * write stays buffered. A reopen of the same file, not of the path: the
 * lock (flock) and the exclusive claim (O_EXCL) stay with fd. */
static void dest_open_direct(struct stream_dest *d)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/self/fd/%d", d->fd);
	d->dfd = open(p, O_WRONLY | O_DIRECT | O_CLOEXEC);
	d->direct = d->dfd >= 0;
}

int stream_dest_open(const char *path, const struct stream_dest_opts *o,
		     struct stream_dest **ret, char *errbuf, size_t errlen)
{
	struct stream_dest *d;
	struct stat st;
	int r, flags = O_RDWR | O_CLOEXEC;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = -1;
	d->dfd = -1;
	d->o = *o;
	d->path = strdup(path);
	if (!d->path) {
		r = -ENOMEM;
		goto err;
	}
	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !o->create) {
			r = -errno;
			stream_errf(errbuf, errlen, "%s: %s%s", path, strerror(-r),
			     r == -ENOENT ? " (use --create for a new file)" : "");
			goto err;
		}
		flags |= O_CREAT;
		st.st_mode = S_IFREG;
	}
	if (S_ISBLK(st.st_mode)) {
		d->is_blk = true;
		/* Exclusive: refuses a mounted device or one a VM or another
		 * receive holds, and keeps them off while we write. */
		d->fd = open(path, flags | O_EXCL);
		if (d->fd < 0) {
			r = -errno;
			stream_errf(errbuf, errlen, "%s: %s", path, r == -EBUSY ?
			     "in use (mounted, held by a VM or by another receive)" : strerror(-r));
			goto err;
		}
		r = blk_size(d->fd, &d->size);
		if (r < 0) {
			stream_errf(errbuf, errlen, "%s: size: %s", path, strerror(-r));
			goto err;
		}
		if (ioctl(d->fd, BLKSSZGET, &d->sector) < 0 || d->sector == 0)
			d->sector = 512;
	} else if (S_ISREG(st.st_mode)) {
		d->fd = open(path, flags, 0600);
		if (d->fd < 0) {
			r = -errno;
			stream_errf(errbuf, errlen, "%s: %s", path, strerror(-r));
			goto err;
		}
		if (flock(d->fd, LOCK_EX | LOCK_NB) < 0) {
			r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			stream_errf(errbuf, errlen, "%s: %s", path, r == -EBUSY ?
			     "in use (locked by another receive)" : strerror(-r));
			goto err;
		}
		if (fstat(d->fd, &st) < 0) {
			r = -errno;
			goto err;
		}
		d->size = (uint64_t)st.st_size;
		d->sector = 512;
	} else {
		r = -EINVAL;
		stream_errf(errbuf, errlen, "%s: not a block device or regular file", path);
		goto err;
	}
	dest_open_direct(d);
	r = state_path(d, path);
	if (r < 0)
		goto err;
	if (d->o.state_dir || d->is_blk) {
		char *dir = strdup(d->state_path);

		if (!dir) {
			r = -ENOMEM;
			goto err;
		}
		r = mkdir_p(dirname(dir));
		free(dir);
		if (r < 0) {
			stream_errf(errbuf, errlen, "state directory for %s: %s", d->state_path, strerror(-r));
			goto err;
		}
	}
	*ret = d;
	return 0;
err:
	stream_dest_free(d);
	return r;
}

void stream_dest_free(struct stream_dest *d)
{
	if (!d)
		return;
	dest_ring_stop(d);
	if (d->dfd >= 0)
		close(d->dfd);
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
	free(d->state_path);
	free(d);
}

int dest_prepare(struct stream_dest *d, uint64_t length, char *errbuf, size_t errlen)
{
	uint64_t need;

	if (length > UINT64_MAX - d->o.offset) {
		stream_errf(errbuf, errlen, "offset + length overflow");
		return -EOVERFLOW;
	}
	need = d->o.offset + length;
	if (need <= d->size)
		return 0;
	if (!d->is_blk && d->o.create) {
		if (ftruncate(d->fd, (off_t)need) < 0) {
			int r = -errno;

			stream_errf(errbuf, errlen, "%s: grow to %llu bytes: %s", d->path,
			     (unsigned long long)need, strerror(-r));
			return r;
		}
		d->size = need;
		return 0;
	}
	stream_errf(errbuf, errlen, "%s: destination too small: %llu bytes, needs %llu "
	     "(offset %llu + source %llu), short by %llu", d->path,
	     (unsigned long long)d->size, (unsigned long long)need,
	     (unsigned long long)d->o.offset, (unsigned long long)length,
	     (unsigned long long)(need - d->size));
	return -ENOSPC;
}

int dest_write(struct stream_dest *d, const void *buf, size_t len, uint64_t off)
{
	uint64_t abs = d->o.offset + off;

	/* Called from several writer threads at once: direct only turns
	 * false, and dfd stays open until dest_free. */
	if (__atomic_load_n(&d->direct, __ATOMIC_RELAXED) && ((uintptr_t)buf % DEST_DIRECT_ALIGN) == 0 &&
	    len % DEST_DIRECT_ALIGN == 0 && abs % DEST_DIRECT_ALIGN == 0) {
		int r = io_pwrite_all(d->dfd, buf, len, abs);

		if (r != -EINVAL)
			return r;
		/* The filesystem wants another alignment: buffered from now on
		 * (pwrite is idempotent, a partial direct write is redone). */
		__atomic_store_n(&d->direct, false, __ATOMIC_RELAXED);
	}
	return io_pwrite_all(d->fd, buf, len, abs);
}

int dest_read(struct stream_dest *d, void *buf, size_t len, uint64_t off)
{
	return io_pread_full(d->fd, buf, len, d->o.offset + off);
}

static int write_zeros(struct stream_dest *d, size_t len, uint64_t off)
{
	static const uint8_t zeros[256 * 1024];
	int r;

	while (len > 0) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		r = io_pwrite_all(d->fd, zeros, n, off);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

int dest_zero(struct stream_dest *d, size_t len, uint64_t off)
{
	uint64_t abs = d->o.offset + off;

	if (d->is_blk) {
		uint64_t range[2] = { abs, len };

		/* Never assume a new volume reads as zeros: write them, but
		 * let the device do it (WRITE ZEROES / discard-zeroes). */
		if (abs % d->sector == 0 && len % d->sector == 0 &&
		    ioctl(d->fd, BLKZEROOUT, range) == 0)
			return 0;
		return write_zeros(d, len, off);
	}
	if (fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)abs, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return -errno;
	return write_zeros(d, len, off);
}

int dest_sync(struct stream_dest *d)
{
	return fdatasync(d->fd) < 0 ? -errno : 0;
}

void dest_drop_cache(struct stream_dest *d, uint64_t length)
{
	if (d->is_blk)
		ioctl(d->fd, BLKFLSBUF, 0);
	posix_fadvise(d->fd, (off_t)d->o.offset, (off_t)length, POSIX_FADV_DONTNEED);
}

void dest_prealloc(struct stream_dest *d, uint64_t off, uint64_t len)
{
	if (d->is_blk || d->no_prealloc || !__atomic_load_n(&d->direct, __ATOMIC_RELAXED) || len == 0)
		return;
	if (fallocate(d->fd, FALLOC_FL_KEEP_SIZE, (off_t)(d->o.offset + off), (off_t)len) < 0)
		d->no_prealloc = true;
}

struct dest_ring {
	struct io_uring ring;
	pthread_mutex_t mu;	/* the submission side, inflight, abort */
	pthread_cond_t cv;
	unsigned depth, inflight;
	bool abort;
};

int dest_ring_start(struct stream_dest *d, unsigned depth)
{
	struct dest_ring *g;
	int r;

	if (d->ring)
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	/* One submitter and one reaper: the SQ and CQ rings are separate, the
	 * CQ (twice the SQ) never overflows with depth writes in flight. */
	r = io_uring_queue_init(depth, &g->ring, 0);
	if (r < 0) {
		free(g);
		return r;
	}
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->depth = depth;
	d->ring = g;
	return 0;
}

void dest_ring_stop(struct stream_dest *d)
{
	struct dest_ring *g = d->ring;

	if (!g)
		return;
	/* Never with writes in flight: their buffers are about to go. */
	while (g->inflight) {
		void *tag;
		int res;

		if (dest_ring_reap(d, &tag, &res) < 0)
			break;
	}
	io_uring_queue_exit(&g->ring);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
	d->ring = NULL;
}

int dest_ring_write(struct stream_dest *d, const void *buf, size_t len, uint64_t off, void *tag)
{
	struct dest_ring *g = d->ring;
	uint64_t abs = d->o.offset + off;
	struct io_uring_sqe *sqe;
	int fd = d->fd, r;

	if (!g || len > INT_MAX)
		return -EINVAL;
	/* The descriptor dest_write would choose; an O_DIRECT write the
	 * filesystem refuses comes back as -EINVAL and is redone there. */
	if (__atomic_load_n(&d->direct, __ATOMIC_RELAXED) && ((uintptr_t)buf % DEST_DIRECT_ALIGN) == 0 &&
	    len % DEST_DIRECT_ALIGN == 0 && abs % DEST_DIRECT_ALIGN == 0)
		fd = d->dfd;
	pthread_mutex_lock(&g->mu);
	while (g->inflight >= g->depth && !g->abort)
		pthread_cond_wait(&g->cv, &g->mu);
	if (g->abort) {
		pthread_mutex_unlock(&g->mu);
		return -ECANCELED;
	}
	sqe = io_uring_get_sqe(&g->ring);
	if (!sqe) {
		pthread_mutex_unlock(&g->mu);
		return -EBUSY;
	}
	io_uring_prep_write(sqe, fd, buf, (unsigned)len, abs);
	io_uring_sqe_set_data(sqe, tag);
	do
		r = io_uring_submit(&g->ring);
	while (r == -EINTR || r == -EAGAIN);
	if (r == 1)
		g->inflight++;
	pthread_mutex_unlock(&g->mu);
	return r == 1 ? 0 : r < 0 ? r : -EIO;
}

int dest_ring_reap(struct stream_dest *d, void **tag, int *res)
{
	struct dest_ring *g = d->ring;
	struct io_uring_cqe *cqe;
	int r;

	if (!g || !dest_ring_inflight(d))
		return -ENOENT;
	do
		r = io_uring_wait_cqe(&g->ring, &cqe);
	while (r == -EINTR || r == -EAGAIN);
	if (r < 0)
		return r;
	*tag = io_uring_cqe_get_data(cqe);
	*res = cqe->res;
	io_uring_cqe_seen(&g->ring, cqe);
	pthread_mutex_lock(&g->mu);
	g->inflight--;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	return 0;
}

void dest_ring_cancel(struct stream_dest *d, bool on)
{
	struct dest_ring *g = d->ring;

	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->abort = on;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

unsigned dest_ring_inflight(struct stream_dest *d)
{
	struct dest_ring *g = d->ring;
	unsigned n;

	if (!g)
		return 0;
	pthread_mutex_lock(&g->mu);
	n = g->inflight;
	pthread_mutex_unlock(&g->mu);
	return n;
}
