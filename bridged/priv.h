/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Privilege separation (docs/SECURITY.md). At start-up the daemon forks a
 * small helper that stays root; after setup the daemon itself (the process
 * that parses network input) becomes the unprivileged [Node] User, keeping
 * CAP_NET_ADMIN only, and asks the helper, over a socketpair, for the few
 * things that must stay root: reading the configuration again (SIGHUP),
 * replacing the StateFile and the MetricsFile, removing the control
 * socket at exit, and one root channel per MigrateListen connection
 * (disks opened read-only and handed over, the MigrateSource backend).
 *
 * With User = root (or no account "bridged" and User not set) nothing is
 * forked or dropped: each call below does its work in the process itself.
 */
#ifndef BRIDGED_PRIV_H
#define BRIDGED_PRIV_H

#include <stdbool.h>
#include <stddef.h>

struct daemon;

enum priv_file {
	PRIV_FILE_STATE,     /* StateFile: atomic, fsync'd, mode 0600 */
	PRIV_FILE_METRICS,   /* MetricsFile: FILE.tmp renamed over it */
	_PRIV_FILE_MAX,
};

/* Before setup: resolves [Node] User and, unless the daemon stays root,
 * forks the helper. Fatal on an unknown User. */
void priv_start(struct daemon *d);
/* After setup (and after daemonizing): becomes User with CAP_NET_ADMIN
 * only (no-op when staying root). Fatal when that fails. */
void priv_drop(struct daemon *d);
/* Whether the process runs separated (the helper is there). */
bool priv_separated(void);
/* The configuration file, opened read-only: an fd, or -errno. */
int priv_open_config(struct daemon *d);
/* Replaces the file with data: 0 or -errno. */
int priv_write_file(struct daemon *d, enum priv_file which, const void *data, size_t len);
/* Removes the control socket (at exit). */
void priv_unlink_ctl(struct daemon *d);
/* For a MigrateListen connection: a channel to a root process that serves
 * that connection's disks and backend requests (migrate side, migsrv.c):
 * an fd, -EOPNOTSUPP when not separated, or -errno. */
int priv_migrate_channel(struct daemon *d);
/* Closes the channel to the helper (at exit). */
void priv_close(void);
/* Forgets it without closing (a forked child that closes its descriptors). */
void priv_forget(void);
/* One fixed-size message with at most one descriptor over a SOCK_SEQPACKET
 * socket (the helper's and migsrv's channels). send: 0 or -errno. recv: 1
 * with a message of exactly len bytes (*fd: the descriptor it carried, or
 * -1), 0 at the end, -errno (-EBADMSG: not len bytes). */
int priv_send(int sock, const void *buf, size_t len, int fd);
int priv_recv(int sock, void *buf, size_t len, int *fd);

#endif
