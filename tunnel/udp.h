/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The UDP socket of a node: one per daemon, carrying every peer. DF is set
 * (IP_PMTUDISC_DO): the protocol fragments itself, the underlay never does.
 */
#ifndef BRIDGED_TUNNEL_UDP_H
#define BRIDGED_TUNNEL_UDP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "tunnel/tunnel.h"

/* Binds a non-blocking UDP socket; returns the fd or -errno. */
int udp_open(const struct sockaddr_storage *listen, socklen_t len);
/* The same with SO_REUSEPORT when reuseport: several sockets on one port,
 * one per worker; the kernel steers each datagram by a hash of its
 * addresses and ports, so one peer's datagrams all reach one socket. */
int udp_open_reuseport(const struct sockaddr_storage *listen, socklen_t len, bool reuseport);
struct udp_send_stats {
	unsigned calls, msgs, dgrams;      /* sendmmsg calls, messages, datagrams */
	/* Datagrams refused as larger than the path MTU (EMSGSIZE: the
	 * device's MTU, or one an ICMP "fragmentation needed" taught the
	 * kernel), and the destination of the first of them. */
	unsigned too_big;
	struct sockaddr_storage too_big_dst;
	socklen_t too_big_dst_len;
};
/* Sends the whole batch with sendmmsg; returns datagrams sent or -errno.
 * Datagrams the kernel refuses are skipped (counted in the return's
 * shortfall), never retried forever; st (may be NULL) counts the ones
 * refused for their size. */
int udp_send_batch(int fd, const struct tunnel_batch *b, struct udp_send_stats *st);
/* The IP MTU the kernel uses towards dst now (the route's device MTU or a
 * smaller path MTU it learned), through a connected probe socket (no
 * packet is sent); -errno when it cannot tell. */
int udp_path_mtu(const struct sockaddr *dst, socklen_t len);
/* The same; with gso, runs of datagrams to one destination of one size
 * (the last of a run may be shorter) leave as one message with
 * UDP_SEGMENT (at most 64 datagrams, 64 KiB). -EOPNOTSUPP when the kernel
 * refused UDP_SEGMENT (the batch was then sent without it): call with gso
 * false from then on. */
int udp_send_batch_gso(int fd, const struct tunnel_batch *b, bool gso, struct udp_send_stats *st);
/* The kernel takes UDP_SEGMENT on this socket. */
bool udp_gso_supported(int fd);

#endif
