/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the rule that picks the guest's kernel (migrate/guest/kernel.c),
 * the one preflight reports on and stage 1 boots, over a fake file system:
 * several kernels, Xen-flavoured ones, a kernel without an initrd, grub's
 * default, the /vmlinuz and /boot/vmlinuz symlinks, links that would leave
 * the guest, and streaming a file through a symlink.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "migrate/guest/kernel.h"
#include "migrate/guest/tree.h"

struct node {
	const char *path;
	enum guest_ftype type;
	const char *data;	/* content or link target */
	size_t len;		/* 0: strlen(data) */
};

struct fake {
	const struct node *nodes;
	size_t n;
};

static const struct node *find(void *fs, const char *path)
{
	static const struct node root = { "/", GUEST_FT_DIR, NULL, 0 };
	struct fake *f = fs;

	if (!strcmp(path, "/"))
		return &root;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->nodes[i].path, path))
			return &f->nodes[i];
	return NULL;
}

static size_t node_len(const struct node *n)
{
	return n->len ? n->len : n->data ? strlen(n->data) : 0;
}

static int f_lstat(void *fs, const char *path, enum guest_ftype *type, uint64_t *size)
{
	const struct node *n = find(fs, path);

	if (!n)
		return -ENOENT;
	*type = n->type;
	if (size)
		*size = node_len(n);
	return 0;
}

static int f_readlink(void *fs, const char *path, char *buf, size_t len)
{
	const struct node *n = find(fs, path);

	if (!n || n->type != GUEST_FT_LNK)
		return -EINVAL;
	snprintf(buf, len, "%s", n->data);
	return 0;
}

static int f_read(void *fs, const char *path, size_t cap, char **ret, size_t *len)
{
	const struct node *n = find(fs, path);
	size_t l;

	if (!n)
		return -ENOENT;
	if (n->type != GUEST_FT_REG)
		return -EINVAL;
	l = node_len(n);
	if (l > cap)
		return -EFBIG;
	*ret = malloc(l + 1);
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, n->data, l);
	(*ret)[l] = '\0';
	*len = l;
	return 0;
}

static int f_list(void *fs, const char *path, size_t max, char ***ret, size_t *n)
{
	struct fake *f = fs;
	size_t pl = strlen(path);

	*ret = calloc(f->n + 1, sizeof(**ret));
	*n = 0;
	if (!*ret)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		const char *p = f->nodes[i].path;

		if (!strncmp(p, path, pl) && p[pl] == '/' && !strchr(p + pl + 1, '/'))
			(*ret)[(*n)++] = strdup(p + pl + 1);
	}
	return 0;
}

static const struct guest_tree_ops ops = { f_lstat, f_readlink, f_read, f_list, NULL };

/* ---- a newc cpio holding the modules named ---- */

static char cpio_buf[4][4096];

static size_t cpio_member(char *out, const char *name, unsigned mode, size_t size)
{
	size_t o = (size_t)sprintf(out, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1u, mode, 0u,
				   0u, 1u, 0u, size, 0u, 0u, 0u, 0u, strlen(name) + 1, 0u);

	memcpy(out + o, name, strlen(name) + 1);
	o += strlen(name) + 1;
	while (o % 4)
		out[o++] = '\0';
	memset(out + o, 'x', size);
	o += size;
	while (o % 4)
		out[o++] = '\0';
	return o;
}

