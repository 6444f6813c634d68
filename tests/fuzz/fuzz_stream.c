/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the disk stream's record decoder (smsg_decode in
 * migrate/stream/stream_wire.c): arbitrary bytes never crash it, and whatever it
 * accepts re-encodes to a message with the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/stream/stream_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[SMSG_MAX_LEN];
	struct smsg m;
	size_t n = 0;

	if (smsg_decode(data, size, &m) < 0)
		return 0;
	/* pointers into the message stay inside it */
	if (m.type == SMSG_HASHES) {
		const uint8_t *e = m.hashes.entries;

		if (m.hashes.count && (e < data || e + (size_t)m.hashes.count * SMSG_HASH_ENTRY > data + size))
			abort();
	}
	switch (m.type) {
	case SMSG_INFO:
		n = smsg_encode_info(out, &m.info);
		break;
	case SMSG_ZERO:
		n = smsg_encode_zero(out, &m.block);
		break;
	case SMSG_END:
		n = smsg_encode_end(out, &m.end);
		break;
	default:
		return 0;
	}
	/* what decoded re-encodes to a message that decodes to the same fields */
	{
		struct smsg m2;

		if (smsg_decode(out, n, &m2) < 0 || m2.type != m.type)
			abort();
		if (m.type == SMSG_INFO && (m2.info.length != m.info.length ||
					    m2.info.block_size != m.info.block_size))
			abort();
		if (m.type == SMSG_ZERO && (m2.block.offset != m.block.offset || m2.block.len != m.block.len))
			abort();
		if (m.type == SMSG_END && m2.end.blocks != m.end.blocks)
			abort();
	}
	return 0;
}
