/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain XML of a spec, written with libxml2's xmlTextWriter: every
 * name, path and command line goes through the writer, which escapes it.
 * What XML 1.0 cannot carry at all (control characters, invalid UTF-8) is
 * refused here with the field's name rather than written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>

#include "migrate/virt/domain.h"

const char *const domain_bus_names[DOMAIN_BUS_MAX] = {
	[DOMAIN_BUS_SCSI] = "scsi",
	[DOMAIN_BUS_VIRTIO] = "virtio",
	[DOMAIN_BUS_SATA] = "sata",
	[DOMAIN_BUS_IDE] = "ide",
};

int domain_bus_from_name(const char *s)
{
	for (int i = 0; i < DOMAIN_BUS_MAX; i++)
		if (s && !strcmp(s, domain_bus_names[i]))
			return i;
	return -EINVAL;
}

void domain_spec_free(struct domain_spec *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->uuid);
	free(s->type);
	free(s->arch);
	free(s->machine);
	for (size_t i = 0; i < s->n_disks; i++) {
		free(s->disks[i].path);
		free(s->disks[i].volume);
	}
	free(s->disks);
	for (size_t i = 0; i < s->n_nics; i++) {
		free(s->nics[i].bridge);
		free(s->nics[i].model);
		free(s->nics[i].xen_bridge);
	}
	free(s->nics);
	free(s->kernel);
	free(s->initrd);
	free(s->cmdline);
	free(s->on_poweroff);
	free(s->on_reboot);
	free(s->on_crash);
	free(s->console_log);
	for (size_t i = 0; i < s->n_warnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	free(s);
}

int domain_spec_warn(struct domain_spec *s, const char *fmt, ...)
{
	char *w, **n;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&w, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	n = realloc(s->warnings, (s->n_warnings + 1) * sizeof(*n));
	if (!n) {
		free(w);
		return -ENOMEM;
	}
	s->warnings = n;
	n[s->n_warnings++] = w;
	return 0;
}

/* A writer and the first failure; every call is a no-op after one. */
struct xw {
	xmlTextWriterPtr w;
	int rc;
};

