/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The old host's autostart of one VM (autostart.h): what is there, the
 * plan, the journal, and the two directions. No shell, no tool: links,
 * renames and the backend's flag only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/escape.h"
#include "common/fileio.h"
#include "migrate/source/autostart.h"
#include "migrate/source/backend.h"
#include "migrate/source/fetch.h"

#define ASIDE_SUFFIX ".bridged-off"
#define JOURNAL_VERSION 1
#define JOURNAL_MAX (1024 * 1024)
#define COMPARE_MAX (1024 * 1024)	/* a config copy larger than this is not one */

const char *const autostart_kind_names[_AUTOSTART_KIND_MAX] = {
	[AUTOSTART_LINK] = "auto-link",
	[AUTOSTART_FILE] = "auto-file",
	[AUTOSTART_SAVED] = "saved-image",
	[AUTOSTART_MANAGED] = "managed",
};

const char *const autostart_status_names[_AUTOSTART_STATUS_MAX] = {
	[AUTOSTART_PENDING] = "pending",
	[AUTOSTART_DONE] = "done",
	[AUTOSTART_RESTORED] = "restored",
};

/* ---- small helpers ------------------------------------------------------ */

static char *dupz(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char *join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

char *autostart_aside_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/.%s" ASIDE_SUFFIX, dir, name) < 0)
		return NULL;
	return p;
}

static void change_clear(struct autostart_change *c)
{
	free(c->path);
	free(c->target);
	free(c->aside);
	memset(c, 0, sizeof(*c));
}

void autostart_journal_clear(struct autostart_journal *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n_changes; i++)
		change_clear(&j->changes[i]);
	for (size_t i = 0; i < j->n_notes; i++) {
		free(j->notes[i].path);
		free(j->notes[i].why);
	}
	free(j->changes);
	free(j->notes);
	free(j->vm);
	free(j->domain);
	free(j->config);
	memset(j, 0, sizeof(*j));
}

/* Appends a copy of c (strings duplicated). */
static int add_change(struct autostart_journal *j, const struct autostart_change *c)
{
	struct autostart_change *n = realloc(j->changes, (j->n_changes + 1) * sizeof(*n));
	struct autostart_change *d;

	if (!n)
		return -ENOMEM;
	j->changes = n;
	d = &n[j->n_changes];
	*d = *c;
	d->path = dupz(c->path);
	d->target = dupz(c->target);
	d->aside = dupz(c->aside);
	if ((c->path && !d->path) || (c->target && !d->target) || (c->aside && !d->aside)) {
		change_clear(d);
		return -ENOMEM;
	}
	j->n_changes++;
	return 0;
}

