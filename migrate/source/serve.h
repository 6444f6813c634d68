/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the old host's daemon answers to the requests other than the disk
 * copy (fetch.h: CONFIG, STATE, SHUTDOWN, AUTOSTART_OFF/RESTORE, START): each
 * function does the work and returns the reply, JSON when accepted, the
 * reason when refused. The daemon (bridged/migsrv.c) has checked the peer
 * and the VM (a config in XenConfigDir that parses) and logs the outcome.
 * docs/STREAM.md, "What else the old host serves", has the replies.
 */
#ifndef BRIDGED_MIGRATE_SOURCE_SERVE_H
#define BRIDGED_MIGRATE_SOURCE_SERVE_H

#include <stdbool.h>

#include "migrate/source/backend.h"

#define SOURCE_CONFIG_MAX (32 * 1024)	/* a Xen config served, bytes */

struct source_ctx {
	struct source_backend *backend;
	const char *auto_dir;		/* XenAutoDir, "" none */
	const char *save_dir;		/* XenSaveDir, "" none */
	const char *state_dir;		/* where the autostart journals are */
	int poll_ms;			/* SHUTDOWN, START: how often the state is asked (0: 250) */
	int start_wait_ms;		/* START: how long it may take to run (0: 30 s) */
};

/*
 * The VM as the request names it (vm: its config's file name) and as the
 * hypervisor does (domain: the config's `name`). Each returns 0 with
 * *ret_text (malloc'd) the JSON reply, or a positive errno with *ret_text
 * saying why it is refused; -ENOMEM when not even that could be made.
 */
int source_serve_config(const char *vm, const char *domain, const char *cfgpath, char **ret_text);
int source_serve_state(const struct source_ctx *c, const char *vm, const char *domain,
		       char **ret_text);
/* Graceful shutdown, waiting up to timeout_s for the domain to be gone;
 * then refused (ETIMEDOUT), or with force destroyed. A domain whose guest
 * has already stopped (only its shell is left) is destroyed without force. */
int source_serve_shutdown(const struct source_ctx *c, const char *vm, const char *domain,
			  unsigned timeout_s, bool force, char **ret_text);
/* Starts a VM that is shut off (a rollback) and asks for its state until
 * it runs, at most 30 s; refused (ETIMEDOUT) when it does not. A VM that
 * runs is left alone ("already running"); one whose guest has stopped
 * with its domain left (guest_down) is refused (EEXIST), as is an unknown
 * state (EIO). cfgpath: the absolute path of its Xen config (xl, xm). */
int source_serve_start(const struct source_ctx *c, const char *vm, const char *domain,
		       const char *cfgpath, char **ret_text);
int source_serve_autostart(const struct source_ctx *c, bool off, const char *vm, const char *domain,
			   const char *cfgpath, char **ret_text);

#endif
