/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two struct tunnel instances in memory, datagrams passed by hand from one's
 * batch into the other's tunnel_receive: handshake, data both ways,
 * rejections, replays, tampering, rekey, roaming, keepalive RTT, queues,
 * timers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/keys.h"
#include "tunnel/tunnel.h"

#define MS 1000000ull
#define SEC 1000000000ull

struct node {
	struct tunnel *t;
	struct tunnel_peer *peer;
	uint8_t priv[32], pub[32];
	struct sockaddr_in addr;
	struct tunnel_batch out;
	size_t n_deliv, last_seg, last_len;
	uint8_t last_frame[65536];
	uint32_t next_expected;        /* for in-order sequence checks */
	size_t seq_errors;
	int ev[_TUNNEL_EV_MAX];
	size_t n_vnet;                 /* GSO frames delivered (deliver_vnet) */
	char last_detail[256];
	struct tunnel_peer *last_ev_peer;
};

static char seg_a[][TUNNEL_SEGMENT_NAME_MAX] = { "br-dmz", "br-sv" };
static char seg_b[][TUNNEL_SEGMENT_NAME_MAX] = { "br-sv", "br-dmz", "br-only-b" };

static void on_deliver(void *ctx, struct tunnel_peer *p, size_t seg, const uint8_t *f, size_t len)
{
	struct node *n = ctx;

	n->n_deliv++;
	n->last_seg = seg;
	n->last_len = len;
	memcpy(n->last_frame, f, len);
	if (len >= 4) {
		uint32_t seq;

		memcpy(&seq, f, 4);
		if (seq != n->next_expected)
			n->seq_errors++;
		n->next_expected = seq + 1;
	}
}

static void on_deliver_vnet(void *ctx, struct tunnel_peer *p, size_t seg, const uint8_t *f, size_t len)
{
	struct node *n = ctx;

	n->n_vnet++;
	on_deliver(ctx, p, seg, f, len);
}

static void on_event(void *ctx, struct tunnel_peer *p, enum tunnel_event ev, const char *detail)
{
	struct node *n = ctx;

	n->ev[ev]++;
	n->last_ev_peer = p;
	snprintf(n->last_detail, sizeof(n->last_detail), "%s", detail ? detail : "");
}

static void node_init(struct node *n, uint16_t port)
{
	struct tunnel_callbacks cb = { .ctx = n, .deliver = on_deliver, .deliver_vnet = on_deliver_vnet,
				       .event = on_event };

	memset(n, 0, sizeof(*n));
	assert_int_equal(key_generate_private(n->priv), 0);
	assert_int_equal(key_public_from_private(n->priv, n->pub), 0);
	assert_int_equal(tunnel_new(n->priv, &cb, &n->t), 0);
	assert_int_equal(tunnel_batch_init(&n->out, 256), 0);
	n->addr.sin_family = AF_INET;
	n->addr.sin_port = htons(port);
	n->addr.sin_addr.s_addr = htonl(0x0a000001u + port);
}

static void node_free(struct node *n)
{
	tunnel_free(n->t);
	tunnel_batch_free(&n->out);
}

static void peer_cfg(struct tunnel_peer_config *c, const struct node *remote, bool endpoint,
		     enum tunnel_crypt crypt, char (*segs)[TUNNEL_SEGMENT_NAME_MAX], size_t nseg)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->public_key, remote->pub, 32);
	c->has_endpoint = endpoint;
	if (endpoint) {
		memcpy(&c->endpoint, &remote->addr, sizeof(remote->addr));
		c->endpoint_len = sizeof(remote->addr);
	}
	c->crypt = crypt;
	c->segments = (const char (*)[TUNNEL_SEGMENT_NAME_MAX])segs;
	c->n_segments = nseg;
}

/* a and b configured for each other. */
static void pair_init(struct node *a, struct node *b, enum tunnel_crypt ca,
		      enum tunnel_crypt cb, bool b_endpoint)
{
	struct tunnel_peer_config c;

	node_init(a, 1);
	node_init(b, 2);
	peer_cfg(&c, b, true, ca, seg_a, 2);
	assert_int_equal(tunnel_peer_add(a->t, &c, a, &a->peer), 0);
	peer_cfg(&c, a, b_endpoint, cb, seg_b, 3);
	assert_int_equal(tunnel_peer_add(b->t, &c, b, &b->peer), 0);
}

/* Delivers every datagram queued in from->out to `to` (from from->addr),
 * checking its destination; returns how many. */
static size_t pump(struct node *from, struct node *to, uint64_t now)
{
	size_t i, n = from->out.n;
	struct tunnel_batch copy;

	/* Copy first: to's receive may append to its own batch only, but keep
	 * from's batch stable anyway. */
	assert_int_equal(tunnel_batch_init(&copy, n ? n : 1), 0);
	for (i = 0; i < n; i++) {
		memcpy(copy.arena + i * TUNNEL_DGRAM_MAX, from->out.d[i].data, from->out.d[i].len);
		copy.d[i] = from->out.d[i];
		copy.d[i].data = copy.arena + i * TUNNEL_DGRAM_MAX;
	}
	tunnel_batch_reset(&from->out);
	for (i = 0; i < n; i++) {
		const struct sockaddr_in *dst = (const void *)&copy.d[i].dst;

		assert_int_equal(copy.d[i].dst_len, sizeof(struct sockaddr_in));
		assert_int_equal(dst->sin_port, to->addr.sin_port);
		assert_int_equal(dst->sin_addr.s_addr, to->addr.sin_addr.s_addr);
		assert_true(copy.d[i].len <= 1500 - 28);
		tunnel_receive(to->t, copy.d[i].data, copy.d[i].len,
			       (const struct sockaddr *)&from->addr, sizeof(from->addr), now, &to->out);
	}
	tunnel_batch_free(&copy);
	return n;
}

static void exchange(struct node *a, struct node *b, uint64_t now)
{
	int i;

	for (i = 0; i < 20 && (a->out.n || b->out.n); i++) {
		pump(a, b, now);
		pump(b, a, now);
	}
	assert_int_equal(a->out.n, 0);
	assert_int_equal(b->out.n, 0);
}

static enum tunnel_session_state state_of(const struct node *n)
{
	struct tunnel_peer_stats st;

	tunnel_peer_get_stats(n->peer, &st);
	return st.state;
}

static void bring_up(struct node *a, struct node *b, uint64_t now)
{
	assert_true(tunnel_tick(a->t, now, &a->out) >= 1);
	exchange(a, b, now);
	assert_int_equal(a->ev[TUNNEL_EV_SESSION_UP], 1);
	assert_int_equal(b->ev[TUNNEL_EV_SESSION_UP], 1);
	assert_int_equal(state_of(a), TUNNEL_SESSION_UP);
	assert_int_equal(state_of(b), TUNNEL_SESSION_UP);
}

static int send_frame(struct node *n, size_t seg, uint32_t seq, size_t len, uint64_t now)
{
	uint8_t f[65535];
	struct iovec iov = { f, len };
	size_t taken, i;
	int r;

	for (i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seq);
	memcpy(f, &seq, 4);
	r = tunnel_encap(n->peer, seg, &iov, 1, now, &n->out, &taken);
	assert_int_equal(taken, 1);
	return r;
}