static int add_note(struct autostart_journal *j, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int add_note(struct autostart_journal *j, const char *path, const char *fmt, ...)
{
	struct autostart_note *n = realloc(j->notes, (j->n_notes + 1) * sizeof(*n));
	va_list ap;
	char *why;
	int r;

	if (!n)
		return -ENOMEM;
	j->notes = n;
	va_start(ap, fmt);
	r = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	n[j->n_notes].path = dupz(path);
	n[j->n_notes].why = why;
	j->n_notes++;
	return 0;
}

static const struct autostart_change *journal_find(const struct autostart_journal *j,
						   enum autostart_kind kind, const char *path)
{
	if (!j)
		return NULL;
	for (size_t i = 0; i < j->n_changes; i++) {
		const struct autostart_change *c = &j->changes[i];

		if (c->kind != kind || c->status == AUTOSTART_RESTORED)
			continue;
		if (kind == AUTOSTART_MANAGED || (c->path && path && !strcmp(c->path, path)))
			return c;
	}
	return NULL;
}

/* ---- the plan (pure) ---------------------------------------------------- */

static bool named_after(const struct autostart_obs *o, const char *name)
{
	size_t n = strlen(name);
	const char *forms[2] = { o->vm, o->domain };

	for (int i = 0; i < 2; i++) {
		size_t k;

		if (!forms[i])
			continue;
		k = strlen(forms[i]);
		if (!strcmp(name, forms[i]) || (n == k + 4 && !strncmp(name, forms[i], k) &&
						 !strcmp(name + k, ".cfg")))
			return true;
	}
	return false;
}

static bool entry_exists(const struct autostart_obs *o, const char *name)
{
	for (size_t i = 0; i < o->n_entries; i++)
		if (!strcmp(o->entries[i].name, name))
			return true;
	return false;
}

static int plan_entry(const struct autostart_obs *o, const struct autostart_entry *e,
		      const struct autostart_journal *journal, struct autostart_journal *ret)
{
	struct autostart_change c = { .status = AUTOSTART_PENDING };
	const struct autostart_change *rec;
	char *path, *aside = NULL, *aside_name = NULL;
	int r = 0;

	if (e->name[0] == '.')
		return 0;	/* xendomains' `*` does not see it */
	path = join(o->auto_dir, e->name);
	if (!path)
		return -ENOMEM;
	if (e->is_link && e->is_config) {
		c.kind = AUTOSTART_LINK;
		c.path = path;
		c.target = e->target;
		rec = journal_find(journal, AUTOSTART_LINK, path);
		if (rec && rec->target && e->target && strcmp(rec->target, e->target))
			r = add_note(ret, path, "a link to the VM's config again, but as \"%s\" where "
				     "\"%s\" was recorded", e->target, rec->target);
		else {
			c.repeat = rec != NULL;
			r = add_change(ret, &c);
		}
	} else if (e->is_link) {
		if (named_after(o, e->name))
			r = add_note(ret, path, "a link to %s, not to the VM's config %s",
				     e->target ? e->target : "?", o->config);
	} else if (e->is_config) {
		aside = autostart_aside_path(o->auto_dir, e->name);
		if (!aside || asprintf(&aside_name, ".%s" ASIDE_SUFFIX, e->name) < 0) {
			r = -ENOMEM;
			goto out;
		}
		rec = journal_find(journal, AUTOSTART_FILE, path);
		if (entry_exists(o, aside_name)) {
			r = add_note(ret, path, "a copy of the VM's config, but %s is taken", aside);
		} else {
			c.kind = AUTOSTART_FILE;
			c.path = path;
			c.aside = aside;
			c.repeat = rec != NULL;
			r = add_change(ret, &c);
		}
	} else if (named_after(o, e->name)) {
		r = add_note(ret, path, "a file that is not the VM's config %s (look at it by hand)",
			     o->config);
	}
out:
	free(path);
	free(aside);
	free(aside_name);
	return r;
}

int autostart_plan(const struct autostart_obs *o, const struct autostart_journal *journal,
		   struct autostart_journal *ret)
{
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	ret->vm = dupz(o->vm);
	ret->domain = dupz(o->domain);
	ret->config = dupz(o->config);
	if ((o->vm && !ret->vm) || (o->domain && !ret->domain) || (o->config && !ret->config))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && o->auto_dir && o->auto_dir[0] && i < o->n_entries; i++)
		r = plan_entry(o, &o->entries[i], journal, ret);
	if (r == 0 && o->saved && o->save_dir && o->save_dir[0]) {
		struct autostart_change c = { .kind = AUTOSTART_SAVED, .status = AUTOSTART_PENDING };

		c.path = join(o->save_dir, o->domain);
		c.aside = autostart_aside_path(o->save_dir, o->domain);
		if (!c.path || !c.aside)
			r = -ENOMEM;
		else if (o->saved_aside)
			r = add_note(ret, c.path, "a saved image, but %s exists too (from an earlier "
				     "switch-off?)", c.aside);
		else {
			c.repeat = journal_find(journal, AUTOSTART_SAVED, c.path) != NULL;
			r = add_change(ret, &c);
		}
		free(c.path);
		free(c.aside);
	}
	if (r == 0 && o->managed == 1 && o->managed_fixed) {
		r = add_note(ret, NULL, "the hypervisor starts %s itself (xend: on_xend_start = start) and "
			     "bridged cannot change that: set on_xend_start = 'ignore' by hand (xm new)",
			     o->domain);
	} else if (r == 0 && o->managed == 1) {
		struct autostart_change c = { .kind = AUTOSTART_MANAGED, .status = AUTOSTART_PENDING };

		c.repeat = journal_find(journal, AUTOSTART_MANAGED, NULL) != NULL;
		r = add_change(ret, &c);
	}
	if (r < 0)
		autostart_journal_clear(ret);
	return r;
}

