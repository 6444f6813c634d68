/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The request and reply of what the old host's daemon serves (fetch.h),
 * carried in the channel's frames like every other message of the stream.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "migrate/stream/stream_chan.h"
#include "migrate/source/fetch.h"
#include "migrate/stream/stream_wire.h"

#define REQ_MAGIC_V1 "BRFREQ01"
#define REQ_MAGIC_V2 "BRFREQ02"
#define REQ_HDR_V1 12
#define REQ_HDR_V2 16
#define REPLY_MAGIC "BRFRPL01"

static const char *const op_names[_FETCH_OP_MAX] = {
	[FETCH_OP_LIST] = "list",
	[FETCH_OP_DISK] = "disk",
	[FETCH_OP_CONFIG] = "config",
	[FETCH_OP_STATE] = "state",
	[FETCH_OP_SHUTDOWN] = "shutdown",
	[FETCH_OP_AUTOSTART_OFF] = "autostart-off",
	[FETCH_OP_AUTOSTART_RESTORE] = "autostart-restore",
	[FETCH_OP_START] = "start",
};

const char *fetch_op_to_string(unsigned op)
{
	return op < _FETCH_OP_MAX ? op_names[op] : NULL;
}

size_t fetch_request_encode(uint8_t *buf, const struct fetch_request *r)
{
	size_t vl = strlen(r->vm), dl = strlen(r->vdev), h;
	bool v1 = (r->op == FETCH_OP_LIST || r->op == FETCH_OP_DISK) && !r->timeout_s;

	if (vl > FETCH_NAME_MAX || dl > FETCH_NAME_MAX)
		return 0;
	memcpy(buf, v1 ? REQ_MAGIC_V1 : REQ_MAGIC_V2, 8);
	buf[8] = r->op;
	buf[9] = r->flags;
	buf[10] = (uint8_t)vl;
	buf[11] = (uint8_t)dl;
	h = REQ_HDR_V1;
	if (!v1) {
		buf[12] = (uint8_t)r->timeout_s;
		buf[13] = (uint8_t)(r->timeout_s >> 8);
		buf[14] = (uint8_t)(r->timeout_s >> 16);
		buf[15] = (uint8_t)(r->timeout_s >> 24);
		h = REQ_HDR_V2;
	}
	memcpy(buf + h, r->vm, vl);
	memcpy(buf + h + vl, r->vdev, dl);
	return h + vl + dl;
}

static bool name_chars_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

int fetch_request_decode(const uint8_t *buf, size_t len, struct fetch_request *r)
{
	size_t vl, dl, h;
	uint32_t timeout = 0;

	memset(r, 0, sizeof(*r));
	if (len < REQ_HDR_V1)
		return -EBADMSG;
	if (!memcmp(buf, REQ_MAGIC_V1, 8)) {
		h = REQ_HDR_V1;
	} else if (!memcmp(buf, REQ_MAGIC_V2, 8)) {
		if (len < REQ_HDR_V2)
			return -EBADMSG;
		h = REQ_HDR_V2;
		timeout = (uint32_t)buf[12] | (uint32_t)buf[13] << 8 | (uint32_t)buf[14] << 16 |
			  (uint32_t)buf[15] << 24;
	} else {
		return -EBADMSG;
	}
	vl = buf[10];
	dl = buf[11];
	if (len != h + vl + dl || vl > FETCH_NAME_MAX || dl > FETCH_NAME_MAX)
		return -EBADMSG;
	if (!name_chars_ok((const char *)buf + h, vl) || !name_chars_ok((const char *)buf + h + vl, dl))
		return -EBADMSG;
	r->op = buf[8];
	r->flags = buf[9];
	r->timeout_s = timeout;
	memcpy(r->vm, buf + h, vl);
	memcpy(r->vdev, buf + h + vl, dl);
	return 0;
}

size_t fetch_reply_encode(uint8_t *buf, uint16_t status, const char *text)
{
	size_t n = strlen(text);

	if (n > FETCH_TEXT_MAX)
		n = FETCH_TEXT_MAX;
	memcpy(buf, REPLY_MAGIC, 8);
	buf[8] = (uint8_t)status;
	buf[9] = (uint8_t)(status >> 8);
	buf[10] = buf[11] = 0;
	memcpy(buf + FETCH_REPLY_HDR, text, n);
	return FETCH_REPLY_HDR + n;
}

