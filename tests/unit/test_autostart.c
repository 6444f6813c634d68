/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit test: the old host's autostart switch (migrate/source/autostart.c):
 * the pure plan (what is there -> what to change, what to leave alone),
 * then off and restore on real folders in /tmp: off twice is off once, a
 * restore puts back the same link text and the same bytes, a restore that
 * meets something in the way restores the rest and can be finished later,
 * a saved image present or absent, a link named after the VM that points
 * elsewhere is left alone and reported, a journal that cannot be written
 * or is damaged changes nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "migrate/source/autostart.h"

/* ---- the plan --------------------------------------------------------------- */

static struct autostart_entry E(const char *name, bool link, const char *target, bool is_config)
{
	return (struct autostart_entry){ .name = (char *)name, .is_link = link, .target = (char *)target,
					 .is_config = is_config };
}

static void test_plan_entries(void **state)
{
	struct autostart_entry es[] = {
		E(".web1.cfg.bridged-off", false, NULL, true),	/* ours, aside: not a candidate */
		E("other", true, "../other.cfg", false),		/* another VM's: silent */
		E("web1", true, "../web1.cfg", true),		/* the link */
		E("web1-copy", false, NULL, true),			/* a copy of the config */
		E("web1.cfg", true, "/srv/xen/web1.cfg", false),	/* named after it, elsewhere */
		E("web1.old", false, NULL, false),			/* not named after it: silent */
	};
	struct autostart_obs o = {
		.vm = "web1", .domain = "web1", .config = "/etc/xen/web1.cfg",
		.auto_dir = "/etc/xen/auto", .save_dir = "/var/lib/xen/save",
		.entries = es, .n_entries = sizeof(es) / sizeof(es[0]), .managed = -1,
	};
	struct autostart_journal p;

	(void)state;
	assert_int_equal(autostart_plan(&o, NULL, &p), 0);
	assert_int_equal(p.n_changes, 2);
	assert_int_equal(p.changes[0].kind, AUTOSTART_LINK);
	assert_string_equal(p.changes[0].path, "/etc/xen/auto/web1");
	assert_string_equal(p.changes[0].target, "../web1.cfg");
	assert_false(p.changes[0].repeat);
	assert_int_equal(p.changes[1].kind, AUTOSTART_FILE);
	assert_string_equal(p.changes[1].path, "/etc/xen/auto/web1-copy");
	assert_string_equal(p.changes[1].aside, "/etc/xen/auto/.web1-copy.bridged-off");
	assert_int_equal(p.n_notes, 1);
	assert_string_equal(p.notes[0].path, "/etc/xen/auto/web1.cfg");
	assert_non_null(strstr(p.notes[0].why, "a link to /srv/xen/web1.cfg, not to the VM's config"));
	autostart_journal_clear(&p);

	/* a file named after the VM that is not its config; a copy whose aside
	 * name is taken */
	{
		struct autostart_entry es2[] = {
			E(".web1.bridged-off", false, NULL, false),
			E("web1", false, NULL, true),
			E("web1.cfg", false, NULL, false),
		};

		o.entries = es2;
		o.n_entries = 3;
		assert_int_equal(autostart_plan(&o, NULL, &p), 0);
		assert_int_equal(p.n_changes, 0);
		assert_int_equal(p.n_notes, 2);
		assert_non_null(strstr(p.notes[0].why, ".web1.bridged-off is taken"));
		assert_non_null(strstr(p.notes[1].why, "not the VM's config"));
		autostart_journal_clear(&p);
	}
}

