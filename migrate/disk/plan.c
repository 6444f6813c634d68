/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The disk planner (see plan.h for the geometry rules) and its three
 * renderings: a table, JSON, and the equivalent shell commands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/escape.h"
#include "migrate/disk/plan.h"
#include "migrate/xen/xencfg.h"

const char *const plan_action_names[PLAN_ACTION_MAX] = {
	[PLAN_COPY] = "copy",
	[PLAN_MKSWAP] = "mkswap",
};



int plan_warn(struct plan *p, const char *fmt, ...)
{
	char *s, **n;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	n = realloc(p->warnings, (p->n_warnings + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return -ENOMEM;
	}
	p->warnings = n;
	n[p->n_warnings++] = s;
	return 0;
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_disks; i++) {
		free(p->disks[i].name);
		free(p->disks[i].parts);
	}
	free(p->disks);
	for (size_t i = 0; i < p->n_warnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	for (size_t i = 0; i < p->n_strings; i++)
		free(p->strings[i]);
	free(p->strings);
	free(p);
}

static int cmp_part(const void *a, const void *b)
{
	const struct plan_part *x = a, *y = b;

	return (x->number > y->number) - (x->number < y->number);
}

/* Numbers and lays out the partitions of one disk (parts sorted by old number). */
static int layout(struct plan *p, struct plan_disk *d, const struct plan_opts *o)
{
	size_t n = d->n_parts, n_pri = 0, first_log;
	uint64_t pos = PLAN_ALIGN;
	bool renumber = false;
	int r;

	for (size_t i = 0; i < n; i++)
		if (d->parts[i].number <= 4)
			n_pri++;
	if (n_pri == n) {
		first_log = n;	/* all primary, numbers kept */
	} else if (n_pri <= 3) {
		bool used[5] = { false };

		first_log = n_pri;
		for (size_t i = 0; i < n_pri; i++)
			used[d->parts[i].number] = true;
		for (int s = 1; s <= 4; s++)
			if (!used[s]) {
				d->ext_number = s;
				break;
			}
		for (size_t i = first_log; i < n; i++)
			if (d->parts[i].number != (int)(5 + i - first_log))
				renumber = true;
	} else {
		first_log = 3;
		d->ext_number = 4;
		renumber = true;
	}
	d->extended = first_log < n;
	if (d->extended) {
		char list[256] = "";
		size_t l = 0;

		for (size_t i = first_log; i < n && l < sizeof(list) - 40; i++)
			l += (size_t)snprintf(list + l, sizeof(list) - l, "%s%s->%zu", i > first_log ? " " : "",
					      d->parts[i].vdev, 5 + i - first_log);
		r = plan_warn(p, "disk %s: %zu partitions do not fit in 4 primary slots: extended partition %d "
			      "holds logical partitions %s%s", d->name, n, d->ext_number, list,
			      renumber ? "; partitions are RENUMBERED: fix /etc/fstab, root= and resume= "
					 "entries that name them by number" : "");
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		struct plan_part *pt = &d->parts[i];

		if (i == first_log) {
			d->ext_start = plan_align_up(pos, PLAN_ALIGN);
			pos = d->ext_start;
		}
		if (i >= first_log) {
			pt->logical = true;
			pt->number = (int)(5 + i - first_log);
			/* room for this logical partition's EBR */
			pos = plan_align_up(pos + o->sector_size, PLAN_ALIGN);
		}
		pt->start = plan_align_up(pos, PLAN_ALIGN);
		pt->size = plan_align_up(pt->size, PLAN_ALIGN);
		pos = pt->start + pt->size;
	}
	if (d->extended)
		d->ext_size = pos - d->ext_start;
	d->size = plan_align_up(pos, o->alloc_unit);
	return 0;
}

int plan_build(const char *vm_name, const struct plan_src *src, size_t n, const struct plan_opts *o,
	       struct plan **ret, char *err, size_t errlen)
{
	struct plan *p = calloc(1, sizeof(*p));
	int r = 0;

	if (!p)
		return -ENOMEM;
	if (o->sector_size != 512 && o->sector_size != 4096) {
		snprintf(err, errlen, "sector size %u: 512 or 4096 expected", o->sector_size);
		r = -EINVAL;
		goto fail;
	}
	if (!o->alloc_unit || o->alloc_unit % o->sector_size || o->alloc_unit > (1ull << 40)) {
		snprintf(err, errlen, "allocation unit %llu is not a multiple of the %u-byte sector",
			 (unsigned long long)o->alloc_unit, o->sector_size);
		r = -EINVAL;
		goto fail;
	}
	p->disks = calloc(n ? n : 1, sizeof(*p->disks));
	if (!p->disks) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct plan_disk *d = NULL;
		char disk[16];
		int part;

		if (!xen_vdev_split(src[i].vdev, disk, sizeof(disk), &part)) {
			snprintf(err, errlen, "virtual device '%s' is not a disk name like sda1 or xvda",
				 STR_ESCAPED(src[i].vdev));
			r = -EINVAL;
			goto fail;
		}
		if (src[i].size == 0 || src[i].size > (1ull << 50)) {
			snprintf(err, errlen, "%s: size %llu is out of range", src[i].path,
				 (unsigned long long)src[i].size);
			r = -EINVAL;
			goto fail;
		}
		for (size_t j = 0; j < p->n_disks; j++)
			if (!strcmp(p->disks[j].vdev, disk))
				d = &p->disks[j];
		if (!d) {
			d = &p->disks[p->n_disks++];
			strcpy(d->vdev, disk);
			d->sector_size = o->sector_size;
			d->whole = part == 0;
			if (asprintf(&d->name, "%s-%s", vm_name, disk) < 0) {
				d->name = NULL;
				r = -ENOMEM;
				goto fail;
			}
		} else if (d->whole || part == 0) {
			snprintf(err, errlen, "%s is used both as a whole disk and as a partition", disk);
			r = -EINVAL;
			goto fail;
		}
		if (part == 0) {
			d->source = src[i].path;
			d->source_size = src[i].size;
			d->action = src[i].swap ? PLAN_MKSWAP : PLAN_COPY;
			memcpy(d->uuid, src[i].uuid, sizeof(d->uuid));
			memcpy(d->label, src[i].label, sizeof(d->label));
			d->size = plan_align_up(src[i].size, o->alloc_unit);
			continue;
		}
		if (part > 60) {
			snprintf(err, errlen, "partition number %d of %s is too large for an msdos label",
				 part, src[i].vdev);
			r = -EINVAL;
			goto fail;
		}
		{
			struct plan_part *np = realloc(d->parts, (d->n_parts + 1) * sizeof(*np)), *pt;

			if (!np) {
				r = -ENOMEM;
				goto fail;
			}
			d->parts = np;
			pt = &np[d->n_parts++];
			memset(pt, 0, sizeof(*pt));
			pt->number = part;
			snprintf(pt->vdev, sizeof(pt->vdev), "%s", src[i].vdev);
			pt->source = src[i].path;
			pt->size = src[i].size;
			pt->action = src[i].swap ? PLAN_MKSWAP : PLAN_COPY;
			memcpy(pt->uuid, src[i].uuid, sizeof(pt->uuid));
			memcpy(pt->label, src[i].label, sizeof(pt->label));
			pt->boot = o->root_vdev && !strcmp(o->root_vdev, src[i].vdev);
		}
	}
	{
		bool boot = false;

		for (size_t i = 0; i < p->n_disks; i++) {
			struct plan_disk *d = &p->disks[i];

			if (d->whole)
				continue;
			qsort(d->parts, d->n_parts, sizeof(*d->parts), cmp_part);
			r = layout(p, d, o);
			if (r < 0)
				goto fail;
			for (size_t j = 0; j < d->n_parts; j++)
				boot |= d->parts[j].boot;
		}
		/*
		 * No known root (pygrub, UUID=), or a root= naming none of the
		 * planned partitions: boot the first copied partition of the first disk.
		 */
		if (!boot && p->n_disks && !p->disks[0].whole) {
			struct plan_disk *d = &p->disks[0];

			for (size_t j = 0; j < d->n_parts; j++)
				if (d->parts[j].action == PLAN_COPY) {
					d->parts[j].boot = true;
					if (o->root_vdev)
						r = plan_warn(p, "root=/dev/%s names none of the planned partitions: "
							      "the boot flag goes on %s (was %s)", o->root_vdev,
							      d->name, d->parts[j].vdev);
					if (r < 0)
						goto fail;
					break;
				}
		}
	}
	p->alloc_unit = o->alloc_unit;
	*ret = p;
	return 0;
fail:
	plan_free(p);
	return r;
}

