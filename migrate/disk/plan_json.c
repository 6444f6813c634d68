/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A saved plan read back (plan --json, docs/MIGRATE.md's contract), so
 * that later steps (the domain) use the plan the disks were made with.
 * Checked as it is read: every field the contract names, with its type;
 * the geometry itself is not re-derived.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "migrate/disk/plan.h"

struct reader {
	struct plan *p;
	char *err;
	size_t errlen;
};

static json_object *field(struct reader *r, json_object *o, const char *path, const char *key, json_type type,
			  bool nullable)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || (!v && !nullable) ||
	    (v && json_object_get_type(v) != type)) {
		snprintf(r->err, r->errlen, "%s.%s: missing or not a%s %s", path, key,
			 type == json_type_int || type == json_type_array ? "n" : "", json_type_to_name(type));
		return NULL;
	}
	return v;
}

/* A string the plan keeps (NULL on failure). */
static const char *keep(struct reader *r, const char *s)
{
	char **n = realloc(r->p->strings, (r->p->n_strings + 1) * sizeof(*n));

	if (!n)
		return NULL;
	r->p->strings = n;
	n[r->p->n_strings] = strdup(s);
	return n[r->p->n_strings] ? n[r->p->n_strings++] : NULL;
}

static int get_u64(struct reader *r, json_object *o, const char *path, const char *key, uint64_t *ret)
{
	json_object *v = field(r, o, path, key, json_type_int, false);
	int64_t x;

	if (!v)
		return -EINVAL;
	x = json_object_get_int64(v);
	if (x < 0) {
		snprintf(r->err, r->errlen, "%s.%s: negative", path, key);
		return -EINVAL;
	}
	*ret = (uint64_t)x;
	return 0;
}

static int get_str(struct reader *r, json_object *o, const char *path, const char *key, char *buf, size_t len)
{
	json_object *v = field(r, o, path, key, json_type_string, false);

	if (!v)
		return -EINVAL;
	if ((size_t)json_object_get_string_len(v) >= len) {
		snprintf(r->err, r->errlen, "%s.%s: too long", path, key);
		return -EINVAL;
	}
	snprintf(buf, len, "%s", json_object_get_string(v));
	return 0;
}

static int action_of(struct reader *r, json_object *o, const char *path, enum plan_action *ret)
{
	char a[16];

	if (get_str(r, o, path, "action", a, sizeof(a)) < 0)
		return -EINVAL;
	for (int i = 0; i < PLAN_ACTION_MAX; i++)
		if (!strcmp(a, plan_action_names[i])) {
			*ret = (enum plan_action)i;
			return 0;
		}
	snprintf(r->err, r->errlen, "%s.action: '%s' is neither copy nor mkswap", path, a);
	return -EINVAL;
}

