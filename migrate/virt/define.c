/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain on a libvirt host: domain capabilities (read with libxml2),
 * the plan's volumes, and the define step with its comparison. libvirt's
 * own errors are taken from virGetLastErrorMessage() into err; nothing is
 * printed here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "migrate/virt/define.h"
#include "migrate/virt/conn_priv.h"
#include "migrate/virt/domain.h"


const char *const domain_define_result_names[DOMAIN_DEFINE_RESULT_MAX] = {
	[DOMAIN_DEFINED] = "defined",
	[DOMAIN_UNCHANGED] = "unchanged",
	[DOMAIN_UPDATED] = "updated",
	[DOMAIN_REPLACED] = "replaced",
};

static void quiet(void *data, virErrorPtr e)
{
	/* errors are reported by the caller from virGetLastErrorMessage() */
}

int virt_conn_open(const char *uri, struct virt_conn **ret, char *err, size_t errlen)
{
	struct virt_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	virSetErrorFunc(NULL, quiet);
	c->conn = virConnectOpen(uri);
	if (!c->conn) {
		snprintf(err, errlen, "cannot connect to %s: %s", uri, virGetLastErrorMessage());
		free(c);
		return -ECONNREFUSED;
	}
	*ret = c;
	return 0;
}

void virt_conn_close(struct virt_conn *c)
{
	if (!c)
		return;
	virConnectClose(c->conn);
	free(c);
}

static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

/* The text of n into buf (cut to len - 1). */
static void text_into(const xmlNode *n, char *buf, size_t len)
{
	char *t = n ? (char *)xmlNodeGetContent(n) : NULL;

	snprintf(buf, len, "%s", t ? t : "");
	xmlFree(t);
}

static int parse_caps(const char *xml, struct domain_host *h, char *err, size_t errlen)
{
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "domcaps.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL, *disk;

	if (!root) {
		snprintf(err, errlen, "the domain capabilities do not parse");
		xmlFreeDoc(doc);
		return -EIO;
	}
	text_into(child(root, "domain"), h->type, sizeof(h->type));
	text_into(child(root, "arch"), h->arch, sizeof(h->arch));
	text_into(child(root, "machine"), h->machine, sizeof(h->machine));
	disk = child(child(root, "devices"), "disk");
	for (xmlNode *e = disk ? disk->children : NULL; e; e = e->next) {
		char *name = e->type == XML_ELEMENT_NODE ? (char *)xmlGetProp(e, BAD_CAST "name") : NULL;

		if (name && !strcmp(name, "bus"))
			for (xmlNode *v = e->children; v; v = v->next) {
				char *t;
				int b;

				if (v->type != XML_ELEMENT_NODE)
					continue;
				t = (char *)xmlNodeGetContent(v);
				b = domain_bus_from_name(t);
				if (b >= 0)
					h->bus[b] = true;
				xmlFree(t);
			}
		xmlFree(name);
	}
	xmlFreeDoc(doc);
	if (!h->type[0] || !h->arch[0] || !h->machine[0]) {
		snprintf(err, errlen, "the domain capabilities name no domain type, arch or machine");
		return -EIO;
	}
	return 0;
}

int domain_host_caps(struct virt_conn *c, const char *type, const char *machine, struct domain_host *ret,
		     char *warn, size_t warnlen, char *err, size_t errlen)
{
	struct domain_host h = { 0 };
	char *xml;
	int r;

	*warn = '\0';
	xml = virConnectGetDomainCapabilities(c->conn, NULL, NULL, machine, type ? type : "kvm", 0);
	if (!xml && !type) {
		snprintf(warn, warnlen, "KVM is not usable here (%s): the domain type is qemu (emulation, slow); "
			 "give --domain-type to choose", virGetLastErrorMessage());
		xml = virConnectGetDomainCapabilities(c->conn, NULL, NULL, machine, "qemu", 0);
	}
	if (!xml) {
		snprintf(err, errlen, "domain type %s%s%s: %s", type ? type : "qemu", machine ? ", machine " : "",
			 machine ? machine : "", virGetLastErrorMessage());
		return -EINVAL;
	}
	r = parse_caps(xml, &h, err, errlen);
	free(xml);
	if (r == 0)
		*ret = h;
	return r;
}

