/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Segmentation of super-frames in user space (tunnel/tso.c): each
 * segment, its partial checksum completed as the receiving device would,
 * byte for byte what the kernel's segmentation makes of the super-frame
 * (the reference in tests/fuzz/gro_seg.h) for IPv4 and IPv6 with and
 * without options; smaller segments (tso_set_mss) carry the same stream;
 * GRO on delivery makes the super-frame again of what tso made; UDP;
 * every frame it must not touch refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/gro_seg.h"
#include "tunnel/gro.h"
#include "tunnel/tso.h"

#define FMAX (14 + 65535)
static uint8_t super[FMAX], ref[64][FMAX], seg[FMAX];
static size_t reflen[64];

/* A TCP super-frame as a TAP hands it: frame in super, its header in h. */
static size_t make_super(bool v6, uint8_t optlen, size_t mss, size_t plen, uint8_t flags, uint8_t hdr[VNET_HDR_LEN])
{
	struct gt_spec s = {
		.v6 = v6, .src = 1, .dst = 2, .sport = 40000, .dport = 5201, .seq = 0xfffff000u, .ack = 77,
		.flags = flags, .id = 0xfffe, .df = true, .ttl = 64, .window = 512, .optlen = optlen,
		.optfill = 9, .plen = plen, .fill = 5,
	};
	size_t len = gt_frame(super, &s), l4 = v6 ? 54 : 34;
	struct vnet_hdr h = {
		.flags = VNET_F_NEEDS_CSUM, .gso_type = v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4,
		.hdr_len = (uint16_t)(l4 + 20 + optlen), .gso_size = (uint16_t)mss,
		.csum_start = (uint16_t)l4, .csum_offset = 16,
	};

	gt_put16(super + l4 + 16, vnet_csum_fold(gt_pseudo(super + 14, v6, len - l4)));
	vnet_hdr_encode(hdr, &h);
	return len;
}

/* Segment i of t as one complete frame in seg (checksum completed from its
 * own vnet header); returns its length. */
static size_t build(const struct tso *t, unsigned i)
{
	uint8_t buf[VNET_HDR_LEN + TSO_HDR_MAX];
	struct vnet_hdr vh;
	size_t off, plen, hl = tso_segment(t, i, buf, &off, &plen);

	assert_int_equal(hl, VNET_HDR_LEN + t->hlen);
	vnet_hdr_decode(buf, &vh);
	assert_int_equal(vh.gso_type, VNET_GSO_NONE);
	assert_int_equal(vh.flags, VNET_F_NEEDS_CSUM);
	memcpy(seg, buf + VNET_HDR_LEN, t->hlen);
	memcpy(seg + t->hlen, t->frame + off, plen);
	assert_int_equal(vnet_csum_complete(seg, t->hlen + plen, vh.csum_start, vh.csum_offset), 0);
	return t->hlen + plen;
}

static void as_kernel(bool v6, uint8_t optlen, size_t mss, size_t plen, uint8_t flags)
{
	uint8_t hdr[VNET_HDR_LEN];
	size_t len = make_super(v6, optlen, mss, plen, flags, hdr);
	struct vnet_hdr h;
	struct tso t;
	int n = gt_segment(hdr, super, len, ref, reflen, 64);

	assert_true(n > 1);
	vnet_hdr_decode(hdr, &h);
	assert_int_equal(tso_plan(&h, super, len, &t), 0);
	assert_int_equal(t.n, (unsigned)n);
	for (unsigned i = 0; i < t.n; i++) {
		size_t l = build(&t, i);

		assert_int_equal(l, reflen[i]);
		assert_memory_equal(seg, ref[i], l);
	}
}

static void test_v4_as_kernel(void **state)
{
	(void)state;
	as_kernel(false, 0, 1448, 1448 * 44 + 100, 0x18);   /* ACK PSH, a short last */
	as_kernel(false, 12, 1388, 1388 * 10, 0x19);        /* timestamps, FIN on the last */
	as_kernel(false, 40, 536, 536 * 3 + 1, 0x10);
}

static void test_v6_as_kernel(void **state)
{
	(void)state;
	as_kernel(true, 12, 1428, 1428 * 45, 0x18);
	as_kernel(true, 0, 1000, 2500, 0x10);
}

