/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The protocol engine (tunnel.h, docs/PROTOCOL.md): peers, sessions
 * (previous / current / next keypairs), handshake state machine, data
 * encapsulation and decapsulation, keepalives, timers, queues.
 * Pure: datagrams in, datagrams and frames out, time passed in.
 */
#include "tunnel/tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tunnel/aead.h"
#include "tunnel/frag.h"
#include "tunnel/index.h"
#include "tunnel/keys.h"
#include "tunnel/noise.h"
#include "tunnel/replay.h"
#include "tunnel/wire.h"

#define NSEC 1000000000ull
#define MSEC 1000000ull
#define QUEUE_AGE_NS (3 * NSEC)
#define NEXT_CONFIRM_NS (1 * NSEC)   /* wait this long for a "next" to confirm */
#define DEAD_MIN_NS (15 * NSEC)
#define PASSIVE_KEEPALIVE_NS (10 * NSEC)
#define REJECT_AFTER_MESSAGES_MAX (UINT64_MAX - REPLAY_WINDOW_SIZE - 1)

enum index_kind { IDX_HANDSHAKE = 1, IDX_KEYPAIR = 2 };

struct keypair {
	struct tunnel_peer *peer;
	struct aead_key *send, *recv;       /* sodium_malloc'd */
	uint32_t local_index, remote_index;
	uint64_t send_counter;
	uint64_t created_ns;
	uint64_t rx_count;
	bool initiator;
	enum aead_cipher cipher;
	struct replay replay;
};

struct qframe {
	uint8_t *data;
	size_t len, seg;
	uint64_t at_ns;
};

struct tunnel_peer {
	struct tunnel *t;
	struct tunnel_peer *prev_peer, *next_peer;
	void *userdata;
	uint8_t pub[TUNNEL_KEY_LEN];
	struct noise_peer *np;              /* sodium_malloc'd */

	enum tunnel_crypt crypt;
	unsigned keepalive_ms, underlay_mtu;
	char (*segments)[TUNNEL_SEGMENT_NAME_MAX];
	uint32_t *seg_ids;
	size_t n_segments;
	char (*remote_segments)[TUNNEL_SEGMENT_NAME_MAX];
	size_t n_remote;

	bool has_endpoint;
	bool ep_confirmed;                  /* endpoint proven by a session (stats) */
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	size_t max_payload;                 /* frame bytes per data datagram */

	struct keypair *kp_prev, *kp_cur, *kp_next;
	bool hs_pending;
	uint64_t hs_sent_ns, hs_retry_ns, hs_backoff_ns;
	uint64_t hs_first_ns;               /* first initiation ever sent, 0 = none */
	uint8_t last_tai[WIRE_TAI64N_LEN];

	uint64_t last_tx_ns, last_rx_ns, last_ka_tx_ns;
	bool session_up, had_session;

	struct frag_table frags;
	struct qframe q[TUNNEL_QUEUE_MAX];
	size_t q_head, q_n;

	struct tunnel_peer_stats st;
	uint64_t rtt_sum, rtt_n, lost_closed, rx_closed;
};

struct tunnel {
	struct noise_static *stat;          /* sodium_malloc'd */
	struct tunnel_callbacks cb;
	struct tunnel_params params;
	struct tunnel_peer *peers;
	struct index_table idx;
	uint64_t drops[_TUNNEL_DROP_MAX];
	bool aesgcm;
	uint8_t scratch[TUNNEL_DGRAM_MAX];
};

/* ---- strings ---- */

static const char *const state_names[_TUNNEL_SESSION_STATE_MAX] = {
	[TUNNEL_SESSION_NONE] = "none",
	[TUNNEL_SESSION_HANDSHAKE] = "handshake",
	[TUNNEL_SESSION_UP] = "up",
	[TUNNEL_SESSION_EXPIRED] = "expired",
};

static const char *const drop_names[_TUNNEL_DROP_MAX] = {
	[TUNNEL_DROP_MALFORMED] = "malformed",
	[TUNNEL_DROP_UNKNOWN_INDEX] = "unknown-index",
	[TUNNEL_DROP_AUTH] = "auth",
	[TUNNEL_DROP_REPLAY] = "replay",
	[TUNNEL_DROP_UNKNOWN_PEER] = "unknown-peer",
	[TUNNEL_DROP_HANDSHAKE] = "handshake",
	[TUNNEL_DROP_SEGMENT] = "segment",
	[TUNNEL_DROP_FRAGMENT] = "fragment",
	[TUNNEL_DROP_NO_SESSION] = "no-session",
	[TUNNEL_DROP_TOO_BIG] = "too-big",
};

static const char *const event_names[_TUNNEL_EV_MAX] = {
	[TUNNEL_EV_SESSION_UP] = "session-up",
	[TUNNEL_EV_SESSION_DOWN] = "session-down",
	[TUNNEL_EV_ENDPOINT_CHANGED] = "endpoint-changed",
	[TUNNEL_EV_HANDSHAKE_REJECTED] = "handshake-rejected",
};

const char *tunnel_session_state_to_string(enum tunnel_session_state s)
{
	return (unsigned)s < _TUNNEL_SESSION_STATE_MAX ? state_names[s] : "unknown";
}

const char *tunnel_drop_to_string(enum tunnel_drop d)
{
	return (unsigned)d < _TUNNEL_DROP_MAX ? drop_names[d] : "unknown";
}

const char *tunnel_event_to_string(enum tunnel_event e)
{
	return (unsigned)e < _TUNNEL_EV_MAX ? event_names[e] : "unknown";
}

static const char *crypt_name(unsigned c)
{
	return c == WIRE_CRYPT_AEAD ? "aead" : c == WIRE_CRYPT_NONE ? "none" : "?";
}

/* ---- batch ---- */

int tunnel_batch_init(struct tunnel_batch *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	if (cap == 0)
		return -EINVAL;
	b->d = calloc(cap, sizeof(*b->d));
	b->arena = aligned_alloc(64, cap * TUNNEL_DGRAM_MAX);
	if (!b->d || !b->arena) {
		tunnel_batch_free(b);
		return -ENOMEM;
	}
	b->cap = cap;
	return 0;
}

void tunnel_batch_reset(struct tunnel_batch *b)
{
	b->n = 0;
}

void tunnel_batch_free(struct tunnel_batch *b)
{
	if (!b)
		return;
	free(b->d);
	free(b->arena);
	memset(b, 0, sizeof(*b));
}

static uint8_t *batch_slot(struct tunnel_batch *b)
{
	return b->n < b->cap ? b->arena + b->n * TUNNEL_DGRAM_MAX : NULL;
}

static void batch_commit(struct tunnel_batch *b, size_t len, const void *dst,
			 socklen_t dst_len)
{
	struct tunnel_dgram *d = &b->d[b->n];

	d->data = b->arena + b->n * TUNNEL_DGRAM_MAX;
	d->len = len;
	memcpy(&d->dst, dst, dst_len);
	d->dst_len = dst_len;
	b->n++;
}

/* ---- small helpers ---- */

static void emit(struct tunnel *t, struct tunnel_peer *p, enum tunnel_event ev,
		 const char *detail)
{
	if (t->cb.event)
		t->cb.event(t->cb.ctx, p, ev, detail);
}

static int drop(struct tunnel *t, struct tunnel_peer *p, enum tunnel_drop d, int err)
{
	if (p)
		p->st.drops[d]++;
	else
		t->drops[d]++;
	return err;
}

static void addr_to_string(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, len, "(family %u)", ss->ss_family);
	}
}

