/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which queue of a multi-queue TAP a frame out of the tunnel is written to
 * (tunnel/datapath.c): the flow hash is the same both ways (IPv4, IPv6,
 * TCP, UDP), differs between flows, ignores what is not IP; a flow read
 * from a queue has its other direction written to that queue, whatever its
 * hash says; before that, the writer's own queue (Steering = cpu) or the
 * queue of its hash; a single-queue TAP its
 * one fd. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tunnel/datapath.h"

/* Ethernet + IPv4 + TCP/UDP header, addresses a -> b, ports pa -> pb */
static size_t frame4(uint8_t *f, uint8_t proto, uint32_t a, uint32_t b, uint16_t pa, uint16_t pb)
{
	memset(f, 0, 64);
	f[12] = 0x08;
	f[14] = 0x45;
	f[14 + 9] = proto;
	for (int i = 0; i < 4; i++) {
		f[14 + 12 + i] = (uint8_t)(a >> (24 - 8 * i));
		f[14 + 16 + i] = (uint8_t)(b >> (24 - 8 * i));
	}
	f[34] = (uint8_t)(pa >> 8); f[35] = (uint8_t)pa;
	f[36] = (uint8_t)(pb >> 8); f[37] = (uint8_t)pb;
	return 64;
}

static size_t frame6(uint8_t *f, uint8_t last_a, uint8_t last_b, uint16_t pa, uint16_t pb)
{
	memset(f, 0, 80);
	f[12] = 0x86; f[13] = 0xdd;
	f[14] = 0x60;
	f[14 + 6] = 17;
	f[14 + 8] = 0x20; f[14 + 8 + 15] = last_a;
	f[14 + 24] = 0x20; f[14 + 24 + 15] = last_b;
	f[54] = (uint8_t)(pa >> 8); f[55] = (uint8_t)pa;
	f[56] = (uint8_t)(pb >> 8); f[57] = (uint8_t)pb;
	return 80;
}

static void t_symmetric(void **state)
{
	uint8_t x[80], y[80];
	size_t n;

	(void)state;
	n = frame4(x, 6, 0xc6130101, 0xc6130102, 40000, 5201);
	frame4(y, 6, 0xc6130102, 0xc6130101, 5201, 40000);
	assert_int_equal(tunnel_frame_flow_hash(x, n), tunnel_frame_flow_hash(y, n));
	assert_int_not_equal(tunnel_frame_flow_hash(x, n), 0);
	frame4(y, 6, 0xc6130101, 0xc6130102, 40001, 5201);      /* another flow */
	assert_int_not_equal(tunnel_frame_flow_hash(x, n), tunnel_frame_flow_hash(y, n));
	frame4(y, 17, 0xc6130101, 0xc6130102, 40000, 5201);     /* UDP, same ports */
	assert_int_not_equal(tunnel_frame_flow_hash(x, n), tunnel_frame_flow_hash(y, n));
	n = frame6(x, 1, 2, 53, 33000);
	frame6(y, 2, 1, 33000, 53);
	assert_int_equal(tunnel_frame_flow_hash(x, n), tunnel_frame_flow_hash(y, n));
	/* not IP (ARP), too short: 0 */
	memset(x, 0, 64);
	x[12] = 0x08; x[13] = 0x06;
	assert_int_equal(tunnel_frame_flow_hash(x, 64), 0);
	assert_int_equal(tunnel_frame_flow_hash(x, 10), 0);
}

/* the queue a frame is written to, as an index */
static unsigned queue_of_own(const struct tunnel_port *p, const uint8_t *f, size_t n, int own)
{
	int fd = tunnel_port_fd_for(p, f, n, own);

	for (unsigned i = 0; i < p->n_qfd; i++)
		if (p->qfd[i] == fd)
			return i;
	fail_msg("fd %d is none of the port's queues", fd);
	return 99;
}

static unsigned queue_of(const struct tunnel_port *p, const uint8_t *f, size_t n)
{
	return queue_of_own(p, f, n, -1);
}

/* a TAP with two queues, fds 10 and 11 */
static void two_queues(struct tunnel_port *p)
{
	memset(p, 0, sizeof(*p));
	p->fd = p->qfd[0] = 10;
	p->qfd[1] = 11;
	p->n_qfd = 2;
}

static void t_steer(void **state)
{
	struct tunnel_port p;
	uint8_t out[80], in[80];
	size_t n;
	unsigned by_hash, other, moved = 0;

	(void)state;
	two_queues(&p);
	/* several flows: before any is read, each goes to its hash's queue;
	 * once read from the other queue, its answers go there */
	for (uint16_t port = 40000; port < 40016; port++) {
		n = frame4(out, 6, 0xc6130102, 0xc6130101, 5201, port);   /* b -> a: written */
		frame4(in, 6, 0xc6130101, 0xc6130102, port, 5201);        /* a -> b: read */
		by_hash = tunnel_frame_flow_hash(out, n) % 2;
		assert_int_equal(queue_of(&p, out, n), by_hash);
		other = 1 - by_hash;
		tunnel_port_flow_read(&p, other, in, n);
		assert_int_equal(queue_of(&p, out, n), other);
		/* read again on the first queue: it follows */
		tunnel_port_flow_read(&p, by_hash, in, n);
		assert_int_equal(queue_of(&p, out, n), by_hash);
		tunnel_port_flow_read(&p, other, in, n);
		moved++;
	}
	assert_int_equal(moved, 16);
	/* a slot naming a queue the port no longer has: the hash's queue */
	n = frame4(out, 17, 0xc6130102, 0xc6130101, 53, 1000);
	frame4(in, 17, 0xc6130101, 0xc6130102, 1000, 53);
	tunnel_port_flow_read(&p, 5, in, n);
	assert_int_equal(queue_of(&p, out, n), tunnel_frame_flow_hash(out, n) % 2);
	/* a single-queue TAP: its fd, whatever was read */
	p.n_qfd = 1;
	assert_int_equal(tunnel_port_fd_for(&p, out, n, -1), 10);
	assert_int_equal(tunnel_port_fd_for(&p, out, n, 1), 10);
	p.fd = -1;
	assert_int_equal(tunnel_port_fd_for(&p, out, n, -1), -1);
}

/* Steering = cpu: a flow never read goes to the writer's own queue (the
 * kernel then sends its other direction there, to the same worker); a
 * flow read from a queue goes to that queue, whoever writes it. */
static void t_steer_own(void **state)
{
	struct tunnel_port p;
	uint8_t out[80], in[80];
	size_t n;

	(void)state;
	two_queues(&p);
	for (uint16_t port = 41000; port < 41016; port++) {
		n = frame4(out, 6, 0xc6130102, 0xc6130101, 5201, port);
		frame4(in, 6, 0xc6130101, 0xc6130102, port, 5201);
		assert_int_equal(queue_of_own(&p, out, n, 0), 0);
		assert_int_equal(queue_of_own(&p, out, n, 1), 1);
		tunnel_port_flow_read(&p, 1, in, n);
		assert_int_equal(queue_of_own(&p, out, n, 0), 1);
		assert_int_equal(queue_of_own(&p, out, n, 1), 1);
	}
	/* an own queue the port does not have: the hash's */
	n = frame4(out, 17, 0xc6130102, 0xc6130101, 53, 2000);
	assert_int_equal(queue_of_own(&p, out, n, 7), tunnel_frame_flow_hash(out, n) % 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_symmetric),
		cmocka_unit_test(t_steer),
		cmocka_unit_test(t_steer_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
