/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The data path: frames between the TAP ports and the UDP socket, through
 * the tunnel engine, in batches (up to TUNNEL_QUEUE_BATCH frames read from
 * a TAP or datagrams received with recvmmsg before the engine runs, the
 * resulting datagrams sent with one sendmmsg).
 *
 * A queue holds everything one thread of the data path needs (the socket,
 * the receive buffers, the send batch): the daemon has one per worker
 * thread (bridged/workers.c), each reading its own queue of every
 * multi-queue TAP. A port is one TAP (one peer, one segment), embedded in
 * its owner. The owner's filters (the
 * daemon's loop guard and storm limit) plug in through a const ops table
 * (the systemd NetDevVTable / tinc devops_t shape): the data path never
 * reaches into its owner's state.
 */
#ifndef BRIDGED_TUNNEL_DATAPATH_H
#define BRIDGED_TUNNEL_DATAPATH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tunnel/gro.h"
#include "tunnel/tunnel.h"

#define TUNNEL_QUEUE_BATCH 64
/* queues of a multi-queue TAP (IFF_MULTI_QUEUE), one per worker */
#define TUNNEL_QUEUES_MAX 8
#define TUNNEL_FLOW_SLOTS 256
/* a GSO super-frame with its virtio_net_hdr, or a UDP GRO train */
#define TUNNEL_FRAME_MAX (65536 + 128)

struct tunnel_port;
struct tunnel_queue;

struct tunnel_port_ops {
	/* A frame read from the port's TAP, before it goes into the tunnel:
	 * false drops it. It may be changed in place and grow up to cap. */
	bool (*from_tap)(struct tunnel_port *p, uint8_t *frame, size_t *len, size_t cap,
			 uint64_t now);
	/* A frame out of the tunnel, before it is written to the port's TAP:
	 * false drops it. */
	bool (*to_tap)(struct tunnel_port *p, const uint8_t *frame, size_t len, uint64_t now);
	/* Optional: a datagram that is not data (a handshake message) is
	 * handed here instead of to the engine, for the owner's control
	 * thread (called with the queue's lock held). */
	void (*control)(struct tunnel_queue *q, const uint8_t *pkt, size_t len,
			const struct sockaddr *src, socklen_t src_len);
};

/* One TAP of the data path, embedded in its owner (container_of). */
struct tunnel_port {
	int fd;                        /* the TAP (its first queue), -1: closed */
	/* a multi-queue TAP: one fd per queue (qfd[0] == fd); queue i reads
	 * qfd[i], frames out of the tunnel go to the queue of their flow */
	int qfd[TUNNEL_QUEUES_MAX];
	unsigned n_qfd;                /* 0 or 1: a single-queue TAP, fd only */
	struct tunnel_peer *peer;
	size_t seg;                    /* the peer's segment index */
	bool vnet;                     /* opened with IFF_VNET_HDR (tap_open_vnet) */
	unsigned offload;              /* TUN_F_* bits on now (tap_set_offload) */
	uint64_t write_drops;          /* the TAP would not take a frame */
	uint64_t read_drops;           /* read errors on the TAP */
	uint64_t gso_read, gso_written; /* super-frames (gso_type set) each way */
	uint64_t csum_completed;       /* partial checksums completed here */
	uint64_t gso_drops;            /* super-frames for a peer that takes none */
	/* A multi-queue TAP: the queue (+1; 0: none yet) each flow (by
	 * tunnel_frame_flow_hash, which is the same both ways) was last read
	 * from. Its other direction is written to that queue: the kernel steers
	 * a flow to the queue its frames were last written to, so the flow
	 * stays on the queue it started on instead of moving to our hash's
	 * queue with its first answer (two workers would then read it at once,
	 * out of order). Bytes read and written with relaxed atomics. */
	uint8_t flow_q[TUNNEL_FLOW_SLOTS];
};

/* What one queue's syscalls carried: frames per read/write, datagrams per
 * sendmmsg/recvmmsg (and per UDP GSO/GRO train). */
struct tunnel_queue_stats {
	uint64_t tap_reads, tap_frames, tap_superframes;
	uint64_t tap_writes, tap_written_superframes;
	uint64_t udp_send_calls, udp_sent_msgs, udp_sent_dgrams;
	uint64_t udp_recv_calls, udp_recv_msgs, udp_recv_dgrams;
	uint64_t drops;                /* frames and datagrams this queue lost (TAP and UDP errors) */
	uint64_t udp_too_big;          /* of them, datagrams over the path MTU (EMSGSIZE) */
	/* GRO on delivery (tunnel/gro.h): frames coalesced, the super-frames they made */
	uint64_t gro_frames, gro_superframes;
	/* TAP reads on the ring (frames and -EAGAIN alike) and the
	 * io_uring_enter calls that made them; tap_reader: which reader the
	 * queue's thread has (TUNNEL_TAP_READER_*) */
	uint64_t tap_ring_reads, tap_ring_calls;
	unsigned tap_reader;
};
enum { TUNNEL_TAP_READER_NONE, TUNNEL_TAP_READER_READ, TUNNEL_TAP_READER_URING };

struct io_uring;

