/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit test: the receiver's resume map and state file (migrate/stream/stream_map.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "migrate/stream/stream_map.h"

static const uint8_t sid[STREAM_HASH_LEN] = { 1, 2, 3 };

static void test_nblocks(void **state)
{
	(void)state;
	assert_int_equal(smap_nblocks(0, 4096), 0);
	assert_int_equal(smap_nblocks(1, 4096), 1);
	assert_int_equal(smap_nblocks(4096, 4096), 1);
	assert_int_equal(smap_nblocks(4097, 4096), 2);
}

static void test_set_clear_codec(void **state)
{
	uint8_t h[STREAM_HASH_LEN], *buf;
	struct smap *m, *m2;
	size_t len;

	(void)state;
	assert_int_equal(smap_new(65536, 1 << 20, 10 * 65536 + 1, sid, &m), 0);
	assert_int_equal(m->nblocks, 11);
	assert_int_equal(smap_count(m), 0);
	memset(h, 0x5a, sizeof(h));
	smap_set(m, 0, h);
	smap_set(m, 10, h);
	smap_set(m, 3, h);
	smap_clear(m, 3);
	assert_int_equal(smap_count(m), 2);
	assert_true(smap_valid(m, 10));
	assert_false(smap_valid(m, 3));
	assert_memory_equal(smap_hash(m, 10), h, STREAM_HASH_LEN);

	assert_int_equal(smap_encode(m, &buf, &len), 0);
	assert_int_equal(smap_decode(buf, len, &m2), 0);
	assert_int_equal(m2->nblocks, 11);
	assert_true(m2->offset == 1 << 20);
	assert_memory_equal(m2->entries, m->entries, 11 * SMAP_ENTRY);
	smap_free(m2);
	/* any flipped byte, or a torn (short) file, is rejected */
	for (size_t i = 0; i < len; i += 37) {
		buf[i] ^= 1;
		assert_int_equal(smap_decode(buf, len, &m2), -EBADMSG);
		buf[i] ^= 1;
	}
	assert_int_equal(smap_decode(buf, len - 1, &m2), -EBADMSG);
	free(buf);
	smap_free(m);
	smap_free(NULL);
}

static void test_save_load(void **state)
{
	char dir[] = "/tmp/test_stream_map.XXXXXX", path[128];
	uint8_t h[STREAM_HASH_LEN], other[STREAM_HASH_LEN] = { 9 };
	struct smap *m, *m2;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(smap_load(path, 65536, 0, 65536 * 4, sid, &m2), -ENOENT);
	assert_int_equal(smap_new(65536, 0, 65536 * 4, sid, &m), 0);
	memset(h, 0x11, sizeof(h));
	smap_set(m, 2, h);
	assert_int_equal(smap_save(m, path), 0);
	smap_set(m, 1, h);
	assert_int_equal(smap_save(m, path), 0);	/* replaces */
	assert_int_equal(smap_load(path, 65536, 0, 65536 * 4, sid, &m2), 0);
	assert_int_equal(smap_count(m2), 2);
	smap_free(m2);
	/* bound to the copy: another source, offset, length or block size */
	assert_int_equal(smap_load(path, 65536, 0, 65536 * 4, other, &m2), -ESTALE);
	assert_int_equal(smap_load(path, 65536, 512, 65536 * 4, sid, &m2), -ESTALE);
	assert_int_equal(smap_load(path, 65536, 0, 65536 * 5, sid, &m2), -ESTALE);
	assert_int_equal(smap_load(path, 131072, 0, 65536 * 4, sid, &m2), -ESTALE);
	/* no temporary file left behind */
	snprintf(path, sizeof(path), "%s/state.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/state", dir);
	unlink(path);
	rmdir(dir);
	smap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nblocks),
		cmocka_unit_test(test_set_clear_codec),
		cmocka_unit_test(test_save_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