static void check_frame(const struct node *n, uint32_t seq, size_t len)
{
	size_t i;
	uint32_t got;

	assert_int_equal(n->last_len, len);
	memcpy(&got, n->last_frame, 4);
	assert_int_equal(got, seq);
	for (i = 4; i < len; i++)
		assert_int_equal(n->last_frame[i], (uint8_t)(i * 7 + seq));
}

static void test_session_and_frames(void **state)
{
	struct node a, b;
	struct tunnel_peer_stats st;
	char remote[8][TUNNEL_SEGMENT_NAME_MAX];
	uint64_t now = 10 * SEC;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	bring_up(&a, &b, now);

	/* a's segment 0 "br-dmz" is b's segment 1. */
	assert_int_equal(send_frame(&a, 0, 0, 60, now), 1);
	exchange(&a, &b, now);
	assert_int_equal(b.n_deliv, 1);
	assert_int_equal(b.last_seg, 1);
	check_frame(&b, 0, 60);

	/* Full-size frame: fragmented into 2 datagrams, reassembled. */
	assert_int_equal(send_frame(&a, 1, 1, 1514, now), 2);
	exchange(&a, &b, now);
	assert_int_equal(b.n_deliv, 2);
	assert_int_equal(b.last_seg, 0);
	check_frame(&b, 1, 1514);

	/* Jumbo frame and the other way round. */
	assert_int_equal(send_frame(&b, 1, 0, 9000, now), 7);
	exchange(&a, &b, now);
	assert_int_equal(a.n_deliv, 1);
	assert_int_equal(a.last_seg, 0);
	check_frame(&a, 0, 9000);

	/* b's third segment is not carried by a. */
	send_frame(&b, 2, 1, 100, now);
	exchange(&a, &b, now);
	assert_int_equal(a.n_deliv, 1);
	tunnel_peer_get_stats(a.peer, &st);
	assert_int_equal(st.drops[TUNNEL_DROP_SEGMENT], 1);
	assert_int_equal(st.rx_frames, 1);
	assert_int_equal(st.tx_frames, 2);
	assert_int_equal(st.handshakes, 1);
	assert_int_equal(st.rx_lost, 0);
	assert_true(st.last_rx_ns == now);
	assert_int_equal(st.n_remote_segments, 3);
	if (crypto_aead_aes256gcm_is_available())
		assert_string_equal(st.cipher, "aes-256-gcm");
	else
		assert_string_equal(st.cipher, "chacha20-poly1305");
	assert_int_equal(tunnel_peer_get_remote_segments(a.peer, remote, 8), 3);
	assert_string_equal(remote[2], "br-only-b");
	assert_int_equal(tunnel_peer_get_remote_segments(b.peer, remote, 8), 2);
	assert_string_equal(remote[0], "br-dmz");
	assert_ptr_equal(tunnel_peer_get_userdata(a.peer), &a);
	node_free(&a);
	node_free(&b);
}

/* The kernel's path MTU (tunnel_path_mtu): the peers at that endpoint cut
 * their fragments for it, at most down to 1280, back up when it grows; a
 * peer elsewhere is untouched. */
static void test_path_mtu(void **state)
{
	struct node a, b;
	struct tunnel_peer_stats st;
	struct sockaddr_in other;
	uint64_t now = 10 * SEC;
	size_t i, full;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	bring_up(&a, &b, now);
	tunnel_peer_get_stats(a.peer, &st);
	assert_int_equal(st.path_mtu, 1500);
	assert_false(st.path_mtu_learned);
	full = st.max_payload;

	other = b.addr;
	other.sin_port = htons(9);
	assert_int_equal(tunnel_path_mtu(a.t, (struct sockaddr *)&other, sizeof(other), 1280), 0);
	tunnel_peer_get_stats(a.peer, &st);
	assert_int_equal(st.path_mtu, 1500);

	assert_int_equal(tunnel_path_mtu(a.t, (struct sockaddr *)&b.addr, sizeof(b.addr), 1280), 1);
	assert_int_equal(a.ev[TUNNEL_EV_PATH_MTU], 1);
	assert_string_equal(a.last_detail, "1500 -> 1280");
	tunnel_peer_get_stats(a.peer, &st);
	assert_int_equal(st.path_mtu, 1280);
	assert_true(st.path_mtu_learned);
	assert_int_equal(st.max_payload, full - 220);
	/* the same again: no change, no event */
	assert_int_equal(tunnel_path_mtu(a.t, (struct sockaddr *)&b.addr, sizeof(b.addr), 1280), 0);
	assert_int_equal(a.ev[TUNNEL_EV_PATH_MTU], 1);

	/* a 9000-byte frame now leaves in datagrams that fit 1280 */
	assert_int_equal(send_frame(&a, 0, 0, 9000, now), 8);
	for (i = 0; i < a.out.n; i++)
		assert_true(a.out.d[i].len <= 1280 - 28);
	exchange(&a, &b, now);
	check_frame(&b, 0, 9000);

	/* never below 1280 */
	assert_int_equal(tunnel_path_mtu(a.t, (struct sockaddr *)&b.addr, sizeof(b.addr), 576), 0);
	tunnel_peer_get_stats(a.peer, &st);
	assert_int_equal(st.path_mtu, 1280);
	/* back to 1500 (and never above the configured 1500) */
	assert_int_equal(tunnel_path_mtu(a.t, (struct sockaddr *)&b.addr, sizeof(b.addr), 9000), 1);
	assert_string_equal(a.last_detail, "1280 -> 1500");
	tunnel_peer_get_stats(a.peer, &st);
	assert_int_equal(st.path_mtu, 1500);
	assert_false(st.path_mtu_learned);
	assert_int_equal(st.max_payload, full);
	node_free(&a);
	node_free(&b);
}

static void test_chacha_forced(void **state)
{
	struct node a, b;
	struct tunnel_params pr;
	struct tunnel_peer_stats st;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	tunnel_get_params(b.t, &pr);
	pr.disable_aesgcm = true;
	assert_int_equal(tunnel_set_params(b.t, &pr), 0);
	bring_up(&a, &b, SEC);
	tunnel_peer_get_stats(a.peer, &st);
	assert_string_equal(st.cipher, "chacha20-poly1305");
	tunnel_peer_get_stats(b.peer, &st);
	assert_string_equal(st.cipher, "chacha20-poly1305");
	send_frame(&a, 0, 0, 1514, SEC);
	exchange(&a, &b, SEC);
	check_frame(&b, 0, 1514);
	node_free(&a);
	node_free(&b);
}

static void test_crossing_handshakes(void **state)
{
	struct node a, b;
	uint32_t i;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	assert_int_equal(tunnel_tick(a.t, SEC, &a.out), 1);
	assert_int_equal(tunnel_tick(b.t, SEC, &b.out), 1);
	exchange(&a, &b, SEC);
	assert_int_equal(state_of(&a), TUNNEL_SESSION_UP);
	assert_int_equal(state_of(&b), TUNNEL_SESSION_UP);
	for (i = 0; i < 10; i++) {
		send_frame(&a, 0, i, 200, SEC);
		send_frame(&b, 0, i, 200, SEC);
		exchange(&a, &b, SEC);
	}
	assert_int_equal(a.n_deliv, 10);
	assert_int_equal(b.n_deliv, 10);
	assert_int_equal(a.seq_errors + b.seq_errors, 0);
	node_free(&a);
	node_free(&b);
}

