/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A Xen VM and its plan as a domain spec. The guest must find its disks
 * where its config says: the plan's whole disks are given to the guest in
 * the order of their Xen names (xvda, xvdb, ...), densely, on one bus, so
 * that the kernel names them sda, sdb (virtio-scsi, sata and ide through
 * libata) or vda, vdb (virtio-blk); root= and resume= follow, through the
 * plan's partition numbers (which change when logical partitions appear).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/virt/domain_map.h"

/* libvirt's names for the Xen lifecycle actions each element accepts. */
static const char *const lifecycle_ok[] = {
	"destroy", "restart", "preserve", "rename-restart", NULL,
};
static const char *const crash_ok[] = {
	"destroy", "restart", "preserve", "rename-restart", "coredump-destroy", "coredump-restart", NULL,
};
/* NIC models a guest may know from Xen HVM (qemu-dm) or KVM. */
static const char *const nic_models[] = {
	"virtio", "e1000", "e1000e", "rtl8139", "ne2k_pci", "pcnet", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

bool domain_mac_normalize(const char *in, char out[18])
{
	size_t o = 0;

	for (int i = 0; i < 6; i++) {
		for (int k = 0; k < 2; k++) {
			char c = *in++;

			if (c >= 'A' && c <= 'F')
				c = (char)(c - 'A' + 'a');
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return false;
			out[o++] = c;
		}
		if (i < 5) {
			if (*in != ':' && *in != '-')
				return false;
			in++;
			out[o++] = ':';
		}
	}
	out[o] = '\0';
	return *in == '\0';
}

/* Linux's disk letters: 0 -> "a", 25 -> "z", 26 -> "aa". */
static void disk_letters(size_t i, char *buf, size_t len)
{
	char tmp[8];
	size_t n = 0;

	do {
		tmp[n++] = (char)('a' + i % 26);
		i = i / 26;
	} while (i-- > 0 && n < sizeof(tmp));
	for (size_t k = 0; k < n && k + 1 < len; k++)
		buf[k] = tmp[n - 1 - k];
	buf[n < len ? n : len - 1] = '\0';
}

/* The position of a Xen disk name's letters ("xvdb" -> 1, "sdaa" -> 26). */
static long vdev_index(const char *disk)
{
	static const char *const prefixes[] = { "xvd", "sd", "hd", "vd" };
	const char *l = disk;
	long v = 0;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(disk, prefixes[i], strlen(prefixes[i]))) {
			l = disk + strlen(prefixes[i]);
			break;
		}
	for (; *l >= 'a' && *l <= 'z'; l++)
		v = v * 26 + (*l - 'a' + 1);
	return v - 1;
}

static const struct xen_disk *xen_disk_by_vdev(const struct xen_vm *vm, const char *vdev)
{
	for (size_t i = 0; i < vm->n_disks; i++)
		if (vm->disks[i].devtype == XEN_DEVTYPE_DISK && vm->disks[i].target &&
		    !strcmp(vm->disks[i].vdev, vdev))
			return &vm->disks[i];
	return NULL;
}

static const struct domain_disk *spec_disk_by_volume(const struct domain_spec *s, const char *volume)
{
	for (size_t i = 0; i < s->n_disks; i++)
		if (s->disks[i].volume && !strcmp(s->disks[i].volume, volume))
			return &s->disks[i];
	return NULL;
}

/*
 * The device the guest will see for the Xen device name dev ("xvda2",
 * "sda"), written to buf; false when dev names no disk of the VM.
 */