/* The swap UUID and label when the entry has them (null: unknown). */
static void swap_ids(json_object *o, char uuid[37], char label[17])
{
	json_object *v;

	if (json_object_object_get_ex(o, "swap_uuid", &v) && json_object_is_type(v, json_type_string))
		snprintf(uuid, 37, "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "swap_label", &v) && json_object_is_type(v, json_type_string))
		snprintf(label, 17, "%s", json_object_get_string(v));
}

static int read_part(struct reader *r, json_object *o, const char *path, struct plan_part *pt)
{
	json_object *v;
	char src[4096], type[16];

	if (!(v = field(r, o, path, "number", json_type_int, false)))
		return -EINVAL;
	pt->number = json_object_get_int(v);
	if (pt->number < 1 || pt->number > 128) {
		snprintf(r->err, r->errlen, "%s.number: %d is not a partition number", path, pt->number);
		return -EINVAL;
	}
	if (get_str(r, o, path, "type", type, sizeof(type)) < 0 ||
	    get_u64(r, o, path, "start_bytes", &pt->start) < 0 || get_u64(r, o, path, "size_bytes", &pt->size) < 0 ||
	    get_str(r, o, path, "source", src, sizeof(src)) < 0 ||
	    get_str(r, o, path, "source_vdev", pt->vdev, sizeof(pt->vdev)) < 0 || action_of(r, o, path, &pt->action) < 0)
		return -EINVAL;
	pt->logical = !strcmp(type, "logical");
	if (!(v = field(r, o, path, "boot", json_type_boolean, false)))
		return -EINVAL;
	pt->boot = json_object_get_boolean(v);
	swap_ids(o, pt->uuid, pt->label);
	pt->source = keep(r, src);
	return pt->source ? 0 : -ENOMEM;
}

static int read_disk(struct reader *r, json_object *o, const char *path, struct plan_disk *d)
{
	json_object *parts, *label, *v;
	char name[256], src[4096], pp[96];
	uint64_t ss;

	if (get_str(r, o, path, "name", name, sizeof(name)) < 0 || get_str(r, o, path, "vdev", d->vdev, sizeof(d->vdev)) < 0 ||
	    get_u64(r, o, path, "size_bytes", &d->size) < 0 || get_u64(r, o, path, "sector_size", &ss) < 0)
		return -EINVAL;
	if (ss != 512 && ss != 4096) {
		snprintf(r->err, r->errlen, "%s.sector_size: %llu, 512 or 4096 expected", path, (unsigned long long)ss);
		return -EINVAL;
	}
	d->sector_size = (unsigned)ss;
	d->name = strdup(name);
	if (!d->name)
		return -ENOMEM;
	if (!json_object_object_get_ex(o, "label", &label)) {
		snprintf(r->err, r->errlen, "%s.label: missing", path);
		return -EINVAL;
	}
	d->whole = label == NULL;
	if (d->whole) {
		if (get_str(r, o, path, "source", src, sizeof(src)) < 0 ||
		    get_u64(r, o, path, "source_bytes", &d->source_size) < 0 || action_of(r, o, path, &d->action) < 0)
			return -EINVAL;
		swap_ids(o, d->uuid, d->label);
		d->source = keep(r, src);
		if (!d->source)
			return -ENOMEM;
	}
	if (!(parts = field(r, o, path, "partitions", json_type_array, false)))
		return -EINVAL;
	d->n_parts = json_object_array_length(parts);
	if (d->whole && d->n_parts) {
		snprintf(r->err, r->errlen, "%s: a whole-disk copy with partitions", path);
		return -EINVAL;
	}
	d->parts = calloc(d->n_parts + 1, sizeof(*d->parts));
	if (!d->parts)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_parts; i++) {
		snprintf(pp, sizeof(pp), "%s.partitions[%zu]", path, i);
		if (read_part(r, json_object_array_get_idx(parts, i), pp, &d->parts[i]) < 0)
			return -EINVAL;
	}
	if (json_object_object_get_ex(o, "extended", &v) && v) {
		uint64_t n;

		snprintf(pp, sizeof(pp), "%s.extended", path);
		if (get_u64(r, v, pp, "number", &n) < 0 || get_u64(r, v, pp, "start_bytes", &d->ext_start) < 0 ||
		    get_u64(r, v, pp, "size_bytes", &d->ext_size) < 0)
			return -EINVAL;
		d->extended = true;
		d->ext_number = (int)n;
	}
	return 0;
}

int plan_from_json(const char *text, struct plan **ret, char *err, size_t errlen)
{
	struct reader r = { .err = err, .errlen = errlen };
	json_object *root, *disks, *warnings;
	enum json_tokener_error jerr;
	char path[32];
	int rc = -EINVAL;

	root = json_tokener_parse_verbose(text, &jerr);
	if (!root || !json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "not a JSON object%s%s", root ? "" : ": ", root ? "" : json_tokener_error_desc(jerr));
		json_object_put(root);
		return -EINVAL;
	}
	r.p = calloc(1, sizeof(*r.p));
	if (!r.p) {
		json_object_put(root);
		return -ENOMEM;
	}
	if (!(disks = field(&r, root, "plan", "disks", json_type_array, false)))
		goto out;
	r.p->n_disks = 0;
	r.p->disks = calloc(json_object_array_length(disks) + 1, sizeof(*r.p->disks));
	if (!r.p->disks) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(disks); i++) {
		snprintf(path, sizeof(path), "disks[%zu]", i);
		r.p->n_disks++;
		rc = read_disk(&r, json_object_array_get_idx(disks, i), path, &r.p->disks[i]);
		if (rc < 0)
			goto out;
	}
	if (json_object_object_get_ex(root, "warnings", &warnings) && json_object_is_type(warnings, json_type_array))
		for (size_t i = 0; i < json_object_array_length(warnings); i++) {
			json_object *w = json_object_array_get_idx(warnings, i);

			if (json_object_is_type(w, json_type_string) &&
			    plan_warn(r.p, "%s", json_object_get_string(w)) < 0) {
				rc = -ENOMEM;
				goto out;
			}
		}
	*ret = r.p;
	r.p = NULL;
	rc = 0;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	plan_free(r.p);
	json_object_put(root);
	return rc;
}
