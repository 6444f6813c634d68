/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the guest file parsers (migrate/guest/parse.c): fstab, grub
 * configs, inittab, securetty, udev rules, module lists, command lines,
 * names; comments, continuations, tabs, missing fields, CRLF, long lines,
 * NUL bytes.
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

#include "migrate/guest/cpio.h"
#include "migrate/guest/parse.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_fstab(void **state)
{
	static const char in[] =
		"# /etc/fstab: static file system information.\r\n"
		"\r\n"
		"/dev/xvda1\t/\text3\terrors=remount-ro 0 1\r\n"
		"   # indented comment\n"
		"UUID=0b5e55ed-1234-4abc-8def-0123456789ab none swap sw 0 0\n"
		"LABEL=data /srv/my\\040data ext4 defaults,nofail\n"
		"proc /proc\n"
		"lonely\n"
		"/dev/hda3 /home ext3 defaults 0 2 extra fields\n"
		"/dev/sdb1 /mnt/x ext4 noauto"; /* no final newline */
	struct guest_fstab f;

	assert_int_equal(guest_fstab_parse(S(in), &f), 0);
	assert_int_equal(f.n, 6);
	assert_string_equal(f.entries[0].spec, "/dev/xvda1");
	assert_string_equal(f.entries[0].file, "/");
	assert_string_equal(f.entries[0].type, "ext3");
	assert_string_equal(f.entries[0].opts, "errors=remount-ro");
	assert_int_equal(f.entries[0].line, 3);
	assert_string_equal(f.entries[1].spec, "UUID=0b5e55ed-1234-4abc-8def-0123456789ab");
	assert_int_equal(f.entries[1].line, 5);
	assert_string_equal(f.entries[2].file, "/srv/my data");
	assert_true(guest_opts_has(f.entries[2].opts, "nofail"));
	assert_true(guest_opts_has(f.entries[2].opts, "defaults"));
	assert_false(guest_opts_has(f.entries[2].opts, "fail"));
	assert_string_equal(f.entries[3].spec, "proc");
	assert_string_equal(f.entries[3].type, "");
	assert_string_equal(f.entries[3].opts, "");
	assert_int_equal(f.entries[4].line, 9);
	assert_string_equal(f.entries[5].opts, "noauto");
	assert_int_equal(f.entries[5].line, 10);
	guest_fstab_clear(&f);
}

