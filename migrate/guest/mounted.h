/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's file systems as preflight resolves them (preflight.c): the
 * volumes probed, the root picked (the volume marked root, else the first
 * ext file system with an /etc/fstab), a separate /boot and /usr mounted
 * from its fstab. For boot.c, which reads the guest's own kernel through
 * the same resolution. Internal to migrate/guest/.
 */
#ifndef BRIDGED_MIGRATE_GUEST_MOUNTED_H
#define BRIDGED_MIGRATE_GUEST_MOUNTED_H

#include <stdbool.h>
#include <stddef.h>

#include "migrate/guest/preflight.h"
#include "migrate/guest/tree.h"

struct guest_mounted;

/*
 * Opens the guest of in (what it keeps of in is copied). -EIO with err
 * naming the preflight finding ("... [fs-unreadable]") when the root file
 * system cannot be read; -EINVAL, -ENOMEM.
 */
int guest_mounted_open(const struct guest_input *in, struct guest_mounted **ret, char *err, size_t errlen);
void guest_mounted_close(struct guest_mounted *m);
struct guest_tree *guest_mounted_tree(struct guest_mounted *m);
/* Whether dir ("/boot", "/usr") could be read (a separate file system that could not is not). */
bool guest_mounted_readable(const struct guest_mounted *m, const char *dir);
/* The kernel and initrd of grub's default entry (malloc'd; NULL when none). -ENOMEM. */
int guest_mounted_grub_default(struct guest_mounted *m, char **ret_kernel, char **ret_initrd);

#endif
