/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bridgectl migrate preflight`: finds the guest's file systems (from a
 * Xen config, a VM name or a disk), runs the library's checks
 * (migrate/guest/preflight.h) and prints the findings, text or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "bridged/cli/migrate_args.h"
#include "bridged/cli/migrate_cli.h"
#include "common/escape.h"
#include "migrate/migrate.h"

static const char preflight_help[] =
"Usage: bridgectl migrate preflight [OPTIONS] XENCFG|VM|DISK\n"
"\n"
"Reads the guest's root file system read-only, in user space (libext2fs: no\n"
"mount, no kernel file system driver ever parses guest data), and reports\n"
"what will break when the guest boots on the new host with the chosen disk\n"
"bus and NIC model: /dev/xvd* and /dev/hd* names in /etc/fstab, grub and\n"
"root=, UUID= and LABEL= entries no planned volume holds, no kernel or only\n"
"Xen kernels in /boot, an initramfs without the disk and NIC drivers, no\n"
"getty on ttyS0, /etc/securetty without ttyS0, persistent-net rules bound\n"
"to another MAC or driver, no acpid, a pygrub-only boot setup. Each\n"
"finding has an id, a severity (error, warning, info), the guest file and\n"
"line, and a fix; docs/MIGRATE.md \"Guest preflight\" lists them all. Only\n"
"ext2/3/4 is read: another file system is reported as not inspected.\n"
"\n"
"What is read:\n"
"  XENCFG   a Xen config: every disk source (the old per-partition volumes)\n"
"           is probed; the one root= names is the root file system (without\n"
"           root=, the first ext file system with an /etc/fstab); its\n"
"           UUID=/LABEL= entries are checked against all of them, device\n"
"           names against the plan's new partitions\n"
"  VM       a name looked up as DIR/VM.cfg, then DIR/VM (--xen-dir)\n"
"  DISK     an image file or block device: with a partition table (the new\n"
"           whole disk after the copy), its partitions are the VM's file\n"
"           systems and the one holding /etc/fstab is the root; else a bare\n"
"           file system (then only the root entry's UUID can be checked)\n"
"\n"
"Options:\n"
"  --disk-bus BUS    scsi (default: virtio-scsi, disks are /dev/sdX),\n"
"                    virtio (virtio-blk, /dev/vdX), sata (ahci, /dev/sdX),\n"
"                    ide (/dev/sdX)\n"
"  --nic-model NIC   virtio (default) or e1000\n"
"  --waive ID        accept the findings with this id (repeatable): they\n"
"                    are still listed, marked waived, and no longer fail\n"
"  --offset BYTES    DISK: the file system starts here (no table lookup)\n"
"  --mac MAC         DISK: a MAC of the VM (repeatable), for the\n"
"                    persistent-net check (a Xen config gives its vifs')\n"
"  --xen-dir DIR     where a VM name is looked up (default /etc/xen)\n"
"  --json            the report as one JSON object (docs/MIGRATE.md)\n"
"  -h, --help        this text\n"
"\n"
"Exit status: 0 when no error is left unwaived, 1 when one is (or the\n"
"input cannot be read), 2 on a usage error (an unknown --waive id too).\n";

enum {
	P_JSON = 512, P_BUS, P_NIC, P_WAIVE, P_OFFSET, P_MAC, P_XENDIR,
};

struct pf_args {
	bool json;
	enum guest_bus bus;
	enum guest_nic nic;
	char **waive;
	size_t n_waive;
	bool have_offset;
	uint64_t offset;
	const char **macs;
	size_t n_macs;
	const char *xen_dir;
};

/* What the input names, turned into volumes; every string owned here. */
struct pf_input {
	struct guest_volume *vols;
	size_t n;
	char **strs;		/* to free */
	size_t n_strs;
	char *cmdline;
	char *xen_file;
	const char **macs;
	size_t n_macs;
	bool complete;
};

static char *keep(struct pf_input *in, char *s)
{
	char **n;

	if (!s)
		return NULL;
	n = realloc(in->strs, (in->n_strs + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return NULL;
	}
	in->strs = n;
	n[in->n_strs++] = s;
	return s;
}

static int add_vol(struct pf_input *in, const char *path, uint64_t offset, uint64_t size, const char *old_dev,
		   const char *new_dev)
{
	struct guest_volume *v = realloc(in->vols, (in->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	in->vols = v;
	v = &v[in->n++];
	memset(v, 0, sizeof(*v));
	v->path = path;
	v->offset = offset;
	v->size = size;
	v->old_dev = old_dev;
	v->new_dev = new_dev;
	return 0;
}

static void pf_input_clear(struct pf_input *in)
{
	for (size_t i = 0; i < in->n_strs; i++)
		free(in->strs[i]);
	free(in->strs);
	free(in->vols);
	free(in->cmdline);
	free(in->xen_file);
	free(in->macs);
}

static const char *bus_prefix(enum guest_bus bus)
{
	return bus == GUEST_BUS_VIRTIO ? "vd" : "sd";
}

/* The partitions of a partitioned path as volumes; 0 with none added when it has no table. */
static int add_partitions(struct pf_input *in, const char *path, const char *old_disk, const char *new_disk)
{
	struct probe_part *parts = NULL;
	char err[512];
	size_t n = 0;
	int r = probe_partitions(path, &parts, &n, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "bridgectl migrate preflight: %s\n", err);
		return r;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		char *o = NULL, *nw = NULL;

		if (old_disk && asprintf(&o, "%s%d", old_disk, parts[i].number) < 0)
			r = -ENOMEM;
		if (new_disk && asprintf(&nw, "%s%d", new_disk, parts[i].number) < 0)
			r = -ENOMEM;
		if (r == 0)
			r = add_vol(in, path, parts[i].start, parts[i].size, keep(in, o), keep(in, nw));
	}
	free(parts);
	return r < 0 ? r : (int)n;
}

/* The new names of the Xen disks, from the plan (partition numbers may change there). */
static void plan_names(struct pf_input *in, const struct xen_vm *vm, enum guest_bus bus)
{
	struct plan_opts o = { .sector_size = 512, .alloc_unit = PLAN_DEFAULT_ALLOC };
	struct plan_src *src = calloc(vm->n_disks ? vm->n_disks : 1, sizeof(*src));
	struct plan *plan = NULL;
	char err[512];
	size_t n = 0;

	if (!src)
		return;
	for (size_t i = 0; i < vm->n_disks; i++) {
		const struct xen_disk *d = &vm->disks[i];
		struct probe_info pi;

		if (d->devtype == XEN_DEVTYPE_CDROM || !d->target)
			continue;
		if (probe_path(d->target, &pi, err, sizeof(err)) < 0)
			goto out;	/* not all here: names are mapped by their letters */
		src[n].path = d->target;
		src[n].vdev = d->vdev;
		src[n].size = pi.size;
		src[n].swap = !strcmp(pi.type, "swap");
		n++;
	}
	if (plan_build(vm->name, src, n, &o, &plan, err, sizeof(err)) < 0)
		goto out;
	for (size_t i = 0; i < plan->n_disks; i++) {
		const struct plan_disk *pd = &plan->disks[i];
		struct guest_devname dn;

		/* pd->vdev is the disk: "xvda" */
		if (!guest_devname_parse(pd->vdev, &dn))
			continue;
		for (size_t j = 0; j < pd->n_parts; j++)
			for (size_t k = 0; k < in->n; k++) {
				struct guest_volume *v = &in->vols[k];
				char *nw;

				if (!v->old_dev || strcmp(v->old_dev, pd->parts[j].vdev))
					continue;
				if (asprintf(&nw, "%s%s%d", bus_prefix(bus), dn.letters, pd->parts[j].number) >= 0)
					v->new_dev = keep(in, nw);
			}
	}
out:
	plan_free(plan);
	free(src);
}

static int from_xen(struct pf_input *in, const char *cfg, const struct pf_args *a)
{
	struct xen_vm *vm;
	char root[256] = "";
	int r;

	if (migrate_load(cfg, &vm) < 0)
		return -EINVAL;
	in->xen_file = strdup(cfg);
	r = asprintf(&in->cmdline, "%s%s %s %s", vm->root ? "root=" : "", vm->root ? vm->root : "",
		     vm->extra ? vm->extra : "", vm->cmdline ? vm->cmdline : "");
	if (r < 0 || !in->xen_file) {
		in->cmdline = NULL;
		xen_vm_free(vm);
		return -ENOMEM;
	}
	guest_cmdline_get(in->cmdline, "root", root, sizeof(root));
	for (size_t i = 0; i < vm->n_disks && r >= 0; i++) {
		const struct xen_disk *d = &vm->disks[i];
		struct guest_devname dn;
		char *old, *nw = NULL;

		if (d->devtype == XEN_DEVTYPE_CDROM || !d->target)
			continue;
		if (!guest_devname_parse(d->vdev, &dn)) {
			fprintf(stderr, "bridgectl migrate preflight: disk %s: not a disk name, skipped\n",
				STR_ESCAPED(d->vdev));
			continue;
		}
		if (!dn.part) {
			/* a whole disk (HVM): its partitions */
			if (asprintf(&nw, "%s%s", bus_prefix(a->bus), dn.letters) < 0 || !keep(in, nw)) {
				r = -ENOMEM;
				break;
			}
			char *target = keep(in, strdup(d->target));

			old = keep(in, strdup(d->vdev));
			if (!target || !old) {
				r = -ENOMEM;
				break;
			}
			r = add_partitions(in, target, old, nw);
			if (r == 0)	/* no table: a file system on the whole disk */
				r = add_vol(in, target, 0, 0, old, nw);
			continue;
		}
		r = add_vol(in, keep(in, strdup(d->target)), 0, 0, keep(in, strdup(d->vdev)), NULL);
		if (r == 0 && !strncmp(root, "/dev/", 5)) {
			struct guest_devname rd;

			if (guest_devname_parse(root + 5, &rd) && guest_devname_same(&rd, &dn))
				in->vols[in->n - 1].root = true;
		}
	}
	if (r >= 0)
		plan_names(in, vm, a->bus);
	in->macs = calloc(vm->n_vifs + 1, sizeof(*in->macs));
	for (size_t i = 0; in->macs && i < vm->n_vifs; i++)
		if (vm->vifs[i].mac)
			in->macs[in->n_macs++] = keep(in, strdup(vm->vifs[i].mac));
	in->complete = true;
	xen_vm_free(vm);
	return r < 0 ? r : 0;
}

static int from_disk(struct pf_input *in, const char *path, const struct pf_args *a)
{
	char *p = keep(in, strdup(path)), *nw;
	int r;

	if (!p)
		return -ENOMEM;
	if (a->have_offset)
		return add_vol(in, p, a->offset, 0, NULL, NULL) < 0 ? -ENOMEM : 0;
	if (asprintf(&nw, "%sa", bus_prefix(a->bus)) < 0 || !keep(in, nw))
		return -ENOMEM;
	r = add_partitions(in, p, NULL, nw);
	if (r < 0)
		return r;
	if (r > 0) {
		in->complete = true;
		return 0;
	}
	return add_vol(in, p, 0, 0, NULL, NULL) < 0 ? -ENOMEM : 0;
}

/* Whether path is a Xen config rather than a disk: a small file with no signature that parses. */
static bool is_xen_config(const char *path)
{
	struct probe_info pi;
	struct xen_vm *vm = NULL;
	struct xen_error err;
	struct stat st;
	char e[256];

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20))
		return false;
	if (probe_path(path, &pi, e, sizeof(e)) == 0 && pi.type[0])
		return false;
	if (xen_vm_load(path, &vm, &err) < 0)
		return false;
	xen_vm_free(vm);
	return true;
}

static int parse_enum(const char *arg, const char *const *names, int max)
{
	for (int i = 0; i < max; i++)
		if (!strcmp(arg, names[i]))
			return i;
	return -1;
}

int migrate_cmd_preflight(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, P_JSON },
		{ "disk-bus", required_argument, NULL, P_BUS },
		{ "nic-model", required_argument, NULL, P_NIC },
		{ "waive", required_argument, NULL, P_WAIVE },
		{ "offset", required_argument, NULL, P_OFFSET },
		{ "mac", required_argument, NULL, P_MAC },
		{ "xen-dir", required_argument, NULL, P_XENDIR },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pf_args a = { .bus = GUEST_BUS_SCSI, .nic = GUEST_NIC_VIRTIO };
	struct pf_input in = { 0 };
	struct guest_report *rep = NULL;
	struct stat st;
	const char *arg;
	char err[512];
	int c, rc = 2, v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		void *n;

		switch (c) {
		case P_JSON:
			a.json = true;
			break;
		case P_BUS:
			v = parse_enum(optarg, guest_bus_names, GUEST_BUS_MAX);
			if (v < 0) {
				fprintf(stderr, "bridgectl migrate preflight: --disk-bus %s: scsi, virtio, sata or ide "
					"expected\n", STR_ESCAPED(optarg));
				goto out;
			}
			a.bus = (enum guest_bus)v;
			break;
		case P_NIC:
			v = parse_enum(optarg, guest_nic_names, GUEST_NIC_MAX);
			if (v < 0) {
				fprintf(stderr, "bridgectl migrate preflight: --nic-model %s: virtio or e1000 expected\n",
					STR_ESCAPED(optarg));
				goto out;
			}
			a.nic = (enum guest_nic)v;
			break;
		case P_WAIVE:
			if (!guest_finding_id_known(optarg)) {
				fprintf(stderr, "bridgectl migrate preflight: --waive %s: no such finding id "
					"(docs/MIGRATE.md, \"Guest preflight\")\n", STR_ESCAPED(optarg));
				goto out;
			}
			n = realloc(a.waive, (a.n_waive + 1) * sizeof(*a.waive));
			if (!n)
				goto out;
			a.waive = n;
			a.waive[a.n_waive++] = optarg;
			break;
		case P_OFFSET:
			errno = 0;
			a.offset = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg || *optarg == '-') {
				fprintf(stderr, "bridgectl migrate preflight: --offset %s: BYTES expected\n",
					STR_ESCAPED(optarg));
				goto out;
			}
			a.have_offset = true;
			break;
		case P_MAC:
			n = realloc(a.macs, (a.n_macs + 1) * sizeof(*a.macs));
			if (!n)
				goto out;
			a.macs = n;
			a.macs[a.n_macs++] = optarg;
			break;
		case P_XENDIR:
			a.xen_dir = optarg;
			break;
		case 'h':
			fputs(preflight_help, stdout);
			rc = 0;
			goto out;
		default:
			fputs(preflight_help, stderr);
			goto out;
		}
	}
	if (optind + 1 != argc) {
		fputs(preflight_help, stderr);
		goto out;
	}
	arg = argv[optind];
	rc = 1;
	if (stat(arg, &st) == 0 && !is_xen_config(arg)) {
		if (from_disk(&in, arg, &a) < 0)
			goto out;
	} else {
		struct migrate_args ma = { .vm = arg, .xen_dir = a.xen_dir };
		char *cfg = migrate_args_config(&ma);
		int r;

		if (!cfg)
			goto out;
		if (a.have_offset) {
			fprintf(stderr, "bridgectl migrate preflight: --offset is for a DISK, not a Xen config\n");
			free(cfg);
			rc = 2;
			goto out;
		}
		r = from_xen(&in, cfg, &a);
		free(cfg);
		if (r < 0)
			goto out;
		if (!in.n) {
			fprintf(stderr, "bridgectl migrate preflight: %s: no disk to inspect\n", STR_ESCAPED(arg));
			goto out;
		}
	}
	{
		struct guest_input gi = {
			.bus = a.bus, .nic = a.nic, .vols = in.vols, .n_vols = in.n, .vols_complete = in.complete,
			.xen_file = in.xen_file, .xen_cmdline = in.cmdline,
			.macs = in.n_macs ? in.macs : a.macs, .n_macs = in.n_macs ? in.n_macs : a.n_macs,
		};

		if (guest_preflight(&gi, &rep, err, sizeof(err)) < 0) {
			fprintf(stderr, "bridgectl migrate preflight: %s\n", err);
			goto out;
		}
	}
	for (size_t i = 0; i < a.n_waive; i++)
		guest_report_waive(rep, a.waive[i]);
	if (a.json) {
		struct json_object *o = guest_report_to_json(rep);

		json_object_object_add(o, "input", json_object_new_string(arg));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		guest_report_print(stdout, rep);
	}
	rc = guest_report_count(rep, GUEST_SEV_ERROR, false) ? 1 : 0;
out:
	guest_report_free(rep);
	pf_input_clear(&in);
	free(a.waive);
	free(a.macs);
	return rc;
}
