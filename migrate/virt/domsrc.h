/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The old host's domains through libvirt (MigrateSource = libvirt:URI):
 * state, shutdown, destroy, start, the autostart flag. libvirt is loaded when
 * first needed (dlopen of libvirt.so.0), so that the daemon, which serves
 * this, does not link libvirt: a host whose source is xl or xm needs no
 * libvirt at all.
 */
#ifndef BRIDGED_MIGRATE_VIRT_DOMSRC_H
#define BRIDGED_MIGRATE_VIRT_DOMSRC_H

#include <stdbool.h>
#include <stddef.h>

struct virt_src;

enum virt_src_state {
	VIRT_SRC_UNKNOWN,	/* VIR_DOMAIN_NOSTATE, or not asked */
	VIRT_SRC_ACTIVE,	/* running, blocked, paused, being shut down, crashed, suspended */
	VIRT_SRC_INACTIVE,	/* shut off, or not defined at all */
};

struct virt_src_info {
	enum virt_src_state state;
	int id;			/* -1 when inactive */
	char detail[32];	/* "running", "paused", "shutting down", "crashed", "shut off", ... */
	bool guest_down;	/* active but crashed: only the shell remains */
	bool defined;		/* persistent (has a definition to autostart) */
};

/* Connects to uri (libvirt loaded on first use). -ENOSYS when libvirt
 * cannot be loaded, -ECONNREFUSED when the connection fails; err says why. */
int virt_src_open(const char *uri, struct virt_src **ret, char *err, size_t errlen);
void virt_src_close(struct virt_src *s);

/* The domain called name; not known to libvirt at all is INACTIVE with
 * defined false. -errno (err says why) when libvirt failed. */
int virt_src_state(struct virt_src *s, const char *name, struct virt_src_info *ret, char *err,
		   size_t errlen);
/* virDomainShutdown, virDomainDestroy: -ENOENT for no such domain. */
int virt_src_shutdown(struct virt_src *s, const char *name, char *err, size_t errlen);
int virt_src_destroy(struct virt_src *s, const char *name, char *err, size_t errlen);
/* virDomainCreate: starts a defined domain that is shut off; -ENOENT for
 * no such domain (a transient one that is gone is no longer defined). */
int virt_src_start(struct virt_src *s, const char *name, char *err, size_t errlen);
/* The autostart flag of a defined domain: 1 on, 0 off, -ENOENT when the
 * domain is not defined. */
int virt_src_autostart_get(struct virt_src *s, const char *name, char *err, size_t errlen);
int virt_src_autostart_set(struct virt_src *s, const char *name, bool on, char *err, size_t errlen);

#endif