static bool guest_device(const struct plan *plan, const struct domain_spec *s, const char *dev, char *buf,
			 size_t len)
{
	char disk[16];
	int part;

	/* a Xen partition volume: its number in the plan */
	for (size_t i = 0; i < plan->n_disks; i++)
		for (size_t k = 0; k < plan->disks[i].n_parts; k++)
			if (!strcmp(plan->disks[i].parts[k].vdev, dev)) {
				const struct domain_disk *d = spec_disk_by_volume(s, plan->disks[i].name);

				if (!d)
					return false;
				snprintf(buf, len, "%s%d", d->guest, plan->disks[i].parts[k].number);
				return true;
			}
	/* a whole Xen disk, or a partition inside one (copied with its table) */
	if (!xen_vdev_split(dev, disk, sizeof(disk), &part))
		return false;
	for (size_t i = 0; i < plan->n_disks; i++) {
		const struct domain_disk *d;

		if (!plan->disks[i].whole || strcmp(plan->disks[i].vdev, disk))
			continue;
		d = spec_disk_by_volume(s, plan->disks[i].name);
		if (!d)
			return false;
		if (part)
			snprintf(buf, len, "%s%d", d->guest, part);
		else
			snprintf(buf, len, "%s", d->guest);
		return true;
	}
	return false;
}

/* Appends n bytes of s to the growing string *buf (length *len). */
static int append(char **buf, size_t *len, const char *s, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);

	if (!nb)
		return -ENOMEM;
	memcpy(nb + *len, s, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int domain_cmdline(const struct xen_vm *vm, const struct plan *plan, struct domain_spec *s, char **ret)
{
	char *in = NULL, *out = NULL;
	size_t len = 0;
	const char *p;
	int r = -ENOMEM;

	if (vm->cmdline) {
		in = strdup(vm->cmdline);
	} else if (asprintf(&in, "%s%s %s", vm->root ? "root=" : "", vm->root ? vm->root : "",
			    vm->extra ? vm->extra : "") < 0) {
		in = NULL;
	}
	if (!in)
		return -ENOMEM;
	/* Words as the kernel splits them: blanks outside double quotes. */
	for (p = in; *p;) {
		const char *w;
		bool quoted = false;
		size_t wl;

		while (blank(*p))
			p++;
		if (!*p)
			break;
		for (w = p; *p && (quoted || !blank(*p)); p++)
			if (*p == '"')
				quoted = !quoted;
		wl = (size_t)(p - w);
		if (len && append(&out, &len, " ", 1) < 0)
			goto out;
		if ((!strncmp(w, "root=/dev/", 10) || !strncmp(w, "resume=/dev/", 12))) {
			size_t key = (size_t)(strchr(w, '=') - w) + 1;
			char dev[64], guest[32];

			if (wl - key - 5 < sizeof(dev)) {
				memcpy(dev, w + key + 5, wl - key - 5);
				dev[wl - key - 5] = '\0';
				if (guest_device(plan, s, dev, guest, sizeof(guest))) {
					if (append(&out, &len, w, key) < 0 || append(&out, &len, "/dev/", 5) < 0 ||
					    append(&out, &len, guest, strlen(guest)) < 0)
						goto out;
					continue;
				}
				if (domain_spec_warn(s, "%.*s names no disk of the VM: kept as it is", (int)wl, w) < 0)
					goto out;
			}
		}
		/* a newline inside quotes is no better than a blank */
		for (const char *c = w; c < w + wl; c++)
			if (append(&out, &len, blank(*c) ? " " : c, 1) < 0)
				goto out;
	}
	if ((len && append(&out, &len, " ", 1) < 0) ||
	    append(&out, &len, "console=ttyS0,115200", strlen("console=ttyS0,115200")) < 0)
		goto out;
	*ret = out;
	out = NULL;
	r = 0;
out:
	free(in);
	free(out);
	return r;
}

struct order {
	const struct plan_disk *pd;
	long index;
};

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return strcmp(x->pd->vdev, y->pd->vdev);
}

