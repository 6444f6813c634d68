/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Non-blocking request/answer connections on a listening socket: the
 * control socket (ctl.c) and the metrics listener (metrics.c) both serve
 * through it. A request is read as it comes, the answer written as the
 * peer takes it, a connection that dawdles is closed at its deadline, at
 * most CONN_MAX are open per server, and the event loop never waits for a
 * client. A connection may instead become a stream (`bridgectl events`):
 * it stays open, without a deadline, and receives every broadcast line; a
 * stream client that does not keep up is dropped, never waited for.
 */
#ifndef BRIDGED_CONN_H
#define BRIDGED_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "bridged/loop.h"

#define CONN_DEADLINE_NS 2000000000ull
#define CONN_MAX 64
#define CONN_REQUEST_MAX 512

struct conn;
struct conn_server;

struct conn_handler {
	const char *name;              /* for log lines: "control socket" */
	/* Optional: whether the peer connected on fd may be served. When not,
	 * *ret_refusal (malloc'd line, or NULL) is what it gets once its
	 * request is read (reading first: a client still writing would
	 * otherwise meet a closed socket), then the connection closes. */
	bool (*admit)(struct conn_server *s, int fd, char **ret_refusal);
	/* Whether buf (NUL-terminated, len bytes) holds a whole request. */
	bool (*complete)(const char *buf, size_t len);
	/* The answer to a whole request: malloc'd, *ret_len bytes, handed
	 * over; NULL closes the connection. May call conn_make_stream(c)
	 * and return NULL to keep it as a stream. */
	char *(*answer)(struct conn_server *s, struct conn *c, char *req, size_t *ret_len);
};

struct conn_server {
	struct loop_source src;        /* the listening socket, -1: closed */
	struct loop *loop;
	const struct conn_handler *h;
	void *ctx;                     /* the owner, for the handler */
	struct conn *conns;
};

/* Serves listen_fd (non-blocking, listening; owned from now on). */
int conn_server_open(struct conn_server *s, struct loop *l, int listen_fd,
		     const struct conn_handler *h, void *ctx);
/* Closes the listening socket and every connection, frees them. */
void conn_server_close(struct conn_server *s);
/* Frees the connections that ended (after the loop round). */
void conn_server_collect(struct conn_server *s);
/* Keeps c open as a stream (no deadline, receives broadcasts). */
void conn_make_stream(struct conn *c);
/* Writes buf to every stream; drops the ones that cannot take it now. */
void conn_server_broadcast(struct conn_server *s, const char *buf, size_t len);

#endif