/* ---- what is there ------------------------------------------------------ */

void autostart_obs_clear(struct autostart_obs *o)
{
	for (size_t i = 0; i < o->n_entries; i++) {
		free(o->entries[i].name);
		free(o->entries[i].target);
	}
	free(o->entries);
	o->entries = NULL;
	o->n_entries = 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct autostart_entry *)a)->name, ((const struct autostart_entry *)b)->name);
}

/* Same bytes as the config (both at most COMPARE_MAX). */
static bool same_bytes(int dfd, const char *name, const char *config, off_t size)
{
	char *a = NULL, *b = NULL;
	bool same = false;
	int fa = -1, fb = -1;
	ssize_t na, nb;

	if (size > COMPARE_MAX)
		return false;
	fa = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	fb = open(config, O_RDONLY | O_CLOEXEC);
	a = malloc((size_t)size + 1);
	b = malloc((size_t)size + 1);
	if (fa < 0 || fb < 0 || !a || !b)
		goto out;
	na = read(fa, a, (size_t)size + 1);
	nb = read(fb, b, (size_t)size + 1);
	same = na == size && nb == size && !memcmp(a, b, (size_t)size);
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	free(a);
	free(b);
	return same;
}

static int observe_auto_dir(struct autostart_obs *o, char *err, size_t errlen)
{
	struct stat cst;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (stat(o->config, &cst) < 0) {
		snprintf(err, errlen, "%s: %s", o->config, strerror(errno));
		return -errno;
	}
	d = opendir(o->auto_dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;	/* no folder, no entry */
		snprintf(err, errlen, "%s: %s", o->auto_dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		struct autostart_entry e = { 0 }, *n;
		struct stat st, tst;
		char target[4096];
		ssize_t tl;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			tl = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
			if (tl < 0)
				continue;
			target[tl] = '\0';
			e.is_link = true;
			e.target = strdup(target);
			if (!e.target) {
				r = -ENOMEM;
				break;
			}
			e.is_config = fstatat(dirfd(d), de->d_name, &tst, 0) == 0 &&
				      tst.st_dev == cst.st_dev && tst.st_ino == cst.st_ino;
		} else if (S_ISREG(st.st_mode)) {
			e.is_config = (st.st_dev == cst.st_dev && st.st_ino == cst.st_ino) ||
				      (st.st_size == cst.st_size &&
				       same_bytes(dirfd(d), de->d_name, o->config, st.st_size));
		} else {
			continue;
		}
		e.name = strdup(de->d_name);
		n = realloc(o->entries, (o->n_entries + 1) * sizeof(*n));
		if (!e.name || !n) {
			free(e.name);
			free(e.target);
			if (n)
				o->entries = n;
			r = -ENOMEM;
			break;
		}
		o->entries = n;
		o->entries[o->n_entries++] = e;
	}
	closedir(d);
	if (r == 0)
		qsort(o->entries, o->n_entries, sizeof(*o->entries), cmp_entry);
	return r;
}

int autostart_observe(struct autostart_obs *o, struct source_backend *backend, char *err,
		      size_t errlen)
{
	int r = 0;

	o->entries = NULL;
	o->n_entries = 0;
	o->saved = o->saved_aside = false;
	o->managed = -1;
	o->managed_fixed = false;
	if (o->auto_dir && o->auto_dir[0])
		r = observe_auto_dir(o, err, errlen);
	/* xendomains saves DIR/NAME for the domain's name: only a plain name */
	if (r == 0 && o->save_dir && o->save_dir[0] && fetch_vm_name_ok(o->domain)) {
		char *p = join(o->save_dir, o->domain), *a = autostart_aside_path(o->save_dir, o->domain);
		struct stat st;

		if (!p || !a)
			r = -ENOMEM;
		else {
			o->saved = lstat(p, &st) == 0 && S_ISREG(st.st_mode);
			o->saved_aside = lstat(a, &st) == 0;
		}
		free(p);
		free(a);
	}
	if (r == 0 && backend && backend->ops->autostart_get) {
		char e[SOURCE_MSG_MAX] = "";
		int m = backend->ops->autostart_get(backend, o->domain, e, sizeof(e));

		if (m >= 0) {
			o->managed = m;
			o->managed_fixed = !backend->ops->autostart_set;
		}
		else if (m != -ENOENT) {
			snprintf(err, errlen, "%s", e);
			r = m;
		}
	}
	if (r < 0)
		autostart_obs_clear(o);
	return r;
}