static void test_none_mode(void **state)
{
	struct node a, b;
	struct tunnel_peer_stats st;

	pair_init(&a, &b, TUNNEL_CRYPT_NONE, TUNNEL_CRYPT_NONE, true);
	bring_up(&a, &b, SEC);
	tunnel_peer_get_stats(a.peer, &st);
	assert_string_equal(st.cipher, "none");
	send_frame(&a, 0, 0, 1514, SEC);
	/* Plaintext on the wire: the frame bytes are visible after the header. */
	assert_int_equal(a.out.n, 2);
	assert_int_equal(a.out.d[0].data[24 + 4], (uint8_t)(4 * 7));
	/* And no integrity: a flipped bit is delivered (documented). */
	a.out.d[0].data[24 + 10] ^= 1;
	exchange(&a, &b, SEC);
	assert_int_equal(b.n_deliv, 1);
	assert_int_equal(b.last_frame[10], (uint8_t)(10 * 7) ^ 1);
	node_free(&a);
	node_free(&b);
}

static void test_unknown_key(void **state)
{
	struct node a, b, c;
	struct tunnel_peer_config cfg;
	uint64_t drops[_TUNNEL_DROP_MAX];
	char b64[KEY_B64_LEN];
	int r;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	node_init(&c, 3);
	peer_cfg(&cfg, &b, true, TUNNEL_CRYPT_AEAD, seg_a, 1);
	assert_int_equal(tunnel_peer_add(c.t, &cfg, NULL, &c.peer), 0);
	assert_int_equal(tunnel_tick(c.t, SEC, &c.out), 1);
	r = tunnel_receive(b.t, c.out.d[0].data, c.out.d[0].len,
			   (const struct sockaddr *)&c.addr, sizeof(c.addr), SEC, &b.out);
	assert_int_equal(r, -EPERM);
	assert_int_equal(b.out.n, 0);     /* no reply at all */
	assert_int_equal(b.ev[TUNNEL_EV_HANDSHAKE_REJECTED], 1);
	assert_null(b.last_ev_peer);
	key_to_base64(c.pub, b64);
	assert_non_null(strstr(b.last_detail, b64));
	tunnel_get_drops(b.t, drops);
	assert_int_equal(drops[TUNNEL_DROP_UNKNOWN_PEER], 1);
	assert_int_equal(b.ev[TUNNEL_EV_SESSION_UP], 0);
	node_free(&a);
	node_free(&b);
	node_free(&c);
}

static void test_crypt_mismatch(void **state)
{
	struct node a, b;
	struct tunnel_peer_stats st;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_NONE, true);
	assert_int_equal(tunnel_tick(a.t, SEC, &a.out), 1);
	pump(&a, &b, SEC);
	assert_int_equal(b.out.n, 0);
	assert_int_equal(b.ev[TUNNEL_EV_HANDSHAKE_REJECTED], 1);
	assert_ptr_equal(b.last_ev_peer, b.peer);
	assert_non_null(strstr(b.last_detail, "crypt mode mismatch"));
	assert_non_null(strstr(b.last_detail, "aead"));
	tunnel_peer_get_stats(b.peer, &st);
	assert_int_equal(st.drops[TUNNEL_DROP_HANDSHAKE], 1);
	assert_int_equal(state_of(&a), TUNNEL_SESSION_HANDSHAKE);
	assert_int_equal(state_of(&b), TUNNEL_SESSION_NONE);
	node_free(&a);
	node_free(&b);
}

static void test_replayed_initiation(void **state)
{
	struct node a, b;
	struct tunnel_peer_stats st;
	uint8_t init[2048];
	size_t len;
	int r;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	assert_int_equal(tunnel_tick(a.t, SEC, &a.out), 1);
	len = a.out.d[0].len;
	memcpy(init, a.out.d[0].data, len);
	exchange(&a, &b, SEC);
	assert_int_equal(state_of(&b), TUNNEL_SESSION_UP);
	r = tunnel_receive(b.t, init, len, (const struct sockaddr *)&a.addr, sizeof(a.addr),
			   2 * SEC, &b.out);
	assert_int_equal(r, -ESTALE);
	assert_int_equal(b.out.n, 0);
	tunnel_peer_get_stats(b.peer, &st);
	assert_int_equal(st.drops[TUNNEL_DROP_HANDSHAKE], 1);
	assert_int_equal(st.handshakes, 1);
	/* A response is never larger than the initiation. */
	node_free(&a);
	node_free(&b);
}

static void test_response_size(void **state)
{
	struct node a, b;
	size_t init_len;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	assert_int_equal(tunnel_tick(a.t, SEC, &a.out), 1);
	init_len = a.out.d[0].len;
	assert_int_equal(init_len, 1156);
	pump(&a, &b, SEC);
	assert_int_equal(b.out.n, 1);
	assert_true(b.out.d[0].len <= init_len);
	node_free(&a);
	node_free(&b);
}

static void test_replayed_data_and_tamper(void **state)
{
	struct node a, b;
	struct tunnel_peer_stats st;
	uint8_t pkt[2048];
	size_t len;
	int r;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	bring_up(&a, &b, SEC);
	send_frame(&a, 0, 0, 300, SEC);
	len = a.out.d[0].len;
	memcpy(pkt, a.out.d[0].data, len);
	exchange(&a, &b, SEC);
	assert_int_equal(b.n_deliv, 1);
	r = tunnel_receive(b.t, pkt, len, (const struct sockaddr *)&a.addr, sizeof(a.addr),
			   SEC, &b.out);
	assert_int_equal(r, -EALREADY);
	assert_int_equal(b.n_deliv, 1);
	tunnel_peer_get_stats(b.peer, &st);
	assert_int_equal(st.drops[TUNNEL_DROP_REPLAY], 1);

	/* Flip a payload bit, then a header bit (authenticated as AD). */
	send_frame(&a, 0, 1, 300, SEC);
	a.out.d[0].data[100] ^= 0x20;
	pump(&a, &b, SEC);
	send_frame(&a, 0, 2, 300, SEC);
	a.out.d[0].data[17] ^= 0x01;          /* segment id */
	pump(&a, &b, SEC);
	send_frame(&a, 0, 3, 300, SEC);
	a.out.d[0].data[a.out.d[0].len - 1] ^= 0x80;   /* tag */
	pump(&a, &b, SEC);
	assert_int_equal(b.n_deliv, 1);
	tunnel_peer_get_stats(b.peer, &st);
	assert_int_equal(st.drops[TUNNEL_DROP_AUTH], 3);
	/* A genuine one still passes, after the forged ones. */
	b.next_expected = 4;
	send_frame(&a, 0, 4, 300, SEC);
	pump(&a, &b, SEC);
	assert_int_equal(b.n_deliv, 2);
	check_frame(&b, 4, 300);
	node_free(&a);
	node_free(&b);
}

