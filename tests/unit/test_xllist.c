/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit test: the `xl list` / `xm list` table parser
 * (migrate/source/xllist.c), on the outputs the tools' manual pages show,
 * on what xl_list.c and xm's main.py print, and on odd spacing, unknown
 * domains and output that is no table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "migrate/source/xllist.h"

/* docs/man/xl.1.pod.in, "list": the example (its header as xl prints it,
 * with tabs before State and Time(s)) */
static const char xl_doc[] =
	"Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
	"Domain-0                                     0   750     4     r-----   11794.3\n"
	"win                                          1  1019     1     r-----       0.3\n"
	"linux                                        2  2048     2     r-----    5624.2\n";

/* docs/man/xl.1.pod.in, "claims": one more column, paused domains */
static const char xl_claims[] =
	" Name                                        ID   Mem VCPUs      State   Time(s)  Claimed\n"
	" Domain-0                                     0  2047     4     r-----      19.7     0\n"
	" OL5                                          2  2048     1     --p---       0.0   847\n"
	" OL6                                          3  1024     4     r-----       5.9     0\n";

/* docs/man/xm.pod.1, "list" (xm of Xen 3.0) */
static const char xm_doc[] =
	"Name                         ID Mem(MiB) VCPUs State  Time(s)\n"
	"Domain-0                      0       98     1 r-----  5068.6\n"
	"Fedora3                     164      128     1 r-----     7.6\n"
	"Fedora4                     165      128     1 ------     0.6\n"
	"Mandrake2006                166      128     1 -b----     3.6\n";

/* xm of Xen 3.2+ ("%(name)-40s %(domid)5s %(mem)5d %(vcpus)5d %(state)10s
 * %(cpu_time)8.1f"): a domain xend manages but does not run has no ID, and
 * (by version) no state */
static const char xm_managed[] =
	"Name                                        ID   Mem VCPUs      State   Time(s)\n"
	"Domain-0                                     0  1024     2     r-----   1107.5\n"
	"web1                                              512     1                0.0\n"
	"web2                                              512     1     ------     0.0\n"
	"web3                                         7   512     1     -b----    12.3\n";

static void test_xl_doc(void **state)
{
	struct xl_domain_info d;

	(void)state;
	assert_int_equal(xl_list_find(xl_doc, "linux", &d), 1);
	assert_int_equal(d.domid, 2);
	assert_int_equal(d.mem_mib, 2048);
	assert_int_equal(d.vcpus, 2);
	assert_string_equal(d.flags, "r-----");
	assert_true(d.time_s > 5624.1 && d.time_s < 5624.3);
	assert_int_equal(xl_list_find(xl_doc, "Domain-0", &d), 1);
	assert_int_equal(d.domid, 0);
	assert_int_equal(xl_list_find(xl_doc, "win", &d), 1);
	assert_int_equal(d.domid, 1);
	/* a prefix of a listed name is not that name, nor is a longer one */
	assert_int_equal(xl_list_find(xl_doc, "lin", &d), 0);
	assert_int_equal(xl_list_find(xl_doc, "linux2", &d), 0);
	assert_int_equal(xl_list_find(xl_doc, "web1", &d), 0);
	/* the header is not a domain */
	assert_int_equal(xl_list_find(xl_doc, "ID", &d), 0);
}

static void test_xl_claims_and_paused(void **state)
{
	struct xl_domain_info d;

	(void)state;
	/* the man page indents its example: an indented line is no domain's */
	assert_int_equal(xl_list_find(xl_claims, "OL5", &d), 0);
	/* without it, extra columns are fine */
	assert_int_equal(xl_list_find(xl_claims + 1, "OL6", &d), 0);
	{
		static const char t[] =
			"Name                                        ID   Mem VCPUs      State   Time(s)  Claimed\n"
			"OL5                                          2  2048     1     --p---       0.0   847\n";

		assert_int_equal(xl_list_find(t, "OL5", &d), 1);
		assert_string_equal(d.flags, "--p---");
		assert_string_equal(xl_flags_describe(d.flags), "paused");
		assert_false(xl_flags_guest_down(d.flags));
	}
}

static void test_xm(void **state)
{
	struct xl_domain_info d;

	(void)state;
	assert_int_equal(xl_list_find(xm_doc, "Fedora4", &d), 1);
	assert_int_equal(d.domid, 165);
	assert_int_equal(d.mem_mib, 128);
	assert_string_equal(d.flags, "------");
	assert_string_equal(xl_flags_describe(d.flags), "idle");
	assert_int_equal(xl_list_find(xm_doc, "Mandrake2006", &d), 1);
	assert_string_equal(xl_flags_describe(d.flags), "blocked");
	/* managed, not running: no ID */
	assert_int_equal(xl_list_find(xm_managed, "web1", &d), 1);
	assert_int_equal(d.domid, -1);
	assert_string_equal(d.flags, "");
	assert_int_equal(d.mem_mib, 512);
	assert_int_equal(xl_list_find(xm_managed, "web2", &d), 1);
	assert_int_equal(d.domid, -1);
	assert_string_equal(d.flags, "------");
	assert_int_equal(xl_list_find(xm_managed, "web3", &d), 1);
	assert_int_equal(d.domid, 7);
}

