/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receiver's resume map: for each block of the image, whether it is on
 * the destination and verified, and its BLAKE2b hash. Kept in a state file
 * replaced atomically (write, fsync, rename), with a checksum, bound to the
 * (block size, offset, length, source id) of the copy that wrote it.
 */
#ifndef BRIDGED_MIGRATE_STREAM_MAP_H
#define BRIDGED_MIGRATE_STREAM_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "migrate/stream/stream.h"

/* Entries are laid out as in a HASHES message: a valid byte, then the hash. */
#define SMAP_ENTRY (1 + STREAM_HASH_LEN)
#define SMAP_HDR 96

struct smap {
	uint32_t block_size;
	uint64_t offset, length, nblocks;
	uint8_t source_id[STREAM_HASH_LEN];
	uint8_t *entries;	/* nblocks * SMAP_ENTRY */
};

uint64_t smap_nblocks(uint64_t length, uint32_t block_size);
/* An empty map (nothing verified). */
int smap_new(uint32_t block_size, uint64_t offset, uint64_t length,
	     const uint8_t source_id[STREAM_HASH_LEN], struct smap **ret);
void smap_free(struct smap *m);

static inline bool smap_valid(const struct smap *m, uint64_t i)
{
	return m->entries[i * SMAP_ENTRY] != 0;
}
static inline const uint8_t *smap_hash(const struct smap *m, uint64_t i)
{
	return m->entries + i * SMAP_ENTRY + 1;
}
void smap_set(struct smap *m, uint64_t i, const uint8_t hash[STREAM_HASH_LEN]);
void smap_clear(struct smap *m, uint64_t i);
uint64_t smap_count(const struct smap *m);

/* Serialises to / parses from memory (the file format), for the test. */
int smap_encode(const struct smap *m, uint8_t **ret_buf, size_t *ret_len);
int smap_decode(const uint8_t *buf, size_t len, struct smap **ret);

/* Loads path into a map matching (block_size, offset, length, source_id):
 * -ENOENT without a file, -ESTALE when it belongs to another copy,
 * -EBADMSG when it is damaged (torn or edited). */
int smap_load(const char *path, uint32_t block_size, uint64_t offset, uint64_t length,
	      const uint8_t source_id[STREAM_HASH_LEN], struct smap **ret);
/* Atomically replaces path (path.tmp, fsync, rename, fsync of the folder). */
int smap_save(const struct smap *m, const char *path);

#endif