/* Every Xen disk is in the plan and every plan disk in the config. */
static int check_coverage(const struct xen_vm *vm, const struct plan *plan, char *err, size_t errlen)
{
	for (size_t i = 0; i < vm->n_disks; i++) {
		const struct xen_disk *x = &vm->disks[i];
		bool found = false;
		char disk[16];
		int part;

		if (x->devtype == XEN_DEVTYPE_CDROM || !x->target)
			continue;
		if (!xen_vdev_split(x->vdev, disk, sizeof(disk), &part)) {
			snprintf(err, errlen, "Xen disk %s (%s): not a disk name this tool knows", x->vdev, x->target);
			return -EINVAL;
		}
		for (size_t k = 0; k < plan->n_disks && !found; k++) {
			const struct plan_disk *d = &plan->disks[k];

			if (strcmp(d->vdev, disk))
				continue;
			if (d->whole)
				found = part == 0;
			for (size_t j = 0; j < d->n_parts && !found; j++)
				found = !strcmp(d->parts[j].vdev, x->vdev);
		}
		if (!found) {
			snprintf(err, errlen, "Xen disk %s (%s) is not in the disk plan: the plan was made for "
				 "another config (plan again)", x->vdev, x->target);
			return -EINVAL;
		}
	}
	for (size_t k = 0; k < plan->n_disks; k++) {
		const struct plan_disk *d = &plan->disks[k];

		if (d->whole && !xen_disk_by_vdev(vm, d->vdev)) {
			snprintf(err, errlen, "plan disk %s (%s) is not a disk of the Xen config: the plan was made "
				 "for another config (plan again)", d->name, d->vdev);
			return -EINVAL;
		}
		for (size_t j = 0; j < d->n_parts; j++)
			if (!xen_disk_by_vdev(vm, d->parts[j].vdev)) {
				snprintf(err, errlen, "plan partition %s of %s is not a disk of the Xen config: the "
					 "plan was made for another config (plan again)", d->parts[j].vdev, d->name);
				return -EINVAL;
			}
	}
	return 0;
}

static int map_disks(const struct xen_vm *vm, const struct plan *plan, const struct domain_choices *c,
		     struct domain_spec *s, char *err, size_t errlen)
{
	static const char *const dev_prefix[DOMAIN_BUS_MAX] = {
		[DOMAIN_BUS_SCSI] = "sd", [DOMAIN_BUS_VIRTIO] = "vd", [DOMAIN_BUS_SATA] = "sd", [DOMAIN_BUS_IDE] = "hd",
	};
	/* the names the guest's kernel gives (libata names ide disks sdX too) */
	static const char *const guest_prefix[DOMAIN_BUS_MAX] = {
		[DOMAIN_BUS_SCSI] = "sd", [DOMAIN_BUS_VIRTIO] = "vd", [DOMAIN_BUS_SATA] = "sd", [DOMAIN_BUS_IDE] = "sd",
	};
	enum domain_bus cdbus = c->bus == DOMAIN_BUS_VIRTIO ? DOMAIN_BUS_SCSI : c->bus;
	size_t n_cd = 0, slot_disks, slot_cd;
	struct order *ord;
	char l[8];
	int r;

