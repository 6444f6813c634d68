/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disk stream records: encode and decode (stream_wire.h). */
#include "migrate/stream/stream_wire.h"

#include <errno.h>
#include <string.h>

static const char *const smsg_names[SMSG_MAX] = {
	[SMSG_NONE] = "none",
	[SMSG_INFO] = "info",
	[SMSG_REFUSE] = "refuse",
	[SMSG_HASHES] = "hashes",
	[SMSG_DATA] = "data",
	[SMSG_ZERO] = "zero",
	[SMSG_END] = "end",
	[SMSG_RESULT] = "result",
	[SMSG_SAME] = "same",
};

const char *smsg_type_to_string(enum smsg_type t)
{
	return (unsigned)t < SMSG_MAX ? smsg_names[t] : "unknown";
}

size_t smsg_encode_info(uint8_t *buf, const struct smsg_info *m)
{
	memset(buf, 0, SMSG_INFO_LEN);
	buf[0] = SMSG_INFO;
	buf[1] = m->flags;
	put_le32(buf + 4, m->block_size);
	put_le64(buf + 8, m->length);
	memcpy(buf + 16, m->source_id, STREAM_HASH_LEN);
	return SMSG_INFO_LEN;
}

size_t smsg_encode_data(uint8_t *buf, const struct smsg_block *m)
{
	memset(buf, 0, SMSG_DATA_LEN);
	buf[0] = SMSG_DATA;
	put_le32(buf + 4, m->len);
	put_le64(buf + 8, m->offset);
	memcpy(buf + 16, m->hash, STREAM_HASH_LEN);
	return SMSG_DATA_LEN;
}

size_t smsg_encode_zero(uint8_t *buf, const struct smsg_block *m)
{
	memset(buf, 0, SMSG_ZERO_LEN);
	buf[0] = SMSG_ZERO;
	put_le32(buf + 4, m->len);
	put_le64(buf + 8, m->offset);
	return SMSG_ZERO_LEN;
}

size_t smsg_encode_same(uint8_t *buf, const struct smsg_block *m)
{
	smsg_encode_zero(buf, m);
	buf[0] = SMSG_SAME;
	return SMSG_ZERO_LEN;
}

size_t smsg_encode_end(uint8_t *buf, const struct smsg_end *m)
{
	memset(buf, 0, SMSG_END_LEN);
	buf[0] = SMSG_END;
	put_le64(buf + 8, m->blocks);
	memcpy(buf + 16, m->image_hash, STREAM_HASH_LEN);
	return SMSG_END_LEN;
}

size_t smsg_encode_refuse(uint8_t *buf, uint16_t code, const char *text)
{
	size_t n = text ? strnlen(text, SMSG_TEXT_MAX) : 0;

	buf[0] = SMSG_REFUSE;
	buf[1] = 0;
	buf[2] = (uint8_t)code;
	buf[3] = (uint8_t)(code >> 8);
	if (n)
		memcpy(buf + SMSG_REFUSE_HDR, text, n);
	return SMSG_REFUSE_HDR + n;
}

size_t smsg_hashes_size(uint32_t count)
{
	return SMSG_HASHES_HDR + (size_t)count * SMSG_HASH_ENTRY;
}

size_t smsg_encode_hashes(uint8_t *buf, uint32_t first, uint32_t count, const uint8_t *entries)
{
	memset(buf, 0, SMSG_HASHES_HDR);
	buf[0] = SMSG_HASHES;
	put_le32(buf + 4, first);
	put_le32(buf + 8, count);
	if (count)
		memcpy(buf + SMSG_HASHES_HDR, entries, (size_t)count * SMSG_HASH_ENTRY);
	return smsg_hashes_size(count);
}

size_t smsg_result_size(uint32_t nlisted)
{
	return SMSG_RESULT_HDR + (size_t)nlisted * 8;
}

size_t smsg_encode_result(uint8_t *buf, uint8_t result, uint32_t nbad, uint32_t nlisted,
			  const uint64_t *offsets, const uint8_t image_hash[STREAM_HASH_LEN])
{
	uint32_t i;

	memset(buf, 0, SMSG_RESULT_HDR);
	buf[0] = SMSG_RESULT;
	buf[1] = result;
	put_le32(buf + 4, nbad);
	put_le32(buf + 8, nlisted);
	memcpy(buf + 16, image_hash, STREAM_HASH_LEN);
	for (i = 0; i < nlisted; i++)
		put_le64(buf + SMSG_RESULT_HDR + 8 * (size_t)i, offsets[i]);
	return smsg_result_size(nlisted);
}

