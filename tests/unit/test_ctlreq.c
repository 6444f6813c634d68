/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket's request parser (bridged/ctlreq.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bridged/ctlreq.h"

static int parse(const char *s, struct ctl_request *r, char *err)
{
	err[0] = '\0';
	return ctl_request_parse(s, strlen(s), r, err, 200);
}

static void test_commands(void **state)
{
	struct ctl_request r;
	char err[200];

	assert_int_equal(parse("status\n", &r, err), 0);
	assert_int_equal(r.cmd, CTL_CMD_STATUS);
	assert_int_equal(parse("events\r\nstatus\n", &r, err), 0);
	assert_int_equal(r.cmd, CTL_CMD_EVENTS);
	assert_int_equal(parse("fdb\n", &r, err), 0);
	assert_int_equal(r.cmd, CTL_CMD_FDB);
	assert_int_equal(r.n_macs, 0);
	assert_string_equal(r.segment, "");
	assert_false(ctl_request_complete("status", 6));
	assert_true(ctl_request_complete("status\n", 7));
	assert_int_equal(parse("status", &r, err), -1);
	assert_non_null(strstr(err, "incomplete request"));
	assert_int_equal(parse(" status\n", &r, err), -1);
	assert_string_equal(err, "unknown command");
	assert_int_equal(parse("status now\n", &r, err), -1);
	assert_int_equal(parse("frobnicate\n", &r, err), -1);
	assert_string_equal(err, "unknown command");
	assert_int_equal(ctl_request_parse("stat\0us\n", 8, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
}

static void test_fdb(void **state)
{
	struct ctl_request r;
	char err[200], many[600] = "fdb";

	assert_int_equal(parse("fdb segment dmz 52:54:00:AB:cd:ef\t52:54:00:ab:cd:ef 02:00:00:00:00:01\n", &r, err), 0);
	assert_string_equal(r.segment, "dmz");
	assert_int_equal(r.n_macs, 2);          /* a MAC given twice counts once */
	assert_memory_equal(r.macs[0], "\x52\x54\x00\xab\xcd\xef", 6);
	assert_memory_equal(r.macs[1], "\x02\x00\x00\x00\x00\x01", 6);
	assert_memory_equal(r.macs[2], "\0\0\0\0\0\0", 6);
	assert_int_equal(parse("fdb segment\n", &r, err), -1);
	assert_string_equal(err, "fdb: segment: a segment name expected");
	assert_int_equal(parse("fdb segment 0123456789012345678901234567890123\n", &r, err), -1);
	assert_non_null(strstr(err, "at most 31 characters"));
	assert_int_equal(parse("fdb 52:54:00:ab:cd\n", &r, err), -1);
	assert_string_equal(err, "fdb: '52:54:00:ab:cd' is not a MAC address (six pairs of hex digits separated by ':')");
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), " 52:54:00:00:00:%02x", i);
	strcat(many, "\n");
	assert_int_equal(parse(many, &r, err), -1);
	assert_string_equal(err, "fdb: at most 16 MAC addresses");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_fdb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
