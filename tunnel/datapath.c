/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The data path between TAPs, the tunnel engine and UDP (datapath.h). */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "tunnel/datapath.h"
#include "tunnel/tap.h"
#include "tunnel/udp.h"
#include "tunnel/vnet.h"
#include "tunnel/wire.h"

#define ROUNDS_MAX 4
/* A probe grows by one hop on its way: room kept when reading a TAP. */
#define FRAME_GROWTH 64
/* TAP reads on the ring once a batch holds this many frames */
#define RING_MIN 8

/* With the engine's lock held (or on the only thread). */
static void pmtu_apply(struct tunnel_queue *q)
{
	if (!q->pmtu_pending)
		return;
	q->pmtu_pending = false;
	tunnel_path_mtu(q->tunnel, (struct sockaddr *)&q->pmtu_dst, q->pmtu_dst_len, q->pmtu);
}

static void qlock(struct tunnel_queue *q)
{
	if (q->lock)
		pthread_mutex_lock(q->lock);
	pmtu_apply(q);
}

static void qunlock(struct tunnel_queue *q)
{
	if (q->lock)
		pthread_mutex_unlock(q->lock);
}

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

/* The pending writes' buffers, for a queue with a lock (set after init). */
static int wbuf_ensure(struct tunnel_queue *q)
{
	if (q->wbuf)
		return 0;
	q->wbuf = malloc(TUNNEL_WBUF_BYTES);
	q->w = calloc(TUNNEL_WBUF_FRAMES, sizeof(*q->w));
	if (!q->wbuf || !q->w) {
		free(q->wbuf);
		free(q->w);
		q->wbuf = NULL;
		q->w = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void count_write_drop(struct tunnel_queue *q, struct tunnel_port *p)
{
	/* atomic: a worker writes without the lock */
	__atomic_add_fetch(&p->write_drops, 1, __ATOMIC_RELAXED);
	q->st.drops++;
}

void tunnel_queue_write_pending(struct tunnel_queue *q)
{
	for (size_t i = 0; i < q->n_w; i++) {
		struct tunnel_wpending *w = &q->w[i];

		if (write(w->fd, q->wbuf + w->off, w->len) < 0) {
			count_write_drop(q, w->port);
		} else if (w->super) {
			__atomic_add_fetch(&w->port->gso_written, 1, __ATOMIC_RELAXED);
			q->st.tap_written_superframes++;
		}
	}
	q->n_w = 0;
	q->wbuf_used = 0;
}

/* Queues hdr (may be NULL) and frame for fd; false: no room (write now). */
static bool write_later(struct tunnel_queue *q, struct tunnel_port *p, int fd, const uint8_t *hdr,
			size_t hlen, const uint8_t *frame, size_t len, bool super)
{
	struct tunnel_wpending *w;

	if (!q->lock || wbuf_ensure(q) < 0)
		return false;
	if (q->n_w == TUNNEL_WBUF_FRAMES || TUNNEL_WBUF_BYTES - q->wbuf_used < hlen + len) {
		/* full: write what is pending, under the lock this once */
		tunnel_queue_write_pending(q);
		if (TUNNEL_WBUF_BYTES < hlen + len)
			return false;
	}
	w = &q->w[q->n_w++];
	w->port = p;
	w->fd = fd;
	w->off = q->wbuf_used;
	w->len = hlen + len;
	w->super = super;
	if (hlen)
		memcpy(q->wbuf + q->wbuf_used, hdr, hlen);
	memcpy(q->wbuf + q->wbuf_used + hlen, frame, len);
	q->wbuf_used += hlen + len;
	return true;
}

void tunnel_queue_free(struct tunnel_queue *q)
{
	gro_free(&q->gro);
	free(q->wbuf);
	free(q->w);
	q->wbuf = NULL;
	q->w = NULL;
	tunnel_batch_free(&q->batch);
	free(q->buf);
	q->buf = NULL;
	if (q->ring) {
		io_uring_queue_exit(q->ring);
		free(q->ring);
		q->ring = NULL;
	}
}

void tunnel_queue_flush(struct tunnel_queue *q)
{
	if (q->batch.n) {
		struct udp_send_stats ss = { 0 };
		int r = udp_send_batch_gso(q->udp_fd, &q->batch, q->udp_gso, &ss);

		if (r == -EOPNOTSUPP) {
			/* the route's device cannot take UDP GSO: per datagram from now on */
			log_info("udp: UDP_SEGMENT refused by the kernel, sending one datagram per message");
			q->udp_gso = false;
		}
		if (ss.too_big) {
			int mtu = udp_path_mtu((struct sockaddr *)&ss.too_big_dst, ss.too_big_dst_len);

			q->st.udp_too_big += ss.too_big;
			if (mtu > 0) {
				q->pmtu = (unsigned)mtu;
				memcpy(&q->pmtu_dst, &ss.too_big_dst, sizeof(q->pmtu_dst));
				q->pmtu_dst_len = ss.too_big_dst_len;
				q->pmtu_pending = true;
			}
		}
		q->st.udp_send_calls += ss.calls;
		q->st.udp_sent_msgs += ss.msgs;
		q->st.udp_sent_dgrams += ss.dgrams;
		if (ss.dgrams < q->batch.n)
			q->st.drops += q->batch.n - ss.dgrams;
	}
	tunnel_batch_reset(&q->batch);
}

struct tunnel_batch *tunnel_queue_batch(struct tunnel_queue *q, size_t n)
{
	if (q->batch.n + n > q->batch.cap)
		tunnel_queue_flush(q);
	return &q->batch;
}

/* Reads one frame from a vnet TAP into buf: what goes into the tunnel.
 * frame and len: the Ethernet frame; vnet: send it with its header (at
 * frame - VNET_HDR_LEN) as a GSO frame. false: dropped (counted). */
static bool vnet_in(struct tunnel_port *p, uint8_t *buf, size_t n, uint8_t **frame, size_t *len,
		    bool *vnet)
{
	struct vnet_hdr h;

	*vnet = false;
	if (n < VNET_HDR_LEN + 14) {
		p->read_drops++;
		return false;
	}
	*frame = buf + VNET_HDR_LEN;
	*len = n - VNET_HDR_LEN;
	vnet_hdr_decode(buf, &h);
	if (vnet_hdr_plain(&h))
		return true;
	if (h.gso_type != VNET_GSO_NONE)
		p->gso_read++;
	if (tunnel_peer_gso(p->peer) &&
	    ((h.gso_type & ~VNET_GSO_ECN) != VNET_GSO_UDP_L4 || tunnel_peer_uso(p->peer))) {
		*vnet = true;
		return true;
	}
	/* offloads just turned off for this peer, frames still queued */
	if (h.gso_type != VNET_GSO_NONE) {
		p->gso_drops++;
		return false;
	}
	if (vnet_csum_complete(*frame, *len, h.csum_start, h.csum_offset) < 0) {
		p->read_drops++;
		return false;
	}
	p->csum_completed++;
	return true;
}

/* The TAP reader: io_uring (the default) or read(2) per frame
 * (BRIDGED_TAP_READER=read, or where io_uring is not to be had: an old
 * kernel, kernel.io_uring_disabled). */
static void ring_setup(struct tunnel_queue *q)
{
	const char *e = getenv("BRIDGED_TAP_READER");
	struct io_uring *r;
	int err;

	q->ring_tried = true;
	if (e && !strcmp(e, "read"))
		return;
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	err = io_uring_queue_init(TUNNEL_QUEUE_BATCH, r, 0);
	if (err < 0) {
		log_debug("tap reads: io_uring: %s, read(2) per frame", strerror(-err));
		free(r);
		return;
	}
	q->ring = r;
}

struct tap_read_counts {
	size_t errs;                   /* failed reads */
	size_t ring_reads, ring_calls; /* reads on the ring (frames, -EAGAIN, errors), calls */
};

/* Up to TUNNEL_QUEUE_BATCH frames from fd, in their order: pointers in
 * fb[], lengths in got[]. On the ring, q->ring_want reads go in one
 * io_uring_enter, each with RWF_NOWAIT: a read finding no frame
 * completes at once with -EAGAIN (never parked on the ring). *more: the
 * TAP may hold more; *c: what the reads did. */

static size_t tap_read_frames(struct tunnel_queue *q, int fd, uint8_t *fb[], size_t got[],
			      bool *more, struct tap_read_counts *c)
{
	size_t nr = 0;
	ssize_t res[TUNNEL_QUEUE_BATCH];
	unsigned want, done = 0, i;
	int r;

	*more = true;
	if (!q->ring_tried)
		ring_setup(q);
	/* the ring for a backlog (the last batch held RING_MIN frames or
	 * more): one or two frames at a time, read(2) costs less than a
	 * batch that finds the TAP empty */
	if (!q->ring || q->ring_want < RING_MIN) {
		/* each read either adds a frame or ends the batch */
		while (nr < TUNNEL_QUEUE_BATCH) {
			ssize_t n = read(fd, q->buf[nr], TUNNEL_FRAME_MAX - FRAME_GROWTH);

			if (n < 0) {
				if (errno != EAGAIN && errno != EINTR) {
					c->errs++;
					log_debug("tap fd %d: read: %s", fd, strerror(errno));
				}
				*more = false;
				break;
			}
			fb[nr] = q->buf[nr];
			got[nr++] = (size_t)n;
		}
		q->ring_want = nr >= RING_MIN ? (unsigned)nr : 0;
		return nr;
	}
	want = q->ring_want;
	for (i = 0; i < want; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(q->ring);

		if (!sqe)
			break;
		io_uring_prep_read(sqe, fd, q->buf[i], TUNNEL_FRAME_MAX - FRAME_GROWTH, (__u64)-1);
		/* never parked on the ring: no frame, -EAGAIN at once */
		sqe->rw_flags = RWF_NOWAIT;
		sqe->user_data = i;
		res[i] = -EAGAIN;
	}
	want = i;
	/* the reads run inline in the submitting call: every one has
	 * completed when it returns */
	do
		r = io_uring_submit(q->ring);
	while (r == -EINTR);
	c->ring_calls++;
	while (done < want) {
		struct io_uring_cqe *cqe;

		if (io_uring_peek_cqe(q->ring, &cqe) < 0)
			break;
		if (cqe->user_data < TUNNEL_QUEUE_BATCH)
			res[cqe->user_data] = cqe->res;
		c->ring_reads++;
		if (cqe->res == -EOPNOTSUPP || cqe->res == -EINVAL)
			r = cqe->res;
		io_uring_cqe_seen(q->ring, cqe);
		done++;
	}
	if (r < 0 || done < want) {
		/* refused, or a read left in flight (a kernel that parks it):
		 * read(2) from now on; what the ring read is kept */
		log_warnx("tap reads: io_uring: %s, read(2) per frame from now on",
			  r < 0 ? strerror(-r) : "a read did not complete at once");
		io_uring_queue_exit(q->ring);   /* cancels and waits for what is left */
		free(q->ring);
		q->ring = NULL;
		if (r < 0 && !done)
			return tap_read_frames(q, fd, fb, got, more, c);
	}
	for (i = 0; i < want; i++) {
		if (res[i] < 0) {
			/* a read the ring refused is no lost frame: the frame
			 * stays in the TAP for read(2) */
			if (res[i] != -EAGAIN && res[i] != -EINTR && !(r < 0 && res[i] == r)) {
				c->errs++;
				log_debug("tap fd %d: read: %s", fd, strerror((int)-res[i]));
			}
			continue;
		}
		fb[nr] = q->buf[i];
		got[nr++] = (size_t)res[i];
	}
	/* the TAP emptied before the batch did: the next batch is about the
	 * size of this one; a full batch doubles the next */
	*more = nr == want;
	if (nr == want)
		q->ring_want = want * 2 > TUNNEL_QUEUE_BATCH ? TUNNEL_QUEUE_BATCH : want * 2;
	else
		q->ring_want = nr + 4 > TUNNEL_QUEUE_BATCH ? TUNNEL_QUEUE_BATCH : (unsigned)nr + 4;
	if (nr < RING_MIN)
		q->ring_want = 0;
	return nr;
}

void tunnel_queue_tap_ready(struct tunnel_queue *q, struct tunnel_port *p)
{
	struct iovec iov[TUNNEL_QUEUE_BATCH];
	bool vnet[TUNNEL_QUEUE_BATCH];
	size_t got[TUNNEL_QUEUE_BATCH];
	uint8_t *fb[TUNNEL_QUEUE_BATCH];
	size_t n = 0, rounds = 0;
	unsigned qi = p->n_qfd > 1 && q->index < p->n_qfd ? q->index : 0;
	int fd = p->n_qfd > 1 ? p->qfd[qi] : p->fd;

	while (rounds++ < ROUNDS_MAX) {
		size_t off = 0, k, nr;
		struct tap_read_counts c = { 0 };
		bool more, any_vnet = false;
		uint64_t now = q->now = now_ns();

		n = 0;
		/* the reads first, without the lock: bounded in reads too
		 * (dropped frames: a blocked port, a storm) */
		nr = tap_read_frames(q, fd, fb, got, &more, &c);
		if (!nr && !more && !c.errs && !c.ring_calls)
			break;
		qlock(q);
		p->read_drops += c.errs;
		q->st.drops += c.errs;
		q->st.tap_reads += nr;
		q->st.tap_ring_reads += c.ring_reads;
		q->st.tap_ring_calls += c.ring_calls;
		q->st.tap_reader = q->ring ? TUNNEL_TAP_READER_URING : TUNNEL_TAP_READER_READ;
		if (!nr && !more && !c.errs) {
			qunlock(q);
			break;
		}
		for (k = 0; k < nr; k++) {
			uint8_t *frame = fb[k];
			size_t len = got[k];
			bool v = false;

			if (p->vnet && !vnet_in(p, fb[k], len, &frame, &len, &v))
				continue;
			if (p->n_qfd > 1)
				tunnel_port_flow_read(p, qi, frame, len);
			if (!q->ops->from_tap(p, frame, &len,
					      TUNNEL_FRAME_MAX - (size_t)(frame - fb[k]), now))
				continue;
			q->st.tap_frames++;
			if (v) {
				/* the header goes with it, right before it */
				frame -= VNET_HDR_LEN;
				len += VNET_HDR_LEN;
				any_vnet = true;
				if (frame[1] != VNET_GSO_NONE)
					q->st.tap_superframes++;
			}
			iov[n].iov_base = frame;
			iov[n].iov_len = len;
			vnet[n] = v;
			n++;
		}
		while (off < n) {
			size_t taken = 0, before = q->batch.n;
			int r = tunnel_encap_vnet(p->peer, p->seg, iov + off, any_vnet ? vnet + off : NULL,
						  n - off, now, &q->batch, &taken);

			off += taken;
			if (r == -ENOBUFS || q->batch.n == q->batch.cap) {
				/* the batch is this queue's: sent without the lock */
				qunlock(q);
				tunnel_queue_flush(q);
				qlock(q);
				if (!taken && r == -ENOBUFS && before == 0) {
					/* no progress even into an empty batch: give up
					 * on this frame rather than spin */
					count_write_drop(q, p);
					off++;
				}
				continue;
			}
			if (r < 0) {
				log_debug("tap fd %d: encap: %s", fd, strerror(-r));
				break;
			}
			if (!taken)
				break;
		}
		qunlock(q);
		tunnel_queue_flush(q);
		if (!more)
			break;
	}
}

void tunnel_queue_udp_offload(struct tunnel_queue *q, bool want)
{
	int one = 1, zero = 0;

	q->udp_gso = q->udp_gro = false;
	q->tap_gro = want;
	if (!want) {
		setsockopt(q->udp_fd, SOL_UDP, UDP_GRO, &zero, sizeof(zero));
		return;
	}
	q->udp_gso = udp_gso_supported(q->udp_fd);
	q->udp_gro = setsockopt(q->udp_fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
}

static void gro_write(void *ctx, void *owner, int fd, const uint8_t *hdr, const uint8_t *frame,
		      size_t len, unsigned segs);

void tunnel_queue_udp_ready(struct tunnel_queue *q)
{
	struct mmsghdr msgs[TUNNEL_QUEUE_BATCH];
	struct iovec iov[TUNNEL_QUEUE_BATCH];
	struct sockaddr_storage src[TUNNEL_QUEUE_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[TUNNEL_QUEUE_BATCH];
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
			if (q->udp_gro) {
				msgs[i].msg_hdr.msg_control = ctl[i].buf;
				msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
			}
		}
		n = recvmmsg(q->udp_fd, msgs, TUNNEL_QUEUE_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		q->st.udp_recv_calls++;
		q->st.udp_recv_msgs += (uint64_t)n;
		now = q->now = now_ns();
		qlock(q);
		q->in_round = q->tap_gro;
		for (i = 0; i < n; i++) {
			size_t len = msgs[i].msg_len, seg = len, off;
			struct cmsghdr *c;

			/* a GRO train: datagrams of gso_size bytes, the last shorter */
			for (c = q->udp_gro ? CMSG_FIRSTHDR(&msgs[i].msg_hdr) : NULL; c;
			     c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
				if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
					int g;

					memcpy(&g, CMSG_DATA(c), sizeof(g));
					if (g > 0)
						seg = (size_t)g;
				}
			for (off = 0; off < len; off += seg) {
				const uint8_t *pkt = q->buf[i] + off;
				size_t plen = len - off < seg ? len - off : seg;

				q->st.udp_recv_dgrams++;
				if (q->ops->control && plen && pkt[0] != WIRE_TYPE_DATA) {
					/* a handshake message: for the control thread */
					q->ops->control(q, pkt, plen, (struct sockaddr *)&src[i],
							msgs[i].msg_hdr.msg_namelen);
					continue;
				}
				/* keep room for the replies one datagram can cause */
				tunnel_receive(q->tunnel, pkt, plen, (struct sockaddr *)&src[i],
					       msgs[i].msg_hdr.msg_namelen, now, tunnel_queue_batch(q, 4));
			}
		}
		q->in_round = false;
		qunlock(q);
		/* what was written before the flows' rest, in order */
		tunnel_queue_write_pending(q);
		q->write_now = true;
		gro_flush(&q->gro, gro_write, q);
		q->write_now = false;
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

	pmtu_apply(q);
	return tunnel_encap(p->peer, p->seg, &iov, 1, now, tunnel_queue_batch(q, 8), &taken);
}

/* Writes hdr (VNET_HDR_LEN bytes) and frame to fd: later (after the lock)
 * with a lock, at once without; counted. */
static void write_vnet(struct tunnel_queue *q, struct tunnel_port *p, int fd, const uint8_t *hdr,
		       const uint8_t *frame, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)hdr, .iov_len = VNET_HDR_LEN },
		{ .iov_base = (void *)frame, .iov_len = len },
	};
	bool super = hdr[1] != VNET_GSO_NONE;

	q->st.tap_writes++;
	if (fd >= 0 && !q->write_now && write_later(q, p, fd, hdr, VNET_HDR_LEN, frame, len, super))
		return;
	if (fd < 0 || writev(fd, iov, 2) < 0) {
		count_write_drop(q, p);
	} else if (super) {
		__atomic_add_fetch(&p->gso_written, 1, __ATOMIC_RELAXED);
		q->st.tap_written_superframes++;
	}
}

/* gro_emit_fn: during the round through write_later (in order with the
 * other frames), at its end (the lock let go, the pending frames written)
 * at once. */
static void gro_write(void *ctx, void *owner, int fd, const uint8_t *hdr, const uint8_t *frame,
		      size_t len, unsigned segs)
{
	struct tunnel_queue *q = ctx;

	if (segs > 1) {
		q->st.gro_frames += segs;
		q->st.gro_superframes++;
	}
	write_vnet(q, owner, fd, hdr, frame, len);
}

/* UDP datagrams are coalesced for a TAP that takes UDP super-frames. */
static unsigned gro_udp(const struct tunnel_port *p)
{
	return ((p->offload & TAP_OFFLOAD_USO4) ? GRO_UDP4 : 0) | ((p->offload & TAP_OFFLOAD_USO6) ? GRO_UDP6 : 0);
}

/* The TAP fd a delivered frame goes to (tunnel_port_fd_for): a flow never
 * read here goes to this worker's own queue when it keeps to a CPU
 * (Steering = cpu: the kernel then sends the flow's other direction
 * through that queue, to this worker, on this CPU). */
static int deliver_fd(const struct tunnel_queue *q, const struct tunnel_port *p, const uint8_t *frame,
		      size_t len)
{
	return tunnel_port_fd_for(p, frame, len, q->own_queue ? (int)q->index : -1);
}

void tunnel_port_deliver(struct tunnel_queue *q, struct tunnel_port *p, const uint8_t *frame,
			 size_t len)
{
	static const uint8_t zero[VNET_HDR_LEN];
	int fd;

	if (!q->ops->to_tap(p, frame, len, q->now))
		return;
	fd = deliver_fd(q, p, frame, len);
	if (!p->vnet) {
		q->st.tap_writes++;
		if (fd >= 0 && write_later(q, p, fd, NULL, 0, frame, len, false))
			return;
		if (fd < 0 || write(fd, frame, len) < 0)
			count_write_drop(q, p);
		return;
	}
	if (fd >= 0 && q->in_round && gro_add(&q->gro, p, fd, NULL, frame, len, gro_udp(p), gro_write, q))
		return;
	write_vnet(q, p, fd, zero, frame, len);
}

void tunnel_port_deliver_vnet(struct tunnel_queue *q, struct tunnel_port *p, const uint8_t *frame,
			      size_t len)
{
	if (len < VNET_HDR_LEN + 14 || !q->ops->to_tap(p, frame + VNET_HDR_LEN, len - VNET_HDR_LEN, q->now))
		return;
	/* a TAP without the header cannot take it: never the case for a
	 * tunnel port, which the daemon opens with it */
	int fd;

	if (p->fd < 0 || !p->vnet) {
		count_write_drop(q, p);
		return;
	}
	fd = deliver_fd(q, p, frame + VNET_HDR_LEN, len - VNET_HDR_LEN);
	/* a segment with a partial checksum is coalesced like the others; a
	 * super-frame of the sender's goes after what is held of its flow */
	if (q->in_round && gro_add(&q->gro, p, fd, frame, frame + VNET_HDR_LEN, len - VNET_HDR_LEN, gro_udp(p),
					 gro_write, q))
		return;
	write_vnet(q, p, fd, frame, frame + VNET_HDR_LEN, len - VNET_HDR_LEN);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Symmetric: a and b, the two ends, commute (sum and xor), so both
 * directions of a flow hash alike. */
static uint32_t mix2(uint32_t h, uint32_t a, uint32_t b)
{
	h ^= (a + b) * 0x9e3779b1u;
	h = (h << 13 | h >> 19) * 5 + 0xe6546b64u;
	h ^= (a ^ b) * 0x85ebca6bu;
	return (h << 13 | h >> 19) * 5 + 0xe6546b64u;
}

uint32_t tunnel_frame_flow_hash(const uint8_t *f, size_t len)
{
	size_t off = 14, l4 = 0;
	uint32_t h = 0x2545f491u;
	unsigned et, proto = 0;

	if (len < 14)
		return 0;
	et = (unsigned)f[12] << 8 | f[13];
	if ((et == 0x8100 || et == 0x88a8) && len >= 18) {
		et = (unsigned)f[16] << 8 | f[17];
		off = 18;
	}
	if (et == 0x0800 && len >= off + 20) {
		const uint8_t *ip = f + off;

		proto = ip[9];
		h = mix2(h, get32(ip + 12), get32(ip + 16));
		/* not a fragment (offset 0, no MF): ports are there */
		if (!((ip[6] & 0x3f) | ip[7]))
			l4 = off + (size_t)(ip[0] & 15) * 4;
	} else if (et == 0x86dd && len >= off + 40) {
		const uint8_t *ip = f + off;

		proto = ip[6];
		for (int i = 0; i < 4; i++)
			h = mix2(h, get32(ip + 8 + 4 * i), get32(ip + 24 + 4 * i));
		l4 = off + 40;
	} else {
		return 0;
	}
	if (l4 && (proto == 6 || proto == 17 || proto == 132) && len >= l4 + 4)
		h = mix2(h ^ proto, (uint32_t)f[l4] << 8 | f[l4 + 1], (uint32_t)f[l4 + 2] << 8 | f[l4 + 3]);
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	return h ? h : 1;
}

int tunnel_port_fd_for(const struct tunnel_port *p, const uint8_t *frame, size_t len, int own)
{
	uint32_t h;
	unsigned slot;

	if (p->n_qfd <= 1 || p->fd < 0)
		return p->fd;
	h = tunnel_frame_flow_hash(frame, len);
	slot = __atomic_load_n(&p->flow_q[h % TUNNEL_FLOW_SLOTS], __ATOMIC_RELAXED);
	if (slot && slot <= p->n_qfd)
		return p->qfd[slot - 1];
	if (own >= 0 && (unsigned)own < p->n_qfd)
		return p->qfd[own];
	return p->qfd[h % p->n_qfd];
}

void tunnel_port_flow_read(struct tunnel_port *p, unsigned qi, const uint8_t *frame, size_t len)
{
	uint8_t *slot = &p->flow_q[tunnel_frame_flow_hash(frame, len) % TUNNEL_FLOW_SLOTS];

	if (__atomic_load_n(slot, __ATOMIC_RELAXED) != qi + 1)
		__atomic_store_n(slot, (uint8_t)(qi + 1), __ATOMIC_RELAXED);
}
