/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest kernel that boots on the new host, and its drivers; see kernel.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/guest/initramfs.h"
#include "migrate/guest/kernel.h"
#include "migrate/guest/parse.h"

#define MODULES_CAP (4u << 20)
#define DIR_MAX 100000

const char *const guest_disk_modules[GUEST_BUS_MAX][GUEST_KERNEL_MAX_MODS] = {
	[GUEST_BUS_SCSI] = { "virtio_scsi", "virtio_pci", NULL },
	[GUEST_BUS_VIRTIO] = { "virtio_blk", "virtio_pci", NULL },
	[GUEST_BUS_SATA] = { "ahci", NULL },
	[GUEST_BUS_IDE] = { "ata_piix", NULL },
};

const char *const guest_nic_modules[GUEST_NIC_MAX][GUEST_KERNEL_MAX_MODS] = {
	[GUEST_NIC_VIRTIO] = { "virtio_net", "virtio_pci", NULL },
	[GUEST_NIC_E1000] = { "e1000", NULL },
};

static bool xen_flavoured(const char *version)
{
	return strcasestr(version, "xen") != NULL;
}

static int verscmp_desc(const void *a, const void *b)
{
	return strverscmp(*(char *const *)b, *(char *const *)a);
}

static const char *base(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static void kernel_clear(struct guest_kernel *k)
{
	free(k->version);
	free(k->kernel);
	free(k->initrd);
	free(k->initrd_format);
	free(k->eio_path);
	memset(k, 0, sizeof(*k));
}

void guest_kernels_clear(struct guest_kernels *k)
{
	kernel_clear(&k->chosen);
	free(k->first_xen);
	free(k->grub_version);
	memset(k, 0, sizeof(*k));
}

bool guest_kernel_drivers_ok(const struct guest_kernel *k)
{
	return k->checked && !k->n_disk && !k->n_nic;
}

/* Reads a guest file; -ENOENT and the like as absent, -EIO remembered, -ENOMEM returned. */
static int read_guest(struct guest_tree *t, struct guest_kernel *k, const char *path, size_t cap, char **ret,
		      size_t *len)
{
	int r = guest_tree_read(t, path, cap, ret, len);

	if (r == -EIO && !k->eio_path && !(k->eio_path = strdup(path)))
		return -ENOMEM;
	return r;
}

/* modules.builtin or modules.dep of the kernel; 1 when read, 0 when absent. */
static int read_modules(struct guest_tree *t, struct guest_kernel *k, const char *file, struct guest_names *ret)
{
	char path[GUEST_PATH_MAX], *buf = NULL;
	size_t len;
	int r;

	memset(ret, 0, sizeof(*ret));
	snprintf(path, sizeof(path), "/lib/modules/%s/%s", k->version, file);
	r = read_guest(t, k, path, MODULES_CAP, &buf, &len);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	r = guest_modules_parse(buf, len, ret);
	free(buf);
	return r < 0 ? -ENOMEM : 1;
}

/* Finds k's initramfs and checks the drivers of k for bus and nic. */
static int check_drivers(struct guest_tree *t, struct guest_kernel *k, enum guest_bus bus, enum guest_nic nic,
			 const char *grub_kernel, const char *grub_initrd)
{
	struct guest_names builtin = { 0 }, dep = { 0 }, initrd = { 0 };
	char cands[5][GUEST_PATH_MAX], fmt[64] = "";
	const char *ver = k->version;
	size_t nc = 0, len = 0;
	char *buf = NULL;
	int r;

	k->checked = true;
	r = read_modules(t, k, "modules.builtin", &builtin);
	if (r < 0)
		goto out;
	r = read_modules(t, k, "modules.dep", &dep);
	if (r < 0)
		goto out;
	k->have_dep = r > 0;
	/* the initramfs grub names for this kernel, else the usual names */
	if (grub_initrd && grub_kernel && strstr(grub_kernel, ver))
		snprintf(cands[nc++], GUEST_PATH_MAX, "/boot/%s", base(grub_initrd));
	snprintf(cands[nc++], GUEST_PATH_MAX, "/boot/initrd.img-%s", ver);
	snprintf(cands[nc++], GUEST_PATH_MAX, "/boot/initramfs-%s.img", ver);
	snprintf(cands[nc++], GUEST_PATH_MAX, "/boot/initrd-%s.img", ver);
	snprintf(cands[nc++], GUEST_PATH_MAX, "/boot/initrd-%s", ver);
	r = -ENOENT;
	for (size_t i = 0; i < nc && r != 0 && r != -EFBIG && r != -ENOMEM; i++) {
		r = read_guest(t, k, cands[i], GUEST_INITRD_CAP, &buf, &len);
		if ((r == 0 || r == -EFBIG) && !(k->initrd = strdup(cands[i])))
			r = -ENOMEM;
	}
	if (r == -ENOMEM)
		goto out;
	if (r == 0) {
		char err[200] = "";

		r = guest_initramfs_modules(buf, len, &initrd, fmt, sizeof(fmt), err, sizeof(err));
		free(buf);
		if (fmt[0] && !(k->initrd_format = strdup(fmt)))
			r = -ENOMEM;
		if (r == -ENOMEM)
			goto out;
		if (r < 0) {
			k->initrd_unreadable = true;
			snprintf(k->initrd_error, sizeof(k->initrd_error), "%s", err);
		} else {
			k->have_initrd = true;
		}
	} else if (r == -EFBIG) {
		k->initrd_unreadable = true;
		snprintf(k->initrd_error, sizeof(k->initrd_error), "larger than %u MiB", GUEST_INITRD_CAP >> 20);
	}
	for (size_t i = 0; guest_disk_modules[bus][i]; i++) {
		const char *m = guest_disk_modules[bus][i];

		if (guest_names_has(&builtin, m) || guest_names_has(&initrd, m))
			continue;
		if (k->initrd_unreadable && guest_names_has(&dep, m))
			continue;	/* the image cannot be read: the module at least exists */
		k->disk[k->n_disk++] = (struct guest_kernel_lack){ m, guest_names_has(&dep, m) };
	}
	for (size_t i = 0; guest_nic_modules[nic][i]; i++) {
		const char *m = guest_nic_modules[nic][i];

		if (guest_names_has(&builtin, m) || guest_names_has(&initrd, m) || guest_names_has(&dep, m))
			continue;
		k->nic[k->n_nic++] = (struct guest_kernel_lack){ m, false };
	}
	r = 0;
out:
	guest_names_clear(&builtin);
	guest_names_clear(&dep);
	guest_names_clear(&initrd);
	return r;
}

/* k for /boot/NAME (version: NAME + 8). */
static int kernel_new(struct guest_kernel *k, const char *name)
{
	memset(k, 0, sizeof(*k));
	k->version = strdup(name + 8);
	if (asprintf(&k->kernel, "/boot/%s", name) < 0)
		k->kernel = NULL;
	if (!k->version || !k->kernel) {
		kernel_clear(k);
		return -ENOMEM;
	}
	return 0;
}

int guest_kernels_choose(struct guest_tree *t, enum guest_bus bus, enum guest_nic nic, const char *grub_kernel,
			 const char *grub_initrd, bool check, struct guest_kernels *ret)
{
	char **names = NULL, **kv = NULL;
	size_t n = 0, nk = 0, nc = 0, grub = SIZE_MAX;
	struct guest_kernel first = { 0 };
	int r;

	memset(ret, 0, sizeof(*ret));
	r = guest_tree_list(t, "/boot", DIR_MAX, &names, &n);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		n = 0;
	kv = calloc(n ? n : 1, sizeof(*kv));
	if (!kv) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char path[GUEST_PATH_MAX];
		enum guest_ftype type;

		if (strncmp(names[i], "vmlinuz-", 8) && strncmp(names[i], "vmlinux-", 8))
			continue;
		snprintf(path, sizeof(path), "/boot/%s", names[i]);
		if (guest_tree_stat(t, path, &type, NULL) < 0 || type != GUEST_FT_REG)
			continue;
		kv[nk++] = names[i];
	}
	ret->n_found = nk;
	/* newest first; the Xen-flavoured ones out, the newest of them kept for messages */
	qsort(kv, nk, sizeof(*kv), verscmp_desc);
	for (size_t i = 0; i < nk; i++) {
		if (!xen_flavoured(kv[i] + 8)) {
			kv[nc++] = kv[i];
			continue;
		}
		if (!ret->first_xen && !(ret->first_xen = strdup(kv[i] + 8))) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = 0;
	if (!nk) {
		ret->status = GUEST_KERNEL_NONE;
		goto out;
	}
	if (!nc) {
		ret->status = GUEST_KERNEL_XEN_ONLY;
		goto out;
	}
	/* grub's default first, when it is a candidate */
	for (size_t i = 0; grub_kernel && i < nc; i++)
		if (!strcmp(base(grub_kernel), kv[i]))
			grub = i;
	if (grub != SIZE_MAX) {
		char *g = kv[grub];

		memmove(kv + 1, kv, grub * sizeof(*kv));
		kv[0] = g;
	}
	for (size_t i = 0; i < nc; i++) {
		struct guest_kernel k;

		r = kernel_new(&k, kv[i]);
		if (r < 0)
			goto out;
		if (check) {
			r = check_drivers(t, &k, bus, nic, grub_kernel, grub_initrd);
			if (r < 0) {
				kernel_clear(&k);
				goto out;
			}
		}
		if (!check || guest_kernel_drivers_ok(&k)) {
			ret->chosen = k;
			if (i > 0 && grub == 0) {
				ret->not_default = true;
				ret->grub_version = first.version;
				first.version = NULL;
			}
			break;
		}
		if (i == 0)
			first = k;
		else
			kernel_clear(&k);
	}
	if (!ret->chosen.version) {
		ret->chosen = first;
		ret->fallback = true;
		memset(&first, 0, sizeof(first));
	}
	ret->status = GUEST_KERNEL_OK;
out:
	kernel_clear(&first);
	free(kv);
	guest_tree_names_free(names, n);
	if (r < 0)
		guest_kernels_clear(ret);
	return r;
}
