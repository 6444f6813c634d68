/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A Xen domain as the migration sees it: the mapped settings of an xl or xm
 * config, its disks and vifs, and every warning about what does not carry
 * over. xen_vm_parse() does no I/O; xen_vm_load() reads a file for it.
 */
#ifndef BRIDGED_MIGRATE_XENCFG_H
#define BRIDGED_MIGRATE_XENCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "migrate/xen/xenval.h"

enum xen_access {
	XEN_ACCESS_R,
	XEN_ACCESS_RW,
	XEN_ACCESS_MAX
};

enum xen_devtype {
	XEN_DEVTYPE_DISK,
	XEN_DEVTYPE_CDROM,
	XEN_DEVTYPE_MAX
};

extern const char *const xen_access_names[XEN_ACCESS_MAX];
extern const char *const xen_devtype_names[XEN_DEVTYPE_MAX];

struct xen_disk {
	char *target;		/* absolute path; NULL for an empty cdrom */
	char *vdev;		/* "sda1", "xvda", "hdc" */
	enum xen_access access;
	enum xen_devtype devtype;
	char *format;		/* "raw", "qcow2", "vhd", "qcow" */
	char *backendtype;	/* "phy", "tap", "qdisk" or NULL */
	char *script;		/* block script or NULL */
	int line, col;		/* the spec string */
};

struct xen_vif {
	char *mac;		/* lower case, or NULL: Xen picks one per boot */
	char *bridge, *model, *vifname, *ip, *script, *rate, *type;
	int line, col;
};

struct xen_vm {
	char *name, *uuid;
	long long memory_mib, maxmem_mib;	/* -1: absent */
	long long vcpus, maxvcpus;		/* -1: absent */
	char *type;		/* "pv", "hvm", "pvh" */
	char *kernel, *ramdisk, *root, *extra, *cmdline;
	char *bootloader, *bootloader_args;
	char *on_poweroff, *on_reboot, *on_crash;
	struct xen_disk *disks;
	size_t n_disks;
	struct xen_vif *vifs;
	size_t n_vifs;
	char **warnings;
	size_t n_warnings;
	struct xvars vars;	/* every setting, mapped or not */
	char **unmapped;	/* names of the settings not mapped above */
	size_t n_unmapped;
};

/* Parses buf; on -EINVAL, err holds line, col and message. */
int xen_vm_parse(const char *buf, size_t len, struct xen_vm **ret, struct xen_error *err);
/* Reads and parses path; on error err->msg is set (line 0 for I/O errors). */
int xen_vm_load(const char *path, struct xen_vm **ret, struct xen_error *err);
void xen_vm_free(struct xen_vm *vm);

/* Parses one disk or vif spec (exposed for tests). */
int xen_disk_parse(const char *spec, struct xen_disk *ret, char ***warnings, size_t *n_warnings,
		   char *err, size_t errlen);
int xen_vif_parse(const char *spec, struct xen_vif *ret, char ***warnings, size_t *n_warnings,
		  char *err, size_t errlen);
void xen_disk_clear(struct xen_disk *d);
void xen_vif_clear(struct xen_vif *v);

/* The device a vdev names, without partition: "sda1" -> "sda". */
bool xen_vdev_split(const char *vdev, char *disk, size_t disklen, int *ret_part);

#endif
