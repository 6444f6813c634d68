/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which of the guest's kernels boots on the new host, and whether its
 * drivers suffice: the one rule preflight reports on and stage 1 boots
 * (boot.h). Pure over the mount tree (tree.h): no outside library but the
 * initramfs reader.
 *
 * The kernels are /boot/vmlinuz-VERSION and /boot/vmlinux-VERSION that
 * are regular files once symlinks are followed inside the guest (so
 * /vmlinuz and /boot/vmlinuz, the links Debian keeps, are not counted
 * twice); a VERSION holding "xen" is Xen-flavoured and never chosen. The
 * candidates are grub's default kernel (when it is one of them), then the
 * rest, newest first (strverscmp). The chosen kernel is the first
 * candidate whose drivers suffice: the disk bus's driver built in or in
 * its initramfs, the NIC's built in, in the initramfs or a module. When
 * none suffices, the first candidate is chosen and its lacks are reported.
 */
#ifndef BRIDGED_MIGRATE_GUEST_KERNEL_H
#define BRIDGED_MIGRATE_GUEST_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "migrate/guest/preflight.h"
#include "migrate/guest/tree.h"

#define GUEST_KERNEL_CAP (256u << 20)	/* a kernel image read at most */
#define GUEST_INITRD_CAP (512u << 20)	/* an initramfs image read at most */
#define GUEST_KERNEL_MAX_MODS 3

enum guest_kernel_status {
	GUEST_KERNEL_OK,		/* chosen is set */
	GUEST_KERNEL_NONE,		/* no kernel in /boot ("no-kernel") */
	GUEST_KERNEL_XEN_ONLY,		/* only Xen-flavoured ones ("xen-kernel-only") */
};

/* A module the kernel lacks for the chosen bus or NIC. */
struct guest_kernel_lack {
	const char *module;	/* "virtio_scsi" */
	bool in_dep;		/* a module of the kernel (modules.dep), just not where it is needed */
};

struct guest_kernel {
	char *version;		/* "6.1.0-9-amd64" */
	char *kernel;		/* "/boot/vmlinuz-6.1.0-9-amd64" */
	char *initrd;		/* "/boot/initrd.img-6.1.0-9-amd64", or NULL: none found */
	char *initrd_format;	/* "gzip", "cpio+zstd", or NULL */
	bool checked;		/* the drivers were checked (not when /usr could not be read) */
	bool have_initrd;	/* the initramfs was read and its modules listed */
	bool initrd_unreadable;	/* there, but not read: initrd_error says why */
	char initrd_error[256];
	bool have_dep;		/* modules.dep was read */
	char *eio_path;		/* a file that could not be read (damaged file system), or NULL */
	struct guest_kernel_lack disk[GUEST_KERNEL_MAX_MODS], nic[GUEST_KERNEL_MAX_MODS];
	size_t n_disk, n_nic;
};

struct guest_kernels {
	enum guest_kernel_status status;
	size_t n_found;		/* kernels in /boot, Xen ones too */
	char *first_xen;	/* the newest Xen-flavoured version, or NULL */
	struct guest_kernel chosen;
	bool fallback;		/* no candidate's drivers suffice: chosen is the first */
	bool not_default;	/* grub's default was a candidate but lacks drivers: chosen is another */
	char *grub_version;	/* grub's default's version when not_default */
};

/*
 * Chooses the kernel of the guest in t for bus and nic. grub_kernel and
 * grub_initrd: the default boot entry's paths (NULL when none).
 * check_drivers false: the first candidate, unchecked (/usr unreadable).
 * 0 with *ret filled (status says whether there is a kernel), -ENOMEM.
 */
int guest_kernels_choose(struct guest_tree *t, enum guest_bus bus, enum guest_nic nic, const char *grub_kernel,
			 const char *grub_initrd, bool check_drivers, struct guest_kernels *ret);
void guest_kernels_clear(struct guest_kernels *k);

/* The chosen kernel's drivers suffice. */
bool guest_kernel_drivers_ok(const struct guest_kernel *k);

/* The drivers the bus and the NIC need (NULL-terminated lists). */
extern const char *const guest_disk_modules[GUEST_BUS_MAX][GUEST_KERNEL_MAX_MODS];
extern const char *const guest_nic_modules[GUEST_NIC_MAX][GUEST_KERNEL_MAX_MODS];

#endif
