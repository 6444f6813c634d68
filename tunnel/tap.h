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
/* Sets the carrier (TUNSETCARRIER): off makes the bridge stop using the port. */
int tap_set_carrier(int fd, bool on);
/* Lets through to the reader only frames with this ethertype and this
 * destination MAC (a classic BPF program, TUNATTACHFILTER); the kernel
 * drops the rest before they are copied to user space. */
int tap_filter_frames(int fd, uint16_t ethertype, const uint8_t dst[6]);

#endif
