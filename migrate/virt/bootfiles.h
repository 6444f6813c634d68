/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stage 1's kernel and initrd on the new host. They are placed in
 * /var/lib/libvirt/boot (or another directory given), where the security
 * drivers expect guest kernels: files created there get the directory's
 * SELinux type (virt_content_t), virt-aa-helper adds a domain's kernel and
 * initrd to its AppArmor profile, and mode 0644 lets the qemu user read
 * them. Where the bytes come from is a boot source: a file on this host
 * (--kernel/--initrd, e.g. the old dom0's kernel copied across) for now;
 * the guest's own /boot, read from the new disk (migrate/guest/), plugs in
 * as another source.
 */
#ifndef BRIDGED_MIGRATE_BOOTFILES_H
#define BRIDGED_MIGRATE_BOOTFILES_H

#include <stdbool.h>
#include <stddef.h>

#define BOOT_DIR_DEFAULT "/var/lib/libvirt/boot"

struct boot_source {
	const char *what;	/* for messages: "/srv/dom0/vmlinuz-2.6.26" */
	/* Writes the file's bytes to fd: 0, or -errno with err set. */
	int (*copy)(const struct boot_source *src, int fd, char *err, size_t errlen);
	const void *data;
};

/* A source that is a file on this host (path must outlive *ret). */
void boot_source_file(struct boot_source *ret, const char *path);

/* DIR/VM-vmlinuz or DIR/VM-initrd (kind "vmlinuz", "initrd"; *ret malloc'd). */
int boot_file_path(const char *dir, const char *vm, const char *kind, char **ret);

/*
 * Writes src to path, mode 0644, through a temporary file renamed over it
 * (a running guest keeps what it booted). A file already there with the
 * same bytes is kept: *ret_changed false. dir is created (0755) when
 * missing.
 */
int boot_file_place(const struct boot_source *src, const char *path, bool *ret_changed, char *err, size_t errlen);

#endif
