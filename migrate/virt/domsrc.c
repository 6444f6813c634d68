/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The source's domains through libvirt (domsrc.h), with libvirt loaded at
 * run time: the prototypes come from <libvirt/libvirt.h>, the functions
 * from dlopen("libvirt.so.0"). Each call looks the domain up by name.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "migrate/virt/domsrc.h"

#define LIBVIRT_SONAME "libvirt.so.0"

/* The functions used, resolved once. */
static struct {
	bool loaded;
	char why[200];
	__typeof__(virConnectOpen) *connect_open;
	__typeof__(virConnectClose) *connect_close;
	__typeof__(virDomainLookupByName) *lookup;
	__typeof__(virDomainFree) *dom_free;
	__typeof__(virDomainGetState) *get_state;
	__typeof__(virDomainGetID) *get_id;
	__typeof__(virDomainIsPersistent) *is_persistent;
	__typeof__(virDomainShutdown) *shutdown;
	__typeof__(virDomainDestroy) *destroy;
	__typeof__(virDomainCreate) *create;
	__typeof__(virDomainGetAutostart) *get_autostart;
	__typeof__(virDomainSetAutostart) *set_autostart;
	__typeof__(virGetLastError) *last_error;
	__typeof__(virSetErrorFunc) *set_error_func;
} lv;
static pthread_once_t lv_once = PTHREAD_ONCE_INIT;

struct virt_src {
	virConnectPtr conn;
};

static void quiet(void *data, virErrorPtr e)
{
	/* errors are reported by the caller from virGetLastError() */
}

#define RESOLVE(h, field, sym) \
	do { \
		*(void **)&lv.field = dlsym(h, sym); \
		if (!lv.field) { \
			snprintf(lv.why, sizeof(lv.why), "%s has no %s", LIBVIRT_SONAME, sym); \
			return; \
		} \
	} while (0)

static void lv_load(void)
{
	void *h = dlopen(LIBVIRT_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		const char *e = dlerror();

		snprintf(lv.why, sizeof(lv.why), "libvirt is not installed here (%s)",
			 e ? e : LIBVIRT_SONAME);
		return;
	}
	RESOLVE(h, connect_open, "virConnectOpen");
	RESOLVE(h, connect_close, "virConnectClose");
	RESOLVE(h, lookup, "virDomainLookupByName");
	RESOLVE(h, dom_free, "virDomainFree");
	RESOLVE(h, get_state, "virDomainGetState");
	RESOLVE(h, get_id, "virDomainGetID");
	RESOLVE(h, is_persistent, "virDomainIsPersistent");
	RESOLVE(h, shutdown, "virDomainShutdown");
	RESOLVE(h, destroy, "virDomainDestroy");
	RESOLVE(h, create, "virDomainCreate");
	RESOLVE(h, get_autostart, "virDomainGetAutostart");
	RESOLVE(h, set_autostart, "virDomainSetAutostart");
	RESOLVE(h, last_error, "virGetLastError");
	RESOLVE(h, set_error_func, "virSetErrorFunc");
	lv.set_error_func(NULL, quiet);
	/* the handle stays open for the life of the process */
	lv.loaded = true;
}

static const char *last_message(void)
{
	virErrorPtr e = lv.last_error();

	return e && e->message ? e->message : "unknown libvirt error";
}

static bool last_is_no_domain(void)
{
	virErrorPtr e = lv.last_error();

	return e && e->code == VIR_ERR_NO_DOMAIN;
}

