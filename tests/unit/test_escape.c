/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Escaping of untrusted bytes for messages (common/escape.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/escape.h"

static const char *esc(const char *s, size_t len, size_t bufsz)
{
	static char buf[512];

	assert_true(bufsz <= sizeof(buf));
	memset(buf, 'Z', sizeof(buf));
	str_escape(s, len, buf, bufsz);
	/* Never a byte past bufsz, always terminated. */
	assert_true(strlen(buf) < bufsz);
	assert_int_equal(buf[bufsz], 'Z');
	return buf;
}

static void test_plain(void **state)
{
	char buf[64];

	assert_ptr_equal(str_escape("abc", SIZE_MAX, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "abc");
	assert_string_equal(esc("", SIZE_MAX, 16), "");
	assert_string_equal(esc(" !\"'~ 0x/:[]", SIZE_MAX, 64), " !\"'~ 0x/:[]");
	assert_string_equal(esc(NULL, 3, 16), "(null)");
}

static void test_controls(void **state)
{
	assert_string_equal(esc("\033[2Jx", SIZE_MAX, 64), "\\x1b[2Jx");
	assert_string_equal(esc("a\tb\rc\nd\\e", SIZE_MAX, 64), "a\\tb\\rc\\nd\\\\e");
	assert_string_equal(esc("\x01\x1f\x7f", SIZE_MAX, 64), "\\x01\\x1f\\x7f");
	/* an explicit length: NUL bytes inside, nothing read past the end */
	assert_string_equal(esc("a\0b", 3, 64), "a\\x00b");
	assert_string_equal(esc("abcdef", 2, 64), "ab");
}

static void test_high_bytes(void **state)
{
	/* UTF-8 is escaped byte by byte, like invalid sequences and C1. */
	assert_string_equal(esc("caf\xc3\xa9", SIZE_MAX, 64), "caf\\xc3\\xa9");
	assert_string_equal(esc("\xff\x80", SIZE_MAX, 64), "\\xff\\x80");
	assert_string_equal(esc("\xc2\x9b" "2J", SIZE_MAX, 64), "\\xc2\\x9b2J");
	assert_string_equal(esc("\xe2\x80\xae", SIZE_MAX, 64), "\\xe2\\x80\\xae");
}

static void test_truncation(void **state)
{
	char big[300];

	/* exactly fitting: no dots */
	assert_string_equal(esc("abcde", SIZE_MAX, 6), "abcde");
	assert_string_equal(esc("abcdef", SIZE_MAX, 6), "ab...");
	/* never cut inside an escape */
	assert_string_equal(esc("ab\033cdef", SIZE_MAX, 8), "ab...");
	assert_string_equal(esc("ab\033cdef", SIZE_MAX, 10), "ab\\x1b...");
	assert_string_equal(esc("a\033", SIZE_MAX, 6), "a\\x1b");
	assert_string_equal(esc("ab\033", SIZE_MAX, 6), "ab...");
	/* tiny buffers */
	assert_string_equal(esc("abcdef", SIZE_MAX, 1), "");
	assert_string_equal(esc("abcdef", SIZE_MAX, 3), "..");
	assert_string_equal(esc("abcdef", SIZE_MAX, 4), "...");
	assert_string_equal(esc("abc", SIZE_MAX, 4), "abc");
	assert_null(str_escape("x", 1, NULL, 0));

	/* STR_ESCAPE_MAX holds a config line of 198 printable characters */
	memset(big, 'v', 198);
	big[198] = '\0';
	assert_string_equal(STR_ESCAPED(big), big);
	memset(big, '\033', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		const char *e = STR_ESCAPED(big);

		assert_int_equal(strlen(e), 63 * 4 + 3);
		assert_string_equal(e + 63 * 4, "...");
	}
}

/* The macro's buffers are distinct: several in one call. */
static void test_macro_in_printf(void **state)
{
	char out[128];

	snprintf(out, sizeof(out), "'%s' and '%s'", STR_ESCAPED("\033x"), STR_ESCAPED("y\n"));
	assert_string_equal(out, "'\\x1bx' and 'y\\n'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_high_bytes),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_macro_in_printf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