/* An uncompressed initramfs with the modules of version ver (names NULL-terminated); its length. */
static size_t cpio_make(char *out, const char *ver, const char *const *mods)
{
	size_t o = 0;
	char name[256];

	for (size_t i = 0; mods[i]; i++) {
		snprintf(name, sizeof(name), "usr/lib/modules/%s/kernel/drivers/%s.ko", ver, mods[i]);
		o += cpio_member(out + o, name, 0100644, 8);
	}
	o += cpio_member(out + o, "TRAILER!!!", 0, 0);
	return o;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct guest_tree *tree(struct fake *f)
{
	struct guest_tree *t = guest_tree_new(&ops);

	assert_non_null(t);
	assert_int_equal(guest_tree_mount(t, "/", f), 0);
	return t;
}

static const char *const scsi_mods[] = { "scsi/virtio_scsi", "virtio/virtio_pci", NULL };
static const char *const blk_mods[] = { "block/virtio_blk", NULL };

/* The usual guest: a newer kernel without an initrd, a Xen one, two with, links. */
static struct node usual[32];
static size_t n_usual;

static void usual_setup(void)
{
	size_t l9 = cpio_make(cpio_buf[0], "6.1.0-9-amd64", scsi_mods);
	size_t l5 = cpio_make(cpio_buf[1], "5.10.0-30-amd64", scsi_mods);
	const struct node nodes[] = {
		{ "/boot", GUEST_FT_DIR, NULL, 0 },
		{ "/vmlinuz", GUEST_FT_LNK, "boot/vmlinuz-6.1.0-10-amd64", 0 },
		{ "/initrd.img", GUEST_FT_LNK, "boot/initrd.img-6.1.0-10-amd64", 0 },
		{ "/boot/vmlinuz", GUEST_FT_LNK, "vmlinuz-6.1.0-9-amd64", 0 },
		{ "/boot/vmlinuz-6.1.0-10-amd64", GUEST_FT_REG, "kernel 10", 0 },	/* no initrd */
		{ "/boot/vmlinuz-6.1.0-9-amd64", GUEST_FT_REG, "kernel 9", 0 },
		{ "/boot/initrd.img-6.1.0-9-amd64", GUEST_FT_LNK, "/srv/../initrd-9", 0 },
		{ "/initrd-9", GUEST_FT_REG, cpio_buf[0], l9 },
		{ "/boot/vmlinuz-5.10.0-30-amd64", GUEST_FT_REG, "kernel 5", 0 },
		{ "/boot/initrd.img-5.10.0-30-amd64", GUEST_FT_REG, cpio_buf[1], l5 },
		{ "/boot/vmlinuz-6.5.0-1-xen-amd64", GUEST_FT_REG, "xen kernel", 0 },
		{ "/boot/initrd.img-6.5.0-1-xen-amd64", GUEST_FT_REG, cpio_buf[0], l9 },
		/* links that would leave the guest, or lead nowhere: not kernels */
		{ "/boot/vmlinuz-9.9.9-amd64", GUEST_FT_LNK, "../../../../host/boot/vmlinuz-9.9.9", 0 },
		{ "/boot/vmlinuz-9.9.8-amd64", GUEST_FT_LNK, "/boot", 0 },
		{ "/srv", GUEST_FT_DIR, NULL, 0 },
		{ "/lib", GUEST_FT_DIR, NULL, 0 },
		{ "/lib/modules", GUEST_FT_DIR, NULL, 0 },
		{ "/lib/modules/6.1.0-10-amd64", GUEST_FT_DIR, NULL, 0 },
		{ "/lib/modules/6.1.0-10-amd64/modules.dep", GUEST_FT_REG,
		  "kernel/drivers/scsi/virtio_scsi.ko:\nkernel/drivers/virtio/virtio_pci.ko:\n"
		  "kernel/drivers/net/virtio_net.ko:\n", 0 },
		{ "/lib/modules/6.1.0-9-amd64", GUEST_FT_DIR, NULL, 0 },
		{ "/lib/modules/6.1.0-9-amd64/modules.dep", GUEST_FT_REG,
		  "kernel/drivers/scsi/virtio_scsi.ko:\nkernel/drivers/virtio/virtio_pci.ko:\n"
		  "kernel/drivers/net/virtio_net.ko:\n", 0 },
		{ "/lib/modules/5.10.0-30-amd64", GUEST_FT_DIR, NULL, 0 },
		{ "/lib/modules/5.10.0-30-amd64/modules.builtin", GUEST_FT_REG, "kernel/drivers/net/virtio_net.ko\n", 0 },
	};

	memcpy(usual, nodes, sizeof(nodes));
	n_usual = N(nodes);
}

static void test_newest_with_drivers(void **state)
{
	struct fake f;
	struct guest_tree *t;
	struct guest_kernels k;

	(void)state;
	usual_setup();
	f = (struct fake){ usual, n_usual };
	t = tree(&f);
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_SCSI, GUEST_NIC_VIRTIO, NULL, NULL, true, &k), 0);
	assert_int_equal(k.status, GUEST_KERNEL_OK);
	/* 6.1.0-10 is newer but has no initrd, so no virtio_scsi at boot; the Xen one never */
	assert_string_equal(k.chosen.version, "6.1.0-9-amd64");
	assert_string_equal(k.chosen.kernel, "/boot/vmlinuz-6.1.0-9-amd64");
	assert_string_equal(k.chosen.initrd, "/boot/initrd.img-6.1.0-9-amd64");
	assert_string_equal(k.chosen.initrd_format, "cpio");
	assert_true(k.chosen.have_initrd);
	assert_true(guest_kernel_drivers_ok(&k.chosen));
	assert_false(k.fallback);
	assert_false(k.not_default);
	assert_int_equal(k.n_found, 4);		/* 10, 9, 5.10, the Xen one; not the links that leave or lead to a directory */
	assert_string_equal(k.first_xen, "6.5.0-1-xen-amd64");
	guest_kernels_clear(&k);

	/* virtio-blk: 6.1.0-9's initramfs has no virtio_blk, nor has 5.10's: the first, with its lacks */
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_VIRTIO, GUEST_NIC_VIRTIO, NULL, NULL, true, &k), 0);
	assert_int_equal(k.status, GUEST_KERNEL_OK);
	assert_true(k.fallback);
	assert_string_equal(k.chosen.version, "6.1.0-10-amd64");
	assert_null(k.chosen.initrd);
	assert_int_equal(k.chosen.n_disk, 2);
	assert_string_equal(k.chosen.disk[0].module, "virtio_blk");
	assert_false(k.chosen.disk[0].in_dep);
	assert_string_equal(k.chosen.disk[1].module, "virtio_pci");
	assert_true(k.chosen.disk[1].in_dep);
	assert_int_equal(k.chosen.n_nic, 0);
	guest_kernels_clear(&k);

	/* unchecked (/usr unreadable): the newest non-Xen one */
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_SCSI, GUEST_NIC_VIRTIO, NULL, NULL, false, &k), 0);
	assert_string_equal(k.chosen.version, "6.1.0-10-amd64");
	assert_false(k.chosen.checked);
	guest_kernels_clear(&k);
	guest_tree_free(t);
}