int domain_volume_find(struct virt_conn *c, const char *pool_name, const char *name, char **ret_path, bool *ret_block,
		       char *err, size_t errlen)
{
	virStoragePoolPtr pool;
	virStorageVolPtr vol = NULL;
	virStorageVolInfo info;
	char *path;
	int r = -EINVAL;

	pool = virStoragePoolLookupByName(c->conn, pool_name);
	if (!pool) {
		snprintf(err, errlen, "storage pool '%s' is not there (virsh pool-list --all): %s", pool_name,
			 virGetLastErrorMessage());
		return -ENOENT;
	}
	if (virStoragePoolIsActive(pool) != 1) {
		snprintf(err, errlen, "storage pool '%s' is not active (virsh pool-start %s)", pool_name, pool_name);
		goto out;
	}
	virStoragePoolRefresh(pool, 0);
	vol = virStorageVolLookupByName(pool, name);
	if (!vol) {
		snprintf(err, errlen, "volume %s is not in storage pool '%s' (bridgectl migrate create makes it)",
			 name, pool_name);
		r = -ENOENT;
		goto out;
	}
	if (virStorageVolGetInfo(vol, &info) < 0) {
		snprintf(err, errlen, "volume %s: %s", name, virGetLastErrorMessage());
		r = -EIO;
		goto out;
	}
	if (info.type != VIR_STORAGE_VOL_BLOCK && info.type != VIR_STORAGE_VOL_FILE) {
		snprintf(err, errlen, "volume %s in pool '%s' is neither a block device nor a file", name, pool_name);
		goto out;
	}
	path = virStorageVolGetPath(vol);
	if (!path) {
		snprintf(err, errlen, "volume %s: no path: %s", name, virGetLastErrorMessage());
		r = -EIO;
		goto out;
	}
	*ret_path = path;
	*ret_block = info.type == VIR_STORAGE_VOL_BLOCK;
	r = 0;
out:
	if (vol)
		virStorageVolFree(vol);
	virStoragePoolFree(pool);
	return r;
}

/*
 * xml as libvirt writes it back (*ret malloc'd), parsed and formatted by
 * the test driver, in process: nothing is defined on any host. The test
 * driver's default instance has a domain named "test": a VM of that name
 * is renamed for the round trip.
 */
static int libvirt_roundtrip(const char *xml, char **ret, char *err, size_t errlen)
{
	virConnectPtr conn;
	virDomainPtr dom;
	char *out;

	virSetErrorFunc(NULL, quiet);
	conn = virConnectOpen("test:///default");
	if (!conn) {
		snprintf(err, errlen, "libvirt's test driver: %s", virGetLastErrorMessage());
		return -EIO;
	}
	dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
	if (!dom) {
		snprintf(err, errlen, "%s", virGetLastErrorMessage());
		virConnectClose(conn);
		return -EINVAL;
	}
	out = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	virDomainUndefine(dom);
	virDomainFree(dom);
	virConnectClose(conn);
	if (!out) {
		snprintf(err, errlen, "libvirt's test driver gives no XML back");
		return -EIO;
	}
	*ret = out;
	return 0;
}

/*
 * xml normalised by libvirt (*ret malloc'd). The test driver's default
 * instance has a domain named "test": a VM of that name makes the round
 * trip under another name and gets its own back.
 */
static int normalise(const char *xml, char **ret, char *err, size_t errlen)
{
	char *tmp = NULL, *out = NULL, *name = NULL;
	int r;

	r = libvirt_roundtrip(xml, ret, err, errlen);
	if (r != -EINVAL || !strstr(err, "already exists"))
		return r;
	name = domain_xml_text(xml, "name");
	r = name ? domain_xml_set_text(xml, "name", "bridged-roundtrip", &tmp, err, errlen) : -EINVAL;
	if (r == 0)
		r = libvirt_roundtrip(tmp, &out, err, errlen);
	if (r == 0)
		r = domain_xml_set_text(out, "name", name, ret, err, errlen);
	free(name);
	free(tmp);
	free(out);
	return r;
}

int domain_validate(const char *xml, char *err, size_t errlen)
{
	char *out = NULL;
	int r = normalise(xml, &out, err, errlen);

	free(out);
	return r;
}

static int define_xml(virConnectPtr conn, const char *xml, struct domain_define_report *rep, char *err,
		      size_t errlen)
{
	virDomainPtr dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);

	if (!dom) {
		snprintf(err, errlen, "libvirt refuses the definition: %s", virGetLastErrorMessage());
		return -EINVAL;
	}
	virDomainGetUUIDString(dom, rep->uuid);
	rep->active = virDomainIsActive(dom) == 1;
	virDomainFree(dom);
	return 0;
}