int virt_src_open(const char *uri, struct virt_src **ret, char *err, size_t errlen)
{
	struct virt_src *s;

	pthread_once(&lv_once, lv_load);
	if (!lv.loaded) {
		snprintf(err, errlen, "%s", lv.why);
		return -ENOSYS;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->conn = lv.connect_open(uri);
	if (!s->conn) {
		snprintf(err, errlen, "cannot connect to %s: %s", uri, last_message());
		free(s);
		return -ECONNREFUSED;
	}
	*ret = s;
	return 0;
}

void virt_src_close(struct virt_src *s)
{
	if (!s)
		return;
	lv.connect_close(s->conn);
	free(s);
}

/* The domain, or NULL: -ENOENT (not defined) or -EIO in *r, err says. */
static virDomainPtr lookup(struct virt_src *s, const char *name, int *r, char *err, size_t errlen)
{
	virDomainPtr d = lv.lookup(s->conn, name);

	if (d)
		return d;
	*r = last_is_no_domain() ? -ENOENT : -EIO;
	snprintf(err, errlen, "domain %s: %s", name, last_message());
	return NULL;
}

int virt_src_state(struct virt_src *s, const char *name, struct virt_src_info *ret, char *err,
		   size_t errlen)
{
	static const char *const names[] = {
		[VIR_DOMAIN_NOSTATE] = "no state", [VIR_DOMAIN_RUNNING] = "running",
		[VIR_DOMAIN_BLOCKED] = "blocked", [VIR_DOMAIN_PAUSED] = "paused",
		[VIR_DOMAIN_SHUTDOWN] = "shutting down", [VIR_DOMAIN_SHUTOFF] = "shut off",
		[VIR_DOMAIN_CRASHED] = "crashed", [VIR_DOMAIN_PMSUSPENDED] = "suspended",
	};
	virDomainPtr d;
	int st = 0, reason = 0, r = 0, p;

	memset(ret, 0, sizeof(*ret));
	ret->id = -1;
	d = lookup(s, name, &r, err, errlen);
	if (!d) {
		if (r != -ENOENT)
			return r;
		ret->state = VIRT_SRC_INACTIVE;
		snprintf(ret->detail, sizeof(ret->detail), "not defined");
		return 0;
	}
	if (lv.get_state(d, &st, &reason, 0) < 0) {
		snprintf(err, errlen, "domain %s: %s", name, last_message());
		lv.dom_free(d);
		return -EIO;
	}
	p = lv.is_persistent(d);
	ret->defined = p == 1;
	snprintf(ret->detail, sizeof(ret->detail), "%s",
		 st >= 0 && (size_t)st < sizeof(names) / sizeof(names[0]) && names[st] ? names[st] : "?");
	switch (st) {
	case VIR_DOMAIN_SHUTOFF:
		ret->state = VIRT_SRC_INACTIVE;
		break;
	case VIR_DOMAIN_NOSTATE:
		ret->state = VIRT_SRC_UNKNOWN;
		break;
	default:
		ret->state = VIRT_SRC_ACTIVE;
		ret->guest_down = st == VIR_DOMAIN_CRASHED;
		ret->id = (int)lv.get_id(d);
		break;
	}
	lv.dom_free(d);
	return 0;
}

static int dom_call(struct virt_src *s, const char *name, const char *what,
		    int (*fn)(virDomainPtr), char *err, size_t errlen)
{
	virDomainPtr d;
	int r = 0;

	d = lookup(s, name, &r, err, errlen);
	if (!d)
		return r;
	if (fn(d) < 0) {
		snprintf(err, errlen, "%s %s: %s", what, name, last_message());
		r = -EIO;
	}
	lv.dom_free(d);
	return r;
}

int virt_src_shutdown(struct virt_src *s, const char *name, char *err, size_t errlen)
{
	return dom_call(s, name, "shutdown", lv.shutdown, err, errlen);
}

int virt_src_destroy(struct virt_src *s, const char *name, char *err, size_t errlen)
{
	return dom_call(s, name, "destroy", lv.destroy, err, errlen);
}

int virt_src_start(struct virt_src *s, const char *name, char *err, size_t errlen)
{
	return dom_call(s, name, "start", lv.create, err, errlen);
}

int virt_src_autostart_get(struct virt_src *s, const char *name, char *err, size_t errlen)
{
	virDomainPtr d;
	int r = 0, on = 0;

	d = lookup(s, name, &r, err, errlen);
	if (!d)
		return r;
	if (lv.is_persistent(d) != 1) {
		snprintf(err, errlen, "domain %s is not defined (transient)", name);
		r = -ENOENT;
	} else if (lv.get_autostart(d, &on) < 0) {
		snprintf(err, errlen, "autostart of %s: %s", name, last_message());
		r = -EIO;
	} else {
		r = on ? 1 : 0;
	}
	lv.dom_free(d);
	return r;
}

int virt_src_autostart_set(struct virt_src *s, const char *name, bool on, char *err, size_t errlen)
{
	virDomainPtr d;
	int r = 0;

	d = lookup(s, name, &r, err, errlen);
	if (!d)
		return r;
	if (lv.set_autostart(d, on ? 1 : 0) < 0) {
		snprintf(err, errlen, "autostart %s of %s: %s", on ? "on" : "off", name, last_message());
		r = -EIO;
	}
	lv.dom_free(d);
	return r;
}
