/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit test: running the old hypervisor's tool (migrate/source/run.c: argv
 * only, bounded capture, deadline, process group, no inherited
 * descriptors, LC_ALL=C) and the xl backend with the replies built on it
 * (backend.c, serve.c), against tests/stream/xl-stand-in, a stand-in for
 * xl (Xen cannot run here). Needs neither root nor a network.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "migrate/source/backend.h"
#include "migrate/source/run.h"
#include "migrate/source/serve.h"

static char standin[4096];
static char workdir[] = "/tmp/test_source_run.XXXXXX";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_output_and_status(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct run_result r;
	char line[64];

	(void)state;
	assert_int_equal(run_argv(argv, 5000, &r), 0);
	assert_int_equal(r.status, 3);
	assert_false(r.timed_out);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "err\n");
	assert_string_equal(run_first_line(&r, line, sizeof(line)), "err");
	run_result_clear(&r);
}

static void test_argv_is_not_a_shell(void **state)
{
	const char *argv[] = { "printf", "%s|", "a b", "$(id)", "`id`", ";", "*", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_argv(argv, 5000, &r), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "a b|$(id)|`id`|;|*|");
	run_result_clear(&r);
}

static void test_missing_program(void **state)
{
	const char *argv[] = { "/nonexistent/xl", "list", NULL };
	const char *argv2[] = { "no-such-tool-of-bridged", "list", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_argv(argv, 1000, &r), -ENOENT);
	assert_int_equal(run_argv(argv2, 1000, &r), -ENOENT);
}

static void test_bounded_capture(void **state)
{
	const char *argv[] = { "head", "-c", "300000", "/dev/zero", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_argv(argv, 5000, &r), 0);
	assert_int_equal(r.status, 0);
	assert_true(r.out_truncated);
	assert_false(r.err_truncated);
	/* the zeros end the string: what counts is that it did not grow */
	assert_int_equal(r.out_len, 0);
	run_result_clear(&r);
	{
		const char *y[] = { "sh", "-c", "yes | head -c 300000", NULL };

		assert_int_equal(run_argv(y, 5000, &r), 0);
		assert_int_equal(r.out_len, RUN_CAPTURE_MAX);
		assert_true(r.out_truncated);
		run_result_clear(&r);
	}
}

