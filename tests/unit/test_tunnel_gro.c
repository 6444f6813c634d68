/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TCP GRO on delivery (tunnel/gro.c) with hand-built IPv4 and IPv6 TCP
 * segments: coalesced when Linux's rules allow it (the exact
 * virtio_net_hdr, lengths, IP checksum, the TCP field holding the
 * pseudo-header sum; the kernel's segmentation giving back the frames that
 * went in), and for each rule a case where it does not; flows interleaved,
 * more flows than the table, the 64 KiB limit, frames that are not TCP. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/gro_seg.h"
#include "tunnel/gro.h"
#include "tunnel/tso.h"

#define MAXF 256

/* what the caller wrote, in order */
struct out {
	size_t n;
	uint8_t hdr[MAXF][VNET_HDR_LEN];
	uint8_t *frame[MAXF];
	size_t len[MAXF];
	unsigned segs[MAXF];
	int fd[MAXF];
};

static void emit(void *ctx, void *owner, int fd, const uint8_t *hdr, const uint8_t *frame, size_t len,
		 unsigned segs)
{
	struct out *o = ctx;

	assert_true(o->n < MAXF);
	memcpy(o->hdr[o->n], hdr, VNET_HDR_LEN);
	o->frame[o->n] = malloc(len);
	assert_non_null(o->frame[o->n]);
	memcpy(o->frame[o->n], frame, len);
	o->len[o->n] = len;
	o->segs[o->n] = segs;
	o->fd[o->n] = fd;
	o->n++;
}

static uint8_t in[MAXF][14 + 65535];
static size_t inlen[MAXF];
/* a frame with a partial checksum: its header, and the frame complete */
static bool inpart[MAXF];
static uint8_t inhdr[MAXF][VNET_HDR_LEN], infull[8][14 + 65535];
static int owner_tag;

/* Feeds n frames (in[]) to a fresh table, as the data path does (a frame
 * not taken written at once with a zero header), then flushes. */
static void run(struct out *o, size_t n)
{
	static const uint8_t zero[VNET_HDR_LEN];
	struct gro_table t;

	memset(&t, 0, sizeof(t));
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < n; i++) {
		const uint8_t *h = inpart[i] ? inhdr[i] : NULL;

		if (!gro_add(&t, &owner_tag, 7, h, in[i], inlen[i], 0, emit, o))
			emit(o, &owner_tag, 7, h ? h : zero, in[i], inlen[i], 1);
	}
	gro_flush(&t, emit, o);
	assert_false(gro_pending(&t));
	gro_free(&t);
}

static void out_free(struct out *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->frame[i]);
}

/* The output segmented again equals the input, in order. */
static void check_roundtrip(struct out *o, size_t n)
{
	static uint8_t seg[64][14 + 65535];
	size_t seglen[64], k = 0;

	for (size_t i = 0; i < o->n; i++) {
		int m = gt_segment(o->hdr[i], o->frame[i], o->len[i], seg, seglen, 64);

		assert_true(m >= 1);
		assert_int_equal((unsigned)m, o->segs[i]);
		for (int j = 0; j < m; j++, k++) {
			assert_true(k < n);
			assert_true(gt_same(seg[j], seglen[j], inpart[k] ? infull[k] : in[k], inlen[k]));
		}
	}
	assert_int_equal(k, n);
}

static struct gt_spec base(bool v6)
{
	struct gt_spec s = {
		.v6 = v6, .src = 1, .dst = 2, .sport = 40000, .dport = 5201, .seq = 1000, .ack = 77,
		.flags = 0x10, .id = 100, .df = true, .ttl = 64, .window = 512, .plen = 1000, .fill = 3,
	};
	return s;
}

/* n segments of one flow from s, each changed by tweak(i, &spec) */
static void stream(struct gt_spec s, size_t n, void (*tweak)(size_t i, struct gt_spec *sp))
{
	for (size_t i = 0; i < n; i++) {
		struct gt_spec c = s;

		c.seq = s.seq + (uint32_t)(i * s.plen);
		c.id = (uint16_t)(s.id + i);
		if (tweak)
			tweak(i, &c);
		inlen[i] = gt_frame(in[i], &c);
	}
}

