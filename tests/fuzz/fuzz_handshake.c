/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the tunnel engine's handshake and session state
 * machines driven by sequences of messages (tunnel/, no sockets).
 *
 * Two engines A and B with fixed key pairs, each configured for the other
 * (aead). Everything either one sends (initiations, responses, data,
 * keepalives, echoes) goes into a pool of the last POOL datagrams instead
 * of onto a wire; the input is a program of operations on the two engines
 * and that pool, two bytes each (op, arg) plus operands:
 *   0 tick A / 1 tick B     time advances by arg (ms, or seconds when
 *                           arg >= 200: rekeys, expiries, backoffs)
 *   2 deliver               pool[arg] to the side it was addressed to
 *   3 deliver mutated       pool[arg] with byte [u16] xor [u8]
 *   4 deliver truncated     pool[arg] cut to [u16] bytes
 *   5 deliver reflected     pool[arg] back to its sender
 *   6 raw to B / 7 raw to A [u16 len][bytes] as a datagram from the peer
 *   8 frame A->B / 9 B->A   a frame of 60 + 23 * arg bytes (fragmented
 *                           beyond one datagram)
 *   10 deliver spliced      the first [u16] bytes of pool[arg] followed by
 *                           the rest of pool[next byte]
 *   11 from elsewhere       pool[arg] delivered from another address (roaming)
 * Messages are delivered in any order, any number of times, altered.
 *
 * Checked, beyond the sanitizers:
 *   - authenticity: every frame delivered is one the other side sent (its
 *     header and pattern intact), never one that was not;
 *   - no replay: no frame is delivered twice (each carries a sequence);
 *   - liveness: after the program, with the pool dropped and the clock
 *     moved on, plain ticks and faithful delivery bring the session up on
 *     both sides and a frame goes through each way: no sequence of
 *     messages leaves the state machine wedged.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tunnel/tunnel.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define POOL 32
#define SEQ_MAX 4096
#define MAGIC 0x4842u           /* "HB" */

struct side {
	struct tunnel *t;
	struct tunnel_peer *p;
	struct tunnel_batch out;
	struct sockaddr_in addr;
	uint8_t id;                 /* 'A' or 'B' */
	uint32_t sent;              /* frames handed to tunnel_encap */
	uint8_t seen[SEQ_MAX / 8];  /* frames of the other side delivered here */
	uint32_t delivered;
};

struct msg {
	uint8_t data[TUNNEL_DGRAM_MAX];
	size_t len;
	int from;                   /* 0: A, 1: B */
};

static struct {
	struct side s[2];
	struct msg pool[POOL];
	size_t pool_next, pool_n;
	uint64_t now;
} z;

static const char segs[][TUNNEL_SEGMENT_NAME_MAX] = { "br-dmz" };

static size_t frame_len(uint32_t seq, uint8_t arg)
{
	(void)seq;
	return 60 + 23 * (size_t)arg;    /* up to 5925: several fragments */
}

static uint8_t pattern(uint8_t id, uint32_t seq, size_t i)
{
	return (uint8_t)(id * 31 + seq * 7 + i);
}

/* [magic u16][sender id][arg][seq u32] then the pattern. */
static size_t make_frame(uint8_t *f, uint8_t id, uint32_t seq, uint8_t arg)
{
	size_t len = frame_len(seq, arg);

	f[0] = (uint8_t)MAGIC, f[1] = (uint8_t)(MAGIC >> 8), f[2] = id, f[3] = arg;
	memcpy(f + 4, &seq, 4);
	for (size_t i = 8; i < len; i++)
		f[i] = pattern(id, seq, i);
	return len;
}

static void deliver(void *ctx, struct tunnel_peer *p, size_t seg, const uint8_t *f, size_t len)
{
	struct side *me = ctx, *other = me == &z.s[0] ? &z.s[1] : &z.s[0];
	uint32_t seq;

	/* authentic: from the other side, as it was sent, once */
	if (seg != 0 || len < 8 || f[0] != (uint8_t)MAGIC || f[1] != (uint8_t)(MAGIC >> 8) || f[2] != other->id)
		abort();
	memcpy(&seq, f + 4, 4);
	if (seq >= other->sent || seq >= SEQ_MAX || len != frame_len(seq, f[3]))
		abort();
	for (size_t i = 8; i < len; i++)
		if (f[i] != pattern(other->id, seq, i))
			abort();
	if (me->seen[seq / 8] & (1u << (seq % 8)))
		abort();        /* a replayed frame */
	me->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	me->delivered++;
}