static void test_fstab_nul_and_long(void **state)
{
	static const char nul[] = "/dev/xvda1 / ext3\0 defaults\n/dev/xvda2 none swap sw\n";
	size_t big = 200000;
	char *buf = malloc(big + 64);
	struct guest_fstab f;

	assert_int_equal(guest_fstab_parse(nul, sizeof(nul) - 1, &f), 0);
	assert_int_equal(f.n, 1);	/* the line with a NUL is skipped */
	assert_string_equal(f.entries[0].spec, "/dev/xvda2");
	assert_int_equal(f.entries[0].line, 2);
	guest_fstab_clear(&f);

	assert_non_null(buf);
	memcpy(buf, "/dev/", 5);
	memset(buf + 5, 'x', big - 5);
	strcpy(buf + big, " / ext4 defaults\n/dev/sda2 /b\n");
	assert_int_equal(guest_fstab_parse(buf, strlen(buf), &f), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(strlen(f.entries[0].spec), big);
	assert_string_equal(f.entries[1].file, "/b");
	guest_fstab_clear(&f);
	free(buf);

	assert_int_equal(guest_fstab_parse("", 0, &f), 0);
	assert_int_equal(f.n, 0);
	guest_fstab_clear(&f);
}

static void test_grub_legacy(void **state)
{
	static const char in[] =
		"default\t\t1\n"
		"timeout 5\n"
		"### BEGIN AUTOMAGIC KERNELS LIST\n"
		"# kopt=root=/dev/xvda1 ro console=hvc0\n"
		"title  Debian GNU/Linux, kernel 2.6.26-2-xen-686\r\n"
		"root   (hd0,0)\n"
		"kernel (hd0,0)/boot/vmlinuz-2.6.26-2-xen-686 root=/dev/xvda1 ro console=hvc0\n"
		"initrd /boot/initrd.img-2.6.26-2-xen-686\n"
		"\n"
		"title=Debian 686\n"
		"kernel=--no-mem-option /boot/vmlinuz-2.6.26-2-686 root=UUID=abc ro\n"
		"initrd\t/boot/initrd.img-2.6.26-2-686\n"
		"title no kernel\n"
		"kernel\n";
	struct guest_grub g;
	const struct guest_boot_entry *d;

	assert_int_equal(guest_grub_parse(GUEST_GRUB_LEGACY, S(in), &g), 0);
	assert_int_equal(g.n, 4);
	assert_false(g.entries[0].menu);
	assert_string_equal(g.entries[0].title, "kopt");
	assert_string_equal(g.entries[0].args, "root=/dev/xvda1 ro console=hvc0");
	assert_int_equal(g.entries[0].line, 4);
	assert_true(g.entries[1].menu);
	assert_string_equal(g.entries[1].title, "Debian GNU/Linux, kernel 2.6.26-2-xen-686");
	assert_string_equal(g.entries[1].kernel, "/boot/vmlinuz-2.6.26-2-xen-686");
	assert_string_equal(g.entries[1].args, "root=/dev/xvda1 ro console=hvc0");
	assert_int_equal(g.entries[1].line, 7);
	assert_string_equal(g.entries[1].initrd, "/boot/initrd.img-2.6.26-2-xen-686");
	assert_int_equal(g.entries[1].initrd_line, 8);
	assert_string_equal(g.entries[2].title, "Debian 686");
	assert_string_equal(g.entries[2].kernel, "/boot/vmlinuz-2.6.26-2-686");
	assert_string_equal(g.entries[2].args, "root=UUID=abc ro");
	assert_null(g.entries[3].kernel);
	assert_int_equal(g.default_item, 1);
	d = guest_grub_default(&g);
	assert_ptr_equal(d, &g.entries[2]);
	guest_grub_clear(&g);

	assert_int_equal(guest_grub_parse(GUEST_GRUB_LEGACY, S("default saved\ntitle a\nkernel /k\n"), &g), 0);
	assert_int_equal(g.default_item, -1);
	assert_ptr_equal(guest_grub_default(&g), &g.entries[0]);
	guest_grub_clear(&g);
}

static void test_grub2(void **state)
{
	static const char in[] =
		"set default=\"1>1\"\n"
		"if [ -s $prefix/grubenv ]; then\n"
		"  load_env\n"
		"fi\n"
		"menuentry 'Debian GNU/Linux' --class debian --class gnu-linux $menuentry_id_option 'gnulinux-simple' {\n"
		"\tsearch --no-floppy --fs-uuid --set=root 0b5e55ed\n"
		"\tlinux\t/boot/vmlinuz-6.1.0-9-amd64 root=UUID=0b5e55ed ro \\\n"
		"\t\tquiet console=\"ttyS0,115200n8\"\n"
		"\tinitrd\t/boot/intel-ucode.img /boot/initrd.img-6.1.0-9-amd64\n"
		"}\n"
		"submenu 'Advanced options' {\n"
		"\tmenuentry 'Debian, with Linux 6.1.0-9-amd64' {\n"
		"\t\tlinux /boot/vmlinuz-6.1.0-9-amd64 root=/dev/xvda1 ro # comment\n"
		"\t}\n"
		"\tmenuentry \"Debian, with Linux 5.10 (recovery)\" {\n"
		"\t\tlinux16 (hd0,msdos1)/vmlinuz-5.10 root=/dev/xvda1 single\n"
		"\t\tinitrd16 /initrd.img-5.10\n"
		"\t}\n"
		"}\n";
	struct guest_grub g;
	const struct guest_boot_entry *d;

	assert_int_equal(guest_grub_parse(GUEST_GRUB2, S(in), &g), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.entries[0].title, "Debian GNU/Linux");
	assert_string_equal(g.entries[0].kernel, "/boot/vmlinuz-6.1.0-9-amd64");
	assert_string_equal(g.entries[0].args, "root=UUID=0b5e55ed ro quiet console=ttyS0,115200n8");
	assert_int_equal(g.entries[0].line, 7);
	assert_string_equal(g.entries[0].initrd, "/boot/initrd.img-6.1.0-9-amd64");
	assert_int_equal(g.entries[0].item, 0);
	assert_int_equal(g.entries[0].sub, -1);
	assert_string_equal(g.entries[1].args, "root=/dev/xvda1 ro");
	assert_int_equal(g.entries[1].item, 1);
	assert_int_equal(g.entries[1].sub, 0);
	assert_string_equal(g.entries[2].title, "Debian, with Linux 5.10 (recovery)");
	assert_string_equal(g.entries[2].kernel, "/vmlinuz-5.10");
	assert_int_equal(g.entries[2].line, 16);
	assert_int_equal(g.entries[2].sub, 1);
	assert_int_equal(g.default_item, 1);
	assert_int_equal(g.default_sub, 1);
	d = guest_grub_default(&g);
	assert_ptr_equal(d, &g.entries[2]);
	guest_grub_clear(&g);

	/* unbalanced braces and a stray linux line outside entries */
	assert_int_equal(guest_grub_parse(GUEST_GRUB2, S("}\n}\nlinux /x root=/dev/xvda1\nmenuentry 'a' {\n"), &g),
			 0);
	assert_int_equal(g.n, 1);
	assert_null(g.entries[0].kernel);
	guest_grub_clear(&g);
}

static void test_grub_default(void **state)
{
	static const char in[] =
		"GRUB_DEFAULT=0\n"
		"GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
		"export GRUB_CMDLINE_LINUX='root=/dev/xvda1 console=hvc0'   # old\n"
		"GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX \\\n"
		"  resume=/dev/xvda2\"\n"
		"GRUB_CMDLINE_XEN=\"dom0_mem=512M\"\n";
	struct guest_grub g;

	assert_int_equal(guest_grub_parse(GUEST_GRUB_DEFAULT, S(in), &g), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.entries[0].title, "GRUB_CMDLINE_LINUX_DEFAULT");
	assert_string_equal(g.entries[0].args, "quiet");
	assert_string_equal(g.entries[1].title, "GRUB_CMDLINE_LINUX");
	assert_string_equal(g.entries[1].args, "root=/dev/xvda1 console=hvc0");
	assert_int_equal(g.entries[1].line, 3);
	assert_string_equal(g.entries[2].args, "$GRUB_CMDLINE_LINUX   resume=/dev/xvda2");
	assert_int_equal(g.entries[2].line, 4);
	assert_false(g.entries[0].menu);
	assert_null(guest_grub_default(&g));
	guest_grub_clear(&g);
}

struct devs {
	char buf[256];
};

static void collect(const char *key, const char *dev, void *data)
{
	struct devs *d = data;
	size_t l = strlen(d->buf);

	snprintf(d->buf + l, sizeof(d->buf) - l, "%s:%s ", key, dev);
}

static void test_cmdline(void **state)
{
	char v[64];
	struct devs d = { "" };

	assert_true(guest_cmdline_get("ro root=/dev/xvda1 quiet root=/dev/xvda2", "root", v, sizeof(v)));
	assert_string_equal(v, "/dev/xvda2");
	assert_true(guest_cmdline_get("console=\"ttyS0,115200\"", "console", v, sizeof(v)));
	assert_string_equal(v, "ttyS0,115200");
	assert_false(guest_cmdline_get("roots=/dev/x", "root", v, sizeof(v)));
	assert_false(guest_cmdline_get(NULL, "root", v, sizeof(v)));
	assert_false(guest_cmdline_get("root=/dev/a-very-long-name", "root", v, 8));
	guest_cmdline_devices("root=/dev/xvda1 ro resume=/dev/xvda2 x=/dev/ y=/dev/sda3\tz", collect, &d);
	assert_string_equal(d.buf, "root:xvda1 resume:xvda2 y:sda3 ");
}

static void test_inittab(void **state)
{
	static const char in[] =
		"id:2:initdefault:\n"
		"# comment:with:colons:here\n"
		"1:2345:respawn:/sbin/getty 38400 tty1\r\n"
		"co:2345:respawn:/sbin/agetty -L 115200 ttyS0 vt100\n"
		"#T0:23:respawn:/sbin/getty -L ttyS0 9600 vt100\n"
		"h0:2345:respawn:/sbin/getty 38400 hvc0\n"
		"x:2:off:/sbin/mingetty /dev/xvc0\n"
		"ttyS1::respawn:/sbin/getty -L 115200 vt100\n"
		"::respawn:/bin/busybox getty 38400 console\n"
		"ca:12345:ctrlaltdel:/sbin/shutdown -t1 -a -r now\n"
		"short:2:respawn\n"
		"\t  \n";
	struct guest_inittab t;

	assert_int_equal(guest_inittab_parse(S(in), &t), 0);
	assert_int_equal(t.n, 8);
	assert_string_equal(t.entries[0].action, "initdefault");
	assert_null(t.entries[0].tty);
	assert_string_equal(t.entries[1].tty, "tty1");
	assert_int_equal(t.entries[1].line, 3);
	assert_string_equal(t.entries[2].tty, "ttyS0");
	assert_string_equal(t.entries[2].process, "/sbin/agetty -L 115200 ttyS0 vt100");
	assert_string_equal(t.entries[3].tty, "hvc0");
	assert_string_equal(t.entries[4].tty, "xvc0");
	assert_string_equal(t.entries[4].action, "off");
	assert_string_equal(t.entries[5].tty, "ttyS1");
	assert_string_equal(t.entries[5].runlevels, "");
	assert_string_equal(t.entries[6].tty, "console");
	assert_null(t.entries[7].tty);
	guest_inittab_clear(&t);
}

static void test_securetty(void **state)
{
	struct guest_names n;

	assert_int_equal(guest_securetty_parse(S("# comment\nconsole\n/dev/tty1\r\n  ttyS0  # serial\n\n"), &n), 0);
	assert_int_equal(n.n, 3);
	assert_string_equal(n.names[1].name, "tty1");
	assert_string_equal(n.names[2].name, "ttyS0");
	assert_int_equal(n.names[2].line, 4);
	assert_true(guest_names_has(&n, "console"));
	assert_false(guest_names_has(&n, "hvc0"));
	guest_names_clear(&n);
}

static void test_modules(void **state)
{
	static const char dep[] =
		"kernel/drivers/scsi/virtio_scsi.ko: kernel/drivers/virtio/virtio.ko\n"
		"kernel/drivers/net/virtio_net.ko.xz:\n"
		"kernel/drivers/ata/ata-piix.ko.zst: kernel/drivers/ata/libata.ko\n"
		"kernel/drivers/block/virtio_blk.ko.gz\n"
		"not a module: x\n"
		"# comment.ko\n";
	struct guest_names n;
	char name[16];

	assert_int_equal(guest_modules_parse(S(dep), &n), 0);
	assert_int_equal(n.n, 4);
	assert_true(guest_names_has(&n, "virtio_scsi"));
	assert_true(guest_names_has(&n, "virtio_net"));
	assert_true(guest_names_has(&n, "ata_piix"));
	assert_true(guest_names_has(&n, "virtio_blk"));
	assert_false(guest_names_has(&n, "virtio"));
	guest_names_clear(&n);
	assert_false(guest_module_name(S("a/b/.ko"), name, sizeof(name)));
	assert_false(guest_module_name(S("x.ko.bz2"), name, sizeof(name)));
	assert_false(guest_module_name(S("averyveryverylongname.ko"), name, sizeof(name)));
	assert_true(guest_module_name(S("e1000.ko"), name, sizeof(name)));
	assert_string_equal(name, "e1000");
}

static void test_udev(void **state)
{
	static const char in[] =
		"# This file was automatically generated by the /lib/udev/write_net_rules\n"
		"\n"
		"# Xen virtual device (vif)\n"
		"SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"vif\", ATTR{address}==\"00:16:3e:5a:0b:12\", "
		"ATTR{dev_id}==\"0x0\", KERNEL==\"eth*\", NAME=\"eth0\"\r\n"
		"SUBSYSTEM==\"net\", DRIVERS==\"?*\", \\\n"
		"  ATTR{address}==\"52:54:00:12:34:56\", NAME=\"eth1\"\n"
		"KERNEL!=\"lo\",NAME:=\"x\\\"y\", RUN+=\"/bin/true\"\n"
		"broken ATTR{address  NAME=\"eth9\"\n"
		"GOOD==\"1\", bad\n";
	struct guest_udev_rules r;

	assert_int_equal(guest_udev_parse(S(in), &r), 0);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.rules[0].line, 4);
	assert_string_equal(guest_udev_get(&r.rules[0], "ATTR", "address", GUEST_UDEV_MATCH), "00:16:3e:5a:0b:12");
	assert_string_equal(guest_udev_get(&r.rules[0], "DRIVERS", NULL, GUEST_UDEV_MATCH), "vif");
	assert_string_equal(guest_udev_get(&r.rules[0], "NAME", NULL, GUEST_UDEV_ASSIGN), "eth0");
	assert_null(guest_udev_get(&r.rules[0], "NAME", NULL, GUEST_UDEV_MATCH));
	assert_int_equal(r.rules[1].line, 5);
	assert_string_equal(guest_udev_get(&r.rules[1], "ATTR", "address", GUEST_UDEV_MATCH), "52:54:00:12:34:56");
	assert_string_equal(guest_udev_get(&r.rules[2], "KERNEL", NULL, GUEST_UDEV_NOMATCH), "lo");
	assert_string_equal(guest_udev_get(&r.rules[2], "NAME", NULL, GUEST_UDEV_ASSIGN), "x\"y");
	assert_int_equal(r.rules[3].n, 0);
	assert_int_equal(r.rules[4].n, 1);
	guest_udev_clear(&r);
}