static bool addr_equal(const struct sockaddr_storage *a, socklen_t alen,
		       const struct sockaddr *b, socklen_t blen)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET && blen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (b->sa_family == AF_INET6 && blen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return alen == blen && !memcmp(a, b, blen);
}

static void peer_update_mtu(struct tunnel_peer *p)
{
	unsigned mtu = p->underlay_mtu ? p->underlay_mtu : 1500;
	size_t ip = 20, dgram;

	if (p->has_endpoint && p->endpoint.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&p->endpoint;

		if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			ip = 40;
	}
	dgram = mtu - ip - 8;
	if (dgram > TUNNEL_DGRAM_MAX)
		dgram = TUNNEL_DGRAM_MAX;
	p->max_payload = dgram - WIRE_DATA_HDR_LEN -
			 (p->crypt == TUNNEL_CRYPT_AEAD ? AEAD_TAG_LEN : 0);
}

/* Moves the endpoint to src. confirm: src is proven by a session (a
 * handshake response, or a data packet of a keypair), not only by an
 * initiation, which an attacker may replay from elsewhere after our restart
 * (tunnel_peer_stats.endpoint_confirmed). */
static void peer_set_endpoint(struct tunnel_peer *p, const struct sockaddr *src,
			      socklen_t len, bool announce, bool confirm)
{
	char buf[INET6_ADDRSTRLEN + 16];

	if (!src || len == 0 || len > sizeof(p->endpoint))
		return;
	if (p->has_endpoint && addr_equal(&p->endpoint, p->endpoint_len, src, len)) {
		if (confirm)
			p->ep_confirmed = true;
		return;
	}
	memset(&p->endpoint, 0, sizeof(p->endpoint));
	memcpy(&p->endpoint, src, len);
	p->endpoint_len = len;
	p->has_endpoint = true;
	p->ep_confirmed = confirm;
	peer_update_mtu(p);
	if (announce) {
		addr_to_string(&p->endpoint, buf, sizeof(buf));
		emit(p->t, p, TUNNEL_EV_ENDPOINT_CHANGED, buf);
	}
}

static uint64_t jitter(uint64_t base)
{
	/* base ± 25 % */
	uint64_t span = base / 2;

	return base - base / 4 + (uint64_t)(((unsigned __int128)span * randombytes_random()) >> 32);
}

/* The wait before the next initiation of a series (docs/PROTOCOL.md,
 * "Handshake retries"): the jittered backoff, but at most
 * hs_backoff_recent_max_ns while the peer is recent, i.e. was last heard
 * from (never heard: first tried) less than hs_recent_window_ns ago. A host
 * that comes back after a short outage, and cannot reach out itself, then
 * finds an initiation within that bound; one away for long gets the full
 * backoff. */
static uint64_t hs_retry_interval(const struct tunnel_peer *p, uint64_t now)
{
	const struct tunnel_params *pr = &p->t->params;
	uint64_t iv = jitter(p->hs_backoff_ns);
	uint64_t ref = p->last_rx_ns ? p->last_rx_ns : p->hs_first_ns;

	if ((ref > now || now - ref < pr->hs_recent_window_ns) &&
	    iv > pr->hs_backoff_recent_max_ns)
		iv = pr->hs_backoff_recent_max_ns;
	return iv;
}

/* ---- keypairs ---- */

static bool kp_alive(const struct tunnel *t, const struct keypair *kp, uint64_t now)
{
	return kp && now - kp->created_ns < t->params.reject_after_time_ns;
}

static bool kp_can_send(const struct tunnel *t, const struct keypair *kp, uint64_t now,
			unsigned n)
{
	return kp_alive(t, kp, now) &&
	       kp->send_counter + n <= t->params.reject_after_messages;
}

static void kp_free(struct tunnel *t, struct keypair *kp)
{
	if (!kp)
		return;
	if (kp->replay.counter > kp->rx_count)
		kp->peer->lost_closed += kp->replay.counter - kp->rx_count;
	kp->peer->rx_closed += kp->rx_count;
	index_table_remove(&t->idx, kp->local_index);
	aead_key_free(kp->send);
	aead_key_free(kp->recv);
	free(kp);
}

static int kp_new(struct tunnel_peer *p, const struct noise_keys *k, enum aead_cipher c,
		  bool initiator, uint64_t now, struct keypair **ret)
{
	struct keypair *kp = calloc(1, sizeof(*kp));
	int r;

	if (!kp)
		return -ENOMEM;
	kp->peer = p;
	kp->cipher = c;
	kp->initiator = initiator;
	kp->created_ns = now;
	replay_init(&kp->replay);
	r = aead_key_new(c, k->send, &kp->send);
	if (r == 0)
		r = aead_key_new(c, k->recv, &kp->recv);
	if (r < 0) {
		aead_key_free(kp->send);
		aead_key_free(kp->recv);
		free(kp);
		return r;
	}
	*ret = kp;
	return 0;
}

/* WireGuard's noise_keypair_begin_session / received_with_keypair. */
static void kp_begin_session(struct tunnel_peer *p, struct keypair *kp)
{
	struct tunnel *t = p->t;

	if (kp->initiator) {
		if (p->kp_next) {
			kp_free(t, p->kp_prev);
			p->kp_prev = p->kp_next;
			p->kp_next = NULL;
			kp_free(t, p->kp_cur);
		} else {
			kp_free(t, p->kp_prev);
			p->kp_prev = p->kp_cur;
		}
		p->kp_cur = kp;
	} else {
		kp_free(t, p->kp_next);
		p->kp_next = kp;
		kp_free(t, p->kp_prev);
		p->kp_prev = NULL;
	}
}

static void session_established(struct tunnel_peer *p, struct keypair *kp, uint64_t now)
{
	char detail[96];

	p->st.handshakes++;
	p->st.last_handshake_ns = now;
	p->session_up = true;
	p->had_session = true;
	snprintf(detail, sizeof(detail), "%s, %s, %zu remote segment(s)",
		 kp->initiator ? "initiator" : "responder",
		 aead_cipher_to_string(kp->cipher), p->n_remote);
	emit(p->t, p, TUNNEL_EV_SESSION_UP, detail);
}

/* ---- sending ---- */

/* Appends the datagrams of one frame (or keepalive) to out. */
static int encap_one(struct tunnel_peer *p, struct keypair *kp, uint8_t kind,
		     uint32_t seg_id, const uint8_t *data, size_t len, uint64_t now,
		     struct tunnel_batch *out)
{
	struct wire_data_hdr h = {
		.kind = kind, .receiver = kp->remote_index, .segment_id = seg_id,
		.frame_len = (uint16_t)len,
	};
	size_t chunk, off = 0, flen, tag = aead_overhead(kp->send), i;
	unsigned count;
	int r;

	r = wire_frag_geometry(len, p->max_payload, &count, &chunk);
	if (r < 0)
		return r;
	if (out->n + count > out->cap)
		return -ENOBUFS;
	if (!kp_can_send(p->t, kp, now, count) || !p->has_endpoint)
		return -ESTALE;
	h.frag_count = (uint8_t)count;
	for (i = 0; i < count; i++) {
		uint8_t *d = out->arena + out->n * TUNNEL_DGRAM_MAX;

		flen = i + 1 < count ? chunk : len - off;
		h.frag_index = (uint8_t)i;
		h.counter = kp->send_counter++;
		wire_data_hdr_encode(d, &h);
		aead_seal(kp->send, h.counter, d, WIRE_DATA_HDR_LEN, data + off, flen,
			  d + WIRE_DATA_HDR_LEN);
		batch_commit(out, WIRE_DATA_HDR_LEN + flen + tag, &p->endpoint, p->endpoint_len);
		off += flen;
	}
	p->last_tx_ns = now;
	return (int)count;
}

