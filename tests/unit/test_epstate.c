/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The endpoint state file (bridged/epstate.c): the parser on good, odd and
 * broken text (it never fails on content, it counts bad lines), the
 * formatter's round trip, the table, and load / save on real files in a
 * temporary directory (missing, unsafe permissions, too large, atomic
 * replace, a missing directory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridged/epstate.h"
#include "netcfg/config.h"
#include "common/keys.h"

#define KEY_A "b2xkaG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMDI="
#define KEY_B "bmV3aG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMDE="

static void key_of(const char *b64, uint8_t k[KEY_LEN])
{
	assert_int_equal(key_from_base64(b64, k), 0);
}

/* The endpoint of key in s as text, "" when absent. */
static const char *ep_of(const struct epstate *s, const char *b64)
{
	static char buf[80];
	uint8_t k[KEY_LEN];
	const struct epstate_entry *e;

	key_of(b64, k);
	e = epstate_find(s, k);
	if (!e)
		return "";
	return sockaddr_to_string(&e->endpoint, buf, sizeof(buf));
}

static int parse(struct epstate *s, const char *text, struct epstate_report *rep)
{
	return epstate_parse(s, text, strlen(text), rep);
}

static void test_parse_good(void **state)
{
	struct epstate s = { 0 };
	struct epstate_report rep;

	assert_int_equal(parse(&s, "# header\n\n" KEY_A " 198.18.0.2:5880\n"
				   "\t " KEY_B "   [2001:db8::1]:6000  \r\n", &rep), 2);
	assert_int_equal(rep.entries, 2);
	assert_int_equal(rep.bad, 0);
	assert_int_equal(rep.first_bad_line, 0);
	assert_string_equal(ep_of(&s, KEY_A), "198.18.0.2:5880");
	assert_string_equal(ep_of(&s, KEY_B), "[2001:db8::1]:6000");
	/* no final newline; a key twice: the later line wins */
	assert_int_equal(parse(&s, KEY_A " 198.18.0.2:5880\n" KEY_A " 198.18.0.3:1", &rep), 1);
	assert_string_equal(ep_of(&s, KEY_A), "198.18.0.3:1");
	assert_string_equal(ep_of(&s, KEY_B), "");
	epstate_clear(&s);
}

static void test_parse_empty(void **state)
{
	struct epstate s = { 0 };
	struct epstate_report rep;

	assert_int_equal(epstate_parse(&s, "", 0, &rep), 0);
	assert_int_equal(rep.entries + rep.bad, 0);
	assert_int_equal(parse(&s, "\n\n# nothing\n   \n", &rep), 0);
	assert_int_equal(rep.bad, 0);
	assert_int_equal(s.n, 0);
	epstate_clear(&s);
}

static void test_parse_bad_lines(void **state)
{
	static const char *const bad[] = {
		KEY_A,                                      /* no endpoint */
		KEY_A " 198.18.0.2",                        /* no port */
		KEY_A " 198.18.0.2:0",
		KEY_A " 198.18.0.2:65536",
		KEY_A " host.example:5880",                 /* no names */
		KEY_A " 198.18.0.2:5880 extra",
		"not-a-key 198.18.0.2:5880",
		"b2xkaG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMDI 198.18.0.2:5880", /* no padding */
		"b2xkaG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMD== 198.18.0.2:5880",
		"198.18.0.2:5880 " KEY_A,                   /* swapped */
		KEY_A ",198.18.0.2:5880",
		" ; " KEY_A " 198.18.0.2:5880",             /* not our comment sign */
	};
	struct epstate s = { 0 };
	struct epstate_report rep;
	char text[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the good lines around a bad one still count */
		snprintf(text, sizeof(text), "# x\n" KEY_B " 198.18.0.9:9\n%s\n", bad[i]);
		assert_int_equal(parse(&s, text, &rep), 1);
		assert_int_equal(rep.bad, 1);
		assert_int_equal(rep.first_bad_line, 3);
		assert_string_equal(ep_of(&s, KEY_A), "");
		assert_string_equal(ep_of(&s, KEY_B), "198.18.0.9:9");
	}
	epstate_clear(&s);
}

static void test_parse_garbage(void **state)
{
	struct epstate s = { 0 };
	struct epstate_report rep;
	char buf[4096], line[EPSTATE_LINE_MAX + 40];
	static const char nul[] = KEY_A " 198.18\0.0.2:5880\n" KEY_B " 198.18.0.2:5880\n";
	unsigned seed = 16;

	/* random bytes: bad lines only, never a crash or a failure */
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (char)(rand_r(&seed) & 0xff);
		assert_true(epstate_parse(&s, buf, sizeof(buf), &rep) >= 0);
		assert_int_equal(rep.entries, s.n);
	}
	/* a NUL byte spoils its line only */
	assert_int_equal(epstate_parse(&s, nul, sizeof(nul) - 1, &rep), 1);
	assert_int_equal(rep.bad, 1);
	assert_int_equal(rep.first_bad_line, 1);
	assert_string_equal(ep_of(&s, KEY_B), "198.18.0.2:5880");
	/* an overlong line is bad even if it reads well; blanks around it
	 * do not count */
	memset(line, ' ', sizeof(line));
	memcpy(line, KEY_A, strlen(KEY_A));
	snprintf(line + sizeof(line) - 20, 20, "198.18.0.2:5880");
	assert_int_equal(parse(&s, line, &rep), 0);
	assert_int_equal(rep.bad, 1);
	memset(line, ' ', sizeof(line));
	snprintf(line + sizeof(line) - 70, 70, "%s 198.18.0.2:5880", KEY_A);
	assert_int_equal(parse(&s, line, &rep), 1);
	assert_int_equal(rep.bad, 0);
	/* a parse replaces what was there */
	assert_int_equal(parse(&s, KEY_A " 198.18.0.2:5880\n", NULL), 1);
	assert_int_equal(parse(&s, "# gone\n", NULL), 0);
	assert_string_equal(ep_of(&s, KEY_A), "");
	epstate_clear(&s);
}

