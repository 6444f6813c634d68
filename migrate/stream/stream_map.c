/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The receiver's resume map and its state file (stream_map.h). */
#include "migrate/stream/stream_map.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "migrate/stream/stream_chan.h"
#include "migrate/stream/stream_wire.h"

#define SMAP_MAGIC "BRSTMAP1"

uint64_t smap_nblocks(uint64_t length, uint32_t block_size)
{
	return length / block_size + (length % block_size != 0);
}

int smap_new(uint32_t block_size, uint64_t offset, uint64_t length,
	     const uint8_t source_id[STREAM_HASH_LEN], struct smap **ret)
{
	struct smap *m = calloc(1, sizeof(*m));

	if (!m || block_size == 0)
		goto nomem;
	m->block_size = block_size;
	m->offset = offset;
	m->length = length;
	m->nblocks = smap_nblocks(length, block_size);
	if (m->nblocks > SIZE_MAX / SMAP_ENTRY)
		goto nomem;
	m->entries = calloc(m->nblocks ? m->nblocks : 1, SMAP_ENTRY);
	if (!m->entries)
		goto nomem;
	memcpy(m->source_id, source_id, STREAM_HASH_LEN);
	*ret = m;
	return 0;
nomem:
	smap_free(m);
	return -ENOMEM;
}

void smap_free(struct smap *m)
{
	if (!m)
		return;
	free(m->entries);
	free(m);
}

void smap_set(struct smap *m, uint64_t i, const uint8_t hash[STREAM_HASH_LEN])
{
	m->entries[i * SMAP_ENTRY] = 1;
	memcpy(m->entries + i * SMAP_ENTRY + 1, hash, STREAM_HASH_LEN);
}

void smap_clear(struct smap *m, uint64_t i)
{
	memset(m->entries + i * SMAP_ENTRY, 0, SMAP_ENTRY);
}

uint64_t smap_count(const struct smap *m)
{
	uint64_t i, n = 0;

	for (i = 0; i < m->nblocks; i++)
		n += smap_valid(m, i);
	return n;
}

/* Header: magic, version, block size, offset, length, nblocks, source id;
 * then the entries; then BLAKE2b-256 of everything before. */
int smap_encode(const struct smap *m, uint8_t **ret_buf, size_t *ret_len)
{
	size_t body = (size_t)m->nblocks * SMAP_ENTRY, len = SMAP_HDR + body + STREAM_HASH_LEN;
	uint8_t *buf = calloc(1, len);

	if (!buf)
		return -ENOMEM;
	memcpy(buf, SMAP_MAGIC, 8);
	put_le32(buf + 8, 1);
	put_le32(buf + 12, m->block_size);
	put_le64(buf + 16, m->offset);
	put_le64(buf + 24, m->length);
	put_le64(buf + 32, m->nblocks);
	memcpy(buf + 40, m->source_id, STREAM_HASH_LEN);
	memcpy(buf + SMAP_HDR, m->entries, body);
	crypto_generichash(buf + SMAP_HDR + body, STREAM_HASH_LEN, buf, SMAP_HDR + body, NULL, 0);
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int smap_decode(const uint8_t *buf, size_t len, struct smap **ret)
{
	uint8_t sum[STREAM_HASH_LEN];
	struct smap *m;
	uint64_t nblocks;
	uint32_t bs;
	int r;

	if (len < SMAP_HDR + STREAM_HASH_LEN || memcmp(buf, SMAP_MAGIC, 8) != 0 ||
	    get_le32(buf + 8) != 1)
		return -EBADMSG;
	bs = get_le32(buf + 12);
	nblocks = get_le64(buf + 32);
	/* bytes 72..95 are reserved, written as zeros: a map with anything
	 * else there was not written by this version (fuzz_smap) */
	for (size_t i = 40 + STREAM_HASH_LEN; i < SMAP_HDR; i++)
		if (buf[i])
			return -EBADMSG;
	if (bs == 0 || nblocks != smap_nblocks(get_le64(buf + 24), bs) ||
	    nblocks > (len - SMAP_HDR - STREAM_HASH_LEN) / SMAP_ENTRY ||
	    len != SMAP_HDR + nblocks * SMAP_ENTRY + STREAM_HASH_LEN)
		return -EBADMSG;
	crypto_generichash(sum, sizeof(sum), buf, len - STREAM_HASH_LEN, NULL, 0);
	if (sodium_memcmp(sum, buf + len - STREAM_HASH_LEN, STREAM_HASH_LEN) != 0)
		return -EBADMSG;
	r = smap_new(bs, get_le64(buf + 16), get_le64(buf + 24), buf + 40, &m);
	if (r < 0)
		return r;
	memcpy(m->entries, buf + SMAP_HDR, nblocks * SMAP_ENTRY);
	for (uint64_t i = 0; i < nblocks; i++)
		if (m->entries[i * SMAP_ENTRY] > 1) {
			smap_free(m);
			return -EBADMSG;
		}
	*ret = m;
	return 0;
}

int smap_load(const char *path, uint32_t block_size, uint64_t offset, uint64_t length,
	      const uint8_t source_id[STREAM_HASH_LEN], struct smap **ret)
{
	struct smap *m = NULL;
	struct stat st;
	uint8_t *buf = NULL;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size < SMAP_HDR || st.st_size > (off_t)1 << 34) {
		r = -EBADMSG;
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	r = io_pread_full(fd, buf, (size_t)st.st_size, 0);
	if (r < 0)
		goto out;
	r = smap_decode(buf, (size_t)st.st_size, &m);
	if (r < 0)
		goto out;
	if (m->block_size != block_size || m->offset != offset || m->length != length ||
	    memcmp(m->source_id, source_id, STREAM_HASH_LEN) != 0) {
		r = -ESTALE;
		goto out;
	}
	*ret = m;
	m = NULL;
out:
	smap_free(m);
	free(buf);
	close(fd);
	return r;
}

int smap_save(const struct smap *m, const char *path)
{
	char *tmp = NULL, *dcopy = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int fd = -1, dfd, r;

	r = smap_encode(m, &buf, &len);
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		r = -ENOMEM;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = io_pwrite_all(fd, buf, len, 0);
	if (r < 0)
		goto out;
	if (fsync(fd) < 0 || close(fd) < 0) {
		r = -errno;
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto out;
	}
	dcopy = strdup(path);
	if (dcopy) {
		dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(dcopy);
	free(tmp);
	free(buf);
	return r;
}