/* ---- the journal -------------------------------------------------------- */

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *change_to_json(const struct autostart_change *c)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "kind", json_object_new_string(autostart_kind_names[c->kind]));
	json_object_object_add(j, "status", json_object_new_string(autostart_status_names[c->status]));
	if (c->path)
		json_object_object_add(j, "path", jstr(c->path));
	if (c->target)
		json_object_object_add(j, "target", jstr(c->target));
	if (c->aside)
		json_object_object_add(j, "aside", jstr(c->aside));
	return j;
}

static json_object *notes_to_json(const struct autostart_journal *j)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < j->n_notes; i++) {
		json_object *n = json_object_new_object();

		json_object_object_add(n, "path", jstr(j->notes[i].path));
		json_object_object_add(n, "why", jstr(j->notes[i].why));
		json_object_array_add(a, n);
	}
	return a;
}

json_object *autostart_journal_to_json(const struct autostart_journal *j)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "version", json_object_new_int(JOURNAL_VERSION));
	json_object_object_add(o, "vm", jstr(j->vm));
	json_object_object_add(o, "domain", jstr(j->domain));
	json_object_object_add(o, "config", jstr(j->config));
	json_object_object_add(o, "restored", json_object_new_boolean(j->restored));
	for (size_t i = 0; i < j->n_changes; i++)
		json_object_array_add(a, change_to_json(&j->changes[i]));
	json_object_object_add(o, "changes", a);
	json_object_object_add(o, "left_alone", notes_to_json(j));
	return o;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static int journal_from_json(json_object *o, struct autostart_journal *j)
{
	json_object *a, *v;
	size_t n;

	memset(j, 0, sizeof(*j));
	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "version", &v) ||
	    json_object_get_int(v) != JOURNAL_VERSION || !get_str(o, "vm") ||
	    !json_object_object_get_ex(o, "changes", &a) || !json_object_is_type(a, json_type_array))
		return -EBADMSG;
	j->vm = dupz(get_str(o, "vm"));
	j->domain = dupz(get_str(o, "domain"));
	j->config = dupz(get_str(o, "config"));
	j->restored = json_object_object_get_ex(o, "restored", &v) && json_object_get_boolean(v);
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct autostart_change c = { 0 };
		int k = name_index(autostart_kind_names, _AUTOSTART_KIND_MAX, get_str(e, "kind"));
		int s = name_index(autostart_status_names, _AUTOSTART_STATUS_MAX, get_str(e, "status"));

		if (k < 0 || s < 0)
			return -EBADMSG;
		c.kind = (enum autostart_kind)k;
		c.status = (enum autostart_status)s;
		c.path = (char *)get_str(e, "path");
		c.target = (char *)get_str(e, "target");
		c.aside = (char *)get_str(e, "aside");
		if ((c.kind != AUTOSTART_MANAGED && !c.path) || (c.kind == AUTOSTART_LINK && !c.target) ||
		    ((c.kind == AUTOSTART_FILE || c.kind == AUTOSTART_SAVED) && !c.aside))
			return -EBADMSG;
		if (add_change(j, &c) < 0)
			return -ENOMEM;
	}
	if (json_object_object_get_ex(o, "left_alone", &a) && json_object_is_type(a, json_type_array)) {
		n = json_object_array_length(a);
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(a, i);

			if (add_note(j, get_str(e, "path"), "%s", get_str(e, "why") ? get_str(e, "why") : "") < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int autostart_journal_load(const char *path, struct autostart_journal *ret, char *err, size_t errlen)
{
	json_tokener *tok = NULL;
	json_object *o = NULL;
	char *buf = NULL;
	ssize_t n;
	int fd, r;

	memset(ret, 0, sizeof(*ret));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			snprintf(err, errlen, "journal %s: %s", path, strerror(errno));
		return r;
	}
	buf = malloc(JOURNAL_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, JOURNAL_MAX + 1);
	close(fd);
	if (n < 0 || n > JOURNAL_MAX) {
		snprintf(err, errlen, "journal %s: %s", path, n < 0 ? strerror(errno) : "too large");
		free(buf);
		return -EIO;
	}
	tok = json_tokener_new();
	if (tok)
		o = json_tokener_parse_ex(tok, buf, (int)n);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    (r = journal_from_json(o, ret)) < 0) {
		snprintf(err, errlen, "journal %s: not a journal of bridged (damaged?); look at it and "
			 "remove it by hand", path);
		r = -EBADMSG;
		autostart_journal_clear(ret);
	}
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	free(buf);
	return r;
}