static void test_names(void **state)
{
	struct guest_devname a, b;
	char tty[16];

	assert_true(guest_getty_unit_tty("serial-getty@ttyS0.service", tty, sizeof(tty)));
	assert_string_equal(tty, "ttyS0");
	assert_true(guest_getty_unit_tty("getty@hvc0.service", tty, sizeof(tty)));
	assert_string_equal(tty, "hvc0");
	assert_false(guest_getty_unit_tty("getty@.service", tty, sizeof(tty)));
	assert_false(guest_getty_unit_tty("getty.target", tty, sizeof(tty)));
	assert_false(guest_getty_unit_tty("serial-getty@ttyS0.service", tty, 4));

	assert_true(guest_devname_parse("/dev/xvda1", &a));
	assert_string_equal(a.prefix, "xvd");
	assert_string_equal(a.letters, "a");
	assert_int_equal(a.part, 1);
	assert_true(guest_devname_parse("sda1", &b));
	assert_true(guest_devname_same(&a, &b));
	assert_true(guest_devname_parse("hdaa", &b));
	assert_int_equal(b.part, 0);
	assert_false(guest_devname_same(&a, &b));
	assert_false(guest_devname_parse("sda0", &b));
	assert_false(guest_devname_parse("sda1x", &b));
	assert_false(guest_devname_parse("nvme0n1p1", &b));
	assert_false(guest_devname_parse("sd", &b));
	assert_false(guest_devname_parse("sda123456", &b));
}

