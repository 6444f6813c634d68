/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Source and destination probing with libblkid; see probe.h. Never writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include <blkid/blkid.h>

#include "migrate/disk/probe.h"

static int fd_size(int fd, uint64_t *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, ret) < 0 ? -errno : 0;
	if (S_ISREG(st.st_mode)) {
		*ret = (uint64_t)st.st_size;
		return 0;
	}
	return -ENOTBLK;
}

int probe_fd(int fd, uint64_t offset, uint64_t size, struct probe_info *ret)
{
	blkid_probe pr = blkid_new_probe();
	const char *v;
	size_t len;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)offset, (blkid_loff_t)size) < 0) {
		blkid_free_probe(pr);
		return -EIO;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL);
	blkid_probe_enable_partitions(pr, 1);
	r = blkid_do_safeprobe(pr);
	if (r < 0 && r != -2) {
		blkid_free_probe(pr);
		return -EIO;
	}
	if (r == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &v, &len) == 0)
			snprintf(ret->type, sizeof(ret->type), "%s", v);
		else if (blkid_probe_lookup_value(pr, "PTTYPE", &v, &len) == 0)
			snprintf(ret->type, sizeof(ret->type), "pt:%s", v);
		if (blkid_probe_lookup_value(pr, "UUID", &v, &len) == 0)
			snprintf(ret->uuid, sizeof(ret->uuid), "%s", v);
		if (blkid_probe_lookup_value(pr, "LABEL", &v, &len) == 0)
			snprintf(ret->label, sizeof(ret->label), "%s", v);
	}
	ret->size = size;
	blkid_free_probe(pr);
	return 0;
}

int probe_path(const char *path, struct probe_info *ret, char *err, size_t errlen)
{
	uint64_t size;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	r = fd_size(fd, &size);
	if (r == 0)
		r = probe_fd(fd, 0, size, ret);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	close(fd);
	return r;
}

int probe_sector_size(const char *path, unsigned *ret)
{
	struct stat st;
	int fd, ss, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKSSZGET, &ss) < 0)
			r = -errno;
		else
			*ret = (unsigned)ss;
	} else {
		*ret = 512;
	}
	close(fd);
	return r;
}

int probe_partitions(const char *path, struct probe_part **ret, size_t *ret_n, char *err, size_t errlen)
{
	struct probe_part *parts = NULL;
	blkid_partlist pl;
	blkid_probe pr;
	size_t n = 0;
	int r = 0, np;

	pr = blkid_new_probe_from_filename(path);
	if (!pr) {
		r = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	pl = blkid_probe_get_partitions(pr);
	np = pl ? blkid_partlist_numof_partitions(pl) : 0;
	if (np > 0) {
		parts = calloc((size_t)np, sizeof(*parts));
		if (!parts) {
			blkid_free_probe(pr);
			return -ENOMEM;
		}
	}
	for (int i = 0; i < np; i++) {
		blkid_partition p = blkid_partlist_get_partition(pl, i);

		if (!p || blkid_partition_is_extended(p))
			continue;
		parts[n].number = blkid_partition_get_partno(p);
		/* libblkid counts in 512-byte sectors whatever the device's sector size */
		parts[n].start = (uint64_t)blkid_partition_get_start(p) * 512;
		parts[n].size = (uint64_t)blkid_partition_get_size(p) * 512;
		n++;
	}
	blkid_free_probe(pr);
	*ret = parts;
	*ret_n = n;
	return 0;
}
