/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the disk planner: geometry rules for both sector sizes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "migrate/disk/plan.h"

#define MiB PLAN_MIB

static struct plan *build(const struct plan_src *src, size_t n, unsigned ss, uint64_t alloc, const char *root)
{
	struct plan_opts o = { .sector_size = ss, .alloc_unit = alloc, .root_vdev = root };
	struct plan *p = NULL;
	char err[256];

	if (plan_build("vm", src, n, &o, &p, err, sizeof(err)) < 0)
		fail_msg("plan_build: %s", err);
	return p;
}

/* The rules of plan.h, checked on any partitioned disk. */
static void check_rules(const struct plan_disk *d, const struct plan_src *src, size_t n, uint64_t alloc)
{
	uint64_t end = 0;

	assert_false(d->whole);
	for (size_t i = 0; i < d->n_parts; i++) {
		const struct plan_part *pt = &d->parts[i];
		uint64_t srcsize = 0;

		for (size_t j = 0; j < n; j++)
			if (!strcmp(src[j].vdev, pt->vdev))
				srcsize = src[j].size;
		assert_true(srcsize > 0);
		assert_int_equal(pt->start % MiB, 0);
		assert_int_equal(pt->start % d->sector_size, 0);
		assert_int_equal(pt->size % d->sector_size, 0);
		assert_true(pt->size >= srcsize);
		assert_true(pt->size < srcsize + MiB);
		assert_true(pt->start >= end + (pt->logical ? d->sector_size : 0));
		if (i == 0)
			assert_int_equal(pt->start, MiB);
		end = pt->start + pt->size;
	}
	assert_true(d->size >= end);
	assert_int_equal(d->size % alloc, 0);
	assert_true(d->size < end + alloc);
	if (d->extended) {
		assert_int_equal(d->ext_start % MiB, 0);
		assert_int_equal(d->ext_start + d->ext_size, end);
	}
}

static void test_seed_case(void **state)
{
	/* VG r5 sizes as LVM prints them "MB": 4 GiB root, 512 MiB swap, 1000 MB data. */
	struct plan_src src[] = {
		{ .path = "/dev/r5/fs_root", .vdev = "sda1", .size = 4096 * MiB },
		{ .path = "/dev/r5/fs_swap", .vdev = "sda2", .size = 512 * MiB, .swap = true,
		  .uuid = "0a1b2c3d-0000-4000-8000-000000000001", .label = "swap0" },
		{ .path = "/dev/r5/fs_data", .vdev = "sda3", .size = 1000000000 },
	};
	struct plan *p = build(src, 3, 512, PLAN_DEFAULT_ALLOC, "sda1");
	const struct plan_disk *d = &p->disks[0];

	assert_int_equal(p->n_disks, 1);
	assert_string_equal(d->name, "vm-sda");
	assert_int_equal(d->n_parts, 3);
	assert_int_equal(d->parts[0].start, MiB);
	assert_int_equal(d->parts[0].size, 4096 * MiB);
	assert_true(d->parts[0].boot);
	assert_int_equal(d->parts[1].start, 4097 * MiB);
	assert_int_equal(d->parts[1].action, PLAN_MKSWAP);
	assert_string_equal(d->parts[1].uuid, "0a1b2c3d-0000-4000-8000-000000000001");
	assert_int_equal(d->parts[2].start, 4609 * MiB);
	assert_int_equal(d->parts[2].size, 954 * MiB);	/* 10^9 rounded up to MiB */
	assert_int_equal(d->size, 5564 * MiB);		/* 5563 MiB rounded up to 4 MiB */
	check_rules(d, src, 3, PLAN_DEFAULT_ALLOC);
	assert_int_equal(p->n_warnings, 0);
	plan_free(p);
}

