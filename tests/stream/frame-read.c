// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test helper for io_read_frame (migrate/stream/stream_chan.c) over real
 * TCP: the last record of a stream, sent in two parts, must be read whole
 * while its sender waits for a reply and sends nothing more. A reader
 * that blocked in read() under a wake-up mark of the record's length
 * would sleep for good there (the kernel wakes it when the mark's worth is
 * unread beyond what that read already copied).
 *
 *   frame-read listen ADDR PORT LEN   accept one connection, read LEN bytes
 *                                      with io_read_frame, check them, reply
 *   frame-read send ADDR PORT LEN MS  send LEN bytes: half, a pause of MS
 *                                      ms, the rest; then wait for the reply
 * Each side gives up after 10 s (SIGALRM): exit 2 "timed out".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "migrate/stream/stream_chan.h"

static void timed_out(int sig)
{
	static const char m[] = "frame-read: timed out\n";

	(void)sig;
	(void)!write(2, m, sizeof(m) - 1);
	_exit(2);
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 % 251);
}

static int serve(int fd, const struct sockaddr_in *a, unsigned char *buf, size_t len)
{
	unsigned char ok = 'k';
	int one = 1, c, r;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)a, sizeof(*a)) < 0 || listen(fd, 1) < 0) {
		perror("bind/listen");
		return 1;
	}
	c = accept(fd, NULL, NULL);
	if (c < 0) {
		perror("accept");
		return 1;
	}
	r = io_read_frame(c, buf, len, true);
	if (r < 0) {
		fprintf(stderr, "frame-read: %s\n", strerror(-r));
		close(c);
		return 1;
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(i)) {
			fprintf(stderr, "frame-read: byte %zu differs\n", i);
			close(c);
			return 1;
		}
	r = write(c, &ok, 1) == 1 ? 0 : 1;
	close(c);
	if (r == 0)
		printf("read %zu bytes\n", len);
	return r;
}

static int send_parts(int fd, const struct sockaddr_in *a, unsigned char *buf, size_t len, long ms)
{
	struct timespec pause = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };
	unsigned char ok = 0;

	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(i);
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0) {
		perror("connect");
		return 1;
	}
	if (io_write_all(fd, buf, len / 2) < 0)
		return 1;
	nanosleep(&pause, NULL);
	if (io_write_all(fd, buf + len / 2, len - len / 2) < 0)
		return 1;
	/* nothing more is sent: the reader must not wait for more */
	if (io_read_full(fd, &ok, 1) < 0 || ok != 'k') {
		fprintf(stderr, "frame-read: no reply\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	unsigned char *buf;
	size_t len;
	int fd, rc = 64;

	if (argc < 5 || inet_pton(AF_INET, argv[2], &a.sin_addr) != 1 ||
	    (strcmp(argv[1], "listen") && (strcmp(argv[1], "send") || argc < 6))) {
		fprintf(stderr, "usage: frame-read listen ADDR PORT LEN | send ADDR PORT LEN MS\n");
		return 64;
	}
	a.sin_port = htons((uint16_t)atoi(argv[3]));
	len = strtoul(argv[4], NULL, 0);
	if (len == 0 || !(buf = malloc(len)))
		return 64;
	signal(SIGALRM, timed_out);
	alarm(10);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		rc = 1;
	} else {
		rc = !strcmp(argv[1], "listen") ? serve(fd, &a, buf, len) : send_parts(fd, &a, buf, len, atol(argv[5]));
		close(fd);
	}
	free(buf);
	return rc;
}
