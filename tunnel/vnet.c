/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio_net_hdr codec and checksum completion (see vnet.h). */
#include "tunnel/vnet.h"

#include <errno.h>

#include "tunnel/wire.h"

void vnet_hdr_decode(const uint8_t b[VNET_HDR_LEN], struct vnet_hdr *h)
{
	h->flags = b[0];
	h->gso_type = b[1];
	h->hdr_len = wire_get16(b + 2);
	h->gso_size = wire_get16(b + 4);
	h->csum_start = wire_get16(b + 6);
	h->csum_offset = wire_get16(b + 8);
}

void vnet_hdr_encode(uint8_t b[VNET_HDR_LEN], const struct vnet_hdr *h)
{
	b[0] = h->flags;
	b[1] = h->gso_type;
	wire_put16(b + 2, h->hdr_len);
	wire_put16(b + 4, h->gso_size);
	wire_put16(b + 6, h->csum_start);
	wire_put16(b + 8, h->csum_offset);
}

uint32_t vnet_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;

	while (len >= 2) {
		s += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		s += (uint32_t)(p[0] << 8);
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t vnet_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

int vnet_csum_complete(uint8_t *frame, size_t len, uint16_t csum_start, uint16_t csum_offset)
{
	size_t at = (size_t)csum_start + csum_offset;
	uint16_t c;

	if (csum_start >= len || at + 2 > len || at < csum_start)
		return -EINVAL;
	c = (uint16_t)~vnet_csum_fold(vnet_csum_add(0, frame + csum_start, len - csum_start));
	/* UDP sends a computed 0 as 0xffff (RFC 768); for TCP both are one value */
	if (c == 0)
		c = 0xffff;
	frame[at] = (uint8_t)(c >> 8);
	frame[at + 1] = (uint8_t)c;
	return 0;
}
