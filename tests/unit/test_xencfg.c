/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the Xen config parser: grammar, evaluation, disk and vif specs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "migrate/xen/xencfg.h"

static struct xen_vm *parse_ok(const char *text)
{
	struct xen_error err;
	struct xen_vm *vm = NULL;
	int r = xen_vm_parse(text, strlen(text), &vm, &err);

	if (r < 0)
		fail_msg("parse failed: %d:%d: %s", err.line, err.col, err.msg);
	return vm;
}

static void parse_err(const char *text, int line, int col, const char *needle)
{
	struct xen_error err;
	struct xen_vm *vm = NULL;

	assert_int_equal(xen_vm_parse(text, strlen(text), &vm, &err), -EINVAL);
	assert_null(vm);
	if (err.line != line || err.col != col || !strstr(err.msg, needle))
		fail_msg("got %d:%d: %s; expected %d:%d: ...%s...", err.line, err.col, err.msg, line, col,
			 needle);
}

static void test_xl_basics(void **state)
{
	struct xen_vm *vm = parse_ok("name = 'a'; memory = 0x100\nvcpus = 010\n"
				     "disk = [ 'phy:/dev/vg/a,xvda1,w', # c\n 'phy:/dev/vg/b,xvda2,r', ]\n"
				     "name = \"b\"\n");

	assert_string_equal(vm->name, "b");	/* last duplicate wins */
	assert_int_equal(vm->memory_mib, 256);
	assert_int_equal(vm->vcpus, 8);
	assert_int_equal(vm->n_disks, 2);
	assert_string_equal(vm->disks[1].target, "/dev/vg/b");
	assert_int_equal(vm->disks[1].access, XEN_ACCESS_R);
	xen_vm_free(vm);
}

static void test_python_subset(void **state)
{
	struct xen_vm *vm = parse_ok("n = 'x'\nname = '%s-%03d' % (n, 7)\nmemory = '256'\n"
				     "vcpus = (7 - 1) // 4 + -1 * -1\nextra = 'a' 'b' + \"\"\"c\n"
				     "d\"\"\"\nroot = '/dev/' + \\\n 'sda1'\nmaxmem = -7 % 3\n");

	assert_string_equal(vm->name, "x-007");
	assert_int_equal(vm->memory_mib, 256);
	assert_int_equal(vm->vcpus, 2);
	assert_string_equal(vm->extra, "abc\nd");
	assert_string_equal(vm->root, "/dev/sda1");
	assert_int_equal(vm->maxmem_mib, 2);	/* Python's floored modulo */
	xen_vm_free(vm);
}

static void test_escapes(void **state)
{
	struct xen_vm *vm = parse_ok("name = 'e'\nextra = \"\\x41\\101\\t\\\\\\\"\\q\"\n");

	assert_string_equal(vm->extra, "AA\t\\\"\\q");
	xen_vm_free(vm);
}

static void test_plus_equals(void **state)
{
	struct xen_vm *vm = parse_ok("name = 'p'\ndisk = ['phy:/a,xvda1,w']\ndisk += ['phy:/b,xvda2,w']\n"
				     "extra = 'x'\nextra += 'y'\n");

	assert_int_equal(vm->n_disks, 2);
	assert_string_equal(vm->extra, "xy");
	xen_vm_free(vm);
}

static void test_errors(void **state)
{
	parse_err("name = 'x\n", 1, 8, "unterminated");
	parse_err("name = 'x'\nimport os\n", 2, 1, "import");
	parse_err("name = 'x'\nmemory = 1.5\n", 2, 11, "floating");
	parse_err("name = 'x'\nmemory = 'a' * 2\n", 2, 14, "repetition");
	parse_err("name = 'x'\nmemory = 1 / 0\n", 2, 12, "division by zero");
	parse_err("name = 'x'\nmemory = 9223372036854775807 + 1\n", 2, 30, "overflow");
	parse_err("name = 'x'\nextra = '%s %s' % ('a',)\n", 2, 17, "not enough");
	parse_err("name = 'x'\nextra = '%s' % ('a', 'b')\n", 2, 14, "not all");
	parse_err("name = 'x'\nextra = '%99999s' % 'a'\n", 2, 9, "unsupported format");
	parse_err("name = 'x'\nvcpus = [1\n", 2, 9, "unclosed");
	parse_err("name = 'x'\nmemory = 'lots'\n", 2, 10, "must be a number");
	parse_err("memory = 1\n", 2, 1, "no 'name'");
	parse_err("name = 'x'\nuuid = 'nope'\n", 2, 8, "bad uuid");
	parse_err("name = 'x'\nx = {}\n", 2, 5, "dictionaries");
	parse_err("name = 'x'\nx = os.path\n", 2, 7, "attribute");
}

