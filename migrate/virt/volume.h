/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The destination volume in a libvirt storage pool (logical in production, dir in tests). */
#ifndef BRIDGED_MIGRATE_VOLUME_H
#define BRIDGED_MIGRATE_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Finds or creates volume name of exactly size bytes in pool. An existing
 * volume of another size is refused (-EEXIST, err says how it differs).
 * *ret_path (malloc'd) is the volume's path on this host.
 */
int volume_ensure(const char *uri, const char *pool, const char *name, uint64_t size, char **ret_path,
		  bool *ret_created, char *err, size_t errlen);

/*
 * The LVM volume group behind pool: 1 with *ret_vg (malloc'd; the pool's
 * <source><name>, else the pool's name) for a 'logical' pool, 0 for another
 * type, -ECONNREFUSED / -ENOENT when libvirt or the pool is not there.
 */
int volume_pool_vg(const char *uri, const char *pool, char **ret_vg, char *err, size_t errlen);

#endif
