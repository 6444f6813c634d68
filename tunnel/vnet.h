/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The 10-byte struct virtio_net_hdr a vnet TAP puts before each frame
 * (linux/virtio_net.h), little-endian, and what the data path does with it
 * by hand: completing a partial checksum for a peer that takes no GSO
 * frames. Pure byte work, unit-tested.
 */
#ifndef BRIDGED_TUNNEL_VNET_H
#define BRIDGED_TUNNEL_VNET_H

#include <stddef.h>
#include <stdint.h>

#define VNET_HDR_LEN 10
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP 3
#define VNET_GSO_TCPV6 4
#define VNET_GSO_UDP_L4 5
#define VNET_GSO_ECN 0x80

struct vnet_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

void vnet_hdr_decode(const uint8_t b[VNET_HDR_LEN], struct vnet_hdr *h);
void vnet_hdr_encode(uint8_t b[VNET_HDR_LEN], const struct vnet_hdr *h);
/* Nothing to do for the receiver: no offload pending. */
static inline int vnet_hdr_plain(const struct vnet_hdr *h)
{
	return h->gso_type == VNET_GSO_NONE && !(h->flags & VNET_F_NEEDS_CSUM);
}
/* Completes the partial checksum of frame (len bytes) as a device would:
 * the one's complement sum from csum_start to the end, the field at
 * csum_start + csum_offset holding the pseudo-header sum, folded,
 * complemented, stored there. -EINVAL when the offsets do not fit. */
int vnet_csum_complete(uint8_t *frame, size_t len, uint16_t csum_start, uint16_t csum_offset);
/* The Internet checksum's 32-bit partial sum of len bytes (big-endian words). */
uint32_t vnet_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t vnet_csum_fold(uint32_t sum);

#endif