/* Bytes of the file are quoted escaped in errors and warnings. */
static void parse_err_exact(const char *text, const char *msg)
{
	struct xen_error err;
	struct xen_vm *vm = NULL;

	assert_int_equal(xen_vm_parse(text, strlen(text), &vm, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
}

static void test_escaped_messages(void **state)
{
	struct xen_vm *vm;
	bool seen = false;

	parse_err_exact("name = 'x'\nvif = [ 'mac=00:16:3e:\033[2J:01' ]\n",
			"bad MAC address '00:16:3e:\\x1b[2J:01'");
	parse_err_exact("name = 'x'\nvif = [ 'mac=00:16:3e:\\x1b[2J:01' ]\n",
			"bad MAC address '00:16:3e:\\x1b[2J:01'");
	parse_err_exact("name = 'x'\ndisk = [ 'phy:/dev/x,xvda,\033]0;t\007' ]\n",
			"bad disk access mode '\\x1b]0;t\\x07' (r, ro, w, rw or w!)");
	parse_err_exact("name = 'x'\ndisk = [ 'phy:/dev/x,xvd\033a,w' ]\n",
			"bad virtual device name 'xvd\\x1ba'");
	parse_err_exact("name = 'x'\ndisk = [ 'nb\033d:h:1,xvda,w' ]\n",
			"unknown disk prefix 'nb\\x1bd:' in 'nb\\x1bd:h:1'");
	parse_err_exact("name = 'x'\ndisk = [ 'rel\tative,xvda,w' ]\n",
			"disk target 'rel\\tative' is not an absolute path");
	parse_err_exact("name = 'x'\ndisk = [ 'format=q\\xc3\\xa9, vdev=xvda, target=/a' ]\n",
			"unknown disk format 'q\\xc3\\xa9'");
	parse_err_exact("name = 'x'\nvif = [ 'bridge\033' ]\n", "vif option 'bridge\\x1b' is not KEY=VALUE");
	parse_err_exact("name = 'x'\nmemory = '\\n1\033'\n", "'memory' must be a number, not '\\n1\\x1b'");
	parse_err_exact("name = 'x'\nuuid = '\\\\'\n", "bad uuid '\\\\'");
	parse_err_exact("name = 'x/\033'\n", "name 'x/\\x1b' contains '/' or blanks");
	parse_err_exact("name = 'x'\ntype = '\\r'\n", "unknown type '\\r' (pv, hvm, pvh, linux)");
	parse_err_exact("name = 'x'\nextra = '%\033' % 1\n", "unsupported format '%\\x1b'");
	parse_err_exact("name = 'x'\nextra = '%-1\\x9b' % 1\n", "unsupported format '%-1\\x9b'");

	vm = parse_ok("name = 'w'\nvif = [ 'mac=00:16:3e:aa:bb:cc, acc\033el=\\x9by' ]\n");
	for (size_t i = 0; i < vm->n_warnings; i++) {
		assert_null(strchr(vm->warnings[i], '\033'));
		if (!strcmp(vm->warnings[i], "vif 'mac=00:16:3e:aa:bb:cc, acc\\x1bel=\\x9by': "
				       "option acc\\x1bel=\\x9by is not migrated"))
			seen = true;
	}
	assert_true(seen);
	xen_vm_free(vm);
}

static void test_disk_specs(void **state)
{
	static const struct {
		const char *spec, *target, *vdev, *format;
		enum xen_access access;
		enum xen_devtype devtype;
	} cases[] = {
		{ "phy:/dev/r5/fs_root,sda1,w", "/dev/r5/fs_root", "sda1", "raw", XEN_ACCESS_RW, XEN_DEVTYPE_DISK },
		{ "phy:sda6,hda1,r", "/dev/sda6", "hda1", "raw", XEN_ACCESS_R, XEN_DEVTYPE_DISK },
		{ "tap:aio:/img/a.img,xvda,w", "/img/a.img", "xvda", "raw", XEN_ACCESS_RW, XEN_DEVTYPE_DISK },
		{ "tap2:tapdisk:aio:/img/b,xvdb,w!", "/img/b", "xvdb", "raw", XEN_ACCESS_RW, XEN_DEVTYPE_DISK },
		{ "tap:qcow2:/img/c.qcow2,xvdc,w", "/img/c.qcow2", "xvdc", "qcow2", XEN_ACCESS_RW, XEN_DEVTYPE_DISK },
		{ "file:/iso/d.iso,hdc:cdrom,r", "/iso/d.iso", "hdc", "raw", XEN_ACCESS_R, XEN_DEVTYPE_CDROM },
		{ ",hdc:cdrom,r", NULL, "hdc", "raw", XEN_ACCESS_R, XEN_DEVTYPE_CDROM },
		{ "format=qcow2, vdev=xvde, access=ro, target=/a,b=c.img", "/a,b=c.img", "xvde", "qcow2",
		  XEN_ACCESS_R, XEN_DEVTYPE_DISK },
		{ "vdev=hdd, devtype=cdrom, target=/x.iso", "/x.iso", "hdd", "raw", XEN_ACCESS_RW, XEN_DEVTYPE_CDROM },
		{ "/dev/vg/g,raw,xvda,rw", "/dev/vg/g", "xvda", "raw", XEN_ACCESS_RW, XEN_DEVTYPE_DISK },
		{ "phy:/dev/vg/w,ioemu:hda,w", "/dev/vg/w", "hda", "raw", XEN_ACCESS_RW, XEN_DEVTYPE_DISK },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xen_disk d;
		char **w = NULL;
		size_t nw = 0;

		if (xen_disk_parse(cases[i].spec, &d, &w, &nw, err, sizeof(err)) < 0)
			fail_msg("%s: %s", cases[i].spec, err);
		if (cases[i].target)
			assert_string_equal(d.target, cases[i].target);
		else
			assert_null(d.target);
		assert_string_equal(d.vdev, cases[i].vdev);
		assert_string_equal(d.format, cases[i].format);
		assert_int_equal(d.access, cases[i].access);
		assert_int_equal(d.devtype, cases[i].devtype);
		xen_disk_clear(&d);
		for (size_t j = 0; j < nw; j++)
			free(w[j]);
		free(w);
	}
	{
		static const char *const bad[] = {
			"phy:/dev/x,xvda,q", "nbd:h:1,xvda,w", "phy:/dev/x", "relative,xvda,w", "/a,raw,xvda,rw,x",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct xen_disk d;
			char **w = NULL;
			size_t nw = 0;

			if (xen_disk_parse(bad[i], &d, &w, &nw, err, sizeof(err)) != -EINVAL)
				fail_msg("%s: accepted", bad[i]);
			free(w);
		}
	}
}

static void test_vifs(void **state)
{
	struct xen_vm *vm = parse_ok("name = 'v'\nvif = [ '', 'mac=00:16:3E:AA:BB:CC, bridge=br0 ,model=e1000',"
				     " 'bridge=x,accel=y' ]\n");
	size_t nomac = 0;

	assert_int_equal(vm->n_vifs, 3);
	assert_null(vm->vifs[0].mac);
	assert_string_equal(vm->vifs[1].mac, "00:16:3e:aa:bb:cc");
	assert_string_equal(vm->vifs[1].bridge, "br0");
	assert_string_equal(vm->vifs[1].model, "e1000");
	for (size_t i = 0; i < vm->n_warnings; i++)
		nomac += strstr(vm->warnings[i], "no mac=") != NULL;
	assert_int_equal(nomac, 2);
	xen_vm_free(vm);
}

static void test_vdev_split(void **state)
{
	char d[16];
	int p;

	assert_true(xen_vdev_split("sda1", d, sizeof(d), &p));
	assert_string_equal(d, "sda");
	assert_int_equal(p, 1);
	assert_true(xen_vdev_split("xvdb12", d, sizeof(d), &p));
	assert_string_equal(d, "xvdb");
	assert_int_equal(p, 12);
	assert_true(xen_vdev_split("hda", d, sizeof(d), &p));
	assert_int_equal(p, 0);
	assert_false(xen_vdev_split("sda0", d, sizeof(d), &p));
	assert_false(xen_vdev_split("eth0", d, sizeof(d), &p));
	assert_false(xen_vdev_split("51712", d, sizeof(d), &p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xl_basics),
		cmocka_unit_test(test_python_subset),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_plus_equals),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_escaped_messages),
		cmocka_unit_test(test_disk_specs),
		cmocka_unit_test(test_vifs),
		cmocka_unit_test(test_vdev_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
