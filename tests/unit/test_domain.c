/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the domain builder without libvirt: the mapping from a Xen
 * config and its plan (disk order, root=/resume= translation through the
 * plan's numbers, NICs, MACs, refusals), the XML writer, the canonical form
 * a definition is compared in, stage 2 over an existing definition, the
 * line diff, and a plan read back from its JSON.
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

#include <json-c/json.h>

#include "migrate/disk/plan.h"
#include "migrate/virt/domain.h"
#include "migrate/virt/domain_map.h"
#include "migrate/xen/xencfg.h"

#define MiB PLAN_MIB

struct fixture {
	struct xen_vm *vm;
	struct plan *plan;
	struct domain_spec *spec;
	char err[512];
};

/* Parses cfg and plans its disks (each source 8 MiB). */
static void load(struct fixture *f, const char *cfg)
{
	struct plan_opts o = { .sector_size = 512, .alloc_unit = 4 * MiB };
	struct plan_src src[16];
	struct xen_error xerr;
	size_t n = 0;

	memset(f, 0, sizeof(*f));
	if (xen_vm_parse(cfg, strlen(cfg), &f->vm, &xerr) < 0)
		fail_msg("parse: %d:%d: %s", xerr.line, xerr.col, xerr.msg);
	for (size_t i = 0; i < f->vm->n_disks && n < 16; i++) {
		if (f->vm->disks[i].devtype == XEN_DEVTYPE_CDROM)
			continue;
		src[n++] = (struct plan_src){ .path = f->vm->disks[i].target, .vdev = f->vm->disks[i].vdev,
					      .size = 8 * MiB };
	}
	if (plan_build(f->vm->name, src, n, &o, &f->plan, f->err, sizeof(f->err)) < 0)
		fail_msg("plan: %s", f->err);
}

static int map(struct fixture *f, const struct domain_choices *c)
{
	return domain_spec_from_xen(f->vm, f->plan, c, &f->spec, f->err, sizeof(f->err));
}

static void unload(struct fixture *f)
{
	domain_spec_free(f->spec);
	plan_free(f->plan);
	xen_vm_free(f->vm);
}

static bool has_warning(const struct domain_spec *s, const char *part)
{
	for (size_t i = 0; i < s->n_warnings; i++)
		if (strstr(s->warnings[i], part))
			return true;
	return false;
}

static const struct domain_choices stage1 = { .stage = 1, .bus = DOMAIN_BUS_SCSI, .kernel = "/b/k", .initrd = "/b/i" };

static void test_root_through_renumbering(void **state)
{
	struct fixture f;
	struct domain_choices c = stage1;

	/* six partitions: sda4-6 become logical 5-7; root and resume follow */
	load(&f, "name = 'many'\nmemory = 512\nroot = '/dev/sda5 ro'\nextra = 'resume=/dev/sda2 quiet'\n"
		 "disk = [ 'phy:/r/1,sda1,w', 'phy:/r/2,sda2,w', 'phy:/r/3,sda3,w', 'phy:/r/4,sda4,w',\n"
		 "         'phy:/r/5,sda5,w', 'phy:/r/6,sda6,w' ]\n");
	assert_int_equal(map(&f, &c), 0);
	assert_string_equal(f.spec->cmdline, "root=/dev/sda6 ro resume=/dev/sda2 quiet console=ttyS0,115200");
	assert_true(has_warning(f.spec, "partition sda5 is sda6 in the guest"));
	assert_int_equal(f.spec->n_disks, 1);
	assert_string_equal(f.spec->disks[0].dev, "sda");
	assert_string_equal(f.spec->disks[0].volume, "many-sda");
	domain_spec_free(f.spec);
	f.spec = NULL;

	c.bus = DOMAIN_BUS_VIRTIO;
	assert_int_equal(map(&f, &c), 0);
	assert_string_equal(f.spec->cmdline, "root=/dev/vda6 ro resume=/dev/vda2 quiet console=ttyS0,115200");
	unload(&f);
}

static void test_disk_order_and_names(void **state)
{
	struct fixture f;
	struct domain_choices c = stage1;

	/* config order xvdb, xvda: the guest sees xvda first; a gap (no xvdc) closes */
	load(&f, "name = 'o'\nmemory = 64\nroot = '/dev/xvdd1 ro'\n"
		 "disk = [ 'phy:/r/b,xvdb,w', 'phy:/r/a1,xvda1,w', 'phy:/r/d1,xvdd1,w', 'file:/iso/x.iso,xvdc:cdrom,r' ]\n");
	assert_int_equal(map(&f, &c), 0);
	assert_int_equal(f.spec->n_disks, 4);
	assert_string_equal(f.spec->disks[0].xen_vdev, "xvda");
	assert_string_equal(f.spec->disks[0].dev, "sda");
	assert_string_equal(f.spec->disks[1].xen_vdev, "xvdb");
	assert_string_equal(f.spec->disks[1].dev, "sdb");
	assert_string_equal(f.spec->disks[2].xen_vdev, "xvdd");
	assert_string_equal(f.spec->disks[2].dev, "sdc");
	assert_true(f.spec->disks[3].cdrom);
	assert_string_equal(f.spec->disks[3].dev, "sdd");
	assert_string_equal(f.spec->disks[3].guest, "sr0");
	assert_string_equal(f.spec->disks[3].path, "/iso/x.iso");	/* no path_exists: kept */
	assert_string_equal(f.spec->cmdline, "root=/dev/sdc1 ro console=ttyS0,115200");
	domain_spec_free(f.spec);
	f.spec = NULL;

	/* virtio-blk has no cdroms: the cdrom goes on scsi */
	c.bus = DOMAIN_BUS_VIRTIO;
	assert_int_equal(map(&f, &c), 0);
	assert_string_equal(f.spec->disks[2].dev, "vdc");
	assert_int_equal(f.spec->disks[3].bus, DOMAIN_BUS_SCSI);
	assert_string_equal(f.spec->disks[3].dev, "sda");
	assert_string_equal(f.spec->cmdline, "root=/dev/vdc1 ro console=ttyS0,115200");
	domain_spec_free(f.spec);
	f.spec = NULL;

	/* ide: libvirt's hdX, the guest's sdX (libata) */
	c.bus = DOMAIN_BUS_IDE;
	assert_int_equal(map(&f, &c), 0);
	assert_string_equal(f.spec->disks[2].dev, "hdc");
	assert_string_equal(f.spec->disks[3].dev, "hdd");
	assert_string_equal(f.spec->cmdline, "root=/dev/sdc1 ro console=ttyS0,115200");
	unload(&f);
}

static bool nothing_here(const char *path, void *data)
{
	(void)path;
	(void)data;
	return false;
}

static void test_cmdline_forms(void **state)
{
	struct fixture f;
	struct domain_choices c = stage1;

	/* Xen's cmdline wins over root and extra; a partition inside a whole disk */
	load(&f, "name = 'w'\nmemory = 64\nroot = '/dev/xvda9'\ncmdline = 'root=/dev/xvda2  ro\\tquiet x=\"a  b\"'\n"
		 "disk = [ 'phy:/r/w,xvda,w', ',hdc:cdrom,r', 'file:/no/such.iso,hdd:cdrom,r' ]\n");
	c.path_exists = nothing_here;
	assert_int_equal(map(&f, &c), 0);
	assert_string_equal(f.spec->cmdline, "root=/dev/sda2 ro quiet x=\"a  b\" console=ttyS0,115200");
	/* the empty cdrom and the one whose image is not here are both empty */
	assert_null(f.spec->disks[1].path);
	assert_null(f.spec->disks[2].path);
	assert_true(has_warning(f.spec, "cdrom hdd: /no/such.iso is not on this host"));
	unload(&f);

	/* UUID= and a device of no disk of the VM stay as they are */
	load(&f, "name = 'u'\nmemory = 64\nroot = 'UUID=1234 ro'\nextra = 'resume=/dev/xvdz2'\n"
		 "disk = [ 'phy:/r/u,xvda1,w' ]\n");
	assert_int_equal(map(&f, &c), 0);
	assert_string_equal(f.spec->cmdline, "root=UUID=1234 ro resume=/dev/xvdz2 console=ttyS0,115200");
	assert_true(has_warning(f.spec, "resume=/dev/xvdz2 names no disk of the VM"));
	unload(&f);
}

static void test_memory_vcpus_lifecycle(void **state)
{
	struct fixture f;
	struct domain_choices c = { .stage = 2, .bus = DOMAIN_BUS_SCSI };

	load(&f, "name = 'm'\nmemory = 256\nmaxmem = 1024\nvcpus = 2\nmaxvcpus = 4\non_crash = 'soft-reset'\n"
		 "on_reboot = 'rename-restart'\nuuid = '3f2504e0-4f89-11d3-9a0c-0305e82c3301'\n"
		 "disk = [ 'phy:/r/m,xvda,w' ]\n");
	assert_int_equal(map(&f, &c), 0);
	assert_int_equal(f.spec->memory_kib, 1024 * 1024);
	assert_int_equal(f.spec->current_kib, 256 * 1024);
	assert_int_equal(f.spec->vcpus, 4);
	assert_int_equal(f.spec->current_vcpus, 2);
	assert_null(f.spec->on_crash);
	assert_true(has_warning(f.spec, "on_crash = 'soft-reset' has no libvirt equivalent"));
	assert_string_equal(f.spec->on_reboot, "rename-restart");
	assert_string_equal(f.spec->uuid, "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
	assert_null(f.spec->kernel);
	assert_null(f.spec->cmdline);
	unload(&f);
}

static void test_nics(void **state)
{
	struct domain_pair map_br[] = { { "xenbr0", "br-lan" }, { "br9", "br-x" } };
	struct domain_pair macs[] = { { "vif1", "00-16-3E-AB-CD-EF" } };
	struct domain_choices c = { .stage = 2, .bus = DOMAIN_BUS_SCSI, .bridge_map = map_br, .n_bridge_map = 2 };
	struct fixture f;

	load(&f, "name = 'n'\nmemory = 64\ndisk = [ 'phy:/r/n,xvda,w' ]\n"
		 "vif = [ 'mac=00:16:3E:00:00:01,bridge=br-dmz,model=e1000', 'bridge=xenbr0', 'mac=00:16:3e:00:00:03,model=ioemu' ]\n");
	assert_int_equal(map(&f, &c), -EINVAL);
	assert_non_null(strstr(f.err, "vif1 has no MAC"));
	c.macs = macs;
	c.n_macs = 1;
	assert_int_equal(map(&f, &c), 0);
	assert_int_equal(f.spec->n_nics, 3);
	assert_string_equal(f.spec->nics[0].mac, "00:16:3e:00:00:01");
	assert_string_equal(f.spec->nics[0].bridge, "br-dmz");
	assert_string_equal(f.spec->nics[0].model, "e1000");
	assert_string_equal(f.spec->nics[1].mac, "00:16:3e:ab:cd:ef");
	assert_string_equal(f.spec->nics[1].bridge, "br-lan");
	assert_string_equal(f.spec->nics[1].model, "virtio");
	assert_string_equal(f.spec->nics[2].bridge, "br-lan");	/* no bridge: xenbr0, mapped */
	assert_string_equal(f.spec->nics[2].model, "virtio");
	assert_true(has_warning(f.spec, "vif2: model 'ioemu' is not a NIC model here"));
	assert_true(has_warning(f.spec, "--bridge-map br9=br-x: no vif of the VM is on br9"));
	domain_spec_free(f.spec);
	f.spec = NULL;
	c.nic_model = "rtl8139";
	assert_int_equal(map(&f, &c), 0);
	assert_string_equal(f.spec->nics[0].model, "rtl8139");
	unload(&f);
}

static void test_refusals(void **state)
{
	struct domain_choices c = { .stage = 1, .bus = DOMAIN_BUS_SCSI };
	struct fixture f;
	struct plan *other;

	load(&f, "name = 'r'\nmemory = 64\ndisk = [ 'phy:/r/1,xvda1,w', 'phy:/r/2,xvda2,r' ]\n");
	assert_int_equal(map(&f, &c), -EINVAL);
	assert_non_null(strstr(f.err, "give --kernel"));
	c.stage = 2;
	c.bus = DOMAIN_BUS_SATA;
	assert_int_equal(map(&f, &c), 0);	/* one of the two volumes is writable */
	domain_spec_free(f.spec);
	f.spec = NULL;
	c.stage = 3;
	assert_int_equal(map(&f, &c), -EINVAL);
	c.stage = 2;
	c.bus = DOMAIN_BUS_MAX;
	assert_int_equal(map(&f, &c), -EINVAL);
	c.bus = DOMAIN_BUS_SCSI;
	/* a plan without xvda2 */
	{
		struct plan_opts o = { .sector_size = 512, .alloc_unit = 4 * MiB };
		struct plan_src s[] = { { .path = "/r/1", .vdev = "xvda1", .size = MiB } };

		assert_int_equal(plan_build("r", s, 1, &o, &other, f.err, sizeof(f.err)), 0);
	}
	assert_int_equal(domain_spec_from_xen(f.vm, other, &c, &f.spec, f.err, sizeof(f.err)), -EINVAL);
	assert_non_null(strstr(f.err, "Xen disk xvda2 (/r/2) is not in the disk plan"));
	plan_free(other);
	unload(&f);

	load(&f, "name = 'ro'\nmemory = 64\ndisk = [ 'phy:/r/1,xvda,r' ]\n");
	c.bus = DOMAIN_BUS_IDE;
	assert_int_equal(map(&f, &c), -EINVAL);
	assert_non_null(strstr(f.err, "no read-only ide disks"));
	c.bus = DOMAIN_BUS_SCSI;
	assert_int_equal(map(&f, &c), 0);
	assert_true(f.spec->disks[0].readonly);
	unload(&f);
}

static void test_mac_normalize(void **state)
{
	char m[18];

	assert_true(domain_mac_normalize("00-16-3E-0A-0B-0C", m));
	assert_string_equal(m, "00:16:3e:0a:0b:0c");
	assert_false(domain_mac_normalize("00:16:3e:0a:0b", m));
	assert_false(domain_mac_normalize("00:16:3e:0a:0b:0c:", m));
	assert_false(domain_mac_normalize("00:16:3e:0a:0b:0g", m));
	assert_false(domain_mac_normalize("0:16:3e:0a:0b:0c", m));
}

static struct domain_spec *small_spec(void)
{
	struct domain_spec *s = calloc(1, sizeof(*s));

	s->name = strdup("a&b");
	s->type = strdup("qemu");
	s->arch = strdup("x86_64");
	s->machine = strdup("pc-i440fx-7.2");
	s->memory_kib = s->current_kib = 262144;
	s->vcpus = s->current_vcpus = 1;
	s->disks = calloc(2, sizeof(*s->disks));
	s->n_disks = 2;
	s->disks[0] = (struct domain_disk){ .path = strdup("/v/a b"), .bus = DOMAIN_BUS_SCSI, .dev = "sda" };
	s->disks[1] = (struct domain_disk){ .cdrom = true, .bus = DOMAIN_BUS_SCSI, .dev = "sdb" };
	s->nics = calloc(1, sizeof(*s->nics));
	s->n_nics = 1;
	s->nics[0] = (struct domain_nic){ .mac = "00:16:3e:00:00:01", .bridge = strdup("br0"),
					  .model = strdup("virtio") };
	s->kernel = strdup("/b/k");
	s->cmdline = strdup("root=/dev/sda1 x=\"<&>\"");
	return s;
}

static void test_build_xml(void **state)
{
	struct domain_spec *s = small_spec();
	char *xml, err[256];

	assert_int_equal(domain_build_xml(s, &xml, err, sizeof(err)), 0);
	assert_non_null(strstr(xml, "<name>a&amp;b</name>"));
	assert_non_null(strstr(xml, "<cmdline>root=/dev/sda1 x=&quot;&lt;&amp;&gt;&quot;</cmdline>"));
	assert_non_null(strstr(xml, "<controller type=\"scsi\" index=\"0\" model=\"virtio-scsi\"/>"));
	assert_non_null(strstr(xml, "<source file=\"/v/a b\"/>"));
	assert_null(strstr(xml, "<boot"));
	assert_null(strstr(xml, "<uuid>"));
	free(xml);

	/* stage 2: no kernel, boot from the disk */
	free(s->kernel);
	free(s->cmdline);
	s->kernel = s->cmdline = NULL;
	assert_int_equal(domain_build_xml(s, &xml, err, sizeof(err)), 0);
	assert_non_null(strstr(xml, "<boot dev=\"hd\"/>"));
	free(xml);

	s->initrd = strdup("/b/i");
	assert_int_equal(domain_build_xml(s, &xml, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs a kernel"));
	free(s->initrd);
	s->initrd = NULL;

	strcpy(s->disks[1].dev, "sda");
	assert_int_equal(domain_build_xml(s, &xml, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "two disks are sda"));
	strcpy(s->disks[1].dev, "sdb");

	free(s->nics[0].bridge);
	s->nics[0].bridge = strdup("br\x01");
	assert_int_equal(domain_build_xml(s, &xml, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the bridge of NIC 0 holds a control character"));
	free(s->nics[0].bridge);
	s->nics[0].bridge = strdup("br\xc3");	/* cut UTF-8 */
	assert_int_equal(domain_build_xml(s, &xml, err, sizeof(err)), -EINVAL);
	domain_spec_free(s);
}

/* What libvirt's qemu driver keeps of a domain like ours (addresses, defaults, extras). */
static const char libvirt_xml[] =
	"<domain type='qemu'>\n  <name>a&amp;b</name>\n  <uuid>430be2ec-4c44-4bca-825f-e963fc3d504b</uuid>\n"
	"  <memory unit='MiB'>256</memory>\n  <vcpu placement='static'>1</vcpu>\n"
	"  <os>\n    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>\n    <kernel>/b/k</kernel>\n"
	"    <cmdline>root=/dev/sda1 x=\"&lt;&amp;&gt;\"</cmdline>\n    <boot dev='hd'/>\n  </os>\n"
	"  <features>\n    <acpi/>\n    <apic/>\n  </features>\n"
	"  <cpu mode='custom' match='exact' check='none'>\n    <model fallback='forbid'>qemu64</model>\n  </cpu>\n"
	"  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n"
	"  <on_crash>destroy</on_crash>\n  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
	"    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n"
	"      <target dev='sdb' bus='scsi'/>\n      <readonly/>\n"
	"      <address type='drive' controller='0' bus='0' target='0' unit='1'/>\n    </disk>\n"
	"    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n"
	"      <source file='/v/a b'/>\n      <target dev='sda' bus='scsi'/>\n"
	"      <address type='drive' controller='0' bus='0' target='0' unit='0'/>\n    </disk>\n"
	"    <controller type='scsi' index='0' model='virtio-scsi'>\n"
	"      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n    </controller>\n"
	"    <controller type='usb' index='0' model='piix3-uhci'/>\n    <controller type='pci' index='0' model='pci-root'/>\n"
	"    <interface type='bridge'>\n      <mac address='00:16:3E:00:00:01'/>\n      <source bridge='br0'/>\n"
	"      <target dev='vnet3'/>\n      <model type='virtio'/>\n      <alias name='net0'/>\n    </interface>\n"
	"    <serial type='pty'>\n      <target type='isa-serial' port='0'>\n        <model name='isa-serial'/>\n"
	"      </target>\n    </serial>\n    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n"
	"    <input type='mouse' bus='ps2'/>\n    <memballoon model='virtio'/>\n  </devices>\n</domain>\n";

static void test_canonical(void **state)
{
	struct domain_spec *s = small_spec();
	char *xml, *ca, *cb, *diff, *s2, *c2, err[256];

	assert_int_equal(domain_build_xml(s, &xml, err, sizeof(err)), 0);
	assert_int_equal(domain_xml_canonical(xml, false, &ca, err, sizeof(err)), 0);
	assert_int_equal(domain_xml_canonical(libvirt_xml, false, &cb, err, sizeof(err)), 0);
	assert_string_equal(ca, cb);
	free(cb);
	/* with the uuid they differ: ours has none */
	assert_int_equal(domain_xml_canonical(libvirt_xml, true, &cb, err, sizeof(err)), 0);
	assert_string_not_equal(ca, cb);
	free(cb);

	/* stage 2 of libvirt's definition is the canonical stage 2 of ours */
	assert_int_equal(domain_xml_stage2(libvirt_xml, &s2, err, sizeof(err)), 0);
	assert_null(strstr(s2, "<kernel>"));
	assert_null(strstr(s2, "<cmdline>"));
	assert_non_null(strstr(s2, "<emulator>"));	/* the rest kept */
	assert_int_equal(domain_xml_canonical(s2, false, &c2, err, sizeof(err)), 0);
	free(xml);
	free(s->kernel);
	free(s->cmdline);
	s->kernel = s->cmdline = NULL;
	assert_int_equal(domain_build_xml(s, &xml, err, sizeof(err)), 0);
	assert_int_equal(domain_xml_canonical(xml, false, &cb, err, sizeof(err)), 0);
	assert_string_equal(c2, cb);

	/* and the diff of stage 1 against stage 2 names exactly the boot lines */
	assert_int_equal(domain_text_diff(ca, cb, &diff), 0);
	assert_string_equal(diff, "-    <kernel>/b/k</kernel>\n"
				  "-    <cmdline>root=/dev/sda1 x=&quot;&lt;&amp;&gt;&quot;</cmdline>\n");
	free(diff);
	assert_int_equal(domain_text_diff(ca, ca, &diff), 0);
	assert_string_equal(diff, "");
	free(diff);

	free(ca);
	free(cb);
	assert_int_equal(domain_xml_canonical("<notadomain/>", false, &cb, err, sizeof(err)), -EINVAL);
	assert_int_equal(domain_xml_canonical("<domain", false, &cb, err, sizeof(err)), -EINVAL);
	free(c2);
	free(s2);
	free(xml);
	domain_spec_free(s);
}

static void test_set_text(void **state)
{
	char *out, *u, err[128];

	assert_int_equal(domain_xml_set_text("<domain><name>x</name></domain>", "uuid", "u-1", &out, err,
					     sizeof(err)), 0);
	u = domain_xml_text(out, "uuid");
	assert_string_equal(u, "u-1");
	free(u);
	free(out);
	assert_int_equal(domain_xml_set_text("<domain><name>x</name></domain>", "name", "a&<b", &out, err,
					     sizeof(err)), 0);
	assert_non_null(strstr(out, "<name>a&amp;&lt;b</name>"));
	u = domain_xml_text(out, "name");
	assert_string_equal(u, "a&<b");
	free(u);
	free(out);
	assert_null(domain_xml_text("<domain><name>x</name></domain>", "uuid"));
}

static void test_diff(void **state)
{
	char *d;

	assert_int_equal(domain_text_diff("a\nb\nc\n", "a\nx\nc\nd\n", &d), 0);
	assert_string_equal(d, "-b\n+x\n+d\n");
	free(d);
	assert_int_equal(domain_text_diff("", "a\n", &d), 0);
	assert_string_equal(d, "+a\n");
	free(d);
}

static void test_plan_json_roundtrip(void **state)
{
	struct plan_opts o = { .sector_size = 512, .alloc_unit = 4 * MiB, .root_vdev = "sda1" };
	struct plan_src s[] = {
		{ .path = "/r/1", .vdev = "sda1", .size = 12 * MiB }, { .path = "/r/2", .vdev = "sda2", .size = 3 * MiB },
		{ .path = "/r/3", .vdev = "sda3", .size = MiB }, { .path = "/r/4", .vdev = "sda4", .size = MiB },
		{ .path = "/r/6", .vdev = "sda6", .size = MiB, .swap = true, .uuid = "5eed5eed-1111-4222-8333-444455556666" },
		{ .path = "/r/w", .vdev = "xvdb", .size = 5 * MiB },
	};
	struct plan *p, *q;
	struct json_object *j;
	char err[256], *t1;

	assert_int_equal(plan_build("vm", s, 6, &o, &p, err, sizeof(err)), 0);
	j = plan_to_json(p);
	t1 = strdup(json_object_to_json_string(j));
	json_object_put(j);
	assert_int_equal(plan_from_json(t1, &q, err, sizeof(err)), 0);
	j = plan_to_json(q);
	assert_string_equal(t1, json_object_to_json_string(j));
	json_object_put(j);
	assert_int_equal(q->n_disks, 2);
	assert_true(q->disks[0].extended);
	assert_string_equal(q->disks[0].parts[4].vdev, "sda6");
	assert_int_equal(q->disks[0].parts[4].number, 6);
	free(t1);
	plan_free(p);
	plan_free(q);

	assert_int_equal(plan_from_json("[]", &q, err, sizeof(err)), -EINVAL);
	assert_int_equal(plan_from_json("{ \"disks\": [ { \"name\": \"a\", \"vdev\": \"sda\", \"size_bytes\": 1, "
					"\"sector_size\": 512, \"label\": \"msdos\", \"partitions\": [ { \"number\": 0 } ] } ] }",
					&q, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "disks[0].partitions[0].number: 0 is not a partition number");
	assert_int_equal(plan_from_json("{", &q, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_through_renumbering),
		cmocka_unit_test(test_disk_order_and_names),
		cmocka_unit_test(test_cmdline_forms),
		cmocka_unit_test(test_memory_vcpus_lifecycle),
		cmocka_unit_test(test_nics),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_mac_normalize),
		cmocka_unit_test(test_build_xml),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_set_text),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_plan_json_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