static int send_keepalive(struct tunnel_peer *p, struct keypair *kp, uint8_t kind,
			  uint64_t stamp, uint64_t now, struct tunnel_batch *out)
{
	uint8_t b[WIRE_KEEPALIVE_LEN];
	int r;

	wire_put64(b, stamp);
	r = encap_one(p, kp, kind, 0, b, sizeof(b), now, out);
	if (r > 0 && kind == WIRE_KIND_KEEPALIVE) {
		p->last_ka_tx_ns = now;
		p->st.keepalives_tx++;
	}
	return r;
}

static int hs_payload(const struct tunnel_peer *p, bool initiation, enum aead_cipher chosen,
		      uint8_t out[WIRE_HS_PAYLOAD_LEN])
{
	uint8_t ciphers = 0;

	if (p->crypt == TUNNEL_CRYPT_AEAD) {
		if (initiation)
			ciphers = WIRE_CIPHER_CHACHA | (p->t->aesgcm ? WIRE_CIPHER_AESGCM : 0);
		else
			ciphers = chosen == AEAD_AES256GCM ? WIRE_CIPHER_AESGCM : WIRE_CIPHER_CHACHA;
	}
	return wire_hs_payload_encode(out, WIRE_HS_PAYLOAD_LEN,
				      p->crypt == TUNNEL_CRYPT_AEAD ? WIRE_CRYPT_AEAD : WIRE_CRYPT_NONE,
				      ciphers, (const char (*)[32])p->segments, p->n_segments);
}

static int send_initiation(struct tunnel_peer *p, uint64_t now, struct tunnel_batch *out)
{
	struct tunnel *t = p->t;
	uint8_t payload[WIRE_HS_PAYLOAD_LEN], tai[WIRE_TAI64N_LEN], *slot;
	uint32_t idx, old = p->hs_pending ? p->np->sender : 0;
	int r, len;

	if (!p->has_endpoint)
		return 0;
	slot = batch_slot(out);
	if (!slot)
		return -ENOBUFS;
	len = hs_payload(p, true, AEAD_CHACHA20POLY1305, payload);
	if (len < 0)
		return len;
	r = index_table_alloc(&t->idx, IDX_HANDSHAKE, p, &idx);
	if (r < 0)
		return r;
	noise_tai64n(tai, now + (uint64_t)t->params.wallclock_offset_ns);
	r = noise_create_initiation(p->np, t->stat, p->pub, idx, tai, payload, (size_t)len, slot);
	if (r < 0) {
		index_table_remove(&t->idx, idx);
		return r;
	}
	if (old)
		index_table_remove(&t->idx, old);
	batch_commit(out, WIRE_INIT_LEN, &p->endpoint, p->endpoint_len);
	if (!p->hs_pending || p->hs_backoff_ns == 0)
		p->hs_backoff_ns = t->params.hs_backoff_min_ns;
	else if (p->hs_backoff_ns < t->params.hs_backoff_max_ns / 2)
		p->hs_backoff_ns *= 2;
	else
		p->hs_backoff_ns = t->params.hs_backoff_max_ns;
	p->hs_pending = true;
	p->hs_sent_ns = now;
	if (!p->hs_first_ns)
		p->hs_first_ns = now;
	p->hs_retry_ns = now + hs_retry_interval(p, now);
	return 1;
}

/* Drops queued frames older than QUEUE_AGE_NS. */
static void queue_age(struct tunnel_peer *p, uint64_t now)
{
	while (p->q_n && now - p->q[p->q_head].at_ns >= QUEUE_AGE_NS) {
		free(p->q[p->q_head].data);
		p->q[p->q_head].data = NULL;
		p->q_head = (p->q_head + 1) % TUNNEL_QUEUE_MAX;
		p->q_n--;
		p->st.drops[TUNNEL_DROP_NO_SESSION]++;
	}
}

static void queue_push(struct tunnel_peer *p, size_t seg, const uint8_t *data, size_t len,
		       uint64_t now)
{
	struct qframe *q;

	if (p->q_n >= p->t->params.queue_max || p->q_n >= TUNNEL_QUEUE_MAX) {
		p->st.drops[TUNNEL_DROP_NO_SESSION]++;
		return;
	}
	q = &p->q[(p->q_head + p->q_n) % TUNNEL_QUEUE_MAX];
	/* Only while no session: not the hot path. */
	q->data = malloc(len);
	if (!q->data) {
		p->st.drops[TUNNEL_DROP_NO_SESSION]++;
		return;
	}
	memcpy(q->data, data, len);
	q->len = len;
	q->seg = seg;
	q->at_ns = now;
	p->q_n++;
}

static void queue_clear(struct tunnel_peer *p)
{
	while (p->q_n) {
		free(p->q[p->q_head].data);
		p->q[p->q_head].data = NULL;
		p->q_head = (p->q_head + 1) % TUNNEL_QUEUE_MAX;
		p->q_n--;
	}
}

/* Sends queued frames with the current keypair; returns how many were
 * sent (0 if the queue was empty). */
static int queue_flush(struct tunnel_peer *p, uint64_t now, struct tunnel_batch *out)
{
	int sent = 0, r;

	while (p->q_n) {
		struct qframe *q = &p->q[p->q_head];

		r = encap_one(p, p->kp_cur, WIRE_KIND_FRAME, p->seg_ids[q->seg], q->data,
			      q->len, now, out);
		if (r == -ENOBUFS || r == -ESTALE)
			break;
		if (r < 0) {
			p->st.drops[TUNNEL_DROP_TOO_BIG]++;
		} else {
			p->st.tx_frames++;
			p->st.tx_bytes += q->len;
			sent++;
		}
		free(q->data);
		q->data = NULL;
		p->q_head = (p->q_head + 1) % TUNNEL_QUEUE_MAX;
		p->q_n--;
	}
	return sent;
}

/* Starts a handshake if the session needs one (rekey by time or volume,
 * responder-side aging, silence from the peer). */
/* How long a peer may stay silent while we send before we handshake again:
 * 3 keepalive intervals (at least 500 ms) when keepalives run, so a
 * restarted peer is back within about a second; 15 s without keepalives. */
static uint64_t silence_dead_ns(const struct tunnel_peer *p)
{
	uint64_t ka = (uint64_t)p->keepalive_ms * MSEC;

	if (!ka)
		return DEAD_MIN_NS;
	return 3 * ka < 500 * MSEC ? 500 * MSEC : 3 * ka;
}

static void maybe_rekey(struct tunnel_peer *p, uint64_t now, struct tunnel_batch *out)
{
	const struct tunnel_params *pr = &p->t->params;
	struct keypair *kp = p->kp_cur;
	uint64_t age, dead;
	bool want = false;

	if (p->hs_pending || !p->has_endpoint)
		return;
	if (!kp_can_send(p->t, kp, now, 1)) {
		/* No usable session: handshake, unless a fresh "next" is
		 * about to be confirmed by the initiator. */
		want = !p->kp_next || now - p->kp_next->created_ns >= NEXT_CONFIRM_NS ||
		       !kp_alive(p->t, p->kp_next, now);
	} else {
		age = now - kp->created_ns;
		dead = silence_dead_ns(p);
		if (kp->send_counter >= pr->rekey_after_messages)
			want = true;
		else if (kp->initiator && age >= pr->rekey_after_time_ns)
			want = true;
		else if (!kp->initiator && age >= pr->reject_after_time_ns -
			 (pr->reject_after_time_ns / 4 < DEAD_MIN_NS ? pr->reject_after_time_ns / 4
								       : DEAD_MIN_NS))
			want = true;
		else if (p->last_tx_ns > p->last_rx_ns && now - p->last_rx_ns >= dead &&
			 now - p->hs_sent_ns >= dead)
			want = true;
	}
	if (want)
		send_initiation(p, now, out);
}

