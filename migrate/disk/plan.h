/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The disk plan: which whole disks a VM gets on the new host, and where each
 * old per-partition volume lands in them, in bytes and sectors. Pure: the
 * sizes and swap signatures of the sources come in (migrate/disk/probe.c reads
 * them), the plan goes out; no I/O here.
 *
 * Geometry (docs/MIGRATE.md): msdos label; the first partition starts at
 * 1 MiB, every partition starts on a 1 MiB boundary and is its source's size
 * rounded up to 1 MiB (so at least the source, less than 1 MiB more);
 * logical partitions leave 1 MiB before each for their EBR; the volume is
 * the end of the last partition rounded up to the allocation unit.
 */
#ifndef BRIDGED_MIGRATE_PLAN_H
#define BRIDGED_MIGRATE_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PLAN_MIB		(1024ull * 1024)
#define PLAN_ALIGN		PLAN_MIB
#define PLAN_DEFAULT_ALLOC	(4 * PLAN_MIB)	/* LVM's default extent */

enum plan_action {
	PLAN_COPY,
	PLAN_MKSWAP,
	PLAN_ACTION_MAX
};

extern const char *const plan_action_names[PLAN_ACTION_MAX];

/* One source volume (one Xen disk entry). */
struct plan_src {
	const char *path;
	const char *vdev;
	uint64_t size;		/* bytes */
	bool swap;		/* recreate, don't copy */
	char uuid[37];		/* swap UUID ("" when unknown) */
	char label[17];		/* swap label */
};

struct plan_opts {
	unsigned sector_size;	/* 512 or 4096 */
	uint64_t alloc_unit;	/* volume size granularity, bytes */
	const char *root_vdev;	/* the vdev holding / (boot flag), or NULL */
};

struct plan_part {
	int number;		/* on the new disk */
	char vdev[16];		/* the old vdev, e.g. "sda1" */
	const char *source;	/* the old volume's path (borrowed from plan_src) */
	uint64_t start, size;	/* bytes */
	enum plan_action action;
	bool logical, boot;
	char uuid[37], label[17];
};

struct plan_disk {
	char *name;		/* volume name: VM-DISK */
	char vdev[16];		/* "sda", "xvda", "hda" */
	uint64_t size;		/* volume bytes */
	unsigned sector_size;
	bool whole;		/* a whole-disk source: copied as it is */
	const char *source;	/* whole: the source */
	uint64_t source_size;	/* whole: the source's size */
	enum plan_action action;	/* whole: copy or mkswap */
	char uuid[37], label[17];	/* whole swap */
	struct plan_part *parts;
	size_t n_parts;
	bool extended;
	int ext_number;
	uint64_t ext_start, ext_size;
};

struct plan {
	struct plan_disk *disks;
	size_t n_disks;
	char **warnings;
	size_t n_warnings;
	uint64_t alloc_unit;	/* the volume size granularity it was built with */
	char **strings;		/* what a loaded plan owns (the sources' paths) */
	size_t n_strings;
};

/* Builds the plan. -EINVAL with err set when the sources cannot be laid out. */
int plan_build(const char *vm_name, const struct plan_src *src, size_t n, const struct plan_opts *opts,
	       struct plan **ret, char *err, size_t errlen);
void plan_free(struct plan *plan);
/* Appends a warning to the plan. */
int plan_warn(struct plan *plan, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct json_object;
struct json_object *plan_to_json(const struct plan *plan);
/*
 * A plan as plan_to_json() wrote it (`bridgectl migrate plan --json`):
 * disks, partitions, numbers, sizes, sources. -EINVAL with err set (the
 * JSON path of what is wrong) when text is not such a plan.
 */
int plan_from_json(const char *text, struct plan **ret, char *err, size_t errlen);
void plan_print(FILE *f, const struct plan *plan);
/* Shell commands doing the plan by hand on an LVM volume group vg. */
void plan_print_commands(FILE *f, const struct plan *plan, const char *vg);
/* Writes s as one POSIX sh word: as it is when it has only safe characters, else in '...' ('\''). */
void plan_sh_quote(FILE *f, const char *s);
/*
 * The output of `vgs --noheadings --units b --nosuffix -o vg_extent_size VG`:
 * 0 with *ret the extent size in bytes, -EINVAL unless one positive multiple of 512.
 */
int plan_parse_extent_size(const char *out, uint64_t *ret);

static inline uint64_t plan_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

#endif
