/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stage 1's kernel and initrd from the guest's own /boot, read from the new
 * disk: the guest's file systems resolved as preflight resolves them, the
 * kernel chosen by preflight's rule (the newest non-Xen-flavoured one, grub's
 * default first, whose initramfs has the disk bus's and the NIC's drivers;
 * migrate/guest/kernel.h), and a boot source (virt/bootfiles.h) per file
 * that streams it out of the guest file system with libext2fs: read-only,
 * bounded (256 MiB a kernel, 512 MiB an initrd), symlinks resolved inside
 * the guest only.
 */
#ifndef BRIDGED_MIGRATE_GUEST_BOOT_H
#define BRIDGED_MIGRATE_GUEST_BOOT_H

#include <stdbool.h>
#include <stddef.h>

#include "migrate/guest/preflight.h"
#include "migrate/virt/bootfiles.h"

struct guest_boot;

/*
 * Opens the guest of in (its volumes, as for guest_preflight(); copied,
 * in may go after the call) and chooses its kernel for in->bus and
 * in->nic. -ENOENT with err naming the preflight finding id when the guest has no usable
 * kernel ("no-kernel", "xen-kernel-only"), -EIO when its root file system
 * (or /boot) cannot be read ("fs-unreadable", "fs-not-inspected"),
 * -EINVAL, -ENOMEM.
 */
int guest_boot_open(const struct guest_input *in, struct guest_boot **ret, char *err, size_t errlen);
void guest_boot_close(struct guest_boot *b);

/* The chosen kernel's version ("6.1.0-9-amd64"), its guest paths; initrd NULL when it has none. */
const char *guest_boot_version(const struct guest_boot *b);
const char *guest_boot_kernel(const struct guest_boot *b);
const char *guest_boot_initrd(const struct guest_boot *b);
/* Why its drivers do not suffice (no candidate's did), with the finding id; "" when they do. */
const char *guest_boot_warning(const struct guest_boot *b);

/* A boot source that streams the kernel (initrd false) or the initrd out of the guest; valid while b is. */
void guest_boot_source(const struct guest_boot *b, bool initrd, struct boot_source *ret);

#endif