/* The canonical forms of the existing definition and of ours, normalised by libvirt. */
static int canonical_pair(const char *existing, const char *xml, bool with_uuid, char **ret_old, char **ret_new,
			  char *err, size_t errlen)
{
	char *norm = NULL, e2[512];
	int r;

	/* xml through libvirt's parser, in process; when even that cannot be had, xml as we wrote it */
	if (normalise(xml, &norm, e2, sizeof(e2)) < 0)
		norm = NULL;
	r = domain_xml_canonical(existing, with_uuid, ret_old, err, errlen);
	if (r == 0) {
		r = domain_xml_canonical(norm ? norm : xml, with_uuid, ret_new, err, errlen);
		if (r < 0) {
			free(*ret_old);
			*ret_old = NULL;
		}
	}
	free(norm);
	return r;
}

/* Defines xml, or with dry_run only says it would (the report's uuid then stays as it is). */
static int apply(virConnectPtr conn, const char *xml, bool dry_run, struct domain_define_report *rep, char *err,
		 size_t errlen)
{
	return dry_run ? 0 : define_xml(conn, xml, rep, err, errlen);
}

int domain_define(struct virt_conn *c, const char *xml, const char *name, int stage, bool replace, bool dry_run,
		  struct domain_define_report *rep, char *err, size_t errlen)
{
	char *existing = NULL, *old = NULL, *new = NULL, *stage2 = NULL, *old2 = NULL, *ours_uuid = NULL,
	     *withuuid = NULL, cur_uuid[VIR_UUID_STRING_BUFLEN];
	virDomainPtr dom;
	int r;

	memset(rep, 0, sizeof(*rep));
	virSetErrorFunc(NULL, quiet);
	dom = virDomainLookupByName(c->conn, name);
	if (!dom) {
		r = apply(c->conn, xml, dry_run, rep, err, errlen);
		rep->result = DOMAIN_DEFINED;
		return r;
	}
	rep->active = virDomainIsActive(dom) == 1;
	existing = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	if (!existing) {
		snprintf(err, errlen, "domain %s: %s", name, virGetLastErrorMessage());
		r = -EIO;
		goto out;
	}
	ours_uuid = domain_xml_text(xml, "uuid");
	r = canonical_pair(existing, xml, ours_uuid != NULL, &old, &new, err, errlen);
	if (r < 0)
		goto out;
	virDomainGetUUIDString(dom, cur_uuid);
	snprintf(rep->uuid, sizeof(rep->uuid), "%s", cur_uuid);
	if (!strcmp(old, new)) {
		rep->result = DOMAIN_UNCHANGED;
		r = 0;
		goto out;
	}
	if (stage == 2) {
		r = domain_xml_stage2(existing, &stage2, err, errlen);
		if (r < 0)
			goto out;
		r = domain_xml_canonical(stage2, ours_uuid != NULL, &old2, err, errlen);
		if (r < 0)
			goto out;
		if (!strcmp(old2, new)) {
			r = apply(c->conn, stage2, dry_run, rep, err, errlen);
			rep->result = DOMAIN_UPDATED;
			rep->active = virDomainIsActive(dom) == 1;
			goto out;
		}
	}
	r = domain_text_diff(old, new, &rep->diff);
	if (r < 0)
		goto out;
	if (!replace) {
		snprintf(err, errlen, "domain %s exists and differs from the one the Xen config gives (--replace "
			 "overwrites it)", name);
		r = -EEXIST;
		goto out;
	}
	if (ours_uuid && strcasecmp(ours_uuid, cur_uuid)) {
		/* another uuid: libvirt will not redefine in place */
		if (rep->active) {
			snprintf(err, errlen, "domain %s runs with uuid %s, the new definition has %s: stop it "
				 "first (virsh shutdown %s)", name, cur_uuid, ours_uuid, name);
			r = -EBUSY;
			goto out;
		}
		if (!dry_run && virDomainUndefine(dom) < 0) {
			snprintf(err, errlen, "cannot undefine domain %s: %s", name, virGetLastErrorMessage());
			r = -EIO;
			goto out;
		}
		r = apply(c->conn, xml, dry_run, rep, err, errlen);
	} else if (!ours_uuid) {
		r = domain_xml_set_text(xml, "uuid", cur_uuid, &withuuid, err, errlen);
		if (r == 0)
			r = apply(c->conn, withuuid, dry_run, rep, err, errlen);
	} else {
		r = apply(c->conn, xml, dry_run, rep, err, errlen);
	}
	rep->result = DOMAIN_REPLACED;
	rep->active = virDomainIsActive(dom) == 1;
out:
	virDomainFree(dom);
	free(existing);
	free(old);
	free(new);
	free(stage2);
	free(old2);
	free(ours_uuid);
	free(withuuid);
	return r;
}
