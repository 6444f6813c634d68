/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The UDP socket of a node: one per daemon, carrying every peer. DF is set
 * (IP_PMTUDISC_DO): the protocol fragments itself, the underlay never does.
 */
#ifndef BRIDGED_TUNNEL_UDP_H
#define BRIDGED_TUNNEL_UDP_H

#include <sys/socket.h>

#include "tunnel/tunnel.h"

/* Binds a non-blocking UDP socket; returns the fd or -errno. */
int udp_open(const struct sockaddr_storage *listen, socklen_t len);
/* Sends the whole batch with sendmmsg; returns datagrams sent or -errno.
 * Datagrams the kernel refuses are skipped (counted in the return's
 * shortfall), never retried forever. */
int udp_send_batch(int fd, const struct tunnel_batch *b);

#endif
