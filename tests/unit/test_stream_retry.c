/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit test: the disk stream's --retry (migrate/stream/stream_engine.c):
 * sender and receiver over socketpairs through a proxy thread that cuts the
 * first connection after some bytes; the reconnect callbacks hand the next
 * connection over. The copy must resume, be verified and byte-identical,
 * count one reconnect on each side and the resent bytes exactly; a
 * connection that announces another image meanwhile is refused and does
 * not count as a cut. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "migrate/stream/stream.h"

#define SIZE (8u << 20)
#define BS (64u << 10)
#define CUT_AFTER (3u << 20)	/* bytes the first connection carries */

/* Connections waiting for the receiver, in order. */
static struct hub {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fds[8];
	unsigned head, tail, made;
	pthread_t proxies[8];
	unsigned nproxies;
} hub = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

struct proxy {
	int a, b;		/* sender's side, receiver's side */
	uint64_t cut;		/* close both after this many bytes a -> b, 0: never */
};

static void *proxy_run(void *v)
{
	struct proxy *p = v;
	uint8_t buf[65536];
	uint64_t moved = 0;
	bool a_open = true, b_open = true;

	while (a_open || b_open) {
		struct pollfd pfd[2] = { { .fd = a_open ? p->a : -1, .events = POLLIN },
					 { .fd = b_open ? p->b : -1, .events = POLLIN } };
		ssize_t n;

		if (poll(pfd, 2, 10000) <= 0)
			break;
		if (pfd[0].revents) {
			size_t want = sizeof(buf);

			if (p->cut && p->cut - moved < want)
				want = (size_t)(p->cut - moved);
			n = read(p->a, buf, want);
			if (n <= 0) {
				shutdown(p->b, SHUT_WR);
				a_open = false;
			} else if (write(p->b, buf, (size_t)n) != n) {
				break;
			} else if (p->cut && (moved += (uint64_t)n) >= p->cut) {
				break;	/* the cut: both ends see their peer gone */
			}
		}
		if (pfd[1].revents) {
			n = read(p->b, buf, sizeof(buf));
			if (n <= 0) {
				shutdown(p->a, SHUT_WR);
				b_open = false;
			} else if (write(p->a, buf, (size_t)n) != n) {
				break;
			}
		}
	}
	close(p->a);
	close(p->b);
	free(p);
	return NULL;
}

/* A new connection: the sender's end is returned, the receiver's end
 * queued for it; the first one is cut after CUT_AFTER bytes. */
static int hub_connect(void)
{
	int s1[2], s2[2];
	struct proxy *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s1), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s2), 0);
	pthread_mutex_lock(&hub.mu);
	p->a = s1[1];
	p->b = s2[0];
	p->cut = hub.made++ == 0 ? CUT_AFTER : 0;
	assert_true(hub.nproxies < 8 && hub.tail < 8);
	pthread_create(&hub.proxies[hub.nproxies++], NULL, proxy_run, p);
	hub.fds[hub.tail++] = s2[1];
	pthread_cond_broadcast(&hub.cv);
	pthread_mutex_unlock(&hub.mu);
	return s1[0];
}

static int hub_accept(void)
{
	int fd;

	pthread_mutex_lock(&hub.mu);
	while (hub.head == hub.tail)
		pthread_cond_wait(&hub.cv, &hub.mu);
	fd = hub.fds[hub.head++];
	pthread_mutex_unlock(&hub.mu);
	return fd;
}

static const struct stream_auth plain = { .plain = true };

static int handshake(int fd, enum stream_role role, struct stream_chan **ch)
{
	char err[256];

	return stream_handshake(fd, role, &plain, 5000, ch, NULL, err, sizeof(err));
}

struct run {
	char dir[64], src[96], other[96], dst[96];
	bool stranger;		/* send another image first after the cut */
	struct stream_report stranger_rep;
	int stranger_r;
	unsigned rx_calls, tx_calls;
	/* the connections in use, as the callbacks leave them */
	struct stream_chan *tx_ch, *rx_ch;
	int tx_fd, rx_fd;
};

