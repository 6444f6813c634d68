/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * probe-forge IFACE: plays a hostile VM. Sniffs one loop-guard probe on
 * IFACE (they are flooded to every port), then sends a forged one: another
 * origin, and a single hop claiming the tunnel it came through was crossed
 * the other way (the hop list is what picks the port to block). Exit 0 when
 * the forged probe was sent, 1 when no probe was seen within 5 s.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(0x88b5) };
	struct timeval tv = { .tv_sec = 5 };
	uint8_t f[2048], forged[80];
	ssize_t n;
	int fd;

	if (argc != 2)
		return 2;
	fd = socket(AF_PACKET, SOCK_RAW, htons(0x88b5));
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (fd < 0 || !sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("socket");
		return 2;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		n = recv(fd, f, sizeof(f), 0);
		if (n < 0)
			return 1;
		if (n >= 76 && !memcmp(f + 14, "BDLP", 4) && f[19] >= 1)
			break;
	}
	memcpy(forged, f, 56);
	for (int i = 0; i < 8; i++)
		forged[20 + i] ^= 0x5a;            /* some other origin */
	forged[19] = 1;
	memcpy(forged + 56, f + 56 + 8, 8);      /* hop: to -> from, reversed */
	memcpy(forged + 64, f + 56, 8);
	forged[72] = 1;                          /* "probing" */
	forged[73] = forged[74] = forged[75] = 0;
	for (int k = 0; k < 5; k++)
		if (send(fd, forged, 76, 0) != 76) {
			perror("send");
			return 2;
		}
	printf("sent forged probes\n");
	return 0;
}