/* One newc member header + name (+ padding) + data, appended to buf at *len. */
static void cpio_add(char *buf, size_t *len, const char *name, const char *data)
{
	size_t nl = strlen(name) + 1, dl = strlen(data);

	*len += (size_t)sprintf(buf + *len, "070701%08x%08x%08x%08x%08x%08x%08zx%08x%08x%08x%08x%08zx%08x",
				1, 0100644, 0, 0, 1, 0, dl, 0, 0, 0, 0, nl, 0);
	memcpy(buf + *len, name, nl);
	*len += nl;
	while (*len % 4)
		buf[(*len)++] = '\0';
	memcpy(buf + *len, data, dl);
	*len += dl;
	while (*len % 4)
		buf[(*len)++] = '\0';
}

struct seen {
	char names[512];
	int stop_at;
	int n;
};

static int cpio_cb(const char *name, uint32_t mode, void *data)
{
	struct seen *s = data;

	assert_int_equal(mode, 0100644);
	strcat(s->names, name);
	strcat(s->names, ";");
	return ++s->n == s->stop_at;
}

static void test_cpio(void **state)
{
	char buf[4096];
	size_t len = 0, end;

	/* early archive, padding, a second archive, then "compressed" bytes */
	cpio_add(buf, &len, "kernel/x86/microcode/GenuineIntel.bin", "ucode");
	cpio_add(buf, &len, "TRAILER!!!", "");
	memset(buf + len, 0, 512 - len % 512);
	len += 512 - len % 512;
	cpio_add(buf, &len, "lib/modules/6.1.0-9-amd64/kernel/drivers/scsi/virtio_scsi.ko", "abc");
	cpio_add(buf, &len, "init", "#!/bin/sh\n");
	cpio_add(buf, &len, "TRAILER!!!", "");
	end = len;
	memcpy(buf + len, "\x28\xb5\x2f\xfd zstd follows", 17);
	len += 17;

	for (size_t chunk = 1; chunk <= len; chunk = chunk * 2 + 1) {
		struct seen s = { "", 0, 0 };
		struct guest_cpio *c = guest_cpio_new(cpio_cb, &s);

		assert_non_null(c);
		for (size_t off = 0; off < len; off += chunk)
			assert_int_equal(guest_cpio_feed(c, buf + off, chunk < len - off ? chunk : len - off), 0);
		assert_true(guest_cpio_done(c));
		assert_int_equal(guest_cpio_end(c), end);
		assert_int_equal(guest_cpio_members(c), 3);
		assert_string_equal(s.names, "kernel/x86/microcode/GenuineIntel.bin;"
				    "lib/modules/6.1.0-9-amd64/kernel/drivers/scsi/virtio_scsi.ko;init;");
		guest_cpio_free(c);
	}

	/* the callback stops the reading */
	{
		struct seen s = { "", 2, 0 };
		struct guest_cpio *c = guest_cpio_new(cpio_cb, &s);

		assert_int_equal(guest_cpio_feed(c, buf, len), 0);
		assert_true(guest_cpio_done(c));
		assert_int_equal(s.n, 2);
		guest_cpio_free(c);
	}
	/* a compressed image from the start: done at 0 */
	{
		struct guest_cpio *c = guest_cpio_new(NULL, NULL);

		assert_int_equal(guest_cpio_feed(c, "\x1f\x8b\x08", 3), 0);
		assert_true(guest_cpio_done(c));
		assert_int_equal(guest_cpio_end(c), 0);
		guest_cpio_free(c);
	}
	/* a bad header after a good magic, a huge name */
	{
		struct guest_cpio *c = guest_cpio_new(NULL, NULL);
		char bad[111];

		memset(bad, 'z', sizeof(bad));
		memcpy(bad, "070701", 6);
		assert_int_equal(guest_cpio_feed(c, bad, sizeof(bad)), -EINVAL);
		assert_true(guest_cpio_done(c));
		guest_cpio_free(c);
		c = guest_cpio_new(NULL, NULL);
		len = (size_t)sprintf(buf, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
				      1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x100000, 0);
		assert_int_equal(guest_cpio_feed(c, buf, len), -EINVAL);
		guest_cpio_free(c);
	}
	/* truncated: not done, no error */
	{
		struct guest_cpio *c = guest_cpio_new(NULL, NULL);

		len = 0;
		cpio_add(buf, &len, "a", "0123456789");
		assert_int_equal(guest_cpio_feed(c, buf, len - 5), 0);
		assert_false(guest_cpio_done(c));
		assert_int_equal(guest_cpio_members(c), 1);
		guest_cpio_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fstab),
		cmocka_unit_test(test_fstab_nul_and_long),
		cmocka_unit_test(test_grub_legacy),
		cmocka_unit_test(test_grub2),
		cmocka_unit_test(test_grub_default),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_inittab),
		cmocka_unit_test(test_securetty),
		cmocka_unit_test(test_modules),
		cmocka_unit_test(test_udev),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cpio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
