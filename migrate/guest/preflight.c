/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The preflight checks: each reads guest files through the mount tree
 * (tree.h over fs.h), parses them with the pure parsers (parse.h) and adds
 * findings. Every id is in finding_ids[] and in docs/MIGRATE.md.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include <json-c/json.h>

#include "common/escape.h"
#include "migrate/disk/probe.h"
#include "migrate/guest/fs.h"
#include "migrate/guest/kernel.h"
#include "migrate/guest/mounted.h"
#include "migrate/guest/parse.h"
#include "migrate/guest/preflight.h"
#include "migrate/guest/tree.h"

#define FILE_CAP (4u << 20)		/* text files: fstab, grub.cfg, ... */
#define DIR_MAX 100000

const char *const guest_bus_names[GUEST_BUS_MAX] = {
	[GUEST_BUS_SCSI] = "scsi",
	[GUEST_BUS_VIRTIO] = "virtio",
	[GUEST_BUS_SATA] = "sata",
	[GUEST_BUS_IDE] = "ide",
};

const char *const guest_nic_names[GUEST_NIC_MAX] = {
	[GUEST_NIC_VIRTIO] = "virtio",
	[GUEST_NIC_E1000] = "e1000",
};

const char *const guest_severity_names[GUEST_SEV_MAX] = {
	[GUEST_SEV_ERROR] = "error",
	[GUEST_SEV_WARNING] = "warning",
	[GUEST_SEV_INFO] = "info",
};

static const char *const finding_ids[] = {
	"fs-unreadable", "fs-not-inspected", "fs-needs-recovery",
	"fstab-xvd", "fstab-uuid-missing", "fstab-label-missing",
	"grub-xvd", "root-xvd",
	"no-kernel", "xen-kernel-only",
	"initramfs-no-disk-driver", "initramfs-no-nic-driver", "initramfs-unreadable", "grub-default-no-driver",
	"no-serial-getty", "hvc-getty-only", "securetty-no-ttys0",
	"persistent-net-mac", "no-acpid", "pygrub-only", "no-bootloader",
};

bool guest_finding_id_known(const char *id)
{
	for (size_t i = 0; i < sizeof(finding_ids) / sizeof(finding_ids[0]); i++)
		if (!strcmp(finding_ids[i], id))
			return true;
	return false;
}

/* One volume, probed and maybe opened. */
struct vol {
	const struct guest_volume *v;
	struct probe_info pi;
	uint64_t size;		/* bytes from the offset to the end, 0: unknown */
	bool probed;
	struct guest_fs *fs;
	char error[512];
	bool tried;
};

struct pf {
	const struct guest_input *in;
	struct guest_report *r;
	struct vol *vols;
	size_t n_vols;
	struct vol *root;
	struct guest_tree *tree;
	int err;		/* -ENOMEM seen */
	bool boot_ok, usr_ok;	/* /boot and /usr are readable */
	bool systemd;
	char *boot_cmdline;	/* the command line of the entry grub boots, or NULL */
	const struct guest_boot_entry *boot_entry;
};

/* ---- findings ----------------------------------------------------------- */

