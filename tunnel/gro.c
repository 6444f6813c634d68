/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TCP GRO on the delivery side (see gro.h). */
#include "tunnel/gro.h"

#include <stdlib.h>
#include <string.h>


#define ETH_LEN 14
#define TCP_ACK 0x10
#define TCP_PSH 0x08

/* network byte order */
static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* What parse() found in a frame. */
struct seg {
	size_t l4, hlen, plen;         /* TCP (UDP) at l4, payload at hlen, plen bytes of it */
	uint32_t seq;
	bool v6, udp;
	bool cand;                     /* may be coalesced */
};

static uint32_t pseudo_sum(const uint8_t *ip, bool v6, bool udp, size_t l4len)
{
	uint32_t s = v6 ? vnet_csum_add(0, ip + 8, 32) : vnet_csum_add(0, ip + 12, 8);

	return s + (udp ? 17 : 6) + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
}

/* A UDP datagram (parse() found IP, l4 set): a candidate when the UDP
 * length is the packet's and its checksum is set and right (or trusted). */
static bool parse_udp(const uint8_t *f, size_t len, bool trusted, struct seg *s)
{
	const uint8_t *uh = f + s->l4;

	s->udp = true;
	s->hlen = s->l4 + 8;
	if (!s->cand || len <= s->hlen || len - ETH_LEN > GRO_IP_MAX || get16(uh + 4) != len - s->l4 ||
	    get16(uh + 6) == 0) {
		s->cand = false;
		return true;
	}
	s->plen = len - s->hlen;
	s->cand = trusted || vnet_csum_fold(vnet_csum_add(pseudo_sum(f + ETH_LEN, s->v6, true, len - s->l4), uh,
							  len - s->l4)) == 0xffff;
	return true;
}

/* false: not a TCP segment (or, with udp, a UDP datagram) with ports over
 * untagged IP (no flow). The checksum is verified unless trusted. */
static bool parse(const uint8_t *f, size_t len, bool trusted, bool udp, struct seg *s)
{
	const uint8_t *ip = f + ETH_LEN, *th;
	size_t thlen;
	unsigned et;

	memset(s, 0, sizeof(*s));
	if (len < ETH_LEN + 40)
		return false;
	et = (unsigned)f[12] << 8 | f[13];
	if (et == 0x0800) {
		size_t ihl = (size_t)(ip[0] & 15) * 4;

		/* a fragment past the first has no ports */
		if (ip[0] >> 4 != 4 || (ip[9] != 6 && !(udp && ip[9] == 17)) || ihl < 20 ||
		    ((ip[6] & 0x1f) | ip[7]) || len < ETH_LEN + ihl + 20)
			return false;
		s->l4 = ETH_LEN + ihl;
		s->cand = ihl == 20 && !(ip[6] & 0x20) && get16(ip + 2) == len - ETH_LEN &&
			  vnet_csum_fold(vnet_csum_add(0, ip, 20)) == 0xffff;
		if (ip[9] == 17)
			return parse_udp(f, len, trusted, s);
	} else if (et == 0x86dd) {
		if (ip[0] >> 4 != 6 || (ip[6] != 6 && !(udp && ip[6] == 17)) || len < ETH_LEN + 60)
			return false;
		s->v6 = true;
		s->l4 = ETH_LEN + 40;
		s->cand = get16(ip + 4) == len - s->l4;
		if (ip[6] == 17)
			return parse_udp(f, len, trusted, s);
	} else {
		return false;
	}
	th = f + s->l4;
	thlen = (size_t)(th[12] >> 4) * 4;
	s->hlen = s->l4 + thlen;
	s->seq = get32(th + 4);
	if (!s->cand || thlen < 20 || len <= s->hlen || len - ETH_LEN > GRO_IP_MAX ||
	    (th[13] != TCP_ACK && th[13] != (TCP_ACK | TCP_PSH))) {
		s->cand = false;
		return true;
	}
	s->plen = len - s->hlen;
	s->cand = trusted ||
		  vnet_csum_fold(vnet_csum_add(pseudo_sum(ip, s->v6, false, len - s->l4), th, len - s->l4)) == 0xffff;
	return true;
}

static uint8_t *flow_frame(const struct gro_flow *fl)
{
	return fl->buf + VNET_HDR_LEN;
}