/* out: how many writes, and how many segments in each */
static void expect(struct out *o, size_t n, const unsigned *segs, size_t nw)
{
	assert_int_equal(o->n, nw);
	for (size_t i = 0; i < nw; i++)
		assert_int_equal(o->segs[i], segs[i]);
	check_roundtrip(o, n);
}

/* n segments of a stream from spec (tweaked) written as nw frames of segs */
static void check_stream(struct gt_spec spec, size_t n, void (*tweak)(size_t i, struct gt_spec *sp),
			 const unsigned *segs, size_t nw)
{
	struct out o;

	stream(spec, n, tweak);
	run(&o, n);
	expect(&o, n, segs, nw);
	out_free(&o);
}

/* a super-frame's header, exactly */
static void check_hdr(const uint8_t *hdr, uint8_t type, uint16_t hdr_len, uint16_t gso_size, uint16_t csum_start)
{
	static const uint8_t zero[VNET_HDR_LEN];
	uint8_t want[VNET_HDR_LEN];
	struct vnet_hdr h = {
		.flags = VNET_F_NEEDS_CSUM, .gso_type = type, .hdr_len = hdr_len, .gso_size = gso_size,
		.csum_start = csum_start, .csum_offset = 16,
	};

	vnet_hdr_encode(want, &h);
	assert_memory_not_equal(want, zero, VNET_HDR_LEN);
	assert_memory_equal(hdr, want, VNET_HDR_LEN);
}

static void t_coalesce4(void **state)
{
	struct gt_spec s = base(false);
	struct out o;
	const uint8_t *f;

	stream(s, 4, NULL);
	run(&o, 4);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.segs[0], 4);
	check_hdr(o.hdr[0], VNET_GSO_TCPV4, 14 + 20 + 20, 1000, 34);
	assert_int_equal(o.fd[0], 7);
	f = o.frame[0];
	assert_int_equal(o.len[0], 54 + 4000);
	assert_int_equal(gt_get16(f + 16), 20 + 20 + 4000);
	assert_int_equal(gt_get16(f + 18), 100);                 /* the first one's ID */
	assert_int_equal(vnet_csum_fold(vnet_csum_add(0, f + 14, 20)), 0xffff);
	/* the pseudo-header: 198.18.0.1, 198.18.0.2, protocol 6, 4020 bytes */
	assert_int_equal(gt_get16(f + 34 + 16), vnet_csum_fold(0xc612 + 0x0001 + 0xc612 + 0x0002 + 6 + 4020));
	assert_int_equal(gt_get32(f + 34 + 4), 1000);
	assert_int_equal(f[34 + 13], 0x10);
	for (size_t i = 0; i < 4000; i++)
		assert_int_equal(f[54 + i], (uint8_t)(3 + 1000 + i));
	check_roundtrip(&o, 4);
	out_free(&o);
}

static void psh_last(size_t i, struct gt_spec *sp)
{
	if (i == 2)
		sp->flags = 0x18;
}

static void t_coalesce6(void **state)
{
	struct gt_spec s = base(true);
	struct out o;

	s.optlen = 12;                  /* e.g. timestamps */
	s.optfill = 0x40;
	s.flow_label = 0x12345;
	s.tos = 0x28;
	s.plen = 1388;
	stream(s, 3, psh_last);
	run(&o, 3);
	assert_int_equal(o.n, 1);
	check_hdr(o.hdr[0], VNET_GSO_TCPV6, 14 + 40 + 32, 1388, 54);
	assert_int_equal(o.len[0], 86 + 3 * 1388);
	assert_int_equal(gt_get16(o.frame[0] + 18), 32 + 3 * 1388);  /* payload length */
	assert_int_equal(o.frame[0][54 + 13], 0x18);                  /* PSH from the last */
	check_roundtrip(&o, 3);
	out_free(&o);
}