static void add(struct pf *p, const char *id, enum guest_severity sev, const char *file, int line,
		const char *hint, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void add(struct pf *p, const char *id, enum guest_severity sev, const char *file, int line,
		const char *hint, const char *fmt, ...)
{
	struct guest_report *r = p->r;
	struct guest_finding *f = realloc(r->findings, (r->n + 1) * sizeof(*f));
	va_list ap;

	if (!f) {
		p->err = -ENOMEM;
		return;
	}
	r->findings = f;
	f = &f[r->n];
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->severity = sev;
	f->line = line;
	f->file = strdup(file ? file : "");
	f->hint = strdup(hint ? hint : "");
	va_start(ap, fmt);
	if (vasprintf(&f->message, fmt, ap) < 0)
		f->message = NULL;
	va_end(ap);
	if (!f->file || !f->hint || !f->message) {
		free(f->file);
		free(f->hint);
		free(f->message);
		p->err = -ENOMEM;
		return;
	}
	r->n++;
}

/* ---- volumes ------------------------------------------------------------ */

static void vol_probe(struct vol *v)
{
	struct stat st;
	uint64_t size = v->v->size;
	int fd = open(v->v->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(v->error, sizeof(v->error), "%s: %s", v->v->path, strerror(errno));
		return;
	}
	if (!size && fstat(fd, &st) == 0) {
		if (S_ISBLK(st.st_mode)) {
			if (ioctl(fd, BLKGETSIZE64, &size) < 0)
				size = 0;
		} else {
			size = (uint64_t)st.st_size;
		}
		size = size > v->v->offset ? size - v->v->offset : 0;
	}
	v->size = size;
	if (size && probe_fd(fd, v->v->offset, size, &v->pi) == 0)
		v->probed = true;
	else
		snprintf(v->error, sizeof(v->error), "%s: cannot probe at offset %llu", v->v->path,
			 (unsigned long long)v->v->offset);
	close(fd);
}

static bool is_ext(const char *type)
{
	/* ext2, ext3, ext4, ext4dev: libext2fs judges the rest */
	return !strncmp(type, "ext", 3);
}

/* Opens v (once); false with v->error set when it cannot be read. */
static bool vol_open(struct vol *v)
{
	int r;

	if (v->tried)
		return v->fs != NULL;
	v->tried = true;
	if (v->probed && v->pi.type[0] && !is_ext(v->pi.type)) {
		snprintf(v->error, sizeof(v->error), "%s file system: not inspected (only ext2/3/4 are read)",
			 v->pi.type);
		return false;
	}
	r = guest_fs_open(v->v->path, v->v->offset, &v->fs, v->error, sizeof(v->error));
	if (r == -EMEDIUMTYPE && v->probed && !v->pi.type[0])
		snprintf(v->error, sizeof(v->error), "no file system signature at offset %llu",
			 (unsigned long long)v->v->offset);
	return r == 0;
}

/* The device name as the guest will see it under the chosen bus. */
static void new_name(const struct pf *p, const struct guest_devname *d, char *buf, size_t len)
{
	static const char *const prefix[GUEST_BUS_MAX] = {
		[GUEST_BUS_SCSI] = "sd", [GUEST_BUS_VIRTIO] = "vd", [GUEST_BUS_SATA] = "sd", [GUEST_BUS_IDE] = "sd",
	};

	for (size_t i = 0; i < p->n_vols; i++) {
		const struct guest_volume *v = p->vols[i].v;
		struct guest_devname o;

		if (v->old_dev && v->new_dev && guest_devname_parse(v->old_dev, &o) && guest_devname_same(&o, d)) {
			snprintf(buf, len, "%s", v->new_dev);
			return;
		}
	}
	if (d->part)
		snprintf(buf, len, "%s%s%d", prefix[p->in->bus], d->letters, d->part);
	else
		snprintf(buf, len, "%s%s", prefix[p->in->bus], d->letters);
}

/* The volume a Xen-era device name names, or NULL. */
static struct vol *vol_by_dev(struct pf *p, const struct guest_devname *d)
{
	for (size_t i = 0; i < p->n_vols; i++) {
		const struct guest_volume *v = p->vols[i].v;
		struct guest_devname o;

		if ((v->old_dev && guest_devname_parse(v->old_dev, &o) && guest_devname_same(&o, d)) ||
		    (v->new_dev && guest_devname_parse(v->new_dev, &o) && guest_devname_same(&o, d)))
			return &p->vols[i];
	}
	return NULL;
}

/* The volume an fstab spec names (UUID=, LABEL=, /dev/NAME), or NULL. */
static struct vol *vol_by_spec(struct pf *p, const char *spec)
{
	struct guest_devname d;

	for (size_t i = 0; i < p->n_vols; i++) {
		struct vol *v = &p->vols[i];

		if (!v->probed)
			continue;
		if (!strncmp(spec, "UUID=", 5) && v->pi.uuid[0] && !strcasecmp(spec + 5, v->pi.uuid))
			return v;
		if (!strncmp(spec, "LABEL=", 6) && v->pi.label[0] && !strcmp(spec + 6, v->pi.label))
			return v;
	}
	if (guest_devname_parse(spec, &d))
		return vol_by_dev(p, &d);
	return NULL;
}

static int mount_add(struct pf *p, const char *dir, struct vol *v)
{
	struct guest_report *r = p->r;
	struct guest_mount *m = realloc(r->mounts, (r->n_mounts + 1) * sizeof(*m));

	if (!m)
		return -ENOMEM;
	r->mounts = m;
	m = &m[r->n_mounts];
	memset(m, 0, sizeof(*m));
	m->dir = strdup(dir);
	m->path = strdup(v->v->path);
	if (!m->dir || !m->path) {
		free(m->dir);
		free(m->path);
		return -ENOMEM;
	}
	m->offset = v->v->offset;
	if (v->probed) {
		snprintf(m->type, sizeof(m->type), "%s", v->pi.type);
		snprintf(m->uuid, sizeof(m->uuid), "%s", v->pi.uuid);
	}
	m->inspected = v->fs != NULL;
	r->n_mounts++;
	return 0;
}

/* Reads a guest file; NULL when absent (or unreadable: a finding when it is not just absent). */
static char *read_file(struct pf *p, const char *path, size_t *len)
{
	char *buf = NULL;
	int r = guest_tree_read(p->tree, path, FILE_CAP, &buf, len);

	if (r == -ENOMEM)
		p->err = r;
	if (r == -EIO)
		add(p, "fs-unreadable", GUEST_SEV_ERROR, path, 0, "check the file system with e2fsck -fn",
		    "cannot read %s: the file system is damaged there", path);
	return r == 0 ? buf : NULL;
}

/* ---- device names --------------------------------------------------------- */

/*
 * Whether /dev/NAME will not exist under the bus; new: what it becomes.
 * Names that are no disk (md0, mapper/vg-root, disk/by-uuid/...) are fine.
 */
static bool dev_moves(struct pf *p, const char *name, char *new, size_t len)
{
	struct guest_devname d;

	if (!strncmp(name, "/dev/", 5))
		name += 5;
	if (!guest_devname_parse(name, &d))
		return false;
	new_name(p, &d, new, len);
	return strcmp(name, new) != 0;
}

/* The UUID of the volume a device name names, for hints ("" when unknown). */
static const char *dev_uuid(struct pf *p, const char *name)
{
	struct guest_devname d;
	struct vol *v;

	if (!strncmp(name, "/dev/", 5))
		name += 5;
	if (!guest_devname_parse(name, &d))
		return "";
	v = vol_by_dev(p, &d);
	return v && v->probed ? v->pi.uuid : "";
}

struct cmdline_ctx {
	struct pf *p;
	const char *id, *file, *what;
	int line;
};

static void cmdline_dev(const char *key, const char *dev, void *data)
{
	struct cmdline_ctx *c = data;
	const char *uuid = dev_uuid(c->p, dev);
	char new[32], hint[256];

	if (!dev_moves(c->p, dev, new, sizeof(new)))
		return;
	if (*uuid)
		snprintf(hint, sizeof(hint), "use %s=UUID=%s (or %s=/dev/%s)", key, uuid, key, new);
	else
		snprintf(hint, sizeof(hint), "use %s=UUID=... of that file system (or %s=/dev/%s)", key, key, new);
	add(c->p, c->id, GUEST_SEV_ERROR, c->file, c->line, hint,
	    "%s%s=/dev/%s: no /dev/%s under the %s bus (it becomes /dev/%s)", c->what, key, dev, dev,
	    guest_bus_names[c->p->in->bus], new);
}

/* ---- checks --------------------------------------------------------------- */

static void check_fstab(struct pf *p)
{
	struct guest_fstab f;
	size_t len;
	char *buf = read_file(p, "/etc/fstab", &len);
	struct vol *root = p->root;

	if (!buf)
		return;
	if (guest_fstab_parse(buf, len, &f) < 0) {
		p->err = -ENOMEM;
		free(buf);
		return;
	}
	free(buf);
	for (size_t i = 0; i < f.n; i++) {
		const struct guest_fstab_entry *e = &f.entries[i];
		bool soft = guest_opts_has(e->opts, "noauto") || guest_opts_has(e->opts, "nofail");
		enum guest_severity sev = soft ? GUEST_SEV_WARNING : GUEST_SEV_ERROR;
		bool is_root = !strcmp(e->file, "/");
		char new[32], hint[256];

		if (!strncmp(e->spec, "/dev/", 5) && dev_moves(p, e->spec, new, sizeof(new))) {
			const char *uuid = dev_uuid(p, e->spec);

			if (*uuid)
				snprintf(hint, sizeof(hint), "use UUID=%s (or /dev/%s)", uuid, new);
			else
				snprintf(hint, sizeof(hint), "use UUID=... of that file system (blkid), or /dev/%s", new);
			add(p, "fstab-xvd", sev, "/etc/fstab", e->line, hint,
			    "%s (%s) is mounted from %s: no such device under the %s bus (it becomes /dev/%s)",
			    e->file, e->type, e->spec, guest_bus_names[p->in->bus], new);
		} else if (!strncmp(e->spec, "UUID=", 5) || !strncmp(e->spec, "LABEL=", 6)) {
			bool uuid = e->spec[0] == 'U';
			struct vol *v = vol_by_spec(p, e->spec);

			if (is_root && root && v != root) {
				add(p, uuid ? "fstab-uuid-missing" : "fstab-label-missing", GUEST_SEV_ERROR,
				    "/etc/fstab", e->line,
				    uuid ? "set the root entry to the root file system's UUID (blkid)" :
					   "set the root entry to the root file system's label (e2label)",
				    "/ is mounted from %s, but the root file system has %s %s", e->spec,
				    uuid ? "UUID" : "label", uuid ? root->pi.uuid : root->pi.label);
			} else if (!v && p->in->vols_complete) {
				add(p, uuid ? "fstab-uuid-missing" : "fstab-label-missing", sev, "/etc/fstab", e->line,
				    "point the entry at a file system that is planned (blkid), or remove it",
				    "%s (%s) is mounted from %s, which no planned volume holds", e->file, e->type,
				    e->spec);
			}
		}
	}
	guest_fstab_clear(&f);
}

/* Mounts a separate /boot or /usr when fstab has one; sets boot_ok / usr_ok. */
static void mount_separate(struct pf *p)
{
	static const char *const dirs[] = { "/usr", "/boot" };
	struct guest_fstab f = { 0 };
	size_t len;
	char *buf = read_file(p, "/etc/fstab", &len);

	p->boot_ok = p->usr_ok = true;
	if (!buf)
		return;
	if (guest_fstab_parse(buf, len, &f) < 0) {
		p->err = -ENOMEM;
		free(buf);
		return;
	}
	free(buf);
	for (size_t d = 0; d < 2; d++) {
		const struct guest_fstab_entry *e = NULL;
		struct vol *v;

		for (size_t i = 0; i < f.n; i++)
			if (!strcmp(f.entries[i].file, dirs[d]))
				e = &f.entries[i];
		if (!e)
			continue;
		v = vol_by_spec(p, e->spec);
		if (v && vol_open(v)) {
			if (guest_tree_mount(p->tree, dirs[d], v->fs) < 0 || mount_add(p, dirs[d], v) < 0)
				p->err = -ENOMEM;
			continue;
		}
		if (d)
			p->boot_ok = false;
		else
			p->usr_ok = false;
		if (v && mount_add(p, dirs[d], v) < 0)
			p->err = -ENOMEM;
		add(p, "fs-not-inspected", GUEST_SEV_WARNING, "/etc/fstab", e->line,
		    v ? "check this file system by hand" : "give the volume that holds it (DISK with its partition table, or the Xen config)",
		    "%s (%s) is a separate file system, %s: the checks that read it are skipped", dirs[d], e->spec,
		    v ? v->error : "not among the volumes given");
	}
	guest_fstab_clear(&f);
}

static void check_xen_cmdline(struct pf *p)
{
	struct cmdline_ctx c = { p, "root-xvd", p->in->xen_file, "the Xen config's ", 0 };

	if (!p->in->xen_cmdline)
		return;
	guest_cmdline_devices(p->in->xen_cmdline, cmdline_dev, &c);
}

static void check_grub_file(struct pf *p, const char *path, enum guest_grub_flavour fl, struct guest_grub *ret)
{
	size_t len;
	char *buf = read_file(p, path, &len);

	memset(ret, 0, sizeof(*ret));
	if (!buf)
		return;
	if (guest_grub_parse(fl, buf, len, ret) < 0) {
		p->err = -ENOMEM;
		free(buf);
		return;
	}
	free(buf);
	for (size_t i = 0; i < ret->n; i++) {
		const struct guest_boot_entry *e = &ret->entries[i];
		char what[256];
		struct cmdline_ctx c = { p, "grub-xvd", path, what, e->line };

		if (e->menu)
			snprintf(what, sizeof(what), "entry '%s': ", e->title);
		else
			snprintf(what, sizeof(what), "%s: ", e->title);
		guest_cmdline_devices(e->args, cmdline_dev, &c);
	}
}

/* Which kernel boots, and whether its drivers suffice (kernel.h: the rule stage 1 boots by too). */
static void check_kernels(struct pf *p)
{
	const struct guest_boot_entry *e = p->boot_entry;
	struct guest_kernels ks;
	struct guest_kernel *k = &ks.chosen;
	const char *ver;
	int r;

	if (!p->boot_ok)
		return;
	r = guest_kernels_choose(p->tree, p->in->bus, p->in->nic, e ? e->kernel : NULL, e ? e->initrd : NULL,
				 p->usr_ok, &ks);
	if (r < 0) {
		p->err = r;
		return;
	}
	if (ks.status == GUEST_KERNEL_NONE) {
		add(p, "no-kernel", GUEST_SEV_ERROR, "/boot", 0,
		    "install a kernel in the guest (apt-get install linux-image-amd64) while it still runs on Xen",
		    "no kernel in /boot: the guest booted a kernel from the Xen host");
		goto out;
	}
	if (ks.status == GUEST_KERNEL_XEN_ONLY) {
		add(p, "xen-kernel-only", GUEST_SEV_ERROR, "/boot", 0,
		    "install a kernel that is not Xen-flavoured (Debian: linux-image-amd64) and make it grub's default",
		    "every kernel in /boot is Xen-flavoured (%s%s): none boots on KVM with virtio", ks.first_xen,
		    ks.n_found > 1 ? ", ..." : "");
		goto out;
	}
	ver = k->version;
	p->r->kernel_version = strdup(ver);
	p->r->kernel = strdup(k->kernel);
	if (k->initrd && !(p->r->initrd = strdup(k->initrd)))
		p->err = -ENOMEM;
	if (k->initrd_format && !(p->r->initrd_format = strdup(k->initrd_format)))
		p->err = -ENOMEM;
	if (!p->r->kernel_version || !p->r->kernel)
		p->err = -ENOMEM;
	if (k->eio_path)
		add(p, "fs-unreadable", GUEST_SEV_ERROR, k->eio_path, 0, "check the file system with e2fsck -fn",
		    "cannot read %s: the file system is damaged there", k->eio_path);
	if (ks.not_default)
		add(p, "grub-default-no-driver", GUEST_SEV_WARNING, "/boot", 0,
		    "make the kernel that has the drivers grub's default before stage 2 (or add the drivers to the "
		    "default's initramfs)",
		    "grub's default kernel %s lacks drivers for the %s disk bus or the %s NIC: stage 1 boots %s, "
		    "which has them, but stage 2 (grub) would boot %s", ks.grub_version, guest_bus_names[p->in->bus],
		    guest_nic_names[p->in->nic], ver, ks.grub_version);
	if (k->initrd_unreadable)
		add(p, "initramfs-unreadable", GUEST_SEV_WARNING, k->initrd, 0,
		    "check its drivers in the guest: lsinitramfs IMAGE | grep -e virtio -e ahci -e e1000",
		    "cannot read the initramfs of %s: %s; only modules.dep is checked", ver, k->initrd_error);
	for (size_t i = 0; i < k->n_disk; i++) {
		const char *m = k->disk[i].module;
		char hint[256];

		snprintf(hint, sizeof(hint), "in the guest: echo %s >> /etc/initramfs-tools/modules && "
			 "update-initramfs -u -k %s (dracut: --add-drivers %s)", m, ver, m);
		if (k->have_initrd)
			add(p, "initramfs-no-disk-driver", GUEST_SEV_ERROR, k->initrd, 0, hint,
			    "the initramfs of %s lacks %s (%s disk bus) and the kernel does not build it in: "
			    "the root file system will not be found", ver, m, guest_bus_names[p->in->bus]);
		else if (!k->initrd_unreadable)
			add(p, "initramfs-no-disk-driver", GUEST_SEV_ERROR, "/boot", 0, hint,
			    "no initramfs for %s and %s (%s disk bus) is not built in%s", ver, m,
			    guest_bus_names[p->in->bus], k->have_dep && k->disk[i].in_dep ? "" : " (nor a module of it)");
		else
			add(p, "initramfs-no-disk-driver", GUEST_SEV_ERROR, "/lib/modules", 0, hint,
			    "kernel %s has no %s (%s disk bus): not built in, not a module", ver, m,
			    guest_bus_names[p->in->bus]);
	}
	for (size_t i = 0; i < k->n_nic; i++)
		add(p, "initramfs-no-nic-driver", GUEST_SEV_ERROR, k->have_dep ? "/lib/modules" : "/boot", 0,
		    "install a kernel that has it (Debian's linux-image-amd64 does), or choose another --nic-model",
		    "kernel %s has no %s (%s NIC): not built in, not in the initramfs, not a module%s", ver,
		    k->nic[i].module, guest_nic_names[p->in->nic], k->have_dep ? "" : " (no modules.dep)");
out:
	guest_kernels_clear(&ks);
}

static void check_getty(struct pf *p)
{
	static const char *const wants[] = {
		"/etc/systemd/system/getty.target.wants", "/etc/systemd/system/multi-user.target.wants",
	};
	bool serial = false;
	int hvc_line = 0;
	const char *hvc_file = NULL;
	struct guest_inittab t;
	char *buf, v[64];
	size_t len;

	buf = read_file(p, "/etc/inittab", &len);
	if (buf) {
		if (guest_inittab_parse(buf, len, &t) < 0) {
			p->err = -ENOMEM;
			free(buf);
			return;
		}
		free(buf);
		for (size_t i = 0; i < t.n; i++) {
			const struct guest_inittab_entry *e = &t.entries[i];

			if (!e->tty || (strcmp(e->action, "respawn") && strcmp(e->action, "askfirst") &&
					strcmp(e->action, "once")))
				continue;
			if (!strcmp(e->tty, "ttyS0"))
				serial = true;
			else if ((!strncmp(e->tty, "hvc", 3) || !strncmp(e->tty, "xvc", 3)) && !hvc_file) {
				hvc_file = "/etc/inittab";
				hvc_line = e->line;
			}
		}
		guest_inittab_clear(&t);
	}
	for (size_t w = 0; w < 2; w++) {
		char **names = NULL;
		size_t n = 0;

		if (guest_tree_list(p->tree, wants[w], DIR_MAX, &names, &n) < 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			char tty[64];

			if (!guest_getty_unit_tty(names[i], tty, sizeof(tty)))
				continue;
			if (!strcmp(tty, "ttyS0"))
				serial = true;
			else if ((!strncmp(tty, "hvc", 3) || !strncmp(tty, "xvc", 3)) && !hvc_file)
				hvc_file = wants[w];
		}
		guest_tree_names_free(names, n);
	}
	/* systemd starts a getty on the kernel's console= itself (systemd-getty-generator) */
	if (p->systemd && p->boot_cmdline && guest_cmdline_get(p->boot_cmdline, "console", v, sizeof(v))) {
		if (!strncmp(v, "ttyS0", 5) && (!v[5] || v[5] == ','))
			serial = true;
		else if ((!strncmp(v, "hvc", 3) || !strncmp(v, "xvc", 3)) && !hvc_file)
			hvc_file = "/boot/grub/grub.cfg";
	}
	if (serial)
		return;
	if (hvc_file)
		add(p, "hvc-getty-only", GUEST_SEV_WARNING, hvc_file, hvc_line,
		    p->systemd ? "systemctl enable serial-getty@ttyS0.service, and console=ttyS0,115200 on the kernel command line" :
				 "add to /etc/inittab: T0:2345:respawn:/sbin/getty -L ttyS0 115200 vt100",
		    "the only serial console getty is on the Xen console (hvc0/xvc0), which KVM does not have: "
		    "no login on the serial console");
	else
		add(p, "no-serial-getty", GUEST_SEV_WARNING, p->systemd ? "/etc/systemd/system" : "/etc/inittab", 0,
		    p->systemd ? "systemctl enable serial-getty@ttyS0.service" :
				 "add to /etc/inittab: T0:2345:respawn:/sbin/getty -L ttyS0 115200 vt100",
		    "no getty on ttyS0: no login on the serial console (virsh console)");
}

static void check_securetty(struct pf *p)
{
	struct guest_names n;
	size_t len;
	char *buf = read_file(p, "/etc/securetty", &len);

	if (!buf)
		return;	/* no file: root may log in anywhere */
	if (guest_securetty_parse(buf, len, &n) < 0) {
		p->err = -ENOMEM;
		free(buf);
		return;
	}
	free(buf);
	if (!guest_names_has(&n, "ttyS0"))
		add(p, "securetty-no-ttys0", GUEST_SEV_WARNING, "/etc/securetty", 0,
		    "add a line 'ttyS0' to /etc/securetty",
		    "ttyS0 is not in /etc/securetty: root cannot log in on the serial console");
	guest_names_clear(&n);
}

static void check_persistent_net(struct pf *p)
{
	static const char *const drivers[GUEST_NIC_MAX] = {
		[GUEST_NIC_VIRTIO] = "virtio_net", [GUEST_NIC_E1000] = "e1000",
	};
	static const char path[] = "/etc/udev/rules.d/70-persistent-net.rules";
	struct guest_udev_rules rr;
	size_t len;
	char *buf = read_file(p, path, &len);

	if (!buf)
		return;
	if (guest_udev_parse(buf, len, &rr) < 0) {
		p->err = -ENOMEM;
		free(buf);
		return;
	}
	free(buf);
	for (size_t i = 0; i < rr.n; i++) {
		const struct guest_udev_rule *rule = &rr.rules[i];
		const char *name = guest_udev_get(rule, "NAME", NULL, GUEST_UDEV_ASSIGN);
		const char *mac = guest_udev_get(rule, "ATTR", "address", GUEST_UDEV_MATCH);
		const char *drv = guest_udev_get(rule, "DRIVERS", NULL, GUEST_UDEV_MATCH);
		bool known = false;

		if (!name)
			continue;
		if (!drv)
			drv = guest_udev_get(rule, "DRIVER", NULL, GUEST_UDEV_MATCH);
		if (mac && p->in->n_macs) {
			for (size_t j = 0; j < p->in->n_macs; j++)
				if (!strcasecmp(mac, p->in->macs[j]))
					known = true;
			if (!known)
				add(p, "persistent-net-mac", GUEST_SEV_ERROR, path, rule->line,
				    "delete the rule (or the file) in the guest: udev writes it anew on the first boot",
				    "%s is bound to MAC %s, which is none of the VM's: the new NIC gets another name",
				    name, mac);
		}
		if (drv && strcmp(drv, "?*") && strcmp(drv, "*") && strcmp(drv, drivers[p->in->nic]))
			add(p, "persistent-net-mac", GUEST_SEV_ERROR, path, rule->line,
			    "delete the rule (or the file) in the guest: udev writes it anew on the first boot",
			    "%s is bound to driver %s, but the new NIC is driven by %s: it gets another name", name,
			    drv, drivers[p->in->nic]);
	}
	guest_udev_clear(&rr);
}

static void check_acpid(struct pf *p)
{
	static const char *const paths[] = { "/usr/sbin/acpid", "/sbin/acpid", "/etc/init.d/acpid" };
	static const char *const logind[] = { "/lib/systemd/systemd-logind", "/usr/lib/systemd/systemd-logind" };

	for (size_t i = 0; i < 3; i++)
		if (guest_tree_exists(p->tree, paths[i]))
			return;
	/* systemd-logind powers off on the power button by itself */
	for (size_t i = 0; p->systemd && i < 2; i++)
		if (guest_tree_exists(p->tree, logind[i]))
			return;
	add(p, "no-acpid", GUEST_SEV_WARNING, "/usr/sbin/acpid", 0, "install acpid in the guest (apt-get install acpid)",
	    "no acpid%s: the guest ignores the ACPI power button, so a shutdown from the host (virsh shutdown) "
	    "does nothing", p->systemd ? " and no systemd-logind" : "");
}

static void check_bootloader(struct pf *p, bool menu_lst, bool grub_cfg)
{
	static const char *const grub_pc[] = {
		"/usr/lib/grub/i386-pc", "/lib/grub/i386-pc", "/usr/lib/grub/x86_64-pc", "/boot/grub/i386-pc",
		"/boot/grub/stage1", "/usr/share/grub/i386-pc",
	};

	if (!p->boot_ok)
		return;
	for (size_t i = 0; i < sizeof(grub_pc) / sizeof(grub_pc[0]); i++)
		if (guest_tree_exists(p->tree, grub_pc[i]))
			return;
	if (menu_lst || grub_cfg)
		add(p, "pygrub-only", GUEST_SEV_WARNING, menu_lst ? "/boot/grub/menu.lst" : "/boot/grub/grub.cfg", 0,
		    "install grub in the guest (apt-get install grub-pc) and run grub-install on the new disk "
		    "after the copy, or keep booting the kernel directly",
		    "%s is only read by pygrub on the Xen host: no grub for the boot sector is installed",
		    menu_lst ? "/boot/grub/menu.lst" : "/boot/grub/grub.cfg");
	else
		add(p, "no-bootloader", GUEST_SEV_WARNING, "/boot", 0,
		    "install grub in the guest (apt-get install grub-pc), or keep booting the kernel directly",
		    "no boot loader configuration: the guest booted a kernel given by the Xen host");
}

/* Whether the guest's init is systemd: /sbin/init resolves to a path holding "systemd". */
static bool init_is_systemd(struct pf *p)
{
	char c[GUEST_PATH_MAX];

	if (guest_tree_resolve(p->tree, "/sbin/init", true, c, sizeof(c)) == 0)
		return strstr(c, "systemd") != NULL;
	return guest_tree_exists(p->tree, "/lib/systemd/systemd") && !guest_tree_exists(p->tree, "/etc/inittab");
}

/* ---- the run ---------------------------------------------------------------- */

/* The root's tree: "/" and a separate /boot and /usr mounted; p->tree NULL on -ENOMEM. */
static void mount_root(struct pf *p, struct vol *root)
{
	char uuid[37], label[17];
	bool recovery;

	guest_fs_info(root->fs, uuid, label, &recovery);
	if (recovery)
		add(p, "fs-needs-recovery", GUEST_SEV_WARNING, root->v->path, 0,
		    "shut the guest down cleanly (or run e2fsck on an unused volume) and run preflight again",
		    "the root file system's journal holds unwritten changes (it is mounted, or was not cleanly "
		    "unmounted): what is read here may be stale");
	p->tree = guest_tree_new(&guest_fs_tree_ops);
	if (!p->tree || guest_tree_mount(p->tree, "/", root->fs) < 0) {
		p->err = -ENOMEM;
		guest_tree_free(p->tree);
		p->tree = NULL;
		return;
	}
	mount_separate(p);
}

static void inspect(struct pf *p)
{
	struct guest_grub legacy, grub2, defaults;

	p->systemd = init_is_systemd(p);
	check_fstab(p);
	check_xen_cmdline(p);
	check_grub_file(p, "/boot/grub/menu.lst", GUEST_GRUB_LEGACY, &legacy);
	check_grub_file(p, "/boot/grub/grub.cfg", GUEST_GRUB2, &grub2);
	if (!grub2.n)
		check_grub_file(p, "/boot/grub2/grub.cfg", GUEST_GRUB2, &grub2);
	check_grub_file(p, "/etc/default/grub", GUEST_GRUB_DEFAULT, &defaults);
	p->boot_entry = guest_grub_default(&grub2);
	if (!p->boot_entry)
		p->boot_entry = guest_grub_default(&legacy);
	p->boot_cmdline = p->boot_entry ? p->boot_entry->args : (char *)p->in->xen_cmdline;
	check_kernels(p);
	check_getty(p);
	check_securetty(p);
	check_persistent_net(p);
	check_acpid(p);
	check_bootloader(p, legacy.n > 0 || guest_tree_exists(p->tree, "/boot/grub/menu.lst"),
			 grub2.n > 0 || guest_tree_exists(p->tree, "/boot/grub/grub.cfg"));
	p->boot_entry = NULL;
	p->boot_cmdline = NULL;
	guest_grub_clear(&legacy);
	guest_grub_clear(&grub2);
	guest_grub_clear(&defaults);
}

/*
 * Preflight's resolution of the guest's file systems: probes the volumes,
 * picks the root (the one marked, else the first ext file system with an
 * /etc/fstab), opens it and mounts it with a separate /boot and /usr into
 * p->tree. What is wrong is a finding; p->tree stays NULL when the root
 * cannot be read. -EINVAL (err set) or -ENOMEM; pf_close() after.
 */
static int pf_open(struct pf *p, const struct guest_input *in, char *err, size_t errlen)
{
	struct vol *root = NULL;

	memset(p, 0, sizeof(*p));
	p->in = in;
	if (!in->n_vols || in->bus >= GUEST_BUS_MAX || in->nic >= GUEST_NIC_MAX) {
		snprintf(err, errlen, "no volume to inspect");
		return -EINVAL;
	}
	p->r = calloc(1, sizeof(*p->r));
	p->vols = calloc(in->n_vols, sizeof(*p->vols));
	if (!p->r || !p->vols)
		return -ENOMEM;
	p->r->bus = in->bus;
	p->r->nic = in->nic;
	p->n_vols = in->n_vols;
	for (size_t i = 0; i < in->n_vols; i++) {
		p->vols[i].v = &in->vols[i];
		vol_probe(&p->vols[i]);
		if (in->vols[i].root && !root)
			root = &p->vols[i];
	}
	/* no root named (pygrub, root=UUID=...): the first ext file system with an /etc/fstab */
	for (size_t i = 0; !root && i < p->n_vols; i++) {
		enum guest_ftype t;

		if (vol_open(&p->vols[i]) && guest_fs_lstat(p->vols[i].fs, "/etc/fstab", &t, NULL) == 0)
			root = &p->vols[i];
	}
	if (!root)
		root = &p->vols[0];
	p->root = root;
	if (!vol_open(root)) {
		bool other = (root->probed && root->pi.type[0] && !is_ext(root->pi.type)) ||
			     strstr(root->error, "no ext2/3/4 superblock") || strstr(root->error, "no file system");

		if (mount_add(p, "/", root) < 0)
			p->err = -ENOMEM;
		if (other)
			add(p, "fs-not-inspected", GUEST_SEV_ERROR, root->v->path, 0,
			    "check the guest by hand (fstab, grub, initramfs drivers, console), then waive this",
			    "root file system at offset %llu: %s", (unsigned long long)root->v->offset, root->error);
		else
			add(p, "fs-unreadable", GUEST_SEV_ERROR, root->v->path, 0,
			    "check the volume (e2fsck -fn); is it the right volume and offset?",
			    "root file system at offset %llu: %s", (unsigned long long)root->v->offset, root->error);
	} else {
		char **names = NULL;
		size_t n = 0;
		int lr;

		/* a root directory that cannot be listed: nothing below it can be trusted */
		lr = guest_fs_list(root->fs, "/", DIR_MAX, &names, &n);
		guest_tree_names_free(names, n);
		if (mount_add(p, "/", root) < 0)
			p->err = -ENOMEM;
		else if (root->size && guest_fs_bytes(root->fs) > root->size)
			add(p, "fs-unreadable", GUEST_SEV_ERROR, root->v->path, 0,
			    "copy the whole volume (or give its full size); is it the right volume and offset?",
			    "root file system at offset %llu: it is %llu bytes, but the volume holds only %llu: truncated",
			    (unsigned long long)root->v->offset, (unsigned long long)guest_fs_bytes(root->fs),
			    (unsigned long long)root->size);
		else if (lr == -ENOMEM)
			p->err = lr;
		else if (lr < 0)
			add(p, "fs-unreadable", GUEST_SEV_ERROR, root->v->path, 0,
			    "check the volume (e2fsck -fn); is it the right volume and offset?",
			    "root file system at offset %llu: cannot read its root directory: %s",
			    (unsigned long long)root->v->offset, guest_fs_error(root->fs));
		else
			mount_root(p, root);
	}
	return p->err;
}

/* Frees what pf_open() made but the report. */
static void pf_close(struct pf *p)
{
	guest_tree_free(p->tree);
	p->tree = NULL;
	for (size_t i = 0; i < p->n_vols; i++)
		guest_fs_close(p->vols[i].fs);
	free(p->vols);
	p->vols = NULL;
	p->n_vols = 0;
}

int guest_preflight(const struct guest_input *in, struct guest_report **ret, char *err, size_t errlen)
{
	struct pf p;
	int r = pf_open(&p, in, err, errlen);

	if (r == 0 && p.tree)
		inspect(&p);
	if (r == 0)
		r = p.err;
	pf_close(&p);
	if (r < 0) {
		guest_report_free(p.r);
		return r;
	}
	*ret = p.r;
	return 0;
}

/* ---- the guest's own kernel for stage 1 (boot.h) ------------------------------ */

struct guest_mounted {
	struct pf p;
	struct guest_input in;		/* a copy: the volumes and their names owned here */
	struct guest_volume *vols;
};

static char *dup_or_null(const char *s, bool *fail)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*fail = true;
	return d;
}

