/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the guest tree's resolver (migrate/guest/tree.c) over fake
 * file systems: symlinks relative and absolute, across mounts, ".." at the
 * root, loops, dangling links, a file used as a directory.
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

#include "migrate/guest/tree.h"

struct node {
	const char *path;	/* inside its fs */
	enum guest_ftype type;
	const char *data;	/* file content or link target */
};

struct fake {
	const struct node *nodes;
	size_t n;
};

static const struct node *find(void *fs, const char *path)
{
	struct fake *f = fs;

	if (!strcmp(path, "/")) {
		static const struct node root = { "/", GUEST_FT_DIR, NULL };

		return &root;
	}
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->nodes[i].path, path))
			return &f->nodes[i];
	return NULL;
}

static int f_lstat(void *fs, const char *path, enum guest_ftype *type, uint64_t *size)
{
	const struct node *n = find(fs, path);

	if (!n)
		return -ENOENT;
	*type = n->type;
	if (size)
		*size = n->data ? strlen(n->data) : 0;
	return 0;
}

static int f_readlink(void *fs, const char *path, char *buf, size_t len)
{
	const struct node *n = find(fs, path);

	assert_non_null(n);
	assert_int_equal(n->type, GUEST_FT_LNK);
	snprintf(buf, len, "%s", n->data);
	return 0;
}

static int f_read(void *fs, const char *path, size_t cap, char **ret, size_t *len)
{
	const struct node *n = find(fs, path);

	if (!n || n->type != GUEST_FT_REG)
		return -EINVAL;
	*ret = strdup(n->data);
	*len = strlen(n->data);
	return 0;
}

static int f_list(void *fs, const char *path, size_t max, char ***ret, size_t *n)
{
	*ret = NULL;
	*n = 0;
	return 0;
}

static const struct guest_tree_ops ops = { f_lstat, f_readlink, f_read, f_list, NULL };

static const struct node root_nodes[] = {
	{ "/etc", GUEST_FT_DIR, NULL },
	{ "/etc/fstab", GUEST_FT_REG, "root fstab" },
	{ "/etc/alt", GUEST_FT_LNK, "fstab" },
	{ "/etc/abs", GUEST_FT_LNK, "/etc/fstab" },
	{ "/etc/up", GUEST_FT_LNK, "../../../../etc/fstab" },
	{ "/etc/escape", GUEST_FT_LNK, "/../../host/etc/shadow" },
	{ "/etc/loop1", GUEST_FT_LNK, "loop2" },
	{ "/etc/loop2", GUEST_FT_LNK, "./loop1" },
	{ "/etc/dangling", GUEST_FT_LNK, "nowhere" },
	{ "/etc/empty", GUEST_FT_LNK, "" },
	{ "/lib", GUEST_FT_LNK, "usr/lib" },
	{ "/usr", GUEST_FT_DIR, NULL },
	{ "/boot", GUEST_FT_DIR, NULL },
	{ "/boot/vmlinuz-hidden", GUEST_FT_REG, "under the mount" },
	{ "/vmlinuz", GUEST_FT_LNK, "boot/vmlinuz-6.1" },
};

static const struct node usr_nodes[] = {
	{ "/lib", GUEST_FT_DIR, NULL },
	{ "/lib/modules", GUEST_FT_DIR, NULL },
	{ "/lib/modules/dep", GUEST_FT_REG, "usr dep" },
	{ "/lib/up", GUEST_FT_LNK, "../../etc/fstab" },
};

static const struct node boot_nodes[] = {
	{ "/vmlinuz-6.1", GUEST_FT_REG, "kernel" },
	{ "/grub", GUEST_FT_LNK, "." },
};

static void test_resolve(void **state)
{
	struct fake root = { root_nodes, sizeof(root_nodes) / sizeof(root_nodes[0]) };
	struct fake usr = { usr_nodes, sizeof(usr_nodes) / sizeof(usr_nodes[0]) };
	struct fake boot = { boot_nodes, sizeof(boot_nodes) / sizeof(boot_nodes[0]) };
	struct guest_tree *t = guest_tree_new(&ops);
	char buf[GUEST_PATH_MAX], *data;
	size_t len;

	assert_int_equal(guest_tree_mount(t, "/", &root), 0);
	assert_int_equal(guest_tree_mount(t, "/usr/", &usr), 0);
	assert_int_equal(guest_tree_mount(t, "/boot", &boot), 0);

	assert_int_equal(guest_tree_resolve(t, "/etc/alt", true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/fstab");
	assert_int_equal(guest_tree_resolve(t, "/etc/alt", false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/alt");
	assert_int_equal(guest_tree_resolve(t, "//etc/./abs", true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/fstab");
	assert_int_equal(guest_tree_resolve(t, "/etc/up", true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/fstab");
	/* never outside the guest: ".." stops at its "/" */
	assert_int_equal(guest_tree_resolve(t, "/etc/escape", true, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(guest_tree_resolve(t, "/../../etc/fstab", true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/fstab");
	assert_int_equal(guest_tree_resolve(t, "/etc/loop1", true, buf, sizeof(buf)), -ELOOP);
	assert_int_equal(guest_tree_resolve(t, "/etc/dangling", true, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(guest_tree_resolve(t, "/etc/empty", true, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(guest_tree_resolve(t, "/etc/fstab/x", true, buf, sizeof(buf)), -ENOTDIR);
	assert_int_equal(guest_tree_resolve(t, "etc/fstab", true, buf, sizeof(buf)), -EINVAL);

	/* across mounts: /lib -> usr/lib on the /usr file system, and back up */
	assert_int_equal(guest_tree_read(t, "/lib/modules/dep", 100, &data, &len), 0);
	assert_string_equal(data, "usr dep");
	free(data);
	assert_int_equal(guest_tree_read(t, "/lib/up", 100, &data, &len), 0);
	assert_string_equal(data, "root fstab");
	free(data);
	/* the /boot mount hides the root's /boot */
	assert_false(guest_tree_exists(t, "/boot/vmlinuz-hidden"));
	assert_int_equal(guest_tree_read(t, "/vmlinuz", 100, &data, &len), 0);
	assert_string_equal(data, "kernel");
	free(data);
	assert_int_equal(guest_tree_resolve(t, "/boot/grub/grub/vmlinuz-6.1", true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/boot/vmlinuz-6.1");
	assert_int_equal(guest_tree_readlink(t, "/vmlinuz", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "boot/vmlinuz-6.1");
	guest_tree_free(t);
}

static void test_long(void **state)
{
	struct fake root = { root_nodes, sizeof(root_nodes) / sizeof(root_nodes[0]) };
	struct guest_tree *t = guest_tree_new(&ops);
	char *p = malloc(GUEST_PATH_MAX + 10), buf[64];

	assert_int_equal(guest_tree_mount(t, "/", &root), 0);
	memset(p, '/', GUEST_PATH_MAX + 9);
	p[GUEST_PATH_MAX + 9] = '\0';
	assert_int_equal(guest_tree_resolve(t, p, true, buf, sizeof(buf)), -ENAMETOOLONG);
	strcpy(p, "/etc/fstab");
	assert_int_equal(guest_tree_resolve(t, p, true, buf, 4), -ENAMETOOLONG);
	free(p);
	guest_tree_free(t);

	/* nothing mounted */
	t = guest_tree_new(&ops);
	assert_int_equal(guest_tree_resolve(t, "/etc", true, buf, sizeof(buf)), -ENXIO);
	guest_tree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