int tunnel_encap(struct tunnel_peer *p, size_t seg, const struct iovec *frames,
		 size_t n, uint64_t now_ns, struct tunnel_batch *out,
		 size_t *ret_taken)
{
	struct keypair *kp = p->kp_cur;
	size_t i;
	int total = 0, r;

	*ret_taken = 0;
	if (seg >= p->n_segments)
		return -EINVAL;
	if (p->q_n && kp_can_send(p->t, kp, now_ns, 1)) {
		total += queue_flush(p, now_ns, out);
		if (p->q_n && out->n == out->cap)
			return -ENOBUFS;
	}
	/* No session (or frames still queued, keep the order): queue. */
	if (p->q_n || !kp_can_send(p->t, kp, now_ns, 1) || !p->has_endpoint) {
		for (i = 0; i < n; i++) {
			if (frames[i].iov_len == 0 || frames[i].iov_len > WIRE_FRAME_MAX)
				p->st.drops[TUNNEL_DROP_TOO_BIG]++;
			else
				queue_push(p, seg, frames[i].iov_base, frames[i].iov_len, now_ns);
		}
		*ret_taken = n;
		if (!p->hs_pending) {
			size_t before = out->n;

			maybe_rekey(p, now_ns, out);
			total += (int)(out->n - before);
		}
		return total;
	}
	for (i = 0; i < n; i++) {
		r = encap_one(p, kp, WIRE_KIND_FRAME, p->seg_ids[seg], frames[i].iov_base,
			      frames[i].iov_len, now_ns, out);
		if (r == -ENOBUFS)
			return -ENOBUFS;
		if (r == -ESTALE) {
			/* The keypair ran out of messages mid-batch. */
			queue_push(p, seg, frames[i].iov_base, frames[i].iov_len, now_ns);
		} else if (r < 0) {
			p->st.drops[TUNNEL_DROP_TOO_BIG]++;
		} else {
			total += r;
			p->st.tx_frames++;
			p->st.tx_bytes += frames[i].iov_len;
		}
		*ret_taken = i + 1;
	}
	if (kp->send_counter >= p->t->params.rekey_after_messages && !p->hs_pending) {
		size_t before = out->n;

		maybe_rekey(p, now_ns, out);
		total += (int)(out->n - before);
	}
	return total;
}

/* ---- receiving ---- */

static struct tunnel_peer *peer_by_key(struct tunnel *t, const uint8_t pub[TUNNEL_KEY_LEN])
{
	struct tunnel_peer *p;

	for (p = t->peers; p; p = p->next_peer)
		if (!memcmp(p->pub, pub, TUNNEL_KEY_LEN))
			return p;
	return NULL;
}

static void store_remote_segments(struct tunnel_peer *p, const struct wire_hs_payload *pl)
{
	char (*segs)[TUNNEL_SEGMENT_NAME_MAX] = NULL;
	size_t i;

	if (pl->n_segments) {
		segs = calloc(pl->n_segments, sizeof(*segs));
		if (!segs)
			return;
		for (i = 0; i < pl->n_segments; i++)
			memcpy(segs[i], pl->segments[i], TUNNEL_SEGMENT_NAME_MAX);
	}
	free(p->remote_segments);
	p->remote_segments = segs;
	p->n_remote = pl->n_segments;
}

static int check_crypt(struct tunnel_peer *p, const struct wire_hs_payload *pl)
{
	unsigned ours = p->crypt == TUNNEL_CRYPT_AEAD ? WIRE_CRYPT_AEAD : WIRE_CRYPT_NONE;
	char b64[KEY_B64_LEN], detail[160];

	if (pl->crypt == ours)
		return 0;
	key_to_base64(p->pub, b64);
	snprintf(detail, sizeof(detail),
		 "crypt mode mismatch: peer %s uses encryption %s, we use %s",
		 b64, crypt_name(pl->crypt), crypt_name(ours));
	emit(p->t, p, TUNNEL_EV_HANDSHAKE_REJECTED, detail);
	return -EPROTO;
}

static int rx_initiation(struct tunnel *t, const uint8_t *pkt, size_t len,
			 const struct sockaddr *src, socklen_t src_len, uint64_t now,
			 struct tunnel_batch *out)
{
	struct noise_init_state st;
	struct wire_hs_payload *pl = NULL;
	struct noise_keys keys;
	struct tunnel_peer *p;
	struct keypair *kp = NULL;
	uint8_t tai[WIRE_TAI64N_LEN], payload[WIRE_HS_PAYLOAD_LEN], *slot;
	enum aead_cipher c = AEAD_NONE;
	char b64[KEY_B64_LEN], detail[256];
	uint32_t idx, remote;
	int r, plen, rlen;

