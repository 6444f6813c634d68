/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A domain's life on this host; see lifecycle.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "migrate/virt/conn_priv.h"
#include "migrate/virt/lifecycle.h"

/* The domain, or NULL: *missing tells "no such domain" from a failure. */
static virDomainPtr lookup(struct virt_conn *c, const char *name, bool *missing, char *err, size_t errlen)
{
	virDomainPtr d = virDomainLookupByName(c->conn, name);
	virErrorPtr e;

	*missing = false;
	if (d)
		return d;
	e = virGetLastError();
	if (e && e->code == VIR_ERR_NO_DOMAIN) {
		*missing = true;
		return NULL;
	}
	snprintf(err, errlen, "domain %s: %s", name, virGetLastErrorMessage());
	return NULL;
}

int virt_domain_info(struct virt_conn *c, const char *name, struct virt_domain_info *ret, char *err,
		     size_t errlen)
{
	bool missing;
	virDomainPtr d = lookup(c, name, &missing, err, errlen);
	int v, r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!d)
		return missing ? 0 : -EIO;
	ret->exists = true;
	v = virDomainIsActive(d);
	if (v < 0) {
		snprintf(err, errlen, "domain %s: %s", name, virGetLastErrorMessage());
		r = -EIO;
	}
	ret->active = v == 1;
	ret->persistent = virDomainIsPersistent(d) == 1;
	if (virDomainGetAutostart(d, &v) == 0)
		ret->autostart = v != 0;
	if (virDomainGetUUIDString(d, ret->uuid) < 0)
		ret->uuid[0] = '\0';
	virDomainFree(d);
	return r;
}

int virt_domain_start(struct virt_conn *c, const char *name, char *err, size_t errlen)
{
	bool missing;
	virDomainPtr d = lookup(c, name, &missing, err, errlen);
	int r = 0;

	if (!d) {
		if (missing)
			snprintf(err, errlen, "domain %s is not defined here", name);
		return missing ? -ENOENT : -EIO;
	}
	if (virDomainIsActive(d) != 1 && virDomainCreate(d) < 0) {
		snprintf(err, errlen, "cannot start domain %s: %s", name, virGetLastErrorMessage());
		r = -EIO;
	}
	virDomainFree(d);
	return r;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int virt_domain_stop(struct virt_conn *c, const char *name, int timeout_s, bool force, bool *ret_destroyed,
		     char *err, size_t errlen)
{
	bool missing;
	virDomainPtr d = lookup(c, name, &missing, err, errlen);
	int r = 0;

	*ret_destroyed = false;
	if (!d)
		return missing ? 0 : -EIO;
	if (virDomainIsActive(d) != 1)
		goto out;
	/* the guest may ignore it (no acpid): then the timeout decides */
	if (virDomainShutdown(d) == 0)
		for (int i = 0; i < timeout_s * 4 && virDomainIsActive(d) == 1; i++)
			sleep_ms(250);
	if (virDomainIsActive(d) != 1)
		goto out;
	if (!force) {
		snprintf(err, errlen, "domain %s did not shut down within %d s", name, timeout_s);
		r = -ETIMEDOUT;
	} else if (virDomainDestroy(d) < 0) {
		snprintf(err, errlen, "cannot destroy domain %s: %s", name, virGetLastErrorMessage());
		r = -EIO;
	} else {
		*ret_destroyed = true;
	}
out:
	virDomainFree(d);
	return r;
}

int virt_domain_undefine(struct virt_conn *c, const char *name, char *err, size_t errlen)
{
	bool missing;
	virDomainPtr d = lookup(c, name, &missing, err, errlen);
	int r = 0;

	if (!d)
		return missing ? 0 : -EIO;
	if (virDomainIsActive(d) == 1) {
		snprintf(err, errlen, "domain %s runs: stop it first", name);
		r = -EBUSY;
	} else if (virDomainIsPersistent(d) == 1 && virDomainUndefine(d) < 0) {
		snprintf(err, errlen, "cannot undefine domain %s: %s", name, virGetLastErrorMessage());
		r = -EIO;
	}
	virDomainFree(d);
	return r;
}

int virt_domain_set_autostart(struct virt_conn *c, const char *name, bool on, char *err, size_t errlen)
{
	bool missing;
	virDomainPtr d = lookup(c, name, &missing, err, errlen);
	int r = 0;

	if (!d) {
		if (missing)
			snprintf(err, errlen, "domain %s is not defined here", name);
		return missing ? -ENOENT : -EIO;
	}
	if (virDomainSetAutostart(d, on) < 0) {
		snprintf(err, errlen, "domain %s: cannot set autostart %s: %s", name, on ? "on" : "off",
			 virGetLastErrorMessage());
		r = -EIO;
	}
	virDomainFree(d);
	return r;
}

static virStoragePoolPtr pool_get(struct virt_conn *c, const char *pool, char *err, size_t errlen)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(c->conn, pool);

	if (!p)
		snprintf(err, errlen, "storage pool %s: %s", pool, virGetLastErrorMessage());
	return p;
}

int virt_pool_available(struct virt_conn *c, const char *pool, uint64_t *ret, char *err, size_t errlen)
{
	virStoragePoolPtr p = pool_get(c, pool, err, errlen);
	virStoragePoolInfo info;
	int r = 0;

	if (!p)
		return -ENOENT;
	virStoragePoolRefresh(p, 0);
	if (virStoragePoolGetInfo(p, &info) < 0) {
		snprintf(err, errlen, "storage pool %s: %s", pool, virGetLastErrorMessage());
		r = -EIO;
	} else if (info.state != VIR_STORAGE_POOL_RUNNING) {
		snprintf(err, errlen, "storage pool %s is not active (virsh pool-start %s)", pool, pool);
		r = -EINVAL;
	} else {
		*ret = info.available;
	}
	virStoragePoolFree(p);
	return r;
}

int virt_volume_exists(struct virt_conn *c, const char *pool, const char *name, char *err, size_t errlen)
{
	virStoragePoolPtr p = pool_get(c, pool, err, errlen);
	virStorageVolPtr v;

	if (!p)
		return -ENOENT;
	v = virStorageVolLookupByName(p, name);
	virStoragePoolFree(p);
	if (!v)
		return 0;
	virStorageVolFree(v);
	return 1;
}

int virt_volume_delete(struct virt_conn *c, const char *pool, const char *name, char *err, size_t errlen)
{
	virStoragePoolPtr p = pool_get(c, pool, err, errlen);
	virStorageVolPtr v;
	int r = 0;

	if (!p)
		return -ENOENT;
	v = virStorageVolLookupByName(p, name);
	virStoragePoolFree(p);
	if (!v)
		return 0;
	if (virStorageVolDelete(v, 0) < 0) {
		snprintf(err, errlen, "cannot delete volume %s of pool %s: %s", name, pool, virGetLastErrorMessage());
		r = -EIO;
	}
	virStorageVolFree(v);
	return r;
}