static bool alive(int pid)
{
	char p[64], buf[256], *close_paren;
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	f = fopen(p, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	close_paren = strrchr(buf, ')');
	return close_paren && close_paren[1] == ' ' && close_paren[2] != 'Z' && close_paren[2] != 'X';
}

static void test_deadline_kills_the_group(void **state)
{
	char script[512], pidfile[256];
	const char *argv[] = { "sh", "-c", script, NULL };
	struct run_result r;
	double t0 = now_s();
	FILE *f;
	int pid = 0;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", workdir);
	/* a grandchild in the same group, holding the pipes */
	snprintf(script, sizeof(script), "sleep 30 & echo $! >%s; sleep 30", pidfile);
	assert_int_equal(run_argv(argv, 300, &r), 0);
	assert_true(r.timed_out);
	assert_int_equal(r.status, -1);
	assert_int_equal(r.signal, SIGKILL);
	assert_true(now_s() - t0 < 5);
	run_result_clear(&r);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	/* gone, or a zombie left for whoever reaps orphans here */
	for (int i = 0; i < 100 && alive(pid); i++)
		usleep(10000);
	assert_false(alive(pid));
}

static void test_no_inherited_fds_and_c_locale(void **state)
{
	const char *argv[] = { "sh", "-c", "ls /proc/$$/fd; echo \"lc=$LC_ALL lang=${LANG-unset}\"", NULL };
	struct run_result r;
	int fd = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC: still not passed on */

	(void)state;
	assert_true(fd > 2);
	setenv("LANG", "de_DE.UTF-8", 1);
	assert_int_equal(run_argv(argv, 5000, &r), 0);
	unsetenv("LANG");
	close(fd);
	/* sh's 0 1 2 only */
	assert_string_equal(r.out, "0\n1\n2\nlc=C lang=unset\n");
	run_result_clear(&r);
}

/* ---- the xl backend against the stand-in -------------------------------- */

static void standin_cmd(const char *verb, const char *arg)
{
	const char *argv[] = { standin, verb, arg, NULL };
	struct run_result r;

	assert_int_equal(run_argv(argv, 10000, &r), 0);
	if (r.status != 0)
		fprintf(stderr, "stand-in %s %s: %s", verb, arg, r.err);
	assert_int_equal(r.status, 0);
	run_result_clear(&r);
}

static void write_file(const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", workdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static json_object *parse(const char *text)
{
	json_object *j = json_tokener_parse(text);

	assert_non_null(j);
	return j;
}

static const char *jget(json_object *j, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(j, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static void test_xl_backend(void **state)
{
	struct source_backend *b = NULL;
	struct source_domain d;
	struct source_ctx ctx = { .poll_ms = 50 };
	char err[256], cfg[512], *text = NULL;
	json_object *j;
	int st;

	(void)state;
	snprintf(cfg, sizeof(cfg), "%s/web1.cfg", workdir);
	write_file("web1.cfg", "name = 'web1'\nmemory = 256\nvcpus = 2\n");
	assert_int_equal(source_backend_new("xl", standin, &b, err, sizeof(err)), 0);
	ctx.backend = b;

	/* not running: xl's "invalid domain identifier" */
	assert_int_equal(b->ops->state(b, "web1", &d), 0);
	assert_int_equal(d.state, SOURCE_STATE_SHUT_OFF);
	assert_int_equal(d.domid, -1);
	assert_int_equal(b->ops->shutdown(b, "web1", err, sizeof(err)), -ENOENT);

	standin_cmd("create", cfg);
	assert_int_equal(b->ops->state(b, "web1", &d), 0);
	assert_int_equal(d.state, SOURCE_STATE_RUNNING);
	assert_int_equal(d.domid, 1);
	assert_string_equal(d.flags, "-b----");
	assert_string_equal(d.detail, "blocked");
	assert_false(d.guest_down);
	/* a name that starts like it is another domain */
	assert_int_equal(b->ops->state(b, "web", &d), 0);
	assert_int_equal(d.state, SOURCE_STATE_SHUT_OFF);

	st = source_serve_state(&ctx, "web1", "web1", &text);
	assert_int_equal(st, 0);
	j = parse(text);
	assert_string_equal(jget(j, "state"), "running");
	assert_string_equal(jget(j, "flags"), "-b----");
	assert_true(!strncmp(jget(j, "backend"), "xl (/", 5));
	json_object_put(j);
	free(text);
	source_backend_free(b);
}

static void test_xl_shutdown(void **state)
{
	struct source_backend *b = NULL;
	struct source_ctx ctx = { .poll_ms = 50 };
	char err[256], cfg[512], *text = NULL;
	json_object *j, *v;
	int st;

	(void)state;
	assert_int_equal(source_backend_new("xl", standin, &b, err, sizeof(err)), 0);
	ctx.backend = b;
	snprintf(cfg, sizeof(cfg), "%s/web2.cfg", workdir);
	write_file("web2.cfg", "name = 'web2'\n");
	standin_cmd("create", cfg);

	/* a guest that shuts down */
	st = source_serve_shutdown(&ctx, "web2", "web2", 10, false, &text);
	assert_int_equal(st, 0);
	j = parse(text);
	assert_string_equal(jget(j, "result"), "shut off");
	json_object_object_get_ex(j, "destroyed", &v);
	assert_false(json_object_get_boolean(v));
	json_object_put(j);
	free(text);
	/* again: already */
	st = source_serve_shutdown(&ctx, "web2", "web2", 10, false, &text);
	assert_int_equal(st, 0);
	j = parse(text);
	assert_string_equal(jget(j, "result"), "already shut off");
	json_object_put(j);
	free(text);

	/* a guest that ignores it: refused after the timeout, destroyed with force */
	write_file("ignore-shutdown-web3", "");
	snprintf(cfg, sizeof(cfg), "%s/web3.cfg", workdir);
	write_file("web3.cfg", "name = \"web3\"\n");
	standin_cmd("create", cfg);
	st = source_serve_shutdown(&ctx, "web3", "web3", 1, false, &text);
	assert_int_equal(st, ETIMEDOUT);
	assert_non_null(strstr(text, "did not shut down within 1 s"));
	assert_non_null(strstr(text, "not destroyed (--force destroys it)"));
	free(text);
	st = source_serve_shutdown(&ctx, "web3", "web3", 1, true, &text);
	assert_int_equal(st, 0);
	j = parse(text);
	assert_string_equal(jget(j, "result"), "destroyed");
	json_object_put(j);
	free(text);
	source_backend_free(b);
}

/* start: `xl create CFG`, then the state until it runs */
static void test_xl_start(void **state)
{
	struct source_backend *b = NULL;
	struct source_ctx ctx = { .poll_ms = 50 };
	char err[256], cfg[512], *text = NULL;
	json_object *j, *st;
	int r;

	(void)state;
	assert_int_equal(source_backend_new("xl", standin, &b, err, sizeof(err)), 0);
	ctx.backend = b;
	assert_non_null(b->ops->start);
	snprintf(cfg, sizeof(cfg), "%s/web4.cfg", workdir);
	write_file("web4.cfg", "name = 'web4'\nmemory = 512\n");
	r = source_serve_start(&ctx, "web4", "web4", cfg, &text);
	assert_int_equal(r, 0);
	j = parse(text);
	assert_string_equal(jget(j, "result"), "started");
	assert_true(json_object_object_get_ex(j, "state", &st));
	assert_string_equal(jget(st, "state"), "running");
	assert_string_equal(jget(st, "flags"), "-b----");
	json_object_put(j);
	free(text);
	/* again: left alone */
	r = source_serve_start(&ctx, "web4", "web4", cfg, &text);
	assert_int_equal(r, 0);
	j = parse(text);
	assert_string_equal(jget(j, "result"), "already running");
	json_object_put(j);
	free(text);
	/* the tool fails (no such config): refused with its words */
	snprintf(cfg, sizeof(cfg), "%s/web5.cfg", workdir);
	r = source_serve_start(&ctx, "web5", "web5", cfg, &text);
	assert_int_equal(r, EIO);
	assert_non_null(strstr(text, "VM web5: start failed: xl-stand-in create "));
	free(text);
	/* created, but under another name than the domain asked for: it never
	 * runs as that domain, refused after the wait */
	ctx.start_wait_ms = 300;
	snprintf(cfg, sizeof(cfg), "%s/web6.cfg", workdir);
	write_file("web6.cfg", "name = 'web6-other'\n");
	r = source_serve_start(&ctx, "web6", "web6", cfg, &text);
	assert_int_equal(r, ETIMEDOUT);
	assert_non_null(strstr(text, "VM web6 was started but does not run after 0.3 s: it is shut off"));
	free(text);
	source_backend_free(b);
}

static void test_tool_failures(void **state)
{
	struct source_backend *b = NULL;
	struct source_domain d;
	struct source_ctx ctx = { .poll_ms = 50 };
	char err[256], *text = NULL;

	(void)state;
	/* no such tool: unknown, and a shutdown refuses to act blindly */
	assert_int_equal(source_backend_new("xl", "/nonexistent/xl", &b, err, sizeof(err)), 0);
	ctx.backend = b;
	assert_int_equal(b->ops->state(b, "web1", &d), 0);
	assert_int_equal(d.state, SOURCE_STATE_UNKNOWN);
	assert_non_null(strstr(d.message, "cannot run /nonexistent/xl"));
	assert_int_equal(source_serve_shutdown(&ctx, "web1", "web1", 5, true, &text), EIO);
	assert_non_null(strstr(text, "its state is unknown"));
	free(text);
	source_backend_free(b);
	/* a tool that says something else: unknown with its words */
	assert_int_equal(source_backend_new("xm", "/bin/false", &b, err, sizeof(err)), 0);
	assert_int_equal(b->ops->state(b, "web1", &d), 0);
	assert_int_equal(d.state, SOURCE_STATE_UNKNOWN);
	assert_non_null(strstr(d.message, "false list web1: exit 1"));
	source_backend_free(b);
	/* bad specs */
	assert_int_equal(source_backend_new("xend", NULL, &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(source_backend_new("libvirt:", NULL, &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(source_backend_new("libvirt:a b", NULL, &b, err, sizeof(err)), -EINVAL);
	assert_null(source_spec_check("libvirt:xen:///system"));
	assert_null(source_spec_check("xm"));
}

/* xm: xend's autostart of a managed domain, read from `xm list --long` */
static void test_xm_managed(void **state)
{
	struct source_backend *b = NULL;
	char err[256], tool[512];
	FILE *f;

	(void)state;
	snprintf(tool, sizeof(tool), "%s/fake-xm", workdir);
	f = fopen(tool, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\n"
	      "# a fake xm: the S-expression of `xm list --long` for two domains\n"
	      "case \"$1 $2 $3\" in\n"
	      "'list --long web1') echo '(domain (domid 3) (on_xend_start start) (name web1))' ;;\n"
	      "'list --long web2') echo '(domain (on_xend_start ignore) (name web2))' ;;\n"
	      "*) echo \"Error: Domain '$3' does not exist.\" >&2; exit 1 ;;\n"
	      "esac\n", f);
	fclose(f);
	chmod(tool, 0755);
	assert_int_equal(source_backend_new("xm", tool, &b, err, sizeof(err)), 0);
	assert_non_null(b->ops->autostart_get);
	assert_null(b->ops->autostart_set);
	assert_int_equal(b->ops->autostart_get(b, "web1", err, sizeof(err)), 1);
	assert_int_equal(b->ops->autostart_get(b, "web2", err, sizeof(err)), 0);
	assert_int_equal(b->ops->autostart_get(b, "web3", err, sizeof(err)), -ENOENT);
	source_backend_free(b);
	/* xl has no such thing */
	assert_int_equal(source_backend_new("xl", tool, &b, err, sizeof(err)), 0);
	assert_null(b->ops->autostart_get);
	source_backend_free(b);
}

static int setup(void **state)
{
	const char *top = getenv("BRIDGED_TOP");
	char rel[4096];

	(void)state;
	snprintf(rel, sizeof(rel), "%s/tests/stream/xl-stand-in", top && *top ? top : ".");
	if (!realpath(rel, standin) || access(standin, X_OK) < 0)
		return -1;
	if (!mkdtemp(workdir))
		return -1;
	setenv("XL_STANDIN_DIR", workdir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];
	const char *argv[] = { "sh", "-c", cmd, "sh", workdir, NULL };
	struct run_result r;

	(void)state;
	/* stop the stand-in's guests, then remove the folder */
	snprintf(cmd, sizeof(cmd), "for f in \"$1\"/domains/*; do [ -e \"$f\" ] && read -r _ p _ <\"$f\" "
		 "&& kill -9 $p; done; rm -rf \"$1\"");
	if (run_argv(argv, 10000, &r) == 0)
		run_result_clear(&r);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_status),
		cmocka_unit_test(test_argv_is_not_a_shell),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_bounded_capture),
		cmocka_unit_test(test_deadline_kills_the_group),
		cmocka_unit_test(test_no_inherited_fds_and_c_locale),
		cmocka_unit_test(test_xl_backend),
		cmocka_unit_test(test_xl_shutdown),
		cmocka_unit_test(test_xl_start),
		cmocka_unit_test(test_tool_failures),
		cmocka_unit_test(test_xm_managed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