	memset(&keys, 0, sizeof(keys));
	if (len != WIRE_INIT_LEN)
		return drop(t, NULL, TUNNEL_DROP_MALFORMED, -EBADMSG);
	if (!noise_mac1_ok(t->stat->mac1_key, pkt, len))
		return drop(t, NULL, TUNNEL_DROP_AUTH, -EACCES);
	r = noise_consume_initiation_static(t->stat, pkt, len, &st);
	if (r < 0) {
		noise_wipe(&st, sizeof(st));
		return drop(t, NULL, TUNNEL_DROP_AUTH, -EACCES);
	}
	p = peer_by_key(t, st.s_i);
	if (!p) {
		key_to_base64(st.s_i, b64);
		snprintf(detail, sizeof(detail), "handshake from unknown peer key %s", b64);
		noise_wipe(&st, sizeof(st));
		emit(t, NULL, TUNNEL_EV_HANDSHAKE_REJECTED, detail);
		return drop(t, NULL, TUNNEL_DROP_UNKNOWN_PEER, -EPERM);
	}
	r = noise_consume_initiation_payload(&st, p->np, pkt, tai, payload);
	if (r < 0) {
		r = drop(t, p, TUNNEL_DROP_AUTH, -EACCES);
		goto out;
	}
	/* Replayed (or reordered, older) initiation. */
	if (memcmp(tai, p->last_tai, sizeof(tai)) <= 0) {
		r = drop(t, p, TUNNEL_DROP_HANDSHAKE, -ESTALE);
		goto out;
	}
	/* Loop guard, first layer: one live session per identity. A second
	 * daemon with the same key, or the same peer reachable at a second
	 * address, must not take over a session that is alive elsewhere (that
	 * would put two tunnels into one bridge pair): the established session
	 * wins until it falls silent. A restart at the same address passes. */
	if (p->session_up && p->has_endpoint && p->last_rx_ns &&
	    now - p->last_rx_ns < silence_dead_ns(p) &&
	    !addr_equal(&p->endpoint, p->endpoint_len, src, src_len)) {
		char cur[INET6_ADDRSTRLEN + 16], other[INET6_ADDRSTRLEN + 16];
		struct sockaddr_storage ss;

		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, src, src_len < sizeof(ss) ? src_len : sizeof(ss));
		addr_to_string(&p->endpoint, cur, sizeof(cur));
		addr_to_string(&ss, other, sizeof(other));
		key_to_base64(p->pub, b64);
		snprintf(detail, sizeof(detail),
			 "duplicate identity: %s already has a live session from %s; "
			 "refusing the handshake from %s", b64, cur, other);
		emit(t, p, TUNNEL_EV_HANDSHAKE_REJECTED, detail);
		r = drop(t, p, TUNNEL_DROP_HANDSHAKE, -EEXIST);
		goto out;
	}
	pl = malloc(sizeof(*pl));
	if (!pl) {
		r = -ENOMEM;
		goto out;
	}
	if (wire_hs_payload_decode(payload, sizeof(payload), pl) < 0) {
		r = drop(t, p, TUNNEL_DROP_MALFORMED, -EBADMSG);
		goto out;
	}
	if (check_crypt(p, pl) < 0) {
		r = drop(t, p, TUNNEL_DROP_HANDSHAKE, -EPROTO);
		goto out;
	}
	if (p->crypt == TUNNEL_CRYPT_AEAD) {
		if ((pl->ciphers & WIRE_CIPHER_AESGCM) && t->aesgcm)
			c = AEAD_AES256GCM;
		else if (pl->ciphers & WIRE_CIPHER_CHACHA)
			c = AEAD_CHACHA20POLY1305;
		else {
			key_to_base64(p->pub, b64);
			snprintf(detail, sizeof(detail), "no common cipher with peer %s", b64);
			emit(t, p, TUNNEL_EV_HANDSHAKE_REJECTED, detail);
			r = drop(t, p, TUNNEL_DROP_HANDSHAKE, -EPROTO);
			goto out;
		}
	}
	slot = batch_slot(out);
	if (!slot) {
		/* Not counted: the initiator retries; nothing consumed. */
		r = -ENOBUFS;
		goto out;
	}
	plen = hs_payload(p, false, c, payload);
	if (plen < 0) {
		r = plen;
		goto out;
	}
	r = index_table_alloc(&t->idx, IDX_KEYPAIR, NULL, &idx);
	if (r < 0)
		goto out;
	remote = st.sender;
	/* Wipes st. */
	rlen = noise_create_response(&st, p->np, idx, payload, (size_t)plen, slot, &keys);
	if (rlen < 0 || (size_t)rlen > len) {
		/* Never answer with more than we got (anti-amplification). */
		index_table_remove(&t->idx, idx);
		r = drop(t, p, TUNNEL_DROP_HANDSHAKE, -EPROTO);
		goto out;
	}
	r = kp_new(p, &keys, c, false, now, &kp);
	if (r < 0) {
		index_table_remove(&t->idx, idx);
		goto out;
	}
	kp->local_index = idx;
	kp->remote_index = remote;
	index_table_find(&t->idx, idx)->ptr = kp;
	memcpy(p->last_tai, tai, sizeof(tai));
	store_remote_segments(p, pl);
	kp_begin_session(p, kp);
	p->last_rx_ns = now;
	peer_set_endpoint(p, src, src_len, true, false);
	batch_commit(out, (size_t)rlen, src, src_len);
	r = 0;
out:
	noise_wipe(&st, sizeof(st));
	noise_wipe(&keys, sizeof(keys));
	free(pl);
	return r;
}

static int rx_response(struct tunnel *t, const uint8_t *pkt, size_t len,
		       const struct sockaddr *src, socklen_t src_len, uint64_t now,
		       struct tunnel_batch *out)
{
	struct index_entry *e;
	struct tunnel_peer *p;
	struct wire_hs_payload *pl = NULL;
	struct noise_keys keys;
	struct keypair *kp;
	uint8_t payload[WIRE_HS_PAYLOAD_LEN];
	size_t plen;
	enum aead_cipher c = AEAD_NONE;
	char b64[KEY_B64_LEN], detail[128];
	uint8_t offered;
	int r;

	if (len < WIRE_RESP_MIN_LEN || len > WIRE_RESP_MAX_LEN)
		return drop(t, NULL, TUNNEL_DROP_MALFORMED, -EBADMSG);
	if (!noise_mac1_ok(t->stat->mac1_key, pkt, len))
		return drop(t, NULL, TUNNEL_DROP_AUTH, -EACCES);
	e = index_table_find(&t->idx, wire_get32(pkt + WIRE_RESP_OFF_RECEIVER));
	if (!e || e->kind != IDX_HANDSHAKE)
		return drop(t, NULL, TUNNEL_DROP_UNKNOWN_INDEX, -ENOENT);
	p = e->ptr;
	plen = len - WIRE_RESP_OFF_PAYLOAD - WIRE_TAG_LEN - WIRE_MAC_LEN;
	memset(&keys, 0, sizeof(keys));
	r = noise_consume_response(p->np, t->stat, pkt, len, payload, &keys);
	if (r < 0) {
		r = drop(t, p, TUNNEL_DROP_AUTH, -EACCES);
		goto out;
	}
	/* The handshake is spent whatever follows. */
	p->hs_pending = false;
	pl = malloc(sizeof(*pl));
	if (!pl) {
		index_table_remove(&t->idx, p->np->sender);
		r = -ENOMEM;
		goto out;
	}
	if (wire_hs_payload_decode(payload, plen, pl) < 0) {
		index_table_remove(&t->idx, p->np->sender);
		r = drop(t, p, TUNNEL_DROP_MALFORMED, -EBADMSG);
		goto out;
	}
	if (check_crypt(p, pl) < 0) {
		index_table_remove(&t->idx, p->np->sender);
		r = drop(t, p, TUNNEL_DROP_HANDSHAKE, -EPROTO);
		goto out;
	}
	if (p->crypt == TUNNEL_CRYPT_AEAD) {
		offered = WIRE_CIPHER_CHACHA | (t->aesgcm ? WIRE_CIPHER_AESGCM : 0);
		if (pl->ciphers == WIRE_CIPHER_AESGCM && (offered & WIRE_CIPHER_AESGCM))
			c = AEAD_AES256GCM;
		else if (pl->ciphers == WIRE_CIPHER_CHACHA)
			c = AEAD_CHACHA20POLY1305;
		else {
			key_to_base64(p->pub, b64);
			snprintf(detail, sizeof(detail), "peer %s chose a cipher we did not offer", b64);
			emit(t, p, TUNNEL_EV_HANDSHAKE_REJECTED, detail);
			index_table_remove(&t->idx, p->np->sender);
			r = drop(t, p, TUNNEL_DROP_HANDSHAKE, -EPROTO);
			goto out;
		}
	}
	r = kp_new(p, &keys, c, true, now, &kp);
	if (r < 0) {
		index_table_remove(&t->idx, p->np->sender);
		goto out;
	}
	/* The handshake's index becomes the session's. */
	kp->local_index = p->np->sender;
	kp->remote_index = wire_get32(pkt + WIRE_RESP_OFF_SENDER);
	e->kind = IDX_KEYPAIR;
	e->ptr = kp;
	p->hs_backoff_ns = 0;
	store_remote_segments(p, pl);
	kp_begin_session(p, kp);
	p->last_rx_ns = now;
	/* the response answers our ephemeral key: fresh, and from the peer */
	peer_set_endpoint(p, src, src_len, true, true);
	session_established(p, kp, now);
	/* Confirm the session to the responder: queued frames or a keepalive. */
	if (queue_flush(p, now, out) == 0)
		send_keepalive(p, kp, WIRE_KIND_KEEPALIVE, now, now, out);
	r = 0;
out:
	noise_wipe(&keys, sizeof(keys));
	free(pl);
	return r;
}