static void el_start(struct xw *x, const char *name)
{
	if (x->rc >= 0 && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->rc = -ENOMEM;
}

static void el_end(struct xw *x)
{
	if (x->rc >= 0 && xmlTextWriterEndElement(x->w) < 0)
		x->rc = -ENOMEM;
}

static void attr(struct xw *x, const char *name, const char *value)
{
	if (x->rc >= 0 && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
		x->rc = -ENOMEM;
}

static void text_el(struct xw *x, const char *name, const char *text)
{
	if (x->rc >= 0 && xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text) < 0)
		x->rc = -ENOMEM;
}

/* <name attr="value"/> */
static void empty_el(struct xw *x, const char *name, const char *a, const char *v)
{
	el_start(x, name);
	if (a)
		attr(x, a, v);
	el_end(x);
}

/* s is something XML 1.0 can carry: valid UTF-8, no control character. */
static bool carriable(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return false;
	return xmlCheckUTF8((const unsigned char *)s) != 0;
}

static int check_str(const char *what, const char *s, bool required, char *err, size_t errlen)
{
	if (!s || !*s) {
		if (!required)
			return 0;
		snprintf(err, errlen, "%s is missing", what);
		return -EINVAL;
	}
	if (!carriable(s)) {
		snprintf(err, errlen, "%s holds a control character or invalid UTF-8: XML cannot carry it", what);
		return -EINVAL;
	}
	return 0;
}

static int check_spec(const struct domain_spec *s, char *err, size_t errlen)
{
	char what[64];
	int r;

	if ((r = check_str("the domain name", s->name, true, err, errlen)) < 0 ||
	    (r = check_str("the uuid", s->uuid, false, err, errlen)) < 0 ||
	    (r = check_str("the domain type", s->type, true, err, errlen)) < 0 ||
	    (r = check_str("the architecture", s->arch, true, err, errlen)) < 0 ||
	    (r = check_str("the machine type", s->machine, true, err, errlen)) < 0 ||
	    (r = check_str("the kernel", s->kernel, false, err, errlen)) < 0 ||
	    (r = check_str("the initrd", s->initrd, false, err, errlen)) < 0 ||
	    (r = check_str("the kernel command line", s->cmdline, false, err, errlen)) < 0 ||
	    (r = check_str("on_poweroff", s->on_poweroff, false, err, errlen)) < 0 ||
	    (r = check_str("on_reboot", s->on_reboot, false, err, errlen)) < 0 ||
	    (r = check_str("on_crash", s->on_crash, false, err, errlen)) < 0 ||
	    (r = check_str("the console log", s->console_log, false, err, errlen)) < 0)
		return r;
	if (s->memory_kib == 0 || s->current_kib == 0 || s->current_kib > s->memory_kib) {
		snprintf(err, errlen, "memory %llu KiB at boot, %llu KiB at most: not a valid setting",
			 s->current_kib, s->memory_kib);
		return -EINVAL;
	}
	if (s->vcpus == 0 || s->current_vcpus == 0 || s->current_vcpus > s->vcpus) {
		snprintf(err, errlen, "%u vcpus at boot, %u at most: not a valid setting", s->current_vcpus, s->vcpus);
		return -EINVAL;
	}
	if ((s->initrd || s->cmdline) && !s->kernel) {
		snprintf(err, errlen, "an initrd or a kernel command line needs a kernel");
		return -EINVAL;
	}
	for (size_t i = 0; i < s->n_disks; i++) {
		const struct domain_disk *d = &s->disks[i];

		snprintf(what, sizeof(what), "the path of disk %s", d->dev);
		if (!d->dev[0] || (unsigned)d->bus >= DOMAIN_BUS_MAX) {
			snprintf(err, errlen, "disk %zu has no target or bus", i);
			return -EINVAL;
		}
		if ((r = check_str(what, d->path, !d->cdrom, err, errlen)) < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->disks[j].dev, d->dev)) {
				snprintf(err, errlen, "two disks are %s", d->dev);
				return -EINVAL;
			}
	}
	for (size_t i = 0; i < s->n_nics; i++) {
		snprintf(what, sizeof(what), "the bridge of NIC %zu", i);
		if ((r = check_str(what, s->nics[i].bridge, true, err, errlen)) < 0)
			return r;
		snprintf(what, sizeof(what), "the model of NIC %zu", i);
		if ((r = check_str(what, s->nics[i].model, true, err, errlen)) < 0)
			return r;
		snprintf(what, sizeof(what), "the MAC of NIC %zu", i);
		if ((r = check_str(what, s->nics[i].mac, true, err, errlen)) < 0)
			return r;
	}
	return 0;
}

static void write_disk(struct xw *x, const struct domain_disk *d)
{
	el_start(x, "disk");
	attr(x, "type", d->block ? "block" : "file");
	attr(x, "device", d->cdrom ? "cdrom" : "disk");
	el_start(x, "driver");
	attr(x, "name", "qemu");
	attr(x, "type", "raw");
	if (d->block && !d->cdrom) {
		/* An LV: the guest has its own page cache; the host's would only double it. */
		attr(x, "cache", "none");
		attr(x, "io", "native");
	}
	el_end(x);
	if (d->path)
		empty_el(x, "source", d->block ? "dev" : "file", d->path);
	el_start(x, "target");
	attr(x, "dev", d->dev);
	attr(x, "bus", domain_bus_names[d->bus]);
	el_end(x);
	if (d->readonly || d->cdrom)
		empty_el(x, "readonly", NULL, NULL);
	el_end(x);
}

