/* SPDX-License-Identifier: GPL-2.0-or-later */
/* keys.c: generation, base64 round trip, strict parsing, private key file
 * permission check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/keys.h"

static void test_generate_and_public(void **state)
{
	uint8_t a[KEY_LEN], b[KEY_LEN], pa[KEY_LEN], pb[KEY_LEN], s1[32], s2[32];

	assert_int_equal(key_generate_private(a), 0);
	assert_int_equal(key_generate_private(b), 0);
	assert_memory_not_equal(a, b, KEY_LEN);
	assert_int_equal(a[0] & 7, 0);             /* clamped */
	assert_int_equal(a[31] & 0xc0, 0x40);
	assert_int_equal(key_public_from_private(a, pa), 0);
	assert_int_equal(key_public_from_private(b, pb), 0);
	/* It is X25519: both sides agree. */
	assert_int_equal(crypto_scalarmult(s1, a, pb), 0);
	assert_int_equal(crypto_scalarmult(s2, b, pa), 0);
	assert_memory_equal(s1, s2, 32);
}

static void test_base64(void **state)
{
	uint8_t k[KEY_LEN], g[KEY_LEN];
	char s[KEY_B64_LEN], buf[80];
	int i;

	for (i = 0; i < 50; i++) {
		randombytes_buf(k, sizeof(k));
		key_to_base64(k, s);
		assert_int_equal(strlen(s), 44);
		assert_int_equal(s[43], '=');
		assert_int_equal(key_from_base64(s, g), 0);
		assert_memory_equal(k, g, KEY_LEN);
	}
	/* Known vector: 32 zero bytes. */
	memset(k, 0, sizeof(k));
	key_to_base64(k, s);
	assert_string_equal(s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	snprintf(buf, sizeof(buf), "  %s \n", s);
	assert_int_equal(key_from_base64(buf, g), 0);
	/* Wrong length, bad characters, two keys, trailing garbage. */
	assert_int_equal(key_from_base64("", g), -EINVAL);
	assert_int_equal(key_from_base64("AAAA", g), -EINVAL);
	assert_int_equal(key_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", g), -EINVAL);
	assert_int_equal(key_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!=", g), -EINVAL);
	assert_int_equal(key_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=x", g), -EINVAL);
	assert_int_equal(key_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= AAAA", g), -EINVAL);
	assert_int_equal(key_from_base64(NULL, g), -EINVAL);
	/* Non-canonical last character (unused bits set). */
	assert_int_equal(key_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", g), -EINVAL);
}

static void write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_private_file(void **state)
{
	char dir[] = "/tmp/test_keys.XXXXXX", path[64], s[KEY_B64_LEN], line[64];
	uint8_t k[KEY_LEN], g[KEY_LEN];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/private", dir);
	assert_int_equal(key_generate_private(k), 0);
	key_to_base64(k, s);
	snprintf(line, sizeof(line), "%s\n", s);

	write_file(path, line, 0600);
	memset(g, 0, sizeof(g));
	assert_int_equal(key_load_private_file(path, g), 0);
	assert_memory_equal(k, g, KEY_LEN);
	write_file(path, line, 0400);
	assert_int_equal(key_load_private_file(path, g), 0);
	/* Readable by group or others: refused, key untouched. */
	memset(g, 0xee, sizeof(g));
	write_file(path, line, 0640);
	assert_int_equal(key_load_private_file(path, g), -EPERM);
	write_file(path, line, 0604);
	assert_int_equal(key_load_private_file(path, g), -EPERM);
	assert_int_equal(g[0], 0xee);
	/* Not a key. */
	write_file(path, "hello\n", 0600);
	assert_int_equal(key_load_private_file(path, g), -EINVAL);
	write_file(path, "", 0600);
	assert_int_equal(key_load_private_file(path, g), -EINVAL);
	/* Missing file, a directory. */
	unlink(path);
	assert_int_equal(key_load_private_file(path, g), -ENOENT);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(key_load_private_file(dir, g), -EINVAL);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_and_public),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_private_file),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
