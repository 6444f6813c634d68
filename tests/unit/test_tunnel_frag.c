/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fragment reassembly: in order, out of order, interleaved frames, missing
 * fragment timeout, eviction, duplicates and inconsistent fragments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tunnel/frag.h"

#define SEC 1000000000ull

static uint8_t frame[65535];

/* Splits frame[0..len) as the sender does; fills h[] and returns count. */
static unsigned split(size_t len, size_t maxp, uint64_t base, struct wire_data_hdr *h,
		      size_t *off, size_t *flen)
{
	unsigned count, i;
	size_t chunk;

	assert_int_equal(wire_frag_geometry(len, maxp, &count, &chunk), 0);
	for (i = 0; i < count; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].kind = WIRE_KIND_FRAME;
		h[i].frag_index = (uint8_t)i;
		h[i].frag_count = (uint8_t)count;
		h[i].receiver = 7;
		h[i].counter = base + i;
		h[i].segment_id = 3;
		h[i].frame_len = (uint16_t)len;
		off[i] = i * chunk;
		flen[i] = i + 1 < count ? chunk : len - i * chunk;
		assert_int_equal(wire_data_check_body(&h[i], flen[i]), 0);
	}
	return count;
}

static int add(struct frag_table *ft, const struct wire_data_hdr *h, size_t off, size_t flen,
	       uint64_t now, const uint8_t **out, unsigned *dropped)
{
	return frag_add(ft, h, frame + off, flen, now, out, dropped);
}

static void setup_frame(void)
{
	size_t i;

	for (i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 13 + (i >> 8));
}

static void test_in_order(void **state)
{
	struct frag_table ft;
	struct wire_data_hdr h[64];
	size_t off[64], flen[64];
	const uint8_t *out = NULL;
	unsigned n, i, dropped;

	setup_frame();
	frag_table_init(&ft);
	n = split(9000, 1432, 100, h, off, flen);
	assert_int_equal(n, 7);
	for (i = 0; i + 1 < n; i++)
		assert_int_equal(add(&ft, &h[i], off[i], flen[i], SEC, &out, &dropped), 0);
	assert_int_equal(add(&ft, &h[n - 1], off[n - 1], flen[n - 1], SEC, &out, &dropped), 1);
	assert_memory_equal(out, frame, 9000);
	assert_int_equal(dropped, 0);
	assert_int_equal(frag_next_deadline(&ft, SEC), UINT64_MAX);
	frag_table_free(&ft);
}

static void test_out_of_order_interleaved(void **state)
{
	struct frag_table ft;
	struct wire_data_hdr h1[64], h2[64];
	size_t o1[64], l1[64], o2[64], l2[64];
	const uint8_t *out = NULL;
	unsigned dropped;

	setup_frame();
	frag_table_init(&ft);
	assert_int_equal(split(1514, 1432, 10, h1, o1, l1), 2);
	assert_int_equal(split(4000, 1432, 12, h2, o2, l2), 3);
	assert_int_equal(add(&ft, &h2[2], o2[2], l2[2], SEC, &out, &dropped), 0);
	assert_int_equal(add(&ft, &h1[1], o1[1], l1[1], SEC, &out, &dropped), 0);
	assert_int_equal(add(&ft, &h2[0], o2[0], l2[0], SEC, &out, &dropped), 0);
	assert_int_equal(add(&ft, &h1[0], o1[0], l1[0], SEC, &out, &dropped), 1);
	assert_memory_equal(out, frame, 1514);
	assert_int_equal(add(&ft, &h2[1], o2[1], l2[1], SEC, &out, &dropped), 1);
	assert_memory_equal(out, frame, 4000);
	frag_table_free(&ft);
}

static void test_timeout(void **state)
{
	struct frag_table ft;
	struct wire_data_hdr h[64];
	size_t off[64], flen[64];
	const uint8_t *out = NULL;
	unsigned dropped;

	setup_frame();
	frag_table_init(&ft);
	split(3000, 1432, 50, h, off, flen);
	assert_int_equal(add(&ft, &h[0], off[0], flen[0], SEC, &out, &dropped), 0);
	assert_int_equal(add(&ft, &h[2], off[2], flen[2], SEC, &out, &dropped), 0);
	assert_int_equal(frag_next_deadline(&ft, SEC), 2 * SEC);
	assert_int_equal(frag_expire(&ft, 2 * SEC - 1, SEC), 0);
	assert_int_equal(frag_expire(&ft, 2 * SEC, SEC), 1);
	assert_int_equal(frag_next_deadline(&ft, SEC), UINT64_MAX);
	/* The missing fragment arriving late starts a new partial frame: it
	 * never completes a frame on its own. */
	assert_int_equal(add(&ft, &h[1], off[1], flen[1], 3 * SEC, &out, &dropped), 0);
	assert_int_equal(frag_expire(&ft, 5 * SEC, SEC), 1);
	frag_table_free(&ft);
}