int guest_mounted_open(const struct guest_input *in, struct guest_mounted **ret, char *err, size_t errlen)
{
	struct guest_mounted *m = calloc(1, sizeof(*m));
	bool fail = false;
	int r;

	if (!m)
		return -ENOMEM;
	/* the resolution reads the volumes and their names only; what it keeps is copied */
	m->in = (struct guest_input){ .bus = in->bus, .nic = in->nic, .n_vols = in->n_vols,
				      .vols_complete = in->vols_complete };
	m->vols = calloc(in->n_vols ? in->n_vols : 1, sizeof(*m->vols));
	if (!m->vols) {
		free(m);
		return -ENOMEM;
	}
	m->in.vols = m->vols;
	for (size_t i = 0; i < in->n_vols; i++) {
		m->vols[i] = in->vols[i];
		m->vols[i].path = dup_or_null(in->vols[i].path, &fail);
		m->vols[i].old_dev = dup_or_null(in->vols[i].old_dev, &fail);
		m->vols[i].new_dev = dup_or_null(in->vols[i].new_dev, &fail);
	}
	r = fail ? -ENOMEM : pf_open(&m->p, &m->in, err, errlen);
	if (r == 0 && !m->p.tree) {
		/* the finding that says why */
		const struct guest_finding *f = NULL;

		for (size_t i = 0; i < m->p.r->n && !f; i++)
			if (m->p.r->findings[i].severity == GUEST_SEV_ERROR)
				f = &m->p.r->findings[i];
		if (f)
			snprintf(err, errlen, "%s: %s [%s]", f->file, f->message, f->id);
		else
			snprintf(err, errlen, "the root file system cannot be read");
		r = -EIO;
	}
	if (r < 0) {
		guest_mounted_close(m);
		return r;
	}
	*ret = m;
	return 0;
}