static void test_grub_default(void **state)
{
	struct fake f;
	struct guest_tree *t;
	struct guest_kernels k;

	(void)state;
	usual_setup();
	f = (struct fake){ usual, n_usual };
	t = tree(&f);
	/* grub's default is preferred when its drivers suffice */
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_SCSI, GUEST_NIC_VIRTIO, "/boot/vmlinuz-5.10.0-30-amd64",
					      "/boot/initrd.img-5.10.0-30-amd64", true, &k), 0);
	assert_string_equal(k.chosen.version, "5.10.0-30-amd64");
	assert_false(k.not_default);
	guest_kernels_clear(&k);
	/* ... and passed over, said so, when they do not */
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_SCSI, GUEST_NIC_VIRTIO, "/vmlinuz-6.1.0-10-amd64", NULL, true,
					      &k), 0);
	assert_string_equal(k.chosen.version, "6.1.0-9-amd64");
	assert_true(k.not_default);
	assert_string_equal(k.grub_version, "6.1.0-10-amd64");
	guest_kernels_clear(&k);
	/* a Xen-flavoured default is never chosen */
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_SCSI, GUEST_NIC_VIRTIO, "/boot/vmlinuz-6.5.0-1-xen-amd64",
					      NULL, true, &k), 0);
	assert_string_equal(k.chosen.version, "6.1.0-9-amd64");
	guest_kernels_clear(&k);
	guest_tree_free(t);
}

static void test_none_and_xen_only(void **state)
{
	static const struct node none[] = {
		{ "/boot", GUEST_FT_DIR, NULL, 0 },
		{ "/vmlinuz", GUEST_FT_LNK, "boot/vmlinuz-6.1.0-9-amd64", 0 },	/* dangling */
		{ "/boot/vmlinuz", GUEST_FT_LNK, "/vmlinuz", 0 },
		{ "/boot/vmlinuz-6.1.0-9-amd64.old", GUEST_FT_LNK, "vmlinuz-6.1.0-8-amd64", 0 },
		{ "/boot/config-6.1.0-9-amd64", GUEST_FT_REG, "CONFIG_X=y", 0 },
	};
	static const struct node xen[] = {
		{ "/boot", GUEST_FT_DIR, NULL, 0 },
		{ "/boot/vmlinuz-2.6.32-5-xen-amd64", GUEST_FT_REG, "k", 0 },
		{ "/boot/vmlinuz-2.6.18-xenU", GUEST_FT_REG, "k", 0 },
		{ "/boot/initrd.img-2.6.32-5-xen-amd64", GUEST_FT_REG, "i", 0 },
	};
	struct fake fn = { none, N(none) }, fx = { xen, N(xen) }, fe = { NULL, 0 };
	struct guest_tree *t;
	struct guest_kernels k;

	(void)state;
	t = tree(&fn);
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_SCSI, GUEST_NIC_VIRTIO, NULL, NULL, true, &k), 0);
	assert_int_equal(k.status, GUEST_KERNEL_NONE);
	assert_null(k.chosen.version);
	guest_kernels_clear(&k);
	guest_tree_free(t);

	t = tree(&fx);
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_SCSI, GUEST_NIC_VIRTIO, NULL, NULL, true, &k), 0);
	assert_int_equal(k.status, GUEST_KERNEL_XEN_ONLY);
	assert_int_equal(k.n_found, 2);
	assert_string_equal(k.first_xen, "2.6.32-5-xen-amd64");
	guest_kernels_clear(&k);
	guest_tree_free(t);

	/* no /boot at all */
	t = tree(&fe);
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_SCSI, GUEST_NIC_VIRTIO, NULL, NULL, true, &k), 0);
	assert_int_equal(k.status, GUEST_KERNEL_NONE);
	guest_kernels_clear(&k);
	guest_tree_free(t);
}

