/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UDP socket setup and batched sends (see udp.h). */
#include "tunnel/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

int udp_open(const struct sockaddr_storage *listen, socklen_t len)
{
	return udp_open_reuseport(listen, len, false);
}

int udp_open_reuseport(const struct sockaddr_storage *listen, socklen_t len, bool reuseport)
{
	int fd, one = 1, bufsz = 4 << 20, r;
	int pmtu = IP_PMTUDISC_DO;

	fd = socket(listen->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
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

static void note_too_big(struct udp_send_stats *st, const struct tunnel_dgram *d)
{
	if (!st)
		return;
	if (!st->too_big++) {
		memcpy(&st->too_big_dst, &d->dst, d->dst_len);
		st->too_big_dst_len = d->dst_len;
	}
}

int udp_path_mtu(const struct sockaddr *dst, socklen_t len)
{
	int fd, mtu = 0, r;
	socklen_t l = sizeof(mtu);

	if (dst->sa_family != AF_INET && dst->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	fd = socket(dst->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, dst, len) < 0 ||
	    getsockopt(fd, dst->sa_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       dst->sa_family == AF_INET6 ? IPV6_MTU : IP_MTU, &mtu, &l) < 0)
		r = -errno;
	else
		r = mtu > 0 ? mtu : -EINVAL;
	close(fd);
	return r;
}

int udp_send_batch(int fd, const struct tunnel_batch *b, struct udp_send_stats *st)
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
			if (errno == EMSGSIZE)
				note_too_big(st, &b->d[done]);
			else if (errno != EAGAIN && errno != ENOBUFS)
				log_debug("udp: send to peer failed: %s, dropping", strerror(errno));
			done++;
			continue;
		}
		done += r;
		sent += r;
	}
	return sent;
}

bool udp_gso_supported(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &l) == 0;
}

#define GSO_SEGS_MAX 64
#define GSO_BYTES_MAX 65000	/* the IP length limit, headers included */
#define CHUNK 256

static bool same_dst(const struct tunnel_dgram *a, const struct tunnel_dgram *b)
{
	return a->dst_len == b->dst_len && !memcmp(&a->dst, &b->dst, a->dst_len);
}

int udp_send_batch_gso(int fd, const struct tunnel_batch *b, bool gso, struct udp_send_stats *st)
{
	struct mmsghdr msgs[CHUNK];
	struct iovec iov[CHUNK];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[CHUNK];
	size_t done = 0;
	int sent = 0, ret = 0;

	if (!gso) {
		int r = udp_send_batch(fd, b, st);

		st->calls++;
		st->msgs += b->n;
		st->dgrams += r > 0 ? (unsigned)r : 0;
		return r;
	}
	while (done < b->n) {
		size_t nm = 0, ni = 0, i = done, first[CHUNK], count[CHUNK], m;

		/* group: same destination, the size of the run's first, the
		 * last may be shorter (and ends the run) */
		while (i < b->n && nm < CHUNK && ni < CHUNK) {
			const struct tunnel_dgram *d0 = &b->d[i];
			size_t k = 1, bytes = d0->len;

			iov[ni].iov_base = d0->data;
			iov[ni].iov_len = d0->len;
			while (i + k < b->n && ni + k < CHUNK && k < GSO_SEGS_MAX) {
				const struct tunnel_dgram *d = &b->d[i + k];

				if (d->len > d0->len || bytes + d->len > GSO_BYTES_MAX || !same_dst(d0, d))
					break;
				iov[ni + k].iov_base = d->data;
				iov[ni + k].iov_len = d->len;
				bytes += d->len;
				k++;
				if (d->len < d0->len)
					break;
			}
			memset(&msgs[nm], 0, sizeof(msgs[nm]));
			msgs[nm].msg_hdr.msg_name = (void *)&d0->dst;
			msgs[nm].msg_hdr.msg_namelen = d0->dst_len;
			msgs[nm].msg_hdr.msg_iov = &iov[ni];
			msgs[nm].msg_hdr.msg_iovlen = k;
			if (k > 1) {
				struct cmsghdr *c;
				uint16_t size = (uint16_t)d0->len;

				msgs[nm].msg_hdr.msg_control = ctl[nm].buf;
				msgs[nm].msg_hdr.msg_controllen = sizeof(ctl[nm].buf);
				c = CMSG_FIRSTHDR(&msgs[nm].msg_hdr);
				c->cmsg_level = SOL_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof(size));
				memcpy(CMSG_DATA(c), &size, sizeof(size));
			}
			first[nm] = i;
			count[nm] = k;
			nm++;
			ni += k;
			i += k;
		}
		for (m = 0; m < nm;) {
			int r = sendmmsg(fd, msgs + m, (unsigned)(nm - m), 0);

			st->calls++;
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if ((errno == EIO || errno == EINVAL || errno == EOPNOTSUPP) && count[m] > 1) {
					/* no UDP GSO on this path: this run one by one */
					struct tunnel_batch one = { .d = (struct tunnel_dgram *)&b->d[first[m]],
								    .n = count[m], .cap = count[m] };
					unsigned big = st->too_big;
					int rr = udp_send_batch(fd, &one, st);

					st->msgs += count[m];
					st->dgrams += rr > 0 ? (unsigned)rr : 0;
					sent += rr > 0 ? rr : 0;
					/* segments larger than the path MTU are refused
					 * with EINVAL too: that is no lack of UDP GSO */
					if (st->too_big == big)
						ret = -EOPNOTSUPP;
					m++;
					continue;
				}
				if (errno == EMSGSIZE)
					note_too_big(st, &b->d[first[m]]);
				else if (errno != EAGAIN && errno != ENOBUFS)
					log_debug("udp: send to peer failed: %s, dropping", strerror(errno));
				m++;
				continue;
			}
			for (int k = 0; k < r; k++) {
				st->msgs++;
				st->dgrams += (unsigned)count[m + (size_t)k];
				sent += (int)count[m + (size_t)k];
			}
			m += (size_t)r;
		}
		done = i;
	}
	return ret < 0 ? ret : sent;
}
