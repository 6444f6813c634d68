/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bridgectl migrate create`: makes each planned disk real: the volume
 * (libvirt pool, or a given --target file or device), the partition table
 * (libparted, read back and compared) and the recreated swap areas. Every
 * step is idempotent: what exists and matches is reused, what exists and
 * differs is refused with the differences. Sources are never opened for
 * writing, and a destination that is a source is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bridged/cli/migrate_args.h"
#include "bridged/cli/migrate_cli.h"
#include "common/escape.h"
#include "migrate/migrate.h"

static const char create_help[] =
"Usage: bridgectl migrate create [OPTIONS] XENCFG|VM\n"
"\n"
"Creates the new disks of a Xen VM as 'bridgectl migrate plan' shows them:\n"
"  1. the volume VM-DISK (e.g. fileserver-sda) in the libvirt storage pool\n"
"     --pool (virStorageVolCreateXML; an LVM volume group as a 'logical'\n"
"     pool in production, a 'dir' pool of raw files in tests), or the file\n"
"     or block device given with --target;\n"
"  2. its msdos partition table with libparted: the planned sectors exactly,\n"
"     cylinder alignment off, the boot flag on the root partition, types\n"
"     Linux and Linux swap; the table is read back and compared with the\n"
"     plan, and any difference is an error;\n"
"  3. every swap partition, recreated at its offset with the source's UUID\n"
"     and label (so UUID= in fstab and resume= still match).\n"
"Data partitions are not copied here (that is the stream step).\n"
"\n"
"Idempotent: a volume, table or swap area that already matches the plan is\n"
"reused; one that differs is refused, listing the differences, and nothing\n"
"is changed. Sources are only read. On hosts without udevd,\n"
"DM_DISABLE_UDEV=1 is set for libparted's device-mapper calls.\n"
"\n"
"Options:\n"
"  --connect URI        libvirt connection (default qemu:///system)\n"
"  --target [DISK=]PATH use this file or block device for DISK (sda, xvda;\n"
"                       may be left out when the VM has one disk) instead\n"
"                       of a pool volume; a missing file is created sparse;\n"
"                       an existing one must hold at least the planned size\n"
"  --json               report as JSON\n"
MIGRATE_SHARED_HELP
"  -h, --help           this text\n"
"\n"
"Exit status: 0 when every disk matches the plan, 1 on error, 2 on a usage\n"
"error.\n";

/* Refuses a destination that is one of the sources (same inode or device). */
static int not_a_source(const char *dest, const struct plan_src *src, size_t n)
{
	struct stat d, s;

	if (stat(dest, &d) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (stat(src[i].path, &s) < 0)
			continue;
		if ((S_ISBLK(d.st_mode) && S_ISBLK(s.st_mode) && d.st_rdev == s.st_rdev) ||
		    (d.st_dev == s.st_dev && d.st_ino == s.st_ino)) {
			fprintf(stderr, "bridgectl migrate: destination %s is the source %s: refusing\n", dest,
				src[i].path);
			return -EPERM;
		}
	}
	return 0;
}

static const char *find_target(const struct migrate_args *a, const struct plan *plan, const struct plan_disk *d)
{
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct path_value *t = &a->targets[i];

		if (t->path && (!strcmp(t->path, d->vdev) || !strcmp(t->path, d->name)))
			return t->value;
		if (!t->path && plan->n_disks == 1)
			return t->value;
	}
	return NULL;
}

/* A --target: an existing file or device of at least size bytes, or a new sparse file. */
static int target_prepare(const char *path, uint64_t size, bool *ret_created, char *err, size_t errlen)
{
	struct stat st;
	uint64_t have;
	int fd;

	*ret_created = false;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			goto fail;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			goto fail;
		if (ftruncate(fd, (off_t)size) < 0) {
			close(fd);
			goto fail;
		}
		close(fd);
		*ret_created = true;
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		have = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		struct probe_info pi;
		char e[256];

		if (probe_path(path, &pi, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "%s", e);
			return -EIO;
		}
		have = pi.size;
	} else {
		snprintf(err, errlen, "%s is neither a file nor a block device", path);
		return -EINVAL;
	}
	if (have < size) {
		snprintf(err, errlen, "%s holds %llu bytes, the plan needs %llu (refusing)", path,
			 (unsigned long long)have, (unsigned long long)size);
		return -EEXIST;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -errno;
}

/* Recreates one swap area unless the same one is already there. */
static int swap_ensure(const char *path, uint64_t off, uint64_t size, const char *uuid, const char *label,
		       struct json_object *rep, char *err, size_t errlen)
{
	struct probe_info pi;
	char written[37];
	int fd, r;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	r = probe_fd(fd, off, size, &pi);
	if (r == 0 && !strcmp(pi.type, "swap") && *uuid && !strcmp(pi.uuid, uuid) && !strcmp(pi.label, label)) {
		json_object_object_add(rep, "swap", json_object_new_string("reused"));
		json_object_object_add(rep, "swap_uuid", json_object_new_string(pi.uuid));
		close(fd);
		return 0;
	}
	r = swap_write(fd, off, size, uuid, label, written, err, errlen);
	if (r == 0) {
		r = probe_fd(fd, off, size, &pi);
		if (r < 0 || strcmp(pi.type, "swap") || strcmp(pi.uuid, written)) {
			snprintf(err, errlen, "%s: swap at byte %llu does not read back (type '%s', uuid '%s')",
				 path, (unsigned long long)off, STR_ESCAPED(pi.type),
				 STR_ESCAPED(pi.uuid));
			r = -EIO;
		}
	}
	close(fd);
	if (r == 0) {
		json_object_object_add(rep, "swap", json_object_new_string("created"));
		json_object_object_add(rep, "swap_uuid", json_object_new_string(written));
	}
	return r;
}

static int create_disk(const struct migrate_args *a, const struct plan *plan, const struct plan_disk *d,
		       const struct plan_src *src, size_t n_src, struct json_object *rep)
{
	const char *target = find_target(a, plan, d);
	char *path = NULL, err[2048];
	bool created = false;
	unsigned ss;
	int r;

	err[0] = '\0';
	if (target) {
		r = not_a_source(target, src, n_src);
		if (r < 0)
			return r;
		r = target_prepare(target, d->size, &created, err, sizeof(err));
		path = r == 0 ? strdup(target) : NULL;
		if (r == 0 && !path)
			r = -ENOMEM;
	} else if (a->n_targets) {
		snprintf(err, sizeof(err), "no --target for disk %s", d->vdev);
		r = -EINVAL;
	} else {
		r = volume_ensure(a->uri, a->pool, d->name, d->size, &path, &created, err, sizeof(err));
		if (r == 0)
			r = not_a_source(path, src, n_src);
	}
	if (r < 0)
		goto fail;
	json_object_object_add(rep, "name", json_object_new_string(d->name));
	json_object_object_add(rep, "path", json_object_new_string(path));
	json_object_object_add(rep, "size_bytes", json_object_new_int64((int64_t)d->size));
	json_object_object_add(rep, "volume", json_object_new_string(created ? "created" : "reused"));
	if (probe_sector_size(path, &ss) == 0 && ss != d->sector_size) {
		snprintf(err, sizeof(err), "%s has %u-byte sectors, the plan %u-byte ones (use --sector-size %u)",
			 path, ss, d->sector_size, ss);
		r = -EINVAL;
		goto fail;
	}
	if (d->whole) {
		if (d->action == PLAN_MKSWAP)
			r = swap_ensure(path, 0, d->size, d->uuid, d->label, rep, err, sizeof(err));
		if (r < 0)
			goto fail;
		free(path);
		return 0;
	}
	r = partition_check(path, d, err, sizeof(err));
	if (r == 1) {
		/* No table: refuse a volume that holds something else. */
		struct probe_info pi;
		char e[256];

		if (probe_path(path, &pi, e, sizeof(e)) == 0 && pi.type[0]) {
			snprintf(err, sizeof(err), "%s holds a %s signature, not a partition table: refusing", path,
				 pi.type);
			r = -EEXIST;
			goto fail;
		}
		r = partition_create(path, d, err, sizeof(err));
		if (r < 0)
			goto fail;
		json_object_object_add(rep, "partitions", json_object_new_string("created"));
	} else if (r == 0) {
		json_object_object_add(rep, "partitions", json_object_new_string("reused"));
	} else {
		if (r == -EEXIST) {
			char tmp[2048];

			snprintf(tmp, sizeof(tmp), "%s has a partition table that differs from the plan "
				 "(refusing to touch it):\n%s", path, err);
			memcpy(err, tmp, sizeof(err));
		}
		goto fail;
	}
	{
		struct json_object *swaps = json_object_new_array();

		json_object_object_add(rep, "swaps", swaps);
		for (size_t i = 0; i < d->n_parts; i++) {
			const struct plan_part *pt = &d->parts[i];
			struct json_object *s;

			if (pt->action != PLAN_MKSWAP)
				continue;
			s = json_object_new_object();
			json_object_array_add(swaps, s);
			json_object_object_add(s, "number", json_object_new_int(pt->number));
			r = swap_ensure(path, pt->start, pt->size, pt->uuid, pt->label, s, err, sizeof(err));
			if (r < 0)
				goto fail;
		}
	}
	free(path);
	return 0;
fail:
	fprintf(stderr, "bridgectl migrate: disk %s: %s\n", d->name, err);
	free(path);
	return r < 0 ? r : -EIO;
}

int migrate_cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ "target", required_argument, NULL, OPT_TARGET },
		MIGRATE_SHARED_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct migrate_args a = { .pool = getenv("BRIDGED_POOL"), .uri = "qemu:///system" };
	struct json_object *rep = NULL, *disks;
	struct plan_src *src = NULL;
	struct plan *plan = NULL;
	struct xen_vm *vm = NULL;
	size_t n = 0;
	int c, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int t = migrate_args_option(&a, c, optarg);

		if (t < 0)
			goto out;
		if (t > 0)
			continue;
		if (c == 'h') {
			fputs(create_help, stdout);
			rc = 0;
		} else {
			fputs(create_help, stderr);
		}
		goto out;
	}
	if (optind + 1 != argc) {
		fputs(create_help, stderr);
		goto out;
	}
	a.vm = argv[optind];
	if (!a.pool)
		a.pool = "default";
	/* No udevd: libdevmapper (inside libparted) must not wait for it. */
	if (access("/run/udev/control", F_OK) < 0)
		setenv("DM_DISABLE_UDEV", "1", 0);
	/* The destination's sector size, when it is a device given here. */
	if (!a.sector_size && a.n_targets) {
		unsigned ss;

		if (probe_sector_size(a.targets[0].value, &ss) == 0)
			a.sector_size = ss;
	}
	rc = 1;
	if (migrate_args_plan(&a, &vm, &src, &n, &plan) < 0)
		goto out;
	rep = json_object_new_object();
	json_object_object_add(rep, "vm", json_object_new_string(vm->name));
	disks = json_object_new_array();
	json_object_object_add(rep, "disks", disks);
	for (size_t i = 0; i < plan->n_disks; i++) {
		struct json_object *d = json_object_new_object();

		json_object_array_add(disks, d);
		if (create_disk(&a, plan, &plan->disks[i], src, n, d) < 0)
			goto out;
		if (!a.json)
			printf("disk %s: %s, volume %s, partitions %s\n", plan->disks[i].name,
			       json_object_get_string(json_object_object_get(d, "path")),
			       json_object_get_string(json_object_object_get(d, "volume")),
			       plan->disks[i].whole ? "none (whole disk)"
						    : json_object_get_string(json_object_object_get(d, "partitions")));
	}
	if (a.json)
		puts(json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	for (size_t i = 0; i < plan->n_warnings; i++)
		fprintf(stderr, "warning: %s\n", plan->warnings[i]);
	rc = 0;
out:
	json_object_put(rep);
	plan_free(plan);
	migrate_src_free(src, n);
	xen_vm_free(vm);
	migrate_args_free(&a);
	return rc;
}