static void test_plan_saved_and_managed(void **state)
{
	struct autostart_obs o = {
		.vm = "web1", .domain = "web1-dom", .config = "/etc/xen/web1.cfg",
		.auto_dir = "", .save_dir = "/var/lib/xen/save", .managed = 1, .saved = true,
	};
	struct autostart_journal p;

	(void)state;
	assert_int_equal(autostart_plan(&o, NULL, &p), 0);
	assert_int_equal(p.n_changes, 2);
	/* the image is named after the domain, not the config file */
	assert_int_equal(p.changes[0].kind, AUTOSTART_SAVED);
	assert_string_equal(p.changes[0].path, "/var/lib/xen/save/web1-dom");
	assert_string_equal(p.changes[0].aside, "/var/lib/xen/save/.web1-dom.bridged-off");
	assert_int_equal(p.changes[1].kind, AUTOSTART_MANAGED);
	assert_null(p.changes[1].path);
	autostart_journal_clear(&p);

	/* xend's own autostart (xm): reported, not changed */
	o.managed_fixed = true;
	o.saved = false;
	assert_int_equal(autostart_plan(&o, NULL, &p), 0);
	assert_int_equal(p.n_changes, 0);
	assert_int_equal(p.n_notes, 1);
	assert_null(p.notes[0].path);
	assert_non_null(strstr(p.notes[0].why, "on_xend_start = start"));
	autostart_journal_clear(&p);
	o.managed_fixed = false;
	o.saved = true;

	/* absent image, managed off: nothing to do */
	o.saved = false;
	o.managed = 0;
	assert_int_equal(autostart_plan(&o, NULL, &p), 0);
	assert_int_equal(p.n_changes, 0);
	assert_int_equal(p.n_notes, 0);
	autostart_journal_clear(&p);

	/* an image and its aside name both there: left alone */
	o.saved = o.saved_aside = true;
	assert_int_equal(autostart_plan(&o, NULL, &p), 0);
	assert_int_equal(p.n_changes, 0);
	assert_int_equal(p.n_notes, 1);
	assert_non_null(strstr(p.notes[0].why, "exists too"));
	autostart_journal_clear(&p);
	/* no save folder configured */
	o.save_dir = "";
	o.saved_aside = false;
	assert_int_equal(autostart_plan(&o, NULL, &p), 0);
	assert_int_equal(p.n_changes, 0);
	autostart_journal_clear(&p);
}

static void test_plan_against_journal(void **state)
{
	struct autostart_entry es[] = { E("web1", true, "../web1.cfg", true) };
	struct autostart_obs o = {
		.vm = "web1", .domain = "web1", .config = "/etc/xen/web1.cfg",
		.auto_dir = "/etc/xen/auto", .save_dir = "", .entries = es, .n_entries = 1, .managed = 1,
	};
	struct autostart_change rec[] = {
		{ .kind = AUTOSTART_LINK, .status = AUTOSTART_DONE, .path = (char *)"/etc/xen/auto/web1",
		  .target = (char *)"../web1.cfg" },
		{ .kind = AUTOSTART_MANAGED, .status = AUTOSTART_DONE },
	};
	struct autostart_journal j = { .changes = rec, .n_changes = 2 }, p;

	(void)state;
	/* the same link came back: made again, not recorded twice */
	assert_int_equal(autostart_plan(&o, &j, &p), 0);
	assert_int_equal(p.n_changes, 2);
	assert_true(p.changes[0].repeat);
	assert_true(p.changes[1].repeat);
	autostart_journal_clear(&p);
	/* it came back as another link: not ours to remove */
	es[0].target = (char *)"/etc/xen/web1.cfg";
	o.managed = 0;
	assert_int_equal(autostart_plan(&o, &j, &p), 0);
	assert_int_equal(p.n_changes, 0);
	assert_int_equal(p.n_notes, 1);
	assert_non_null(strstr(p.notes[0].why, "\"../web1.cfg\" was recorded"));
	autostart_journal_clear(&p);
}

/* ---- off and restore on real folders ---------------------------------------- */

static char top[] = "/tmp/test_autostart.XXXXXX";
static char xen[512], autod[512], save[512], statedir[512], cfg[1024];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* "name type [target]" of every entry of dir, sorted, into out. */
static void listing(const char *dir, char *out, size_t len)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		char p[1024], t[512] = "";
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", dir, ents[i]->d_name);
		lstat(p, &st);
		if (S_ISLNK(st.st_mode)) {
			ssize_t k = readlink(p, t, sizeof(t) - 1);

			t[k > 0 ? k : 0] = '\0';
		}
		used += (size_t)snprintf(out + used, len - used, "%s %o %lld %s\n", ents[i]->d_name,
					 st.st_mode, (long long)(S_ISLNK(st.st_mode) ? 0 : st.st_size), t);
		free(ents[i]);
	}
	free(ents);
}