static void test_odd_spacing(void **state)
{
	struct xl_domain_info d;
	/* tabs, several blanks, CRLF, a blank line first, a long name pushing
	 * the columns, a name with a blank */
	static const char t[] =
		"\n"
		"Name\tID\tMem\tVCPUs\tState\tTime(s)\r\n"
		"a-very-long-domain-name-of-more-than-forty-characters 12  256  1  -b----  1.5\r\n"
		"web1\t3\t512\t2\t-b----\t0.0\r\n"
		"my vm                                        4   128     1     r-----       0.1\n";

	(void)state;
	assert_int_equal(xl_list_find(t, "web1", &d), 1);
	assert_int_equal(d.domid, 3);
	assert_int_equal(d.vcpus, 2);
	assert_string_equal(d.flags, "-b----");
	assert_int_equal(xl_list_find(t, "a-very-long-domain-name-of-more-than-forty-characters", &d), 1);
	assert_int_equal(d.domid, 12);
	assert_int_equal(xl_list_find(t, "my vm", &d), 1);
	assert_int_equal(d.domid, 4);
	assert_int_equal(xl_list_find(t, "my", &d), -EBADMSG);	/* "vm" is no ID */
}

static void test_states(void **state)
{
	(void)state;
	assert_true(xl_flags_valid("r-----"));
	assert_true(xl_flags_valid("---sr-"));
	assert_true(xl_flags_valid("-----d"));
	assert_false(xl_flags_valid("r----"));
	assert_false(xl_flags_valid("x-----"));
	assert_false(xl_flags_valid("--b---"));
	/* xl: the fifth letter is the shutdown reason (- r s c w) */
	assert_string_equal(xl_flags_describe("---s--"), "shutdown");
	assert_true(xl_flags_guest_down("---s--"));
	assert_string_equal(xl_flags_describe("---sr-"), "rebooting");
	assert_false(xl_flags_guest_down("---sr-"));
	assert_string_equal(xl_flags_describe("---ss-"), "suspended");
	assert_false(xl_flags_guest_down("---ss-"));
	assert_string_equal(xl_flags_describe("---sc-"), "crashed");
	assert_true(xl_flags_guest_down("---sc-"));
	/* xm and old xl: c on its own */
	assert_string_equal(xl_flags_describe("----c-"), "crashed");
	assert_true(xl_flags_guest_down("----c-"));
	assert_string_equal(xl_flags_describe("-----d"), "dying");
	assert_true(xl_flags_guest_down("-----d"));
	assert_string_equal(xl_flags_describe("r-----"), "running");
	assert_false(xl_flags_guest_down("r-----"));
	assert_string_equal(xl_flags_describe("-b----"), "blocked");
	assert_string_equal(xl_flags_describe("bogus"), "unknown");
}

static void test_not_a_table(void **state)
{
	struct xl_domain_info d;

	(void)state;
	assert_int_equal(xl_list_find("", "web1", &d), -EBADMSG);
	assert_int_equal(xl_list_find("\n\n", "web1", &d), -EBADMSG);
	assert_int_equal(xl_list_find("web1 is an invalid domain identifier (rc=-6)\n", "web1", &d),
			 -EBADMSG);
	assert_int_equal(xl_list_find("libxl: error: cannot open libxc handle\n", "web1", &d), -EBADMSG);
	/* the header alone: an empty list */
	assert_int_equal(xl_list_find("Name ID Mem VCPUs State Time(s)\n", "web1", &d), 0);
	/* a line that does not parse */
	assert_int_equal(xl_list_find("Name ID Mem VCPUs State Time(s)\nweb1 x 512 1 r----- 0.0\n",
				      "web1", &d), -EBADMSG);
	assert_int_equal(xl_list_find("Name ID Mem VCPUs State Time(s)\nweb1 1 512 1 zzzzzz 0.0\n",
				      "web1", &d), -EBADMSG);
	assert_int_equal(xl_list_find("Name ID Mem VCPUs State Time(s)\nweb1 1 512\n", "web1", &d),
			 -EBADMSG);
	assert_int_equal(xl_list_find(xl_doc, "", &d), -EINVAL);
	/* without a final newline */
	assert_int_equal(xl_list_find("Name ID Mem VCPUs State Time(s)\nweb1 5 512 1 -b---- 0.0", "web1",
				      &d), 1);
	assert_int_equal(d.domid, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xl_doc),
		cmocka_unit_test(test_xl_claims_and_paused),
		cmocka_unit_test(test_xm),
		cmocka_unit_test(test_odd_spacing),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_not_a_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
