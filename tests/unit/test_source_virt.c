/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit test: MigrateSource = libvirt:URI (migrate/source/backend_virt.c on
 * migrate/virt/domsrc.c, libvirt loaded at run time) against libvirt's
 * in-memory test driver (test:///default, whose domain "test" runs): state,
 * a domain libvirt does not know, the autostart flag switched off and back
 * through the journal, a graceful shutdown, a start. Skipped where libvirt
 * is not installed.
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
#include <json-c/json.h>

#include "migrate/source/backend.h"
#include "migrate/source/serve.h"
#include "migrate/virt/domsrc.h"

static char statedir[] = "/tmp/test_source_virt.XXXXXX";

static const char *jget(json_object *j, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(j, key, &v) && v ? json_object_get_string(v) : NULL;
}

static void test_libvirt_backend(void **state)
{
	struct source_backend *b = NULL;
	struct source_domain d;
	struct source_ctx ctx = { .auto_dir = "", .save_dir = "", .state_dir = statedir, .poll_ms = 20 };
	char err[512] = "", *text = NULL;
	json_object *j;
	int r;

	(void)state;
	assert_int_equal(source_backend_new("libvirt:test:///default", NULL, &b, err, sizeof(err)), 0);
	ctx.backend = b;
	assert_int_equal(b->ops->state(b, "test", &d), 0);
	if (d.state == SOURCE_STATE_UNKNOWN && strstr(d.message, "not installed")) {
		source_backend_free(b);
		skip();
	}
	assert_int_equal(d.state, SOURCE_STATE_RUNNING);
	assert_true(d.domid > 0);
	assert_string_equal(d.detail, "running");
	assert_true(d.managed);
	assert_false(d.guest_down);

	/* unknown to libvirt: nothing runs */
	assert_int_equal(b->ops->state(b, "no-such-domain", &d), 0);
	assert_int_equal(d.state, SOURCE_STATE_SHUT_OFF);
	assert_string_equal(d.detail, "not defined");
	assert_int_equal(b->ops->destroy(b, "no-such-domain", err, sizeof(err)), -ENOENT);

	/* the autostart flag, through the journal */
	assert_int_equal(b->ops->autostart_set(b, "test", true, err, sizeof(err)), 0);
	assert_int_equal(b->ops->autostart_get(b, "test", err, sizeof(err)), 1);
	r = source_serve_autostart(&ctx, true, "test", "test", "/dev/null", &text);
	assert_int_equal(r, 0);
	assert_non_null(strstr(text, "\"kind\":\"managed\""));
	free(text);
	assert_int_equal(b->ops->autostart_get(b, "test", err, sizeof(err)), 0);
	r = source_serve_autostart(&ctx, false, "test", "test", "/dev/null", &text);
	assert_int_equal(r, 0);
	j = json_tokener_parse(text);
	assert_string_equal(jget(j, "result"), "restored");
	json_object_put(j);
	free(text);
	assert_int_equal(b->ops->autostart_get(b, "test", err, sizeof(err)), 1);

	/* shutdown: the test driver's guest goes at once */
	r = source_serve_shutdown(&ctx, "test", "test", 5, false, &text);
	assert_int_equal(r, 0);
	j = json_tokener_parse(text);
	assert_string_equal(jget(j, "result"), "shut off");
	json_object_put(j);
	free(text);
	assert_int_equal(b->ops->state(b, "test", &d), 0);
	assert_int_equal(d.state, SOURCE_STATE_SHUT_OFF);
	assert_string_equal(d.detail, "shut off");

	/* start (a rollback): virDomainCreate, then running; again: left alone */
	r = source_serve_start(&ctx, "test", "test", "/dev/null", &text);
	assert_int_equal(r, 0);
	j = json_tokener_parse(text);
	assert_string_equal(jget(j, "result"), "started");
	json_object_put(j);
	free(text);
	assert_int_equal(b->ops->state(b, "test", &d), 0);
	assert_int_equal(d.state, SOURCE_STATE_RUNNING);
	r = source_serve_start(&ctx, "test", "test", "/dev/null", &text);
	assert_int_equal(r, 0);
	j = json_tokener_parse(text);
	assert_string_equal(jget(j, "result"), "already running");
	json_object_put(j);
	free(text);
	assert_int_equal(b->ops->start(b, "no-such-domain", NULL, err, sizeof(err)), -ENOENT);
	source_backend_free(b);
}

static void test_bad_uri(void **state)
{
	struct source_backend *b = NULL;
	struct source_domain d;
	char err[512];

	(void)state;
	assert_int_equal(source_backend_new("libvirt:bogus:///nowhere", NULL, &b, err, sizeof(err)), 0);
	assert_int_equal(b->ops->state(b, "test", &d), 0);
	assert_int_equal(d.state, SOURCE_STATE_UNKNOWN);
	assert_true(d.message[0] != '\0');
	source_backend_free(b);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(statedir) ? 0 : -1;
}

static int teardown(void **state)
{
	char p[256];

	(void)state;
	snprintf(p, sizeof(p), "%s/test.json", statedir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/test.lock", statedir);
	unlink(p);
	return rmdir(statedir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libvirt_backend),
		cmocka_unit_test(test_bad_uri),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