static void run_volume_rekey(bool both_ways)
{
	struct node a, b;
	struct tunnel_params pr;
	struct tunnel_peer_stats sa, sb;
	uint64_t now = SEC, drops[_TUNNEL_DROP_MAX];
	uint32_t i;
	size_t d;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	tunnel_get_params(a.t, &pr);
	pr.rekey_after_messages = 40;
	pr.reject_after_messages = 100;
	assert_int_equal(tunnel_set_params(a.t, &pr), 0);
	assert_int_equal(tunnel_set_params(b.t, &pr), 0);
	bring_up(&a, &b, now);
	for (i = 0; i < 1000; i++) {
		now += MS;
		send_frame(&a, i % 2, i, i % 3 ? 100 : 1514, now);
		if (both_ways)
			send_frame(&b, i % 2, i, 64, now);
		exchange(&a, &b, now);
	}
	assert_int_equal(b.n_deliv, 1000);
	assert_int_equal(b.seq_errors, 0);
	if (both_ways) {
		assert_int_equal(a.n_deliv, 1000);
		assert_int_equal(a.seq_errors, 0);
	}
	tunnel_peer_get_stats(a.peer, &sa);
	tunnel_peer_get_stats(b.peer, &sb);
	assert_true(sa.handshakes >= 10);
	assert_true(sb.handshakes >= 10);
	for (d = 0; d < _TUNNEL_DROP_MAX; d++) {
		assert_int_equal(sa.drops[d], 0);
		assert_int_equal(sb.drops[d], 0);
	}
	tunnel_get_drops(b.t, drops);
	for (d = 0; d < _TUNNEL_DROP_MAX; d++)
		assert_int_equal(drops[d], 0);
	assert_int_equal(sb.rx_lost, 0);
	node_free(&a);
	node_free(&b);
}

static void test_rekey_volume_one_way(void **state)
{
	run_volume_rekey(false);
}

static void test_rekey_volume_both_ways(void **state)
{
	run_volume_rekey(true);
}

static void test_rekey_time(void **state)
{
	struct node a, b;
	struct tunnel_peer_stats st;
	uint64_t now = SEC;
	uint32_t i;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	bring_up(&a, &b, now);
	for (i = 0; i < 400; i++) {
		now += SEC;
		send_frame(&a, 0, i, 100, now);
		tunnel_tick(a.t, now, &a.out);
		tunnel_tick(b.t, now, &b.out);
		exchange(&a, &b, now);
	}
	assert_int_equal(b.n_deliv, 400);
	assert_int_equal(b.seq_errors, 0);
	tunnel_peer_get_stats(a.peer, &st);
	assert_true(st.handshakes >= 3);
	assert_int_equal(st.state, TUNNEL_SESSION_UP);
	assert_int_equal(a.ev[TUNNEL_EV_SESSION_DOWN] + b.ev[TUNNEL_EV_SESSION_DOWN], 0);
	node_free(&a);
	node_free(&b);
}

static void test_roaming(void **state)
{
	struct node a, b;
	struct tunnel_peer_stats st;
	const struct sockaddr_in *ep;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	bring_up(&a, &b, SEC);
	assert_int_equal(b.ev[TUNNEL_EV_ENDPOINT_CHANGED], 0);
	/* a moves to a new address/port. */
	a.addr.sin_port = htons(4444);
	a.addr.sin_addr.s_addr = htonl(0xc0a80001u);
	send_frame(&a, 0, 0, 100, SEC);
	pump(&a, &b, SEC);
	assert_int_equal(b.n_deliv, 1);
	assert_int_equal(b.ev[TUNNEL_EV_ENDPOINT_CHANGED], 1);
	assert_non_null(strstr(b.last_detail, "192.168.0.1:4444"));
	tunnel_peer_get_stats(b.peer, &st);
	ep = (const void *)&st.endpoint;
	assert_int_equal(ep->sin_port, htons(4444));
	/* b's traffic now goes to the new address (pump checks dst). */
	send_frame(&b, 0, 0, 100, SEC);
	pump(&b, &a, SEC);
	assert_int_equal(a.n_deliv, 1);
	/* A forged packet from elsewhere does not move it. */
	node_free(&a);
	node_free(&b);
}

/* Loop guard, first layer: a second daemon with b's key, at another
 * address, cannot take over a's live session with b; once b has been
 * silent past the limit, it can (a peer that really moved). */
static void test_duplicate_identity(void **state)
{
	struct tunnel_callbacks cb;
	struct tunnel_peer_config c;
	struct tunnel_peer_stats st;
	struct node a, b, b2;
	const struct sockaddr_in *ep;
	uint64_t hs;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	bring_up(&a, &b, SEC);
	tunnel_peer_get_stats(a.peer, &st);
	hs = st.handshakes;

	memset(&b2, 0, sizeof(b2));
	memcpy(b2.priv, b.priv, 32);
	memcpy(b2.pub, b.pub, 32);
	cb = (struct tunnel_callbacks){ .ctx = &b2, .deliver = on_deliver, .event = on_event };
	assert_int_equal(tunnel_new(b2.priv, &cb, &b2.t), 0);
	assert_int_equal(tunnel_batch_init(&b2.out, 256), 0);
	b2.addr.sin_family = AF_INET;
	b2.addr.sin_port = htons(3);
	b2.addr.sin_addr.s_addr = htonl(0x0a000009u);
	peer_cfg(&c, &a, true, TUNNEL_CRYPT_AEAD, seg_b, 3);
	assert_int_equal(tunnel_peer_add(b2.t, &c, &b2, &b2.peer), 0);

	assert_true(tunnel_tick(b2.t, 2 * SEC, &b2.out) >= 1);
	pump(&b2, &a, 2 * SEC);
	assert_int_equal(a.out.n, 0);              /* no reply to the newcomer */
	assert_int_equal(a.ev[TUNNEL_EV_HANDSHAKE_REJECTED], 1);
	assert_non_null(strstr(a.last_detail, "duplicate identity"));
	tunnel_peer_get_stats(a.peer, &st);
	assert_int_equal(st.state, TUNNEL_SESSION_UP);
	assert_int_equal(st.handshakes, hs);
	assert_int_equal(st.drops[TUNNEL_DROP_HANDSHAKE], 1);
	ep = (const void *)&st.endpoint;
	assert_int_equal(ep->sin_port, b.addr.sin_port);
	/* frames still go to b */
	send_frame(&a, 0, 0, 100, 2 * SEC);
	pump(&a, &b, 2 * SEC);
	assert_int_equal(b.n_deliv, 1);

	/* b falls silent for longer than the limit (15 s without keepalives):
	 * the newcomer is now a peer that moved, and is accepted */
	tunnel_batch_reset(&b2.out);
	assert_true(tunnel_tick(b2.t, 30 * SEC, &b2.out) >= 1);
	pump(&b2, &a, 30 * SEC);
	assert_int_equal(a.ev[TUNNEL_EV_HANDSHAKE_REJECTED], 1);
	assert_int_equal(a.out.n, 1);              /* the response */
	node_free(&a);
	node_free(&b);
	node_free(&b2);
}

