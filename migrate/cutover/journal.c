/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cutover's journal; see journal.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/fileio.h"
#include "migrate/cutover/journal.h"

#define JOURNAL_MAX (1 << 20)

const char *const cutover_step_names[CUT_STEP_MAX] = {
	[CUT_INSPECT] = "inspect", [CUT_PLAN] = "plan", [CUT_CREATE] = "create",
	[CUT_WARM] = "warm-copy", [CUT_PREFLIGHT] = "preflight", [CUT_CONFIRM] = "confirm",
	[CUT_SHUTDOWN] = "shutdown", [CUT_DELTA] = "delta-copy", [CUT_DEFINE] = "define",
	[CUT_START] = "start", [CUT_ARRIVAL] = "arrival", [CUT_AUTOSTART] = "autostart",
};

const char *const cutover_status_names[CUT_STATUS_MAX] = {
	[CUT_PENDING] = "pending", [CUT_RUNNING] = "running", [CUT_DONE] = "done",
	[CUT_FAILED] = "failed", [CUT_SKIPPED] = "skipped",
};

static const char *const states[] = {
	CUT_STATE_RUNNING, CUT_STATE_WARM, CUT_STATE_FAILED, CUT_STATE_DONE, CUT_STATE_STAGE2,
	CUT_STATE_ROLLING_BACK, CUT_STATE_ROLLED_BACK,
};

const char *cutover_jstr(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : NULL;
}

double cutover_jnum(json_object *o, const char *key, double def)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return def;
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return json_object_get_double(v);
	return def;
}

json_object *cutover_journal_new(const char *vm)
{
	json_object *j = json_object_new_object(), *steps = json_object_new_array();

	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "vm", json_object_new_string(vm));
	json_object_object_add(j, "state", json_object_new_string(CUT_STATE_RUNNING));
	json_object_object_add(j, "stage", json_object_new_int(1));
	json_object_object_add(j, "options", json_object_new_object());
	for (int i = 0; i < CUT_STEP_MAX; i++) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "name", json_object_new_string(cutover_step_names[i]));
		json_object_object_add(s, "status", json_object_new_string(cutover_status_names[CUT_PENDING]));
		json_object_array_add(steps, s);
	}
	json_object_object_add(j, "steps", steps);
	json_object_object_add(j, "error", NULL);
	json_object_object_add(j, "failed_step", NULL);
	return j;
}

static int status_of(const char *s)
{
	for (int i = 0; s && i < CUT_STATUS_MAX; i++)
		if (!strcmp(s, cutover_status_names[i]))
			return i;
	return -1;
}

