/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libparted: the planned msdos table, written with exact constraints and
 * read back. libparted adds the partitions to the kernel itself (BLKPG on
 * loop and disk devices, device-mapper maps on an LV); that is also how
 * partitions appear on kernels without partition scanning.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <parted/parted.h>

#include "migrate/disk/partition.h"

/*
 * libparted's exception handler takes no user data, so the last message
 * lives here; bridgectl is single-threaded.
 */
static char ped_last_error[512];

static PedExceptionOption ped_handler(PedException *ex)
{
	if (ex->type == PED_EXCEPTION_INFORMATION || ex->type == PED_EXCEPTION_WARNING) {
		/* alignment hints and the like: the plan is exact on purpose */
		if (ex->options & PED_EXCEPTION_IGNORE)
			return PED_EXCEPTION_IGNORE;
		if (ex->options & PED_EXCEPTION_OK)
			return PED_EXCEPTION_OK;
	}
	snprintf(ped_last_error, sizeof(ped_last_error), "%s", ex->message);
	return PED_EXCEPTION_CANCEL;
}

static void appendf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t l = strlen(buf);
	va_list ap;

	if (l >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + l, len - l, fmt, ap);
	va_end(ap);
}

struct want {
	int number;
	PedPartitionType type;
	long long start, end;	/* sectors */
	bool boot, swap;
};

static size_t wanted(const struct plan_disk *d, struct want *w, size_t max)
{
	size_t n = 0;
	unsigned s = d->sector_size;

	for (size_t i = 0; i < d->n_parts && n + 1 < max; i++) {
		const struct plan_part *pt = &d->parts[i];

		if (pt->logical && (i == 0 || !d->parts[i - 1].logical))
			w[n++] = (struct want){
				.number = d->ext_number, .type = PED_PARTITION_EXTENDED,
				.start = (long long)(d->ext_start / s),
				.end = (long long)((d->ext_start + d->ext_size) / s - 1),
			};
		w[n++] = (struct want){
			.number = pt->number, .type = pt->logical ? PED_PARTITION_LOGICAL : PED_PARTITION_NORMAL,
			.start = (long long)(pt->start / s), .end = (long long)((pt->start + pt->size) / s - 1),
			.boot = pt->boot, .swap = pt->action == PLAN_MKSWAP,
		};
	}
	return n;
}

static const char *type_name(PedPartitionType t)
{
	return t & PED_PARTITION_EXTENDED ? "extended" : t & PED_PARTITION_LOGICAL ? "logical" : "primary";
}

static PedDevice *open_dev(const char *path, const struct plan_disk *d, char *err, size_t errlen)
{
	PedDevice *dev;

	ped_exception_set_handler(ped_handler);
	ped_last_error[0] = '\0';
	dev = ped_device_get(path);
	if (!dev) {
		snprintf(err, errlen, "%s: %s", path, *ped_last_error ? ped_last_error : "cannot open");
		return NULL;
	}
	if ((unsigned)dev->sector_size != d->sector_size) {
		snprintf(err, errlen, "%s has %lld-byte sectors, the plan %u-byte ones (use --sector-size)",
			 path, dev->sector_size, d->sector_size);
		ped_device_destroy(dev);
		return NULL;
	}
	if ((unsigned long long)dev->length * (unsigned long long)dev->sector_size < d->size) {
		snprintf(err, errlen, "%s holds %llu bytes, the plan needs %llu", path,
			 (unsigned long long)dev->length * (unsigned long long)dev->sector_size,
			 (unsigned long long)d->size);
		ped_device_destroy(dev);
		return NULL;
	}
	return dev;
}

