/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for GRO on delivery (tunnel/gro.c): one receive round of
 * up to 64 frames, built from the input as records of two bytes (op, arg):
 * TCP segments of four flows (IPv4 and IPv6, two owners) continuing their
 * streams, with one of the rules broken now and then (PSH, a sequence gap,
 * an IPv4 ID jump, the TTL, a bad checksum, a partial one with NEEDS_CSUM,
 * a sender's super-frame header, other flags, the ACK number, the size),
 * or raw frames (the bytes that follow).
 *
 * Checked: every frame comes out once; per flow (and for what is no TCP
 * flow) in the order it went in; a super-frame has the header the kernel
 * takes, at most 65535 bytes of IP packet, and the kernel's segmentation
 * of it (tests/fuzz/gro_seg.h) gives back the frames that went in (their
 * checksums completed where they were partial or trusted; a frame whose
 * checksum was not trusted is coalesced only when it was right); a frame
 * written alone is written as it came.
 *
 * Built with -DFUZZ_GRO_GEN_SEEDS it writes seeds to the directory given.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/gro_seg.h"
#include "tunnel/gro.h"

#define ROUND 64

#ifndef FUZZ_GRO_GEN_SEEDS

struct frame {
	uint8_t hdr[VNET_HDR_LEN];
	bool has_hdr;
	uint8_t *b;
	size_t len;
	unsigned segs;                 /* output: frames it carries */
	void *owner;
};

static struct frame in[ROUND], out[ROUND];
static size_t n_in, n_out;
static int owners[2];

static void emit(void *ctx, void *owner, int fd, const uint8_t *hdr, const uint8_t *f, size_t len,
		 unsigned segs)
{
	struct frame *o = &out[n_out++];

	if (n_out > ROUND)
		abort();
	memcpy(o->hdr, hdr, VNET_HDR_LEN);
	o->b = malloc(len);
	if (!o->b)
		abort();
	memcpy(o->b, f, len);
	o->len = len;
	o->segs = segs;
	o->owner = owner;
	if (fd != (owner == &owners[0] ? 10 : 11))
		abort();
}

/* gro.c's notion of a flow: 0 for none, else a key (owner, addresses, ports) */
static uint64_t flow_of(const struct frame *f)
{
	const uint8_t *b = f->b, *ip = b + 14;
	uint64_t h = 1469598103934665603ull;
	size_t l4, alen, aoff;

	if (f->len < 54)
		return 0;
	if (b[12] == 0x08 && b[13] == 0x00) {
		size_t ihl = (size_t)(ip[0] & 15) * 4;

		if (ip[0] >> 4 != 4 || ip[9] != 6 || ihl < 20 || ((ip[6] & 0x1f) | ip[7]) || f->len < 14 + ihl + 20)
			return 0;
		l4 = 14 + ihl, aoff = 12, alen = 8;
	} else if (b[12] == 0x86 && b[13] == 0xdd) {
		if (f->len < 74 || ip[0] >> 4 != 6 || ip[6] != 6)
			return 0;
		l4 = 54, aoff = 8, alen = 32;
	} else {
		return 0;
	}
	for (size_t i = 0; i < alen; i++)
		h = (h ^ ip[aoff + i]) * 1099511628211ull;
	for (size_t i = 0; i < 4; i++)
		h = (h ^ b[l4 + i]) * 1099511628211ull;
	h = (h ^ (uint64_t)(f->owner == &owners[0])) * 1099511628211ull;
	return (h ^ (uint64_t)alen) | 1;
}

/* A segment of a super-frame against the frame that went in. */
static bool same_seg(const uint8_t *seg, size_t seglen, const struct frame *f)
{
	static uint8_t tmp[14 + 65535];
	struct vnet_hdr h = { 0 };

	if (f->has_hdr)
		vnet_hdr_decode(f->hdr, &h);
	if (!(h.flags & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)))
		return gt_same(seg, seglen, f->b, f->len);
	/* trusted: its checksum as the device computes it */
	memcpy(tmp, f->b, f->len);
	gt_checksums(tmp, f->len);
	return gt_same(seg, seglen, tmp, f->len);
}

static void check(void)
{
	static uint8_t seg[ROUND][14 + 65535];
	static size_t seglen[ROUND];
	bool used[ROUND] = { false };
	size_t total = 0;

	for (size_t i = 0; i < n_out; i++) {
		struct frame *o = &out[i];
		uint64_t key = flow_of(o);
		size_t k = 0;
		int m;

		/* the next frames of its flow not yet seen */
		if (o->segs == 1) {
			while (k < n_in && (used[k] || flow_of(&in[k]) != key || in[k].owner != o->owner))
				k++;
			if (k == n_in || in[k].len != o->len || memcmp(in[k].b, o->b, o->len) ||
			    memcmp(o->hdr, in[k].has_hdr ? in[k].hdr : (const uint8_t[VNET_HDR_LEN]){ 0 }, VNET_HDR_LEN))
				abort();
			used[k] = true;
			total++;
			continue;
		}
		if (!key || o->len - 14 > GRO_IP_MAX)
			abort();
		m = gt_segment(o->hdr, o->b, o->len, seg, seglen, ROUND);
		if (m != (int)o->segs)
			abort();
		for (int j = 0; j < m; j++) {
			while (k < n_in && (used[k] || flow_of(&in[k]) != key || in[k].owner != o->owner))
				k++;
			if (k == n_in || !same_seg(seg[j], seglen[j], &in[k]))
				abort();
			used[k] = true;
			total++;
		}
	}
	if (total != n_in)
		abort();
}

/* per flow: where its stream is */
struct stream {
	uint32_t seq;
	uint16_t id;
	uint8_t ttl;
	uint32_t ack;
};