/* a rule broken at segment 2 of 4: 2 + 2 (the flow restarts there) */
#define BROKEN_AT(name, field_change)                                         \
	static void tw_##name(size_t i, struct gt_spec *sp)                   \
	{                                                                     \
		if (i >= 2) {                                                 \
			field_change;                                         \
		}                                                             \
	}

BROKEN_AT(ttl, sp->ttl = 63)
BROKEN_AT(tos, sp->tos = 4)
BROKEN_AT(ack, sp->ack = 78)
BROKEN_AT(win, sp->window = 513)
BROKEN_AT(opts, sp->optfill = 9)
BROKEN_AT(flow_label, sp->flow_label = 5)
BROKEN_AT(df, sp->df = false)

static void two_and_two(bool v6, struct gt_spec s, void (*tw)(size_t, struct gt_spec *))
{
	static const unsigned segs[] = { 2, 2 };

	s.v6 = v6;
	check_stream(s, 4, tw, segs, 2);
}

static void t_ttl(void **state)
{
	two_and_two(false, base(false), tw_ttl);
	two_and_two(true, base(true), tw_ttl);   /* the hop limit */
}

static void t_tos(void **state)
{
	two_and_two(false, base(false), tw_tos);
	two_and_two(true, base(true), tw_tos);   /* the traffic class */
}

static void t_flow_label(void **state)
{
	two_and_two(true, base(true), tw_flow_label);
}

static void t_df(void **state)
{
	two_and_two(false, base(false), tw_df);
}

static void t_ack(void **state)
{
	two_and_two(false, base(false), tw_ack);
}

static void t_window(void **state)
{
	two_and_two(false, base(false), tw_win);
}

static void t_options(void **state)
{
	struct gt_spec s = base(false);

	s.optlen = 12;
	two_and_two(false, s, tw_opts);
}

static void opt_len(size_t i, struct gt_spec *sp)
{
	if (i >= 2)
		sp->optlen = 12;
}

static void t_header_len(void **state)
{
	two_and_two(false, base(false), opt_len);
}

static void gap(size_t i, struct gt_spec *sp)
{
	if (i >= 2)
		sp->seq += 1;
}

static void t_seq_gap(void **state)
{
	two_and_two(false, base(false), gap);
}

static void id_jump(size_t i, struct gt_spec *sp)
{
	if (i >= 2)
		sp->id += 5;
}

static void t_ip_id(void **state)
{
	two_and_two(false, base(false), id_jump);
}

static void id_zero(size_t i, struct gt_spec *sp)
{
	sp->id = 0;
}

static void t_ip_id_zero(void **state)
{
	static const unsigned one[] = { 4 }, each[] = { 1, 1, 1, 1 };
	struct gt_spec s = base(false);

	/* all 0 with DF: one super-frame */
	check_stream(s, 4, id_zero, one, 1);
	/* all 0 without DF: never */
	s.df = false;
	check_stream(s, 4, id_zero, each, 4);
}

static void other_port(size_t i, struct gt_spec *sp)
{
	if (i >= 2)
		sp->sport++;
}

static void other_addr(size_t i, struct gt_spec *sp)
{
	if (i >= 2)
		sp->dst++;
}

static void t_flow(void **state)
{
	two_and_two(false, base(false), other_port);
	two_and_two(true, base(true), other_addr);
}

static uint8_t flag_under_test;

static void set_flag(size_t i, struct gt_spec *sp)
{
	if (i == 2)
		sp->flags = flag_under_test;
}

static void t_flags(void **state)
{
	/* SYN, FIN, RST, URG, CWR, ECE (with ACK), and no ACK: the segment
	 * goes alone, the ones before and after it coalesce */
	static const uint8_t flags[] = { 0x12, 0x11, 0x14, 0x30, 0x90, 0x50, 0x00, 0x18 | 0x01 };
	static const unsigned segs[] = { 2, 1, 2 };

	for (size_t k = 0; k < sizeof(flags); k++) {
		flag_under_test = flags[k];
		check_stream(base(k & 1), 5, set_flag, segs, 3);
	}
}