/* The same owner, addresses and ports. */
static bool same_flow(const struct gro_flow *fl, void *owner, const uint8_t *f, const struct seg *s)
{
	const uint8_t *g = flow_frame(fl);

	if (fl->owner != owner || fl->v6 != s->v6 || fl->udp != s->udp || memcmp(g + fl->l4, f + s->l4, 4))
		return false;
	return s->v6 ? !memcmp(g + ETH_LEN + 8, f + ETH_LEN + 8, 32) : !memcmp(g + ETH_LEN + 12, f + ETH_LEN + 12, 8);
}

/* Whether segment s (frame f) continues flow fl. */
static bool can_append(const struct gro_flow *fl, const uint8_t *f, const struct seg *s)
{
	const uint8_t *g = flow_frame(fl), *ip = f + ETH_LEN, *gip = g + ETH_LEN;
	const uint8_t *th = f + s->l4, *gth = g + fl->l4;

	if (!s->cand || s->l4 != fl->l4 || s->hlen != fl->hlen || (!s->udp && s->seq != fl->next_seq) ||
	    s->plen > fl->gso_size || fl->len + s->plen - ETH_LEN > GRO_IP_MAX || memcmp(f, g, ETH_LEN))
		return false;
	if (s->udp && fl->segs >= GRO_UDP_SEGS_MAX)
		return false;
	if (s->v6) {
		/* version, traffic class, flow label; next header, hop limit */
		if (memcmp(ip, gip, 4) || memcmp(ip + 6, gip + 6, 2))
			return false;
	} else {
		uint16_t id = get16(ip + 4);

		/* version, TOS; flags, fragment offset, TTL, protocol */
		if (memcmp(ip, gip, 2) || memcmp(ip + 6, gip + 6, 4))
			return false;
		if (fl->segs == 1 ? id != (uint16_t)(fl->id0 + 1) && !(id == 0 && fl->id0 == 0 && (ip[6] & 0x40))
				  : id != (fl->id_fixed ? 0 : (uint16_t)(fl->id0 + fl->segs)))
			return false;
	}
	if (s->udp)
		return true;
	/* ACK number, data offset (flags: parse()), window, urgent pointer, options */
	return !memcmp(th + 8, gth + 8, 5) && !memcmp(th + 14, gth + 14, 2) && !memcmp(th + 18, gth + 18, 2) &&
	       !memcmp(th + 20, gth + 20, s->hlen - s->l4 - 20);
}

static void flow_emit(struct gro_flow *fl, gro_emit_fn emit, void *ctx)
{
	uint8_t *g = flow_frame(fl), *ip = g + ETH_LEN, *th = g + fl->l4;
	void *owner = fl->owner;

	fl->owner = NULL;
	if (fl->segs == 1) {
		/* unchanged, with the header it came with */
		emit(ctx, owner, fl->fd, fl->buf, g, fl->len, 1);
		return;
	}
	struct vnet_hdr h = {
		.flags = VNET_F_NEEDS_CSUM,
		.gso_type = fl->udp ? VNET_GSO_UDP_L4 : fl->v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4,
		.hdr_len = (uint16_t)fl->hlen,
		.gso_size = fl->gso_size,
		.csum_start = (uint16_t)fl->l4,
		.csum_offset = fl->udp ? 6 : 16,
	};
	if (fl->v6) {
		put16(ip + 4, (uint16_t)(fl->len - fl->l4));
	} else {
		put16(ip + 2, (uint16_t)(fl->len - ETH_LEN));
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~vnet_csum_fold(vnet_csum_add(0, ip, 20)));
	}
	/* CHECKSUM_PARTIAL: the pseudo-header's sum, folded, not complemented */
	if (fl->udp) {
		put16(th + 4, (uint16_t)(fl->len - fl->l4));
		put16(th + 6, vnet_csum_fold(pseudo_sum(ip, fl->v6, true, fl->len - fl->l4)));
	} else {
		put16(th + 16, vnet_csum_fold(pseudo_sum(ip, fl->v6, false, fl->len - fl->l4)));
	}
	vnet_hdr_encode(fl->buf, &h);
	emit(ctx, owner, fl->fd, fl->buf, g, fl->len, fl->segs);
}

static struct gro_flow *find(struct gro_table *t, void *owner, const uint8_t *f, const struct seg *s)
{
	for (size_t i = 0; i < GRO_FLOWS; i++)
		if (t->f[i].owner && same_flow(&t->f[i], owner, f, s))
			return &t->f[i];
	return NULL;
}

