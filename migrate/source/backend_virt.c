/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MigrateSource = libvirt:URI (backend.h): the domain through libvirt, by
 * migrate/virt/domsrc.h (the one place that knows libvirt). The connection
 * is opened at the first question and kept for the backend's life.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "migrate/source/backend.h"
#include "migrate/virt/domsrc.h"

static int conn(struct source_backend *b, char *err, size_t errlen)
{
	if (b->virt)
		return 0;
	return virt_src_open(b->uri, &b->virt, err, errlen);
}

static int virt_state(struct source_backend *b, const char *domain, struct source_domain *ret)
{
	struct virt_src_info info;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->domid = -1;
	ret->state = SOURCE_STATE_UNKNOWN;
	r = conn(b, ret->message, sizeof(ret->message));
	if (r == 0)
		r = virt_src_state(b->virt, domain, &info, ret->message, sizeof(ret->message));
	if (r < 0)
		return 0;
	ret->state = info.state == VIRT_SRC_ACTIVE ? SOURCE_STATE_RUNNING :
		     info.state == VIRT_SRC_INACTIVE ? SOURCE_STATE_SHUT_OFF : SOURCE_STATE_UNKNOWN;
	if (ret->state == SOURCE_STATE_UNKNOWN)
		snprintf(ret->message, sizeof(ret->message), "libvirt reports no state for %s", domain);
	ret->domid = info.id;
	ret->guest_down = info.guest_down;
	ret->managed = info.defined;
	snprintf(ret->detail, sizeof(ret->detail), "%s", info.detail);
	return 0;
}

static int virt_shutdown(struct source_backend *b, const char *domain, char *err, size_t errlen)
{
	int r = conn(b, err, errlen);

	return r < 0 ? r : virt_src_shutdown(b->virt, domain, err, errlen);
}

static int virt_destroy(struct source_backend *b, const char *domain, char *err, size_t errlen)
{
	int r = conn(b, err, errlen);

	return r < 0 ? r : virt_src_destroy(b->virt, domain, err, errlen);
}

static int virt_start(struct source_backend *b, const char *domain, const char *cfgpath, char *err,
		      size_t errlen)
{
	int r = conn(b, err, errlen);

	return r < 0 ? r : virt_src_start(b->virt, domain, err, errlen);
}

static int virt_autostart_get(struct source_backend *b, const char *domain, char *err, size_t errlen)
{
	int r = conn(b, err, errlen);

	return r < 0 ? r : virt_src_autostart_get(b->virt, domain, err, errlen);
}

static int virt_autostart_set(struct source_backend *b, const char *domain, bool on, char *err,
			      size_t errlen)
{
	int r = conn(b, err, errlen);

	return r < 0 ? r : virt_src_autostart_set(b->virt, domain, on, err, errlen);
}

const struct source_backend_ops source_virt_ops = {
	.name = "libvirt",
	.state = virt_state,
	.shutdown = virt_shutdown,
	.destroy = virt_destroy,
	.start = virt_start,
	.autostart_get = virt_autostart_get,
	.autostart_set = virt_autostart_set,
};
