/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the commands that talk to another host share (migrate_stream.c,
 * migrate_source.c): the exit statuses, the signals that cancel, the keys,
 * connecting with bounded retries, and the handshake with the old host's
 * daemon.
 */
#ifndef BRIDGED_CLI_MIGRATE_CONN_H
#define BRIDGED_CLI_MIGRATE_CONN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/keys.h"

#define MIG_DEFAULT_KEY "/etc/bridged/private.key"
#define MIG_HANDSHAKE_TIMEOUT_MS 15000

enum { EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_REFUSED, EXIT_INTERRUPTED };

struct stream_chan;

/* SIGINT and SIGTERM set the flag and shut stream_cancel_fd down (which
 * wakes whoever is blocked on it); SIGPIPE is ignored. */
extern volatile sig_atomic_t stream_cancel_flag;
extern volatile sig_atomic_t stream_cancel_fd;
void signals_install(void);

/* --key, --peer-key, --plain */
struct mig_keys {
	const char *key_file, *peer_key;
	bool plain;
	uint8_t *priv;		/* sodium_malloc */
	uint8_t peer[1][KEY_LEN];
};
/* Loads our private key and parses the peer's; prints why not (role: the
 * command, for messages). Nothing with plain. */
int mig_load_keys(struct mig_keys *k, const char *role);
void mig_keys_free(struct mig_keys *k);

/* "ADDR:PORT" or "[V6]:PORT" -> host and port strings (host may be empty). */
int mig_split_addr(const char *s, char *host, size_t hlen, char *port, size_t plen);
void mig_tune_socket(int fd);
/* Connects to addr, retrying for up to timeout_s (the other side may not
 * listen yet) unless *cancel; prints why it failed. The fd or -errno. */
int mig_connect(const char *role, const char *addr, int timeout_s, const volatile sig_atomic_t *cancel);

/* The handshake with the old host's daemon (we are the initiator). 0 with
 * *ret_ch; -EACCES when it did not authenticate us (why: "ADDR: not
 * authenticated: ... (is our --key the PublicKey of a [Peer] there?)"),
 * another -errno with why. */
int mig_daemon_auth(const struct mig_keys *k, int fd, const char *addr, struct stream_chan **ret_ch,
		    char *why, size_t whylen);

#endif
