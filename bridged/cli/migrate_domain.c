/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bridgectl migrate domain`: the libvirt domain of a Xen VM. The library
 * maps the Xen config and the disk plan to a spec (domain_map.h); this
 * file adds what only the host knows (domain capabilities, the volumes'
 * paths, the bridges, stage 1's kernel and initrd), has the XML built and
 * checked by libvirt, and prints it (--xml) or defines it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bridged/cli/migrate_args.h"
#include "bridged/cli/migrate_cli.h"
#include "common/escape.h"
#include "migrate/migrate.h"

static const char domain_help[] =
"Usage: bridgectl migrate domain [OPTIONS] XENCFG|VM\n"
"\n"
"Builds the libvirt domain of a Xen VM from its config, its disk plan (as\n"
"'bridgectl migrate plan' shows it) and the volumes 'bridgectl migrate\n"
"create' made, and defines it (virDomainDefineXMLFlags with\n"
"VIR_DOMAIN_DEFINE_VALIDATE), or prints it with --xml.\n"
"\n"
"The domain: the Xen name; the Xen uuid when the config has one (else\n"
"libvirt picks one); memory and maxmem, vcpus and maxvcpus; on_poweroff,\n"
"on_reboot, on_crash; <acpi/> and <apic/>; a serial console on a pty.\n"
"Disks: the plan's whole-disk volumes, in the order of their Xen names,\n"
"on one bus, so that the guest finds them where it did: on virtio-scsi\n"
"(the default, its controller's model set) sda1 stays sda1 and xvda2\n"
"becomes sda2; on virtio-blk they are vda, vdb. A logical pool's volume\n"
"is a <disk type='block'> (cache none, io native), a dir pool's a\n"
"<disk type='file'>. Cdroms stay cdroms (on scsi when the disks are on\n"
"virtio); an image that is not on this host is left out (the cdrom is\n"
"empty, a warning says so). NICs: one per vif, with its MAC (a vif\n"
"without one is refused: see --mac), on its bridge through --bridge-map (a\n"
"vif without a bridge is on Xen's default, xenbr0), model virtio unless\n"
"the vif names an emulated one (e1000, rtl8139) or --nic-model is given.\n"
"The domain type and the machine come from the host's domain capabilities:\n"
"kvm when libvirt can use it, else qemu with a warning.\n"
"\n"
"Stage 1 (the default) boots a kernel from outside the disk, as Xen did:\n"
"the guest's own, read from its /boot on the new disk (the volumes 'migrate\n"
"create' made, each file system at its partition's offset from the plan,\n"
"read-only with libext2fs, as 'migrate preflight' reads it): the newest\n"
"kernel that is not Xen-flavoured (grub's default first) whose initramfs\n"
"has the drivers of the disk bus and the NIC; the version chosen is\n"
"printed. A guest without one is refused, naming the preflight finding\n"
"(no-kernel, xen-kernel-only): then give --kernel and --initrd (e.g. the\n"
"old dom0's, copied across), which always take precedence. The files are\n"
"copied to /var/lib/libvirt/boot/VM-vmlinuz and\n"
"VM-initrd (mode 0644; there SELinux and AppArmor let qemu read them) and\n"
"the command line is the Xen 'root' and 'extra' (or 'cmdline') with root=\n"
"and resume= translated to the devices the guest will see (partition\n"
"numbers from the plan), then console=ttyS0,115200.\n"
"Stage 2 boots from the disk's own bootloader: no kernel, initrd or\n"
"command line, <boot dev='hd'/>. Over the stage 1 domain it changes only\n"
"that in the persistent definition. It takes effect when the domain is\n"
"next started from shut off: a reboot inside the running guest keeps\n"
"booting the stage 1 kernel.\n"
"\n"
"A domain of the same name that is already defined is compared with the\n"
"new one, both normalised by libvirt (nothing is defined to compare): the\n"
"same -> nothing is done; different -> refused, listing the differing\n"
"lines (- defined, + new), unless --replace. Nothing is defined when any\n"
"input is wrong: a Xen disk the plan does not cover, a vif without a MAC,\n"
"a bridge that does not exist here, a missing pool or volume.\n"
"\n"
"Options:\n"
"  --stage 1|2          direct kernel boot (1, default) or from the disk (2)\n"
"  --xml                print the domain XML (checked by libvirt's parser,\n"
"                       in process), define nothing, copy no kernel\n"
"  --json               report as JSON\n"
"  --replace            overwrite a different definition of the same name\n"
"  --connect URI        libvirt connection (default qemu:///system)\n"
"  --pool NAME          storage pool of the volumes; default $BRIDGED_POOL,\n"
"                       else 'default'\n"
"  --target [DISK=]PATH this file or block device for DISK (sda, xvda, or\n"
"                       the volume name; may be left out when the VM has\n"
"                       one disk) instead of the pool volume\n"
"  --plan FILE          the plan saved with 'migrate plan --json' instead\n"
"                       of planning again\n"
"  --disk-bus BUS       scsi (virtio-scsi, default), virtio, sata or ide\n"
"  --nic-model MODEL    every NIC's model: virtio, e1000 (guests without\n"
"                       virtio_net), e1000e, rtl8139, ne2k_pci, pcnet\n"
"  --bridge-map XEN=HERE[,XEN=HERE...]\n"
"                       the bridge here of a Xen bridge (repeatable;\n"
"                       default: the same name)\n"
"  --mac vifN=MAC       the MAC of vif N (0 is the first) when the config\n"
"                       has none: the one the guest last had\n"
"  --kernel PATH        stage 1's kernel (e.g. the old dom0's, copied)\n"
"                       instead of the guest's own from its /boot\n"
"  --initrd PATH        stage 1's initrd (with --kernel)\n"
"  --boot-dir DIR       where they are copied (default /var/lib/libvirt/boot)\n"
"  --console-log FILE   also log the serial console to FILE\n"
"  --domain-type kvm|qemu\n"
"                       instead of the capabilities' choice\n"
"  --machine TYPE       machine type (default: the capabilities' default,\n"
"                       by its versioned name, e.g. pc-i440fx-7.2)\n"
"  --offline            build the XML for another host: no libvirt\n"
"                       connection, no bridge check; needs --domain-type,\n"
"                       --machine and a --target per disk (a /dev/ path is\n"
"                       a block device); implies --xml\n"
"  --arch ARCH          with --offline: the guest architecture (default: this\n"
"                       host's)\n"
"  --xen-dir DIR        where a VM name is looked up as DIR/VM.cfg or DIR/VM\n"
"                       (default /etc/xen)\n"
"  -h, --help           this text\n"
"\n"
"The plan is made as 'migrate plan' makes it (--size, --swap, --sector-size\n"
"and --alloc-unit are taken as there), but a source that cannot be read here\n"
"needs no --size: the domain uses the plan's layout (which disks, which\n"
"partition numbers), not its sizes.\n"
"\n"
"Examples:\n"
"  bridgectl migrate domain --pool r1 --bridge-map xenbr0=br-dmz webserver\n"
"  bridgectl migrate domain --pool r1 --bridge-map xenbr0=br-dmz \\\n"
"      --kernel /srv/dom0/vmlinuz-2.6.32-5-xen-amd64 \\\n"
"      --initrd /srv/dom0/initrd.img-2.6.32-5-xen-amd64 fileserver\n"
"  bridgectl migrate domain --pool r1 --bridge-map xenbr0=br-dmz --stage 2 fileserver\n"
"  bridgectl migrate domain --offline --domain-type kvm --machine pc-q35-7.2 \\\n"
"      --target sda=/dev/r1/fileserver-sda --stage 2 /etc/xen/fileserver.cfg\n"
"\n"
"Exit status: 0 when the domain is defined (or already was), or printed;\n"
"1 on error (nothing defined), 2 on a usage error.\n";

enum {
	OPT_STAGE = 512, OPT_XML, OPT_REPLACE, OPT_PLAN, OPT_BUS, OPT_NIC_MODEL, OPT_BRIDGE_MAP, OPT_MAC,
	OPT_KERNEL, OPT_INITRD, OPT_BOOT_DIR, OPT_CONSOLE_LOG, OPT_DOMAIN_TYPE, OPT_MACHINE, OPT_OFFLINE,
	OPT_ARCH,
};

struct domain_args {
	struct migrate_args a;
	int stage;
	bool xml, replace, offline;
	const char *plan_file, *nic_model, *kernel, *initrd, *boot_dir, *console_log, *domain_type, *machine,
		*arch;
	enum domain_bus bus;
	struct domain_pair *bridge_map, *macs;
	size_t n_bridge_map, n_macs;
	char **strings;		/* what the pairs point into */
	size_t n_strings;
};

static void domain_args_free(struct domain_args *d)
{
	free(d->bridge_map);
	free(d->macs);
	for (size_t i = 0; i < d->n_strings; i++)
		free(d->strings[i]);
	free(d->strings);
	migrate_args_free(&d->a);
}

static char *keep(struct domain_args *d, const char *s, size_t n)
{
	char **ns = realloc(d->strings, (d->n_strings + 1) * sizeof(*ns));

	if (!ns)
		return NULL;
	d->strings = ns;
	ns[d->n_strings] = strndup(s, n);
	return ns[d->n_strings] ? ns[d->n_strings++] : NULL;
}

/* "K=V[,K=V...]" appended to *arr; list: commas separate pairs. */
static int push_pairs(struct domain_args *d, struct domain_pair **arr, size_t *n, const char *opt, const char *arg,
		      bool list)
{
	const char *p = arg;

	do {
		size_t len = list ? strcspn(p, ",") : strlen(p);
		const char *eq = memchr(p, '=', len);
		struct domain_pair *na;

		if (!eq || eq == p || eq + 1 == p + len) {
			fprintf(stderr, "bridgectl migrate domain: %s %s: KEY=VALUE expected\n", opt, STR_ESCAPED(arg));
			return -EINVAL;
		}
		na = realloc(*arr, (*n + 1) * sizeof(*na));
		if (!na)
			return -ENOMEM;
		*arr = na;
		na[*n].key = keep(d, p, (size_t)(eq - p));
		na[*n].value = keep(d, eq + 1, (size_t)(p + len - eq - 1));
		if (!na[*n].key || !na[*n].value)
			return -ENOMEM;
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(na[i].key, na[*n].key)) {
				fprintf(stderr, "bridgectl migrate domain: %s: %s given twice\n", opt,
					STR_ESCAPED(na[*n].key));
				return -EINVAL;
			}
		(*n)++;
		p += len;
	} while (*p++ == ',');
	return 0;
}

/* 1 taken, 0 not ours, -1 usage error. */
static int domain_option(struct domain_args *d, int c, const char *arg)
{
	int b;

	switch (c) {
	case OPT_STAGE:
		if (strcmp(arg, "1") && strcmp(arg, "2")) {
			fprintf(stderr, "bridgectl migrate domain: --stage %s: 1 or 2 expected\n", STR_ESCAPED(arg));
			return -1;
		}
		d->stage = *arg - '0';
		return 1;
	case OPT_XML:
		d->xml = true;
		return 1;
	case OPT_REPLACE:
		d->replace = true;
		return 1;
	case OPT_OFFLINE:
		d->offline = true;
		return 1;
	case OPT_PLAN:
		d->plan_file = arg;
		return 1;
	case OPT_BUS:
		b = domain_bus_from_name(arg);
		if (b < 0) {
			fprintf(stderr, "bridgectl migrate domain: --disk-bus %s: unknown bus (scsi, virtio, sata or ide)\n",
				STR_ESCAPED(arg));
			return -1;
		}
		d->bus = (enum domain_bus)b;
		return 1;
	case OPT_NIC_MODEL:
		if (strcmp(arg, "virtio") && strcmp(arg, "e1000") && strcmp(arg, "e1000e") && strcmp(arg, "rtl8139") &&
		    strcmp(arg, "ne2k_pci") && strcmp(arg, "pcnet")) {
			fprintf(stderr, "bridgectl migrate domain: --nic-model %s: virtio, e1000, e1000e, rtl8139, "
				"ne2k_pci or pcnet expected\n", STR_ESCAPED(arg));
			return -1;
		}
		d->nic_model = arg;
		return 1;
	case OPT_BRIDGE_MAP:
		return push_pairs(d, &d->bridge_map, &d->n_bridge_map, "--bridge-map", arg, true) < 0 ? -1 : 1;
	case OPT_MAC:
		return push_pairs(d, &d->macs, &d->n_macs, "--mac", arg, false) < 0 ? -1 : 1;
	case OPT_KERNEL:
		d->kernel = arg;
		return 1;
	case OPT_INITRD:
		d->initrd = arg;
		return 1;
	case OPT_BOOT_DIR:
		d->boot_dir = arg;
		return 1;
	case OPT_CONSOLE_LOG:
		if (*arg != '/') {
			fprintf(stderr, "bridgectl migrate domain: --console-log %s: an absolute path expected\n",
				STR_ESCAPED(arg));
			return -1;
		}
		d->console_log = arg;
		return 1;
	case OPT_DOMAIN_TYPE:
		if (strcmp(arg, "kvm") && strcmp(arg, "qemu")) {
			fprintf(stderr, "bridgectl migrate domain: --domain-type %s: kvm or qemu expected\n",
				STR_ESCAPED(arg));
			return -1;
		}
		d->domain_type = arg;
		return 1;
	case OPT_MACHINE:
		d->machine = arg;
		return 1;
	case OPT_ARCH:
		d->arch = arg;
		return 1;
	default:
		return 0;
	}
}

static bool exists_here(const char *path, void *data)
{
	struct stat st;

	(void)data;
	return stat(path, &st) == 0;
}

static int read_file(const char *path, char **ret)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	int r = 0;

	if (!f)
		return -errno;
	{
		FILE *m = open_memstream(&buf, &len);
		char tmp[4096];
		size_t n;

		if (!m) {
			fclose(f);
			return -ENOMEM;
		}
		while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
			fwrite(tmp, 1, n, m);
		if (ferror(f))
			r = -EIO;
		if (fclose(m) != 0)
			r = -ENOMEM;
	}
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

/* The VM and its plan: planned as `migrate plan` does, or the saved --plan FILE. */
static int load(struct domain_args *d, struct xen_vm **ret_vm, struct plan **ret_plan)
{
	struct migrate_args pa = d->a;
	struct plan_src *src = NULL;
	char *cfg, *text = NULL, err[512];
	size_t n = 0;
	int r;

	if (!d->plan_file) {
		/* no pool: the allocation unit changes sizes only, which the domain does not use */
		pa.pool = NULL;
		r = migrate_args_plan(&pa, ret_vm, &src, &n, ret_plan);
		migrate_src_free(src, n);
		return r;
	}
	cfg = migrate_args_config(&d->a);
	if (!cfg)
		return -ENOMEM;
	r = migrate_load(cfg, ret_vm);
	free(cfg);
	if (r < 0)
		return r;
	r = read_file(d->plan_file, &text);
	if (r < 0) {
		fprintf(stderr, "bridgectl migrate domain: %s: %s\n", d->plan_file, strerror(-r));
	} else {
		r = plan_from_json(text, ret_plan, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "bridgectl migrate domain: %s: not a plan: %s\n", d->plan_file, err);
	}
	free(text);
	if (r < 0) {
		xen_vm_free(*ret_vm);
		*ret_vm = NULL;
	}
	return r;
}

static const char *find_target(const struct domain_args *d, const struct domain_disk *disk, size_t n_volumes)
{
	for (size_t i = 0; i < d->a.n_targets; i++) {
		const struct path_value *t = &d->a.targets[i];

		if (t->path && (!strcmp(t->path, disk->xen_vdev) || !strcmp(t->path, disk->volume)))
			return t->value;
		if (!t->path && n_volumes == 1)
			return t->value;
	}
	return NULL;
}

/* Each disk's path and type: a --target, or the pool's volume. */
static int resolve_disks(const struct domain_args *d, struct virt_conn *conn, struct domain_spec *s)
{
	size_t n_volumes = 0;
	char err[1024];

	for (size_t i = 0; i < s->n_disks; i++)
		n_volumes += s->disks[i].volume != NULL;
	for (size_t i = 0; i < d->a.n_targets; i++) {
		const struct path_value *t = &d->a.targets[i];
		bool used = false;

		for (size_t k = 0; k < s->n_disks && t->path; k++)
			used |= s->disks[k].volume &&
				(!strcmp(t->path, s->disks[k].xen_vdev) || !strcmp(t->path, s->disks[k].volume));
		if (!t->path && n_volumes != 1) {
			fprintf(stderr, "bridgectl migrate domain: --target %s: the VM has %zu disks, say which: "
				"--target DISK=PATH\n", t->value, n_volumes);
			return -EINVAL;
		}
		if (t->path && !used) {
			fprintf(stderr, "bridgectl migrate domain: --target %s=%s: the VM has no disk %s\n", t->path,
				t->value, t->path);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < s->n_disks; i++) {
		struct domain_disk *disk = &s->disks[i];
		const char *target;
		struct stat st;
		int r;

		if (!disk->volume)
			continue;
		target = find_target(d, disk, n_volumes);
		if (target) {
			disk->path = strdup(target);
			if (!disk->path)
				return -ENOMEM;
			if (stat(target, &st) == 0)
				disk->block = S_ISBLK(st.st_mode);
			else if (!d->offline) {
				fprintf(stderr, "bridgectl migrate domain: disk %s: --target %s: %s\n", disk->xen_vdev,
					target, strerror(errno));
				return -ENOENT;
			} else
				disk->block = !strncmp(target, "/dev/", 5);
			continue;
		}
		if (!conn) {
			fprintf(stderr, "bridgectl migrate domain: --offline needs --target %s=PATH for disk %s (volume %s)\n",
				disk->xen_vdev, disk->xen_vdev, disk->volume);
			return -EINVAL;
		}
		r = domain_volume_find(conn, d->a.pool, disk->volume, &disk->path, &disk->block, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "bridgectl migrate domain: disk %s: %s\n", disk->xen_vdev, err);
			return r;
		}
	}
	return 0;
}

/* Every NIC's bridge exists here and is a bridge. */
static int check_bridges(const struct domain_spec *s)
{
	for (size_t i = 0; i < s->n_nics; i++) {
		const struct domain_nic *n = &s->nics[i];
		char path[512];
		struct stat st;

		if (strchr(n->bridge, '/') || !strcmp(n->bridge, ".") || !strcmp(n->bridge, "..")) {
			fprintf(stderr, "bridgectl migrate domain: vif%zu: '%s' is not an interface name\n", i,
				STR_ESCAPED(n->bridge));
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "/sys/class/net/%s", n->bridge);
		if (stat(path, &st) < 0) {
			if (strcmp(n->bridge, n->xen_bridge))
				fprintf(stderr, "bridgectl migrate domain: vif%zu: bridge %s (--bridge-map %s=%s) does not "
					"exist on this host\n", i, STR_ESCAPED(n->bridge), STR_ESCAPED(n->xen_bridge),
					STR_ESCAPED(n->bridge));
			else
				fprintf(stderr, "bridgectl migrate domain: vif%zu: bridge %s does not exist on this host "
					"(create it, or map it: --bridge-map %s=BRIDGE)\n", i, STR_ESCAPED(n->bridge),
					STR_ESCAPED(n->bridge));
			return -ENOENT;
		}
		snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", n->bridge);
		if (stat(path, &st) < 0) {
			fprintf(stderr, "bridgectl migrate domain: vif%zu: %s is not a bridge\n", i,
				STR_ESCAPED(n->bridge));
			return -EINVAL;
		}
	}
	return 0;
}

/* The domain type, machine and arch: given, or from the capabilities. */
static int resolve_host(const struct domain_args *d, struct virt_conn *conn, struct domain_spec *s)
{
	struct domain_host h = { 0 };
	char err[1024], warn[1024];
	struct utsname u;
	int r;

	if (d->domain_type && d->machine && (!conn || d->offline)) {
		if (uname(&u) < 0)
			return -errno;
		s->type = strdup(d->domain_type);
		s->machine = strdup(d->machine);
		s->arch = strdup(d->arch ? d->arch : u.machine);
		return s->type && s->machine && s->arch ? 0 : -ENOMEM;
	}
	r = domain_host_caps(conn, d->domain_type, d->machine, &h, warn, sizeof(warn), err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bridgectl migrate domain: %s\n", err);
		return r;
	}
	if (*warn && domain_spec_warn(s, "%s", warn) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_disks; i++)
		if (!h.bus[s->disks[i].bus]) {
			fprintf(stderr, "bridgectl migrate domain: machine %s (%s) has no %s disk bus here (its "
				"domain capabilities)\n", h.machine, h.type, domain_bus_names[s->disks[i].bus]);
			return -EINVAL;
		}
	s->type = strdup(h.type);
	s->machine = strdup(h.machine);
	s->arch = strdup(h.arch);
	return s->type && s->machine && s->arch ? 0 : -ENOMEM;
}

/* Stage 1's kernel and initrd, copied to where the spec boots them: from --kernel/--initrd, else the guest's own. */
static int place_boot_files(const struct domain_args *d, const struct guest_boot *gb, const struct domain_spec *s,
			    struct json_object *rep)
{
	const char *src[2] = { d->kernel, d->initrd }, *dst[2] = { s->kernel, s->initrd };
	struct json_object *files = json_object_new_array();
	char err[1024];

	json_object_object_add(rep, "boot_files", files);
	for (int i = 0; i < 2; i++) {
		struct boot_source bs;
		struct json_object *f;
		bool changed = false;
		int r;

		if (!dst[i])
			continue;
		if (src[i])
			boot_source_file(&bs, src[i]);
		else if (gb && !d->kernel)
			guest_boot_source(gb, i == 1, &bs);
		else
			continue;
		r = boot_file_place(&bs, dst[i], &changed, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "bridgectl migrate domain: %s: %s\n",
				src[i] ? (i ? "--initrd" : "--kernel") : (i ? "the guest's initrd" : "the guest's kernel"),
				err);
			return r;
		}
		f = json_object_new_object();
		json_object_object_add(f, "source", json_object_new_string(bs.what));
		json_object_object_add(f, "path", json_object_new_string(dst[i]));
		json_object_object_add(f, "placed", json_object_new_string(changed ? "copied" : "unchanged"));
		json_object_array_add(files, f);
	}
	return 0;
}

/*
 * The guest's file systems on the new volumes, as preflight reads them:
 * each planned partition at its offset in its disk's volume (a disk copied
 * whole: the partitions of its table), the one the Xen root= names marked.
 */
static int guest_volumes(const struct xen_vm *vm, const struct plan *plan, const struct domain_spec *s,
			 struct guest_volume **ret, size_t *ret_n, char ***strs, size_t *n_strs)
{
	struct guest_devname rootdev;
	bool have_root = false;
	struct guest_volume *v = NULL;
	size_t n = 0;
	char root[256] = "";

	*ret = NULL;
	*ret_n = 0;
	if (vm->root) {
		snprintf(root, sizeof(root), "%s", vm->root);
		root[strcspn(root, " \t")] = '\0';
		have_root = guest_devname_parse(!strncmp(root, "/dev/", 5) ? root + 5 : root, &rootdev);
	}
	for (size_t i = 0; i < plan->n_disks; i++) {
		const struct plan_disk *pd = &plan->disks[i];
		const struct domain_disk *dd = NULL;
		struct probe_part *parts = NULL;
		size_t np = 0;
		char err[512];

		for (size_t k = 0; k < s->n_disks; k++)
			if (s->disks[k].volume && !strcmp(s->disks[k].volume, pd->name))
				dd = &s->disks[k];
		if (!dd || !dd->path || (pd->whole && pd->action == PLAN_MKSWAP))
			continue;
		if (pd->whole && probe_partitions(dd->path, &parts, &np, err, sizeof(err)) < 0)
			np = 0;
		for (size_t j = 0; j < (pd->whole ? (np ? np : 1) : pd->n_parts); j++) {
			struct guest_volume *nv = realloc(v, (n + 1) * sizeof(*v));
			char **ns = realloc(*strs, (*n_strs + 2) * sizeof(**strs));
			struct guest_devname dn;
			char *old = NULL, *nw = NULL;
			int number;

			if (ns)
				*strs = ns;
			if (!nv || !ns) {
				free(nv ? nv : v);
				free(parts);
				return -ENOMEM;
			}
			v = nv;
			if (!pd->whole && pd->parts[j].action == PLAN_MKSWAP)
				continue;
			memset(&v[n], 0, sizeof(v[n]));
			v[n].path = dd->path;
			if (pd->whole) {
				number = np ? parts[j].number : 0;
				v[n].offset = np ? parts[j].start : 0;
				v[n].size = np ? parts[j].size : 0;
				if (number > 0 && (asprintf(&old, "%s%d", pd->vdev, number) < 0 ||
						   asprintf(&nw, "%s%d", dd->guest, number) < 0))
					old = nw = NULL;
			} else {
				number = pd->parts[j].number;
				v[n].offset = pd->parts[j].start;
				v[n].size = pd->parts[j].size;
				old = strdup(pd->parts[j].vdev);
				if (asprintf(&nw, "%s%d", dd->guest, number) < 0)
					nw = NULL;
			}
			(*strs)[(*n_strs)++] = old;
			(*strs)[(*n_strs)++] = nw;
			v[n].old_dev = old;
			v[n].new_dev = nw;
			if (have_root && old && guest_devname_parse(old, &dn) && guest_devname_same(&dn, &rootdev))
				v[n].root = true;
			n++;
		}
		free(parts);
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* the disk bus is passed from one enum to the other */
_Static_assert((int)DOMAIN_BUS_SCSI == (int)GUEST_BUS_SCSI && (int)DOMAIN_BUS_VIRTIO == (int)GUEST_BUS_VIRTIO &&
		       (int)DOMAIN_BUS_SATA == (int)GUEST_BUS_SATA && (int)DOMAIN_BUS_IDE == (int)GUEST_BUS_IDE,
	       "domain_bus and guest_bus differ");

/* The guest's own kernel on the new disk (stage 1 without --kernel); prints why not. */
static int open_guest_boot(const struct domain_args *d, const struct xen_vm *vm, const struct plan *plan,
			   const struct domain_spec *s, struct guest_boot **ret)
{
	struct guest_volume *vols = NULL;
	char **strs = NULL, err[1024];
	size_t n = 0, n_strs = 0;
	struct guest_input in = {
		.bus = (enum guest_bus)d->bus, .nic = GUEST_NIC_VIRTIO, .vols_complete = true,
	};
	int r;

	/* the NIC model that needs a driver checked: e1000, else virtio's */
	for (size_t i = 0; i < s->n_nics; i++)
		if (!strcmp(s->nics[i].model, "e1000"))
			in.nic = GUEST_NIC_E1000;
	r = guest_volumes(vm, plan, s, &vols, &n, &strs, &n_strs);
	if (r == 0 && !n) {
		fprintf(stderr, "bridgectl migrate domain: %s: stage 1 without --kernel boots the guest's own kernel, "
			"but the VM has no volume to read it from: pass --kernel PATH (and --initrd PATH)\n", vm->name);
		r = -ENOENT;
	} else if (r == 0) {
		in.vols = vols;
		in.n_vols = n;
		r = guest_boot_open(&in, ret, err, sizeof(err));
		if (r == -ENOMEM)
			fprintf(stderr, "bridgectl migrate domain: out of memory\n");
		else if (r < 0)
			fprintf(stderr, "bridgectl migrate domain: %s: stage 1 without --kernel boots the guest's own "
				"kernel from its /boot on the new disk, but there is none to boot: %s; pass --kernel PATH "
				"(and --initrd PATH), e.g. the old dom0's kernel copied across (bridgectl migrate "
				"preflight says more)\n", vm->name, err);
	}
	for (size_t i = 0; i < n_strs; i++)
		free(strs[i]);
	free(strs);
	free(vols);
	return r;
}

/* The spec's facts added to the report o. */
static void spec_json(struct json_object *o, const struct domain_spec *s)
{
	struct json_object *disks = json_object_new_array(), *nics = json_object_new_array(),
			   *w = json_object_new_array();

	json_object_object_add(o, "domain_type", json_object_new_string(s->type));
	json_object_object_add(o, "machine", json_object_new_string(s->machine));
	json_object_object_add(o, "arch", json_object_new_string(s->arch));
	for (size_t i = 0; i < s->n_disks; i++) {
		const struct domain_disk *d = &s->disks[i];
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "dev", json_object_new_string(d->dev));
		json_object_object_add(j, "bus", json_object_new_string(domain_bus_names[d->bus]));
		json_object_object_add(j, "device", json_object_new_string(d->cdrom ? "cdrom" : "disk"));
		json_object_object_add(j, "guest", json_object_new_string(d->guest));
		json_object_object_add(j, "xen_vdev", json_object_new_string(d->xen_vdev));
		json_object_object_add(j, "volume", d->volume ? json_object_new_string(d->volume) : NULL);
		json_object_object_add(j, "path", d->path ? json_object_new_string(d->path) : NULL);
		json_object_object_add(j, "type", json_object_new_string(d->block ? "block" : "file"));
		json_object_array_add(disks, j);
	}
	json_object_object_add(o, "disks", disks);
	for (size_t i = 0; i < s->n_nics; i++) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "mac", json_object_new_string(s->nics[i].mac));
		json_object_object_add(j, "bridge", json_object_new_string(s->nics[i].bridge));
		json_object_object_add(j, "model", json_object_new_string(s->nics[i].model));
		json_object_array_add(nics, j);
	}
	json_object_object_add(o, "nics", nics);
	json_object_object_add(o, "kernel", s->kernel ? json_object_new_string(s->kernel) : NULL);
	json_object_object_add(o, "initrd", s->initrd ? json_object_new_string(s->initrd) : NULL);
	json_object_object_add(o, "cmdline", s->cmdline ? json_object_new_string(s->cmdline) : NULL);
	for (size_t i = 0; i < s->n_warnings; i++)
		json_object_array_add(w, json_object_new_string(s->warnings[i]));
	json_object_object_add(o, "warnings", w);
}

int migrate_cmd_domain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stage", required_argument, NULL, OPT_STAGE },
		{ "xml", no_argument, NULL, OPT_XML },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "replace", no_argument, NULL, OPT_REPLACE },
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "plan", required_argument, NULL, OPT_PLAN },
		{ "disk-bus", required_argument, NULL, OPT_BUS },
		{ "nic-model", required_argument, NULL, OPT_NIC_MODEL },
		{ "bridge-map", required_argument, NULL, OPT_BRIDGE_MAP },
		{ "mac", required_argument, NULL, OPT_MAC },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "boot-dir", required_argument, NULL, OPT_BOOT_DIR },
		{ "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
		{ "domain-type", required_argument, NULL, OPT_DOMAIN_TYPE },
		{ "machine", required_argument, NULL, OPT_MACHINE },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		MIGRATE_SHARED_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct domain_args d = {
		.a = { .pool = getenv("BRIDGED_POOL"), .uri = "qemu:///system", .sizes_optional = true },
		.stage = 1, .bus = DOMAIN_BUS_SCSI, .boot_dir = BOOT_DIR_DEFAULT,
	};
	struct domain_choices ch = { 0 };
	struct domain_define_report dr = { 0 };
	struct json_object *rep = NULL;
	struct domain_spec *s = NULL;
	struct virt_conn *conn = NULL;
	struct plan *plan = NULL;
	struct xen_vm *vm = NULL;
	struct guest_boot *gb = NULL;
	bool own_kernel;
	char *kpath = NULL, *ipath = NULL, *xml = NULL, err[2048];
	int c, r, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int t = migrate_args_option(&d.a, c, optarg);

		if (t == 0)
			t = domain_option(&d, c, optarg);
		if (t < 0)
			goto out;
		if (t > 0)
			continue;
		if (c == 'h') {
			fputs(domain_help, stdout);
			rc = 0;
		} else {
			fputs(domain_help, stderr);
		}
		goto out;
	}
	if (optind + 1 != argc) {
		fputs(domain_help, stderr);
		goto out;
	}
	d.a.vm = argv[optind];
	if (!d.a.pool)
		d.a.pool = "default";
	if (d.offline && (!d.domain_type || !d.machine)) {
		fprintf(stderr, "bridgectl migrate domain: --offline needs --domain-type and --machine\n");
		goto out;
	}
	if (d.arch && !d.offline) {
		fprintf(stderr, "bridgectl migrate domain: --arch goes with --offline (else the host's is used)\n");
		goto out;
	}
	if ((d.kernel || d.initrd) && d.stage == 2) {
		fprintf(stderr, "bridgectl migrate domain: --kernel and --initrd are for stage 1\n");
		goto out;
	}
	if (d.initrd && !d.kernel) {
		fprintf(stderr, "bridgectl migrate domain: --initrd needs --kernel\n");
		goto out;
	}
	if (d.offline)
		d.xml = true;
	/* stage 1 without --kernel: the guest's own, read from the new disk (not there with --offline) */
	own_kernel = d.stage == 1 && !d.kernel && !d.offline;
	rc = 1;
	if (load(&d, &vm, &plan) < 0)
		goto out;
	if ((d.kernel || own_kernel) && (boot_file_path(d.boot_dir, vm->name, "vmlinuz", &kpath) < 0 ||
					 ((d.initrd || own_kernel) &&
					  boot_file_path(d.boot_dir, vm->name, "initrd", &ipath) < 0)))
		goto out;
	/* --offline: the files are on the other host */
	if (d.kernel && !d.offline && access(d.kernel, R_OK) < 0) {
		fprintf(stderr, "bridgectl migrate domain: --kernel %s: %s\n", d.kernel, strerror(errno));
		goto out;
	}
	if (d.initrd && !d.offline && access(d.initrd, R_OK) < 0) {
		fprintf(stderr, "bridgectl migrate domain: --initrd %s: %s\n", d.initrd, strerror(errno));
		goto out;
	}
	ch = (struct domain_choices){
		.stage = d.stage, .bus = d.bus, .nic_model = d.nic_model,
		.bridge_map = d.bridge_map, .n_bridge_map = d.n_bridge_map, .macs = d.macs, .n_macs = d.n_macs,
		.kernel = kpath, .initrd = ipath, .console_log = d.console_log, .path_exists = exists_here,
	};
	r = domain_spec_from_xen(vm, plan, &ch, &s, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bridgectl migrate domain: %s: %s\n", vm->name, err);
		goto out;
	}
	if (!d.offline && check_bridges(s) < 0)
		goto out;
	if (!d.offline) {
		r = virt_conn_open(d.a.uri, &conn, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "bridgectl migrate domain: %s\n", err);
			goto out;
		}
	}
	if (resolve_host(&d, conn, s) < 0 || resolve_disks(&d, conn, s) < 0)
		goto out;
	if (own_kernel) {
		if (open_guest_boot(&d, vm, plan, s, &gb) < 0)
			goto out;
		if (!guest_boot_initrd(gb)) {
			free(s->initrd);
			s->initrd = NULL;
		}
		if (*guest_boot_warning(gb) && domain_spec_warn(s, "%s", guest_boot_warning(gb)) < 0)
			goto out;
		if (d.xml)
			fprintf(stderr, "stage 1 boots the guest's own kernel %s (%s%s%s)\n",
				STR_ESCAPED(guest_boot_version(gb)), STR_ESCAPED(guest_boot_kernel(gb)),
				guest_boot_initrd(gb) ? ", " : "",
				guest_boot_initrd(gb) ? STR_ESCAPED(guest_boot_initrd(gb)) : "");
	}
	r = domain_build_xml(s, &xml, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bridgectl migrate domain: %s: %s\n", vm->name, err);
		goto out;
	}
	r = domain_validate(xml, err, sizeof(err));
	if (r == -EINVAL) {
		fprintf(stderr, "bridgectl migrate domain: %s: libvirt refuses the domain XML: %s\n", vm->name, err);
		goto out;
	}
	if (r < 0 && domain_spec_warn(s, "the XML is not checked by libvirt's parser here: %s", err) < 0)
		goto out;
	/* the plan's warnings were the plan's and create's to give; the domain's own follow */
	for (size_t i = 0; i < s->n_warnings; i++)
		fprintf(stderr, "warning: %s\n", s->warnings[i]);
	if (d.xml) {
		fputs(xml, stdout);
		rc = 0;
		goto out;
	}
	rep = json_object_new_object();
	json_object_object_add(rep, "vm", json_object_new_string(vm->name));
	json_object_object_add(rep, "stage", json_object_new_int(d.stage));
	spec_json(rep, s);
	if (gb) {
		struct json_object *g = json_object_new_object();

		json_object_object_add(g, "version", json_object_new_string(guest_boot_version(gb)));
		json_object_object_add(g, "kernel", json_object_new_string(guest_boot_kernel(gb)));
		json_object_object_add(g, "initrd",
				       guest_boot_initrd(gb) ? json_object_new_string(guest_boot_initrd(gb)) : NULL);
		json_object_object_add(rep, "guest_kernel", g);
	}
	/* decided first, so that a refusal leaves the kernel of the defined domain alone */
	for (int dry = 1; dry >= 0; dry--) {
		free(dr.diff);
		dr.diff = NULL;
		r = domain_define(conn, xml, s->name, d.stage, d.replace, dry, &dr, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "bridgectl migrate domain: %s\n", err);
			if (dr.diff && *dr.diff)
				fprintf(stderr, "--- defined\n+++ new\n%s", dr.diff);
			goto out;
		}
		if (dry && d.stage == 1 && place_boot_files(&d, gb, s, rep) < 0)
			goto out;
	}
	json_object_object_add(rep, "result", json_object_new_string(domain_define_result_names[dr.result]));
	json_object_object_add(rep, "uuid", json_object_new_string(dr.uuid));
	json_object_object_add(rep, "active", json_object_new_boolean(dr.active));
	if (dr.diff && *dr.diff)
		json_object_object_add(rep, "replaced_diff", json_object_new_string(dr.diff));
	{
		char note[512] = "";

		if (d.stage == 2 && dr.result != DOMAIN_UNCHANGED)
			snprintf(note, sizeof(note), "stage 2 is in the persistent definition: it takes effect when the "
				 "domain next starts from shut off (virsh shutdown %s, then virsh start %s); a reboot "
				 "inside the guest does not apply it", s->name, s->name);
		else if (dr.active && dr.result != DOMAIN_UNCHANGED)
			snprintf(note, sizeof(note), "the domain is running: the new definition takes effect when it "
				 "next starts from shut off; a reboot inside the guest does not apply it");
		if (*note)
			json_object_object_add(rep, "note", json_object_new_string(note));
		if (d.a.json) {
			puts(json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
		} else {
			printf("domain %s: %s (stage %d, %s, %s), uuid %s\n", s->name,
			       domain_define_result_names[dr.result], d.stage, s->type, s->machine, dr.uuid);
			for (size_t i = 0; i < s->n_disks; i++)
				printf("  %-5s %-6s %-5s %s\n", s->disks[i].dev, domain_bus_names[s->disks[i].bus],
				       s->disks[i].cdrom ? "cdrom" : s->disks[i].block ? "block" : "file",
				       s->disks[i].path ? s->disks[i].path : "(empty)");
			for (size_t i = 0; i < s->n_nics; i++)
				printf("  nic   %s on %s (%s)\n", s->nics[i].mac, s->nics[i].bridge, s->nics[i].model);
			if (s->kernel)
				printf("  boot  %s%s%s\n  cmdline %s\n", s->kernel, s->initrd ? " + " : "",
				       s->initrd ? s->initrd : "", s->cmdline);
			if (gb)
				printf("  kernel the guest's own %s (%s%s%s)\n", STR_ESCAPED(guest_boot_version(gb)),
				       STR_ESCAPED(guest_boot_kernel(gb)), guest_boot_initrd(gb) ? ", " : "",
				       guest_boot_initrd(gb) ? STR_ESCAPED(guest_boot_initrd(gb)) : "");
			if (dr.result == DOMAIN_REPLACED && dr.diff && *dr.diff)
				printf("replaced:\n--- defined\n+++ new\n%s", dr.diff);
			if (*note)
				printf("note: %s\n", note);
		}
	}
	rc = 0;
out:
	json_object_put(rep);
	guest_boot_close(gb);
	free(dr.diff);
	free(xml);
	free(kpath);
	free(ipath);
	domain_spec_free(s);
	virt_conn_close(conn);
	plan_free(plan);
	xen_vm_free(vm);
	domain_args_free(&d);
	return rc;
}