/* A free flow, the oldest emitted to make one; NULL: no memory. */
static struct gro_flow *take(struct gro_table *t, gro_emit_fn emit, void *ctx)
{
	struct gro_flow *old = NULL;

	if (!t->mem) {
		t->mem = malloc((size_t)GRO_FLOWS * (VNET_HDR_LEN + GRO_FRAME_MAX));
		if (!t->mem)
			return NULL;
		for (size_t i = 0; i < GRO_FLOWS; i++)
			t->f[i].buf = t->mem + i * (VNET_HDR_LEN + GRO_FRAME_MAX);
	}
	for (size_t i = 0; i < GRO_FLOWS; i++) {
		if (!t->f[i].owner)
			return &t->f[i];
		if (!old || t->f[i].stamp < old->stamp)
			old = &t->f[i];
	}
	flow_emit(old, emit, ctx);
	return old;
}

bool gro_add(struct gro_table *t, void *owner, int fd, const uint8_t *hdr, const uint8_t *f, size_t len,
	     unsigned flags, gro_emit_fn emit, void *ctx)
{
	static const uint8_t zero[VNET_HDR_LEN];
	struct vnet_hdr h = { 0 };
	struct gro_flow *fl;
	struct seg s;

	if (hdr)
		vnet_hdr_decode(hdr, &h);
	/* a partial checksum (the sender's kernel left it to the device) or
	 * one validated: the frame came through the tunnel's authentication */
	if (!parse(f, len, h.flags & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID), flags & (GRO_UDP4 | GRO_UDP6), &s))
		return false;
	if (s.udp && !(flags & (s.v6 ? GRO_UDP6 : GRO_UDP4)))
		s.cand = false;
	if (h.gso_type != VNET_GSO_NONE ||
	    ((h.flags & VNET_F_NEEDS_CSUM) && (h.csum_start != s.l4 || h.csum_offset != (s.udp ? 6 : 16))))
		s.cand = false;
	fl = find(t, owner, f, &s);
	if (fl && can_append(fl, f, &s)) {
		const uint8_t *th = f + s.l4;

		memcpy(flow_frame(fl) + fl->len, f + s.hlen, s.plen);
		fl->len += s.plen;
		fl->segs++;
		fl->next_seq += (uint32_t)s.plen;
		if (fl->segs == 2 && get16(f + ETH_LEN + 4) == 0 && fl->id0 == 0 && !s.v6)
			fl->id_fixed = true;
		/* PSH or a shorter segment: nothing may follow */
		if (!s.udp && (th[13] & TCP_PSH)) {
			flow_frame(fl)[fl->l4 + 13] |= TCP_PSH;
			flow_emit(fl, emit, ctx);
		} else if (s.plen < fl->gso_size) {
			flow_emit(fl, emit, ctx);
		}
		return true;
	}
	if (fl)
		flow_emit(fl, emit, ctx);
	/* a PSH segment alone goes as it is */
	if (!s.cand || (!s.udp && (f[s.l4 + 13] & TCP_PSH)))
		return false;
	fl = take(t, emit, ctx);
	if (!fl)
		return false;
	memcpy(fl->buf, hdr ? hdr : zero, VNET_HDR_LEN);
	memcpy(flow_frame(fl), f, len);
	fl->owner = owner;
	fl->fd = fd;
	fl->len = len;
	fl->l4 = s.l4;
	fl->hlen = s.hlen;
	fl->gso_size = (uint16_t)s.plen;
	fl->id0 = s.v6 ? 0 : get16(f + ETH_LEN + 4);
	fl->id_fixed = false;
	fl->next_seq = s.seq + (uint32_t)s.plen;
	fl->segs = 1;
	fl->v6 = s.v6;
	fl->udp = s.udp;
	fl->stamp = ++t->clock;
	return true;
}

void gro_flush(struct gro_table *t, gro_emit_fn emit, void *ctx)
{
	for (;;) {
		struct gro_flow *old = NULL;

		for (size_t i = 0; i < GRO_FLOWS; i++)
			if (t->f[i].owner && (!old || t->f[i].stamp < old->stamp))
				old = &t->f[i];
		if (!old)
			return;
		flow_emit(old, emit, ctx);
	}
}

bool gro_pending(const struct gro_table *t)
{
	for (size_t i = 0; i < GRO_FLOWS; i++)
		if (t->f[i].owner)
			return true;
	return false;
}

void gro_free(struct gro_table *t)
{
	free(t->mem);
	memset(t, 0, sizeof(*t));
}
