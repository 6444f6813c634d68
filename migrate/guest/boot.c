/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stage 1's kernel and initrd out of the guest's own /boot; see boot.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/escape.h"
#include "migrate/guest/boot.h"
#include "migrate/guest/kernel.h"
#include "migrate/guest/mounted.h"

struct boot_file {
	struct guest_boot *b;
	const char *path;	/* in the guest */
	uint64_t cap;
	char what[GUEST_PATH_MAX + 16];
};

struct guest_boot {
	struct guest_mounted *m;
	struct guest_kernels ks;
	struct boot_file files[2];	/* kernel, initrd */
	char warning[1024];
};

static void lacks(char *buf, size_t len, const struct guest_kernel *k, enum guest_bus bus, enum guest_nic nic)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < k->n_disk && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s (%s disk bus) [initramfs-no-disk-driver]", o ? ", " : "",
				      k->disk[i].module, guest_bus_names[bus]);
	for (size_t i = 0; i < k->n_nic && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s (%s NIC) [initramfs-no-nic-driver]", o ? ", " : "",
				      k->nic[i].module, guest_nic_names[nic]);
}

int guest_boot_open(const struct guest_input *in, struct guest_boot **ret, char *err, size_t errlen)
{
	struct guest_boot *b = calloc(1, sizeof(*b));
	struct guest_kernel *k;
	char *gk = NULL, *gi = NULL;
	int r;

	if (!b)
		return -ENOMEM;
	r = guest_mounted_open(in, &b->m, err, errlen);
	if (r < 0)
		goto fail;
	if (!guest_mounted_readable(b->m, "/boot")) {
		snprintf(err, errlen, "the guest's /boot is a separate file system that cannot be read here "
			 "[fs-not-inspected]");
		r = -EIO;
		goto fail;
	}
	r = guest_mounted_grub_default(b->m, &gk, &gi);
	if (r < 0)
		goto fail;
	r = guest_kernels_choose(guest_mounted_tree(b->m), in->bus, in->nic, gk, gi,
				 guest_mounted_readable(b->m, "/usr"), &b->ks);
	free(gk);
	free(gi);
	if (r < 0)
		goto fail;
	if (b->ks.status == GUEST_KERNEL_NONE) {
		snprintf(err, errlen, "no kernel in the guest's /boot [no-kernel]");
		r = -ENOENT;
		goto fail;
	}
	if (b->ks.status == GUEST_KERNEL_XEN_ONLY) {
		char e[256];

		snprintf(err, errlen, "every kernel in the guest's /boot is Xen-flavoured (%s%s) [xen-kernel-only]",
			 str_escape(b->ks.first_xen, SIZE_MAX, e, sizeof(e)), b->ks.n_found > 1 ? ", ..." : "");
		r = -ENOENT;
		goto fail;
	}
	k = &b->ks.chosen;
	if (k->checked && !guest_kernel_drivers_ok(k)) {
		char l[768];

		lacks(l, sizeof(l), k, in->bus, in->nic);
		snprintf(b->warning, sizeof(b->warning), "no kernel in the guest's /boot has the drivers it needs: "
			 "%s lacks %s", k->version, l);
	}
	b->files[0] = (struct boot_file){ .b = b, .path = k->kernel, .cap = GUEST_KERNEL_CAP };
	b->files[1] = (struct boot_file){ .b = b, .path = k->initrd, .cap = GUEST_INITRD_CAP };
	for (int i = 0; i < 2; i++)
		if (b->files[i].path)
			snprintf(b->files[i].what, sizeof(b->files[i].what), "guest:%s", b->files[i].path);
	*ret = b;
	return 0;
fail:
	guest_boot_close(b);
	return r;
}

void guest_boot_close(struct guest_boot *b)
{
	if (!b)
		return;
	guest_kernels_clear(&b->ks);
	guest_mounted_close(b->m);
	free(b);
}

const char *guest_boot_version(const struct guest_boot *b)
{
	return b->ks.chosen.version;
}

const char *guest_boot_kernel(const struct guest_boot *b)
{
	return b->ks.chosen.kernel;
}

const char *guest_boot_initrd(const struct guest_boot *b)
{
	return b->ks.chosen.initrd;
}

const char *guest_boot_warning(const struct guest_boot *b)
{
	return b->warning;
}

struct sink_ctx {
	int fd;
	int err;	/* a write's errno */
};

static int to_fd(void *data, const void *buf, size_t n)
{
	struct sink_ctx *c = data;
	const char *p = buf;

	while (n) {
		ssize_t w = write(c->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			c->err = errno;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int guest_copy(const struct boot_source *src, int fd, char *err, size_t errlen)
{
	const struct boot_file *f = src->data;
	struct sink_ctx c = { .fd = fd };
	char e[GUEST_PATH_MAX];
	int r;

	r = guest_tree_stream(guest_mounted_tree(f->b->m), f->path, f->cap, to_fd, &c);
	if (r == 0)
		return 0;
	str_escape(f->path, SIZE_MAX, e, sizeof(e));
	if (c.err)
		snprintf(err, errlen, "writing a copy of the guest's %s: %s", e, strerror(c.err));
	else if (r == -EFBIG)
		snprintf(err, errlen, "the guest's %s is larger than %llu MiB", e, (unsigned long long)(f->cap >> 20));
	else
		snprintf(err, errlen, "the guest's %s: %s", e, strerror(-r));
	return r;
}

void guest_boot_source(const struct guest_boot *b, bool initrd, struct boot_source *ret)
{
	const struct boot_file *f = &b->files[initrd ? 1 : 0];

	ret->what = f->what;
	ret->copy = guest_copy;
	ret->data = f;
}
