/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The request that opens a disk copy served by the old host's daemon
 * (MigrateListen, bridged/migsrv.c): after the stream handshake, the client
 * (`bridgectl migrate receive --from`) sends one REQUEST naming a VM and,
 * to copy, one of its disks; the daemon answers with one REPLY, then (for a
 * copy it accepted) runs the ordinary stream as the sender. docs/STREAM.md,
 * "Copying from the old host's daemon", has the format.
 */
#ifndef BRIDGED_MIGRATE_STREAM_FETCH_H
#define BRIDGED_MIGRATE_STREAM_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "migrate/stream/stream.h"

enum fetch_op {
	FETCH_OP_LIST = 1,	/* the VM's disks and their sizes, as JSON */
	FETCH_OP_DISK = 2,	/* copy one disk (named by its vdev) */
};

#define FETCH_FLAG_WARM		0x01	/* the disk may be in use (refused for now) */
#define FETCH_FLAG_DELTA	0x02	/* send only the blocks whose hash differs */

#define FETCH_NAME_MAX		128	/* VM name or vdev, bytes */
#define FETCH_REQUEST_MAX	(12 + 2 * FETCH_NAME_MAX)
#define FETCH_REPLY_HDR		12
#define FETCH_TEXT_MAX		65536
#define FETCH_REPLY_MAX		(FETCH_REPLY_HDR + FETCH_TEXT_MAX)

struct fetch_request {
	uint8_t op;		/* enum fetch_op */
	uint8_t flags;
	char vm[FETCH_NAME_MAX + 1];
	char vdev[FETCH_NAME_MAX + 1];	/* "" with FETCH_OP_LIST */
};

/* Codec (no I/O). encode: buf holds FETCH_REQUEST_MAX bytes; returns the
 * length, 0 when a name is too long. decode: -EBADMSG when malformed. */
size_t fetch_request_encode(uint8_t *buf, const struct fetch_request *r);
int fetch_request_decode(const uint8_t *buf, size_t len, struct fetch_request *r);
/* REPLY: status 0 (accepted, text is JSON) or an errno (refused, text says
 * why). */
size_t fetch_reply_encode(uint8_t *buf, uint16_t status, const char *text);
int fetch_reply_decode(const uint8_t *buf, size_t len, uint16_t *status, const char **text,
		       size_t *text_len);

/* Over an established channel, each bounded by timeout_ms. 0 or -errno. */
int fetch_send_request(struct stream_chan *ch, int fd, const struct fetch_request *r);
int fetch_recv_request(struct stream_chan *ch, int fd, int timeout_ms, struct fetch_request *r);
int fetch_send_reply(struct stream_chan *ch, int fd, uint16_t status, const char *text);
/* text: a NUL-terminated copy (truncated to cap - 1). */
int fetch_recv_reply(struct stream_chan *ch, int fd, int timeout_ms, uint16_t *status,
		     char *text, size_t cap);

/* A VM name the daemon accepts: 1..FETCH_NAME_MAX bytes, no '/', not
 * starting with '.', printable ASCII without spaces. */
bool fetch_vm_name_ok(const char *name);

#endif
