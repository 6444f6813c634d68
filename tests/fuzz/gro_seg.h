/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For the GRO tests (tests/unit/test_tunnel_gro.c, tests/fuzz/fuzz_gro.c):
 * TCP segments built by hand (Ethernet, IPv4 or IPv6, TCP with options,
 * checksums computed in full), and the kernel's segmentation of a TCP GSO
 * super-frame done by hand (net/ipv4/tcp_offload.c tcp_gso_segment,
 * inet_gso_segment: sequence numbers advanced, IDs incremented, PSH on the
 * last only, checksums computed), checking the virtio_net_hdr on the way.
 * The daemon's own segmentation (tunnel/tso.c) is checked against it.
 */
#ifndef BRIDGED_TESTS_GRO_SEG_H
#define BRIDGED_TESTS_GRO_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tunnel/vnet.h"

struct gt_spec {
	bool v6;
	uint8_t src, dst;              /* the addresses' last byte */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;                 /* TCP flags (0x10 ACK) */
	uint16_t id;                   /* IPv4 */
	bool df;                       /* IPv4 don't fragment */
	uint8_t ttl, tos;              /* IPv4 TTL / IPv6 hop limit; TOS / traffic class */
	uint32_t flow_label;           /* IPv6 */
	uint16_t window;
	uint8_t optlen;                /* TCP options bytes (a multiple of 4, <= 40) */
	uint8_t optfill;               /* their content */
	size_t plen;                   /* payload bytes */
	uint8_t fill;                  /* payload: fill + offset in the stream (seq) */
};

static inline void gt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void gt_put32(uint8_t *p, uint32_t v)
{
	gt_put16(p, (uint16_t)(v >> 16));
	gt_put16(p + 2, (uint16_t)v);
}

static inline uint16_t gt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t gt_get32(const uint8_t *p)
{
	return (uint32_t)gt_get16(p) << 16 | gt_get16(p + 2);
}

/* The pseudo-header sum of a TCP segment of l4len bytes in the IP packet ip. */
static inline uint32_t gt_pseudo(const uint8_t *ip, bool v6, size_t l4len)
{
	uint32_t s = v6 ? vnet_csum_add(0, ip + 8, 32) : vnet_csum_add(0, ip + 12, 8);

	return s + 6 + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
}

/* Sets the IPv4 header checksum (if IPv4) and the TCP checksum of frame f. */
static inline void gt_checksums(uint8_t *f, size_t len)
{
	uint8_t *ip = f + 14;
	bool v6 = (ip[0] >> 4) == 6;
	size_t l4 = 14 + (v6 ? 40 : (size_t)(ip[0] & 15) * 4);

	if (!v6) {
		gt_put16(ip + 10, 0);
		gt_put16(ip + 10, (uint16_t)~vnet_csum_fold(vnet_csum_add(0, ip, l4 - 14)));
	}
	gt_put16(f + l4 + 16, 0);
	gt_put16(f + l4 + 16, (uint16_t)~vnet_csum_fold(vnet_csum_add(gt_pseudo(ip, v6, len - l4), f + l4, len - l4)));
}

/* Makes f's TCP checksum partial (the pseudo-header sum, as a sender's
 * kernel leaves it for the device) and fills hdr to say so. */
static inline void gt_partial(uint8_t *f, size_t len, uint8_t hdr[VNET_HDR_LEN])
{
	const uint8_t *ip = f + 14;
	bool v6 = (ip[0] >> 4) == 6;
	size_t l4 = 14 + (v6 ? 40 : (size_t)(ip[0] & 15) * 4);
	struct vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .csum_start = (uint16_t)l4, .csum_offset = 16 };

	gt_put16(f + l4 + 16, vnet_csum_fold(gt_pseudo(ip, v6, len - l4)));
	vnet_hdr_encode(hdr, &h);
}

