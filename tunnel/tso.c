/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Segmentation of a GSO super-frame in user space (see tso.h). */
#include "tunnel/tso.h"

#include <errno.h>
#include <string.h>

#define ETH_LEN 14
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80
/* the smallest segments made smaller (IPv6 minimum MTU - 40 - 60) */
#define TSO_MSS_MIN 1180

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int tso_plan(const struct vnet_hdr *h, const uint8_t *f, size_t len, struct tso *t)
{
	unsigned gso = h->gso_type & (unsigned)~VNET_GSO_ECN, et;
	size_t l4hdr;

	memset(t, 0, sizeof(*t));
	if (gso != VNET_GSO_TCPV4 && gso != VNET_GSO_TCPV6 && gso != VNET_GSO_UDP_L4)
		return -EPROTONOSUPPORT;
	if (!(h->flags & VNET_F_NEEDS_CSUM) || h->gso_size == 0 || len < ETH_LEN + 40)
		return -EINVAL;
	et = get16(f + 12);
	t->l3 = ETH_LEN;
	t->l4 = h->csum_start;
	t->udp = gso == VNET_GSO_UDP_L4;
	if (et == 0x0800) {
		const uint8_t *ip = f + ETH_LEN;
		size_t ihl = (size_t)(ip[0] & 15) * 4;

		if (gso == VNET_GSO_TCPV6)
			return -EINVAL;
		if (ip[0] >> 4 != 4 || ihl < 20 || t->l4 != ETH_LEN + ihl || ((ip[6] & 0x3f) | ip[7]))
			return -EINVAL;
		if (ip[9] != (t->udp ? 17 : 6))
			return -EINVAL;
	} else if (et == 0x86dd) {
		const uint8_t *ip = f + ETH_LEN;

		if (gso == VNET_GSO_TCPV4)
			return -EINVAL;
		if (ip[0] >> 4 != 6)
			return -EINVAL;
		if (ip[6] != (t->udp ? 17 : 6))
			return -EPROTONOSUPPORT;  /* extension headers */
		if (t->l4 != ETH_LEN + 40)
			return -EINVAL;
		t->v6 = true;
	} else {
		return -EPROTONOSUPPORT;
	}
	if (h->csum_offset != (t->udp ? 6 : 16))
		return -EINVAL;
	if (t->udp) {
		l4hdr = 8;
	} else {
		if (len < t->l4 + 20)
			return -EINVAL;
		l4hdr = (size_t)(f[t->l4 + 12] >> 4) * 4;
		if (l4hdr < 20)
			return -EINVAL;
	}
	t->hlen = t->l4 + l4hdr;
	if (t->hlen > TSO_HDR_MAX || len <= t->hlen)
		return -EINVAL;
	t->frame = f;
	t->len = len;
	t->mss = h->gso_size;
	t->n = (unsigned)((len - t->hlen + t->mss - 1) / t->mss);
	return 0;
}

bool tso_set_mss(struct tso *t, size_t mss)
{
	if (t->udp || mss < TSO_MSS_MIN)
		return false;
	if (mss < t->mss) {
		t->mss = mss;
		t->n = (unsigned)((t->len - t->hlen + t->mss - 1) / t->mss);
	}
	return true;
}

size_t tso_segment(const struct tso *t, unsigned i, uint8_t *out, size_t *off, size_t *plen)
{
	struct vnet_hdr vh = {
		.flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_NONE,
		.csum_start = (uint16_t)t->l4, .csum_offset = t->udp ? 6 : 16,
	};
	uint8_t *f = out + VNET_HDR_LEN, *ip = f + t->l3, *l4 = f + t->l4;
	size_t start = t->hlen + (size_t)i * t->mss, l4len;
	uint32_t sum;

	*off = start;
	*plen = t->len - start < t->mss ? t->len - start : t->mss;
	vnet_hdr_encode(out, &vh);
	memcpy(f, t->frame, t->hlen);
	l4len = t->hlen - t->l4 + *plen;
	if (t->v6) {
		put16(ip + 4, (uint16_t)(t->hlen - t->l3 - 40 + *plen));
		sum = vnet_csum_add(0, ip + 8, 32);
	} else {
		put16(ip + 2, (uint16_t)(t->hlen - t->l3 + *plen));
		put16(ip + 4, (uint16_t)(get16(ip + 4) + i));
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~vnet_csum_fold(vnet_csum_add(0, ip, t->l4 - t->l3)));
		sum = vnet_csum_add(0, ip + 12, 8);
	}
	sum += (t->udp ? 17u : 6u) + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
	if (t->udp) {
		put16(l4 + 4, (uint16_t)l4len);
		put16(l4 + 6, vnet_csum_fold(sum));
	} else {
		uint32_t seq = ((uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 | (uint32_t)l4[6] << 8 | l4[7]) +
			       (uint32_t)(i * t->mss);

		l4[4] = (uint8_t)(seq >> 24);
		l4[5] = (uint8_t)(seq >> 16);
		l4[6] = (uint8_t)(seq >> 8);
		l4[7] = (uint8_t)seq;
		if (i > 0)
			l4[13] &= (uint8_t)~TCP_CWR;
		if (i + 1 < t->n)
			l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		put16(l4 + 16, vnet_csum_fold(sum));
	}
	return VNET_HDR_LEN + t->hlen;
}
