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

#include "migrate/volume.h"

static void quiet(void *data, virErrorPtr e)
{
	/* errors are reported by the caller from virGetLastErrorMessage() */
}

int volume_ensure(const char *uri, const char *pool_name, const char *name, uint64_t size, char **ret_path,
		  bool *ret_created, char *err, size_t errlen)
{
	virConnectPtr conn = NULL;
	virStoragePoolPtr pool = NULL;
	virStorageVolPtr vol = NULL;
	virStorageVolInfo info;
	char *xml = NULL, *pxml = NULL, *path;
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
		if (asprintf(&xml,
			     "<volume>\n  <name>%s</name>\n  <capacity unit='bytes'>%llu</capacity>\n"
			     "  <allocation unit='bytes'>%llu</allocation>\n%s</volume>\n",
			     name, (unsigned long long)size, logical ? (unsigned long long)size : 0ull,
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
	free(xml);
	free(pxml);
	if (vol)
		virStorageVolFree(vol);
	if (pool)
		virStoragePoolFree(pool);
	virConnectClose(conn);
	return r;
}