static const size_t sizes[8] = { 1448, 1448, 1448, 1448, 700, 1, 0, 9000 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[VNET_HDR_LEN];
	static uint8_t scratch[14 + 20 + 60 + 65535];
	struct stream st[4] = { { 0 } };
	struct gro_table t;

	memset(&t, 0, sizeof(t));
	n_in = n_out = 0;
	for (int i = 0; i < 4; i++) {
		st[i].seq = 1000u * (unsigned)i;
		st[i].ttl = 64;
		st[i].ack = 5;
	}
	while (size >= 2 && n_in < ROUND) {
		uint8_t op = data[0], arg = data[1];
		struct frame *f = &in[n_in];

		data += 2;
		size -= 2;
		memset(f, 0, sizeof(*f));
		f->owner = &owners[arg >> 7];
		if (op < 0xf0) {
			struct stream *s = &st[op & 3];
			struct gt_spec sp = {
				.v6 = op & 2, .src = 1, .dst = (uint8_t)(2 + (op & 1)), .sport = 40000,
				.dport = 5201, .seq = s->seq, .ack = s->ack, .flags = 0x10, .id = s->id, .df = true,
				.ttl = s->ttl, .window = 100, .optlen = (op & 1) ? 12 : 0, .plen = sizes[arg & 7],
				.fill = 7,
			};

			switch ((op >> 2) % 24) {
			case 12: sp.flags = 0x18; break;
			case 13: sp.seq += arg; break;
			case 14: sp.id = (uint16_t)(sp.id + 3); break;
			case 15: s->ttl = sp.ttl = (uint8_t)(arg | 1); break;
			case 16: sp.flags = (uint8_t)(arg & 0x7f); break;
			case 17: s->ack = sp.ack = arg; break;
			case 18: sp.id = 0; break;
			case 19: sp.plen = (size_t)arg * 5; break;
			default: break;
			}
			f->len = gt_frame(scratch, &sp);
			f->b = malloc(f->len);
			if (!f->b)
				abort();
			memcpy(f->b, scratch, f->len);
			switch ((op >> 2) % 24) {
			case 20: f->b[f->len - 1] ^= 1; break;                  /* a bad checksum */
			case 21: gt_partial(f->b, f->len, f->hdr); f->has_hdr = true; break;
			case 22:                                                 /* the sender's super-frame */
				gt_partial(f->b, f->len, f->hdr);
				f->hdr[1] = sp.v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4;
				f->has_hdr = true;
				break;
			case 23: f->hdr[0] = VNET_F_DATA_VALID; f->has_hdr = true; break;
			default: break;
			}
			s->seq = sp.seq + (uint32_t)sp.plen;
			s->id = (uint16_t)(sp.id + 1);
		} else {
			size_t len = (size_t)(arg & 0x7f) * 8;

			if (len > size)
				len = size;
			f->b = malloc(len ? len : 1);
			if (!f->b)
				abort();
			memcpy(f->b, data, len);
			f->len = len;
			data += len;
			size -= len;
			if ((op & 1) && f->len >= VNET_HDR_LEN) {
				/* a raw header, from the frame's own first bytes */
				memcpy(f->hdr, f->b, VNET_HDR_LEN);
				f->has_hdr = true;
			}
		}
		n_in++;
		if (!gro_add(&t, f->owner, f->owner == &owners[0] ? 10 : 11, f->has_hdr ? f->hdr : NULL, f->b,
			     f->len, 0, emit, NULL))
			emit(NULL, f->owner, f->owner == &owners[0] ? 10 : 11, f->has_hdr ? f->hdr : zero, f->b,
			     f->len, 1);
	}
	gro_flush(&t, emit, NULL);
	if (gro_pending(&t))
		abort();
	check();
	for (size_t i = 0; i < n_in; i++)
		free(in[i].b);
	for (size_t i = 0; i < n_out; i++)
		free(out[i].b);
	gro_free(&t);
	return 0;
}

#else

#include "tests/fuzz/seedgen.h"

int main(int argc, char **argv)
{
	uint8_t b[256];
	size_t n = 0;

	if (argc != 2)
		return 2;
	/* one IPv4 flow in order: one super-frame */
	for (int i = 0; i < 40; i++)
		b[n++] = 0, b[n++] = 0;
	write_seed(argv[1], "one-flow", b, n);
	/* four flows interleaved, two owners, the last segments short */
	n = 0;
	for (int i = 0; i < 12; i++)
		for (int k = 0; k < 4; k++)
			b[n++] = (uint8_t)k, b[n++] = (uint8_t)((k & 1) << 7 | (i == 11 ? 4 : 0));
	write_seed(argv[1], "interleaved", b, n);
	/* each rule broken once in a stream */
	n = 0;
	for (int m = 12; m < 24; m++) {
		b[n++] = 0, b[n++] = 0;
		b[n++] = 0, b[n++] = 0;
		b[n++] = (uint8_t)(m << 2), b[n++] = 0x21;
		b[n++] = 0, b[n++] = 0;
	}
	write_seed(argv[1], "rules", b, n);
	/* IPv6 with options, partial checksums */
	n = 0;
	for (int i = 0; i < 30; i++)
		b[n++] = (uint8_t)(21 << 2 | 3), b[n++] = 0;
	write_seed(argv[1], "ipv6-partial", b, n);
	/* raw frames among them */
	n = 0;
	b[n++] = 0, b[n++] = 0;
	b[n++] = 0xf1, b[n++] = 2;
	for (int i = 0; i < 16; i++)
		b[n++] = (uint8_t)(i * 17);
	b[n++] = 0, b[n++] = 0;
	write_seed(argv[1], "raw", b, n);
	return 0;
}

#endif
