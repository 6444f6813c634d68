/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit test: the swap signature of a listed disk (migrate/source/swapsig.c):
 * a header written by migrate/disk/swap.c is read back (UUID, label), every
 * page size, the byte order of the version, the hibernation signatures, a
 * header that is not swap v1, a buffer too short, a label that is not text,
 * and the JSON of the list reply. Needs neither root nor a network.
 */
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

#include "migrate/disk/swap.h"
#include "migrate/source/swapsig.h"

#define UUID "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"

static uint8_t buf[SWAPSIG_READ];

/* A swap v1 header for pagesize, as mkswap writes it (little-endian). */
static void header(unsigned pagesize, const char *magic, const char *label)
{
	static const uint8_t u[16] = { 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x49, 0x68,
				       0x87, 0x76, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0 };

	memset(buf, 0, sizeof(buf));
	buf[1024] = 1;			/* version */
	buf[1028] = 99;			/* last_page */
	memcpy(buf + 1036, u, 16);
	if (label)
		memcpy(buf + 1052, label, strnlen(label, 16));
	memcpy(buf + pagesize - 10, magic, strlen(magic));
}

static void test_page_sizes(void **state)
{
	static const unsigned sizes[] = { 4096, 8192, 16384, 65536 };
	struct swapsig s;
	char u[37];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		header(sizes[i], "SWAPSPACE2", "swap0");
		assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
		assert_int_equal(s.pagesize, sizes[i]);
		assert_false(s.hibernated);
		assert_true(s.has_uuid);
		assert_string_equal(swapsig_uuid_string(&s, u), UUID);
		assert_int_equal(s.label_len, 5);
		assert_string_equal(s.label, "swap0");
		assert_true(s.label_text);
		/* one byte short of the magic's page: nothing */
		assert_int_equal(swapsig_parse(buf, sizes[i] - 1, &s), 0);
		assert_int_equal(s.pagesize, 0);
	}
	/* another size is no swap */
	header(2048, "SWAPSPACE2", NULL);
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 0);
	header(32768, "SWAPSPACE2", NULL);
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 0);
	assert_int_equal(swapsig_parse(buf, 0, &s), 0);
}

static void test_version_and_fields(void **state)
{
	struct swapsig s;

	(void)state;
	/* big-endian version 1 (a header of a big-endian kernel) */
	header(4096, "SWAPSPACE2", NULL);
	buf[1024] = 0;
	buf[1027] = 1;
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	assert_int_equal(s.label_len, 0);
	/* version 2, or no last page: not swap v1 */
	header(4096, "SWAPSPACE2", NULL);
	buf[1024] = 2;
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 0);
	header(4096, "SWAPSPACE2", NULL);
	buf[1028] = 0;
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 0);
	/* the old v0 magic and a near miss */
	header(4096, "SWAP-SPACE", NULL);
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 0);
	header(4096, "SWAPSPACE3", NULL);
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 0);
	/* an all-zero UUID is none */
	header(4096, "SWAPSPACE2", "x");
	memset(buf + 1036, 0, 16);
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	assert_false(s.has_uuid);
	/* a label of 16 bytes has no NUL */
	header(4096, "SWAPSPACE2", "0123456789abcdefXYZ");
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	assert_int_equal(s.label_len, 16);
	assert_string_equal(s.label, "0123456789abcdef");
	/* UTF-8 is text; a Latin-1 byte, a control character are not */
	header(4096, "SWAPSPACE2", "caf\xc3\xa9");
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	assert_true(s.label_text);
	header(4096, "SWAPSPACE2", "caf\xe9");
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	assert_false(s.label_text);
	header(4096, "SWAPSPACE2", "a\033[2J");
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	assert_false(s.label_text);
	header(4096, "SWAPSPACE2", "\xc3");
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	assert_false(s.label_text);
}

static void test_hibernated(void **state)
{
	static const char *const magics[] = { "S1SUSPEND", "S2SUSPEND", "ULSUSPEND" };
	struct swapsig s;
	char u[37];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		header(4096, magics[i], "swap");
		assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
		assert_true(s.hibernated);
		assert_string_equal(swapsig_uuid_string(&s, u), UUID);
		assert_string_equal(s.label, "swap");
	}
	/* a hibernation image without a version 1 header: no UUID, no label */
	header(8192, "S2SUSPEND", "swap");
	buf[1024] = 0;
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	assert_true(s.hibernated);
	assert_int_equal(s.pagesize, 8192);
	assert_false(s.has_uuid);
	assert_int_equal(s.label_len, 0);
}

/* What migrate/disk/swap.c writes (the new host's side) reads back. */
static void test_written_by_swap_write(void **state)
{
	char path[] = "/tmp/test_swapsig.XXXXXX", uuid[37], u[37], err[256];
	struct swapsig s;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, 1024 * 1024), 0);
	assert_int_equal(swap_write(fd, 0, 1024 * 1024, UUID, "swap-root", uuid, err, sizeof(err)), 0);
	assert_int_equal(swapsig_read(fd, &s), 1);
	assert_int_equal(s.pagesize, (unsigned)sysconf(_SC_PAGESIZE));
	assert_string_equal(swapsig_uuid_string(&s, u), UUID);
	assert_string_equal(s.label, "swap-root");
	/* a disk shorter than the read */
	assert_int_equal(ftruncate(fd, 5000), 0);
	assert_int_equal(swapsig_read(fd, &s), 1);
	assert_int_equal(ftruncate(fd, 100), 0);
	assert_int_equal(swapsig_read(fd, &s), 0);
	close(fd);
	assert_int_equal(swapsig_read(-1, &s), -EBADF);
}

static void test_json(void **state)
{
	struct swapsig s;
	json_object *j;

	(void)state;
	header(4096, "SWAPSPACE2", "swap0");
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	j = swapsig_json(&s);
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
			    "{\"uuid\":\"" UUID "\",\"label\":\"swap0\",\"hibernated\":false,\"pagesize\":4096}");
	json_object_put(j);
	header(4096, "ULSUSPEND", NULL);
	memset(buf + 1036, 0, 16);
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	j = swapsig_json(&s);
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
			    "{\"uuid\":null,\"label\":null,\"hibernated\":true,\"pagesize\":4096}");
	json_object_put(j);
	header(4096, "SWAPSPACE2", "caf\xe9\x01");
	assert_int_equal(swapsig_parse(buf, sizeof(buf), &s), 1);
	j = swapsig_json(&s);
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
			    "{\"uuid\":\"" UUID "\",\"label\":null,\"label_hex\":\"636166e901\","
			    "\"hibernated\":false,\"pagesize\":4096}");
	json_object_put(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_sizes),
		cmocka_unit_test(test_version_and_fields),
		cmocka_unit_test(test_hibernated),
		cmocka_unit_test(test_written_by_swap_write),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