/* IPv4 options: copied into every segment, the header checksum over them. */
static void test_v4_options(void **state)
{
	uint8_t hdr[VNET_HDR_LEN];
	size_t len = make_super(false, 0, 1000, 3000, 0x10, hdr), i;
	struct vnet_hdr h;
	struct tso t;

	(void)state;
	/* make room for 8 bytes of IP options (NOP x 8) */
	memmove(super + 42, super + 34, len - 34);
	memset(super + 34, 1, 8);
	len += 8;
	super[14] = 0x47;
	gt_put16(super + 16, (uint16_t)(len - 14));
	vnet_hdr_decode(hdr, &h);
	h.csum_start = 42;
	assert_int_equal(tso_plan(&h, super, len, &t), 0);
	assert_int_equal(t.l4, 42);
	assert_int_equal(t.n, 3);
	for (i = 0; i < t.n; i++) {
		size_t l = build(&t, (unsigned)i);

		assert_int_equal(gt_get16(seg + 16), l - 14);
		assert_int_equal(gt_get16(seg + 18), (uint16_t)(0xfffe + i));
		assert_int_equal(vnet_csum_fold(vnet_csum_add(0, seg + 14, 28)), 0xffff);
		assert_int_equal(vnet_csum_fold(vnet_csum_add(gt_pseudo(seg + 14, false, l - 42), seg + 42, l - 42)),
				 0xffff);
		assert_memory_equal(seg + 34, "\1\1\1\1\1\1\1\1", 8);
	}
}

/* Smaller segments than the sender's: the same stream, contiguous, every
 * checksum right, CWR on the first only, PSH and FIN on the last only. */
static void test_smaller_mss(void **state)
{
	uint8_t hdr[VNET_HDR_LEN];
	size_t len = make_super(false, 12, 1448, 1448 * 40, 0x80 | 0x18 | 0x01, hdr), pos = 0;
	struct vnet_hdr h;
	struct tso t;
	uint32_t seq0;

	(void)state;
	vnet_hdr_decode(hdr, &h);
	h.gso_type |= VNET_GSO_ECN;
	assert_int_equal(tso_plan(&h, super, len, &t), 0);
	assert_false(tso_set_mss(&t, 1000));                /* below the floor */
	assert_true(tso_set_mss(&t, 1372));
	assert_int_equal(t.mss, 1372);
	assert_int_equal(t.n, (1448 * 40 + 1371) / 1372);
	seq0 = gt_get32(super + 34 + 4);
	for (unsigned i = 0; i < t.n; i++) {
		size_t l = build(&t, i), pl = l - t.hlen;
		uint8_t fl = seg[34 + 13];

		assert_true(pl <= 1372);
		assert_int_equal(gt_get32(seg + 34 + 4), seq0 + (uint32_t)pos);
		assert_memory_equal(seg + t.hlen, super + t.hlen + pos, pl);
		assert_int_equal(vnet_csum_fold(vnet_csum_add(gt_pseudo(seg + 14, false, l - 34), seg + 34, l - 34)),
				 0xffff);
		assert_int_equal(!!(fl & 0x80), i == 0);
		assert_int_equal(!!(fl & 0x09), i + 1 == t.n);
		pos += pl;
	}
	assert_int_equal(pos, len - t.hlen);
	/* UDP keeps its datagrams' sizes */
	t.udp = true;
	assert_false(tso_set_mss(&t, 1300));
}

struct got {
	size_t n, len;
	unsigned segs;
	uint8_t hdr[VNET_HDR_LEN];
	uint8_t frame[FMAX];
};

static void emit(void *ctx, void *owner, int fd, const uint8_t *hdr, const uint8_t *frame, size_t len,
		 unsigned segs)
{
	struct got *g = ctx;

	(void)owner;
	(void)fd;
	g->n++;
	g->len = len;
	g->segs = segs;
	memcpy(g->hdr, hdr, VNET_HDR_LEN);
	memcpy(g->frame, frame, len);
}

/* What the far end does with the segments (GRO on delivery) gives back
 * the super-frame: the same frame, the same GSO size. */
static void test_gro_gives_it_back(void **state)
{
	static struct got g;
	static uint8_t segbuf[VNET_HDR_LEN + FMAX];
	int tag;

	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		uint8_t hdr[VNET_HDR_LEN];
		size_t len = make_super(v6, 12, 1388, 1388 * 30, 0x10, hdr);
		struct gro_table gt;
		struct vnet_hdr h, o;
		struct tso t;

		memset(&gt, 0, sizeof(gt));
		memset(&g, 0, sizeof(g));
		vnet_hdr_decode(hdr, &h);
		assert_int_equal(tso_plan(&h, super, len, &t), 0);
		for (unsigned i = 0; i < t.n; i++) {
			size_t off, plen, hl = tso_segment(&t, i, segbuf, &off, &plen);

			memcpy(segbuf + hl, super + off, plen);
			assert_true(gro_add(&gt, &tag, 3, segbuf, segbuf + VNET_HDR_LEN, hl - VNET_HDR_LEN + plen,
					    0, emit, &g));
		}
		gro_flush(&gt, emit, &g);
		gro_free(&gt);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.segs, t.n);
		assert_int_equal(g.len, len);
		vnet_hdr_decode(g.hdr, &o);
		assert_int_equal(o.gso_type, h.gso_type);
		assert_int_equal(o.gso_size, 1388);
		/* the same bytes but the IPv4 ID (the first segment's, as sent) */
		assert_memory_equal(g.frame, super, len);
	}
}