/* mkdir -p, the last level 0700. */
static int make_dir(const char *dir)
{
	char p[4096];
	size_t n = strlen(dir);

	if (n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, i == n ? 0700 : 0755) < 0 && errno != EEXIST)
			return -errno;
		p[i] = i == n ? '\0' : '/';
	}
	return 0;
}

int autostart_journal_save(const char *path, const struct autostart_journal *j, char *err,
			   size_t errlen)
{
	json_object *o = autostart_journal_to_json(j);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	char *dir = strdup(path), *slash, *line = NULL;
	int r;

	if (!dir || asprintf(&line, "%s\n", text) < 0) {
		line = NULL;
		r = -ENOMEM;
		goto fail;
	}
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else
		strcpy(dir, slash ? "/" : ".");
	r = make_dir(dir);
	if (r == 0)
		r = file_write_atomic(path, line, strlen(line), false);
	if (r == 0)
		goto out;
fail:
	snprintf(err, errlen, "journal %s: %s", path, strerror(-r));
out:
	json_object_put(o);
	free(line);
	free(dir);
	return r;
}

/* ---- off and restore ---------------------------------------------------- */

/* One switch of a VM at a time (each request is served by its own child):
 * an exclusive flock on STATE_DIR/VM.lock, held until *fd is closed. */
static int journal_lock(const struct autostart_env *env, int *fd, char *err, size_t errlen)
{
	char *p = NULL;
	int r = make_dir(env->state_dir);

	*fd = -1;
	if (r == 0 && asprintf(&p, "%s/%s.lock", env->state_dir, env->vm) < 0)
		r = -ENOMEM;
	if (r == 0) {
		*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (*fd < 0)
			r = -errno;
	}
	while (r == 0 && flock(*fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			r = -errno;
	}
	if (r < 0) {
		snprintf(err, errlen, "journal lock in %s: %s", env->state_dir, strerror(-r));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	free(p);
	return r;
}

static char *journal_path(const struct autostart_env *env)
{
	char *p;

	if (asprintf(&p, "%s/%s.json", env->state_dir, env->vm) < 0)
		return NULL;
	return p;
}

/* Makes one change; -errno with err on a failure (nothing was changed). */
static int apply_off(const struct autostart_env *env, const struct autostart_change *c, char *err,
		     size_t errlen)
{
	switch (c->kind) {
	case AUTOSTART_LINK:
		if (unlink(c->path) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "remove %s: %s", c->path, strerror(errno));
			return -errno;
		}
		return 0;
	case AUTOSTART_FILE:
	case AUTOSTART_SAVED:
		/* never over something: the aside name is ours alone */
		if (renameat2(AT_FDCWD, c->path, AT_FDCWD, c->aside, RENAME_NOREPLACE) < 0) {
			snprintf(err, errlen, "move %s to %s: %s", c->path, c->aside, strerror(errno));
			return -errno;
		}
		return 0;
	case AUTOSTART_MANAGED:
		if (!env->backend || !env->backend->ops->autostart_set) {
			snprintf(err, errlen, "no backend to turn the hypervisor's autostart off");
			return -EOPNOTSUPP;
		}
		return env->backend->ops->autostart_set(env->backend, env->domain, false, err, errlen);
	default:
		return -EINVAL;
	}
}

/* The reply of both directions: the journal with, per change, whether this
 * run made it. */
static json_object *reply_json(const struct autostart_env *env, const char *result,
			       const struct autostart_journal *j, const char *jpath,
			       const bool *touched)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "vm", json_object_new_string(env->vm));
	json_object_object_add(o, "domain", json_object_new_string(env->domain));
	json_object_object_add(o, "result", json_object_new_string(result));
	json_object_object_add(o, "journal", json_object_new_string(jpath));
	for (size_t i = 0; i < j->n_changes; i++) {
		json_object *c = change_to_json(&j->changes[i]);

		json_object_object_add(c, "changed_now", json_object_new_boolean(touched && touched[i]));
		json_object_array_add(a, c);
	}
	json_object_object_add(o, "changes", a);
	json_object_object_add(o, "left_alone", notes_to_json(j));
	return o;
}