static void psh_second(size_t i, struct gt_spec *sp)
{
	if (i == 1)
		sp->flags = 0x18;
}

static void psh_first(size_t i, struct gt_spec *sp)
{
	if (i == 0)
		sp->flags = 0x18;
}

static void t_psh(void **state)
{
	/* PSH ends a super-frame (it is on its last segment) */
	static const unsigned segs[] = { 2, 2 };
	static const unsigned alone[] = { 1, 3 };
	struct out o;

	stream(base(false), 4, psh_second);
	run(&o, 4);
	expect(&o, 4, segs, 2);
	assert_int_equal(o.frame[0][34 + 13], 0x18);
	assert_int_equal(o.frame[1][34 + 13], 0x10);
	out_free(&o);
	/* a PSH segment first: alone */
	check_stream(base(false), 4, psh_first, alone, 2);
}

static void short_second(size_t i, struct gt_spec *sp)
{
	if (i == 1)
		sp->plen = 500;
	if (i >= 2)
		sp->seq -= 500;
}

static void bigger_third(size_t i, struct gt_spec *sp)
{
	if (i == 2)
		sp->plen = 1200;
	if (i == 3)
		sp->seq += 200;
}

static void t_sizes(void **state)
{
	/* a shorter one is the last; a bigger one starts over */
	static const unsigned a[] = { 2, 2 };
	struct out o;

	check_stream(base(false), 4, short_second, a, 2);
	stream(base(true), 4, bigger_third);
	run(&o, 4);
	/* 1200 then 1000: the second may follow the first, shorter */
	assert_int_equal(o.n, 2);
	assert_int_equal(o.segs[0], 2);
	assert_int_equal(o.segs[1], 2);
	check_roundtrip(&o, 4);
	out_free(&o);
}

static void t_bad_csum(void **state)
{
	static const unsigned segs[] = { 2, 1, 1 };
	struct out o;

	/* a TCP checksum off by one: written as it came, never coalesced */
	stream(base(false), 4, NULL);
	in[2][34 + 17] ^= 1;
	run(&o, 4);
	expect(&o, 4, segs, 3);
	assert_memory_equal(o.frame[1], in[2], inlen[2]);
	out_free(&o);
	/* the IPv4 header's */
	stream(base(false), 4, NULL);
	in[2][24] ^= 1;
	run(&o, 4);
	expect(&o, 4, segs, 3);
	out_free(&o);
	/* IPv6 */
	stream(base(true), 4, NULL);
	in[2][54 + 17] ^= 0x80;
	run(&o, 4);
	expect(&o, 4, segs, 3);
	out_free(&o);
}

/* n bytes (zero) inserted into frame in[i] at offset at */
static uint8_t *insert(size_t i, size_t at, size_t n)
{
	memmove(in[i] + at + n, in[i] + at, inlen[i] - at);
	memset(in[i] + at, 0, n);
	inlen[i] += n;
	return in[i] + at;
}

/* the n frames in[] written one by one, as they came */
static void expect_alone(size_t n)
{
	static const unsigned each[MAXF] = { [0 ... MAXF - 1] = 1 };
	struct out o;

	run(&o, n);
	expect(&o, n, each, n);
	out_free(&o);
}

static void t_ip_options(void **state)
{
	/* IPv4 with 4 bytes of options (NOPs): never coalesced */
	stream(base(false), 3, NULL);
	for (size_t i = 0; i < 3; i++) {
		memset(insert(i, 34, 4), 1, 4);
		in[i][14] = 0x46;
		gt_put16(in[i] + 16, (uint16_t)(inlen[i] - 14));
		gt_checksums(in[i], inlen[i]);
	}
	expect_alone(3);
}

static void t_fragment(void **state)
{
	/* MF set: a first fragment */
	stream(base(false), 3, NULL);
	for (size_t i = 0; i < 3; i++) {
		in[i][20] |= 0x20;
		gt_checksums(in[i], inlen[i]);
	}
	expect_alone(3);
}