static void rtt_sample(struct tunnel_peer *p, uint64_t rtt)
{
	p->st.rtt_last_ns = rtt;
	if (p->rtt_n == 0 || rtt < p->st.rtt_min_ns)
		p->st.rtt_min_ns = rtt;
	if (rtt > p->st.rtt_max_ns)
		p->st.rtt_max_ns = rtt;
	p->rtt_sum += rtt;
	p->rtt_n++;
	p->st.rtt_avg_ns = p->rtt_sum / p->rtt_n;
	p->st.keepalives_rx++;
}

static int rx_data(struct tunnel *t, const uint8_t *pkt, size_t len,
		   const struct sockaddr *src, socklen_t src_len, uint64_t now,
		   struct tunnel_batch *out)
{
	const struct tunnel_params *pr = &t->params;
	struct wire_data_hdr h;
	struct index_entry *e;
	struct tunnel_peer *p;
	struct keypair *kp;
	const uint8_t *body, *frame;
	size_t body_len, tag, s;
	unsigned evicted;
	int r;

	if (wire_data_hdr_decode(pkt, len, &h) < 0)
		return drop(t, NULL, TUNNEL_DROP_MALFORMED, -EBADMSG);
	e = index_table_find(&t->idx, h.receiver);
	if (!e || e->kind != IDX_KEYPAIR)
		return drop(t, NULL, TUNNEL_DROP_UNKNOWN_INDEX, -ENOENT);
	kp = e->ptr;
	p = kp->peer;
	tag = aead_overhead(kp->recv);
	if (len < WIRE_DATA_HDR_LEN + tag)
		return drop(t, p, TUNNEL_DROP_MALFORMED, -EBADMSG);
	body_len = len - WIRE_DATA_HDR_LEN - tag;
	if (wire_data_check_body(&h, body_len) < 0)
		return drop(t, p, TUNNEL_DROP_MALFORMED, -EBADMSG);
	if (!kp_alive(t, kp, now))
		return drop(t, p, TUNNEL_DROP_UNKNOWN_INDEX, -ENOENT);
	if (!replay_check(&kp->replay, h.counter, pr->reject_after_messages))
		return drop(t, p, TUNNEL_DROP_REPLAY, -EALREADY);
	if (kp->cipher == AEAD_NONE) {
		body = pkt + WIRE_DATA_HDR_LEN;
	} else {
		if (aead_open(kp->recv, h.counter, pkt, WIRE_DATA_HDR_LEN,
			      pkt + WIRE_DATA_HDR_LEN, len - WIRE_DATA_HDR_LEN, t->scratch) < 0)
			return drop(t, p, TUNNEL_DROP_AUTH, -EACCES);
		body = t->scratch;
	}
	if (!replay_update(&kp->replay, h.counter, pr->reject_after_messages))
		return drop(t, p, TUNNEL_DROP_REPLAY, -EALREADY);
	kp->rx_count++;
	p->last_rx_ns = now;
	/* In none mode nothing here is authenticated: do not let it move the
	 * endpoint (docs/PROTOCOL.md); from the endpoint the handshake set, it
	 * confirms it as much as none mode confirms anything. */
	if (kp->cipher != AEAD_NONE)
		peer_set_endpoint(p, src, src_len, true, true);
	else if (p->has_endpoint && addr_equal(&p->endpoint, p->endpoint_len, src, src_len))
		p->ep_confirmed = true;
	if (kp == p->kp_next) {
		/* The initiator used the new session: confirmed. */
		kp_free(t, p->kp_prev);
		p->kp_prev = p->kp_cur;
		p->kp_cur = kp;
		p->kp_next = NULL;
		session_established(p, kp, now);
		queue_flush(p, now, out);
	}

	switch (h.kind) {
	case WIRE_KIND_KEEPALIVE:
		if (kp_can_send(t, p->kp_cur, now, 1))
			send_keepalive(p, p->kp_cur, WIRE_KIND_ECHO, wire_get64(body), now, out);
		return 0;
	case WIRE_KIND_ECHO: {
		uint64_t stamp = wire_get64(body);

		/* Our own stamp coming back; authenticated in aead mode. */
		if (stamp <= now && now - stamp < 60 * NSEC)
			rtt_sample(p, now - stamp);
		return 0;
	}
	default:
		break;
	}

	for (s = 0; s < p->n_segments; s++)
		if (p->seg_ids[s] == h.segment_id)
			break;
	if (s == p->n_segments)
		return drop(t, p, TUNNEL_DROP_SEGMENT, -ENXIO);
	if (h.frag_count == 1) {
		frame = body;
	} else {
		r = frag_add(&p->frags, &h, body, body_len, now, &frame, &evicted);
		p->st.drops[TUNNEL_DROP_FRAGMENT] += evicted;
		if (r < 0)
			return drop(t, p, TUNNEL_DROP_FRAGMENT, r);
		if (r == 0)
			return 0;
	}
	p->st.rx_frames++;
	p->st.rx_bytes += h.frame_len;
	if (t->cb.deliver)
		t->cb.deliver(t->cb.ctx, p, s, frame, h.frame_len);
	return 0;
}