int autostart_off(const struct autostart_env *env, json_object **ret, char *err, size_t errlen)
{
	struct autostart_obs obs = {
		.vm = env->vm, .domain = env->domain, .config = env->config,
		.auto_dir = env->auto_dir, .save_dir = env->save_dir,
	};
	struct autostart_journal j = { 0 }, plan = { 0 };
	bool *touched = NULL;
	char *jpath = journal_path(env);
	int r, lock = -1;

	if (!jpath)
		return -ENOMEM;
	r = journal_lock(env, &lock, err, errlen);
	if (r == 0)
		r = autostart_journal_load(jpath, &j, err, errlen);
	if (r == -ENOENT || (r == 0 && j.restored)) {
		/* a fresh start: nothing is off now */
		autostart_journal_clear(&j);
		j.vm = dupz(env->vm);
		j.domain = dupz(env->domain);
		j.config = dupz(env->config);
		r = j.vm && j.domain && j.config ? 0 : -ENOMEM;
	}
	if (r < 0)
		goto out;
	r = autostart_observe(&obs, env->backend, err, errlen);
	if (r < 0)
		goto out;
	r = autostart_plan(&obs, &j, &plan);
	if (r < 0)
		goto out;
	/* this run's notes replace the last run's */
	for (size_t i = 0; i < j.n_notes; i++) {
		free(j.notes[i].path);
		free(j.notes[i].why);
	}
	free(j.notes);
	j.notes = plan.notes;
	j.n_notes = plan.n_notes;
	plan.notes = NULL;
	plan.n_notes = 0;
	touched = calloc(j.n_changes + plan.n_changes + 1, sizeof(*touched));
	if (!touched) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < plan.n_changes; i++) {
		struct autostart_change *c = &plan.changes[i];
		size_t at = j.n_changes;

		if (c->repeat) {
			/* recorded already: find it, make it again */
			for (at = 0; at < j.n_changes; at++)
				if (j.changes[at].kind == c->kind && j.changes[at].status != AUTOSTART_RESTORED &&
				    (c->kind == AUTOSTART_MANAGED || !strcmp(j.changes[at].path, c->path)))
					break;
		} else {
			r = add_change(&j, c);
			if (r == 0)
				r = autostart_journal_save(jpath, &j, err, errlen);
			if (r < 0)
				goto out;
		}
		r = apply_off(env, c, err, errlen);
		if (r < 0) {
			if (!c->repeat) {
				char scratch[256];

				/* nothing was changed: no record */
				change_clear(&j.changes[--j.n_changes]);
				autostart_journal_save(jpath, &j, scratch, sizeof(scratch));
			}
			goto out;
		}
		if (at < j.n_changes) {
			j.changes[at].status = AUTOSTART_DONE;
			touched[at] = true;
		}
		r = autostart_journal_save(jpath, &j, err, errlen);
		if (r < 0)
			goto out;
	}
	/* saved even when nothing changed: the notes, and a journal to show */
	r = autostart_journal_save(jpath, &j, err, errlen);
	if (r == 0)
		*ret = reply_json(env, "off", &j, jpath, touched);
out:
	if (lock >= 0)
		close(lock);
	free(touched);
	autostart_obs_clear(&obs);
	autostart_journal_clear(&plan);
	autostart_journal_clear(&j);
	free(jpath);
	return r;
}