void guest_mounted_close(struct guest_mounted *m)
{
	if (!m)
		return;
	pf_close(&m->p);
	guest_report_free(m->p.r);
	for (size_t i = 0; i < m->in.n_vols; i++) {
		free((char *)m->vols[i].path);
		free((char *)m->vols[i].old_dev);
		free((char *)m->vols[i].new_dev);
	}
	free(m->vols);
	free(m);
}

struct guest_tree *guest_mounted_tree(struct guest_mounted *m)
{
	return m->p.tree;
}

bool guest_mounted_readable(const struct guest_mounted *m, const char *dir)
{
	return !strcmp(dir, "/boot") ? m->p.boot_ok : !strcmp(dir, "/usr") ? m->p.usr_ok : true;
}

int guest_mounted_grub_default(struct guest_mounted *m, char **ret_kernel, char **ret_initrd)
{
	static const struct {
		const char *path;
		enum guest_grub_flavour fl;
	} files[] = {
		{ "/boot/grub/grub.cfg", GUEST_GRUB2 },
		{ "/boot/grub2/grub.cfg", GUEST_GRUB2 },
		{ "/boot/grub/menu.lst", GUEST_GRUB_LEGACY },
	};
	struct pf *p = &m->p;

	*ret_kernel = *ret_initrd = NULL;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct guest_boot_entry *e;
		struct guest_grub g;
		size_t len;
		char *buf = read_file(p, files[i].path, &len);
		int r;

		if (!buf)
			continue;
		r = guest_grub_parse(files[i].fl, buf, len, &g);
		free(buf);
		if (r < 0)
			return -ENOMEM;
		e = guest_grub_default(&g);
		if (e && e->kernel) {
			bool ok;

			*ret_kernel = strdup(e->kernel);
			*ret_initrd = e->initrd ? strdup(e->initrd) : NULL;
			ok = *ret_kernel && (!e->initrd || *ret_initrd);
			guest_grub_clear(&g);
			if (!ok)
				goto nomem;
			return 0;
		}
		guest_grub_clear(&g);
	}
	return 0;