/* UDP_L4: each datagram its own UDP header, length and checksum. */
static void test_udp(void **state)
{
	size_t plen = 3000, len = 14 + 20 + 8 + plen, i, pos = 0;
	uint8_t *ip = super + 14, *uh = super + 34;
	struct vnet_hdr h = {
		.flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_UDP_L4, .gso_size = 1200,
		.csum_start = 34, .csum_offset = 6,
	};
	struct tso t;

	(void)state;
	memset(super, 0, 42);
	gt_put16(super + 12, 0x0800);
	ip[0] = 0x45;
	gt_put16(ip + 2, (uint16_t)(len - 14));
	gt_put16(ip + 4, 10);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	gt_put16(uh, 4000);
	gt_put16(uh + 2, 5000);
	gt_put16(uh + 4, (uint16_t)(8 + plen));
	for (i = 0; i < plen; i++)
		super[42 + i] = (uint8_t)(i * 7);
	assert_int_equal(tso_plan(&h, super, len, &t), 0);
	assert_int_equal(t.n, 3);
	for (i = 0; i < t.n; i++) {
		size_t l = build(&t, (unsigned)i), pl = l - 42;
		uint32_t ps = vnet_csum_add(0, seg + 26, 8) + 17 + (uint32_t)(l - 34);

		assert_int_equal(pl, i < 2 ? 1200 : 600);
		assert_int_equal(gt_get16(seg + 38), l - 34);
		assert_int_equal(gt_get16(seg + 16), l - 14);
		assert_int_equal(gt_get16(seg + 18), 10 + i);
		assert_int_equal(vnet_csum_fold(vnet_csum_add(ps, seg + 34, l - 34)), 0xffff);
		assert_memory_equal(seg + 42, super + 42 + pos, pl);
		pos += pl;
	}
}

/* Frames tso must not touch, each refused with its reason. */
static void test_refused(void **state)
{
	uint8_t hdr[VNET_HDR_LEN];
	size_t len = make_super(false, 0, 1000, 5000, 0x10, hdr);
	struct vnet_hdr h, c;
	struct tso t;

	(void)state;
	vnet_hdr_decode(hdr, &h);
	c = h, c.gso_type = VNET_GSO_NONE;
	assert_int_equal(tso_plan(&c, super, len, &t), -EPROTONOSUPPORT);
	c = h, c.gso_type = VNET_GSO_UDP;                     /* UFO: IP fragments */
	assert_int_equal(tso_plan(&c, super, len, &t), -EPROTONOSUPPORT);
	c = h, c.gso_size = 0;
	assert_int_equal(tso_plan(&c, super, len, &t), -EINVAL);
	c = h, c.flags = 0;
	assert_int_equal(tso_plan(&c, super, len, &t), -EINVAL);
	c = h, c.csum_start = 30;
	assert_int_equal(tso_plan(&c, super, len, &t), -EINVAL);
	c = h, c.csum_offset = 6;
	assert_int_equal(tso_plan(&c, super, len, &t), -EINVAL);
	c = h, c.gso_type = VNET_GSO_TCPV6;                   /* an IPv4 frame */
	assert_int_equal(tso_plan(&c, super, len, &t), -EINVAL);
	assert_int_equal(tso_plan(&h, super, 40, &t), -EINVAL);                    /* truncated */
	assert_int_equal(tso_plan(&h, super, 34 + 20, &t), -EINVAL);               /* no payload */
	super[20] = 0x20;                                                           /* MF */
	assert_int_equal(tso_plan(&h, super, len, &t), -EINVAL);
	super[20] = 0x40;
	super[34 + 12] = 0x40;                                                      /* TCP header of 16 */
	assert_int_equal(tso_plan(&h, super, len, &t), -EINVAL);
	super[34 + 12] = 0x50;
	gt_put16(super + 12, 0x8100);                                               /* a VLAN tag */
	assert_int_equal(tso_plan(&h, super, len, &t), -EPROTONOSUPPORT);
	gt_put16(super + 12, 0x0800);
	assert_int_equal(tso_plan(&h, super, len, &t), 0);
	/* IPv6 with an extension header (hop-by-hop) */
	len = make_super(true, 0, 1000, 5000, 0x10, hdr);
	vnet_hdr_decode(hdr, &h);
	super[14 + 6] = 0;
	assert_int_equal(tso_plan(&h, super, len, &t), -EPROTONOSUPPORT);
	super[14 + 6] = 6;
	assert_int_equal(tso_plan(&h, super, len, &t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_as_kernel),
		cmocka_unit_test(test_v6_as_kernel),
		cmocka_unit_test(test_v4_options),
		cmocka_unit_test(test_smaller_mss),
		cmocka_unit_test(test_gro_gives_it_back),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