static bool debug;               /* FUZZ_DEBUG=1: events and deliveries on stderr */

static void event(void *ctx, struct tunnel_peer *p, enum tunnel_event ev, const char *detail)
{
	if (debug)
		fprintf(stderr, "%6.3f %c: %s %s\n", (double)(z.now % (10000 * SEC)) / 1e9,
			((struct side *)ctx)->id, tunnel_event_to_string(ev), detail ? detail : "");
}

/* Moves what side i queued into the pool. */
static void collect(int i)
{
	struct side *s = &z.s[i];

	for (size_t k = 0; k < s->out.n; k++) {
		struct msg *m = &z.pool[z.pool_next];

		m->len = s->out.d[k].len;
		memcpy(m->data, s->out.d[k].data, m->len);
		m->from = i;
		z.pool_next = (z.pool_next + 1) % POOL;
		if (z.pool_n < POOL)
			z.pool_n++;
	}
	tunnel_batch_reset(&s->out);
}

static void recv_at(int to, const uint8_t *d, size_t len, const struct sockaddr_in *src)
{
	static uint8_t buf[TUNNEL_DGRAM_MAX];

	if (debug)
		fprintf(stderr, "%6.3f -> %c: type %u, %zu bytes\n", (double)(z.now % (10000 * SEC)) / 1e9,
			z.s[to].id, len ? d[0] : 0, len);
	if (len > sizeof(buf))
		len = sizeof(buf);
	memcpy(buf, d, len);            /* the engine may not keep a pointer into the pool */
	tunnel_receive(z.s[to].t, buf, len, (const struct sockaddr *)src, sizeof(*src), z.now, &z.s[to].out);
	collect(to);
}

static void side_init(int i, uint8_t key_byte)
{
	struct tunnel_callbacks cb = { .ctx = &z.s[i], .deliver = deliver, .event = event };
	struct side *s = &z.s[i];
	struct tunnel_params pr;
	uint8_t priv[32];

	memset(priv, key_byte, sizeof(priv));
	s->id = i ? 'B' : 'A';
	s->addr.sin_family = AF_INET;
	s->addr.sin_port = htons((uint16_t)(1001 + i));
	s->addr.sin_addr.s_addr = htonl(0xc6120001u + (uint32_t)i);   /* 198.18.0.1, .2 */
	if (tunnel_new(priv, &cb, &s->t) < 0 || tunnel_batch_init(&s->out, 128) < 0)
		abort();
	tunnel_get_params(s->t, &pr);
	pr.wallclock_offset_ns = 1700000000ll * (int64_t)SEC;   /* no clock read: reproducible */
	if (tunnel_set_params(s->t, &pr) < 0)
		abort();
}

static void peer_init(int i)
{
	struct side *s = &z.s[i], *o = &z.s[!i];
	struct tunnel_peer_config c;
	uint8_t priv[32];

	memset(&c, 0, sizeof(c));
	memset(priv, i ? 0x11 : 0x22, sizeof(priv));
	crypto_scalarmult_base(c.public_key, priv);
	c.crypt = TUNNEL_CRYPT_AEAD;
	c.segments = segs;
	c.n_segments = 1;
	c.keepalive_ms = 1000;
	/* B is listen-only: it learns A's address from A's initiation */
	c.has_endpoint = i == 0;
	memcpy(&c.endpoint, &o->addr, sizeof(o->addr));
	c.endpoint_len = sizeof(o->addr);
	if (tunnel_peer_add(s->t, &c, NULL, &s->p) < 0)
		abort();
}