	r = check_coverage(vm, plan, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; i < vm->n_disks; i++)
		n_cd += vm->disks[i].devtype == XEN_DEVTYPE_CDROM;
	if (c->bus == DOMAIN_BUS_IDE && plan->n_disks + n_cd > 4) {
		snprintf(err, errlen, "the ide bus has 4 places, the VM has %zu disks and %zu cdroms (use "
			 "--disk-bus scsi)", plan->n_disks, n_cd);
		return -EINVAL;
	}
	s->disks = calloc(plan->n_disks + n_cd + 1, sizeof(*s->disks));
	ord = calloc(plan->n_disks + 1, sizeof(*ord));
	if (!s->disks || !ord) {
		free(ord);
		return -ENOMEM;
	}
	for (size_t k = 0; k < plan->n_disks; k++) {
		ord[k].pd = &plan->disks[k];
		ord[k].index = vdev_index(plan->disks[k].vdev);
	}
	qsort(ord, plan->n_disks, sizeof(*ord), cmp_order);
	for (size_t k = 0; k < plan->n_disks; k++) {
		const struct plan_disk *pd = ord[k].pd;
		struct domain_disk *d = &s->disks[s->n_disks];
		bool ro = false;

		/* read-only when every Xen volume of it was */
		for (size_t i = 0; i < vm->n_disks; i++) {
			const struct xen_disk *x = &vm->disks[i];
			char disk[16];
			int part;

			if (x->devtype == XEN_DEVTYPE_CDROM || !x->target ||
			    !xen_vdev_split(x->vdev, disk, sizeof(disk), &part) || strcmp(disk, pd->vdev))
				continue;
			ro = x->access == XEN_ACCESS_R;
			if (!ro)
				break;
		}
		if (ro && (c->bus == DOMAIN_BUS_IDE || c->bus == DOMAIN_BUS_SATA)) {
			snprintf(err, errlen, "disk %s is read-only in the Xen config, and qemu has no read-only %s "
				 "disks (use --disk-bus scsi or virtio)", pd->vdev, domain_bus_names[c->bus]);
			free(ord);
			return -EINVAL;
		}
		disk_letters(k, l, sizeof(l));
		d->bus = c->bus;
		d->readonly = ro;
		snprintf(d->dev, sizeof(d->dev), "%s%s", dev_prefix[c->bus], l);
		snprintf(d->guest, sizeof(d->guest), "%s%s", guest_prefix[c->bus], l);
		snprintf(d->xen_vdev, sizeof(d->xen_vdev), "%s", pd->vdev);
		d->volume = strdup(pd->name);
		if (!d->volume) {
			free(ord);
			return -ENOMEM;
		}
		s->n_disks++;
	}
	free(ord);
	for (size_t k = 0; k < plan->n_disks; k++)
		for (size_t j = 0; j < plan->disks[k].n_parts; j++) {
			const struct plan_part *pt = &plan->disks[k].parts[j];
			const struct domain_disk *d = spec_disk_by_volume(s, plan->disks[k].name);
			char disk[16];
			int part;

			if (!d || !xen_vdev_split(pt->vdev, disk, sizeof(disk), &part) || part == pt->number)
				continue;
			r = domain_spec_warn(s, "partition %s is %s%d in the guest (renumbered into the extended "
					     "partition): root= and resume= on stage 1's command line follow, /etc/fstab "
					     "entries naming it by device do not", pt->vdev, d->guest, pt->number);
			if (r < 0)
				return r;
		}
	/* cdroms after the disks on their bus (virtio-blk has none: they go on scsi) */
	slot_disks = cdbus == c->bus ? plan->n_disks : 0;
	slot_cd = 0;
	for (size_t i = 0; i < vm->n_disks; i++) {
		const struct xen_disk *x = &vm->disks[i];
		struct domain_disk *d = &s->disks[s->n_disks];

		if (x->devtype != XEN_DEVTYPE_CDROM)
			continue;
		disk_letters(slot_disks + slot_cd, l, sizeof(l));
		d->bus = cdbus;
		d->cdrom = true;
		d->readonly = true;
		snprintf(d->dev, sizeof(d->dev), "%s%s", dev_prefix[cdbus], l);
		snprintf(d->guest, sizeof(d->guest), "sr%zu", slot_cd);
		snprintf(d->xen_vdev, sizeof(d->xen_vdev), "%s", x->vdev);
		s->n_disks++;
		slot_cd++;
		if (!x->target)
			continue;
		if (c->path_exists && !c->path_exists(x->target, c->data)) {
			r = domain_spec_warn(s, "cdrom %s: %s is not on this host: the cdrom is defined empty (insert "
					     "it with virsh change-media %s %s PATH)", x->vdev, x->target, vm->name, d->dev);
			if (r < 0)
				return r;
			continue;
		}
		d->path = strdup(x->target);
		if (!d->path)
			return -ENOMEM;
		d->block = !strncmp(x->target, "/dev/", 5);
	}
	return 0;
}