int domain_build_xml(const struct domain_spec *s, char **ret_xml, char *err, size_t errlen)
{
	bool scsi = false, sata = false;
	xmlBufferPtr buf;
	struct xw x = { 0 };
	char num[32];
	int r;

	r = check_spec(s, err, errlen);
	if (r < 0)
		return r;
	buf = xmlBufferCreate();
	if (!buf)
		return -ENOMEM;
	x.w = xmlNewTextWriterMemory(buf, 0);
	if (!x.w) {
		xmlBufferFree(buf);
		return -ENOMEM;
	}
	if (xmlTextWriterSetIndent(x.w, 1) < 0 || xmlTextWriterSetIndentString(x.w, BAD_CAST "  ") < 0)
		x.rc = -ENOMEM;

	el_start(&x, "domain");
	attr(&x, "type", s->type);
	text_el(&x, "name", s->name);
	if (s->uuid)
		text_el(&x, "uuid", s->uuid);
	snprintf(num, sizeof(num), "%llu", s->memory_kib);
	el_start(&x, "memory");
	attr(&x, "unit", "KiB");
	if (x.rc >= 0 && xmlTextWriterWriteString(x.w, BAD_CAST num) < 0)
		x.rc = -ENOMEM;
	el_end(&x);
	snprintf(num, sizeof(num), "%llu", s->current_kib);
	el_start(&x, "currentMemory");
	attr(&x, "unit", "KiB");
	if (x.rc >= 0 && xmlTextWriterWriteString(x.w, BAD_CAST num) < 0)
		x.rc = -ENOMEM;
	el_end(&x);
	el_start(&x, "vcpu");
	if (s->current_vcpus != s->vcpus) {
		snprintf(num, sizeof(num), "%u", s->current_vcpus);
		attr(&x, "current", num);
	}
	snprintf(num, sizeof(num), "%u", s->vcpus);
	if (x.rc >= 0 && xmlTextWriterWriteString(x.w, BAD_CAST num) < 0)
		x.rc = -ENOMEM;
	el_end(&x);

	el_start(&x, "os");
	el_start(&x, "type");
	attr(&x, "arch", s->arch);
	attr(&x, "machine", s->machine);
	if (x.rc >= 0 && xmlTextWriterWriteString(x.w, BAD_CAST "hvm") < 0)
		x.rc = -ENOMEM;
	el_end(&x);
	if (s->kernel) {
		text_el(&x, "kernel", s->kernel);
		if (s->initrd)
			text_el(&x, "initrd", s->initrd);
		if (s->cmdline)
			text_el(&x, "cmdline", s->cmdline);
	} else {
		empty_el(&x, "boot", "dev", "hd");
	}
	el_end(&x);

	el_start(&x, "features");
	empty_el(&x, "acpi", NULL, NULL);
	empty_el(&x, "apic", NULL, NULL);
	el_end(&x);
	empty_el(&x, "clock", "offset", "utc");
	if (s->on_poweroff)
		text_el(&x, "on_poweroff", s->on_poweroff);
	if (s->on_reboot)
		text_el(&x, "on_reboot", s->on_reboot);
	if (s->on_crash)
		text_el(&x, "on_crash", s->on_crash);

	el_start(&x, "devices");
	for (size_t i = 0; i < s->n_disks; i++) {
		scsi |= s->disks[i].bus == DOMAIN_BUS_SCSI;
		sata |= s->disks[i].bus == DOMAIN_BUS_SATA;
	}
	if (scsi) {
		/* Explicit: libvirt's implicit scsi controller is an LSI one on some versions. */
		el_start(&x, "controller");
		attr(&x, "type", "scsi");
		attr(&x, "index", "0");
		attr(&x, "model", "virtio-scsi");
		el_end(&x);
	}
	if (sata) {
		el_start(&x, "controller");
		attr(&x, "type", "sata");
		attr(&x, "index", "0");
		el_end(&x);
	}
	for (size_t i = 0; i < s->n_disks; i++)
		write_disk(&x, &s->disks[i]);
	for (size_t i = 0; i < s->n_nics; i++) {
		const struct domain_nic *n = &s->nics[i];

		el_start(&x, "interface");
		attr(&x, "type", "bridge");
		empty_el(&x, "mac", "address", n->mac);
		empty_el(&x, "source", "bridge", n->bridge);
		empty_el(&x, "model", "type", n->model);
		el_end(&x);
	}
	el_start(&x, "serial");
	attr(&x, "type", "pty");
	if (s->console_log) {
		el_start(&x, "log");
		attr(&x, "file", s->console_log);
		attr(&x, "append", "off");
		el_end(&x);
	}
	empty_el(&x, "target", "port", "0");
	el_end(&x);
	el_start(&x, "console");
	attr(&x, "type", "pty");
	el_start(&x, "target");
	attr(&x, "type", "serial");
	attr(&x, "port", "0");
	el_end(&x);
	el_end(&x);
	el_end(&x);	/* devices */
	el_end(&x);	/* domain */
	if (x.rc >= 0 && xmlTextWriterEndDocument(x.w) < 0)
		x.rc = -ENOMEM;
	xmlFreeTextWriter(x.w);
	if (x.rc < 0) {
		xmlBufferFree(buf);
		snprintf(err, errlen, "cannot write the domain XML");
		return x.rc;
	}
	*ret_xml = strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return *ret_xml ? 0 : -ENOMEM;
}