static void setup(void)
{
	memset(&z, 0, sizeof(z));
	z.now = 1000 * SEC;
	side_init(0, 0x11);
	side_init(1, 0x22);
	peer_init(0);
	peer_init(1);
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++) {
		tunnel_free(z.s[i].t);
		tunnel_batch_free(&z.s[i].out);
	}
}

static void send_frame(int i, uint8_t arg)
{
	static uint8_t f[8192];
	struct side *s = &z.s[i];
	struct iovec iov;
	size_t taken = 0;

	if (s->sent >= SEQ_MAX)
		return;
	iov.iov_base = f;
	iov.iov_len = make_frame(f, s->id, s->sent, arg);
	s->sent++;
	tunnel_encap(s->p, 0, &iov, 1, z.now, &s->out, &taken);
	collect(i);
}

static void tick(int i, uint8_t arg)
{
	z.now += arg >= 200 ? (uint64_t)(arg - 199) * 5 * SEC : (uint64_t)arg * MS;
	tunnel_tick(z.s[i].t, z.now, &z.s[i].out);
	collect(i);
}

static struct msg *pick(uint8_t arg)
{
	if (!z.pool_n)
		return NULL;
	return &z.pool[(z.pool_next + POOL - 1 - arg % z.pool_n) % POOL];
}

/* Faithful delivery of the pool (oldest first) until it is empty. */
static void drain(void)
{
	for (int round = 0; round < 64 && z.pool_n; round++) {
		struct msg m;
		size_t oldest = (z.pool_next + POOL - z.pool_n) % POOL;

		m = z.pool[oldest];
		z.pool_n--;
		recv_at(!m.from, m.data, m.len, &z.s[m.from].addr);
	}
}

static bool up(int i)
{
	struct tunnel_peer_stats st;

	tunnel_peer_get_stats(z.s[i].p, &st);
	return st.state == TUNNEL_SESSION_UP;
}

/* After any program: the two sides find each other again, a frame goes
 * through each way within 60 s of plain ticks and faithful delivery. */
static void check_liveness(void)
{
	uint32_t d0 = z.s[0].delivered, d1 = z.s[1].delivered;
	int step;

	z.pool_n = 0;
	z.now += 200 * SEC;          /* past every session's reject time */
	for (step = 0; step < 60 && (z.s[1].delivered == d1 || z.s[0].delivered == d0); step++) {
		if (z.s[1].delivered == d1)
			send_frame(0, 0);
		if (z.s[0].delivered == d0)
			send_frame(1, 0);
		drain();
		tick(0, 0);
		tick(1, 0);
		drain();
		z.now += SEC;
	}
	if (z.s[1].delivered == d1 || z.s[0].delivered == d0) {
		fprintf(stderr, "liveness: no frame through after 60 s (A->B %s, B->A %s; session A %s, B %s)\n",
			z.s[1].delivered == d1 ? "no" : "yes", z.s[0].delivered == d0 ? "no" : "yes",
			up(0) ? "up" : "down", up(1) ? "up" : "down");
		abort();
	}
}

static uint16_t get16(const uint8_t **d, size_t *n)
{
	uint16_t v = 0;

	if (*n >= 2) {
		v = (uint16_t)((*d)[0] | (*d)[1] << 8);
		*d += 2, *n -= 2;
	}
	return v;
}

static uint8_t get8(const uint8_t **d, size_t *n)
{
	uint8_t v = 0;

	if (*n >= 1) {
		v = (*d)[0];
		*d += 1, *n -= 1;
	}
	return v;
}