static void t_ipv6_ext(void **state)
{
	/* a hop-by-hop header (8 bytes) before TCP */
	stream(base(true), 3, NULL);
	for (size_t i = 0; i < 3; i++) {
		uint8_t *hbh = insert(i, 54, 8);

		hbh[0] = 6;             /* next: TCP */
		hbh[2] = 1;             /* PadN */
		hbh[3] = 4;
		in[i][20] = 0;          /* hop-by-hop */
		gt_put16(in[i] + 18, (uint16_t)(inlen[i] - 54));
	}
	expect_alone(3);
}

static void t_limit(void **state)
{
	/* 1448-byte segments: 45 fit in 65535 - 40 bytes, the 46th starts the next */
	static const unsigned segs[] = { 45, 5 };
	struct gt_spec s = base(false);
	struct out o;

	s.plen = 1448;
	stream(s, 50, NULL);
	run(&o, 50);
	expect(&o, 50, segs, 2);
	assert_int_equal(o.len[0], 54 + 45 * 1448);
	assert_true(o.len[0] - 14 <= 65535);
	out_free(&o);
	/* exactly 65535: 5 segments of 13099 (jumbo frames) */
	s.plen = 13099;
	stream(s, 6, NULL);
	run(&o, 6);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.segs[0], 5);
	assert_int_equal(o.len[0] - 14, 65535);
	check_roundtrip(&o, 6);
	out_free(&o);
}

static void t_interleaved(void **state)
{
	/* three flows (two IPv4 ports, one IPv6) one segment each in turn, a
	 * pure ACK and an ARP among them: three super-frames */
	struct gt_spec s[3] = { base(false), base(false), base(true) };
	struct out o;
	size_t n = 0, i, k, got[3] = { 0, 0, 0 };

	s[1].sport = 40001;
	for (i = 0; i < 6; i++)
		for (k = 0; k < 3; k++) {
			struct gt_spec c = s[k];

			c.seq += (uint32_t)(i * c.plen);
			c.id = (uint16_t)(c.id + i);
			inlen[n] = gt_frame(in[n], &c);
			n++;
			if (i == 3 && k == 0) {
				/* the other direction's ACK: a flow of its own */
				struct gt_spec a = base(false);

				a.src = 2;
				a.dst = 1;
				a.sport = 5201;
				a.dport = 40000;
				a.plen = 0;
				inlen[n] = gt_frame(in[n], &a);
				n++;
				memset(in[n], 0xff, 6);
				gt_put16(in[n] + 12, 0x0806);
				inlen[n] = 60;
				n++;
			}
		}
	run(&o, n);
	for (i = 0; i < o.n; i++)
		for (k = 0; k < 3; k++)
			if (o.segs[i] == 6 && gt_get16(o.frame[i] + 12) == (k == 2 ? 0x86dd : 0x0800) &&
			    (k == 2 || gt_get16(o.frame[i] + 34) == s[k].sport))
				got[k]++;
	assert_int_equal(o.n, 5);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 1);
	assert_int_equal(got[2], 1);
	out_free(&o);
}

static void t_many_flows(void **state)
{
	/* more flows than the table: the oldest is written to make room, each
	 * flow's segments still in order and all of them out */
	struct out o;
	size_t n = 0;

	for (size_t i = 0; i < 3; i++)
		for (size_t k = 0; k < GRO_FLOWS + 2; k++) {
			struct gt_spec c = base(false);

			c.sport = (uint16_t)(30000 + k);
			c.seq += (uint32_t)(i * c.plen);
			c.id = (uint16_t)(c.id + i);
			inlen[n] = gt_frame(in[n], &c);
			n++;
		}
	run(&o, n);
	{
		size_t total = 0;

		for (size_t i = 0; i < o.n; i++)
			total += o.segs[i];
		assert_int_equal(total, n);
	}
	out_free(&o);
}

