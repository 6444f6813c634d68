/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The endpoint state file (StateFile in [Node], docs/CONFIG.md): the last
 * confirmed endpoint of each peer, kept across restarts so that a restarted
 * daemon initiates at once, also to peers configured with Endpoint = none.
 * It is a hint only: the daemon uses an entry for a peer without a
 * configured endpoint, and the engine replaces it with whatever address an
 * authenticated handshake comes from.
 *
 * Format (text, written whole by the daemon):
 *
 *   # comment lines and blank lines are ignored
 *   PUBLIC-KEY ENDPOINT
 *
 * PUBLIC-KEY is the peer's key in base64 as in [Peer] PublicKey, ENDPOINT
 * as in Endpoint ("198.18.0.2:5880", "[2001:db8::1]:5880"), separated by
 * blanks. The parser is pure (no I/O); load and save do the file work.
 */
#ifndef BRIDGED_EPSTATE_H
#define BRIDGED_EPSTATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/keys.h"

#define EPSTATE_MAX_BYTES 65536   /* a larger file is not one we wrote */
#define EPSTATE_LINE_MAX 256

struct epstate_entry {
	uint8_t key[KEY_LEN];
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
};

struct epstate {
	struct epstate_entry *e;
	size_t n, cap;
};

/* What a parse found, for the log. */
struct epstate_report {
	unsigned entries;          /* lines that gave an entry */
	unsigned bad;              /* lines that are neither comment, blank nor entry */
	unsigned first_bad_line;   /* 1-based; 0: none */
};

/*
 * Parses the text of a state file into *ret (which it empties first; an
 * empty struct epstate is all zero). Lines that are not entries are skipped
 * and counted in *ret_report; a key given twice: the later line wins. Never
 * fails on content: binary garbage is only bad lines. Returns the number of
 * entries, or -ENOMEM (then *ret is empty).
 */
int epstate_parse(struct epstate *ret, const char *buf, size_t len,
		  struct epstate_report *ret_report);
/* The text of a state file for s, malloc'd, NUL-terminated; -ENOMEM. */
int epstate_format(const struct epstate *s, char **ret, size_t *ret_len);

/* The entry of key, NULL if none. */
const struct epstate_entry *epstate_find(const struct epstate *s,
					 const uint8_t key[KEY_LEN]);
/* Sets key's endpoint: 1 if that changed s, 0 if it was already so,
 * -EINVAL for a length that does not fit, -ENOMEM. */
int epstate_set(struct epstate *s, const uint8_t key[KEY_LEN],
		const struct sockaddr_storage *endpoint, socklen_t len);
/* Frees the entries; s is empty again. */
void epstate_clear(struct epstate *s);

/*
 * Reads and parses the file at path into *ret. -ENOENT: no file (a first
 * start); -EPERM: not a regular file owned by us, or writable by group or
 * others (it steers where we send handshakes); -EFBIG: over
 * EPSTATE_MAX_BYTES; other -errno from the file system. On failure *ret is
 * empty. Otherwise as epstate_parse.
 */
int epstate_load(const char *path, struct epstate *ret, struct epstate_report *ret_report);
/*
 * Writes s to path atomically: a new file PATH.XXXXXX (mode 0600) in the
 * same directory, written and fsync'd, renamed over PATH, then the
 * directory fsync'd; a missing directory (the last level) is created with
 * mode 0700. 0 or -errno; on failure PATH is unchanged.
 */
int epstate_save(const char *path, const struct epstate *s);

#endif
