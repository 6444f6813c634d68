/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TCP GRO on the delivery side (docs/PROTOCOL.md, "GRO on delivery"): the
 * frames one receive round delivers to a TAP, consecutive TCP segments of
 * one flow coalesced into one super-frame with its virtio_net_hdr (gso_type
 * TCPV4/TCPV6, NEEDS_CSUM, the TCP checksum field holding the pseudo-header
 * sum), so that one write carries up to 64 KiB. The rules are Linux's
 * (net/ipv4/tcp_offload.c tcp_gro_receive, inet_gro_receive), the shape
 * wireguard-go's (tun/offload_linux.go): untagged Ethernet, IPv4 without
 * options nor fragments or IPv6 without extension headers, the same
 * Ethernet header, IP fields (TOS, TTL, DF / traffic class, flow label, hop
 * limit), ACK number, window, TCP header and options; flags ACK only (PSH
 * ends a super-frame, anything else is never coalesced), contiguous
 * sequence numbers, equal payloads but a shorter last one, IPv4 IDs
 * incrementing by one (or all 0 with DF), checksums verified, at most
 * 65535 bytes of IP packet. The kernel's segmentation of the super-frame
 * gives back the frames that went in.
 *
 * A small table of flows per queue, each with its own buffer; pure byte
 * work (the writes are the caller's, through emit), unit-tested and fuzzed.
 */
#ifndef BRIDGED_TUNNEL_GRO_H
#define BRIDGED_TUNNEL_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/vnet.h"

#define GRO_FLOWS 8
/* gro_add flags: UDP datagrams of a flow coalesced too (into UDP_L4
 * super-frames), for a TAP that takes them (TUN_F_USO4 / TUN_F_USO6) */
#define GRO_UDP4 1u
#define GRO_UDP6 2u
/* at most this many datagrams in one UDP super-frame (the kernel's
 * UDP_MAX_SEGMENTS is 128) */
#define GRO_UDP_SEGS_MAX 64
#define GRO_IP_MAX 65535
#define GRO_FRAME_MAX (14 + GRO_IP_MAX)

/* Writes one frame: hdr (VNET_HDR_LEN bytes: zero, or the super-frame's),
 * then the Ethernet frame; segs: how many frames that went in it carries. */
typedef void (*gro_emit_fn)(void *ctx, void *owner, int fd, const uint8_t *hdr, const uint8_t *frame,
			    size_t len, unsigned segs);

struct gro_flow {
	void *owner;                   /* NULL: free */
	int fd;
	uint8_t *buf;                  /* VNET_HDR_LEN + GRO_FRAME_MAX: header room, the frame */
	size_t len;                    /* the frame's bytes so far */
	size_t l4, hlen;               /* where TCP starts, where the payload starts */
	uint16_t gso_size, id0;
	uint32_t next_seq;
	unsigned segs;
	bool v6, udp, id_fixed;
	uint64_t stamp;                /* order of opening: the oldest goes first */
};

struct gro_table {
	struct gro_flow f[GRO_FLOWS];
	uint8_t *mem;                  /* the flows' buffers, allocated on first use */
	uint64_t clock;
};

void gro_free(struct gro_table *t);
/* A frame (Ethernet) for owner's fd, hdr its virtio_net_hdr (NULL: none,
 * a plain frame): true when it was taken (held in a flow, or written
 * through emit); false when the caller writes it itself (not a candidate),
 * after anything held of its flow was emitted. A frame with a partial
 * checksum (NEEDS_CSUM at the TCP checksum) or DATA_VALID is trusted, any
 * other's TCP checksum verified; one with gso_type set is never coalesced. */
bool gro_add(struct gro_table *t, void *owner, int fd, const uint8_t *hdr, const uint8_t *frame, size_t len,
	     unsigned flags, gro_emit_fn emit, void *ctx);
/* Emits everything held (the end of a batch). */
void gro_flush(struct gro_table *t, gro_emit_fn emit, void *ctx);
/* Whether anything is held. */
bool gro_pending(const struct gro_table *t);

#endif
