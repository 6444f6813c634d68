/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Segmentation of a GSO super-frame in user space (docs/PROTOCOL.md,
 * "Super-frames under loss"): the frames the kernel's own segmentation
 * would make of a TCPV4, TCPV6 or UDP_L4 super-frame read from a vnet TAP,
 * each with its headers put right (IPv4 total length, ID and header
 * checksum, IPv6 payload length, TCP sequence number and flags, UDP length)
 * and a partial checksum (NEEDS_CSUM: the L4 checksum field holds the
 * pseudo-header sum) for the receiving end to complete or to coalesce
 * again. Each segment then travels in its own datagram, so a datagram lost
 * on the underlay costs one inner segment, not the whole super-frame.
 *
 * Scope, as GRO on delivery (gro.h): untagged Ethernet, IPv4 (options
 * allowed) or IPv6 without extension headers, the checksum offsets a
 * kernel sets. Anything else is not planned (the caller sends the
 * super-frame whole). Pure byte work, unit-tested and fuzzed.
 */
#ifndef BRIDGED_TUNNEL_TSO_H
#define BRIDGED_TUNNEL_TSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/vnet.h"

/* Longest header a segment can have: Ethernet, IPv4 with options (60) or
 * IPv6 (40), TCP with options (60). */
#define TSO_HDR_MAX (14 + 60 + 60)

struct tso {
	const uint8_t *frame;          /* the Ethernet frame (after its vnet header) */
	size_t len;
	size_t l3, l4, hlen;           /* IP at l3, L4 at l4, payload at hlen */
	size_t mss;                    /* payload bytes per segment (gso_size) */
	unsigned n;                    /* segments */
	bool v6, udp;
};

/* Plans the segments of frame (len bytes) read with vnet header h: 0, or
 * -EINVAL (malformed: offsets or lengths that do not fit), -EPROTONOSUPPORT
 * (not a super-frame this segments: no GSO, another protocol, a VLAN tag,
 * IPv6 extension headers). */
int tso_plan(const struct vnet_hdr *h, const uint8_t *frame, size_t len, struct tso *t);
/* Makes TCP segments of at most mss payload bytes (less than the sender
 * chose, so that a segment fits a datagram: TCP takes any size up to its
 * MSS; UDP datagrams keep theirs). false: not TCP, or mss too small. */
bool tso_set_mss(struct tso *t, size_t mss);
/* Writes segment i's vnet header and headers (VNET_HDR_LEN + t->hlen
 * bytes) to out; its payload is frame[*off, *off + *plen). Returns the
 * bytes written. */
size_t tso_segment(const struct tso *t, unsigned i, uint8_t *out, size_t *off, size_t *plen);

#endif
