/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt storage: virStorageVolCreateXML in a named pool. A logical pool
 * gets allocation == capacity (a plain, non-thin LV); a dir pool a sparse
 * raw file. libvirtd runs the LVM tools, so on hosts without udevd it is
 * libvirtd's environment that needs DM_DISABLE_UDEV=1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "migrate/virt/volume.h"

static void quiet(void *data, virErrorPtr e)
{
	/* errors are reported by the caller from virGetLastErrorMessage() */
}

/* s with & < > ' " as XML entities (malloc'd). */
static char *xml_escape(const char *s)
{
	size_t n = 1;
	char *r, *o;

	for (const char *c = s; *c; c++)
		n += strchr("&<>'\"", *c) ? 6 : 1;
	r = o = malloc(n);
	if (!r)
		return NULL;
	for (const char *c = s; *c; c++) {
		const char *e = *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;" :
				*c == '\'' ? "&apos;" : *c == '"' ? "&quot;" : NULL;

		if (e) {
			o = stpcpy(o, e);
		} else {
			*o++ = *c;
		}
	}
	*o = '\0';
	return r;
}

/* The text of the first <tag>...</tag> inside from..to (malloc'd), or NULL. */
static char *xml_text(const char *from, const char *to, const char *tag)
{
	char open[64], close[64];
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(from, open);
	if (!a || a >= to)
		return NULL;
	a += strlen(open);
	b = strstr(a, close);
	if (!b || b > to)
		return NULL;
	return strndup(a, (size_t)(b - a));
}

int volume_pool_vg(const char *uri, const char *pool_name, char **ret_vg, char *err, size_t errlen)
{
	virConnectPtr conn;
	virStoragePoolPtr pool;
	char *xml, *vg = NULL;
	const char *src, *end;
	int r;

	*ret_vg = NULL;
	virSetErrorFunc(NULL, quiet);
	conn = virConnectOpen(uri);
	if (!conn) {
		snprintf(err, errlen, "cannot connect to %s: %s", uri, virGetLastErrorMessage());
		return -ECONNREFUSED;
	}
	pool = virStoragePoolLookupByName(conn, pool_name);
	if (!pool) {
		snprintf(err, errlen, "storage pool '%s': %s", pool_name, virGetLastErrorMessage());
		virConnectClose(conn);
		return -ENOENT;
	}
	xml = virStoragePoolGetXMLDesc(pool, 0);
	if (!xml) {
		snprintf(err, errlen, "storage pool '%s': %s", pool_name, virGetLastErrorMessage());
		r = -EIO;
	} else if (!strstr(xml, "<pool type='logical'") && !strstr(xml, "<pool type=\"logical\"")) {
		r = 0;
	} else {
		/* <source> ... <name>VG</name> ... </source>; libvirt's default is the pool's name */
		src = strstr(xml, "<source>");
		end = src ? strstr(src, "</source>") : NULL;
		vg = src && end ? xml_text(src, end, "name") : NULL;
		if (!vg)
			vg = strdup(pool_name);
		r = vg ? 1 : -ENOMEM;
	}
	free(xml);
	virStoragePoolFree(pool);
	virConnectClose(conn);
	*ret_vg = vg;
	return r;
}

int volume_ensure(const char *uri, const char *pool_name, const char *name, uint64_t size, char **ret_path,
		  bool *ret_created, char *err, size_t errlen)
{
	virConnectPtr conn = NULL;
	virStoragePoolPtr pool = NULL;
	virStorageVolPtr vol = NULL;
	virStorageVolInfo info;
	char *xml = NULL, *pxml = NULL, *path, *ename = NULL;
	bool logical;
	int r = -EIO;

	virSetErrorFunc(NULL, quiet);
	conn = virConnectOpen(uri);
	if (!conn) {
		snprintf(err, errlen, "cannot connect to %s: %s", uri, virGetLastErrorMessage());
		return -ECONNREFUSED;
	}
	pool = virStoragePoolLookupByName(conn, pool_name);
	if (!pool) {
		snprintf(err, errlen, "storage pool '%s': %s", pool_name, virGetLastErrorMessage());
		r = -ENOENT;
		goto out;
	}
	if (virStoragePoolIsActive(pool) != 1) {
		snprintf(err, errlen, "storage pool '%s' is not active (virsh pool-start %s)", pool_name, pool_name);
		goto out;
	}
	virStoragePoolRefresh(pool, 0);
	vol = virStorageVolLookupByName(pool, name);
	*ret_created = false;
	if (!vol) {
		pxml = virStoragePoolGetXMLDesc(pool, 0);
		logical = pxml && strstr(pxml, "type='logical'");
		ename = xml_escape(name);
		if (!ename || asprintf(&xml,
			     "<volume>\n  <name>%s</name>\n  <capacity unit='bytes'>%llu</capacity>\n"
			     "  <allocation unit='bytes'>%llu</allocation>\n%s</volume>\n",
			     ename, (unsigned long long)size, logical ? (unsigned long long)size : 0ull,
			     logical ? "" : "  <target><format type='raw'/></target>\n") < 0) {
			xml = NULL;
			r = -ENOMEM;
			goto out;
		}
		vol = virStorageVolCreateXML(pool, xml, 0);
		if (!vol) {
			snprintf(err, errlen, "creating volume %s in pool %s: %s", name, pool_name,
				 virGetLastErrorMessage());
			goto out;
		}
		*ret_created = true;
	}
	if (virStorageVolGetInfo(vol, &info) < 0) {
		snprintf(err, errlen, "volume %s: %s", name, virGetLastErrorMessage());
		goto out;
	}
	if (info.capacity != size) {
		snprintf(err, errlen, "volume %s in pool %s exists with capacity %llu bytes, the plan needs %llu "
			 "(refusing to touch it)", name, pool_name, (unsigned long long)info.capacity,
			 (unsigned long long)size);
		r = -EEXIST;
		goto out;
	}
	path = virStorageVolGetPath(vol);
	if (!path) {
		snprintf(err, errlen, "volume %s: no path: %s", name, virGetLastErrorMessage());
		goto out;
	}
	*ret_path = path;
	r = 0;
out:
	free(ename);
	free(xml);
	free(pxml);
	if (vol)
		virStorageVolFree(vol);
	if (pool)
		virStoragePoolFree(pool);
	virConnectClose(conn);
	return r;
}