static struct json_object *jstr_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

struct json_object *plan_to_json(const struct plan *p)
{
	struct json_object *o = json_object_new_object(), *disks = json_object_new_array(), *w;

	for (size_t i = 0; i < p->n_disks; i++) {
		const struct plan_disk *d = &p->disks[i];
		struct json_object *j = json_object_new_object(), *parts = json_object_new_array();

		json_object_object_add(j, "name", json_object_new_string(d->name));
		json_object_object_add(j, "vdev", json_object_new_string(d->vdev));
		json_object_object_add(j, "size_bytes", json_object_new_int64((int64_t)d->size));
		json_object_object_add(j, "sector_size", json_object_new_int((int)d->sector_size));
		json_object_object_add(j, "size_sectors", json_object_new_int64((int64_t)(d->size / d->sector_size)));
		json_object_object_add(j, "label", d->whole ? NULL : json_object_new_string("msdos"));
		if (d->whole) {
			json_object_object_add(j, "source", json_object_new_string(d->source));
			json_object_object_add(j, "source_bytes", json_object_new_int64((int64_t)d->source_size));
			json_object_object_add(j, "action", json_object_new_string(plan_action_names[d->action]));
			if (d->action == PLAN_MKSWAP) {
				json_object_object_add(j, "swap_uuid", jstr_or_null(d->uuid));
				json_object_object_add(j, "swap_label", jstr_or_null(d->label));
			}
		}
		for (size_t k = 0; k < d->n_parts; k++) {
			const struct plan_part *pt = &d->parts[k];
			struct json_object *q = json_object_new_object();

			json_object_object_add(q, "number", json_object_new_int(pt->number));
			json_object_object_add(q, "type", json_object_new_string(pt->logical ? "logical" : "primary"));
			json_object_object_add(q, "start_bytes", json_object_new_int64((int64_t)pt->start));
			json_object_object_add(q, "size_bytes", json_object_new_int64((int64_t)pt->size));
			json_object_object_add(q, "start_sector", json_object_new_int64((int64_t)(pt->start / d->sector_size)));
			json_object_object_add(q, "end_sector",
					       json_object_new_int64((int64_t)((pt->start + pt->size) / d->sector_size - 1)));
			json_object_object_add(q, "source", json_object_new_string(pt->source));
			json_object_object_add(q, "source_vdev", json_object_new_string(pt->vdev));
			json_object_object_add(q, "action", json_object_new_string(plan_action_names[pt->action]));
			json_object_object_add(q, "boot", json_object_new_boolean(pt->boot));
			if (pt->action == PLAN_MKSWAP) {
				json_object_object_add(q, "swap_uuid", jstr_or_null(pt->uuid));
				json_object_object_add(q, "swap_label", jstr_or_null(pt->label));
			}
			json_object_array_add(parts, q);
		}
		json_object_object_add(j, "partitions", parts);
		if (d->extended) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "number", json_object_new_int(d->ext_number));
			json_object_object_add(e, "start_bytes", json_object_new_int64((int64_t)d->ext_start));
			json_object_object_add(e, "size_bytes", json_object_new_int64((int64_t)d->ext_size));
			json_object_object_add(j, "extended", e);
		}
		json_object_array_add(disks, j);
	}
	json_object_object_add(o, "disks", disks);
	w = json_object_new_array();
	for (size_t i = 0; i < p->n_warnings; i++)
		json_object_array_add(w, json_object_new_string(p->warnings[i]));
	json_object_object_add(o, "warnings", w);
	return o;
}