static void all_listings(char *out, size_t len)
{
	char a[4096], b[4096], c[4096];

	listing(xen, a, sizeof(a));
	listing(autod, b, sizeof(b));
	listing(save, c, sizeof(c));
	snprintf(out, len, "%s--\n%s--\n%s", a, b, c);
}

static struct autostart_env env(void)
{
	return (struct autostart_env){
		.vm = "web1", .domain = "web1", .config = cfg, .auto_dir = autod, .save_dir = save,
		.state_dir = statedir,
	};
}

static const char *jstr(json_object *j, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(j, k, &v) && v ? json_object_get_string(v) : NULL;
}

static int setup_dirs(void **state)
{
	char p[1024];

	(void)state;
	if (!mkdtemp(top))
		return -1;
	snprintf(xen, sizeof(xen), "%s/xen", top);
	snprintf(autod, sizeof(autod), "%s/xen/auto", top);
	snprintf(save, sizeof(save), "%s/save", top);
	snprintf(statedir, sizeof(statedir), "%s/state/source", top);
	snprintf(cfg, sizeof(cfg), "%s/web1.cfg", xen);
	mkdir(xen, 0755);
	mkdir(autod, 0755);
	mkdir(save, 0755);
	put(cfg, "name = 'web1'\nmemory = 256\n");
	snprintf(p, sizeof(p), "%s/other.cfg", xen);
	put(p, "name = 'other'\n");
	/* the link as xen-tools makes it, relative */
	snprintf(p, sizeof(p), "%s/web1", autod);
	if (symlink("../web1.cfg", p) < 0)
		return -1;
	/* another VM's link */
	snprintf(p, sizeof(p), "%s/other", autod);
	if (symlink("../other.cfg", p) < 0)
		return -1;
	/* named after the VM, pointing elsewhere */
	snprintf(p, sizeof(p), "%s/web1.cfg", autod);
	if (symlink("/srv/old/web1.cfg", p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/web1", save);
	put(p, "xendomains saved image of web1\x01\x02\x03");
	snprintf(p, sizeof(p), "%s/other", save);
	put(p, "image of other");
	return 0;
}

static int teardown_dirs(void **state)
{
	char cmd[1200];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_off_twice_then_restore(void **state)
{
	struct autostart_env e = env();
	char before[16384], after_off[16384], now[16384], jpath[1024], journal1[65536], p[1024], t[256];
	json_object *r = NULL, *a;
	char err[1024] = "";
	struct stat st;
	ssize_t n;

	(void)state;
	all_listings(before, sizeof(before));
	snprintf(jpath, sizeof(jpath), "%s/web1.json", statedir);

	assert_int_equal(autostart_off(&e, &r, err, sizeof(err)), 0);
	assert_string_equal(jstr(r, "result"), "off");
	json_object_object_get_ex(r, "changes", &a);
	assert_int_equal(json_object_array_length(a), 2);
	assert_string_equal(jstr(json_object_array_get_idx(a, 0), "kind"), "auto-link");
	assert_string_equal(jstr(json_object_array_get_idx(a, 0), "target"), "../web1.cfg");
	assert_string_equal(jstr(json_object_array_get_idx(a, 1), "kind"), "saved-image");
	assert_string_equal(jstr(json_object_array_get_idx(a, 1), "changed_now"), "true");
	json_object_object_get_ex(r, "left_alone", &a);
	assert_int_equal(json_object_array_length(a), 1);
	assert_non_null(strstr(jstr(json_object_array_get_idx(a, 0), "path"), "/auto/web1.cfg"));
	json_object_put(r);
	r = NULL;
	/* on disk: the link gone, the image aside, everything else as it was */
	snprintf(p, sizeof(p), "%s/web1", autod);
	assert_int_equal(lstat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/web1.cfg", autod);
	assert_int_equal(lstat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/web1", save);
	assert_int_equal(lstat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/.web1.bridged-off", save);
	assert_string_equal(slurp(p), "xendomains saved image of web1\x01\x02\x03");
	snprintf(p, sizeof(p), "%s/other", save);
	assert_string_equal(slurp(p), "image of other");
	all_listings(after_off, sizeof(after_off));
	/* the journal: mode 0600 in a 0700 folder */
	assert_int_equal(stat(jpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(statedir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(journal1, sizeof(journal1), "%s", slurp(jpath));

	/* off again: nothing more changes, the journal is the same */
	assert_int_equal(autostart_off(&e, &r, err, sizeof(err)), 0);
	json_object_object_get_ex(r, "changes", &a);
	assert_int_equal(json_object_array_length(a), 2);
	assert_string_equal(jstr(json_object_array_get_idx(a, 0), "changed_now"), "false");
	assert_string_equal(jstr(json_object_array_get_idx(a, 1), "changed_now"), "false");
	json_object_put(r);
	r = NULL;
	all_listings(now, sizeof(now));
	assert_string_equal(now, after_off);
	assert_string_equal(slurp(jpath), journal1);

	/* restore: the same link text, the same bytes */
	assert_int_equal(autostart_restore(&e, &r, err, sizeof(err)), 0);
	assert_string_equal(jstr(r, "result"), "restored");
	json_object_put(r);
	r = NULL;
	all_listings(now, sizeof(now));
	assert_string_equal(now, before);
	snprintf(p, sizeof(p), "%s/web1", autod);
	n = readlink(p, t, sizeof(t) - 1);
	assert_true(n > 0);
	t[n] = '\0';
	assert_string_equal(t, "../web1.cfg");
	snprintf(p, sizeof(p), "%s/web1", save);
	assert_string_equal(slurp(p), "xendomains saved image of web1\x01\x02\x03");
	assert_non_null(strstr(slurp(jpath), "\"restored\":true"));

	/* restore again: nothing to do, nothing changes */
	assert_int_equal(autostart_restore(&e, &r, err, sizeof(err)), 0);
	assert_string_equal(jstr(r, "result"), "nothing to restore");
	json_object_put(r);
	all_listings(now, sizeof(now));
	assert_string_equal(now, before);
}

static void test_restore_after_partial_failure(void **state)
{
	struct autostart_env e = env();
	char before[16384], now[16384], p[1024], jpath[1024];
	json_object *r = NULL;
	char err[2048] = "";

	(void)state;
	all_listings(before, sizeof(before));
	snprintf(jpath, sizeof(jpath), "%s/web1.json", statedir);
	assert_int_equal(autostart_off(&e, &r, err, sizeof(err)), 0);
	json_object_put(r);
	r = NULL;
	/* meanwhile someone put a file where the link was */
	snprintf(p, sizeof(p), "%s/web1", autod);
	put(p, "not the link");
	assert_int_equal(autostart_restore(&e, &r, err, sizeof(err)), -EIO);
	assert_null(r);
	assert_non_null(strstr(err, "put back 1 of 2 changes"));
	assert_non_null(strstr(err, "/auto/web1 exists and is not the link to ../web1.cfg"));
	/* the image is back; the link is still recorded as to do */
	snprintf(p, sizeof(p), "%s/web1", save);
	assert_string_equal(slurp(p), "xendomains saved image of web1\x01\x02\x03");
	assert_non_null(strstr(slurp(jpath), "\"restored\":false"));
	/* the way cleared, a second restore finishes the job */
	snprintf(p, sizeof(p), "%s/web1", autod);
	unlink(p);
	assert_int_equal(autostart_restore(&e, &r, err, sizeof(err)), 0);
	assert_string_equal(jstr(r, "result"), "restored");
	json_object_put(r);
	all_listings(now, sizeof(now));
	assert_string_equal(now, before);
}

static void test_copy_and_no_saved_image(void **state)
{
	struct autostart_env e = env();
	char before[16384], now[16384], p[1024], q[1024];
	json_object *r = NULL, *a;
	char err[1024] = "";

	(void)state;
	/* a copy of the config instead of the link, and no saved image */
	snprintf(p, sizeof(p), "%s/web1", autod);
	unlink(p);
	put(p, "name = 'web1'\nmemory = 256\n");
	snprintf(q, sizeof(q), "%s/web1", save);
	unlink(q);
	all_listings(before, sizeof(before));
	assert_int_equal(autostart_off(&e, &r, err, sizeof(err)), 0);
	json_object_object_get_ex(r, "changes", &a);
	assert_int_equal(json_object_array_length(a), 1);
	assert_string_equal(jstr(json_object_array_get_idx(a, 0), "kind"), "auto-file");
	json_object_put(r);
	r = NULL;
	snprintf(q, sizeof(q), "%s/.web1.bridged-off", autod);
	assert_string_equal(slurp(q), "name = 'web1'\nmemory = 256\n");
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(autostart_restore(&e, &r, err, sizeof(err)), 0);
	json_object_put(r);
	all_listings(now, sizeof(now));
	assert_string_equal(now, before);
	/* put the fixture back for the next tests */
	unlink(p);
	assert_int_equal(symlink("../web1.cfg", p), 0);
	snprintf(q, sizeof(q), "%s/web1", save);
	put(q, "xendomains saved image of web1\x01\x02\x03");
}

static void test_journal_trouble_changes_nothing(void **state)
{
	struct autostart_env e = env();
	char before[16384], now[16384], bad[1024], jpath[1024];
	json_object *r = NULL;
	char err[1024] = "";

	(void)state;
	all_listings(before, sizeof(before));
	/* the state folder cannot be made (a file is in the way) */
	snprintf(bad, sizeof(bad), "%s/blocked", top);
	put(bad, "");
	e.state_dir = bad;
	assert_true(autostart_off(&e, &r, err, sizeof(err)) < 0);
	assert_null(r);
	assert_non_null(strstr(err, "journal"));
	all_listings(now, sizeof(now));
	assert_string_equal(now, before);

	/* a damaged journal: refused, nothing touched, the file kept */
	e = env();
	snprintf(jpath, sizeof(jpath), "%s/web1.json", statedir);
	put(jpath, "{\"version\":1,\"vm\":\"web1\",\"changes\":[{\"kind\":\"bogus\"}]}");
	assert_int_equal(autostart_off(&e, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "not a journal of bridged"));
	assert_int_equal(autostart_restore(&e, &r, err, sizeof(err)), -EBADMSG);
	all_listings(now, sizeof(now));
	assert_string_equal(now, before);
	assert_non_null(strstr(slurp(jpath), "bogus"));
	unlink(jpath);
}

static void test_crash_between(void **state)
{
	struct autostart_env e = env();
	char before[16384], now[16384], jpath[1024], text[2048];
	json_object *r = NULL, *a;
	char err[1024] = "";

	(void)state;
	all_listings(before, sizeof(before));
	/* a journal left by a crash after recording the link, before removing it */
	snprintf(jpath, sizeof(jpath), "%s/web1.json", statedir);
	snprintf(text, sizeof(text), "{\"version\":1,\"vm\":\"web1\",\"domain\":\"web1\",\"config\":\"%s\","
		 "\"restored\":false,\"changes\":[{\"kind\":\"auto-link\",\"status\":\"pending\","
		 "\"path\":\"%s/web1\",\"target\":\"../web1.cfg\"}]}", cfg, autod);
	put(jpath, text);
	/* restore: the link is still there with the same text: fine */
	assert_int_equal(autostart_restore(&e, &r, err, sizeof(err)), 0);
	json_object_put(r);
	r = NULL;
	all_listings(now, sizeof(now));
	assert_string_equal(now, before);
	/* off after such a crash: the pending link is made (once) */
	put(jpath, text);
	assert_int_equal(autostart_off(&e, &r, err, sizeof(err)), 0);
	json_object_object_get_ex(r, "changes", &a);
	assert_int_equal(json_object_array_length(a), 2);	/* the link (repeated) and the image */
	assert_string_equal(jstr(json_object_array_get_idx(a, 0), "status"), "done");
	json_object_put(r);
	r = NULL;
	assert_int_equal(autostart_restore(&e, &r, err, sizeof(err)), 0);
	json_object_put(r);
	all_listings(now, sizeof(now));
	assert_string_equal(now, before);
	unlink(jpath);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_entries),
		cmocka_unit_test(test_plan_saved_and_managed),
		cmocka_unit_test(test_plan_against_journal),
		cmocka_unit_test(test_off_twice_then_restore),
		cmocka_unit_test(test_restore_after_partial_failure),
		cmocka_unit_test(test_copy_and_no_saved_image),
		cmocka_unit_test(test_journal_trouble_changes_nothing),
		cmocka_unit_test(test_crash_between),
	};

	return cmocka_run_group_tests(tests, setup_dirs, teardown_dirs);
}