static void test_keepalive_rtt(void **state)
{
	struct node a, b;
	struct tunnel_peer_config c;
	struct tunnel_peer_stats st;
	uint64_t now = SEC;

	node_init(&a, 1);
	node_init(&b, 2);
	peer_cfg(&c, &b, true, TUNNEL_CRYPT_AEAD, seg_a, 1);
	c.keepalive_ms = 1000;
	assert_int_equal(tunnel_peer_add(a.t, &c, NULL, &a.peer), 0);
	peer_cfg(&c, &a, true, TUNNEL_CRYPT_AEAD, seg_a, 1);
	c.keepalive_ms = 1000;
	assert_int_equal(tunnel_peer_add(b.t, &c, NULL, &b.peer), 0);
	assert_int_equal(tunnel_tick(a.t, now, &a.out), 1);
	exchange(&a, &b, now);
	/* The confirming keepalive after the handshake already measured 0. */
	tunnel_peer_get_stats(a.peer, &st);
	assert_int_equal(st.keepalives_rx, 1);
	/* Idle: keepalives due after keepalive_ms. */
	assert_true(tunnel_next_deadline(a.t) <= now + 1000 * MS);
	now += 1000 * MS;
	assert_true(tunnel_tick(a.t, now, &a.out) >= 1);
	pump(&a, &b, now + 5 * MS);         /* one-way 5 ms */
	tunnel_tick(b.t, now + 5 * MS, &b.out);
	pump(&b, &a, now + 12 * MS);        /* back 7 ms */
	tunnel_peer_get_stats(a.peer, &st);
	assert_int_equal(st.keepalives_rx, 2);
	assert_int_equal(st.rtt_last_ns, 12 * MS);
	assert_int_equal(st.rtt_max_ns, 12 * MS);
	assert_int_equal(st.rtt_min_ns, 0);
	assert_int_equal(st.rtt_avg_ns, 6 * MS);
	assert_int_equal(st.last_rx_ns, now + 12 * MS);
	tunnel_peer_get_stats(b.peer, &st);
	assert_int_equal(st.last_rx_ns, now + 5 * MS);
	node_free(&a);
	node_free(&b);
}

/* Both nodes run their timers at their deadlines from `from` to `to` in
 * 5 ms steps, every datagram delivered at once (b's dropped with
 * drop_ba); counts the datagrams each way. */
static void sim(struct node *a, struct node *b, uint64_t from, uint64_t to, size_t *ab,
		size_t *ba, bool drop_ba)
{
	uint64_t now;

	for (now = from; now < to; now += 5 * MS) {
		if (tunnel_next_deadline_at(a->t, now) <= now)
			tunnel_tick(a->t, now, &a->out);
		if (tunnel_next_deadline_at(b->t, now) <= now)
			tunnel_tick(b->t, now, &b->out);
		*ab += pump(a, b, now);
		if (drop_ba) {
			*ba += b->out.n;
			tunnel_batch_reset(&b->out);
		} else {
			*ba += pump(b, a, now);
		}
	}
}

static void set_idle(struct node *n, uint64_t idle_ns)
{
	struct tunnel_params pr;

	tunnel_get_params(n->t, &pr);
	pr.idle_keepalive_ns = idle_ns;
	pr.quiet_ethertype = 0x88b5;
	assert_int_equal(tunnel_set_params(n->t, &pr), 0);
}

/* Idle tunnels (docs/PROTOCOL.md): one keepalive per idle interval each
 * way, quiet frames keep nobody awake, a frame wakes at once, silence
 * counts from the idle reference. */
static void test_idle(void **state)
{
	struct node a, b;
	struct tunnel_peer_config c;
	struct tunnel_peer_stats st;
	uint8_t probe[64] = { 0x01, 0x80, 0xc2, 0, 0, 0x0e };
	struct iovec iov = { probe, sizeof(probe) };
	uint64_t now = SEC;
	size_t ab = 0, ba = 0, taken;

	(void)state;
	node_init(&a, 1);
	node_init(&b, 2);
	peer_cfg(&c, &b, true, TUNNEL_CRYPT_AEAD, seg_a, 1);
	c.keepalive_ms = 250;
	assert_int_equal(tunnel_peer_add(a.t, &c, NULL, &a.peer), 0);
	peer_cfg(&c, &a, true, TUNNEL_CRYPT_AEAD, seg_a, 1);
	c.keepalive_ms = 250;
	assert_int_equal(tunnel_peer_add(b.t, &c, NULL, &b.peer), 0);

	/* idle mode off: 250 ms keepalives, about 4 per second each way */
	bring_up(&a, &b, now);
	send_frame(&a, 0, 1, 100, now);
	exchange(&a, &b, now);
	sim(&a, &b, now, now + 10 * SEC, &ab, &ba, false);
	assert_true(ab >= 30 && ba >= 30);
	assert_false(tunnel_peer_idle(a.peer, now + 10 * SEC));

	/* idle mode on: after 2 s without frames, one packet per second each way */
	set_idle(&a, SEC);
	set_idle(&b, SEC);
	now += 10 * SEC;
	send_frame(&a, 0, 2, 100, now);
	exchange(&a, &b, now);
	assert_false(tunnel_peer_idle(a.peer, now + SEC));
	assert_true(tunnel_peer_idle(a.peer, now + 2 * SEC));
	assert_true(tunnel_peer_idle(b.peer, now + 2 * SEC));
	ab = ba = 0;
	sim(&a, &b, now, now + 3 * SEC, &ab, &ba, false);
	now += 3 * SEC;
	ab = ba = 0;
	sim(&a, &b, now, now + 10 * SEC, &ab, &ba, false);
	assert_true(ab >= 9 && ab <= 11);
	assert_true(ba >= 9 && ba <= 11);
	now += 10 * SEC;
	tunnel_peer_get_stats_at(a.peer, now, &st);
	assert_true(st.idle);
	assert_true(st.rtt_last_ns == 0 || st.keepalives_rx > 0);
	/* silence of an idle peer counts from its last packet plus 1 s */
	assert_int_equal(st.silence_ref_ns, st.last_rx_ns + SEC);

	/* a quiet frame (a loop-guard probe) keeps it idle */
	probe[12] = 0x88;
	probe[13] = 0xb5;
	assert_true(tunnel_encap(a.peer, 0, &iov, 1, now, &a.out, &taken) >= 1);
	exchange(&a, &b, now);
	assert_true(tunnel_peer_idle(a.peer, now));
	assert_true(tunnel_peer_idle(b.peer, now));

	/* a frame wakes both ends at once; silence counts from then */
	send_frame(&b, 0, 3, 100, now);
	exchange(&a, &b, now);
	assert_false(tunnel_peer_idle(a.peer, now));
	assert_false(tunnel_peer_idle(b.peer, now));
	tunnel_peer_get_stats_at(a.peer, now, &st);
	assert_int_equal(st.silence_ref_ns, now);

	/* idle again, then b falls silent: a's health reference stays at
	 * b's last packet plus 1 s, and a keeps one keepalive a second */
	ab = ba = 0;
	sim(&a, &b, now, now + 4 * SEC, &ab, &ba, false);
	now += 4 * SEC;
	ab = ba = 0;
	sim(&a, &b, now, now + 3 * SEC, &ab, &ba, true);
	tunnel_peer_get_stats_at(a.peer, now + 3 * SEC, &st);
	assert_true(st.idle);
	assert_true(st.silence_ref_ns <= now + SEC + 5 * MS);
	assert_true(now + 3 * SEC - st.silence_ref_ns >= 1900 * MS);

	/* busy, then b falls silent (an underlay cut): the idle spell that
	 * starts 2 s after the last frame must not give b the idle allowance
	 * (its silence keeps counting from its last packet, no revival) */
	now += 3 * SEC;
	send_frame(&a, 0, 4, 100, now);
	exchange(&a, &b, now);
	ab = ba = 0;
	sim(&a, &b, now, now + 500 * MS, &ab, &ba, false);
	now += 500 * MS;
	sim(&a, &b, now, now + 3 * SEC, &ab, &ba, true);
	tunnel_peer_get_stats_at(a.peer, now + 3 * SEC, &st);
	assert_true(st.idle);
	assert_true(st.silence_ref_ns <= now);
	node_free(&a);
	node_free(&b);
}

