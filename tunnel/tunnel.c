/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The protocol engine (tunnel.h, docs/PROTOCOL.md): peers, setup and teardown, datagram batches, strings, stats.
 * Pure: datagrams in, datagrams and frames out, time passed in.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tunnel/engine.h"
#include "common/keys.h"

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
	[TUNNEL_EV_PATH_MTU] = "path-mtu",
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

const char *eng_crypt_name(unsigned c)
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
	b->scratch = aligned_alloc(64, TUNNEL_DGRAM_MAX);
	if (!b->d || !b->arena || !b->scratch) {
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
	free(b->scratch);
	memset(b, 0, sizeof(*b));
}

uint8_t *eng_batch_slot(struct tunnel_batch *b)
{
	return b->n < b->cap ? b->arena + b->n * TUNNEL_DGRAM_MAX : NULL;
}

void eng_batch_commit(struct tunnel_batch *b, size_t len, const void *dst,
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

void eng_emit(struct tunnel *t, struct tunnel_peer *p, enum tunnel_event ev,
		 const char *detail)
{
	if (t->cb.event)
		t->cb.event(t->cb.ctx, p, ev, detail);
}

int eng_drop(struct tunnel *t, struct tunnel_peer *p, enum tunnel_drop d, int err)
{
	if (p)
		p->st.drops[d]++;
	else
		t->drops[d]++;
	return err;
}

void eng_addr_to_string(const struct sockaddr_storage *ss, char *buf, size_t len)
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

bool eng_addr_equal(const struct sockaddr_storage *a, socklen_t alen,
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

/* The IP MTU fragments are cut for: the configured one (1500 if none),
 * or the smaller path MTU the kernel reported (tunnel_path_mtu). */
static unsigned peer_mtu(const struct tunnel_peer *p)
{
	unsigned mtu = p->underlay_mtu ? p->underlay_mtu : 1500;

	return p->path_mtu && p->path_mtu < mtu ? p->path_mtu : mtu;
}

static void peer_update_mtu(struct tunnel_peer *p)
{
	unsigned mtu = peer_mtu(p);
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
void eng_peer_set_endpoint(struct tunnel_peer *p, const struct sockaddr *src,
			      socklen_t len, bool announce, bool confirm)
{
	char buf[INET6_ADDRSTRLEN + 16];

	if (!src || len == 0 || len > sizeof(p->endpoint))
		return;
	if (p->has_endpoint && eng_addr_equal(&p->endpoint, p->endpoint_len, src, len)) {
		if (confirm)
			p->ep_confirmed = true;
		return;
	}
	memset(&p->endpoint, 0, sizeof(p->endpoint));
	memcpy(&p->endpoint, src, len);
	p->endpoint_len = len;
	p->has_endpoint = true;
	p->ep_confirmed = confirm;
	p->path_mtu = 0;	/* another path: learnt again when too big */
	peer_update_mtu(p);
	if (announce) {
		eng_addr_to_string(&p->endpoint, buf, sizeof(buf));
		eng_emit(p->t, p, TUNNEL_EV_ENDPOINT_CHANGED, buf);
	}
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

int tunnel_new(const uint8_t private_key[KEY_LEN],
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
	if (eng_peer_by_key(t, cfg->public_key))
		return -EEXIST;
	if (!memcmp(cfg->public_key, t->stat->pub, KEY_LEN))
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
	memcpy(p->pub, cfg->public_key, KEY_LEN);
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
	r = eng_hs_payload(p, true, AEAD_CHACHA20POLY1305, payload);
	if (r < 0)
		goto err;
	if (cfg->has_endpoint)
		eng_peer_set_endpoint(p, (const struct sockaddr *)&cfg->endpoint, cfg->endpoint_len,
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
	eng_kp_free(t, p->kp_prev);
	eng_kp_free(t, p->kp_cur);
	eng_kp_free(t, p->kp_next);
	if (p->hs_pending)
		index_table_remove(&t->idx, p->np->sender);
	sodium_memzero(p->np, sizeof(*p->np));
	sodium_free(p->np);
	frag_table_free(&p->frags);
	eng_queue_clear(p);
	free(p->segments);
	free(p->seg_ids);
	free(p->remote_segments);
	free(p);
}

void *tunnel_peer_get_userdata(const struct tunnel_peer *p)
{
	return p->userdata;
}

void tunnel_peer_get_public_key(const struct tunnel_peer *p, uint8_t ret[KEY_LEN])
{
	memcpy(ret, p->pub, KEY_LEN);
}

int tunnel_path_mtu(struct tunnel *t, const struct sockaddr *dst, socklen_t len, unsigned mtu)
{
	int changed = 0;

	/* below the IPv6 minimum a 64 KiB frame needs more than 64 fragments:
	 * keep 1280 and let the kernel refuse what it must */
	if (mtu < TUNNEL_PATH_MTU_MIN)
		mtu = TUNNEL_PATH_MTU_MIN;
	for (struct tunnel_peer *p = t->peers; p; p = p->next_peer) {
		unsigned before, after;
		char detail[48];

		if (!p->has_endpoint || !eng_addr_equal(&p->endpoint, p->endpoint_len, dst, len))
			continue;
		before = peer_mtu(p);
		p->path_mtu = mtu;
		peer_update_mtu(p);
		after = peer_mtu(p);
		if (after == before)
			continue;
		changed++;
		snprintf(detail, sizeof(detail), "%u -> %u", before, after);
		eng_emit(t, p, TUNNEL_EV_PATH_MTU, detail);
	}
	return changed;
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
	eng_peer_set_endpoint(p, sa, len, false, false);
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
	ret->path_mtu = peer_mtu(p);
	ret->path_mtu_learned = ret->path_mtu != (p->underlay_mtu ? p->underlay_mtu : 1500);
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
