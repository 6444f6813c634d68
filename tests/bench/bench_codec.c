/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Micro-benchmark of the tunnel engine's hot path, single core: encap of
 * batches of 1500-byte frames (tunnel_encap) and decap of the resulting
 * datagrams (tunnel_receive), for aead (ChaCha20-Poly1305, AES-256-GCM
 * where available) and none, with a 1500-byte underlay (frames fragment in
 * two) and a 9000-byte one (no fragmentation). Prints Gbit/s of frame
 * bytes. Not run by make check: `make bench && tests/bench/bench_codec [secs]`.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tunnel/tunnel.h"

#define BATCH 64
#define FRAME 1500

struct side {
	struct tunnel *t;
	struct tunnel_peer *p;
	struct tunnel_batch out;
	struct sockaddr_in addr;
	uint64_t delivered;
};

static const char segs[][TUNNEL_SEGMENT_NAME_MAX] = { "br-bench" };

static void deliver(void *ctx, struct tunnel_peer *p, size_t seg, const uint8_t *f, size_t len)
{
	struct side *s = ctx;

	s->delivered += len;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_codec: %s failed\n", what);
	exit(1);
}

static void side_init(struct side *s, uint8_t keyb, uint16_t port, bool no_aes)
{
	struct tunnel_callbacks cb = { .ctx = s, .deliver = deliver };
	struct tunnel_params pr;
	uint8_t priv[32];

	memset(s, 0, sizeof(*s));
	memset(priv, keyb, sizeof(priv));
	if (tunnel_new(priv, &cb, &s->t) < 0 || tunnel_batch_init(&s->out, BATCH * 8) < 0)
		die("tunnel_new");
	tunnel_get_params(s->t, &pr);
	pr.disable_aesgcm = no_aes;
	if (tunnel_set_params(s->t, &pr) < 0)
		die("tunnel_set_params");
	s->addr.sin_family = AF_INET;
	s->addr.sin_port = htons(port);
	s->addr.sin_addr.s_addr = htonl(0x7f000001);
}

static void pass(struct side *from, struct side *to, uint64_t t)
{
	size_t i;

	for (i = 0; i < from->out.n; i++)
		tunnel_receive(to->t, from->out.d[i].data, from->out.d[i].len,
			       (const struct sockaddr *)&from->addr, sizeof(from->addr), t,
			       &to->out);
	tunnel_batch_reset(&from->out);
}

static void run(const char *name, enum tunnel_crypt crypt, bool no_aes, unsigned mtu,
		double secs)
{
	static uint8_t frames[BATCH][FRAME];
	struct iovec iov[BATCH];
	struct side a, b;
	struct tunnel_peer_config pc;
	struct tunnel_peer_stats st;
	uint8_t priv[32], pub[32];
	uint64_t t0, t1, bytes = 0, t_enc = 0, t_dec = 0, t;
	size_t i, taken, dgrams = 0;
	int k;

	side_init(&a, 0x11, 1, no_aes);
	side_init(&b, 0x22, 2, no_aes);
	/* Each side's peer is the other's fixed key. */
	memset(priv, 0x22, 32);
	crypto_scalarmult_base(pub, priv);
	memset(&pc, 0, sizeof(pc));
	pc.crypt = crypt;
	pc.segments = segs;
	pc.n_segments = 1;
	pc.underlay_mtu = mtu;
	pc.has_endpoint = true;
	pc.endpoint_len = sizeof(struct sockaddr_in);
	memcpy(pc.public_key, pub, 32);
	memcpy(&pc.endpoint, &b.addr, sizeof(b.addr));
	if (tunnel_peer_add(a.t, &pc, NULL, &a.p) < 0)
		die("peer a");
	memset(priv, 0x11, 32);
	crypto_scalarmult_base(pc.public_key, priv);
	memcpy(&pc.endpoint, &a.addr, sizeof(a.addr));
	if (tunnel_peer_add(b.t, &pc, NULL, &b.p) < 0)
		die("peer b");
	t = now_ns();
	tunnel_tick(a.t, t, &a.out);
	for (k = 0; k < 4; k++) {
		pass(&a, &b, t);
		pass(&b, &a, t);
	}
	tunnel_peer_get_stats(a.p, &st);
	if (st.state != TUNNEL_SESSION_UP)
		die("handshake");
	for (i = 0; i < BATCH; i++) {
		randombytes_buf(frames[i], FRAME);
		iov[i].iov_base = frames[i];
		iov[i].iov_len = FRAME;
	}
	t0 = now_ns();
	do {
		uint64_t x = now_ns(), y;

		if (tunnel_encap(a.p, 0, iov, BATCH, x, &a.out, &taken) < 0 || taken != BATCH)
			die("tunnel_encap");
		y = now_ns();
		t_enc += y - x;
		dgrams += a.out.n;
		pass(&a, &b, y);
		t_dec += now_ns() - y;
		bytes += (uint64_t)BATCH * FRAME;
		t1 = now_ns();
	} while ((double)(t1 - t0) < secs * 1e9);
	if (b.delivered != bytes)
		die("delivery");
	printf("%-22s mtu %4u  %zu dgram/frame  encap %6.2f Gbit/s  decap %6.2f Gbit/s  "
	       "encap+decap %6.2f Gbit/s\n",
	       name, mtu, dgrams / (bytes / FRAME),
	       (double)bytes * 8 / (double)t_enc, (double)bytes * 8 / (double)t_dec,
	       (double)bytes * 8 / (double)(t_enc + t_dec));
	tunnel_free(a.t);
	tunnel_free(b.t);
	tunnel_batch_free(&a.out);
	tunnel_batch_free(&b.out);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	unsigned mtus[] = { 1500, 9000 };
	size_t i;

	if (sodium_init() < 0)
		die("sodium_init");
	printf("frames of %d bytes, batches of %d, single core\n", FRAME, BATCH);
	for (i = 0; i < 2; i++) {
		run("chacha20-poly1305", TUNNEL_CRYPT_AEAD, true, mtus[i], secs);
		if (crypto_aead_aes256gcm_is_available())
			run("aes-256-gcm", TUNNEL_CRYPT_AEAD, false, mtus[i], secs);
		else
			printf("aes-256-gcm            not available on this CPU\n");
		run("none", TUNNEL_CRYPT_NONE, false, mtus[i], secs);
	}
	return 0;
}