/* Builds the frame s describes into f; returns its length. */
static inline size_t gt_frame(uint8_t *f, const struct gt_spec *s)
{
	size_t l4 = s->v6 ? 54 : 34, thlen = 20 + s->optlen, len = l4 + thlen + s->plen, i;
	uint8_t *ip = f + 14, *th = f + l4;

	memset(f, 0, l4 + thlen);
	memcpy(f, "\x52\x54\x00\x00\x00\x02\x52\x54\x00\x00\x00\x01", 12);
	if (s->v6) {
		gt_put16(f + 12, 0x86dd);
		gt_put32(ip, 6u << 28 | (uint32_t)s->tos << 20 | (s->flow_label & 0xfffff));
		gt_put16(ip + 4, (uint16_t)(len - l4));
		ip[6] = 6;
		ip[7] = s->ttl;
		memcpy(ip + 8, "\x20\x01\x00\x02", 4);        /* 2001:2::/48 (RFC 5180) */
		memcpy(ip + 24, ip + 8, 15);
		ip[23] = s->src;
		ip[39] = s->dst;
	} else {
		gt_put16(f + 12, 0x0800);
		ip[0] = 0x45;
		ip[1] = s->tos;
		gt_put16(ip + 2, (uint16_t)(len - 14));
		gt_put16(ip + 4, s->id);
		ip[6] = s->df ? 0x40 : 0;
		ip[8] = s->ttl;
		ip[9] = 6;
		memcpy(ip + 12, "\xc6\x12\x00", 3);           /* 198.18.0.0/15 */
		memcpy(ip + 16, ip + 12, 3);
		ip[15] = s->src;
		ip[19] = s->dst;
	}
	gt_put16(th, s->sport);
	gt_put16(th + 2, s->dport);
	gt_put32(th + 4, s->seq);
	gt_put32(th + 8, s->ack);
	th[12] = (uint8_t)(thlen / 4) << 4;
	th[13] = s->flags;
	gt_put16(th + 14, s->window);
	for (i = 0; i < s->optlen; i++)
		th[20 + i] = (uint8_t)(s->optfill + i);
	for (i = 0; i < s->plen; i++)
		f[l4 + thlen + i] = (uint8_t)(s->fill + s->seq + i);
	gt_checksums(f, len);
	return len;
}

/* Segments what was written (hdr, then frame) as the kernel would into out
 * (room for max frames of up to 14 + 65535 bytes each, lens in outlen);
 * returns the number of frames, -1 when the header or the super-frame is
 * not what the kernel takes. */
static inline int gt_segment(const uint8_t hdr[VNET_HDR_LEN], const uint8_t *f, size_t len, uint8_t (*out)[14 + 65535],
			     size_t *outlen, int max)
{
	struct vnet_hdr h;
	const uint8_t *ip = f + 14;
	bool v6;
	size_t l4, hlen, total, off;
	uint16_t id;
	int k = 0;

	vnet_hdr_decode(hdr, &h);
	if (h.gso_type == VNET_GSO_NONE) {
		/* one frame; a partial checksum completed as the device would */
		if (max < 1 || len > 14 + 65535)
			return -1;
		memcpy(out[0], f, len);
		outlen[0] = len;
		if ((h.flags & VNET_F_NEEDS_CSUM) && vnet_csum_complete(out[0], len, h.csum_start, h.csum_offset) < 0)
			return -1;
		return 1;
	}
	if (len < 14 + 40)
		return -1;
	v6 = (ip[0] >> 4) == 6;
	l4 = 14 + (v6 ? 40 : (size_t)(ip[0] & 15) * 4);
	if (h.gso_type != (v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4) || h.flags != VNET_F_NEEDS_CSUM ||
	    h.csum_start != l4 || h.csum_offset != 16 || len < l4 + 20)
		return -1;
	hlen = l4 + (size_t)(f[l4 + 12] >> 4) * 4;
	if (h.hdr_len != hlen || h.gso_size == 0 || len <= hlen)
		return -1;
	/* the lengths and the checksums as CHECKSUM_PARTIAL has them */
	if (v6 ? gt_get16(ip + 4) != len - l4
	       : gt_get16(ip + 2) != len - 14 || vnet_csum_fold(vnet_csum_add(0, ip, l4 - 14)) != 0xffff)
		return -1;
	if (gt_get16(f + l4 + 16) != vnet_csum_fold(gt_pseudo(ip, v6, len - l4)))
		return -1;
	id = v6 ? 0 : gt_get16(ip + 4);
	total = len - hlen;
	for (off = 0; off < total; off += h.gso_size, k++) {
		size_t n = total - off < h.gso_size ? total - off : h.gso_size;
		uint8_t *o;

		if (k == max)
			return -1;
		o = out[k];
		memcpy(o, f, hlen);
		memcpy(o + hlen, f + hlen + off, n);
		outlen[k] = hlen + n;
		if (v6) {
			gt_put16(o + 18, (uint16_t)(hlen + n - l4));
		} else {
			gt_put16(o + 16, (uint16_t)(hlen + n - 14));
			gt_put16(o + 18, (uint16_t)(id + k));
		}
		gt_put32(o + l4 + 4, gt_get32(f + l4 + 4) + (uint32_t)off);
		if (off + n < total)
			o[l4 + 13] &= (uint8_t)~0x09;   /* PSH, FIN: the last only */
		gt_checksums(o, hlen + n);
	}
	return k;
}

/* Whether segmented frame a equals the original frame b; an IPv4 ID of 0
 * with DF may have become any (RFC 6864: it identifies nothing). */
static inline bool gt_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	if (blen >= 34 && gt_get16(b + 12) == 0x0800 && (b[20] & 0x40) && gt_get16(b + 18) == 0)
		return !memcmp(a, b, 18) && !memcmp(a + 20, b + 20, 4) && !memcmp(a + 26, b + 26, blen - 26);
	return !memcmp(a, b, blen);
}

#endif