int tunnel_receive(struct tunnel *t, const uint8_t *pkt, size_t len,
		   const struct sockaddr *src, socklen_t src_len,
		   uint64_t now_ns, struct tunnel_batch *out)
{
	if (!src || src_len == 0 || src_len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (len < 4 || len > TUNNEL_DGRAM_MAX)
		return drop(t, NULL, TUNNEL_DROP_MALFORMED, -EBADMSG);
	switch (pkt[0]) {
	case WIRE_TYPE_DATA:
		return rx_data(t, pkt, len, src, src_len, now_ns, out);
	case WIRE_TYPE_INITIATION:
		if (pkt[1] | pkt[2] | pkt[3])
			break;
		return rx_initiation(t, pkt, len, src, src_len, now_ns, out);
	case WIRE_TYPE_RESPONSE:
		if (pkt[1] | pkt[2] | pkt[3])
			break;
		return rx_response(t, pkt, len, src, src_len, now_ns, out);
	default:
		break;
	}
	return drop(t, NULL, TUNNEL_DROP_MALFORMED, -EBADMSG);
}

/* ---- timers ---- */

static bool usable(const struct tunnel_peer *p, uint64_t now)
{
	return kp_can_send(p->t, p->kp_cur, now, 1);
}

static void peer_expire(struct tunnel_peer *p, uint64_t now)
{
	struct tunnel *t = p->t;
	unsigned n;

	if (p->kp_prev && !kp_alive(t, p->kp_prev, now)) {
		kp_free(t, p->kp_prev);
		p->kp_prev = NULL;
	}
	if (p->kp_next && !kp_alive(t, p->kp_next, now)) {
		kp_free(t, p->kp_next);
		p->kp_next = NULL;
	}
	if (p->kp_cur && !kp_alive(t, p->kp_cur, now)) {
		kp_free(t, p->kp_cur);
		p->kp_cur = NULL;
	}
	if (p->session_up && !usable(p, now)) {
		p->session_up = false;
		emit(t, p, TUNNEL_EV_SESSION_DOWN,
		     p->kp_cur ? "session exhausted its messages" : "session expired");
	}
	n = frag_expire(&p->frags, now, t->params.frag_timeout_ns);
	p->st.drops[TUNNEL_DROP_FRAGMENT] += n;
	queue_age(p, now);
}

static bool keepalive_due(const struct tunnel_peer *p, uint64_t now)
{
	uint64_t ka = (uint64_t)p->keepalive_ms * MSEC;

	/* Passive keepalive (WireGuard): data came in and we said nothing
	 * back for a while; tell the peer we are alive before it declares
	 * us dead and re-handshakes. */
	if (p->last_rx_ns > p->last_tx_ns && now - p->last_rx_ns >= PASSIVE_KEEPALIVE_NS)
		return true;
	if (!ka)
		return false;
	return now - p->last_tx_ns >= ka ||
	       (now - p->last_rx_ns >= ka && now - p->last_ka_tx_ns >= ka) ||
	       now - p->last_ka_tx_ns >= 4 * ka;
}

int tunnel_tick(struct tunnel *t, uint64_t now_ns, struct tunnel_batch *out)
{
	struct tunnel_peer *p;
	size_t before = out->n;
	int r;

	for (p = t->peers; p; p = p->next_peer) {
		peer_expire(p, now_ns);
		if (p->hs_pending && now_ns >= p->hs_retry_ns) {
			r = send_initiation(p, now_ns, out);
			if (r == -ENOBUFS)
				return -ENOBUFS;
		} else {
			maybe_rekey(p, now_ns, out);
		}
		if (usable(p, now_ns)) {
			if (p->q_n) {
				queue_flush(p, now_ns, out);
				if (p->q_n && out->n == out->cap)
					return -ENOBUFS;
			}
			if (keepalive_due(p, now_ns) &&
			    send_keepalive(p, p->kp_cur, WIRE_KIND_KEEPALIVE, now_ns, now_ns,
					   out) == -ENOBUFS)
				return -ENOBUFS;
		}
	}
	return (int)(out->n - before);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t peer_deadline(const struct tunnel_peer *p)
{
	const struct tunnel *t = p->t;
	const struct tunnel_params *pr = &t->params;
	const struct keypair *kps[3] = { p->kp_prev, p->kp_cur, p->kp_next }, *kp = p->kp_cur;
	uint64_t d = UINT64_MAX, ka = (uint64_t)p->keepalive_ms * MSEC, dead;
	size_t i;

	for (i = 0; i < 3; i++)
		if (kps[i])
			d = min64(d, kps[i]->created_ns + pr->reject_after_time_ns);
	d = min64(d, frag_next_deadline(&p->frags, pr->frag_timeout_ns));
	if (p->q_n)
		d = min64(d, p->q[p->q_head].at_ns + QUEUE_AGE_NS);
	if (p->hs_pending)
		d = min64(d, p->hs_retry_ns);
	if (!p->has_endpoint && !kp)
		return d;
	if (!kp || kp->send_counter >= pr->reject_after_messages) {
		if (!p->hs_pending && p->has_endpoint)
			d = min64(d, p->kp_next ? p->kp_next->created_ns + NEXT_CONFIRM_NS : 0);
		return d;
	}
	if (!p->hs_pending && p->has_endpoint) {
		if (kp->send_counter >= pr->rekey_after_messages)
			d = 0;
		else if (kp->initiator)
			d = min64(d, kp->created_ns + pr->rekey_after_time_ns);
		else
			d = min64(d, kp->created_ns + pr->reject_after_time_ns -
					     min64(pr->reject_after_time_ns / 4, DEAD_MIN_NS));
		dead = silence_dead_ns(p);
		if (p->last_tx_ns > p->last_rx_ns)
			d = min64(d, (p->last_rx_ns > p->hs_sent_ns ? p->last_rx_ns : p->hs_sent_ns) + dead);
	}
	if (p->q_n)
		d = 0;
	if (p->last_rx_ns > p->last_tx_ns)
		d = min64(d, p->last_rx_ns + PASSIVE_KEEPALIVE_NS);
	if (ka) {
		d = min64(d, p->last_tx_ns + ka);
		d = min64(d, p->last_ka_tx_ns + 4 * ka);
		d = min64(d, (p->last_rx_ns > p->last_ka_tx_ns ? p->last_rx_ns : p->last_ka_tx_ns) + ka);
	}
	return d;
}

uint64_t tunnel_next_deadline(const struct tunnel *t)
{
	const struct tunnel_peer *p;
	uint64_t d = UINT64_MAX;

	for (p = t->peers; p; p = p->next_peer)
		d = min64(d, peer_deadline(p));
	return d;
}

/* ---- setup ---- */

void tunnel_params_default(struct tunnel_params *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->rekey_after_time_ns = 120 * NSEC;
	ret->reject_after_time_ns = 180 * NSEC;
	ret->rekey_after_messages = 1ull << 60;
	ret->reject_after_messages = REJECT_AFTER_MESSAGES_MAX;
	ret->hs_backoff_min_ns = 100 * MSEC;
	ret->hs_backoff_max_ns = 5 * NSEC;
	ret->hs_backoff_recent_max_ns = 500 * MSEC;
	ret->hs_recent_window_ns = 300 * NSEC;
	ret->frag_timeout_ns = 1 * NSEC;
	ret->queue_max = 16;
}

void tunnel_get_params(const struct tunnel *t, struct tunnel_params *ret)
{
	*ret = t->params;
}

int tunnel_set_params(struct tunnel *t, const struct tunnel_params *p)
{
	if (!p->rekey_after_time_ns || p->rekey_after_time_ns > p->reject_after_time_ns ||
	    !p->rekey_after_messages || p->rekey_after_messages > p->reject_after_messages ||
	    p->reject_after_messages > REJECT_AFTER_MESSAGES_MAX ||
	    !p->hs_backoff_min_ns || p->hs_backoff_min_ns > p->hs_backoff_max_ns ||
	    p->hs_backoff_recent_max_ns < p->hs_backoff_min_ns ||
	    p->hs_backoff_recent_max_ns > p->hs_backoff_max_ns ||
	    !p->frag_timeout_ns || p->queue_max > TUNNEL_QUEUE_MAX)
		return -EINVAL;
	t->params = *p;
	t->aesgcm = aead_aesgcm_available() && !p->disable_aesgcm;
	return 0;
}

int tunnel_new(const uint8_t private_key[TUNNEL_KEY_LEN],
	       const struct tunnel_callbacks *cb, struct tunnel **ret)
{
	struct timespec rt, mono;
	struct tunnel *t;
	int r;

	if (sodium_init() < 0)
		return -EIO;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (cb)
		t->cb = *cb;
	tunnel_params_default(&t->params);
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	t->params.wallclock_offset_ns =
		((int64_t)rt.tv_sec - mono.tv_sec) * (int64_t)NSEC + (rt.tv_nsec - mono.tv_nsec);
	t->aesgcm = aead_aesgcm_available();
	t->stat = sodium_malloc(sizeof(*t->stat));
	if (!t->stat) {
		r = -ENOMEM;
		goto err;
	}
	r = noise_static_init(t->stat, private_key);
	if (r < 0)
		goto err;
	r = index_table_init(&t->idx);
	if (r < 0)
		goto err;
	*ret = t;
	return 0;
err:
	tunnel_free(t);
	return r;
}

void tunnel_free(struct tunnel *t)
{
	if (!t)
		return;
	while (t->peers)
		tunnel_peer_remove(t->peers);
	index_table_free(&t->idx);
	if (t->stat) {
		sodium_memzero(t->stat, sizeof(*t->stat));
		sodium_free(t->stat);
	}
	free(t);
}

int tunnel_peer_add(struct tunnel *t, const struct tunnel_peer_config *cfg,
		    void *userdata, struct tunnel_peer **ret)
{
	uint8_t payload[WIRE_HS_PAYLOAD_LEN];
	struct tunnel_peer *p;
	size_t i, j, l;
	int r;

	if ((unsigned)cfg->crypt >= _TUNNEL_CRYPT_MAX ||
	    (cfg->underlay_mtu && (cfg->underlay_mtu < 1280 || cfg->underlay_mtu > 65535)) ||
	    (cfg->n_segments && !cfg->segments) || cfg->n_segments > 255 ||
	    (cfg->has_endpoint && (cfg->endpoint_len == 0 ||
				   cfg->endpoint_len > sizeof(cfg->endpoint))))
		return -EINVAL;
	if (peer_by_key(t, cfg->public_key))
		return -EEXIST;
	if (!memcmp(cfg->public_key, t->stat->pub, TUNNEL_KEY_LEN))
		return -EINVAL;
	for (i = 0; i < cfg->n_segments; i++) {
		l = strnlen(cfg->segments[i], TUNNEL_SEGMENT_NAME_MAX);
		if (l == 0 || l >= TUNNEL_SEGMENT_NAME_MAX)
			return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->t = t;
	p->userdata = userdata;
	memcpy(p->pub, cfg->public_key, TUNNEL_KEY_LEN);
	p->crypt = cfg->crypt;
	p->keepalive_ms = cfg->keepalive_ms;
	p->underlay_mtu = cfg->underlay_mtu;
	frag_table_init(&p->frags);
	p->n_segments = cfg->n_segments;
	p->segments = calloc(cfg->n_segments ? cfg->n_segments : 1, sizeof(*p->segments));
	p->seg_ids = calloc(cfg->n_segments ? cfg->n_segments : 1, sizeof(*p->seg_ids));
	p->np = sodium_malloc(sizeof(*p->np));
	if (!p->segments || !p->seg_ids || !p->np) {
		r = -ENOMEM;
		goto err;
	}
	for (i = 0; i < cfg->n_segments; i++) {
		memcpy(p->segments[i], cfg->segments[i], TUNNEL_SEGMENT_NAME_MAX);
		p->seg_ids[i] = tunnel_segment_id(p->segments[i]);
		for (j = 0; j < i; j++)
			if (p->seg_ids[j] == p->seg_ids[i]) {
				r = -EINVAL;   /* same name twice, or a hash collision */
				goto err;
			}
	}
	r = noise_peer_init(p->np, t->stat, cfg->public_key);
	if (r < 0)
		goto err;
	r = hs_payload(p, true, AEAD_CHACHA20POLY1305, payload);
	if (r < 0)
		goto err;
	if (cfg->has_endpoint)
		peer_set_endpoint(p, (const struct sockaddr *)&cfg->endpoint, cfg->endpoint_len,
				  false, false);
	peer_update_mtu(p);
	p->next_peer = t->peers;
	if (t->peers)
		t->peers->prev_peer = p;
	t->peers = p;
	if (ret)
		*ret = p;
	return 0;
err:
	if (p->np) {
		sodium_memzero(p->np, sizeof(*p->np));
		sodium_free(p->np);
	}
	free(p->segments);
	free(p->seg_ids);
	free(p);
	return r;
}

void tunnel_peer_remove(struct tunnel_peer *p)
{
	struct tunnel *t;

	if (!p)
		return;
	t = p->t;
	if (p->prev_peer)
		p->prev_peer->next_peer = p->next_peer;
	else
		t->peers = p->next_peer;
	if (p->next_peer)
		p->next_peer->prev_peer = p->prev_peer;
	kp_free(t, p->kp_prev);
	kp_free(t, p->kp_cur);
	kp_free(t, p->kp_next);
	if (p->hs_pending)
		index_table_remove(&t->idx, p->np->sender);
	sodium_memzero(p->np, sizeof(*p->np));
	sodium_free(p->np);
	frag_table_free(&p->frags);
	queue_clear(p);
	free(p->segments);
	free(p->seg_ids);
	free(p->remote_segments);
	free(p);
}

void *tunnel_peer_get_userdata(const struct tunnel_peer *p)
{
	return p->userdata;
}

void tunnel_peer_get_public_key(const struct tunnel_peer *p, uint8_t ret[TUNNEL_KEY_LEN])
{
	memcpy(ret, p->pub, TUNNEL_KEY_LEN);
}

int tunnel_peer_set_endpoint(struct tunnel_peer *p, const struct sockaddr *sa, socklen_t len)
{
	if (!sa) {
		p->has_endpoint = false;
		p->ep_confirmed = false;
		memset(&p->endpoint, 0, sizeof(p->endpoint));
		p->endpoint_len = 0;
		peer_update_mtu(p);
		return 0;
	}
	if (len == 0 || len > sizeof(p->endpoint))
		return -EINVAL;
	peer_set_endpoint(p, sa, len, false, false);
	return 0;
}

size_t tunnel_peer_get_remote_segments(const struct tunnel_peer *p,
				       char (*ret)[TUNNEL_SEGMENT_NAME_MAX], size_t max)
{
	size_t i;

	for (i = 0; i < p->n_remote && i < max; i++)
		memcpy(ret[i], p->remote_segments[i], TUNNEL_SEGMENT_NAME_MAX);
	return p->n_remote;
}

uint32_t tunnel_segment_id(const char *name)
{
	return wire_segment_id(name, strnlen(name, TUNNEL_SEGMENT_NAME_MAX));
}

void tunnel_peer_get_stats(const struct tunnel_peer *p, struct tunnel_peer_stats *ret)
{
	const struct keypair *kps[3] = { p->kp_prev, p->kp_cur, p->kp_next };
	size_t i;

	*ret = p->st;
	memcpy(&ret->endpoint, &p->endpoint, sizeof(p->endpoint));
	ret->endpoint_len = p->has_endpoint ? p->endpoint_len : 0;
	ret->endpoint_confirmed = p->has_endpoint && p->ep_confirmed;
	if (!p->has_endpoint)
		ret->endpoint.ss_family = 0;
	ret->last_rx_ns = p->last_rx_ns;
	ret->n_remote_segments = p->n_remote;
	ret->rx_lost = p->lost_closed;
	ret->rx_packets = p->rx_closed;
	ret->path_mtu = p->underlay_mtu ? p->underlay_mtu : 1500;
	ret->max_payload = (unsigned)p->max_payload;
	for (i = 0; i < 3; i++) {
		if (kps[i])
			ret->rx_packets += kps[i]->rx_count;
		if (kps[i] && kps[i]->replay.counter > kps[i]->rx_count)
			ret->rx_lost += kps[i]->replay.counter - kps[i]->rx_count;
	}
	/* No clock here: "up" means a current keypair that tunnel_tick has not
	 * expired yet. */
	if (p->kp_cur && p->session_up)
		ret->state = TUNNEL_SESSION_UP;
	else if (p->hs_pending || p->kp_next)
		ret->state = p->had_session ? TUNNEL_SESSION_EXPIRED : TUNNEL_SESSION_HANDSHAKE;
	else
		ret->state = p->had_session ? TUNNEL_SESSION_EXPIRED : TUNNEL_SESSION_NONE;
	if (p->crypt == TUNNEL_CRYPT_NONE)
		ret->cipher = "none";
	else if (p->kp_cur)
		ret->cipher = aead_cipher_to_string(p->kp_cur->cipher);
	else
		ret->cipher = "pending";
}

void tunnel_get_drops(const struct tunnel *t, uint64_t ret[_TUNNEL_DROP_MAX])
{
	memcpy(ret, t->drops, sizeof(t->drops));
}