void plan_print(FILE *f, const struct plan *p)
{
	for (size_t i = 0; i < p->n_disks; i++) {
		const struct plan_disk *d = &p->disks[i];
		unsigned s = d->sector_size;

		fprintf(f, "disk %s (was %s): %llu bytes = %llu sectors of %u bytes%s\n", d->name, d->vdev,
			(unsigned long long)d->size, (unsigned long long)(d->size / s), s,
			d->whole ? ", whole-disk copy" : ", msdos label");
		if (d->whole) {
			fprintf(f, "  %-7s %s (%llu bytes)\n", plan_action_names[d->action], d->source,
				(unsigned long long)d->source_size);
			continue;
		}
		fprintf(f, "  %-3s %-8s %12s %12s %14s  %-6s %-4s %s\n", "#", "type", "start(s)", "end(s)",
			"size(bytes)", "action", "boot", "source");
		for (size_t k = 0; k < d->n_parts; k++) {
			const struct plan_part *pt = &d->parts[k];

			if (d->extended && pt->logical && (k == 0 || !d->parts[k - 1].logical))
				fprintf(f, "  %-3d %-8s %12llu %12llu %14llu\n", d->ext_number, "extended",
					(unsigned long long)(d->ext_start / s),
					(unsigned long long)((d->ext_start + d->ext_size) / s - 1),
					(unsigned long long)d->ext_size);
			fprintf(f, "  %-3d %-8s %12llu %12llu %14llu  %-6s %-4s %s (%s)\n", pt->number,
				pt->logical ? "logical" : "primary", (unsigned long long)(pt->start / s),
				(unsigned long long)((pt->start + pt->size) / s - 1),
				(unsigned long long)pt->size, plan_action_names[pt->action], pt->boot ? "*" : "",
				pt->source, pt->vdev);
		}
	}
}

