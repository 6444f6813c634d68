/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for tunnel_receive.
 *
 * Input: one mode byte, then records [u16 LE length][datagram]. Modes:
 *   0  B has peer A configured, no session: raw datagrams to B (handshake
 *      paths; a valid initiation from A's fixed key reaches the responder).
 *   1  A and B have an aead session: raw datagrams to B.
 *   2  A and B have a "none" session: in data datagrams the receiver index
 *      is replaced by B's live index, so everything after authentication
 *      (segments, reassembly, keepalive echo) is reached.
 * After the records B's timers run at +2 s (expiry, reassembly timeout).
 *
 * Built with -DFUZZ_PACKET_GEN_SEEDS it is instead a program writing valid
 * seeds into the directory given as argument.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tunnel/tunnel.h"

#define MS 1000000ull

struct fz {
	struct tunnel *a, *b;
	struct tunnel_peer *pa, *pb;
	struct tunnel_batch oa, ob;
	struct sockaddr_in addr_a, addr_b;
	uint32_t b_index;            /* B's receive index on the session */
	uint64_t now;
	volatile uint8_t sink;
};

static const char segs[][TUNNEL_SEGMENT_NAME_MAX] = { "br-dmz", "br-sv" };

static void deliver(void *ctx, struct tunnel_peer *p, size_t seg, const uint8_t *f, size_t len)
{
	struct fz *z = ctx;

	/* Touch every byte so ASan sees a bad length. */
	while (len--)
		z->sink ^= f[len];
}

static void event(void *ctx, struct tunnel_peer *p, enum tunnel_event ev, const char *detail)
{
	struct fz *z = ctx;

	if (detail)
		z->sink ^= (uint8_t)strlen(detail);
}

static void fixed_key(uint8_t priv[32], uint8_t pub[32], uint8_t v)
{
	memset(priv, v, 32);
	crypto_scalarmult_base(pub, priv);
}

static int setup(struct fz *z, int mode)
{
	/* GSO frames (kind 3) delivered too: both sides offer them */
	struct tunnel_callbacks cb = { .ctx = z, .deliver = deliver, .deliver_vnet = deliver, .event = event };
	struct tunnel_params pr;
	struct tunnel_peer_config c;
	uint8_t priv_a[32], pub_a[32], priv_b[32], pub_b[32];
	size_t i;

	memset(z, 0, sizeof(*z));
	z->now = 1000 * MS;
	fixed_key(priv_a, pub_a, 0x11);
	fixed_key(priv_b, pub_b, 0x22);
	z->addr_a.sin_family = AF_INET;
	z->addr_a.sin_port = htons(1001);
	z->addr_a.sin_addr.s_addr = htonl(0x0a000001);
	z->addr_b = z->addr_a;
	z->addr_b.sin_port = htons(1002);
	if (tunnel_new(priv_a, &cb, &z->a) < 0 || tunnel_new(priv_b, &cb, &z->b) < 0 ||
	    tunnel_batch_init(&z->oa, 64) < 0 || tunnel_batch_init(&z->ob, 64) < 0)
		return -1;
	tunnel_get_params(z->a, &pr);
	pr.offer_gso = pr.offer_uso = true;
	if (tunnel_set_params(z->a, &pr) < 0 || tunnel_set_params(z->b, &pr) < 0)
		return -1;
	memset(&c, 0, sizeof(c));
	c.crypt = mode == 2 ? TUNNEL_CRYPT_NONE : TUNNEL_CRYPT_AEAD;
	c.segments = segs;
	c.n_segments = 2;
	c.keepalive_ms = 500;
	c.has_endpoint = true;
	memcpy(c.public_key, pub_b, 32);
	memcpy(&c.endpoint, &z->addr_b, sizeof(z->addr_b));
	c.endpoint_len = sizeof(z->addr_b);
	if (tunnel_peer_add(z->a, &c, NULL, &z->pa) < 0)
		return -1;
	memcpy(c.public_key, pub_a, 32);
	memcpy(&c.endpoint, &z->addr_a, sizeof(z->addr_a));
	if (tunnel_peer_add(z->b, &c, NULL, &z->pb) < 0)
		return -1;
	if (mode == 0)
		return 0;
	/* Handshake: A initiates, B responds, A confirms. */
	tunnel_tick(z->a, z->now, &z->oa);
	for (i = 0; i < z->oa.n; i++)
		tunnel_receive(z->b, z->oa.d[i].data, z->oa.d[i].len,
			       (struct sockaddr *)&z->addr_a, sizeof(z->addr_a), z->now, &z->ob);
	tunnel_batch_reset(&z->oa);
	for (i = 0; i < z->ob.n; i++)
		tunnel_receive(z->a, z->ob.d[i].data, z->ob.d[i].len,
			       (struct sockaddr *)&z->addr_b, sizeof(z->addr_b), z->now, &z->oa);
	tunnel_batch_reset(&z->ob);
	/* A's confirming keepalive is addressed to B's index. */
	if (z->oa.n == 0 || z->oa.d[0].data[0] != 4)
		return -1;
	memcpy(&z->b_index, z->oa.d[0].data + 4, 4);
	for (i = 0; i < z->oa.n; i++)
		tunnel_receive(z->b, z->oa.d[i].data, z->oa.d[i].len,
			       (struct sockaddr *)&z->addr_a, sizeof(z->addr_a), z->now, &z->ob);
	tunnel_batch_reset(&z->oa);
	tunnel_batch_reset(&z->ob);
	return 0;
}

static void teardown(struct fz *z)
{
	tunnel_free(z->a);
	tunnel_free(z->b);
	tunnel_batch_free(&z->oa);
	tunnel_batch_free(&z->ob);
}

static void run(const uint8_t *data, size_t size)
{
	static uint8_t pkt[TUNNEL_DGRAM_MAX + 64];
	struct fz z;
	int mode;
	size_t len;

	if (size < 1)
		return;
	mode = data[0] % 3;
	data++, size--;
	if (setup(&z, mode) < 0)
		abort();
	while (size >= 2) {
		len = (size_t)data[0] | (size_t)data[1] << 8;
		data += 2, size -= 2;
		if (len > size)
			len = size;
		if (len > sizeof(pkt))
			len = sizeof(pkt);
		memcpy(pkt, data, len);
		data += len, size -= len;
		if (mode == 2 && len >= 8 && pkt[0] == 4)
			memcpy(pkt + 4, &z.b_index, 4);
		z.now += MS;
		tunnel_receive(z.b, pkt, len, (struct sockaddr *)&z.addr_a, sizeof(z.addr_a),
			       z.now, &z.ob);
		if (z.ob.n > z.ob.cap / 2)
			tunnel_batch_reset(&z.ob);
	}
	tunnel_tick(z.b, z.now + 2000 * MS, &z.ob);
	(void)tunnel_next_deadline(z.b);
	teardown(&z);
}

#ifndef FUZZ_PACKET_GEN_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;

	if (!init) {
		if (sodium_init() < 0)
			abort();
		init = 1;
	}
	run(data, size);
	return 0;
}