static void test_eviction(void **state)
{
	struct frag_table ft;
	struct wire_data_hdr h[64];
	size_t off[64], flen[64];
	const uint8_t *out = NULL;
	unsigned dropped, i;

	setup_frame();
	frag_table_init(&ft);
	for (i = 0; i < FRAG_SLOTS; i++) {
		split(2000, 1432, 1000 + 10 * i, h, off, flen);
		assert_int_equal(add(&ft, &h[0], off[0], flen[0], SEC + i, &out, &dropped), 0);
		assert_int_equal(dropped, 0);
	}
	split(2000, 1432, 5000, h, off, flen);
	assert_int_equal(add(&ft, &h[0], off[0], flen[0], 2 * SEC, &out, &dropped), 0);
	assert_int_equal(dropped, 1);
	/* The oldest (base 1000) is gone: its second half starts a new slot,
	 * evicting the next oldest. */
	split(2000, 1432, 1000, h, off, flen);
	assert_int_equal(add(&ft, &h[1], off[1], flen[1], 2 * SEC, &out, &dropped), 0);
	assert_int_equal(dropped, 1);
	/* base 1070 is still there and completes. */
	split(2000, 1432, 1070, h, off, flen);
	assert_int_equal(add(&ft, &h[1], off[1], flen[1], 2 * SEC, &out, &dropped), 1);
	assert_memory_equal(out, frame, 2000);
	frag_table_free(&ft);
}

static void test_duplicates_and_garbage(void **state)
{
	struct frag_table ft;
	struct wire_data_hdr h[64], g;
	size_t off[64], flen[64];
	const uint8_t *out = NULL;
	unsigned dropped;

	setup_frame();
	frag_table_init(&ft);
	split(3000, 1432, 20, h, off, flen);
	assert_int_equal(add(&ft, &h[0], off[0], flen[0], SEC, &out, &dropped), 0);
	/* Same fragment again (overlap). */
	assert_int_equal(add(&ft, &h[0], off[0], flen[0], SEC, &out, &dropped), -EBADMSG);
	/* A fragment of "the same frame" that disagrees on length / segment
	 * / count. */
	g = h[1];
	g.frame_len = 2999;
	assert_int_equal(add(&ft, &g, off[1], flen[1], SEC, &out, &dropped), -EBADMSG);
	g = h[1];
	g.segment_id = 4;
	assert_int_equal(add(&ft, &g, off[1], flen[1], SEC, &out, &dropped), -EBADMSG);
	/* The genuine rest still completes the frame. */
	assert_int_equal(add(&ft, &h[1], off[1], flen[1], SEC, &out, &dropped), 0);
	assert_int_equal(add(&ft, &h[2], off[2], flen[2], SEC, &out, &dropped), 1);
	assert_memory_equal(out, frame, 3000);
	/* Another receiver index with the same counters is another frame. */
	g = h[0];
	g.receiver = 8;
	assert_int_equal(add(&ft, &g, off[0], flen[0], SEC, &out, &dropped), 0);
	frag_table_free(&ft);
}

static void test_max_frame(void **state)
{
	struct frag_table ft;
	struct wire_data_hdr h[64];
	size_t off[64], flen[64];
	const uint8_t *out = NULL;
	unsigned n, i, dropped;
	int r = 0;

	setup_frame();
	frag_table_init(&ft);
	n = split(65535, 1432, 0, h, off, flen);
	for (i = n; i-- > 0;)
		r = add(&ft, &h[i], off[i], flen[i], SEC, &out, &dropped);
	assert_int_equal(r, 1);
	assert_memory_equal(out, frame, 65535);
	frag_table_free(&ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order_interleaved),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_duplicates_and_garbage),
		cmocka_unit_test(test_max_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