static void test_odd_sizes_both_sector_sizes(void **state)
{
	static const uint64_t sizes[] = { MiB + 1, MiB - 1, 1, 512 * 1000 * 1000 + 7, 3 * MiB, 4095 };
	static const unsigned ss[] = { 512, 4096 };

	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct plan_src src[] = {
				{ .path = "/a", .vdev = "xvda1", .size = sizes[i] },
				{ .path = "/b", .vdev = "xvda2", .size = sizes[(i + 1) % 6] },
			};
			struct plan *p = build(src, 2, ss[s], MiB, NULL);

			check_rules(&p->disks[0], src, 2, MiB);
			assert_int_equal(p->disks[0].sector_size, ss[s]);
			/* no root known: the first copied partition boots */
			assert_true(p->disks[0].parts[0].boot);
			plan_free(p);
		}
	{
		/* one byte over a MiB boundary takes a whole extra MiB, no more */
		struct plan_src src[] = { { .path = "/a", .vdev = "sda1", .size = 10 * MiB + 1 } };
		struct plan *p = build(src, 1, 4096, PLAN_DEFAULT_ALLOC, NULL);

		assert_int_equal(p->disks[0].parts[0].size, 11 * MiB);
		assert_int_equal(p->disks[0].size, 12 * MiB);
		plan_free(p);
	}
}

static void test_more_than_four(void **state)
{
	struct plan_src src[6];
	const char *v[] = { "sda6", "sda1", "sda2", "sda3", "sda4", "sda5" };

	for (int i = 0; i < 6; i++)
		src[i] = (struct plan_src){ .path = "/x", .vdev = v[i], .size = (uint64_t)(i + 1) * MiB + 3 };
	for (int s = 0; s < 2; s++) {
		struct plan *p = build(src, 6, s ? 4096 : 512, PLAN_DEFAULT_ALLOC, "sda1");
		const struct plan_disk *d = &p->disks[0];

		assert_int_equal(d->n_parts, 6);
		assert_true(d->extended);
		assert_int_equal(d->ext_number, 4);
		assert_int_equal(d->parts[0].number, 1);
		assert_false(d->parts[2].logical);
		assert_true(d->parts[3].logical);
		assert_string_equal(d->parts[3].vdev, "sda4");
		assert_int_equal(d->parts[3].number, 5);
		assert_int_equal(d->parts[5].number, 7);
		assert_int_equal(d->parts[3].start, d->ext_start + MiB);
		check_rules(d, src, 6, PLAN_DEFAULT_ALLOC);
		assert_int_equal(p->n_warnings, 1);
		assert_non_null(strstr(p->warnings[0], "RENUMBERED"));
		plan_free(p);
	}
	{
		/* sda1 sda5 sda6: numbers are kept, extended takes slot 2 */
		struct plan_src s2[] = {
			{ .path = "/a", .vdev = "sda1", .size = MiB },
			{ .path = "/b", .vdev = "sda5", .size = MiB },
			{ .path = "/c", .vdev = "sda6", .size = MiB },
		};
		struct plan *p = build(s2, 3, 512, MiB, NULL);

		assert_int_equal(p->disks[0].ext_number, 2);
		assert_int_equal(p->disks[0].parts[1].number, 5);
		assert_int_equal(p->disks[0].parts[2].number, 6);
		assert_null(strstr(p->warnings[0], "RENUMBERED"));
		plan_free(p);
	}
}

static void test_whole_disks_and_grouping(void **state)
{
	struct plan_src src[] = {
		{ .path = "/dev/vg/os", .vdev = "hda", .size = 10 * MiB + 5 },
		{ .path = "/dev/vg/p1", .vdev = "xvdb1", .size = 2 * MiB },
		{ .path = "/dev/vg/sw", .vdev = "hdb", .size = 64 * MiB, .swap = true, .uuid = "u" },
		{ .path = "/dev/vg/p2", .vdev = "xvdb3", .size = 2 * MiB },
	};
	struct plan *p = build(src, 4, 512, PLAN_DEFAULT_ALLOC, "xvdb3");

	assert_int_equal(p->n_disks, 3);
	assert_true(p->disks[0].whole);
	assert_string_equal(p->disks[0].name, "vm-hda");
	assert_int_equal(p->disks[0].size, 12 * MiB);
	assert_string_equal(p->disks[1].vdev, "xvdb");
	assert_int_equal(p->disks[1].n_parts, 2);
	assert_int_equal(p->disks[1].parts[1].number, 3);	/* gaps kept */
	assert_true(p->disks[1].parts[1].boot);
	assert_false(p->disks[1].parts[0].boot);
	assert_int_equal(p->disks[2].action, PLAN_MKSWAP);
	plan_free(p);
}

