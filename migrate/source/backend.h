/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The old hypervisor, as the old host's daemon sees it: one backend per
 * host, chosen by `[Node] MigrateSource` (docs/CONFIG.md), behind a const
 * ops table. `xl` and `xm` run the tool with an argument vector (run.h)
 * and parse its table (xllist.h): one implementation, the tool's name a
 * parameter. `libvirt:URI` asks libvirt (migrate/virt/domsrc.h), so a
 * libvirt-managed Xen host or another KVM host can be the source too.
 *
 * Domains are named as the hypervisor names them: for a Xen config, its
 * `name` setting.
 */
#ifndef BRIDGED_MIGRATE_SOURCE_BACKEND_H
#define BRIDGED_MIGRATE_SOURCE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#define SOURCE_SPEC_MAX 256	/* "xl", "xm", "libvirt:URI" */
#define SOURCE_TOOL_MAX 256
#define SOURCE_MSG_MAX 256

enum source_state {
	SOURCE_STATE_UNKNOWN,	/* the hypervisor did not say (message says why) */
	SOURCE_STATE_RUNNING,	/* the domain exists: it holds its disks */
	SOURCE_STATE_SHUT_OFF,	/* no such domain runs */
	_SOURCE_STATE_MAX,
};
extern const char *const source_state_names[_SOURCE_STATE_MAX];

struct source_domain {
	enum source_state state;
	long domid;		/* -1 when none or not known */
	char flags[7];		/* xl/xm: the six state letters; "" otherwise */
	char detail[32];	/* "blocked", "paused", "shutdown", "crashed", ... */
	bool guest_down;	/* running, but the guest has stopped for good: only
				 * the domain's shell remains (a destroy loses nothing) */
	bool managed;		/* a persistent entry exists (xend-managed, libvirt) */
	char message[SOURCE_MSG_MAX];	/* unknown: why */
};

struct source_backend;

struct source_backend_ops {
	const char *name;	/* "xl", "xm", "libvirt" */
	/* 0 with *ret filled (state UNKNOWN included); -errno only when the
	 * question could not be asked at all. */
	int (*state)(struct source_backend *b, const char *domain, struct source_domain *ret);
	/* Asks the guest to shut down and returns at once. */
	int (*shutdown)(struct source_backend *b, const char *domain, char *err, size_t errlen);
	/* Pulls the plug. */
	int (*destroy)(struct source_backend *b, const char *domain, char *err, size_t errlen);
	/* Starts the domain and returns (the caller asks for the state until it
	 * runs): xl/xm create it from cfgpath (the absolute path of its Xen
	 * config), libvirt starts its definition (cfgpath unused). */
	int (*start)(struct source_backend *b, const char *domain, const char *cfgpath, char *err,
		     size_t errlen);
	/* The hypervisor's own autostart of a managed entry (libvirt's
	 * autostart flag; NULL where there is none): get returns 1 on, 0 off,
	 * -ENOENT without such an entry. */
	int (*autostart_get)(struct source_backend *b, const char *domain, char *err, size_t errlen);
	int (*autostart_set)(struct source_backend *b, const char *domain, bool on, char *err,
			     size_t errlen);
};

struct virt_src;

struct source_backend {
	const struct source_backend_ops *ops;
	char tool[SOURCE_TOOL_MAX];	/* xl/xm: the program, a path or a name in PATH */
	char uri[SOURCE_SPEC_MAX];	/* libvirt */
	struct virt_src *virt;		/* libvirt: the connection, opened when first needed */
	int timeout_ms;			/* each run of the tool */
};

/* Checks a MigrateSource value: "xl", "xm" or "libvirt:URI" (a URI of
 * printable characters without blanks). NULL when good, else why. */
const char *source_spec_check(const char *spec);

/*
 * A backend for spec (source_spec_check). tool overrides the program of
 * xl/xm (MigrateSourceTool: a stand-in in the tests); NULL or "" for the
 * default ("xl" or "xm", looked up in PATH).
 */
int source_backend_new(const char *spec, const char *tool, struct source_backend **ret, char *err,
		       size_t errlen);
void source_backend_free(struct source_backend *b);

/* "xl", "xm (/usr/sbin/xm)", "libvirt (xen:///system)": for messages. */
const char *source_backend_describe(const struct source_backend *b, char *buf, size_t len);

#endif