json_object *cutover_journal_parse(const char *text, size_t len, const char *vm, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *j, *v, *steps;
	const char *s;
	bool known = false;

	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	j = len <= JOURNAL_MAX ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
	if (!j || json_tokener_get_error(tok) != json_tokener_success || tok->char_offset != (int)len) {
		snprintf(err, errlen, "not JSON%s%s", len > JOURNAL_MAX ? " (larger than 1 MiB)" : ": ",
			 len > JOURNAL_MAX ? "" : json_tokener_error_desc(json_tokener_get_error(tok)));
		goto fail;
	}
	if (!json_object_is_type(j, json_type_object) || !json_object_object_get_ex(j, "version", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int(v) != 1) {
		snprintf(err, errlen, "not a version 1 cutover journal");
		goto fail;
	}
	s = cutover_jstr(j, "vm");
	if (!s || (vm && strcmp(s, vm))) {
		snprintf(err, errlen, "the journal is of VM %s, not %s", s ? STR_ESCAPED(s) : "(none)",
			 vm ? STR_ESCAPED(vm) : "");
		goto fail;
	}
	s = cutover_jstr(j, "state");
	for (size_t i = 0; s && i < sizeof(states) / sizeof(states[0]); i++)
		known |= !strcmp(s, states[i]);
	if (!known) {
		snprintf(err, errlen, "unknown state %s", s ? STR_ESCAPED(s) : "(none)");
		goto fail;
	}
	if (!json_object_object_get_ex(j, "options", &v) || !json_object_is_type(v, json_type_object)) {
		snprintf(err, errlen, "no options object");
		goto fail;
	}
	if (!json_object_object_get_ex(j, "steps", &steps) || !json_object_is_type(steps, json_type_array) ||
	    json_object_array_length(steps) != CUT_STEP_MAX) {
		snprintf(err, errlen, "steps: an array of %d steps expected", CUT_STEP_MAX);
		goto fail;
	}
	for (int i = 0; i < CUT_STEP_MAX; i++) {
		json_object *st = json_object_array_get_idx(steps, (size_t)i);

		s = cutover_jstr(st, "name");
		if (!s || strcmp(s, cutover_step_names[i])) {
			snprintf(err, errlen, "steps[%d]: %s expected", i, cutover_step_names[i]);
			goto fail;
		}
		if (status_of(cutover_jstr(st, "status")) < 0) {
			snprintf(err, errlen, "steps[%d] (%s): unknown status", i, cutover_step_names[i]);
			goto fail;
		}
	}
	json_tokener_free(tok);
	return j;
fail:
	json_object_put(j);
	json_tokener_free(tok);
	return NULL;
}

json_object *cutover_step_obj(json_object *j, enum cutover_step s)
{
	json_object *steps;

	if (!json_object_object_get_ex(j, "steps", &steps))
		return NULL;
	return json_object_array_get_idx(steps, (size_t)s);
}

enum cutover_status cutover_step_status(json_object *j, enum cutover_step s)
{
	int st = status_of(cutover_jstr(cutover_step_obj(j, s), "status"));

	return st < 0 ? CUT_PENDING : (enum cutover_status)st;
}

void cutover_step_set(json_object *j, enum cutover_step s, enum cutover_status st, double now)
{
	json_object *o = cutover_step_obj(j, s);
	double started;

	if (!o)
		return;
	json_object_object_add(o, "status", json_object_new_string(cutover_status_names[st]));
	if (st == CUT_RUNNING) {
		json_object_object_add(o, "started", json_object_new_double(now));
		json_object_object_add(o, "runs", json_object_new_int((int)cutover_jnum(o, "runs", 0) + 1));
	} else if (st != CUT_PENDING) {
		started = cutover_jnum(o, "started", now);
		json_object_object_add(o, "finished", json_object_new_double(now));
		json_object_object_add(o, "seconds",
				       json_object_new_double(cutover_jnum(o, "seconds", 0) + (now - started)));
	}
	json_object_object_add(j, "updated", json_object_new_double(now));
}

enum cutover_step cutover_next_step(json_object *j)
{
	for (int i = 0; i < CUT_STEP_MAX; i++) {
		enum cutover_status st = cutover_step_status(j, (enum cutover_step)i);

		if (st != CUT_DONE && st != CUT_SKIPPED)
			return (enum cutover_step)i;
	}
	return CUT_STEP_MAX;
}

const char *cutover_state(json_object *j)
{
	const char *s = cutover_jstr(j, "state");

	return s ? s : CUT_STATE_RUNNING;
}

void cutover_set_state(json_object *j, const char *state)
{
	json_object_object_add(j, "state", json_object_new_string(state));
}

void cutover_summary(json_object *j, char *buf, size_t len)
{
	const char *st = cutover_state(j);
	enum cutover_step next = cutover_next_step(j);

	if (!strcmp(st, CUT_STATE_FAILED)) {
		const char *f = cutover_jstr(j, "failed_step");
		int n = 0;

		for (int i = 0; f && i < CUT_STEP_MAX; i++)
			if (!strcmp(f, cutover_step_names[i]))
				n = i + 1;
		snprintf(buf, len, "failed at step %d (%s)", n, f ? f : "?");
	} else if (!strcmp(st, CUT_STATE_DONE)) {
		snprintf(buf, len, "cut over");
	} else if (!strcmp(st, CUT_STATE_STAGE2)) {
		snprintf(buf, len, "stage 2");
	} else if (!strcmp(st, CUT_STATE_ROLLED_BACK)) {
		snprintf(buf, len, "rolled back");
	} else if (!strcmp(st, CUT_STATE_ROLLING_BACK)) {
		snprintf(buf, len, "rolling back (interrupted: rerun --rollback)");
	} else if (!strcmp(st, CUT_STATE_WARM)) {
		snprintf(buf, len, "copied warm (the VM runs on the old host)");
	} else if (next == CUT_INSPECT) {
		snprintf(buf, len, "not started");
	} else if (next <= CUT_WARM) {
		snprintf(buf, len, "copying warm (step %d, %s)", next + 1, cutover_step_names[next]);
	} else if (next < CUT_STEP_MAX) {
		snprintf(buf, len, "under way (step %d, %s)", next + 1, cutover_step_names[next]);
	} else {
		snprintf(buf, len, "cut over");
	}
}

static int read_all(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t k;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	for (;;) {
		if (len + 4096 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 16384;
			if (cap > JOURNAL_MAX + 8192 || !(nb = realloc(buf, cap))) {
				snprintf(err, errlen, "%s: larger than 1 MiB", path);
				free(buf);
				close(fd);
				return -EFBIG;
			}
			buf = nb;
		}
		k = read(fd, buf + len, cap - len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -EIO;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

json_object *cutover_journal_read(const char *path, char *err, size_t errlen)
{
	char *text, why[256];
	size_t len;
	json_object *j;

	if (read_all(path, &text, &len, err, errlen) < 0)
		return NULL;
	j = cutover_journal_parse(text, len, NULL, why, sizeof(why));
	if (!j)
		snprintf(err, errlen, "%s: %s", path, why);
	free(text);
	return j;
}

int cutover_journal_open(const char *dir, const char *vm, bool create, struct cutover_journal **ret, char *err,
			 size_t errlen)
{
	struct cutover_journal *jr = calloc(1, sizeof(*jr));
	char *lock = NULL, *text, why[256];
	size_t len;
	int r;

	if (!jr)
		return -ENOMEM;
	jr->lock_fd = -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (!(jr->dir = strdup(dir)) || asprintf(&jr->path, "%s/%s.json", dir, vm) < 0 ||
	    asprintf(&lock, "%s/%s.lock", dir, vm) < 0) {
		jr->path = NULL;
		r = -ENOMEM;
		goto fail;
	}
	jr->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (jr->lock_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", lock, strerror(errno));
		goto fail;
	}
	if (flock(jr->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "another cutover of %s is under way (%s is locked)", vm, lock);
		goto fail;
	}
	r = read_all(jr->path, &text, &len, err, errlen);
	if (r == -ENOENT) {
		if (!create) {
			snprintf(err, errlen, "no cutover of %s has been started here (%s)", vm, jr->path);
			goto fail;
		}
		jr->root = cutover_journal_new(vm);
	} else if (r < 0) {
		goto fail;
	} else {
		jr->root = cutover_journal_parse(text, len, vm, why, sizeof(why));
		free(text);
		if (!jr->root) {
			r = -EINVAL;
			snprintf(err, errlen, "%s: %s: nothing was changed; look at it, and move it away to start afresh",
				 jr->path, why);
			goto fail;
		}
	}
	free(lock);
	*ret = jr;
	return 0;
fail:
	free(lock);
	cutover_journal_close(jr);
	return r;
}

int cutover_journal_save(struct cutover_journal *jr, char *err, size_t errlen)
{
	const char *s = json_object_to_json_string_ext(jr->root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	char *buf;
	int r;

	if (asprintf(&buf, "%s\n", s) < 0)
		return -ENOMEM;
	r = file_write_atomic(jr->path, buf, strlen(buf), true);
	free(buf);
	if (r < 0)
		snprintf(err, errlen, "cannot write %s: %s", jr->path, strerror(-r));
	return r;
}

void cutover_journal_close(struct cutover_journal *jr)
{
	if (!jr)
		return;
	if (jr->lock_fd >= 0)
		close(jr->lock_fd);
	json_object_put(jr->root);
	free(jr->dir);
	free(jr->path);
	free(jr);
}
