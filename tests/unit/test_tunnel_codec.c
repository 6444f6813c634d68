/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wire codec: data header, body checks, fragment geometry, segment ids,
 * handshake payload; malformed input rejected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "tunnel/wire.h"

static void test_hdr_roundtrip(void **state)
{
	struct wire_data_hdr h = {
		.kind = WIRE_KIND_FRAME, .frag_index = 2, .frag_count = 3,
		.receiver = 0xdeadbeef, .counter = 0x0102030405060708ull,
		.segment_id = 0xcafef00d, .frame_len = 1514,
	}, g;
	uint8_t b[WIRE_DATA_HDR_LEN];

	wire_data_hdr_encode(b, &h);
	assert_int_equal(b[0], WIRE_TYPE_DATA);
	assert_int_equal(b[4], 0xef);           /* little-endian */
	assert_int_equal(b[8], 0x08);
	assert_int_equal(b[15], 0x01);
	assert_int_equal(b[20] | b[21], 0);
	assert_int_equal(wire_data_hdr_decode(b, sizeof(b), &g), 0);
	assert_int_equal(g.kind, h.kind);
	assert_int_equal(g.frag_index, 2);
	assert_int_equal(g.frag_count, 3);
	assert_int_equal(g.receiver, h.receiver);
	assert_true(g.counter == h.counter);
	assert_int_equal(g.segment_id, h.segment_id);
	assert_int_equal(g.frame_len, 1514);
}

static void test_hdr_malformed(void **state)
{
	struct wire_data_hdr h = {
		.kind = WIRE_KIND_FRAME, .frag_count = 1, .receiver = 1, .counter = 5,
		.segment_id = 9, .frame_len = 60,
	}, g;
	uint8_t b[WIRE_DATA_HDR_LEN], c[WIRE_DATA_HDR_LEN];

	wire_data_hdr_encode(b, &h);
	assert_int_equal(wire_data_hdr_decode(b, sizeof(b) - 1, &g), -EBADMSG);
	memcpy(c, b, sizeof(b)); c[0] = 1;
	assert_int_equal(wire_data_hdr_decode(c, sizeof(c), &g), -EBADMSG);
	memcpy(c, b, sizeof(b)); c[1] = 4;                       /* kind: 3 is GSO now */
	assert_int_equal(wire_data_hdr_decode(c, sizeof(c), &g), -EBADMSG);
	memcpy(c, b, sizeof(b)); c[3] = 0;                       /* count 0 */
	assert_int_equal(wire_data_hdr_decode(c, sizeof(c), &g), -EBADMSG);
	memcpy(c, b, sizeof(b)); c[3] = 65;                      /* count > 64 */
	assert_int_equal(wire_data_hdr_decode(c, sizeof(c), &g), -EBADMSG);
	memcpy(c, b, sizeof(b)); c[2] = 1;                       /* index >= count */
	assert_int_equal(wire_data_hdr_decode(c, sizeof(c), &g), -EBADMSG);
	memcpy(c, b, sizeof(b)); c[20] = 1;                      /* reserved */
	assert_int_equal(wire_data_hdr_decode(c, sizeof(c), &g), -EBADMSG);
	memcpy(c, b, sizeof(b)); c[22] = c[23] = 0;              /* frame_len 0 */
	assert_int_equal(wire_data_hdr_decode(c, sizeof(c), &g), -EBADMSG);
	memcpy(c, b, sizeof(b)); c[3] = 4; c[2] = 3; memset(c + 8, 0, 8); /* counter < index */
	assert_int_equal(wire_data_hdr_decode(c, sizeof(c), &g), -EBADMSG);
	/* Keepalives: length 8, no segment, not fragmented. */
	h.kind = WIRE_KIND_KEEPALIVE; h.segment_id = 0; h.frame_len = 8;
	wire_data_hdr_encode(b, &h);
	assert_int_equal(wire_data_hdr_decode(b, sizeof(b), &g), 0);
	h.frame_len = 9;
	wire_data_hdr_encode(b, &h);
	assert_int_equal(wire_data_hdr_decode(b, sizeof(b), &g), -EBADMSG);
	h.frame_len = 8; h.segment_id = 1;
	wire_data_hdr_encode(b, &h);
	assert_int_equal(wire_data_hdr_decode(b, sizeof(b), &g), -EBADMSG);
}