static int rx_reconnect(void *arg, int err, const struct stream_report *rep, struct stream_chan **ch,
			int *fd)
{
	struct run *t = arg;
	int r;

	(void)rep;
	assert_true(err < 0);
	t->rx_calls++;
	close(*fd);
	stream_chan_free(*ch);
	*ch = NULL;
	*fd = t->rx_fd = hub_accept();
	r = handshake(*fd, STREAM_RESPONDER, ch);
	t->rx_ch = *ch;
	return r;
}

static int tx_reconnect(void *arg, int err, const struct stream_report *rep, struct stream_chan **ch,
			int *fd)
{
	struct run *t = arg;
	int r;

	(void)rep;
	assert_true(err < 0);
	t->tx_calls++;
	close(*fd);
	stream_chan_free(*ch);
	*ch = NULL;
	if (t->stranger) {
		/* Another image, with the right key, reaches the receiver first. */
		struct stream_source *src;
		struct stream_chan *sch = NULL;
		struct stream_opts o = { .block_size = BS };
		char e[256];
		int sfd = hub_connect();

		assert_int_equal(stream_source_open(t->other, false, &src, e, sizeof(e)), 0);
		assert_int_equal(handshake(sfd, STREAM_INITIATOR, &sch), 0);
		t->stranger_r = stream_send(sch, sfd, src, &o, &t->stranger_rep);
		stream_chan_free(sch);
		close(sfd);
		stream_source_free(src);
		t->stranger = false;
	}
	*fd = t->tx_fd = hub_connect();
	r = handshake(*fd, STREAM_INITIATOR, ch);
	t->tx_ch = *ch;
	return r;
}

struct rx_arg {
	struct run *t;
	struct stream_report rep;
	int r;
};

static void *receiver(void *v)
{
	struct rx_arg *a = v;
	struct stream_dest_opts dopts = { 0 };
	struct stream_opts o = { .window = 4, .checkpoint_blocks = 4 };
	struct stream_dest *dst;
	struct stream_chan *ch = NULL;
	char e[256];
	int fd = hub_accept();

	o.reconnect = rx_reconnect;
	o.reconnect_arg = a->t;
	assert_int_equal(stream_dest_open(a->t->dst, &dopts, &dst, e, sizeof(e)), 0);
	assert_int_equal(handshake(fd, STREAM_RESPONDER, &ch), 0);
	a->t->rx_ch = ch;
	a->t->rx_fd = fd;
	a->r = stream_receive(ch, fd, dst, &o, &a->rep);
	close(a->t->rx_fd);
	stream_chan_free(a->t->rx_ch);
	stream_dest_free(dst);
	return NULL;
}

static void write_random(const char *path, size_t len)
{
	uint8_t *b = malloc(len);
	FILE *f = fopen(path, "w");

	assert_non_null(b);
	assert_non_null(f);
	randombytes_buf(b, len);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
	free(b);
}

static void assert_same(const char *a, const char *b)
{
	uint8_t *x = malloc(SIZE), *y = malloc(SIZE);
	FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");

	assert_non_null(fa);
	assert_non_null(fb);
	assert_int_equal(fread(x, 1, SIZE, fa), SIZE);
	assert_int_equal(fread(y, 1, SIZE, fb), SIZE);
	assert_memory_equal(x, y, SIZE);
	fclose(fa);
	fclose(fb);
	free(x);
	free(y);
}