static void test_builtin_no_initrd(void **state)
{
	/* every driver built in: no initramfs needed */
	static const struct node nodes[] = {
		{ "/boot", GUEST_FT_DIR, NULL, 0 },
		{ "/boot/vmlinuz-6.1.0-9-cloud-amd64", GUEST_FT_REG, "k", 0 },
		{ "/lib", GUEST_FT_DIR, NULL, 0 },
		{ "/lib/modules", GUEST_FT_DIR, NULL, 0 },
		{ "/lib/modules/6.1.0-9-cloud-amd64", GUEST_FT_DIR, NULL, 0 },
		{ "/lib/modules/6.1.0-9-cloud-amd64/modules.builtin", GUEST_FT_REG,
		  "kernel/drivers/block/virtio_blk.ko\nkernel/drivers/virtio/virtio_pci.ko\n"
		  "kernel/drivers/net/virtio_net.ko\n", 0 },
	};
	struct fake f = { nodes, N(nodes) };
	struct guest_tree *t = tree(&f);
	struct guest_kernels k;

	(void)state;
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_VIRTIO, GUEST_NIC_VIRTIO, NULL, NULL, true, &k), 0);
	assert_string_equal(k.chosen.version, "6.1.0-9-cloud-amd64");
	assert_null(k.chosen.initrd);
	assert_true(guest_kernel_drivers_ok(&k.chosen));
	assert_false(k.fallback);
	guest_kernels_clear(&k);
	/* e1000 is neither built in nor a module */
	assert_int_equal(guest_kernels_choose(t, GUEST_BUS_VIRTIO, GUEST_NIC_E1000, NULL, NULL, true, &k), 0);
	assert_true(k.fallback);
	assert_int_equal(k.chosen.n_nic, 1);
	assert_string_equal(k.chosen.nic[0].module, "e1000");
	guest_kernels_clear(&k);
	guest_tree_free(t);
}

struct sink {
	char buf[8192];
	size_t n;
};

static int sink(void *data, const void *buf, size_t n)
{
	struct sink *s = data;

	assert_true(s->n + n <= sizeof(s->buf));
	memcpy(s->buf + s->n, buf, n);
	s->n += n;
	return 0;
}

static void test_stream(void **state)
{
	struct fake f;
	struct guest_tree *t;
	struct sink s = { .n = 0 };

	(void)state;
	(void)blk_mods;
	usual_setup();
	f = (struct fake){ usual, n_usual };
	t = tree(&f);
	/* through the absolute link, resolved in the guest */
	assert_int_equal(guest_tree_stream(t, "/boot/initrd.img-6.1.0-9-amd64", 1 << 20, sink, &s), 0);
	assert_int_equal(s.n, usual[7].len);
	assert_memory_equal(s.buf, usual[7].data, s.n);
	/* bounded */
	s.n = 0;
	assert_int_equal(guest_tree_stream(t, "/boot/initrd.img-6.1.0-9-amd64", 16, sink, &s), -EFBIG);
	/* nothing outside the guest */
	assert_int_equal(guest_tree_stream(t, "/boot/vmlinuz-9.9.9-amd64", 1 << 20, sink, &s), -ENOENT);
	guest_tree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newest_with_drivers),
		cmocka_unit_test(test_grub_default),
		cmocka_unit_test(test_none_and_xen_only),
		cmocka_unit_test(test_builtin_no_initrd),
		cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
