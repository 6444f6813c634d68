/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the disk stream's resume map decoder
 * (migrate/stream/stream_map.c, smap_decode: the receiver's state file,
 * read back after a crash or a power loss). The map carries a BLAKE2b
 * checksum, which random bytes never match: with the first input byte odd
 * the harness writes the right checksum over the rest before decoding, so
 * the checks behind it are reached. What decodes re-encodes to the very
 * same bytes; smap_count never exceeds the block count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "migrate/stream/stream_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smap *m = NULL;
	uint8_t *buf, *enc = NULL;
	size_t len, elen = 0;

	if (size < 1 || sodium_init() < 0)
		return 0;
	len = size - 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if ((data[0] & 1) && len >= STREAM_HASH_LEN)
		crypto_generichash(buf + len - STREAM_HASH_LEN, STREAM_HASH_LEN, buf, len - STREAM_HASH_LEN, NULL, 0);
	if (smap_decode(buf, len, &m) == 0) {
		if (smap_count(m) > m->nblocks)
			abort();
		if (smap_encode(m, &enc, &elen) < 0 || elen != len || memcmp(enc, buf, len))
			abort();        /* a map reads back as it was written */
		free(enc);
		smap_free(m);
	}
	free(buf);
	return 0;
}