#else

static void put_record(uint8_t *buf, size_t *off, const uint8_t *d, size_t len)
{
	buf[(*off)++] = (uint8_t)len;
	buf[(*off)++] = (uint8_t)(len >> 8);
	memcpy(buf + *off, d, len);
	*off += len;
}

#include "tests/fuzz/seedgen.h"

/* Seeds made of what A sends to B. */
static void gen(const char *dir, int mode, const char *name, size_t frame_len, bool keepalive)
{
	static uint8_t buf[65536 * 2], frame[9000];
	/* a name ending in "-gso": a super-frame with its virtio_net_hdr
	 * (TCPv4, gso_size 1448, partial checksum at 34 + 16) */
	bool vnet = strstr(name, "-gso") != NULL;
	struct iovec iov = { frame, frame_len };
	struct fz z;
	size_t off = 0, i, taken;

	if (setup(&z, mode) < 0)
		exit(1);
	buf[off++] = (uint8_t)mode;
	if (mode == 0) {
		tunnel_tick(z.a, z.now, &z.oa);
	} else if (keepalive) {
		tunnel_tick(z.a, z.now + 600 * MS, &z.oa);
	} else {
		memset(frame, 0x5a, sizeof(frame));
		if (vnet) {
			static const uint8_t h[10] = { 1, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0 };

			memcpy(frame, h, sizeof(h));
		}
		tunnel_encap_vnet(z.pa, 1, &iov, &vnet, 1, z.now, &z.oa, &taken);
	}
	for (i = 0; i < z.oa.n; i++)
		put_record(buf, &off, z.oa.d[i].data, z.oa.d[i].len);
	write_seed(dir, name, buf, off);
	teardown(&z);
}

int main(int argc, char **argv)
{
	if (argc != 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: %s SEED_DIR\n", argv[0]);
		return 2;
	}
	gen(argv[1], 0, "initiation", 0, false);
	gen(argv[1], 1, "aead-frame-small", 60, false);
	gen(argv[1], 1, "aead-frame-fragmented", 1514, false);
	gen(argv[1], 2, "none-frame-small", 60, false);
	gen(argv[1], 2, "none-frame-fragmented", 1514, false);
	gen(argv[1], 2, "none-frame-jumbo", 9000, false);
	gen(argv[1], 2, "none-keepalive", 0, true);
	gen(argv[1], 1, "aead-frame-gso", 9000, false);
	gen(argv[1], 2, "none-frame-gso", 3000, false);
	return 0;
}

#endif