nomem:
	free(*ret_kernel);
	free(*ret_initrd);
	*ret_kernel = *ret_initrd = NULL;
	return -ENOMEM;
}

void guest_report_free(struct guest_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->findings[i].file);
		free(r->findings[i].message);
		free(r->findings[i].hint);
	}
	free(r->findings);
	for (size_t i = 0; i < r->n_mounts; i++) {
		free(r->mounts[i].dir);
		free(r->mounts[i].path);
	}
	free(r->mounts);
	free(r->kernel);
	free(r->kernel_version);
	free(r->initrd);
	free(r->initrd_format);
	free(r);
}

size_t guest_report_waive(struct guest_report *r, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->findings[i].id, id)) {
			r->findings[i].waived = true;
			n++;
		}
	return n;
}

size_t guest_report_count(const struct guest_report *r, enum guest_severity sev, bool waived_too)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->findings[i].severity == sev && (waived_too || !r->findings[i].waived))
			n++;
	return n;
}

/* ---- output ------------------------------------------------------------------- */

#define ESC_MAX 2048

void guest_report_print(FILE *f, const struct guest_report *r)
{
	char a[ESC_MAX], b[ESC_MAX], c[ESC_MAX];

	for (size_t i = 0; i < r->n_mounts; i++) {
		const struct guest_mount *m = &r->mounts[i];

		fprintf(f, "%-6s %s at offset %llu: %s%s%s\n", m->dir, str_escape(m->path, SIZE_MAX, a, sizeof(a)),
			(unsigned long long)m->offset, m->type[0] ? m->type : "unknown type",
			m->uuid[0] ? ", UUID " : "", m->uuid);
	}
	if (r->kernel)
		fprintf(f, "kernel %s%s%s%s%s\n", str_escape(r->kernel, SIZE_MAX, a, sizeof(a)),
			r->initrd ? ", initramfs " : "", r->initrd ? str_escape(r->initrd, SIZE_MAX, b, sizeof(b)) : "",
			r->initrd_format ? " " : "", r->initrd_format ? r->initrd_format : "");
	fprintf(f, "bus %s, nic %s\n", guest_bus_names[r->bus], guest_nic_names[r->nic]);
	for (int sev = 0; sev < GUEST_SEV_MAX; sev++)
		for (size_t i = 0; i < r->n; i++) {
			const struct guest_finding *x = &r->findings[i];

			if ((int)x->severity != sev)
				continue;
			str_escape(x->file, SIZE_MAX, a, sizeof(a));
			if (x->line)
				fprintf(f, "%s: %s:%d: %s [%s]%s\n", guest_severity_names[sev], a, x->line,
					str_escape(x->message, SIZE_MAX, b, sizeof(b)), x->id,
					x->waived ? " (waived)" : "");
			else
				fprintf(f, "%s: %s: %s [%s]%s\n", guest_severity_names[sev], a,
					str_escape(x->message, SIZE_MAX, b, sizeof(b)), x->id,
					x->waived ? " (waived)" : "");
			if (x->hint[0])
				fprintf(f, "  fix: %s\n", str_escape(x->hint, SIZE_MAX, c, sizeof(c)));
		}
	fprintf(f, "%zu error(s) (%zu waived), %zu warning(s), %zu info\n", guest_report_count(r, GUEST_SEV_ERROR, true),
		guest_report_count(r, GUEST_SEV_ERROR, true) - guest_report_count(r, GUEST_SEV_ERROR, false),
		guest_report_count(r, GUEST_SEV_WARNING, true), guest_report_count(r, GUEST_SEV_INFO, true));
}

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *guest_report_to_json(const struct guest_report *r)
{
	struct json_object *o = json_object_new_object(), *fa = json_object_new_array();
	struct json_object *ma = json_object_new_array();

	for (size_t i = 0; i < r->n_mounts; i++) {
		const struct guest_mount *m = &r->mounts[i];
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "dir", json_object_new_string(m->dir));
		json_object_object_add(j, "path", json_object_new_string(m->path));
		json_object_object_add(j, "offset", json_object_new_int64((int64_t)m->offset));
		json_object_object_add(j, "type", m->type[0] ? json_object_new_string(m->type) : NULL);
		json_object_object_add(j, "uuid", m->uuid[0] ? json_object_new_string(m->uuid) : NULL);
		json_object_object_add(j, "inspected", json_object_new_boolean(m->inspected));
		json_object_array_add(ma, j);
	}
	/* errors first, as in the text */
	for (int sev = 0; sev < GUEST_SEV_MAX; sev++)
		for (size_t i = 0; i < r->n; i++) {
			const struct guest_finding *x = &r->findings[i];
			struct json_object *j;

			if ((int)x->severity != sev)
				continue;
			j = json_object_new_object();
			json_object_object_add(j, "id", json_object_new_string(x->id));
			json_object_object_add(j, "severity", json_object_new_string(guest_severity_names[sev]));
			json_object_object_add(j, "file", json_object_new_string(x->file));
			json_object_object_add(j, "line", x->line ? json_object_new_int(x->line) : NULL);
			json_object_object_add(j, "message", json_object_new_string(x->message));
			json_object_object_add(j, "hint", json_object_new_string(x->hint));
			json_object_object_add(j, "waived", json_object_new_boolean(x->waived));
			json_object_array_add(fa, j);
		}
	json_object_object_add(o, "bus", json_object_new_string(guest_bus_names[r->bus]));
	json_object_object_add(o, "nic", json_object_new_string(guest_nic_names[r->nic]));
	json_object_object_add(o, "file_systems", ma);
	json_object_object_add(o, "kernel", str_or_null(r->kernel));
	json_object_object_add(o, "kernel_version", str_or_null(r->kernel_version));
	json_object_object_add(o, "initramfs", str_or_null(r->initrd));
	json_object_object_add(o, "initramfs_format", str_or_null(r->initrd_format));
	json_object_object_add(o, "findings", fa);
	json_object_object_add(o, "errors", json_object_new_int((int)guest_report_count(r, GUEST_SEV_ERROR, false)));
	json_object_object_add(o, "waived_errors",
			       json_object_new_int((int)(guest_report_count(r, GUEST_SEV_ERROR, true) -
							 guest_report_count(r, GUEST_SEV_ERROR, false))));
	json_object_object_add(o, "warnings", json_object_new_int((int)guest_report_count(r, GUEST_SEV_WARNING, true)));
	return o;
}