static void test_errors(void **state)
{
	struct plan_opts o = { .sector_size = 512, .alloc_unit = MiB };
	struct plan *p = NULL;
	char err[256];
	struct plan_src mixed[] = {
		{ .path = "/a", .vdev = "sda", .size = MiB },
		{ .path = "/b", .vdev = "sda1", .size = MiB },
	};
	struct plan_src bad[] = { { .path = "/a", .vdev = "eth0", .size = MiB } };
	struct plan_src zero[] = { { .path = "/a", .vdev = "sda1", .size = 0 } };

	assert_int_equal(plan_build("vm", mixed, 2, &o, &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(plan_build("vm", bad, 1, &o, &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(plan_build("vm", zero, 1, &o, &p, err, sizeof(err)), -EINVAL);
	o.sector_size = 1024;
	assert_int_equal(plan_build("vm", bad, 1, &o, &p, err, sizeof(err)), -EINVAL);
	o.sector_size = 4096;
	o.alloc_unit = 512;
	assert_int_equal(plan_build("vm", zero, 1, &o, &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
}

/* Boot flag: root= names the partition; one on a second disk; one that names none (with a warning). */
static void test_boot_flag(void **state)
{
	struct plan_src src[] = {
		{ .path = "/swap", .vdev = "xvda1", .size = MiB, .swap = true },
		{ .path = "/root", .vdev = "xvda2", .size = MiB },
		{ .path = "/data", .vdev = "xvdb1", .size = MiB },
	};
	struct plan *p;

	(void)state;
	p = build(src, 3, 512, MiB, "xvdb1");
	assert_false(p->disks[0].parts[0].boot);
	assert_false(p->disks[0].parts[1].boot);
	assert_true(p->disks[1].parts[0].boot);
	assert_int_equal(p->n_warnings, 0);
	plan_free(p);

	/* root=/dev/sda2 while the disks are xvd*: not left without a boot flag */
	p = build(src, 3, 512, MiB, "sda2");
	assert_false(p->disks[0].parts[0].boot);
	assert_true(p->disks[0].parts[1].boot);
	assert_false(p->disks[1].parts[0].boot);
	assert_int_equal(p->n_warnings, 1);
	assert_non_null(strstr(p->warnings[0], "root=/dev/sda2 names none"));
	plan_free(p);
}

static char *quoted(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	plan_sh_quote(f, s);
	fclose(f);
	return buf;
}

/* plan --commands: every value is one POSIX sh word, '...' with '\'' for quotes. */
static void test_sh_quote(void **state)
{
	static const char *const cases[][2] = {
		{ "r1", "r1" },
		{ "/dev/r5/fileserver_root", "/dev/r5/fileserver_root" },
		{ "fileserver-sda", "fileserver-sda" },
		{ "", "''" },
		{ "a b", "'a b'" },
		{ "it's", "'it'\\''s'" },
		{ "'", "''\\'''" },
		{ "$HOME `x` \\ \"q\" ;&|<>*?[]~#\n", "'$HOME `x` \\ \"q\" ;&|<>*?[]~#\n'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *q = quoted(cases[i][0]);

		assert_string_equal(q, cases[i][1]);
		free(q);
	}
}

/* The VG's extent size as `vgs --noheadings --units b --nosuffix -o vg_extent_size` prints it. */
static void test_extent_size(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(plan_parse_extent_size("  4194304\n", &v), 0);
	assert_int_equal(v, 4194304);
	assert_int_equal(plan_parse_extent_size("  16777216B\n", &v), 0);
	assert_int_equal(v, 16777216);
	assert_int_equal(plan_parse_extent_size("1048576.00", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(plan_parse_extent_size("", &v), -EINVAL);
	assert_int_equal(plan_parse_extent_size("  \n", &v), -EINVAL);
	assert_int_equal(plan_parse_extent_size("0", &v), -EINVAL);
	assert_int_equal(plan_parse_extent_size("4194305", &v), -EINVAL);
	assert_int_equal(plan_parse_extent_size("4.00m", &v), -EINVAL);
	assert_int_equal(plan_parse_extent_size("4194304\n4194304\n", &v), -EINVAL);
	assert_int_equal(plan_parse_extent_size("99999999999999999999999", &v), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_case),
		cmocka_unit_test(test_odd_sizes_both_sector_sizes),
		cmocka_unit_test(test_more_than_four),
		cmocka_unit_test(test_whole_disks_and_grouping),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_boot_flag),
		cmocka_unit_test(test_sh_quote),
		cmocka_unit_test(test_extent_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