static void test_queue_while_handshaking(void **state)
{
	struct node a, b;
	uint8_t f[3][100];
	struct iovec iov[3];
	size_t taken, i;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	for (i = 0; i < 3; i++) {
		memset(f[i], (int)i, sizeof(f[i]));
		memcpy(f[i], &(uint32_t){ (uint32_t)i }, 4);
		iov[i].iov_base = f[i];
		iov[i].iov_len = sizeof(f[i]);
	}
	assert_int_equal(tunnel_encap(a.peer, 0, iov, 3, SEC, &a.out, &taken), 1);
	assert_int_equal(taken, 3);
	assert_int_equal(state_of(&a), TUNNEL_SESSION_HANDSHAKE);
	exchange(&a, &b, SEC);
	assert_int_equal(b.n_deliv, 3);
	assert_int_equal(b.seq_errors, 0);
	node_free(&a);
	node_free(&b);
}

static bool endpoint_confirmed(const struct node *n)
{
	struct tunnel_peer_stats st;

	tunnel_peer_get_stats(n->peer, &st);
	return st.endpoint_confirmed;
}

static void test_listen_only(void **state)
{
	struct node a, b;
	struct iovec iov = { (uint8_t[64]){ 0 }, 64 };
	size_t taken;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, false);
	assert_int_equal(tunnel_tick(b.t, SEC, &b.out), 0);
	assert_int_equal(tunnel_next_deadline(b.t), UINT64_MAX);
	assert_int_equal(tunnel_encap(b.peer, 0, &iov, 1, SEC, &b.out, &taken), 0);
	assert_int_equal(b.out.n, 0);
	assert_int_equal(state_of(&b), TUNNEL_SESSION_NONE);
	assert_false(endpoint_confirmed(&a));      /* configured, not proven */
	/* The initiation alone gives b an endpoint, not a confirmed one (it
	 * could be a replay from elsewhere); a's answer proves b to a, a's
	 * data proves a to b. */
	assert_int_equal(tunnel_tick(a.t, 2 * SEC, &a.out), 1);
	pump(&a, &b, 2 * SEC);
	assert_int_equal(b.ev[TUNNEL_EV_ENDPOINT_CHANGED], 1);
	assert_false(endpoint_confirmed(&b));
	pump(&b, &a, 2 * SEC);
	assert_true(endpoint_confirmed(&a));
	exchange(&a, &b, 2 * SEC);
	assert_int_equal(state_of(&a), TUNNEL_SESSION_UP);
	assert_int_equal(state_of(&b), TUNNEL_SESSION_UP);
	assert_true(endpoint_confirmed(&b));
	/* The queued frame went out when the session was confirmed. */
	assert_int_equal(a.n_deliv, 1);
	node_free(&a);
	node_free(&b);
}

/* A listen-only peer given a remembered endpoint (the daemon's state file)
 * initiates at once; the endpoint is a hint until a session proves it. */
static void test_endpoint_hint(void **state)
{
	struct node a, b;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, false);
	assert_int_equal(tunnel_peer_set_endpoint(b.peer, (const struct sockaddr *)&a.addr,
						  sizeof(a.addr)), 0);
	assert_false(endpoint_confirmed(&b));
	assert_int_equal(tunnel_next_deadline(b.t), 0);
	assert_int_equal(tunnel_tick(b.t, SEC, &b.out), 1);
	exchange(&b, &a, SEC);
	assert_int_equal(state_of(&a), TUNNEL_SESSION_UP);
	assert_int_equal(state_of(&b), TUNNEL_SESSION_UP);
	assert_true(endpoint_confirmed(&b));
	assert_true(endpoint_confirmed(&a));
	assert_int_equal(b.ev[TUNNEL_EV_ENDPOINT_CHANGED], 0);  /* the hint was right */
	node_free(&a);
	node_free(&b);
}

/* Runs a's timers from deadline to deadline, dropping what it sends, until
 * it sends an initiation; returns the time of that initiation. */
static uint64_t next_initiation(struct node *a, uint64_t now)
{
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t d = tunnel_next_deadline(a->t);
		size_t i, n = 0;

		if (d > now)
			now = d;
		assert_true(tunnel_tick(a->t, now, &a->out) >= 0);
		for (i = 0; i < a->out.n; i++)
			n += a->out.d[i].len == 1156;
		tunnel_batch_reset(&a->out);
		if (n) {
			assert_int_equal(n, 1);
			return now;
		}
	}
	fail();
	return 0;
}

/* Follows a's retries from the one sent at *at until one is sent at or
 * after `until`: each at most max_gap after the previous, growing from
 * 100 ms until the cap. Returns how many; *at is the last one. */
static int retries_until(struct node *a, uint64_t *at, uint64_t until, uint64_t max_gap)
{
	uint64_t t, gap, prev_gap = 0;
	int n;

	for (n = 0; *at < until; n++) {
		t = next_initiation(a, *at);
		gap = t - *at;
		if (n == 0)
			assert_true(gap >= 75 * MS && gap <= 125 * MS);
		assert_true(gap <= max_gap);
		/* 100, 200, 400 ms (± 25 %), then the cap */
		if (prev_gap && prev_gap < 300 * MS)
			assert_true(gap > prev_gap);
		prev_gap = gap;
		*at = t;
	}
	return n;
}

/* A peer never heard from: retries at most 500 ms apart for the first 5
 * minutes after the first attempt, then at the full backoff, 5 s (± 25 %). */
static void test_handshake_retry_backoff(void **state)
{
	struct node a, b;
	uint64_t now = SEC, t;
	int i, n;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	assert_int_equal(tunnel_tick(a.t, now, &a.out), 1);
	tunnel_batch_reset(&a.out);            /* lost */
	n = retries_until(&a, &now, SEC + 300 * SEC, 500 * MS);
	assert_true(n >= 600 && n <= 800);     /* 375 .. 500 ms apart */
	for (i = 0; i < 6; i++) {
		t = next_initiation(&a, now);
		assert_true(t - now >= 5 * SEC * 3 / 4 && t - now <= 5 * SEC * 5 / 4);
		now = t;
	}
	/* The next one gets through. */
	assert_int_equal(tunnel_tick(a.t, tunnel_next_deadline(a.t), &a.out), 1);
	exchange(&a, &b, now + 6 * SEC);
	assert_int_equal(state_of(&a), TUNNEL_SESSION_UP);
	node_free(&a);
	node_free(&b);
}