/* Puts one change back; 0 (also when it is back already) or -errno. */
static int apply_restore(const struct autostart_env *env, const struct autostart_change *c, char *err,
			 size_t errlen)
{
	struct stat st;
	char text[4096];
	ssize_t n;
	bool at_path, at_aside;

	switch (c->kind) {
	case AUTOSTART_LINK:
		if (lstat(c->path, &st) == 0) {
			n = S_ISLNK(st.st_mode) ? readlink(c->path, text, sizeof(text) - 1) : -1;
			if (n >= 0) {
				text[n] = '\0';
				if (!strcmp(text, c->target))
					return 0;
			}
			snprintf(err, errlen, "%s exists and is not the link to %s that was there: left "
				 "as it is", c->path, c->target);
			return -EEXIST;
		}
		if (symlink(c->target, c->path) < 0) {
			snprintf(err, errlen, "link %s -> %s: %s", c->path, c->target, strerror(errno));
			return -errno;
		}
		return 0;
	case AUTOSTART_FILE:
	case AUTOSTART_SAVED:
		at_path = lstat(c->path, &st) == 0;
		at_aside = lstat(c->aside, &st) == 0;
		if (at_path && !at_aside)
			return 0;
		if (at_path && at_aside) {
			snprintf(err, errlen, "%s exists again and %s is still aside: left as they are",
				 c->path, c->aside);
			return -EEXIST;
		}
		if (!at_aside) {
			snprintf(err, errlen, "%s is gone (it was moved aside from %s)", c->aside, c->path);
			return -ENOENT;
		}
		if (renameat2(AT_FDCWD, c->aside, AT_FDCWD, c->path, RENAME_NOREPLACE) < 0) {
			snprintf(err, errlen, "move %s back to %s: %s", c->aside, c->path, strerror(errno));
			return -errno;
		}
		return 0;
	case AUTOSTART_MANAGED:
		if (!env->backend || !env->backend->ops->autostart_set) {
			snprintf(err, errlen, "no backend to turn the hypervisor's autostart on again");
			return -EOPNOTSUPP;
		}
		return env->backend->ops->autostart_set(env->backend, env->domain, true, err, errlen);
	default:
		return -EINVAL;
	}
}

int autostart_restore(const struct autostart_env *env, json_object **ret, char *err, size_t errlen)
{
	struct autostart_journal j = { 0 };
	char *jpath = journal_path(env), *fails = NULL;
	size_t nfail = 0, nback = 0, todo = 0;
	bool *touched = NULL;
	int r, lock = -1;

	if (!jpath)
		return -ENOMEM;
	r = journal_lock(env, &lock, err, errlen);
	if (r == 0)
		r = autostart_journal_load(jpath, &j, err, errlen);
	if (r == -ENOENT) {
		j.vm = dupz(env->vm);
		j.domain = dupz(env->domain);
		*ret = reply_json(env, "nothing to restore", &j, jpath, NULL);
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	touched = calloc(j.n_changes + 1, sizeof(*touched));
	if (!touched) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t k = j.n_changes; k-- > 0;) {
		struct autostart_change *c = &j.changes[k];
		char why[1024] = "";
		int e;

		if (c->status == AUTOSTART_RESTORED)
			continue;
		todo++;
		e = apply_restore(env, c, why, sizeof(why));
		if (e < 0) {
			char *f;

			nfail++;
			if (asprintf(&f, "%s%s%s", fails ? fails : "", fails ? "; " : "", why) >= 0) {
				free(fails);
				fails = f;
			}
			continue;
		}
		c->status = AUTOSTART_RESTORED;
		touched[k] = true;
		nback++;
		r = autostart_journal_save(jpath, &j, err, errlen);
		if (r < 0)
			goto out;
	}
	j.restored = nfail == 0;
	r = autostart_journal_save(jpath, &j, err, errlen);
	if (r < 0)
		goto out;
	if (nfail) {
		snprintf(err, errlen, "put back %zu of %zu changes; not put back: %s (the journal %s "
			 "keeps them: fix that and restore again)", nback, todo, fails, jpath);
		r = -EIO;
		goto out;
	}
	*ret = reply_json(env, todo ? "restored" : "nothing to restore", &j, jpath, touched);
out:
	if (lock >= 0)
		close(lock);
	free(fails);
	free(touched);
	autostart_journal_clear(&j);
	free(jpath);
	return r;
}
