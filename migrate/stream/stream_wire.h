/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Disk stream records: encoding and decoding of the messages that travel
 * inside the channel's frames (docs/STREAM.md, "Messages"). Pure functions,
 * little-endian on the wire, no I/O, so they can be unit-tested and fuzzed.
 */
#ifndef BRIDGED_MIGRATE_STREAM_WIRE_H
#define BRIDGED_MIGRATE_STREAM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "migrate/stream/stream.h"

enum smsg_type {
	SMSG_NONE,
	SMSG_INFO,	/* sender: what is coming */
	SMSG_REFUSE,	/* either side: why not */
	SMSG_HASHES,	/* receiver: which blocks it has, with their hashes */
	SMSG_DATA,	/* sender: a block header; its bytes follow in the next frame */
	SMSG_ZERO,	/* sender: a block of zeros, or a run of them */
	SMSG_END,	/* sender: no more blocks, the image hash */
	SMSG_RESULT,	/* receiver: the verdict */
	SMSG_SAME,	/* sender: delta, this block's hash matched, nothing to write */
	SMSG_MAX,
};

#define SMSG_INFO_DELTA	0x01
#define SMSG_INFO_WARM	0x02

#define SMSG_INFO_LEN	48
#define SMSG_DATA_LEN	48
#define SMSG_ZERO_LEN	16
#define SMSG_END_LEN	48
#define SMSG_HASHES_HDR	12
#define SMSG_HASH_ENTRY	(1 + STREAM_HASH_LEN)
#define SMSG_RESULT_HDR	48
#define SMSG_REFUSE_HDR	4
#define SMSG_TEXT_MAX	200
/* Hash entries per HASHES message. */
#define SMSG_HASHES_PER_MSG 8192u
/* Largest plaintext message (a block's bytes). */
#define SMSG_MAX_LEN	(STREAM_BLOCK_MAX + 64)

struct smsg_info {
	uint8_t flags;
	uint32_t block_size;
	uint64_t length;
	uint8_t source_id[STREAM_HASH_LEN];
};

struct smsg_block {		/* DATA, ZERO and SAME */
	uint32_t len;
	uint64_t offset;
	uint8_t hash[STREAM_HASH_LEN];	/* DATA only */
};

struct smsg_hashes {
	uint32_t first, count;
	const uint8_t *entries;		/* count * SMSG_HASH_ENTRY, points into the message */
};

struct smsg_end {
	uint64_t blocks;
	uint8_t image_hash[STREAM_HASH_LEN];
};

struct smsg_result {
	uint8_t result;			/* enum stream_result */
	uint32_t nbad, nlisted;
	uint8_t image_hash[STREAM_HASH_LEN];
	const uint8_t *offsets;		/* nlisted * 8 bytes, points into the message */
};

struct smsg_refuse {
	uint16_t code;			/* errno */
	char text[SMSG_TEXT_MAX + 1];
};

struct smsg {
	enum smsg_type type;
	union {
		struct smsg_info info;
		struct smsg_block block;
		struct smsg_hashes hashes;
		struct smsg_end end;
		struct smsg_result result;
		struct smsg_refuse refuse;
	};
};

const char *smsg_type_to_string(enum smsg_type t);

/* Encoders write into buf (at least the _LEN of their type, or the size
 * returned by smsg_*_size) and return the message length. */
size_t smsg_encode_info(uint8_t *buf, const struct smsg_info *m);
size_t smsg_encode_data(uint8_t *buf, const struct smsg_block *m);
size_t smsg_encode_zero(uint8_t *buf, const struct smsg_block *m);
size_t smsg_encode_same(uint8_t *buf, const struct smsg_block *m);
size_t smsg_encode_end(uint8_t *buf, const struct smsg_end *m);
size_t smsg_encode_refuse(uint8_t *buf, uint16_t code, const char *text);
size_t smsg_hashes_size(uint32_t count);
/* entries: count * SMSG_HASH_ENTRY bytes (valid flag, hash). */
size_t smsg_encode_hashes(uint8_t *buf, uint32_t first, uint32_t count, const uint8_t *entries);
size_t smsg_result_size(uint32_t nlisted);
size_t smsg_encode_result(uint8_t *buf, uint8_t result, uint32_t nbad, uint32_t nlisted,
			  const uint64_t *offsets, const uint8_t image_hash[STREAM_HASH_LEN]);

/* Decodes one message; pointers in *ret point into buf. -EBADMSG when it is
 * malformed (wrong size, unknown type, bad field). */
int smsg_decode(const uint8_t *buf, size_t len, struct smsg *ret);

uint64_t smsg_result_offset(const struct smsg_result *m, uint32_t i);

/* Little-endian helpers, shared with the channel and the map. */
static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

#endif