static void run_copy(bool stranger)
{
	struct run t = { .stranger = stranger };
	struct rx_arg ra = { .t = &t };
	struct stream_opts o = { .block_size = BS, .window = 4 };
	struct stream_report rep;
	struct stream_source *src;
	struct stream_chan *ch = NULL;
	pthread_t rx;
	char e[256];
	int fd, r;

	memset(&hub.fds, 0, sizeof(hub.fds));
	hub.head = hub.tail = hub.made = hub.nproxies = 0;
	snprintf(t.dir, sizeof(t.dir), "/tmp/test_stream_retry.XXXXXX");
	assert_non_null(mkdtemp(t.dir));
	snprintf(t.src, sizeof(t.src), "%s/src", t.dir);
	snprintf(t.other, sizeof(t.other), "%s/other", t.dir);
	snprintf(t.dst, sizeof(t.dst), "%s/dst", t.dir);
	write_random(t.src, SIZE);
	write_random(t.other, SIZE / 2);
	assert_int_equal(truncate(t.dst, 0), -1);	/* not there yet */
	assert_int_equal(close(open(t.dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)), 0);
	assert_int_equal(truncate(t.dst, SIZE), 0);

	fd = hub_connect();
	pthread_create(&rx, NULL, receiver, &ra);
	assert_int_equal(stream_source_open(t.src, false, &src, e, sizeof(e)), 0);
	assert_int_equal(handshake(fd, STREAM_INITIATOR, &ch), 0);
	t.tx_ch = ch;
	t.tx_fd = fd;
	o.reconnect = tx_reconnect;
	o.reconnect_arg = &t;
	r = stream_send(ch, fd, src, &o, &rep);
	close(t.tx_fd);
	stream_chan_free(t.tx_ch);
	stream_source_free(src);
	pthread_join(rx, NULL);
	for (unsigned i = 0; i < hub.nproxies; i++)
		pthread_join(hub.proxies[i], NULL);

	assert_int_equal(r, 0);
	assert_int_equal(rep.result, STREAM_RESULT_VERIFIED);
	assert_int_equal(ra.r, 0);
	assert_int_equal(ra.rep.result, STREAM_RESULT_VERIFIED);
	assert_same(t.src, t.dst);
	/* one cut, one reconnect each; the refused stranger is no cut */
	assert_int_equal(t.tx_calls, 1);
	assert_int_equal(rep.reconnects, 1);
	assert_int_equal(rep.ncuts, 1);
	assert_int_equal(ra.rep.reconnects, 1);
	assert_int_equal(ra.rep.ncuts, 1);
	assert_int_equal(t.rx_calls, stranger ? 2 : 1);
	/* the cut fell after CUT_AFTER bytes: before it, about that much */
	/* (plus what the socket buffers held: well under 1 MiB) */
	assert_true(rep.cuts[0].bytes_done <= CUT_AFTER + (1u << 20));
	assert_true(rep.cuts[0].bytes_done > 0);
	/* resent counted exactly: what travelled beyond the image */
	assert_int_equal(rep.data_bytes, (uint64_t)SIZE + rep.resent_bytes);
	assert_int_equal(rep.cuts[0].resent_bytes, rep.resent_bytes);
	assert_true(rep.resent_bytes < SIZE / 2);
	/* the receiver got everything once it had it: no double count */
	assert_int_equal(ra.rep.data_bytes, (uint64_t)SIZE);
	assert_int_equal(ra.rep.resumed_bytes, 0);
	if (stranger) {
		assert_int_equal(t.stranger_r, -EPERM);
		assert_int_equal(t.stranger_rep.result, STREAM_RESULT_REFUSED);
		assert_non_null(strstr(t.stranger_rep.message, "another image"));
	}
	unlink(t.src);
	unlink(t.other);
	unlink(t.dst);
	{
		char state[128];

		snprintf(state, sizeof(state), "%s/.dst@0.stream-state", t.dir);
		unlink(state);
	}
	assert_int_equal(rmdir(t.dir), 0);
}

static void test_cut_resumes(void **state)
{
	(void)state;
	run_copy(false);
}

static void test_other_image_refused(void **state)
{
	(void)state;
	run_copy(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut_resumes),
		cmocka_unit_test(test_other_image_refused),
	};

	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