static int map_nics(const struct xen_vm *vm, const struct domain_choices *c, struct domain_spec *s, char *err,
		    size_t errlen)
{
	s->nics = calloc(vm->n_vifs + 1, sizeof(*s->nics));
	if (!s->nics)
		return -ENOMEM;
	for (size_t k = 0; k < c->n_macs; k++) {
		const char *key = c->macs[k].key;
		char *end = NULL;
		unsigned long n;
		char mac[18];

		n = strncmp(key, "vif", 3) ? ~0ul : strtoul(key + 3, &end, 10);
		if (n == ~0ul || *end || end == key + 3) {
			snprintf(err, errlen, "--mac %s=%s: vifN=MAC expected (vif0 is the first vif)", key,
				 c->macs[k].value);
			return -EINVAL;
		}
		if (n >= vm->n_vifs) {
			snprintf(err, errlen, "--mac %s: the VM has %zu vif(s), vif0 to vif%zu", key, vm->n_vifs,
				 vm->n_vifs ? vm->n_vifs - 1 : 0);
			return -EINVAL;
		}
		if (vm->vifs[n].mac) {
			snprintf(err, errlen, "--mac %s: vif%lu has the MAC %s in the Xen config (keep it: the guest's "
				 "network identity)", key, n, vm->vifs[n].mac);
			return -EINVAL;
		}
		if (!domain_mac_normalize(c->macs[k].value, mac) || (strtoul(mac, NULL, 16) & 1)) {
			snprintf(err, errlen, "--mac %s=%s: not a unicast MAC address", key, c->macs[k].value);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < vm->n_vifs; i++) {
		const struct xen_vif *v = &vm->vifs[i];
		struct domain_nic *n = &s->nics[i];
		const char *xbr = v->bridge ? v->bridge : DOMAIN_XEN_DEFAULT_BRIDGE, *br = xbr, *model;
		char key[32];

		snprintf(key, sizeof(key), "vif%zu", i);
		if (v->mac) {
			snprintf(n->mac, sizeof(n->mac), "%s", v->mac);
		} else {
			for (size_t k = 0; k < c->n_macs; k++)
				if (!strcmp(c->macs[k].key, key))
					domain_mac_normalize(c->macs[k].value, n->mac);
			if (!n->mac[0]) {
				snprintf(err, errlen, "vif%zu has no MAC in the Xen config (Xen made up a new one at each "
					 "boot): give the one the guest last had with --mac vif%zu=MAC; a new MAC "
					 "would break the guest's network identity", i, i);
				return -EINVAL;
			}
		}
		for (size_t k = 0; k < c->n_bridge_map; k++)
			if (!strcmp(c->bridge_map[k].key, xbr))
				br = c->bridge_map[k].value;
		if (c->nic_model) {
			model = c->nic_model;
		} else if (v->model && in_list(nic_models, v->model)) {
			model = v->model;	/* an HVM guest's emulated NIC: its drivers know it */
		} else {
			if (v->model && domain_spec_warn(s, "vif%zu: model '%s' is not a NIC model here: virtio", i,
							 v->model) < 0)
				return -ENOMEM;
			model = "virtio";
		}
		n->bridge = strdup(br);
		n->xen_bridge = strdup(xbr);
		n->model = strdup(model);
		s->n_nics++;
		if (!n->bridge || !n->xen_bridge || !n->model)
			return -ENOMEM;
	}
	for (size_t k = 0; k < c->n_bridge_map; k++) {
		bool used = false;

		for (size_t i = 0; i < s->n_nics; i++)
			used |= !strcmp(s->nics[i].xen_bridge, c->bridge_map[k].key);
		if (!used && domain_spec_warn(s, "--bridge-map %s=%s: no vif of the VM is on %s", c->bridge_map[k].key,
					      c->bridge_map[k].value, c->bridge_map[k].key) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int map_lifecycle(const char *what, const char *xen, const char *const *ok, char **ret,
			 struct domain_spec *s)
{
	if (!xen)
		return 0;
	if (!in_list(ok, xen))
		return domain_spec_warn(s, "%s = '%s' has no libvirt equivalent: libvirt's default", what, xen);
	*ret = strdup(xen);
	return *ret ? 0 : -ENOMEM;
}

int domain_spec_from_xen(const struct xen_vm *vm, const struct plan *plan, const struct domain_choices *c,
			 struct domain_spec **ret, char *err, size_t errlen)
{
	struct domain_spec *s = calloc(1, sizeof(*s));
	long long mem, maxmem, vcpus, maxvcpus;
	int r = -ENOMEM;

	if (!s)
		return -ENOMEM;
	*err = '\0';
	if (c->stage != 1 && c->stage != 2) {
		snprintf(err, errlen, "stage %d: 1 or 2 expected", c->stage);
		r = -EINVAL;
		goto fail;
	}
	if ((unsigned)c->bus >= DOMAIN_BUS_MAX) {
		snprintf(err, errlen, "unknown disk bus");
		r = -EINVAL;
		goto fail;
	}
	if (strchr(vm->name, '/')) {
		snprintf(err, errlen, "the VM name '%s' holds a '/', which libvirt refuses", vm->name);
		r = -EINVAL;
		goto fail;
	}
	s->name = strdup(vm->name);
	if (!s->name || (vm->uuid && !(s->uuid = strdup(vm->uuid))))
		goto fail;
	mem = vm->memory_mib;
	if (mem <= 0) {
		mem = 128;
		if (domain_spec_warn(s, "memory is not set: Xen's default, 128 MiB") < 0)
			goto fail;
	}
	maxmem = vm->maxmem_mib > mem ? vm->maxmem_mib : mem;
	s->memory_kib = (unsigned long long)maxmem * 1024;
	s->current_kib = (unsigned long long)mem * 1024;
	vcpus = vm->vcpus > 0 ? vm->vcpus : 1;
	maxvcpus = vm->maxvcpus > vcpus ? vm->maxvcpus : vcpus;
	s->vcpus = (unsigned)maxvcpus;
	s->current_vcpus = (unsigned)vcpus;
	if ((r = map_lifecycle("on_poweroff", vm->on_poweroff, lifecycle_ok, &s->on_poweroff, s)) < 0 ||
	    (r = map_lifecycle("on_reboot", vm->on_reboot, lifecycle_ok, &s->on_reboot, s)) < 0 ||
	    (r = map_lifecycle("on_crash", vm->on_crash, crash_ok, &s->on_crash, s)) < 0)
		goto fail;
	r = map_disks(vm, plan, c, s, err, errlen);
	if (r < 0)
		goto fail;
	r = map_nics(vm, c, s, err, errlen);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	if (c->console_log && !(s->console_log = strdup(c->console_log)))
		goto fail;
	if (c->stage == 1) {
		if (!c->kernel) {
			bool own = vm->bootloader || (vm->type && !strcmp(vm->type, "hvm"));

			if (own)
				snprintf(err, errlen, "stage 1 boots a kernel from outside the disk: give --kernel PATH "
					 "(and --initrd PATH), e.g. copies of those in the guest's /boot, or use --stage "
					 "2: on Xen this VM booted from its own disk (HVM or a bootloader)");
			else
				snprintf(err, errlen, "stage 1 boots a kernel from outside the disk: give --kernel PATH "
					 "(and --initrd PATH), e.g. the old dom0's %s copied across",
					 vm->kernel ? vm->kernel : "kernel");
			r = -EINVAL;
			goto fail;
		}
		if (!(s->kernel = strdup(c->kernel)) || (c->initrd && !(s->initrd = strdup(c->initrd))))
			goto fail;
		if (!c->initrd && vm->ramdisk &&
		    domain_spec_warn(s, "the Xen config boots with the ramdisk %s but no --initrd is given: the "
				     "kernel must have the disk drivers and the root file system built in",
				     vm->ramdisk) < 0)
			goto fail;
		r = domain_cmdline(vm, plan, s, &s->cmdline);
		if (r < 0)
			goto fail;
	}
	*ret = s;
	return 0;
fail:
	if (r == -ENOMEM && !*err)
		snprintf(err, errlen, "out of memory");
	domain_spec_free(s);
	return r;
}
