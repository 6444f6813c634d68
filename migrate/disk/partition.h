/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes a planned msdos partition table with libparted (exact sectors,
 * cylinder alignment off, boot flag, Linux / Linux swap types), and compares
 * a device's table with the plan.
 */
#ifndef BRIDGED_MIGRATE_PARTITION_H
#define BRIDGED_MIGRATE_PARTITION_H

#include <stddef.h>

#include "migrate/disk/plan.h"

/*
 * Compares the table on path with d. Returns 0 when it matches, 1 when the
 * device has no partition table, -EEXIST when it differs (diff describes
 * how, one difference per line), other -errno on failure (diff says why).
 */
int partition_check(const char *path, const struct plan_disk *d, char *diff, size_t difflen);
/* Writes d's table on path, then reads it back; 0 only if it matches. */
int partition_create(const char *path, const struct plan_disk *d, char *err, size_t errlen);

#endif
