/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The requests the old host's daemon serves (MigrateListen,
 * bridged/migsrv.c): after the stream handshake, the client (`bridgectl
 * migrate receive --from`, `bridgectl migrate source`) sends one REQUEST
 * naming a VM and what it wants (its disks, one disk, its Xen config, its
 * state, a shutdown, its autostart off or back, a start); the daemon answers with
 * one REPLY, then (for a copy it accepted) runs the ordinary stream as the
 * sender. docs/STREAM.md, "Copying from the old host's daemon" and "What
 * else the old host serves", has the format.
 */
#ifndef BRIDGED_MIGRATE_STREAM_FETCH_H
#define BRIDGED_MIGRATE_STREAM_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "migrate/stream/stream.h"

enum fetch_op {
	FETCH_OP_LIST = 1,		/* the VM's disks and their sizes, as JSON */
	FETCH_OP_DISK = 2,		/* copy one disk (named by its vdev) */
	FETCH_OP_CONFIG = 3,		/* the VM's Xen config file, byte for byte */
	FETCH_OP_STATE = 4,		/* running, shut off or unknown */
	FETCH_OP_SHUTDOWN = 5,		/* graceful, within timeout_s; destroy with FORCE */
	FETCH_OP_AUTOSTART_OFF = 6,	/* off at the old host's next boot, journaled */
	FETCH_OP_AUTOSTART_RESTORE = 7,	/* put back what AUTOSTART_OFF changed */
	FETCH_OP_START = 8,		/* start the VM again (a rollback) */
	_FETCH_OP_MAX,
};
/* "list", "disk", "config", ...; NULL for an unknown op. */
const char *fetch_op_to_string(unsigned op);

#define FETCH_FLAG_WARM		0x01	/* DISK: the disk may be in use (a first copy) */
#define FETCH_FLAG_DELTA	0x02	/* DISK: send only the blocks whose hash differs */
#define FETCH_FLAG_FORCE	0x04	/* SHUTDOWN: destroy the VM when the timeout ran out */
#define FETCH_FLAGS_KNOWN	0x07

#define FETCH_NAME_MAX		128	/* VM name or vdev, bytes */
#define FETCH_TIMEOUT_MAX	3600	/* SHUTDOWN's timeout, seconds */
#define FETCH_REQUEST_MAX	(16 + 2 * FETCH_NAME_MAX)
#define FETCH_REPLY_HDR		12
#define FETCH_TEXT_MAX		65536
#define FETCH_REPLY_MAX		(FETCH_REPLY_HDR + FETCH_TEXT_MAX)

struct fetch_request {
	uint8_t op;		/* enum fetch_op */
	uint8_t flags;
	uint32_t timeout_s;	/* SHUTDOWN: how long the guest may take; else 0 */
	char vm[FETCH_NAME_MAX + 1];
	char vdev[FETCH_NAME_MAX + 1];	/* only with FETCH_OP_DISK */
};

/* Codec (no I/O). encode: buf holds FETCH_REQUEST_MAX bytes; returns the
 * length, 0 when a name is too long. LIST and DISK without a timeout are
 * encoded as version 1 ("BRFREQ01", what daemons before the other ops
 * read), the rest as version 2 ("BRFREQ02", with the timeout); decode
 * takes both. decode: -EBADMSG when malformed (unknown ops and flags are
 * the daemon's to refuse). */
size_t fetch_request_encode(uint8_t *buf, const struct fetch_request *r);
int fetch_request_decode(const uint8_t *buf, size_t len, struct fetch_request *r);
/* REPLY: status 0 (accepted, text is JSON) or an errno (refused, text says
 * why). */
size_t fetch_reply_encode(uint8_t *buf, uint16_t status, const char *text);
int fetch_reply_decode(const uint8_t *buf, size_t len, uint16_t *status, const char **text,
		       size_t *text_len);

/* The flags and fields r's op takes (the daemon refuses the others with
 * EINVAL): DISK warm and delta, SHUTDOWN force and a timeout of 1 to
 * FETCH_TIMEOUT_MAX s, the other ops none, and no vdev but for DISK. NULL
 * when r is fine, else why ("flags that a shutdown does not take"). The
 * op itself is not checked (fetch_op_to_string). */
const char *fetch_request_fields_check(const struct fetch_request *r);

/* Over an established channel, each bounded by timeout_ms. 0 or -errno. */
int fetch_send_request(struct stream_chan *ch, int fd, const struct fetch_request *r);
int fetch_recv_request(struct stream_chan *ch, int fd, int timeout_ms, struct fetch_request *r);
int fetch_send_reply(struct stream_chan *ch, int fd, uint16_t status, const char *text);
/* text: a NUL-terminated copy (truncated to cap - 1). */
int fetch_recv_reply(struct stream_chan *ch, int fd, int timeout_ms, uint16_t *status,
		     char *text, size_t cap);

/* The client's side: sends r, then waits up to timeout_ms for the reply
 * (fetch_recv_reply). */
int fetch_call(struct stream_chan *ch, int fd, const struct fetch_request *r, int timeout_ms,
	       uint16_t *status, char *text, size_t cap);

/* A VM name the daemon accepts: 1..FETCH_NAME_MAX bytes, no '/', not
 * starting with '.', printable ASCII without spaces. */
bool fetch_vm_name_ok(const char *name);

#endif
