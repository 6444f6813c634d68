/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * udp-replay: resends the UDP payloads of a pcap capture (as tcpdump -w
 * writes it, Ethernet or Linux cooked) to ADDR:PORT, optionally with one
 * byte flipped at a payload offset. A test tool for replay and tamper
 * scenarios: the tunnel must drop and count every such packet.
 *
 *   udp-replay FILE.pcap ADDR PORT [--flip OFFSET] [--min-len N]
 * Prints the number of datagrams sent.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long flip = -1, minlen = 0;
	uint8_t hdr[24], rec[16], buf[70000];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	unsigned linktype, sent = 0;
	FILE *f;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: udp-replay FILE ADDR PORT [--flip OFFSET] [--min-len N]\n");
		return 2;
	}
	for (int i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--flip"))
			flip = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--min-len"))
			minlen = atol(argv[i + 1]);
	}
	f = fopen(argv[1], "rb");
	if (!f || fread(hdr, 1, 24, f) != 24) {
		perror(argv[1]);
		return 1;
	}
	if (*(uint32_t *)hdr != 0xa1b2c3d4u) {
		fprintf(stderr, "%s: not a little-endian microsecond pcap\n", argv[1]);
		return 1;
	}
	linktype = *(uint32_t *)(hdr + 20);
	inet_pton(AF_INET, argv[2], &dst.sin_addr);
	dst.sin_port = htons(atoi(argv[3]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	while (fread(rec, 1, 16, f) == 16) {
		uint32_t caplen = *(uint32_t *)(rec + 8);
		size_t l2 = linktype == 113 ? 16 : 14, ihl;
		uint8_t *ip;
		uint16_t iplen;

		if (caplen > sizeof(buf) || fread(buf, 1, caplen, f) != caplen)
			break;
		if (caplen < l2 + 28)
			continue;
		ip = buf + l2;
		if ((ip[0] >> 4) != 4 || ip[9] != 17)
			continue;
		ihl = (ip[0] & 15) * 4;
		iplen = ntohs(*(uint16_t *)(ip + 2));
		if (l2 + iplen > caplen || iplen < ihl + 8)
			continue;
		{
			uint8_t *pl = ip + ihl + 8;
			size_t plen = iplen - ihl - 8;

			if ((long)plen < minlen)
				continue;
			if (flip >= 0 && (size_t)flip < plen)
				pl[flip] ^= 0x01;
			if (sendto(fd, pl, plen, 0, (struct sockaddr *)&dst, sizeof(dst)) == (ssize_t)plen)
				sent++;
		}
	}
	printf("%u\n", sent);
	return 0;
}