/* kpartx names partitions NAME + N, or NAME + "p" + N when NAME ends in a digit. */
static void dm_part_name(char *buf, size_t len, const char *vg, const char *lv, int n)
{
	size_t l = 0;

	for (const char *c = vg; *c && l + 3 < len; c++) {
		if (*c == '-')
			buf[l++] = '-';
		buf[l++] = *c;
	}
	if (l + 1 < len)
		buf[l++] = '-';
	for (const char *c = lv; *c && l + 3 < len; c++) {
		if (*c == '-')
			buf[l++] = '-';
		buf[l++] = *c;
	}
	buf[l] = '\0';
	snprintf(buf + l, len - l, "%s%d", l && buf[l - 1] >= '0' && buf[l - 1] <= '9' ? "p" : "", n);
}

void plan_sh_quote(FILE *f, const char *s)
{
	bool plain = *s != '\0';

	for (const char *c = s; *c && plain; c++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-", *c) != NULL;
	if (plain) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (const char *c = s; *c; c++) {
		if (*c == '\'')
			fputs("'\\''", f);
		else
			fputc(*c, f);
	}
	fputc('\'', f);
}

/* prefix then the value as one shell word: if=/dev/x -> 'if=/dev/x y' when needed. */
static void sh_word(FILE *f, const char *prefix, const char *value)
{
	char *w;

	if (asprintf(&w, "%s%s", prefix, value) < 0) {
		fputs("''", f);
		return;
	}
	plan_sh_quote(f, w);
	free(w);
}

/* A comment line: no newline of s may end it early. */
static void sh_comment(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sh_comment(FILE *f, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	fputs("# ", f);
	for (const char *c = s; *c; c++)
		fputc(*c == '\n' || *c == '\r' ? ' ' : *c, f);
	fputc('\n', f);
	free(s);
}

static void print_mkswap(FILE *f, const char *uuid, const char *label, const char *dev)
{
	fputs("mkswap", f);
	if (*uuid) {
		fputs(" -U ", f);
		plan_sh_quote(f, uuid);
	}
	if (*label) {
		fputs(" -L ", f);
		plan_sh_quote(f, label);
	}
	fputc(' ', f);
	plan_sh_quote(f, dev);
	fputc('\n', f);
}

static void print_dd(FILE *f, const char *src, const char *dev)
{
	fputs("dd ", f);
	sh_word(f, "if=", src);
	fputc(' ', f);
	sh_word(f, "of=", dev);
	fputs(" bs=1M conv=fsync status=progress\n", f);
}

void plan_print_commands(FILE *f, const struct plan *p, const char *vg)
{
	fprintf(f, "#!/bin/sh\n# Generated by 'bridgectl migrate plan --commands': sizes in bytes and sectors.\n"
		"set -e\nexport DM_DISABLE_UDEV=1\n");
	for (size_t i = 0; i < p->n_warnings; i++)
		sh_comment(f, "warning: %s", p->warnings[i]);
	if (p->n_disks && p->alloc_unit) {
		/* The volume sizes are multiples of the extent size: check it is the VG's. */
		fprintf(f, "\n# volume sizes are multiples of %llu bytes: the extent size of the VG\n"
			"ext=$(vgs --noheadings --units b --nosuffix -o vg_extent_size ",
			(unsigned long long)p->alloc_unit);
		plan_sh_quote(f, vg);
		fprintf(f, " | tr -d ' ')\n[ \"$ext\" = %llu ] || { echo VG ", (unsigned long long)p->alloc_unit);
		plan_sh_quote(f, vg);
		fprintf(f, " \"has $ext-byte extents, this plan %llu: plan again with --pool on this host\" >&2; "
			"exit 1; }\n", (unsigned long long)p->alloc_unit);
	}
	for (size_t i = 0; i < p->n_disks; i++) {
		const struct plan_disk *d = &p->disks[i];
		unsigned s = d->sector_size;
		char *dev, part[512], *mapper;

		if (asprintf(&dev, "/dev/%s/%s", vg, d->name) < 0)
			return;
		fputc('\n', f);
		sh_comment(f, "disk %s (was %s)", d->name, d->vdev);
		if (!*d->name || d->name[0] == '-' || strspn(d->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
							    "0123456789+_.-") != strlen(d->name))
			sh_comment(f, "warning: LVM accepts only letters, digits and + _ . - in a volume name: "
				   "lvcreate refuses this one");
		fputs("lvcreate --yes -n ", f);
		plan_sh_quote(f, d->name);
		fprintf(f, " -L %llub ", (unsigned long long)d->size);
		plan_sh_quote(f, vg);
		fputc('\n', f);
		if (d->whole) {
			if (d->action == PLAN_MKSWAP)
				print_mkswap(f, d->uuid, d->label, dev);
			else
				print_dd(f, d->source, dev);
			free(dev);
			continue;
		}
		fputs("parted -s -a none ", f);
		plan_sh_quote(f, dev);
		fputs(" unit s mklabel msdos\n", f);
		for (size_t k = 0; k < d->n_parts; k++) {
			const struct plan_part *pt = &d->parts[k];

			if (pt->logical && (k == 0 || !d->parts[k - 1].logical)) {
				fputs("parted -s -a none ", f);
				plan_sh_quote(f, dev);
				fprintf(f, " unit s mkpart extended %llus %llus\n",
					(unsigned long long)(d->ext_start / s),
					(unsigned long long)((d->ext_start + d->ext_size) / s - 1));
			}
			fputs("parted -s -a none ", f);
			plan_sh_quote(f, dev);
			fprintf(f, " unit s mkpart %s %s %llus %llus\n",
				pt->logical ? "logical" : "primary", pt->action == PLAN_MKSWAP ? "linux-swap" : "ext2",
				(unsigned long long)(pt->start / s),
				(unsigned long long)((pt->start + pt->size) / s - 1));
			if (pt->boot) {
				fputs("parted -s ", f);
				plan_sh_quote(f, dev);
				fprintf(f, " set %d boot on\n", pt->number);
			}
		}
		fputs("kpartx -a -s ", f);
		plan_sh_quote(f, dev);
		fputc('\n', f);
		for (size_t k = 0; k < d->n_parts; k++) {
			const struct plan_part *pt = &d->parts[k];

			dm_part_name(part, sizeof(part), vg, d->name, pt->number);
			if (asprintf(&mapper, "/dev/mapper/%s", part) < 0)
				break;
			if (pt->action == PLAN_MKSWAP)
				print_mkswap(f, pt->uuid, pt->label, mapper);
			else
				print_dd(f, pt->source, mapper);
			free(mapper);
		}
		fputs("kpartx -d ", f);
		plan_sh_quote(f, dev);
		fputc('\n', f);
		free(dev);
	}
}

int plan_parse_extent_size(const char *out, uint64_t *ret)
{
	const char *c = out;
	uint64_t v = 0;
	bool digits = false;

	while (*c == ' ' || *c == '\t' || *c == '\n')
		c++;
	for (; *c >= '0' && *c <= '9'; c++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*c - '0');
		digits = true;
	}
	/* "4194304.00" from an older vgs that ignores --nosuffix decimals: only zeros */
	if (*c == '.')
		for (c++; *c == '0'; c++)
			;
	if (*c == 'B' || *c == 'b')
		c++;
	while (*c == ' ' || *c == '\t' || *c == '\n')
		c++;
	if (!digits || *c || v == 0 || v % 512)
		return -EINVAL;
	*ret = v;
	return 0;
}
