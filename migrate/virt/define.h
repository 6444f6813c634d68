/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain on a libvirt host: what the host offers (domain
 * capabilities), where the plan's volumes are, and defining the domain
 * XML, validated by libvirt, without ever overwriting a different
 * definition unasked.
 */
#ifndef BRIDGED_MIGRATE_DEFINE_H
#define BRIDGED_MIGRATE_DEFINE_H

#include <stdbool.h>
#include <stddef.h>

#include "migrate/virt/domain.h"

/* An open libvirt connection (opaque: libvirt stays inside migrate/virt/). */
struct virt_conn;

int virt_conn_open(const char *uri, struct virt_conn **ret, char *err, size_t errlen);
void virt_conn_close(struct virt_conn *c);

struct domain_host {
	char type[16];			/* "kvm" or "qemu" */
	char arch[32];			/* "x86_64" */
	char machine[128];		/* the canonical name: "pc-i440fx-7.2" */
	bool bus[DOMAIN_BUS_MAX];	/* disk buses this machine has */
};

/*
 * The host's domain capabilities (virConnectGetDomainCapabilities) for
 * domain type type and machine machine. type NULL: "kvm" when libvirt
 * can use it, else "qemu" with a warning in warn ("" when none); machine
 * NULL: the emulator's default machine. -EINVAL when the type given is not
 * usable here, with libvirt's reason in err.
 */
int domain_host_caps(struct virt_conn *c, const char *type, const char *machine, struct domain_host *ret,
		     char *warn, size_t warnlen, char *err, size_t errlen);

/*
 * The volume name of storage pool pool: its path (*ret_path malloc'd) and
 * whether it is a block device (a logical pool's LV) or a file (a dir
 * pool). -ENOENT when the pool or the volume is not there (err says which
 * and what to do), -EINVAL for a pool that is not active or a volume that
 * is neither.
 */
int domain_volume_find(struct virt_conn *c, const char *pool, const char *name, char **ret_path, bool *ret_block,
		       char *err, size_t errlen);

enum domain_define_result {
	DOMAIN_DEFINED,		/* there was none: defined */
	DOMAIN_UNCHANGED,	/* the same definition is there: nothing done */
	DOMAIN_UPDATED,		/* stage 2 applied to the existing (stage 1) definition */
	DOMAIN_REPLACED,	/* a different definition overwritten (replace) */
	DOMAIN_DEFINE_RESULT_MAX
};

extern const char *const domain_define_result_names[DOMAIN_DEFINE_RESULT_MAX];

struct domain_define_report {
	enum domain_define_result result;
	bool active;		/* the domain is running: the change waits for a full stop and start */
	char uuid[37];		/* the defined domain's */
	char *diff;		/* malloc'd: how an existing definition differs ("-old\n+new\n") */
};

/*
 * Defines xml (the domain named name) with VIR_DOMAIN_DEFINE_VALIDATE,
 * unless a domain of that name exists: then both definitions are
 * normalised by libvirt (the existing one as libvirt keeps it, xml through
 * libvirt's in-process test driver, so nothing is defined to compare) and
 * compared in canonical form (domain_xml_canonical; the uuid only when
 * xml has one). Equal: nothing is done. Stage 2 over the stage 1 domain
 * (equal once its kernel, initrd and cmdline are gone): the existing
 * definition is updated as it is (domain_xml_stage2). Otherwise -EEXIST
 * with rep->diff, unless replace: then xml overwrites it (keeping its uuid
 * when xml has none; a domain with another uuid is undefined first, and
 * refused while it runs). dry_run: the same decisions and report, nothing
 * changed (run it first when something else must happen before the
 * definition, such as placing stage 1's kernel).
 */
int domain_define(struct virt_conn *c, const char *xml, const char *name, int stage, bool replace, bool dry_run,
		  struct domain_define_report *rep, char *err, size_t errlen);

/* Validates xml with libvirt's schema and parser, in process (the test driver): nothing is defined. */
int domain_validate(const char *xml, char *err, size_t errlen);

#endif