int fetch_reply_decode(const uint8_t *buf, size_t len, uint16_t *status, const char **text,
		       size_t *text_len)
{
	if (len < FETCH_REPLY_HDR || len > FETCH_REPLY_MAX || memcmp(buf, REPLY_MAGIC, 8))
		return -EBADMSG;
	*status = (uint16_t)(buf[8] | buf[9] << 8);
	*text = (const char *)buf + FETCH_REPLY_HDR;
	*text_len = len - FETCH_REPLY_HDR;
	return 0;
}

const char *fetch_request_fields_check(const struct fetch_request *r)
{
	switch (r->op) {
	case FETCH_OP_DISK:
		if (r->flags & ~(FETCH_FLAG_WARM | FETCH_FLAG_DELTA))
			return "flags that a disk copy does not take";
		return r->timeout_s ? "a timeout that a disk copy does not take" : NULL;
	case FETCH_OP_SHUTDOWN:
		if (r->flags & ~FETCH_FLAG_FORCE)
			return "flags that a shutdown does not take";
		if (r->vdev[0])
			return "a disk that a shutdown does not take";
		if (!r->timeout_s || r->timeout_s > FETCH_TIMEOUT_MAX)
			return "a timeout out of range (1 to 3600 s)";
		return NULL;
	default:
		if (r->flags || r->timeout_s || r->vdev[0])
			return "flags, a timeout or a disk that it does not take";
		return NULL;
	}
}

bool fetch_vm_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= FETCH_NAME_MAX && name[0] != '.' && !strchr(name, '/') &&
	       name_chars_ok(name, n);
}

static void set_rcv_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Receives one message with a receive timeout, then clears it (the stream
 * that follows has its own). -ETIMEDOUT when nothing came. */
static int recv_bounded(struct stream_chan *ch, int fd, int timeout_ms, uint8_t *buf, size_t cap,
			size_t *len)
{
	int r;

	set_rcv_timeout(fd, timeout_ms);
	r = chan_recv(ch, fd, buf, cap, len);
	set_rcv_timeout(fd, 0);
	if (r == -EAGAIN || r == -EWOULDBLOCK)
		r = -ETIMEDOUT;
	return r;
}

int fetch_send_request(struct stream_chan *ch, int fd, const struct fetch_request *r)
{
	uint8_t buf[FETCH_REQUEST_MAX];
	size_t n = fetch_request_encode(buf, r);

	if (!n)
		return -ENAMETOOLONG;
	return chan_send(ch, fd, buf, n, NULL, 0);
}

int fetch_recv_request(struct stream_chan *ch, int fd, int timeout_ms, struct fetch_request *r)
{
	uint8_t buf[FETCH_REQUEST_MAX];
	size_t len;
	int e;

	e = recv_bounded(ch, fd, timeout_ms, buf, sizeof(buf), &len);
	if (e < 0)
		return e;
	return fetch_request_decode(buf, len, r);
}

int fetch_send_reply(struct stream_chan *ch, int fd, uint16_t status, const char *text)
{
	uint8_t *buf = malloc(FETCH_REPLY_MAX);
	size_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	n = fetch_reply_encode(buf, status, text);
	r = chan_send(ch, fd, buf, n, NULL, 0);
	free(buf);
	return r;
}

int fetch_recv_reply(struct stream_chan *ch, int fd, int timeout_ms, uint16_t *status,
		     char *text, size_t cap)
{
	uint8_t *buf = malloc(FETCH_REPLY_MAX);
	const char *t;
	size_t len, tl;
	int r;

	if (!buf)
		return -ENOMEM;
	r = recv_bounded(ch, fd, timeout_ms, buf, FETCH_REPLY_MAX, &len);
	if (r == 0)
		r = fetch_reply_decode(buf, len, status, &t, &tl);
	if (r == 0 && cap) {
		if (tl >= cap)
			tl = cap - 1;
		memcpy(text, t, tl);
		text[tl] = '\0';
	}
	free(buf);
	return r;
}

int fetch_call(struct stream_chan *ch, int fd, const struct fetch_request *r, int timeout_ms,
	       uint16_t *status, char *text, size_t cap)
{
	int e = fetch_send_request(ch, fd, r);

	return e < 0 ? e : fetch_recv_reply(ch, fd, timeout_ms, status, text, cap);
}
