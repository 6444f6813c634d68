/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit test: disk stream record codec (migrate/stream/stream_wire.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "migrate/stream/stream_wire.h"

static void test_info_roundtrip(void **state)
{
	struct smsg_info in = { .flags = SMSG_INFO_DELTA, .block_size = 1u << 20, .length = 123456789012ull };
	uint8_t buf[SMSG_INFO_LEN];
	struct smsg m;

	(void)state;
	memset(in.source_id, 0xab, sizeof(in.source_id));
	assert_int_equal(smsg_encode_info(buf, &in), SMSG_INFO_LEN);
	assert_int_equal(smsg_decode(buf, sizeof(buf), &m), 0);
	assert_int_equal(m.type, SMSG_INFO);
	assert_int_equal(m.info.flags, SMSG_INFO_DELTA);
	assert_int_equal(m.info.block_size, 1u << 20);
	assert_true(m.info.length == 123456789012ull);
	assert_memory_equal(m.info.source_id, in.source_id, STREAM_HASH_LEN);
	/* wrong length, bad block size, unknown flag */
	assert_int_equal(smsg_decode(buf, sizeof(buf) - 1, &m), -EBADMSG);
	in.block_size = 3u << 20;
	smsg_encode_info(buf, &in);
	assert_int_equal(smsg_decode(buf, sizeof(buf), &m), -EBADMSG);
	in.block_size = 1024;
	smsg_encode_info(buf, &in);
	assert_int_equal(smsg_decode(buf, sizeof(buf), &m), -EBADMSG);
	in.block_size = 1u << 20;
	in.flags = 0x80;
	smsg_encode_info(buf, &in);
	assert_int_equal(smsg_decode(buf, sizeof(buf), &m), -EBADMSG);
}

static void test_blocks(void **state)
{
	struct smsg_block b = { .len = 4096, .offset = 1ull << 40 };
	uint8_t buf[SMSG_DATA_LEN];
	struct smsg m;

	(void)state;
	memset(b.hash, 7, sizeof(b.hash));
	assert_int_equal(smsg_encode_data(buf, &b), SMSG_DATA_LEN);
	assert_int_equal(smsg_decode(buf, SMSG_DATA_LEN, &m), 0);
	assert_int_equal(m.type, SMSG_DATA);
	assert_int_equal(m.block.len, 4096);
	assert_true(m.block.offset == 1ull << 40);
	assert_memory_equal(m.block.hash, b.hash, STREAM_HASH_LEN);

	assert_int_equal(smsg_encode_zero(buf, &b), SMSG_ZERO_LEN);
	assert_int_equal(smsg_decode(buf, SMSG_ZERO_LEN, &m), 0);
	assert_int_equal(m.type, SMSG_ZERO);
	assert_true(m.block.offset == 1ull << 40);
	assert_int_equal(smsg_encode_same(buf, &b), SMSG_ZERO_LEN);
	assert_int_equal(smsg_decode(buf, SMSG_ZERO_LEN, &m), 0);
	assert_int_equal(m.type, SMSG_SAME);

	/* zero length, too long, offset overflow */
	b.len = 0;
	smsg_encode_zero(buf, &b);
	assert_int_equal(smsg_decode(buf, SMSG_ZERO_LEN, &m), -EBADMSG);
	b.len = STREAM_BLOCK_MAX + 1;
	smsg_encode_same(buf, &b);
	assert_int_equal(smsg_decode(buf, SMSG_ZERO_LEN, &m), -EBADMSG);
	smsg_encode_data(buf, &b);
	assert_int_equal(smsg_decode(buf, SMSG_DATA_LEN, &m), -EBADMSG);
	/* a ZERO record may cover a run of blocks, up to STREAM_ZERO_RUN_MAX */
	smsg_encode_zero(buf, &b);
	assert_int_equal(smsg_decode(buf, SMSG_ZERO_LEN, &m), 0);
	b.len = STREAM_ZERO_RUN_MAX;
	smsg_encode_zero(buf, &b);
	assert_int_equal(smsg_decode(buf, SMSG_ZERO_LEN, &m), 0);
	assert_int_equal(m.block.len, STREAM_ZERO_RUN_MAX);
	b.len = STREAM_ZERO_RUN_MAX + 1;
	smsg_encode_zero(buf, &b);
	assert_int_equal(smsg_decode(buf, SMSG_ZERO_LEN, &m), -EBADMSG);
	b.len = 4096;
	b.offset = UINT64_MAX - 10;
	smsg_encode_zero(buf, &b);
	assert_int_equal(smsg_decode(buf, SMSG_ZERO_LEN, &m), -EBADMSG);
	/* a DATA header with a ZERO's length */
	smsg_encode_data(buf, &(struct smsg_block){ .len = 1, .offset = 0 });
	assert_int_equal(smsg_decode(buf, SMSG_ZERO_LEN, &m), -EBADMSG);
}

static void test_hashes(void **state)
{
	uint8_t entries[3 * SMSG_HASH_ENTRY], buf[SMSG_HASHES_HDR + sizeof(entries)];
	struct smsg m;

	(void)state;
	memset(entries, 0x11, sizeof(entries));
	entries[0] = 1;
	entries[SMSG_HASH_ENTRY] = 0;
	entries[2 * SMSG_HASH_ENTRY] = 1;
	assert_int_equal(smsg_encode_hashes(buf, 5, 3, entries), sizeof(buf));
	assert_int_equal(smsg_decode(buf, sizeof(buf), &m), 0);
	assert_int_equal(m.type, SMSG_HASHES);
	assert_int_equal(m.hashes.first, 5);
	assert_int_equal(m.hashes.count, 3);
	assert_memory_equal(m.hashes.entries, entries, sizeof(entries));
	/* count and length disagree; a valid flag that is not 0/1 */
	assert_int_equal(smsg_decode(buf, sizeof(buf) - 1, &m), -EBADMSG);
	buf[SMSG_HASHES_HDR + SMSG_HASH_ENTRY] = 2;
	assert_int_equal(smsg_decode(buf, sizeof(buf), &m), -EBADMSG);
	/* an empty one is fine (empty source) */
	assert_int_equal(smsg_encode_hashes(buf, 0, 0, NULL), SMSG_HASHES_HDR);
	assert_int_equal(smsg_decode(buf, SMSG_HASHES_HDR, &m), 0);
}

static void test_end_result_refuse(void **state)
{
	struct smsg_end e = { .blocks = 42 };
	uint64_t offs[2] = { 0, 1ull << 33 };
	uint8_t h[STREAM_HASH_LEN], buf[SMSG_RESULT_HDR + 16];
	struct smsg m;

	(void)state;
	memset(e.image_hash, 3, sizeof(e.image_hash));
	assert_int_equal(smsg_encode_end(buf, &e), SMSG_END_LEN);
	assert_int_equal(smsg_decode(buf, SMSG_END_LEN, &m), 0);
	assert_true(m.end.blocks == 42);
	assert_memory_equal(m.end.image_hash, e.image_hash, STREAM_HASH_LEN);

	memset(h, 9, sizeof(h));
	assert_int_equal(smsg_encode_result(buf, STREAM_RESULT_MISMATCH, 7, 2, offs, h), sizeof(buf));
	assert_int_equal(smsg_decode(buf, sizeof(buf), &m), 0);
	assert_int_equal(m.result.result, STREAM_RESULT_MISMATCH);
	assert_int_equal(m.result.nbad, 7);
	assert_int_equal(m.result.nlisted, 2);
	assert_true(smsg_result_offset(&m.result, 1) == 1ull << 33);
	/* more listed than bad */
	smsg_encode_result(buf, STREAM_RESULT_MISMATCH, 1, 2, offs, h);
	assert_int_equal(smsg_decode(buf, sizeof(buf), &m), -EBADMSG);

	assert_int_equal(smsg_encode_refuse(buf, 28, "too\nsmall"), SMSG_REFUSE_HDR + 9);
	assert_int_equal(smsg_decode(buf, SMSG_REFUSE_HDR + 9, &m), 0);
	assert_int_equal(m.refuse.code, 28);
	assert_string_equal(m.refuse.text, "too?small");
}

static void test_garbage(void **state)
{
	uint8_t buf[64];
	struct smsg m;

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(smsg_decode(buf, 0, &m), -EBADMSG);
	assert_int_equal(smsg_decode(buf, sizeof(buf), &m), -EBADMSG);
	buf[0] = SMSG_MAX;
	assert_int_equal(smsg_decode(buf, sizeof(buf), &m), -EBADMSG);
	assert_string_equal(smsg_type_to_string(SMSG_DATA), "data");
	assert_string_equal(smsg_type_to_string(SMSG_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_roundtrip),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_end_result_refuse),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