static void t_not_tcp(void **state)
{
	struct gt_spec s = base(false);
	struct out o;

	/* UDP, a VLAN tag, runts: all written as they came */
	inlen[0] = gt_frame(in[0], &s);
	in[0][23] = 17;
	inlen[1] = gt_frame(in[1], &s);
	memmove(in[1] + 16, in[1] + 12, inlen[1] - 12);
	gt_put16(in[1] + 12, 0x8100);
	inlen[1] += 4;
	inlen[2] = 10;
	inlen[3] = 14 + 20;
	memcpy(in[3], in[0], inlen[3]);
	in[3][23] = 6;
	run(&o, 4);
	assert_int_equal(o.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(o.segs[i], 1);
		assert_int_equal(o.len[i], inlen[i]);
		assert_memory_equal(o.frame[i], in[i], inlen[i]);
	}
	out_free(&o);
}

static void t_partial(void **state)
{
	/* segments whose checksum the sender's kernel left partial (sent with
	 * NEEDS_CSUM) coalesce, trusted; one alone keeps its header; a
	 * super-frame of the sender's goes whole, after what is held of its
	 * flow; a partial checksum elsewhere than TCP's field is not trusted */
	static const unsigned segs[] = { 3, 1, 1, 2 };
	struct out o;

	stream(base(false), 7, NULL);
	for (size_t i = 0; i < 7; i++) {
		memcpy(infull[i], in[i], inlen[i]);
		gt_partial(in[i], inlen[i], inhdr[i]);
		inpart[i] = true;
	}
	inhdr[3][1] = VNET_GSO_TCPV4;   /* "a super-frame" of one segment */
	inhdr[3][4] = 0xe8;             /* gso_size 1000 */
	inhdr[3][5] = 0x03;
	inhdr[3][2] = 54;               /* hdr_len */
	inhdr[4][6] = 30;               /* csum_start */
	run(&o, 7);
	memset(inpart, 0, sizeof(inpart));
	assert_int_equal(o.n, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(o.segs[i], segs[i]);
	assert_memory_equal(o.hdr[1], inhdr[3], VNET_HDR_LEN);
	assert_memory_equal(o.hdr[2], inhdr[4], VNET_HDR_LEN);
	assert_int_equal(o.hdr[3][1], VNET_GSO_TCPV4);
	out_free(&o);
	/* one partial segment alone: as it came */
	stream(base(true), 1, NULL);
	gt_partial(in[0], inlen[0], inhdr[0]);
	inpart[0] = true;
	run(&o, 1);
	inpart[0] = false;
	assert_int_equal(o.n, 1);
	assert_memory_equal(o.hdr[0], inhdr[0], VNET_HDR_LEN);
	assert_memory_equal(o.frame[0], in[0], inlen[0]);
	out_free(&o);
}

static void t_owners(void **state)
{
	/* the same flow for another owner (port) is another flow */
	struct gro_table t;
	struct out o;

	memset(&t, 0, sizeof(t));
	memset(&o, 0, sizeof(o));
	stream(base(false), 2, NULL);
	assert_true(gro_add(&t, &owner_tag, 7, NULL, in[0], inlen[0], 0, emit, &o));
	assert_true(gro_add(&t, &o, 8, NULL, in[1], inlen[1], 0, emit, &o));
	assert_true(gro_pending(&t));
	gro_flush(&t, emit, &o);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.segs[0], 1);
	assert_int_equal(o.segs[1], 1);
	assert_int_equal(o.fd[0], 7);
	assert_int_equal(o.fd[1], 8);
	out_free(&o);
	gro_free(&t);
}

/* UDP (flags GRO_UDP4 | GRO_UDP6, a TAP with USO): datagrams of one flow,
 * IPv4 (IDs + 1) or IPv6, plen bytes each but the last (last bytes) */
