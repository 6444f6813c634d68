/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Comparing domain definitions: the canonical form of a domain XML (what
 * domain_build_xml() sets and nothing libvirt adds by itself), stage 2
 * applied to an existing definition, and a line diff of two texts. libxml2
 * parses (no network, no entities) and writes; libvirt is not needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "migrate/virt/domain.h"

#define PARSE_FLAGS (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static bool is_el(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is_el(c, name))
			return c;
	return NULL;
}

/* An attribute's value (malloc'd by libxml2, xmlFree) or NULL. */
static char *prop(const xmlNode *n, const char *name)
{
	return n ? (char *)xmlGetProp(n, BAD_CAST name) : NULL;
}

/* The text of n with surrounding blanks cut (malloc'd), or NULL. */
static char *text(const xmlNode *n)
{
	char *t, *s, *e, *r;

	if (!n)
		return NULL;
	t = (char *)xmlNodeGetContent(n);
	if (!t)
		return NULL;
	for (s = t; *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'; s++)
		;
	for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'); e--)
		;
	r = strndup(s, (size_t)(e - s));
	xmlFree(t);
	return r;
}

struct xw {
	xmlTextWriterPtr w;
	int rc;
};

static void start(struct xw *x, const char *name)
{
	if (x->rc >= 0 && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->rc = -ENOMEM;
}

static void end(struct xw *x)
{
	if (x->rc >= 0 && xmlTextWriterEndElement(x->w) < 0)
		x->rc = -ENOMEM;
}

/* An attribute when value is set (a NULL value: left out). */
static void attr(struct xw *x, const char *name, const char *value)
{
	if (value && x->rc >= 0 && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
		x->rc = -ENOMEM;
}

static void str(struct xw *x, const char *s)
{
	if (s && x->rc >= 0 && xmlTextWriterWriteString(x->w, BAD_CAST s) < 0)
		x->rc = -ENOMEM;
}

/* <name>text</name>, also when text is NULL (then empty: "absent" is a value too). */
static void text_el(struct xw *x, const char *name, const char *t)
{
	start(x, name);
	str(x, t ? t : "");
	end(x);
}

/* An attribute of n copied as it is (left out when absent). */
static void copy_attr(struct xw *x, const xmlNode *n, const char *name)
{
	char *v = prop(n, name);

	attr(x, name, v);
	xmlFree(v);
}

/* A memory size element in KiB (libvirt's units; no unit is KiB). */
static int memory_kib(const xmlNode *n, unsigned long long *ret)
{
	static const struct {
		const char *unit;
		unsigned long long mul, div;
	} units[] = {
		{ "b", 1, 1024 }, { "bytes", 1, 1024 }, { "KB", 1000, 1024 }, { "k", 1, 1 }, { "KiB", 1, 1 },
		{ "MB", 1000000, 1024 }, { "M", 1024, 1 }, { "MiB", 1024, 1 },
		{ "GB", 1000000000ull, 1024 }, { "G", 1048576, 1 }, { "GiB", 1048576, 1 },
		{ "T", 1073741824ull, 1 }, { "TiB", 1073741824ull, 1 },
	};
	char *t = text(n), *u = prop(n, "unit"), *endp;
	unsigned long long v;
	int r = -EINVAL;

	if (!t)
		goto out;
	errno = 0;
	v = strtoull(t, &endp, 10);
	if (errno || *endp || endp == t)
		goto out;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(u ? u : "KiB", units[i].unit)) {
			*ret = v * units[i].mul / units[i].div;
			r = 0;
		}
out:
	free(t);
	xmlFree(u);
	return r;
}

struct disk_ref {
	const xmlNode *n;
	char *dev;
};

static int cmp_disk(const void *a, const void *b)
{
	const struct disk_ref *x = a, *y = b;
	size_t lx = strlen(x->dev), ly = strlen(y->dev);

	/* sdb before sdaa, as disk names count */
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->dev, y->dev);
}

static void canon_disk(struct xw *x, const xmlNode *d, const char *dev)
{
	const xmlNode *drv = child(d, "driver"), *src = child(d, "source"), *tgt = child(d, "target");
	char *type = prop(d, "type"), *device = prop(d, "device"), *bus = prop(tgt, "bus");

	start(x, "disk");
	attr(x, "type", type ? type : "file");
	attr(x, "device", device ? device : "disk");
	start(x, "driver");
	copy_attr(x, drv, "type");
	copy_attr(x, drv, "cache");
	copy_attr(x, drv, "io");
	end(x);
	start(x, "source");
	copy_attr(x, src, "file");
	copy_attr(x, src, "dev");
	copy_attr(x, src, "pool");
	copy_attr(x, src, "volume");
	end(x);
	start(x, "target");
	attr(x, "dev", dev);
	attr(x, "bus", bus);
	end(x);
	if (child(d, "readonly")) {
		start(x, "readonly");
		end(x);
	}
	end(x);
	xmlFree(type);
	xmlFree(device);
	xmlFree(bus);
}

static void canon_devices(struct xw *x, const xmlNode *devs)
{
	struct disk_ref *disks = NULL;
	size_t n = 0, cap = 0;

	start(x, "devices");
	for (const xmlNode *c = devs ? devs->children : NULL; c; c = c->next) {
		char *type;

		if (!is_el(c, "controller"))
			continue;
		type = prop(c, "type");
		if (type && (!strcmp(type, "scsi") || !strcmp(type, "sata"))) {
			start(x, "controller");
			attr(x, "type", type);
			copy_attr(x, c, "index");
			copy_attr(x, c, "model");
			end(x);
		}
		xmlFree(type);
	}
	for (const xmlNode *c = devs ? devs->children : NULL; c; c = c->next) {
		if (!is_el(c, "disk"))
			continue;
		if (n == cap) {
			struct disk_ref *nd = realloc(disks, (cap = cap ? 2 * cap : 8) * sizeof(*nd));

			if (!nd) {
				x->rc = -ENOMEM;
				break;
			}
			disks = nd;
		}
		disks[n].n = c;
		disks[n].dev = prop(child(c, "target"), "dev");
		if (!disks[n].dev)
			disks[n].dev = (char *)xmlStrdup(BAD_CAST "");
		n++;
	}
	qsort(disks, n, sizeof(*disks), cmp_disk);
	for (size_t i = 0; i < n; i++) {
		canon_disk(x, disks[i].n, disks[i].dev);
		xmlFree(disks[i].dev);
	}
	free(disks);
	for (const xmlNode *c = devs ? devs->children : NULL; c; c = c->next) {
		const xmlNode *src = child(c, "source");
		char *type, *mac;

		if (!is_el(c, "interface"))
			continue;
		type = prop(c, "type");
		mac = prop(child(c, "mac"), "address");
		for (char *p = mac; p && *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		start(x, "interface");
		attr(x, "type", type);
		start(x, "mac");
		attr(x, "address", mac);
		end(x);
		start(x, "source");
		copy_attr(x, src, "bridge");
		copy_attr(x, src, "network");
		end(x);
		start(x, "model");
		copy_attr(x, child(c, "model"), "type");
		end(x);
		end(x);
		xmlFree(type);
		xmlFree(mac);
	}
	for (const xmlNode *c = devs ? devs->children : NULL; c; c = c->next) {
		const xmlNode *log = child(c, "log"), *tgt = child(c, "target");

		if (!is_el(c, "serial") && !is_el(c, "console"))
			continue;
		start(x, (const char *)c->name);
		copy_attr(x, c, "type");
		if (log) {
			start(x, "log");
			copy_attr(x, log, "file");
			copy_attr(x, log, "append");
			end(x);
		}
		start(x, "target");
		if (is_el(c, "console"))
			copy_attr(x, tgt, "type");	/* a serial's type is libvirt's default (isa-serial) */
		copy_attr(x, tgt, "port");
		end(x);
		end(x);
	}
	end(x);
}

/* Some device has its own <boot order='N'/>. */
static bool device_boot_order(const xmlNode *devs)
{
	for (const xmlNode *c = devs ? devs->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && child(c, "boot"))
			return true;
	return false;
}

static int dump_root(xmlDoc *doc, xmlNode *root, char **ret);

static int parse_domain(const char *xml, xmlDoc **ret_doc, xmlNode **ret_root, char *err, size_t errlen)
{
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, PARSE_FLAGS);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!is_el(root, "domain")) {
		snprintf(err, errlen, "%s", doc ? "the XML is not a <domain>" : "the domain XML does not parse");
		xmlFreeDoc(doc);
		return -EINVAL;
	}
	*ret_doc = doc;
	*ret_root = root;
	return 0;
}

