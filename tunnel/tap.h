/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TAP devices (/dev/net/tun, IFF_TAP | IFF_NO_PI). A TAP is not persistent:
 * it vanishes with its fd, so a killed daemon leaves no stale port behind.
 */
#ifndef BRIDGED_TUNNEL_TAP_H
#define BRIDGED_TUNNEL_TAP_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

/* Opens (creating) TAP name, non-blocking. Returns the fd or -errno;
 * ret_name (IFNAMSIZ, may be NULL) gets the kernel's name. */
int tap_open(const char *name, char *ret_name);
/* The same with IFF_VNET_HDR: every frame read or written is preceded by a
 * 10-byte struct virtio_net_hdr, little-endian (TUNSETVNETLE where the host
 * is not). No offload is on until tap_set_offload. */
int tap_open_vnet(const char *name, char *ret_name);
/* The same with IFF_MULTI_QUEUE: each call with the same name opens one
 * more queue of that TAP (up to the kernel's limit); multi must be the
 * same for every queue of a TAP. */
int tap_open_vnet_mq(const char *name, char *ret_name, bool multi);

/* Offload bits (TUN_F_*) the kernel may hand a vnet TAP: partial checksums
 * and TCP/UDP segmentation offload (super-frames). */
#define TAP_OFFLOAD_TSO 0x0fu	/* TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN */
#define TAP_OFFLOAD_USO 0x60u	/* TUN_F_USO4 | TUN_F_USO6 (Linux 6.2) */
#define TAP_OFFLOAD_USO4 0x20u
#define TAP_OFFLOAD_USO6 0x40u
/* Asks for the offloads in want (TUN_F_* bits); drops the USO bits, then
 * TSO, when the kernel refuses them. Returns the bits now on, or -errno. */
int tap_set_offload(int fd, unsigned want);
/* "csum tso4 tso6 uso4 uso6" for the bits in flags ("none" for 0). */
const char *tap_offload_string(unsigned flags, char *buf, size_t len);
/* Sets the carrier (TUNSETCARRIER): off makes the bridge stop using the port. */
int tap_set_carrier(int fd, bool on);
/* Lets through to the reader only frames with this ethertype and this
 * destination MAC (a classic BPF program, TUNATTACHFILTER); the kernel
 * drops the rest before they are copied to user space. */
int tap_filter_frames(int fd, uint16_t ethertype, const uint8_t dst[6]);

#endif
