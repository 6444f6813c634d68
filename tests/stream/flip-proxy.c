/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A corrupting TCP proxy for the stream tests:
 *   flip-proxy LISTEN_ADDR LISTEN_PORT TARGET_ADDR TARGET_PORT OFFSET
 * accepts one connection, connects to the target and relays both ways; the
 * byte at OFFSET of the client-to-target direction is XORed with 0x40.
 * Exits when both directions are closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int addr_of(const char *a, const char *p, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(p));
	return inet_pton(AF_INET, a, &sin->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in la, ta;
	unsigned long long flip, seen = 0;
	static char buf[1 << 16];
	int lfd, c, t, one = 1, open_dirs = 2;
	struct pollfd p[2];

	if (argc != 6 || addr_of(argv[1], argv[2], &la) || addr_of(argv[3], argv[4], &ta)) {
		fprintf(stderr, "usage: flip-proxy LADDR LPORT TADDR TPORT OFFSET\n");
		return 2;
	}
	flip = strtoull(argv[5], NULL, 10);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&la, sizeof(la)) < 0 || listen(lfd, 1) < 0) {
		perror("listen");
		return 1;
	}
	c = accept(lfd, NULL, NULL);
	t = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(t, (struct sockaddr *)&ta, sizeof(ta)) < 0) {
		perror("connect");
		return 1;
	}
	p[0].fd = c;
	p[1].fd = t;
	while (open_dirs > 0) {
		p[0].events = p[0].fd >= 0 ? POLLIN : 0;
		p[1].events = p[1].fd >= 0 ? POLLIN : 0;
		if (poll(p, 2, 60000) <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				shutdown(i == 0 ? t : c, SHUT_WR);
				p[i].fd = -1;
				open_dirs--;
				continue;
			}
			if (i == 0) {
				if (flip >= seen && flip < seen + (unsigned long long)n) {
					buf[flip - seen] ^= 0x40;
					fprintf(stderr, "flip-proxy: flipped byte %llu\n", flip);
				}
				seen += (unsigned long long)n;
			}
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(i == 0 ? t : c, buf + off, (size_t)(n - off));

				if (w < 0) {
					if (errno == EINTR)
						continue;
					return 0;
				}
				off += w;
			}
		}
	}
	return 0;
}
