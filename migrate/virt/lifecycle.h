/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A domain's life on this host, for the cutover: is it there, start it,
 * stop it (gracefully, then by force), undefine it, its autostart flag,
 * and the room left in a storage pool. Every function names the domain
 * or pool in err.
 */
#ifndef BRIDGED_MIGRATE_VIRT_LIFECYCLE_H
#define BRIDGED_MIGRATE_VIRT_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct virt_conn;

struct virt_domain_info {
	bool exists;		/* a domain of that name is defined (or transient) here */
	bool active;		/* it runs */
	bool persistent;
	bool autostart;
	char uuid[37];
};

/* 0 with ret filled (exists false when there is none); -errno on a libvirt failure. */
int virt_domain_info(struct virt_conn *c, const char *name, struct virt_domain_info *ret, char *err,
		     size_t errlen);
/* Starts a defined domain; one that runs already is left alone (0). */
int virt_domain_start(struct virt_conn *c, const char *name, char *err, size_t errlen);
/*
 * Stops it: an ACPI shutdown, the state polled every 250 ms for
 * timeout_s, then destroyed when force (else -ETIMEDOUT). A domain that
 * does not run: 0. *ret_destroyed tells whether it had to be destroyed.
 */
int virt_domain_stop(struct virt_conn *c, const char *name, int timeout_s, bool force, bool *ret_destroyed,
		     char *err, size_t errlen);
/* Undefines a domain that does not run (its kernel/initrd files and volumes stay); none there: 0. */
int virt_domain_undefine(struct virt_conn *c, const char *name, char *err, size_t errlen);
int virt_domain_set_autostart(struct virt_conn *c, const char *name, bool on, char *err, size_t errlen);
/* The bytes still free in pool (virStoragePoolGetInfo's available), refreshed first. */
int virt_pool_available(struct virt_conn *c, const char *pool, uint64_t *ret, char *err, size_t errlen);
/* Whether volume name exists in pool (1/0), -errno when the pool cannot be read. */
int virt_volume_exists(struct virt_conn *c, const char *pool, const char *name, char *err, size_t errlen);
/* Deletes volume name of pool; none there: 0. */
int virt_volume_delete(struct virt_conn *c, const char *pool, const char *name, char *err, size_t errlen);

#endif
