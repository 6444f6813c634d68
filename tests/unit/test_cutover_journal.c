/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cutover journal (migrate/cutover/journal.c): a new journal parses
 * back, broken ones are refused naming why, step times add up over runs,
 * the next step and the summary, and open/lock/save on a real folder (a
 * second cutover of the same VM is refused while the first holds it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate/cutover/journal.h"

static json_object *roundtrip(json_object *j, const char *vm, char *err, size_t errlen)
{
	const char *s = json_object_to_json_string(j);

	return cutover_journal_parse(s, strlen(s), vm, err, errlen);
}

static void test_new_parses(void **state)
{
	json_object *j = cutover_journal_new("web1"), *k;
	char err[256];

	(void)state;
	k = roundtrip(j, "web1", err, sizeof(err));
	assert_non_null(k);
	assert_string_equal(cutover_state(k), CUT_STATE_RUNNING);
	assert_int_equal(cutover_next_step(k), CUT_INSPECT);
	for (int i = 0; i < CUT_STEP_MAX; i++)
		assert_int_equal(cutover_step_status(k, (enum cutover_step)i), CUT_PENDING);
	/* another VM's journal */
	assert_null(roundtrip(j, "web2", err, sizeof(err)));
	assert_non_null(strstr(err, "web1"));
	json_object_put(k);
	json_object_put(j);
}

static void expect_bad(const char *text, const char *why)
{
	char err[256] = "";
	json_object *j = cutover_journal_parse(text, strlen(text), "web1", err, sizeof(err));

	if (j)
		fail_msg("accepted: %s", text);
	if (!strstr(err, why))
		fail_msg("%s: error '%s' lacks '%s'", text, err, why);
}

static void test_bad(void **state)
{
	json_object *j = cutover_journal_new("web1"), *steps, *s;
	char *text;

	(void)state;
	expect_bad("", "not JSON");
	expect_bad("{\"version\":1", "not JSON");
	expect_bad("[1]", "version 1");
	expect_bad("{\"version\":2,\"vm\":\"web1\"}", "version 1");
	expect_bad("{\"version\":1,\"vm\":\"web1\",\"state\":\"bogus\"}", "unknown state");
	expect_bad("{\"version\":1,\"vm\":\"web1\",\"state\":\"done\",\"options\":{},\"steps\":[]}",
		   "array of 12");
	/* trailing garbage after a good journal */
	if (asprintf(&text, "%s x", json_object_to_json_string(j)) < 0)
		fail();
	expect_bad(text, "not JSON");
	free(text);
	/* steps out of order, an unknown status */
	json_object_object_get_ex(j, "steps", &steps);
	s = json_object_array_get_idx(steps, 3);
	json_object_object_add(s, "name", json_object_new_string("define"));
	expect_bad(json_object_to_json_string(j), "steps[3]: warm-copy expected");
	json_object_object_add(s, "name", json_object_new_string("warm-copy"));
	json_object_object_add(s, "status", json_object_new_string("half"));
	expect_bad(json_object_to_json_string(j), "unknown status");
	json_object_put(j);
}

static void test_steps(void **state)
{
	json_object *j = cutover_journal_new("web1");
	char buf[128];

	(void)state;
	cutover_summary(j, buf, sizeof(buf));
	assert_string_equal(buf, "not started");
	cutover_step_set(j, CUT_INSPECT, CUT_RUNNING, 100);
	cutover_step_set(j, CUT_INSPECT, CUT_DONE, 102.5);
	cutover_step_set(j, CUT_PLAN, CUT_DONE, 103);
	cutover_step_set(j, CUT_CREATE, CUT_DONE, 103);
	assert_int_equal(cutover_next_step(j), CUT_WARM);
	cutover_summary(j, buf, sizeof(buf));
	assert_string_equal(buf, "copying warm (step 4, warm-copy)");
	/* a killed run, then a rerun: seconds add up, runs count */
	cutover_step_set(j, CUT_WARM, CUT_RUNNING, 110);
	cutover_step_set(j, CUT_WARM, CUT_RUNNING, 200);
	cutover_step_set(j, CUT_WARM, CUT_DONE, 230);
	assert_true(cutover_jnum(cutover_step_obj(j, CUT_WARM), "seconds", -1) == 30);
	assert_true(cutover_jnum(cutover_step_obj(j, CUT_WARM), "runs", -1) == 2);
	assert_true(cutover_jnum(cutover_step_obj(j, CUT_INSPECT), "seconds", -1) == 2.5);
	cutover_step_set(j, CUT_PREFLIGHT, CUT_FAILED, 231);
	cutover_set_state(j, CUT_STATE_FAILED);
	json_object_object_add(j, "failed_step", json_object_new_string("preflight"));
	cutover_summary(j, buf, sizeof(buf));
	assert_string_equal(buf, "failed at step 5 (preflight)");
	assert_int_equal(cutover_next_step(j), CUT_PREFLIGHT);
	for (int i = CUT_PREFLIGHT; i < CUT_STEP_MAX; i++)
		cutover_step_set(j, (enum cutover_step)i, CUT_DONE, 300);
	cutover_set_state(j, CUT_STATE_DONE);
	assert_int_equal(cutover_next_step(j), CUT_STEP_MAX);
	cutover_summary(j, buf, sizeof(buf));
	assert_string_equal(buf, "cut over");
	json_object_put(j);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/test_cutover_journal.XXXXXX", sub[64], err[512], path[128];
	struct cutover_journal *a, *b;
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/cutover", dir);
	/* no journal and not create: refused */
	assert_int_equal(cutover_journal_open(sub, "web1", false, &a, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no cutover of web1"));
	assert_int_equal(cutover_journal_open(sub, "web1", true, &a, err, sizeof(err)), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* locked while open */
	assert_int_equal(cutover_journal_open(sub, "web1", true, &b, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "another cutover of web1"));
	cutover_step_set(a->root, CUT_INSPECT, CUT_DONE, 5);
	assert_int_equal(cutover_journal_save(a, err, sizeof(err)), 0);
	cutover_journal_close(a);
	assert_int_equal(cutover_journal_open(sub, "web1", false, &b, err, sizeof(err)), 0);
	assert_int_equal(cutover_step_status(b->root, CUT_INSPECT), CUT_DONE);
	cutover_journal_close(b);
	/* a damaged journal stops everything, and is left as it is */
	snprintf(path, sizeof(path), "%s/web1.json", sub);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"version\":1,", f);
	fclose(f);
	assert_int_equal(cutover_journal_open(sub, "web1", true, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nothing was changed"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 13);
	assert_null(cutover_journal_read(path, err, sizeof(err)));
	unlink(path);
	snprintf(path, sizeof(path), "%s/web1.lock", sub);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_parses),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