/* A new struct tunnel with the same key: a restarted daemon. */
static void node_restart(struct node *n)
{
	struct tunnel_callbacks cb = { .ctx = n, .deliver = on_deliver, .event = on_event };

	tunnel_free(n->t);
	n->peer = NULL;
	memset(n->ev, 0, sizeof(n->ev));
	tunnel_batch_reset(&n->out);
	assert_int_equal(tunnel_new(n->priv, &cb, &n->t), 0);
}

/* A peer that was up and fell silent (its daemon killed): the re-handshake
 * starts after three keepalive intervals of silence, retries stay at most
 * 500 ms apart until 5 minutes after the last packet, then back off to
 * 5 s. The peer, restarted at its address with ours remembered, initiates
 * itself and is accepted at once. */
static void test_retry_after_outage(void **state)
{
	struct tunnel_peer_config c;
	struct tunnel_peer_stats st;
	struct node a, b;
	uint64_t now = SEC, d, last_rx, t;

	node_init(&a, 1);
	node_init(&b, 2);
	peer_cfg(&c, &b, true, TUNNEL_CRYPT_AEAD, seg_a, 1);
	c.keepalive_ms = 250;
	assert_int_equal(tunnel_peer_add(a.t, &c, &a, &a.peer), 0);
	peer_cfg(&c, &a, false, TUNNEL_CRYPT_AEAD, seg_a, 1);
	c.keepalive_ms = 250;
	assert_int_equal(tunnel_peer_add(b.t, &c, &b, &b.peer), 0);
	/* up for ten minutes, longer than the window, rekeys included */
	bring_up(&a, &b, now);
	while (now < 600 * SEC) {
		d = tunnel_next_deadline(a.t) < tunnel_next_deadline(b.t) ?
			tunnel_next_deadline(a.t) : tunnel_next_deadline(b.t);
		now = d > now ? d : now + MS;
		tunnel_tick(a.t, now, &a.out);
		tunnel_tick(b.t, now, &b.out);
		exchange(&a, &b, now);
	}
	assert_int_equal(state_of(&a), TUNNEL_SESSION_UP);
	tunnel_peer_get_stats(a.peer, &st);
	last_rx = st.last_rx_ns;
	assert_true(st.endpoint_confirmed);

	/* b is killed: nothing comes back */
	t = next_initiation(&a, now);
	assert_true(t - last_rx >= 750 * MS && t - last_rx <= 1000 * MS);
	assert_true(retries_until(&a, &t, last_rx + 300 * SEC, 500 * MS) >= 550);
	now = next_initiation(&a, t);
	assert_true(now - t >= 5 * SEC * 3 / 4);

	/* b comes back knowing a's address (the daemon's state file) */
	node_restart(&b);
	peer_cfg(&c, &a, false, TUNNEL_CRYPT_AEAD, seg_a, 1);
	c.keepalive_ms = 250;
	assert_int_equal(tunnel_peer_add(b.t, &c, &b, &b.peer), 0);
	assert_int_equal(tunnel_peer_set_endpoint(b.peer, (const struct sockaddr *)&a.addr,
						  sizeof(a.addr)), 0);
	now += 100 * MS;
	assert_int_equal(tunnel_tick(b.t, now, &b.out), 1);
	exchange(&b, &a, now);
	assert_int_equal(state_of(&a), TUNNEL_SESSION_UP);
	assert_int_equal(state_of(&b), TUNNEL_SESSION_UP);
	assert_true(endpoint_confirmed(&b));
	node_free(&a);
	node_free(&b);
}

static void test_session_expiry(void **state)
{
	struct node a, b;
	uint64_t now = SEC;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	bring_up(&a, &b, now);
	/* Nothing passes any more: rekey attempts are lost. */
	while (now < 182 * SEC) {
		now += SEC / 2;
		tunnel_tick(a.t, now, &a.out);
		tunnel_tick(b.t, now, &b.out);
		tunnel_batch_reset(&a.out);
		tunnel_batch_reset(&b.out);
	}
	assert_int_equal(a.ev[TUNNEL_EV_SESSION_DOWN], 1);
	assert_int_equal(b.ev[TUNNEL_EV_SESSION_DOWN], 1);
	assert_int_equal(state_of(&a), TUNNEL_SESSION_EXPIRED);
	/* And it recovers. */
	tunnel_tick(a.t, now + 10 * SEC, &a.out);
	tunnel_batch_reset(&b.out);
	exchange(&a, &b, now + 10 * SEC);
	assert_int_equal(state_of(&a), TUNNEL_SESSION_UP);
	assert_int_equal(state_of(&b), TUNNEL_SESSION_UP);
	node_free(&a);
	node_free(&b);
}

static void test_garbage(void **state)
{
	struct node a, b;
	uint64_t drops[_TUNNEL_DROP_MAX];
	uint8_t pkt[200];

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	bring_up(&a, &b, SEC);
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 4;
	pkt[3] = 1;
	pkt[4] = 0x55;                 /* unknown index */
	pkt[22] = 200 - 24 - 16;
	assert_int_equal(tunnel_receive(b.t, pkt, sizeof(pkt), (const struct sockaddr *)&a.addr,
					sizeof(a.addr), SEC, &b.out), -ENOENT);
	pkt[0] = 9;
	assert_int_equal(tunnel_receive(b.t, pkt, sizeof(pkt), (const struct sockaddr *)&a.addr,
					sizeof(a.addr), SEC, &b.out), -EBADMSG);
	pkt[0] = 1;                    /* initiation of the wrong size */
	pkt[3] = 0;
	assert_int_equal(tunnel_receive(b.t, pkt, sizeof(pkt), (const struct sockaddr *)&a.addr,
					sizeof(a.addr), SEC, &b.out), -EBADMSG);
	pkt[0] = 2;                    /* response with a bad mac1 */
	assert_int_equal(tunnel_receive(b.t, pkt, 100, (const struct sockaddr *)&a.addr,
					sizeof(a.addr), SEC, &b.out), -EACCES);
	tunnel_get_drops(b.t, drops);
	assert_int_equal(drops[TUNNEL_DROP_UNKNOWN_INDEX], 1);
	assert_int_equal(drops[TUNNEL_DROP_MALFORMED], 2);
	assert_int_equal(drops[TUNNEL_DROP_AUTH], 1);
	assert_int_equal(b.out.n, 0);
	node_free(&a);
	node_free(&b);
}

