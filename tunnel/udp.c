/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UDP socket setup and batched sends (see udp.h). */
#include "tunnel/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

int udp_open(const struct sockaddr_storage *listen, socklen_t len)
{
	int fd, one = 1, bufsz = 4 << 20, r;
	int pmtu = IP_PMTUDISC_DO;

	fd = socket(listen->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Larger buffers absorb bursts; SO_*BUFFORCE works as root, fall back. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (listen->ss_family == AF_INET6) {
		int v6pmtu = IPV6_PMTUDISC_DO;

		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6pmtu, sizeof(v6pmtu));
	} else {
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	}
	if (bind(fd, (const struct sockaddr *)listen, len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int udp_send_batch(int fd, const struct tunnel_batch *b)
{
	struct mmsghdr msgs[64];
	struct iovec iov[64];
	size_t done = 0;
	int sent = 0;

	while (done < b->n) {
		size_t n = b->n - done, i;
		int r;

		if (n > 64)
			n = 64;
		for (i = 0; i < n; i++) {
			const struct tunnel_dgram *d = &b->d[done + i];

			iov[i].iov_base = d->data;
			iov[i].iov_len = d->len;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_name = (void *)&d->dst;
			msgs[i].msg_hdr.msg_namelen = d->dst_len;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* The first datagram failed (EMSGSIZE, unreachable,
			 * full buffer): skip it rather than spin. */
			if (errno != EAGAIN && errno != ENOBUFS)
				log_debug("udp: send to peer failed: %s, dropping", strerror(errno));
			done++;
			continue;
		}
		done += r;
		sent += r;
	}
	return sent;
}