static void run(const uint8_t *data, size_t size)
{
	static const struct sockaddr_in elsewhere = {
		.sin_family = AF_INET, .sin_port = 7777, .sin_addr.s_addr = 0x090012c6 };  /* 198.18.0.9 */
	int steps = 0;

	setup();
	while (size >= 2 && steps++ < 256) {
		uint8_t op = get8(&data, &size) % 12, arg = get8(&data, &size);
		struct msg *m, tmp;
		uint16_t a16;
		uint8_t b;

		switch (op) {
		case 0:
		case 1:
			tick(op, arg);
			break;
		case 2:
		case 3:
		case 4:
		case 5:
		case 10:
		case 11:
			m = pick(arg);
			if (!m)
				break;
			tmp = *m;
			if (op == 3) {
				a16 = get16(&data, &size);
				b = get8(&data, &size);
				if (tmp.len)
					tmp.data[a16 % tmp.len] ^= b ? b : 1;
			} else if (op == 4) {
				a16 = get16(&data, &size);
				tmp.len = tmp.len ? a16 % tmp.len : 0;
			} else if (op == 10) {
				struct msg *m2 = pick(get8(&data, &size));

				a16 = get16(&data, &size);
				a16 = tmp.len ? a16 % tmp.len : 0;
				if (m2 && m2->len > a16) {
					memcpy(tmp.data + a16, m2->data + a16, m2->len - a16);
					tmp.len = m2->len;
				}
			}
			if (op == 5)
				recv_at(tmp.from, tmp.data, tmp.len, &z.s[!tmp.from].addr);
			else
				recv_at(!tmp.from, tmp.data, tmp.len, op == 11 ? &elsewhere : &z.s[tmp.from].addr);
			break;
		case 6:
		case 7: {
			size_t len = get16(&data, &size);

			if (len > size)
				len = size;
			recv_at(op == 6 ? 1 : 0, data, len, &z.s[op == 6 ? 0 : 1].addr);
			data += len, size -= len;
			break;
		}
		case 8:
		case 9:
			send_frame(op - 8, arg);
			break;
		}
		z.now += MS;
	}
	check_liveness();
	teardown();
}

#ifndef FUZZ_HANDSHAKE_GEN_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;

	if (!init) {
		if (sodium_init() < 0)
			abort();
		debug = getenv("FUZZ_DEBUG") != NULL;
		init = 1;
	}
	run(data, size);
	return 0;
}

#else

/* Seeds: programs that reach the interesting states (a plain handshake,
 * data both ways, replays, a rekey, lost and duplicated responses). */
#include "tests/fuzz/seedgen.h"

#define SEED(name, ...) do { static const uint8_t p_[] = { __VA_ARGS__ }; write_seed(dir, name, p_, sizeof(p_)); } while (0)

int main(int argc, char **argv)
{
	const char *dir = argv[1];

	if (argc != 2) {
		fprintf(stderr, "usage: %s SEED_DIR\n", argv[0]);
		return 2;
	}
	/* A ticks (initiation), B gets it (response), A gets it (keepalive), B gets that */
	SEED("handshake", 0, 0, 2, 0, 2, 0, 2, 0);
	SEED("handshake-data", 0, 0, 2, 0, 2, 0, 2, 0, 8, 0, 2, 0, 9, 3, 2, 0, 8, 100, 2, 0, 2, 1, 2, 2);
	SEED("replay-initiation", 0, 0, 2, 0, 2, 1, 2, 0, 2, 1);
	SEED("replay-data", 0, 0, 2, 0, 2, 0, 2, 0, 8, 0, 2, 0, 2, 0, 2, 0);
	SEED("lost-response", 0, 0, 2, 0, 0, 250, 2, 0, 2, 0, 2, 0);
	SEED("rekey", 0, 0, 2, 0, 2, 0, 2, 0, 0, 225, 1, 0, 2, 0, 2, 0, 2, 0, 8, 1, 2, 0);
	SEED("mutated-response", 0, 0, 2, 0, 3, 0, 9, 0, 0x5a, 2, 0);
	SEED("truncated-initiation", 0, 0, 4, 0, 100, 0, 2, 0);
	SEED("reflected", 0, 0, 5, 0, 2, 0, 5, 0, 2, 0);
	SEED("roaming", 0, 0, 2, 0, 2, 0, 11, 0, 8, 0, 11, 0);
	SEED("spliced", 0, 0, 0, 1, 10, 0, 1, 40, 0, 2, 0);
	SEED("both-initiate", 0, 0, 9, 0, 2, 0, 2, 1, 2, 2, 2, 3);
	SEED("fragments-out-of-order", 0, 0, 2, 0, 2, 0, 2, 0, 8, 200, 2, 1, 2, 0, 2, 2, 2, 1);
	return 0;
}

#endif