static void test_config_errors(void **state)
{
	struct node a, b;
	struct tunnel_peer_config c;
	char dup[][TUNNEL_SEGMENT_NAME_MAX] = { "x", "x" };
	char long_name[][TUNNEL_SEGMENT_NAME_MAX] = { "0123456789012345678901234567890" };
	struct tunnel_params pr;

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	peer_cfg(&c, &b, true, TUNNEL_CRYPT_AEAD, seg_a, 1);
	assert_int_equal(tunnel_peer_add(a.t, &c, NULL, NULL), -EEXIST);
	peer_cfg(&c, &a, true, TUNNEL_CRYPT_AEAD, seg_a, 1);
	assert_int_equal(tunnel_peer_add(a.t, &c, NULL, NULL), -EINVAL);   /* ourselves */
	node_free(&b);
	node_init(&b, 2);
	peer_cfg(&c, &a, true, TUNNEL_CRYPT_AEAD, dup, 2);
	assert_int_equal(tunnel_peer_add(b.t, &c, NULL, NULL), -EINVAL);
	peer_cfg(&c, &a, true, TUNNEL_CRYPT_AEAD, long_name, 1);
	assert_int_equal(tunnel_peer_add(b.t, &c, NULL, NULL), 0);
	tunnel_get_params(a.t, &pr);
	pr.rekey_after_messages = pr.reject_after_messages + 1;
	assert_int_equal(tunnel_set_params(a.t, &pr), -EINVAL);
	tunnel_get_params(a.t, &pr);
	assert_int_equal(pr.hs_backoff_recent_max_ns, 500 * MS);
	assert_int_equal(pr.hs_recent_window_ns, 300 * SEC);
	pr.hs_backoff_recent_max_ns = pr.hs_backoff_min_ns - 1;
	assert_int_equal(tunnel_set_params(a.t, &pr), -EINVAL);
	pr.hs_backoff_recent_max_ns = pr.hs_backoff_max_ns + 1;
	assert_int_equal(tunnel_set_params(a.t, &pr), -EINVAL);
	assert_string_equal(tunnel_drop_to_string(TUNNEL_DROP_AUTH), "auth");
	assert_string_equal(tunnel_event_to_string(TUNNEL_EV_SESSION_UP), "session-up");
	assert_string_equal(tunnel_session_state_to_string(TUNNEL_SESSION_EXPIRED), "expired");
	node_free(&a);
	node_free(&b);
}

static void test_peer_remove(void **state)
{
	struct node a, b;
	uint64_t drops[_TUNNEL_DROP_MAX];

	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	bring_up(&a, &b, SEC);
	tunnel_peer_remove(b.peer);
	send_frame(&a, 0, 0, 100, SEC);
	pump(&a, &b, SEC);
	tunnel_get_drops(b.t, drops);
	assert_int_equal(drops[TUNNEL_DROP_UNKNOWN_INDEX], 1);
	node_free(&a);
	node_free(&b);
}

static void set_gso(struct node *n, bool on)
{
	struct tunnel_params pr;

	tunnel_get_params(n->t, &pr);
	pr.offer_gso = on;
	assert_int_equal(tunnel_set_params(n->t, &pr), 0);
}

/* a GSO frame from n: a virtio_net_hdr and 3000 bytes; the encap's result */
static int send_vnet(struct node *n, uint64_t now)
{
	static uint8_t f[3010];
	struct iovec iov = { f, sizeof(f) };
	bool v = true;
	size_t taken;

	memset(f, 0x42, sizeof(f));
	memcpy(f, "\x01\x01\x36\x00\xa8\x05\x22\x00\x10\x00", 10);
	return tunnel_encap_vnet(n->peer, 0, &iov, &v, 1, now, &n->out, &taken);
}

/* GSO frames only when both ends offer them; an initiator that offers them
 * sends the sixth initiation in a row without answer, and every third after,
 * without them (a peer of before the feature bits answers that one), then
 * upgrades the session once; a responder offers them only to an initiator
 * that did. */
static void test_gso_negotiation(void **state)
{
	static const bool cases[][3] = {
		/* a offers, b offers, both gso */
		{ true, true, true }, { true, false, false }, { false, true, false }, { false, false, false },
	};
	struct node a, b;
	uint64_t now = SEC;

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
		set_gso(&a, cases[k][0]);
		set_gso(&b, cases[k][1]);
		bring_up(&a, &b, now);
		assert_int_equal(tunnel_peer_gso(a.peer), cases[k][2]);
		assert_int_equal(tunnel_peer_gso(b.peer), cases[k][2]);
		if (cases[k][2]) {
			assert_true(send_vnet(&a, now) >= 3);      /* fragmented */
			exchange(&a, &b, now);
			assert_int_equal(b.n_vnet, 1);
			assert_int_equal(b.last_len, 3010);
			assert_memory_equal(b.last_frame, "\x01\x01\x36\x00\xa8\x05\x22\x00\x10\x00", 10);
		} else {
			/* not to a peer that takes none: dropped here, nothing sent */
			send_vnet(&a, now);
			assert_int_equal(a.out.n, 0);
			assert_int_equal(b.n_vnet, 0);
		}
		node_free(&a);
		node_free(&b);
	}
	/* five initiations lost (a peer starting answers one of them): the
	 * sixth goes without the feature bits */
	pair_init(&a, &b, TUNNEL_CRYPT_AEAD, TUNNEL_CRYPT_AEAD, true);
	set_gso(&a, true);
	set_gso(&b, true);
	assert_int_equal(tunnel_tick(a.t, now, &a.out), 1);
	tunnel_batch_reset(&a.out);
	for (int k = 0; k < 4; k++)
		now = next_initiation(&a, now);
	now += 1;
	assert_true(tunnel_tick(a.t, tunnel_next_deadline(a.t), &a.out) >= 1);
	exchange(&a, &b, tunnel_next_deadline(a.t));
	assert_int_equal(state_of(&a), TUNNEL_SESSION_UP);
	assert_false(tunnel_peer_gso(a.peer));
	assert_false(tunnel_peer_gso(b.peer));
	/* a second later, one initiation with them: both take GSO frames now */
	now = tunnel_next_deadline(a.t);
	assert_true(tunnel_tick(a.t, now, &a.out) >= 1);
	exchange(&a, &b, now);
	assert_true(tunnel_peer_gso(a.peer));
	assert_true(tunnel_peer_gso(b.peer));
	/* and only once: no further initiation is due before the rekey */
	assert_true(tunnel_next_deadline(a.t) > now + 10 * SEC);
	node_free(&a);
	node_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_and_frames),
		cmocka_unit_test(test_chacha_forced),
		cmocka_unit_test(test_crossing_handshakes),
		cmocka_unit_test(test_none_mode),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_crypt_mismatch),
		cmocka_unit_test(test_replayed_initiation),
		cmocka_unit_test(test_response_size),
		cmocka_unit_test(test_replayed_data_and_tamper),
		cmocka_unit_test(test_rekey_volume_one_way),
		cmocka_unit_test(test_rekey_volume_both_ways),
		cmocka_unit_test(test_rekey_time),
		cmocka_unit_test(test_roaming),
		cmocka_unit_test(test_duplicate_identity),
		cmocka_unit_test(test_keepalive_rtt),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_queue_while_handshaking),
		cmocka_unit_test(test_listen_only),
		cmocka_unit_test(test_endpoint_hint),
		cmocka_unit_test(test_handshake_retry_backoff),
		cmocka_unit_test(test_retry_after_outage),
		cmocka_unit_test(test_session_expiry),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_peer_remove),
		cmocka_unit_test(test_gso_negotiation),
		cmocka_unit_test(test_path_mtu),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