int partition_check(const char *path, const struct plan_disk *d, char *diff, size_t difflen)
{
	struct want w[64];
	size_t n = wanted(d, w, 64), seen = 0;
	PedDiskType *type;
	PedPartition *p;
	PedDevice *dev;
	PedDisk *disk;
	int r = 0;

	diff[0] = '\0';
	dev = open_dev(path, d, diff, difflen);
	if (!dev)
		return -EINVAL;
	type = ped_disk_probe(dev);
	/* libparted's "loop" label is a whole-device file system: no table */
	if (!type || !strcmp(type->name, "loop")) {
		ped_device_destroy(dev);
		return 1;
	}
	if (strcmp(type->name, "msdos")) {
		snprintf(diff, difflen, "partition table: %s, planned msdos\n", type->name);
		ped_device_destroy(dev);
		return -EEXIST;
	}
	disk = ped_disk_new(dev);
	if (!disk) {
		snprintf(diff, difflen, "%s: cannot read the partition table: %s", path, ped_last_error);
		ped_device_destroy(dev);
		return -EIO;
	}
	for (p = ped_disk_next_partition(disk, NULL); p; p = ped_disk_next_partition(disk, p)) {
		const struct want *x = NULL;
		bool boot, swap = false;

		if (p->num < 1 || (p->type & (PED_PARTITION_METADATA | PED_PARTITION_FREESPACE)))
			continue;
		seen++;
		for (size_t i = 0; i < n; i++)
			if (w[i].number == p->num)
				x = &w[i];
		if (!x) {
			appendf(diff, difflen, "partition %d (%s, sectors %lld-%lld) is not in the plan\n", p->num,
				type_name(p->type), (long long)p->geom.start, (long long)p->geom.end);
			continue;
		}
		if ((p->type & (PED_PARTITION_EXTENDED | PED_PARTITION_LOGICAL)) !=
		    (x->type & (PED_PARTITION_EXTENDED | PED_PARTITION_LOGICAL)))
			appendf(diff, difflen, "partition %d: %s, planned %s\n", p->num, type_name(p->type),
				type_name(x->type));
		if (p->geom.start != x->start || p->geom.end != x->end)
			appendf(diff, difflen, "partition %d: sectors %lld-%lld, planned %lld-%lld\n", p->num,
				(long long)p->geom.start, (long long)p->geom.end, x->start, x->end);
		if (x->type == PED_PARTITION_EXTENDED)
			continue;
		boot = ped_partition_is_flag_available(p, PED_PARTITION_BOOT) &&
		       ped_partition_get_flag(p, PED_PARTITION_BOOT);
		if (boot != x->boot)
			appendf(diff, difflen, "partition %d: boot flag %s, planned %s\n", p->num,
				boot ? "on" : "off", x->boot ? "on" : "off");
		if (ped_partition_is_flag_available(p, PED_PARTITION_SWAP)) {
			swap = ped_partition_get_flag(p, PED_PARTITION_SWAP);
			if (swap != x->swap)
				appendf(diff, difflen, "partition %d: type %s, planned %s\n", p->num,
					swap ? "Linux swap" : "not swap", x->swap ? "Linux swap" : "Linux");
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!ped_disk_get_partition(disk, w[i].number))
			appendf(diff, difflen, "partition %d (%s, sectors %lld-%lld) is missing\n", w[i].number,
				type_name(w[i].type), w[i].start, w[i].end);
	(void)seen;
	if (diff[0])
		r = -EEXIST;
	ped_disk_destroy(disk);
	ped_device_destroy(dev);
	return r;
}

static PedPartition *add_part(PedDisk *disk, const struct want *w, char *err, size_t errlen)
{
	const PedFileSystemType *fs = NULL;
	PedConstraint *c;
	PedPartition *p;
	int ok;

	if (w->type != PED_PARTITION_EXTENDED)
		fs = ped_file_system_type_get(w->swap ? "linux-swap(v1)" : "ext2");
	p = ped_partition_new(disk, w->type, fs, w->start, w->end);
	if (!p) {
		snprintf(err, errlen, "partition %d: %s", w->number, ped_last_error);
		return NULL;
	}
	/* msdos keeps a primary's number when it is set before adding */
	if (w->type != PED_PARTITION_LOGICAL)
		p->num = w->number;
	c = ped_constraint_exact(&p->geom);
	ok = c && ped_disk_add_partition(disk, p, c);
	ped_constraint_destroy(c);
	if (!ok) {
		snprintf(err, errlen, "partition %d (sectors %lld-%lld): %s", w->number, w->start, w->end,
			 ped_last_error);
		ped_partition_destroy(p);
		return NULL;
	}
	if (p->num != w->number) {
		snprintf(err, errlen, "partition planned as %d got number %d", w->number, p->num);
		return NULL;
	}
	if (w->boot && !ped_partition_set_flag(p, PED_PARTITION_BOOT, 1)) {
		snprintf(err, errlen, "partition %d: cannot set the boot flag: %s", w->number, ped_last_error);
		return NULL;
	}
	return p;
}

int partition_create(const char *path, const struct plan_disk *d, char *err, size_t errlen)
{
	struct want w[64];
	size_t n = wanted(d, w, 64);
	PedDevice *dev;
	PedDisk *disk;
	char diff[1024];
	int r;

	dev = open_dev(path, d, err, errlen);
	if (!dev)
		return -EINVAL;
	disk = ped_disk_new_fresh(dev, ped_disk_type_get("msdos"));
	if (!disk) {
		snprintf(err, errlen, "%s: cannot make an msdos label: %s", path, ped_last_error);
		ped_device_destroy(dev);
		return -EIO;
	}
	ped_disk_set_flag(disk, PED_DISK_CYLINDER_ALIGNMENT, 0);
	for (size_t i = 0; i < n; i++)
		if (!add_part(disk, &w[i], err, errlen)) {
			ped_disk_destroy(disk);
			ped_device_destroy(dev);
			return -EIO;
		}
	/* commit_to_dev writes the table, commit_to_os tells the kernel (BLKPG / dm) */
	if (!ped_disk_commit(disk)) {
		snprintf(err, errlen, "%s: cannot write the partition table: %s", path, ped_last_error);
		ped_disk_destroy(disk);
		ped_device_destroy(dev);
		return -EIO;
	}
	ped_disk_destroy(disk);
	ped_device_destroy(dev);
	r = partition_check(path, d, diff, sizeof(diff));
	if (r != 0) {
		snprintf(err, errlen, "%s: the table read back differs from the plan:\n%s", path, diff);
		return -EIO;
	}
	return 0;
}