static size_t udp_frame(uint8_t *f, bool v6, uint16_t sport, uint16_t id, size_t plen, uint8_t fill)
{
	size_t l4 = v6 ? 54 : 34, len = l4 + 8 + plen;
	uint8_t *ip = f + 14, *uh = f + l4;

	memset(f, 0, l4 + 8);
	memcpy(f, "\x52\x54\x00\x00\x00\x02\x52\x54\x00\x00\x00\x01", 12);
	if (v6) {
		gt_put16(f + 12, 0x86dd);
		ip[0] = 0x60;
		gt_put16(ip + 4, (uint16_t)(len - l4));
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, "\x20\x01\x00\x02", 4);
		memcpy(ip + 24, "\x20\x01\x00\x02", 4);
		ip[23] = 1;
		ip[39] = 2;
	} else {
		gt_put16(f + 12, 0x0800);
		ip[0] = 0x45;
		gt_put16(ip + 2, (uint16_t)(len - 14));
		gt_put16(ip + 4, id);
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
		gt_put16(ip + 10, (uint16_t)~vnet_csum_fold(vnet_csum_add(0, ip, 20)));
	}
	gt_put16(uh, sport);
	gt_put16(uh + 2, 5201);
	gt_put16(uh + 4, (uint16_t)(8 + plen));
	for (size_t i = 0; i < plen; i++)
		f[l4 + 8 + i] = (uint8_t)(fill + i);
	{
		uint32_t ps = (v6 ? vnet_csum_add(0, ip + 8, 32) : vnet_csum_add(0, ip + 12, 8)) + 17 +
			      (uint32_t)(8 + plen);
		uint16_t c = (uint16_t)~vnet_csum_fold(vnet_csum_add(ps, uh, 8 + plen));

		gt_put16(uh + 6, c ? c : 0xffff);
	}
	return len;
}

/* Feeds in[0..n) with flags, flushes. */
static void run_flags(struct out *o, size_t n, unsigned flags)
{
	static const uint8_t zero[VNET_HDR_LEN];
	struct gro_table t;

	memset(&t, 0, sizeof(t));
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < n; i++)
		if (!gro_add(&t, &owner_tag, 7, NULL, in[i], inlen[i], flags, emit, o))
			emit(o, &owner_tag, 7, zero, in[i], inlen[i], 1);
	gro_flush(&t, emit, o);
	gro_free(&t);
}

/* A UDP super-frame segmented (tunnel/tso.c, checked against the kernel's
 * TCP segmentation in test_tunnel_tso) gives back the datagrams in[k..). */
static size_t udp_check_back(const struct out *o, size_t i, size_t k)
{
	static uint8_t seg[14 + 65535];
	uint8_t hb[VNET_HDR_LEN + TSO_HDR_MAX];
	struct vnet_hdr h;
	struct tso ts;

	vnet_hdr_decode(o->hdr[i], &h);
	assert_int_equal(h.gso_type, VNET_GSO_UDP_L4);
	assert_int_equal(tso_plan(&h, o->frame[i], o->len[i], &ts), 0);
	assert_int_equal(ts.n, o->segs[i]);
	for (unsigned j = 0; j < ts.n; j++, k++) {
		size_t off, plen, hl = tso_segment(&ts, j, hb, &off, &plen);
		struct vnet_hdr sh;

		vnet_hdr_decode(hb, &sh);
		memcpy(seg, hb + VNET_HDR_LEN, hl - VNET_HDR_LEN);
		memcpy(seg + ts.hlen, o->frame[i] + off, plen);
		assert_int_equal(vnet_csum_complete(seg, ts.hlen + plen, sh.csum_start, sh.csum_offset), 0);
		assert_int_equal(ts.hlen + plen, inlen[k]);
		assert_memory_equal(seg, in[k], inlen[k]);
	}
	return k;
}