static void test_set_format_round_trip(void **state)
{
	struct epstate s = { 0 }, s2 = { 0 };
	struct epstate_report rep;
	struct sockaddr_storage ss;
	socklen_t len;
	uint8_t ka[KEY_LEN], kb[KEY_LEN];
	char *text;
	size_t tlen;

	key_of(KEY_A, ka);
	key_of(KEY_B, kb);
	assert_int_equal(sockaddr_from_string("198.18.0.2:5880", &ss, &len), 0);
	assert_int_equal(epstate_set(&s, ka, &ss, len), 1);
	assert_int_equal(epstate_set(&s, ka, &ss, len), 0);     /* unchanged */
	assert_int_equal(epstate_set(&s, ka, &ss, 0), -EINVAL);
	assert_int_equal(sockaddr_from_string("[2001:db8::7]:5880", &ss, &len), 0);
	assert_int_equal(epstate_set(&s, kb, &ss, len), 1);
	assert_int_equal(sockaddr_from_string("198.18.0.3:5880", &ss, &len), 0);
	assert_int_equal(epstate_set(&s, ka, &ss, len), 1);     /* moved */
	assert_int_equal(s.n, 2);
	for (int i = 0; i < 40; i++) {                           /* grows */
		uint8_t k[KEY_LEN] = { (uint8_t)i, 1 };

		assert_int_equal(epstate_set(&s, k, &ss, len), 1);
	}
	assert_int_equal(s.n, 42);
	assert_int_equal(epstate_format(&s, &text, &tlen), 0);
	assert_int_equal(strlen(text), tlen);
	assert_int_equal(text[0], '#');
	assert_non_null(strstr(text, "\n" KEY_A " 198.18.0.3:5880\n"));
	assert_non_null(strstr(text, "\n" KEY_B " [2001:db8::7]:5880\n"));
	assert_int_equal(epstate_parse(&s2, text, tlen, &rep), 42);
	assert_int_equal(rep.bad, 0);
	assert_string_equal(ep_of(&s2, KEY_A), "198.18.0.3:5880");
	assert_string_equal(ep_of(&s2, KEY_B), "[2001:db8::7]:5880");
	free(text);
	epstate_clear(&s);
	epstate_clear(&s2);
	assert_int_equal(epstate_format(&s, &text, &tlen), 0);   /* empty: header only */
	assert_int_equal(epstate_parse(&s2, text, tlen, NULL), 0);
	free(text);
	epstate_clear(&s2);
}

