/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The data path between TAPs, the tunnel engine and UDP (datapath.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "tunnel/datapath.h"
#include "tunnel/udp.h"

#define ROUNDS_MAX 4
/* A probe grows by one hop on its way: room kept when reading a TAP. */
#define FRAME_GROWTH 64

int tunnel_queue_init(struct tunnel_queue *q, struct tunnel *t, int udp_fd,
		      const struct tunnel_port_ops *ops)
{
	int r;

	memset(q, 0, sizeof(*q));
	q->tunnel = t;
	q->udp_fd = udp_fd;
	q->ops = ops;
	r = tunnel_batch_init(&q->batch, 256);
	if (r < 0)
		return r;
	q->buf = calloc(TUNNEL_QUEUE_BATCH, sizeof(*q->buf));
	if (!q->buf) {
		tunnel_batch_free(&q->batch);
		return -ENOMEM;
	}
	return 0;
}

void tunnel_queue_free(struct tunnel_queue *q)
{
	tunnel_batch_free(&q->batch);
	free(q->buf);
	q->buf = NULL;
}

void tunnel_queue_flush(struct tunnel_queue *q)
{
	if (q->batch.n)
		udp_send_batch(q->udp_fd, &q->batch);
	tunnel_batch_reset(&q->batch);
}

struct tunnel_batch *tunnel_queue_batch(struct tunnel_queue *q, size_t n)
{
	if (q->batch.n + n > q->batch.cap)
		tunnel_queue_flush(q);
	return &q->batch;
}

void tunnel_queue_tap_ready(struct tunnel_queue *q, struct tunnel_port *p)
{
	struct iovec iov[TUNNEL_QUEUE_BATCH];
	size_t n = 0, rounds = 0;

	while (rounds++ < ROUNDS_MAX) {
		size_t off = 0, reads = 0;
		bool more = true;
		uint64_t now = q->now = now_ns();

		n = 0;
		/* bounded in reads too: dropped frames (blocked port, storm)
		 * must not keep this loop going */
		while (n < TUNNEL_QUEUE_BATCH && reads++ < 2 * TUNNEL_QUEUE_BATCH) {
			ssize_t r = read(p->fd, q->buf[n], TUNNEL_FRAME_MAX - FRAME_GROWTH);
			size_t len;

			if (r < 0) {
				if (errno != EAGAIN && errno != EINTR) {
					p->read_drops++;
					log_debug("tap fd %d: read: %s", p->fd, strerror(errno));
				}
				more = false;
				break;
			}
			len = (size_t)r;
			if (!q->ops->from_tap(p, q->buf[n], &len, TUNNEL_FRAME_MAX, now))
				continue;
			iov[n].iov_base = q->buf[n];
			iov[n].iov_len = len;
			n++;
		}
		if (!n && !more)
			break;
		while (off < n) {
			size_t taken = 0, before = q->batch.n;
			int r = tunnel_encap(p->peer, p->seg, iov + off, n - off, now, &q->batch, &taken);

			off += taken;
			if (r == -ENOBUFS || q->batch.n == q->batch.cap) {
				tunnel_queue_flush(q);
				if (!taken && r == -ENOBUFS && before == 0) {
					/* no progress even into an empty batch: give up
					 * on this frame rather than spin */
					p->write_drops++;
					off++;
				}
				continue;
			}
			if (r < 0) {
				log_debug("tap fd %d: encap: %s", p->fd, strerror(-r));
				break;
			}
			if (!taken)
				break;
		}
		tunnel_queue_flush(q);
		if (!more)
			break;
	}
}

void tunnel_queue_udp_ready(struct tunnel_queue *q)
{
	struct mmsghdr msgs[TUNNEL_QUEUE_BATCH];
	struct iovec iov[TUNNEL_QUEUE_BATCH];
	struct sockaddr_storage src[TUNNEL_QUEUE_BATCH];
	int rounds = 0;

	while (rounds++ < ROUNDS_MAX) {
		uint64_t now;
		int n, i;

		for (i = 0; i < TUNNEL_QUEUE_BATCH; i++) {
			iov[i].iov_base = q->buf[i];
			iov[i].iov_len = TUNNEL_FRAME_MAX;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_name = &src[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(src[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(q->udp_fd, msgs, TUNNEL_QUEUE_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		now = q->now = now_ns();
		for (i = 0; i < n; i++)
			/* keep room for the replies one datagram can cause */
			tunnel_receive(q->tunnel, q->buf[i], msgs[i].msg_len,
				       (struct sockaddr *)&src[i], msgs[i].msg_hdr.msg_namelen, now,
				       tunnel_queue_batch(q, 4));
		tunnel_queue_flush(q);
		if (n < TUNNEL_QUEUE_BATCH)
			break;
	}
}

int tunnel_queue_send_frame(struct tunnel_queue *q, struct tunnel_port *p, const uint8_t *frame,
			    size_t len, uint64_t now)
{
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };
	size_t taken = 0;

	return tunnel_encap(p->peer, p->seg, &iov, 1, now, tunnel_queue_batch(q, 8), &taken);
}

void tunnel_port_deliver(struct tunnel_queue *q, struct tunnel_port *p, const uint8_t *frame,
			 size_t len)
{
	if (!q->ops->to_tap(p, frame, len, q->now))
		return;
	if (p->fd < 0 || write(p->fd, frame, len) < 0)
		p->write_drops++;
}