uint64_t smsg_result_offset(const struct smsg_result *m, uint32_t i)
{
	return get_le64(m->offsets + 8 * (size_t)i);
}

int smsg_decode(const uint8_t *buf, size_t len, struct smsg *ret)
{
	struct smsg m;

	if (len < 1)
		return -EBADMSG;
	memset(&m, 0, sizeof(m));
	m.type = buf[0];
	switch (m.type) {
	case SMSG_INFO:
		if (len != SMSG_INFO_LEN)
			return -EBADMSG;
		m.info.flags = buf[1];
		m.info.block_size = get_le32(buf + 4);
		m.info.length = get_le64(buf + 8);
		memcpy(m.info.source_id, buf + 16, STREAM_HASH_LEN);
		if (m.info.block_size < STREAM_BLOCK_MIN || m.info.block_size > STREAM_BLOCK_MAX ||
		    (m.info.block_size & (m.info.block_size - 1)) ||
		    (m.info.flags & ~(SMSG_INFO_DELTA | SMSG_INFO_WARM)))
			return -EBADMSG;
		break;
	case SMSG_DATA:
	case SMSG_ZERO:
	case SMSG_SAME:
		if (len != (m.type == SMSG_DATA ? SMSG_DATA_LEN : SMSG_ZERO_LEN))
			return -EBADMSG;
		m.block.len = get_le32(buf + 4);
		m.block.offset = get_le64(buf + 8);
		if (m.type == SMSG_DATA)
			memcpy(m.block.hash, buf + 16, STREAM_HASH_LEN);
		/* A ZERO record may cover a run of blocks. */
		if (m.block.len == 0 ||
		    m.block.len > (m.type == SMSG_ZERO ? STREAM_ZERO_RUN_MAX : STREAM_BLOCK_MAX) ||
		    m.block.offset > UINT64_MAX - m.block.len)
			return -EBADMSG;
		break;
	case SMSG_END:
		if (len != SMSG_END_LEN)
			return -EBADMSG;
		m.end.blocks = get_le64(buf + 8);
		memcpy(m.end.image_hash, buf + 16, STREAM_HASH_LEN);
		break;
	case SMSG_REFUSE:
		if (len < SMSG_REFUSE_HDR || len > SMSG_REFUSE_HDR + SMSG_TEXT_MAX)
			return -EBADMSG;
		m.refuse.code = (uint16_t)(buf[2] | buf[3] << 8);
		memcpy(m.refuse.text, buf + SMSG_REFUSE_HDR, len - SMSG_REFUSE_HDR);
		m.refuse.text[len - SMSG_REFUSE_HDR] = '\0';
		/* Printed to a terminal: no control characters from the peer. */
		for (char *p = m.refuse.text; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		break;
	case SMSG_HASHES:
		if (len < SMSG_HASHES_HDR)
			return -EBADMSG;
		m.hashes.first = get_le32(buf + 4);
		m.hashes.count = get_le32(buf + 8);
		if (m.hashes.count > SMSG_HASHES_PER_MSG || len != smsg_hashes_size(m.hashes.count))
			return -EBADMSG;
		m.hashes.entries = buf + SMSG_HASHES_HDR;
		for (uint32_t i = 0; i < m.hashes.count; i++)
			if (m.hashes.entries[(size_t)i * SMSG_HASH_ENTRY] > 1)
				return -EBADMSG;
		break;
	case SMSG_RESULT:
		if (len < SMSG_RESULT_HDR)
			return -EBADMSG;
		m.result.result = buf[1];
		m.result.nbad = get_le32(buf + 4);
		m.result.nlisted = get_le32(buf + 8);
		memcpy(m.result.image_hash, buf + 16, STREAM_HASH_LEN);
		if (m.result.result >= STREAM_RESULT_MAX || m.result.nlisted > STREAM_BAD_MAX ||
		    m.result.nlisted > m.result.nbad || len != smsg_result_size(m.result.nlisted))
			return -EBADMSG;
		m.result.offsets = buf + SMSG_RESULT_HDR;
		break;
	default:
		return -EBADMSG;
	}
	*ret = m;
	return 0;
}