/* ---- files ---- */

static char dir[64];

static int dir_setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_epstate.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int dir_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static size_t count_files(const char *d)
{
	DIR *dh = opendir(d);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(dh);
	while ((de = readdir(dh)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dh);
	return n;
}

static void test_load_save(void **state)
{
	struct epstate s = { 0 }, got = { 0 };
	struct epstate_report rep;
	struct sockaddr_storage ss;
	socklen_t len;
	uint8_t ka[KEY_LEN];
	char path[128], sub[128], *big;
	struct stat st;

	snprintf(path, sizeof(path), "%s/endpoints", dir);
	assert_int_equal(epstate_load(path, &got, &rep), -ENOENT);

	/* save, load back; the file is ours alone and nothing is left over */
	key_of(KEY_A, ka);
	assert_int_equal(sockaddr_from_string("198.18.0.2:5880", &ss, &len), 0);
	assert_int_equal(epstate_set(&s, ka, &ss, len), 1);
	assert_int_equal(epstate_save(path, &s), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_files(dir), 1);
	assert_int_equal(epstate_load(path, &got, &rep), 1);
	assert_string_equal(ep_of(&got, KEY_A), "198.18.0.2:5880");

	/* replaced whole */
	assert_int_equal(sockaddr_from_string("198.18.0.4:5880", &ss, &len), 0);
	assert_int_equal(epstate_set(&s, ka, &ss, len), 1);
	assert_int_equal(epstate_save(path, &s), 0);
	assert_int_equal(epstate_load(path, &got, &rep), 1);
	assert_string_equal(ep_of(&got, KEY_A), "198.18.0.4:5880");
	assert_int_equal(count_files(dir), 1);

	/* empty and corrupt files load (as nothing, or bad lines) */
	write_file(path, "", 0, 0600);
	assert_int_equal(epstate_load(path, &got, &rep), 0);
	write_file(path, "\x01\x02garbage\n\xff\n", 12, 0600);
	assert_int_equal(epstate_load(path, &got, &rep), 0);
	assert_int_equal(rep.bad, 2);

	/* others may write it: refused, it would steer our handshakes */
	write_file(path, KEY_A " 198.18.0.2:5880\n", strlen(KEY_A) + 17, 0622);
	assert_int_equal(epstate_load(path, &got, &rep), -EPERM);
	assert_int_equal(got.n, 0);
	write_file(path, KEY_A " 198.18.0.2:5880\n", strlen(KEY_A) + 17, 0644);
	assert_int_equal(epstate_load(path, &got, &rep), 1);
	/* not a regular file */
	assert_int_equal(epstate_load(dir, &got, &rep), -EPERM);

	/* too large */
	big = malloc(EPSTATE_MAX_BYTES + 10);
	assert_non_null(big);
	memset(big, '#', EPSTATE_MAX_BYTES + 10);
	write_file(path, big, EPSTATE_MAX_BYTES + 10, 0600);
	assert_int_equal(epstate_load(path, &got, &rep), -EFBIG);
	free(big);

	/* a missing directory (the last level) is created, 0700 */
	snprintf(sub, sizeof(sub), "%s/sub/endpoints", dir);
	assert_int_equal(epstate_save(sub, &s), 0);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(sub, sizeof(sub), "%s/no/such/endpoints", dir);
	assert_int_equal(epstate_save(sub, &s), -ENOENT);
	assert_int_equal(epstate_save("relative", &s), -EINVAL);
	epstate_clear(&s);
	epstate_clear(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_bad_lines),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_set_format_round_trip),
		cmocka_unit_test_setup_teardown(test_load_save, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