static void test_body_and_geometry(void **state)
{
	struct wire_data_hdr h = { .frag_count = 1, .frame_len = 100 };
	unsigned count;
	size_t chunk;

	assert_int_equal(wire_data_check_body(&h, 100), 0);
	assert_int_equal(wire_data_check_body(&h, 99), -EBADMSG);
	assert_int_equal(wire_frag_geometry(1514, 1432, &count, &chunk), 0);
	assert_int_equal(count, 2);
	assert_int_equal(chunk, 757);
	assert_int_equal(wire_frag_geometry(1432, 1432, &count, &chunk), 0);
	assert_int_equal(count, 1);
	assert_int_equal(wire_frag_geometry(65535, 1432, &count, &chunk), 0);
	assert_int_equal(count, 46);
	assert_true(chunk <= 1432);
	assert_int_equal(wire_frag_geometry(65535, 1000, &count, &chunk), -EMSGSIZE);
	assert_int_equal(wire_frag_geometry(0, 1000, &count, &chunk), -EMSGSIZE);
	assert_int_equal(wire_frag_geometry(65536, 100000, &count, &chunk), -EMSGSIZE);
	/* 1514 in 3 fragments: 505, 505, 504. */
	h.frame_len = 1514; h.frag_count = 3;
	h.frag_index = 0;
	assert_int_equal(wire_data_check_body(&h, 505), 0);
	assert_int_equal(wire_data_check_body(&h, 504), -EBADMSG);
	h.frag_index = 2;
	assert_int_equal(wire_data_check_body(&h, 504), 0);
	assert_int_equal(wire_data_check_body(&h, 505), -EBADMSG);
	/* Geometry the sender never produces: 5 bytes in 4 fragments
	 * (chunk 2, the last would be empty or negative). */
	h.frame_len = 5; h.frag_count = 4; h.frag_index = 3;
	assert_int_equal(wire_data_check_body(&h, 0), -EBADMSG);
}

static void test_segment_id(void **state)
{
	uint8_t out[32];
	static const char in[] = "bridged segmentbr-dmz";
	uint32_t id = wire_segment_id("br-dmz", 6);

	crypto_generichash(out, 32, (const uint8_t *)in, sizeof(in) - 1, NULL, 0);
	assert_int_equal(id, wire_get32(out));
	assert_int_not_equal(id, wire_segment_id("br-sv", 5));
	assert_int_equal(id, wire_segment_id("br-dmz", 6));
}

static void test_hs_payload(void **state)
{
	char names[][32] = { "br-dmz", "x", "0123456789012345678901234567890" };
	char bad[][32] = { "" };
	uint8_t buf[WIRE_HS_PAYLOAD_LEN];
	struct wire_hs_payload *pl = malloc(sizeof(*pl));
	int len;

	len = wire_hs_payload_encode(buf, sizeof(buf), WIRE_CRYPT_AEAD, WIRE_CIPHER_CHACHA, names, 3);
	assert_int_equal(len, 4 + 7 + 2 + 32);
	memset(buf + len, 0, sizeof(buf) - (size_t)len);
	assert_int_equal(wire_hs_payload_decode(buf, sizeof(buf), pl), 0);
	assert_int_equal(pl->crypt, WIRE_CRYPT_AEAD);
	assert_int_equal(pl->ciphers, WIRE_CIPHER_CHACHA);
	assert_int_equal(pl->n_segments, 3);
	assert_string_equal(pl->segments[0], "br-dmz");
	assert_string_equal(pl->segments[2], names[2]);
	assert_int_equal(wire_hs_payload_decode(buf, (size_t)len, pl), 0);
	/* Truncated list, bad padding, NUL in a name, bad version/crypt/cipher. */
	assert_int_equal(wire_hs_payload_decode(buf, (size_t)len - 1, pl), -EBADMSG);
	buf[len + 3] = 1;
	assert_int_equal(wire_hs_payload_decode(buf, sizeof(buf), pl), -EBADMSG);
	buf[len + 3] = 0;
	buf[6] = 0;
	assert_int_equal(wire_hs_payload_decode(buf, sizeof(buf), pl), -EBADMSG);
	buf[6] = 'd';
	buf[0] = 2;
	assert_int_equal(wire_hs_payload_decode(buf, sizeof(buf), pl), -EBADMSG);
	buf[0] = 1; buf[1] = 2;
	assert_int_equal(wire_hs_payload_decode(buf, sizeof(buf), pl), -EBADMSG);
	buf[1] = 0; buf[2] = 4;
	assert_int_equal(wire_hs_payload_decode(buf, sizeof(buf), pl), -EBADMSG);
	buf[2] = 1; buf[4] = 32;                                  /* name too long */
	assert_int_equal(wire_hs_payload_decode(buf, sizeof(buf), pl), -EBADMSG);
	assert_int_equal(wire_hs_payload_decode(buf, 3, pl), -EBADMSG);
	assert_int_equal(wire_hs_payload_encode(buf, sizeof(buf), 0, 1, bad, 1), -EINVAL);
	assert_int_equal(wire_hs_payload_encode(buf, 20, 0, 1, names, 3), -E2BIG);
	free(pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_hdr_malformed),
		cmocka_unit_test(test_body_and_geometry),
		cmocka_unit_test(test_segment_id),
		cmocka_unit_test(test_hs_payload),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