int domain_xml_canonical(const char *xml, bool with_uuid, char **ret, char *err, size_t errlen)
{
	static const char *const lifecycle[][2] = {
		{ "on_poweroff", "destroy" }, { "on_reboot", "restart" }, { "on_crash", "destroy" },
	};
	unsigned long long mem = 0, cur = 0;
	const xmlNode *os, *feat, *clock, *vcpu, *devs;
	xmlBufferPtr buf;
	xmlNode *root;
	struct xw x = { 0 };
	xmlDoc *doc;
	char num[32], *s, *v;
	int r;

	r = parse_domain(xml, &doc, &root, err, errlen);
	if (r < 0)
		return r;
	if (memory_kib(child(root, "memory"), &mem) < 0) {
		snprintf(err, errlen, "the domain XML has no valid <memory>");
		xmlFreeDoc(doc);
		return -EINVAL;
	}
	if (!child(root, "currentMemory") || memory_kib(child(root, "currentMemory"), &cur) < 0)
		cur = mem;
	buf = xmlBufferCreate();
	x.w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	if (!x.w) {
		xmlBufferFree(buf);
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	if (xmlTextWriterSetIndent(x.w, 1) < 0 || xmlTextWriterSetIndentString(x.w, BAD_CAST "  ") < 0)
		x.rc = -ENOMEM;

	start(&x, "domain");
	copy_attr(&x, root, "type");
	s = text(child(root, "name"));
	text_el(&x, "name", s);
	free(s);
	if (with_uuid) {
		s = text(child(root, "uuid"));
		text_el(&x, "uuid", s);
		free(s);
	}
	snprintf(num, sizeof(num), "%llu", mem);
	text_el(&x, "memory_kib", num);
	snprintf(num, sizeof(num), "%llu", cur);
	text_el(&x, "current_memory_kib", num);
	vcpu = child(root, "vcpu");
	s = text(vcpu);
	v = prop(vcpu, "current");
	text_el(&x, "vcpus", s);
	text_el(&x, "current_vcpus", v ? v : s);
	free(s);
	xmlFree(v);

	os = child(root, "os");
	start(&x, "os");
	{
		const xmlNode *t = child(os, "type");

		start(&x, "type");
		copy_attr(&x, t, "arch");
		copy_attr(&x, t, "machine");
		s = text(t);
		str(&x, s);
		free(s);
		end(&x);
	}
	for (const char *const *k = (const char *const[]){ "kernel", "initrd", "cmdline", NULL }; *k; k++) {
		const xmlNode *e = child(os, *k);

		if (!e)
			continue;
		s = text(e);
		text_el(&x, *k, s);
		free(s);
	}
	{
		bool any = false;

		for (const xmlNode *c = os ? os->children : NULL; c; c = c->next)
			if (is_el(c, "boot")) {
				start(&x, "boot");
				copy_attr(&x, c, "dev");
				end(&x);
				any = true;
			}
		/* libvirt's default, unless devices carry their own boot order */
		if (!any && !device_boot_order(child(root, "devices"))) {
			start(&x, "boot");
			attr(&x, "dev", "hd");
			end(&x);
		}
	}
	end(&x);

	feat = child(root, "features");
	start(&x, "features");
	for (const char *const *k = (const char *const[]){ "acpi", "apic", NULL }; *k; k++)
		if (child(feat, *k)) {
			start(&x, *k);
			end(&x);
		}
	end(&x);
	clock = child(root, "clock");
	start(&x, "clock");
	v = prop(clock, "offset");
	attr(&x, "offset", v ? v : "utc");
	xmlFree(v);
	end(&x);
	for (size_t i = 0; i < sizeof(lifecycle) / sizeof(lifecycle[0]); i++) {
		s = text(child(root, lifecycle[i][0]));
		text_el(&x, lifecycle[i][0], s ? s : lifecycle[i][1]);
		free(s);
	}
	devs = child(root, "devices");
	canon_devices(&x, devs);
	end(&x);
	if (x.rc >= 0 && xmlTextWriterEndDocument(x.w) < 0)
		x.rc = -ENOMEM;
	xmlFreeTextWriter(x.w);
	xmlFreeDoc(doc);
	if (x.rc < 0) {
		xmlBufferFree(buf);
		return x.rc;
	}
	*ret = strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return *ret ? 0 : -ENOMEM;
}

int domain_xml_stage2(const char *xml, char **ret, char *err, size_t errlen)
{
	xmlNode *root, *os, *c, *next;
	bool boot = false;
	xmlDoc *doc;
	int r;

	r = parse_domain(xml, &doc, &root, err, errlen);
	if (r < 0)
		return r;
	os = child(root, "os");
	if (!os) {
		snprintf(err, errlen, "the domain XML has no <os>");
		xmlFreeDoc(doc);
		return -EINVAL;
	}
	for (c = os->children; c; c = next) {
		next = c->next;
		if (is_el(c, "kernel") || is_el(c, "initrd") || is_el(c, "cmdline") || is_el(c, "dtb")) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (is_el(c, "boot")) {
			boot = true;
		}
	}
	r = -ENOMEM;
	if (!boot && !device_boot_order(child(root, "devices"))) {
		xmlNode *b = xmlNewChild(os, NULL, BAD_CAST "boot", NULL);

		if (!b || !xmlSetProp(b, BAD_CAST "dev", BAD_CAST "hd"))
			goto out;
	}
	r = dump_root(doc, root, ret);
out:
	xmlFreeDoc(doc);
	return r;
}

static int dump_root(xmlDoc *doc, xmlNode *root, char **ret)
{
	xmlBufferPtr buf = xmlBufferCreate();
	int r = -ENOMEM;

	if (!buf)
		return -ENOMEM;
	if (xmlNodeDump(buf, doc, root, 0, 1) >= 0 && xmlBufferAdd(buf, BAD_CAST "\n", 1) == 0) {
		*ret = strdup((const char *)xmlBufferContent(buf));
		r = *ret ? 0 : -ENOMEM;
	}
	xmlBufferFree(buf);
	return r;
}

int domain_xml_set_text(const char *xml, const char *element, const char *value, char **ret, char *err,
			size_t errlen)
{
	xmlNode *root, *e, *name;
	xmlDoc *doc;
	int r;

	r = parse_domain(xml, &doc, &root, err, errlen);
	if (r < 0)
		return r;
	e = child(root, element);
	name = child(root, "name");
	r = -ENOMEM;
	if (!e) {
		e = xmlNewDocNode(doc, NULL, BAD_CAST element, NULL);
		if (!e)
			goto out;
		if (!(name ? xmlAddNextSibling(name, e) : xmlAddChild(root, e))) {
			xmlFreeNode(e);
			goto out;
		}
	}
	/* xmlNodeSetContent() would parse entities; this is text as it is */
	xmlNodeSetContent(e, NULL);
	xmlNodeAddContent(e, BAD_CAST value);
	r = dump_root(doc, root, ret);
out:
	xmlFreeDoc(doc);
	return r;
}

char *domain_xml_text(const char *xml, const char *element)
{
	xmlNode *root;
	xmlDoc *doc;
	char err[64], *u;

	if (parse_domain(xml, &doc, &root, err, sizeof(err)) < 0)
		return NULL;
	u = text(child(root, element));
	xmlFreeDoc(doc);
	if (u && !*u) {
		free(u);
		u = NULL;
	}
	return u;
}

/* The lines of s (pointers into a copy; the copy is lines[0]'s block). */
static int split_lines(const char *s, char **ret_copy, char ***ret_lines, size_t *ret_n)
{
	char *copy = strdup(s), **lines = NULL, *p;
	size_t n = 0;

	if (!copy)
		return -ENOMEM;
	for (p = copy; *p;) {
		char *nl = strchr(p, '\n'), **nlines = realloc(lines, (n + 1) * sizeof(*lines));

		if (!nlines) {
			free(lines);
			free(copy);
			return -ENOMEM;
		}
		lines = nlines;
		lines[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	*ret_copy = copy;
	*ret_lines = lines;
	*ret_n = n;
	return 0;
}

int domain_text_diff(const char *a, const char *b, char **ret)
{
	char *ca = NULL, *cb = NULL, **la = NULL, **lb = NULL, *out = NULL;
	size_t na = 0, nb = 0, len = 0, i, j;
	unsigned *lcs = NULL;
	FILE *f;
	int r;

	if ((r = split_lines(a, &ca, &la, &na)) < 0 || (r = split_lines(b, &cb, &lb, &nb)) < 0)
		goto out;
	r = -ENOMEM;
	if (na > 4096 || nb > 4096)
		goto out;	/* not a domain definition */
	/* lcs[i][j]: the longest common subsequence of la[i..] and lb[j..] */
	lcs = calloc((na + 1) * (nb + 1), sizeof(*lcs));
	f = open_memstream(&out, &len);
	if (!lcs || !f) {
		if (f)
			fclose(f);
		goto out;
	}
#define LCS(i, j) lcs[(i) * (nb + 1) + (j)]
	for (i = na; i-- > 0;)
		for (j = nb; j-- > 0;)
			LCS(i, j) = !strcmp(la[i], lb[j]) ? LCS(i + 1, j + 1) + 1
			      : LCS(i + 1, j) >= LCS(i, j + 1) ? LCS(i + 1, j) : LCS(i, j + 1);
	for (i = 0, j = 0; i < na || j < nb;) {
		if (i < na && j < nb && !strcmp(la[i], lb[j])) {
			i++;
			j++;
		} else if (j >= nb || (i < na && LCS(i + 1, j) >= LCS(i, j + 1))) {
			fprintf(f, "-%s\n", la[i++]);
		} else {
			fprintf(f, "+%s\n", lb[j++]);
		}
	}
#undef LCS
	if (fclose(f) == 0 && out) {
		*ret = out;
		out = NULL;
		r = 0;
	}
out:
	free(out);
	free(lcs);
	free(la);
	free(lb);
	free(ca);
	free(cb);
	return r;
}