static void t_udp(void **state)
{
	struct out o;
	size_t i;

	for (int v6 = 0; v6 < 2; v6++) {
		/* 100 datagrams of 64 bytes, a shorter last: two super-frames
		 * (64 at most per super-frame), then the short one ends it */
		for (i = 0; i < 100; i++)
			inlen[i] = udp_frame(in[i], v6, 4000, (uint16_t)(7 + i), i == 99 ? 20 : 64, (uint8_t)i);
		run_flags(&o, 100, GRO_UDP4 | GRO_UDP6);
		assert_int_equal(o.n, 2);
		assert_int_equal(o.segs[0], GRO_UDP_SEGS_MAX);
		assert_int_equal(o.segs[1], 100 - GRO_UDP_SEGS_MAX);
		assert_int_equal(udp_check_back(&o, 1, udp_check_back(&o, 0, 0)), 100);
		out_free(&o);
		/* without the flag for its family: written as they came */
		run_flags(&o, 5, v6 ? GRO_UDP4 : GRO_UDP6);
		assert_int_equal(o.n, 5);
		out_free(&o);
	}
	(void)state;
}

static void t_udp_rules(void **state)
{
	struct out o;

	(void)state;
	/* a checksum of 0 (none: IPv4), a wrong one, another port, an ID
	 * jump, a bigger datagram: each breaks the run */
	for (size_t i = 0; i < 12; i++)
		inlen[i] = udp_frame(in[i], false, 4000, (uint16_t)(7 + i), 64, (uint8_t)i);
	gt_put16(in[2] + 40, 0);                       /* no checksum: alone */
	in[4][50] ^= 1;                                /* a wrong checksum: alone */
	inlen[6] = udp_frame(in[6], false, 4001, 13, 64, 6);   /* another flow */
	inlen[8] = udp_frame(in[8], false, 4000, 99, 64, 8);   /* an ID jump */
	inlen[10] = udp_frame(in[10], false, 4000, 17, 100, 10); /* bigger */
	run_flags(&o, 12, GRO_UDP4);
	/* in order: 0-1 coalesced; 2 alone; 3 (its run ended by 4); 4 alone;
	 * 5 (7's ID is not 5's + 1); 7; 8; 9; 10-11 (a size of 100, then a
	 * shorter last one ends it); 6, its own flow, at the flush */
	{
		static const size_t first[] = { 0, 2, 3, 4, 5, 7, 8, 9, 10, 6 };
		static const unsigned segs[] = { 2, 1, 1, 1, 1, 1, 1, 1, 2, 1 };

		assert_int_equal(o.n, 10);
		for (size_t i = 0; i < o.n; i++) {
			assert_int_equal(o.segs[i], segs[i]);
			if (segs[i] == 1) {
				assert_int_equal(o.len[i], inlen[first[i]]);
				assert_memory_equal(o.frame[i], in[first[i]], inlen[first[i]]);
			} else {
				assert_int_equal(udp_check_back(&o, i, first[i]), first[i] + 2);
			}
		}
	}
	out_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_coalesce4),
		cmocka_unit_test(t_coalesce6),
		cmocka_unit_test(t_ttl),
		cmocka_unit_test(t_tos),
		cmocka_unit_test(t_flow_label),
		cmocka_unit_test(t_df),
		cmocka_unit_test(t_ack),
		cmocka_unit_test(t_window),
		cmocka_unit_test(t_options),
		cmocka_unit_test(t_header_len),
		cmocka_unit_test(t_seq_gap),
		cmocka_unit_test(t_ip_id),
		cmocka_unit_test(t_ip_id_zero),
		cmocka_unit_test(t_flow),
		cmocka_unit_test(t_flags),
		cmocka_unit_test(t_psh),
		cmocka_unit_test(t_sizes),
		cmocka_unit_test(t_bad_csum),
		cmocka_unit_test(t_ip_options),
		cmocka_unit_test(t_fragment),
		cmocka_unit_test(t_ipv6_ext),
		cmocka_unit_test(t_limit),
		cmocka_unit_test(t_interleaved),
		cmocka_unit_test(t_many_flows),
		cmocka_unit_test(t_partial),
		cmocka_unit_test(t_owners),
		cmocka_unit_test(t_not_tcp),
		cmocka_unit_test(t_udp),
		cmocka_unit_test(t_udp_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