struct tunnel_queue {
	struct tunnel *tunnel;
	int udp_fd;
	const struct tunnel_port_ops *ops;
	struct tunnel_batch batch;     /* datagrams waiting for sendmmsg */
	bool udp_gso;                  /* UDP_SEGMENT works on udp_fd */
	bool udp_gro;                  /* UDP_GRO is on for udp_fd */
	bool tap_gro;                  /* TCP segments delivered in one round coalesced (gro.h) */
	bool in_round;                 /* delivering a receive round: GRO may hold frames */
	bool write_now;                /* the round's end, the lock let go: no write_later */
	struct gro_table gro;
	struct tunnel_queue_stats st;
	uint8_t (*buf)[TUNNEL_FRAME_MAX]; /* TUNNEL_QUEUE_BATCH frame / datagram buffers */
	uint64_t now;                  /* monotonic time of the batch being handled */
	unsigned index;                /* which queue of multi-queue TAPs it reads */
	bool own_queue;                /* a flow never read goes to its own TAP queue (Steering = cpu) */
	/* Shared with the other queues' threads: taken around the engine and
	 * the ops, never around a syscall (delivered frames are written after
	 * it, from wbuf). NULL: one thread, no lock, frames written at once. */
	pthread_mutex_t *lock;
	/* With a lock: frames delivered under it are copied here and written
	 * to their TAPs once it is let go (a TAP write runs the far side's
	 * whole receive path in the writer's time). */
	uint8_t *wbuf;                 /* TUNNEL_WBUF_BYTES */
	size_t wbuf_used, n_w;
	struct tunnel_wpending {
		struct tunnel_port *port;
		int fd;
		size_t off, len;
		bool super;            /* a super-frame (counted when written) */
	} *w;                          /* TUNNEL_WBUF_FRAMES */
	/* The kernel refused datagrams as too big (flush, maybe under the
	 * lock, maybe not): the path MTU it reported, told to the engine the
	 * next time this queue takes the lock (tunnel_path_mtu). */
	bool pmtu_pending;
	unsigned pmtu;
	struct sockaddr_storage pmtu_dst;
	socklen_t pmtu_dst_len;
	/* Batched TAP reads: many read SQEs in one io_uring_enter (the
	 * reading thread's; set up on its first read, NULL when io_uring is
	 * not to be had, then read(2) per frame). */
	struct io_uring *ring;
	bool ring_tried;
	unsigned ring_want;            /* reads to submit next (adapts) */
};
#define TUNNEL_WBUF_BYTES (1u << 20)
#define TUNNEL_WBUF_FRAMES 256

int tunnel_queue_init(struct tunnel_queue *q, struct tunnel *t, int udp_fd,
		      const struct tunnel_port_ops *ops);
void tunnel_queue_free(struct tunnel_queue *q);
/* Sends what the batch holds. */
void tunnel_queue_flush(struct tunnel_queue *q);
/* The batch with room for at least n more datagrams (flushed if need be),
 * for the engine's timers. */
struct tunnel_batch *tunnel_queue_batch(struct tunnel_queue *q, size_t n);
/* The TAP fd that frame (an Ethernet frame) is written to: with several
 * queues the one its flow was last read from (flow_q), else queue own
 * (the writer's, when it is >= 0) or the one of its hash (symmetric in
 * addresses and ports), so that the kernel, which sends a flow out
 * through the queue its other direction was last written to, keeps each
 * flow on one queue. */
int tunnel_port_fd_for(const struct tunnel_port *p, const uint8_t *frame, size_t len, int own);
/* A frame of its flow was read from queue qi of p: the flow's other
 * direction is written to that queue from now on (flow_q). */
void tunnel_port_flow_read(struct tunnel_port *p, unsigned qi, const uint8_t *frame, size_t len);
/* A symmetric flow hash of an Ethernet frame (0 for what is not IP). */
uint32_t tunnel_frame_flow_hash(const uint8_t *frame, size_t len);
/* The port's TAP is readable: reads, filters, encapsulates and sends,
 * bounded (4 batches) so one busy TAP cannot starve the rest. */
void tunnel_queue_tap_ready(struct tunnel_queue *q, struct tunnel_port *p);
/* The UDP socket is readable: receives and hands the datagrams to the
 * engine, which delivers frames (tunnel_port_deliver), bounded likewise. */
void tunnel_queue_udp_ready(struct tunnel_queue *q);
/* Sends one frame of the owner's own (a probe) through the port's tunnel;
 * it leaves with the next flush. */
int tunnel_queue_send_frame(struct tunnel_queue *q, struct tunnel_port *p, const uint8_t *frame,
			    size_t len, uint64_t now);
/* A frame the engine delivered for the port: filtered, written to its TAP. */
void tunnel_port_deliver(struct tunnel_queue *q, struct tunnel_port *p, const uint8_t *frame,
			 size_t len);
/* The same for a frame preceded by its virtio_net_hdr (a GSO frame). */
void tunnel_port_deliver_vnet(struct tunnel_queue *q, struct tunnel_port *p, const uint8_t *frame,
			      size_t len);
/* Writes the frames delivered under the lock (a no-op without one). */
void tunnel_queue_write_pending(struct tunnel_queue *q);
/* Turns UDP_SEGMENT / UDP_GRO on for the queue's socket where the kernel
 * has them; sets q->udp_gso / q->udp_gro; and GRO on delivery (q->tap_gro)
 * with want. */
void tunnel_queue_udp_offload(struct tunnel_queue *q, bool want);

#endif
