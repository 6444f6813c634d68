/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the segmentation of super-frames in user space
 * (tunnel/tso.c). The input: a virtio_net_hdr (10 bytes), two bytes for a
 * smaller segment size, then the frame. Checked, for whatever tso_plan
 * takes: the segments cover the payload exactly, in order, none larger
 * than the segment size; each is a well-formed packet (IP lengths, IPv4
 * header checksum, L4 length for UDP) whose partial checksum completes to
 * one that verifies; TCP sequence numbers follow the payload; and for TCP,
 * GRO on delivery (tunnel/gro.c) fed the segments gives back the payload
 * in order (up to 64 segments). Nothing is read outside the frame (ASan).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/gro_seg.h"
#include "tunnel/gro.h"
#include "tunnel/tso.h"

static uint8_t seg[VNET_HDR_LEN + 14 + 65535];
static uint8_t back[65536 * 2];
static size_t back_len;
static bool back_bad;

static void emit(void *ctx, void *owner, int fd, const uint8_t *hdr, const uint8_t *frame, size_t len,
		 unsigned segs)
{
	const struct tso *t = ctx;
	static uint8_t out[64][14 + 65535];
	size_t outlen[64];
	int n;

	(void)owner;
	(void)fd;
	(void)segs;
	n = gt_segment(hdr, frame, len, out, outlen, 64);
	if (n < 1) {
		back_bad = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		size_t pl = outlen[i] - t->hlen;

		if (outlen[i] < t->hlen || back_len + pl > sizeof(back)) {
			back_bad = true;
			return;
		}
		memcpy(back + back_len, out[i] + t->hlen, pl);
		back_len += pl;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet_hdr h;
	struct tso t;
	uint8_t *f;
	size_t len, pos;
	struct gro_table gt;
	int tag;
	bool tcp_plain;

	if (size < VNET_HDR_LEN + 2 || size - VNET_HDR_LEN - 2 > 14 + 65535)
		return 0;
	vnet_hdr_decode(data, &h);
	len = size - VNET_HDR_LEN - 2;
	f = malloc(len ? len : 1);
	if (!f)
		abort();
	memcpy(f, data + VNET_HDR_LEN + 2, len);
	if (tso_plan(&h, f, len, &t) < 0) {
		free(f);
		return 0;
	}
	tso_set_mss(&t, (size_t)data[VNET_HDR_LEN] << 8 | data[VNET_HDR_LEN + 1]);
	if (t.n == 0 || t.n > 65535 || t.hlen > TSO_HDR_MAX)
		abort();
	/* GRO can give TCP back when the segments are what it coalesces: the
	 * IPv4 header without options, ACK (and PSH) only */
	tcp_plain = !t.udp && (t.v6 || t.l4 == 34) && (f[t.l4 + 13] & (uint8_t)~0x08) == 0x10 &&
		    t.n <= 64;  /* what the reference segmentation takes */
	memset(&gt, 0, sizeof(gt));
	back_len = 0;
	back_bad = false;
	pos = t.hlen;
	for (unsigned i = 0; i < t.n; i++) {
		size_t off, plen, hl = tso_segment(&t, i, seg, &off, &plen), sl;
		uint8_t *s = seg + VNET_HDR_LEN, *ip = s + t.l3;
		struct vnet_hdr vh;

		if (hl != VNET_HDR_LEN + t.hlen || off != pos || plen == 0 || plen > t.mss || off + plen > len)
			abort();
		if (i + 1 < t.n && plen != t.mss)
			abort();
		memcpy(s + t.hlen, f + off, plen);
		sl = t.hlen + plen;
		if (t.v6 ? gt_get16(ip + 4) != sl - t.l3 - 40
			 : gt_get16(ip + 2) != sl - t.l3 || vnet_csum_fold(vnet_csum_add(0, ip, t.l4 - t.l3)) != 0xffff)
			abort();
		if (t.udp && gt_get16(s + t.l4 + 4) != sl - t.l4)
			abort();
		if (!t.udp && gt_get32(s + t.l4 + 4) != gt_get32(f + t.l4 + 4) + (uint32_t)(off - t.hlen))
			abort();
		vnet_hdr_decode(seg, &vh);
		if (vh.flags != VNET_F_NEEDS_CSUM || vh.gso_type != VNET_GSO_NONE)
			abort();
		if (tcp_plain && !gro_add(&gt, &tag, 1, seg, s, sl, 0, emit, &t)) {
			/* not coalesced: written as it is */
			memcpy(back + back_len, s + t.hlen, plen);
			back_len += plen;
		}
		if (vnet_csum_complete(s, sl, vh.csum_start, vh.csum_offset) < 0)
			abort();
		{
			uint32_t ps = t.v6 ? vnet_csum_add(0, ip + 8, 32) : vnet_csum_add(0, ip + 12, 8);

			ps += (t.udp ? 17u : 6u) + (uint32_t)((sl - t.l4) >> 16) + (uint32_t)((sl - t.l4) & 0xffff);
			if (vnet_csum_fold(vnet_csum_add(ps, s + t.l4, sl - t.l4)) != 0xffff)
				abort();
		}
		pos += plen;
	}
	if (pos != len)
		abort();
	if (tcp_plain) {
		gro_flush(&gt, emit, &t);
		if (back_bad || back_len != len - t.hlen || memcmp(back, f + t.hlen, back_len))
			abort();
	}
	gro_free(&gt);
	free(f);
	return 0;
}
