/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The options `migrate plan` and `migrate create` share, and the step that
 * turns them into a parsed VM, probed sources and a plan.
 */
#ifndef BRIDGED_MIGRATE_ARGS_H
#define BRIDGED_MIGRATE_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "migrate/migrate.h"

struct path_value {
	char *path;
	char *value;
};

struct migrate_args {
	const char *vm;			/* XENCFG or VM name */
	const char *xen_dir;		/* where VM names are looked up */
	bool json, commands;
	struct path_value *sizes;	/* --size PATH=BYTES */
	size_t n_sizes;
	char **swaps;			/* --swap PATH */
	size_t n_swaps;
	unsigned sector_size;		/* 0: default (512, or the destination's) */
	uint64_t alloc_unit;
	const char *pool, *uri;
	struct path_value *targets;	/* --target [VDEV=]PATH */
	size_t n_targets;
	bool dry_run;
	bool sizes_optional;		/* a source that cannot be sized gets 1 MiB: only the layout is used */
	const char *sources;		/* --sources FILE: the old host's list of the disks; nothing probed here */
};

/* Handles one shared option (getopt_long value c, argument arg): 1 when taken, 0 when not, -1 on error. */
int migrate_args_option(struct migrate_args *a, int c, const char *arg);
void migrate_args_free(struct migrate_args *a);

/* The config file a->vm names: XENCFG as given, else DIR/VM.cfg, else DIR/VM (--xen-dir, /etc/xen); malloc'd. */
char *migrate_args_config(const struct migrate_args *a);
/* Loads the VM, probes its sources and builds the plan; prints errors. */
int migrate_args_plan(const struct migrate_args *a, struct xen_vm **ret_vm, struct plan_src **ret_src,
		      size_t *ret_n, struct plan **ret_plan);
void migrate_src_free(struct plan_src *src, size_t n);

/* Option values for getopt_long (beyond ASCII). */
enum {
	OPT_JSON = 256, OPT_COMMANDS, OPT_SIZE, OPT_SWAP, OPT_SECTOR, OPT_ALLOC, OPT_POOL, OPT_CONNECT,
	OPT_TARGET, OPT_XENDIR, OPT_DRYRUN, OPT_SOURCES,
};

#define MIGRATE_SHARED_OPTIONS \
	{ "size", required_argument, NULL, OPT_SIZE }, \
	{ "swap", required_argument, NULL, OPT_SWAP }, \
	{ "sector-size", required_argument, NULL, OPT_SECTOR }, \
	{ "alloc-unit", required_argument, NULL, OPT_ALLOC }, \
	{ "pool", required_argument, NULL, OPT_POOL }, \
	{ "xen-dir", required_argument, NULL, OPT_XENDIR }, \
	{ "sources", required_argument, NULL, OPT_SOURCES }

#define MIGRATE_SHARED_HELP \
"  --size PATH=BYTES    size of a source volume, when it cannot be read here\n" \
"                       (repeatable); otherwise BLKGETSIZE64 or stat\n" \
"  --swap PATH          treat this source as swap even without a signature\n" \
"                       (repeatable); swap is otherwise detected with libblkid\n" \
"  --sector-size N      512 (default) or 4096: the destination's logical\n" \
"                       sector size (create reads it from the device)\n" \
"  --alloc-unit BYTES   volume size granularity; for a 'logical' pool (and\n" \
"                       the --pool VG of --commands) the VG's extent size,\n" \
"                       read with vgs, which this must then equal; else\n" \
"                       default 4194304 (LVM's default extent)\n" \
"  --pool NAME          libvirt storage pool (an LVM VG for --commands);\n" \
"                       default: $BRIDGED_POOL, else 'default'\n" \
"  --xen-dir DIR        where a VM name is looked up as DIR/VM.cfg or DIR/VM\n" \
"                       (default /etc/xen)\n" \
"  --sources FILE       the disks as the old host's daemon lists them\n" \
"                       (migrate receive --from ... --list): sizes and swap\n" \
"                       UUIDs/labels from there; the sources are not opened here\n"

#endif
