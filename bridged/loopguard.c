/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loop guard decisions: probes, victim choice, port FSM, MAC moves, storm
 * limit (see loopguard.h). */
#include "bridged/loopguard.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

const uint8_t probe_dst_mac[6] = { 0x03, 0x62, 0x64, 0x00, 0x00, 0x01 };
static const uint8_t probe_magic[4] = { 'B', 'D', 'L', 'P' };

#define OFF_MAGIC 14
#define OFF_VERSION 18
#define OFF_NHOPS 19
#define OFF_ORIGIN 20
#define OFF_SEGMENT 28
#define OFF_SEQ 32
#define OFF_MAC 40
#define ETH_MIN 60

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

bool probe_is(const uint8_t *frame, size_t len)
{
	return len >= PROBE_HDR_LEN && !memcmp(frame, probe_dst_mac, 6) &&
	       frame[12] == (PROBE_ETHERTYPE >> 8) && frame[13] == (PROBE_ETHERTYPE & 0xff) &&
	       !memcmp(frame + OFF_MAGIC, probe_magic, 4);
}

/* MAC over what the origin wrote (magic .. seq, without the hop count). */
static void probe_mac(const uint8_t *frame, const uint8_t key[32], uint8_t out[16])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, 32, 16);
	crypto_generichash_update(&st, frame + OFF_MAGIC, OFF_NHOPS - OFF_MAGIC);
	crypto_generichash_update(&st, frame + OFF_ORIGIN, OFF_MAC - OFF_ORIGIN);
	crypto_generichash_final(&st, out, 16);
}

size_t probe_build(uint8_t *frame, const uint8_t origin[NODE_ID_LEN], uint32_t segment,
		   uint64_t seq, const uint8_t key[32])
{
	memset(frame, 0, ETH_MIN);
	memcpy(frame, probe_dst_mac, 6);
	frame[6] = 0x02;          /* locally administered unicast source */
	frame[7] = 0x62;
	frame[8] = 0x64;
	memcpy(frame + 9, origin, 3);
	frame[12] = PROBE_ETHERTYPE >> 8;
	frame[13] = PROBE_ETHERTYPE & 0xff;
	memcpy(frame + OFF_MAGIC, probe_magic, 4);
	frame[OFF_VERSION] = 1;
	frame[OFF_NHOPS] = 0;
	memcpy(frame + OFF_ORIGIN, origin, NODE_ID_LEN);
	put32(frame + OFF_SEGMENT, segment);
	put64(frame + OFF_SEQ, seq);
	probe_mac(frame, key, frame + OFF_MAC);
	return ETH_MIN;
}

int probe_parse(const uint8_t *frame, size_t len, struct probe *ret)
{
	unsigned n;

	if (!probe_is(frame, len) || frame[OFF_VERSION] != 1)
		return -EINVAL;
	n = frame[OFF_NHOPS];
	if (n > PROBE_MAX_HOPS || len < PROBE_HDR_LEN + (size_t)n * PROBE_HOP_LEN)
		return -EINVAL;
	memcpy(ret->origin, frame + OFF_ORIGIN, NODE_ID_LEN);
	ret->segment = get32(frame + OFF_SEGMENT);
	ret->seq = get64(frame + OFF_SEQ);
	memcpy(ret->mac, frame + OFF_MAC, 16);
	ret->n_hops = n;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *h = frame + PROBE_HDR_LEN + i * PROBE_HOP_LEN;

		memcpy(ret->hops[i].from, h, NODE_ID_LEN);
		memcpy(ret->hops[i].to, h + NODE_ID_LEN, NODE_ID_LEN);
		ret->hops[i].flags = get32(h + 2 * NODE_ID_LEN);
	}
	return 0;
}

int probe_append_hop(uint8_t *frame, size_t len, size_t cap, const uint8_t from[NODE_ID_LEN],
		     const uint8_t to[NODE_ID_LEN], uint32_t flags)
{
	unsigned n = frame[OFF_NHOPS];
	size_t off = PROBE_HDR_LEN + (size_t)n * PROBE_HOP_LEN, nl;

	if (n >= PROBE_MAX_HOPS || off + PROBE_HOP_LEN > cap || len < off)
		return -E2BIG;
	memcpy(frame + off, from, NODE_ID_LEN);
	memcpy(frame + off + NODE_ID_LEN, to, NODE_ID_LEN);
	put32(frame + off + 2 * NODE_ID_LEN, flags);
	frame[OFF_NHOPS] = n + 1;
	nl = off + PROBE_HOP_LEN;
	return (int)(nl > len ? nl : len);
}

void probe_mark_last_hop(uint8_t *frame, size_t len, uint32_t flags)
{
	unsigned n = frame[OFF_NHOPS];
	size_t off;

	if (!n || n > PROBE_MAX_HOPS)
		return;
	off = PROBE_HDR_LEN + (size_t)(n - 1) * PROBE_HOP_LEN + 2 * NODE_ID_LEN;
	if (off + 4 > len)
		return;
	put32(frame + off, get32(frame + off) | flags);
}

bool probe_verify(const struct probe *p, const uint8_t key[32])
{
	uint8_t frame[PROBE_HDR_LEN], mac[16];

	memset(frame, 0, sizeof(frame));
	memcpy(frame + OFF_MAGIC, probe_magic, 4);
	frame[OFF_VERSION] = 1;
	memcpy(frame + OFF_ORIGIN, p->origin, NODE_ID_LEN);
	put32(frame + OFF_SEGMENT, p->segment);
	put64(frame + OFF_SEQ, p->seq);
	probe_mac(frame, key, mac);
	return sodium_memcmp(mac, p->mac, 16) == 0;
}

int probe_find_from(const struct probe *p, const uint8_t node[NODE_ID_LEN])
{
	for (unsigned i = 0; i < p->n_hops; i++)
		if (!memcmp(p->hops[i].from, node, NODE_ID_LEN))
			return (int)i;
	return -1;
}

/* Orders tunnels by their (greater id, smaller id) pair. */
static void hop_pair(const struct probe_hop *h, const uint8_t **hi, const uint8_t **lo)
{
	if (memcmp(h->from, h->to, NODE_ID_LEN) >= 0) {
		*hi = h->from;
		*lo = h->to;
	} else {
		*hi = h->to;
		*lo = h->from;
	}
}

static int pair_cmp(const struct probe_hop *a, const struct probe_hop *b)
{
	const uint8_t *ah, *al, *bh, *bl;
	int c;

	hop_pair(a, &ah, &al);
	hop_pair(b, &bh, &bl);
	c = memcmp(ah, bh, NODE_ID_LEN);
	return c ? c : memcmp(al, bl, NODE_ID_LEN);
}

int loopguard_victim(const struct probe_hop *hops, unsigned n, unsigned first,
		     uint8_t ret_a[NODE_ID_LEN], uint8_t ret_b[NODE_ID_LEN])
{
	const struct probe_hop *best = NULL;
	bool any_probing = false;
	const uint8_t *hi, *lo;

	memset(ret_a, 0, NODE_ID_LEN);
	memset(ret_b, 0, NODE_ID_LEN);
	for (unsigned i = first; i < n; i++) {
		if (hops[i].flags & HOP_BLOCKED)
			return 0;
		if (hops[i].flags & HOP_PROBING)
			any_probing = true;
	}
	for (unsigned i = first; i < n; i++) {
		if (any_probing && !(hops[i].flags & HOP_PROBING))
			continue;
		if (!best || pair_cmp(&hops[i], best) > 0)
			best = &hops[i];
	}
	if (!best)
		return 0;
	hop_pair(best, &hi, &lo);
	memcpy(ret_a, hi, NODE_ID_LEN);
	memcpy(ret_b, lo, NODE_ID_LEN);
	return 1;
}

bool loopguard_block_needed(const struct probe_hop *hops, unsigned n, unsigned first,
			    uint8_t ret_a[NODE_ID_LEN], uint8_t ret_b[NODE_ID_LEN])
{
	const struct probe_hop *blocked = NULL;
	const uint8_t *hi, *lo;

	memset(ret_a, 0, NODE_ID_LEN);
	memset(ret_b, 0, NODE_ID_LEN);
	for (unsigned i = first; i < n; i++) {
		if (!hops[i].flags)
			continue;
		if (blocked || !(hops[i].flags & HOP_BLOCKED))
			return false;
		blocked = &hops[i];
	}
	if (!blocked)
		return false;
	hop_pair(blocked, &hi, &lo);
	memcpy(ret_a, hi, NODE_ID_LEN);
	memcpy(ret_b, lo, NODE_ID_LEN);
	return true;
}

static const char *const guard_state_names[_GUARD_STATE_MAX] = {
	[GUARD_DOWN] = "down",
	[GUARD_PROBING] = "probing",
	[GUARD_FORWARDING] = "forwarding",
	[GUARD_BLOCKED] = "blocked",
};

static const char *const guard_event_names[_GUARD_EVENT_MAX] = {
	[GUARD_EV_TUNNEL_UP] = "tunnel-up",
	[GUARD_EV_TUNNEL_DOWN] = "tunnel-down",
	[GUARD_EV_PROBE_PASSED] = "probe-passed",
	[GUARD_EV_LOOP] = "loop",
	[GUARD_EV_RETRY] = "retry",
};

const char *guard_state_to_string(enum guard_state s)
{
	return (unsigned)s < _GUARD_STATE_MAX ? guard_state_names[s] : NULL;
}

const char *guard_event_to_string(enum guard_event e)
{
	return (unsigned)e < _GUARD_EVENT_MAX ? guard_event_names[e] : NULL;
}

enum guard_state guard_next(enum guard_state s, enum guard_event ev)
{
	switch (s) {
	case GUARD_DOWN:
		switch (ev) {
		case GUARD_EV_TUNNEL_UP:
			return GUARD_PROBING;
		default:
			return s;
		}
	case GUARD_PROBING:
		switch (ev) {
		case GUARD_EV_TUNNEL_DOWN:
			return GUARD_DOWN;
		case GUARD_EV_PROBE_PASSED:
			return GUARD_FORWARDING;
		case GUARD_EV_LOOP:
			return GUARD_BLOCKED;
		default:
			return s;
		}
	case GUARD_FORWARDING:
		switch (ev) {
		case GUARD_EV_TUNNEL_DOWN:
			return GUARD_DOWN;
		case GUARD_EV_LOOP:
			return GUARD_BLOCKED;
		case GUARD_EV_RETRY:	/* its round was too short: probe again */
			return GUARD_PROBING;
		default:
			return s;
		}
	case GUARD_BLOCKED:
		switch (ev) {
		case GUARD_EV_TUNNEL_DOWN:
			return GUARD_DOWN;
		case GUARD_EV_RETRY:
			return GUARD_PROBING;
		default:
			return s;
		}
	default:
		return s;
	}
}

uint32_t guard_hop_flags(enum guard_state s)
{
	switch (s) {
	case GUARD_FORWARDING:
		return 0;
	case GUARD_BLOCKED:
		return HOP_BLOCKED;
	case GUARD_PROBING:
	case GUARD_DOWN:
	default:
		return HOP_PROBING;
	}
}

bool guard_forwards(enum guard_state s)
{
	return s == GUARD_FORWARDING;
}

uint64_t guard_backoff_ns(unsigned n, uint64_t min_ns, uint64_t max_ns)
{
	uint64_t v = min_ns;

	while (n-- && v < max_ns)
		v *= 2;
	return v > max_ns ? max_ns : v;
}

static struct mac_entry *mac_find(struct mac_table *t, const uint8_t mac[6])
{
	for (size_t i = 0; i < t->n; i++)
		if (!memcmp(t->e[i].mac, mac, 6))
			return &t->e[i];
	return NULL;
}

int mac_table_learn(struct mac_table *t, const uint8_t mac[6], int port, uint64_t now_ns,
		    int *ret_old_port)
{
	struct mac_entry *e = mac_find(t, mac);
	unsigned in_window = 0;

	if (!e) {
		/* forget idle entries before growing */
		for (size_t i = 0; i < t->n;) {
			if (t->forget_ns && now_ns - t->e[i].last_ns > t->forget_ns)
				t->e[i] = t->e[--t->n];
			else
				i++;
		}
		/* bounded: a VM sending from random MACs evicts the stalest */
		if (t->n >= MAC_TABLE_MAX) {
			size_t old = 0;

			for (size_t i = 1; i < t->n; i++)
				if (t->e[i].last_ns < t->e[old].last_ns)
					old = i;
			t->e[old] = t->e[--t->n];
		}
		if (t->n == t->cap) {
			size_t nc = t->cap ? t->cap * 2 : 64;
			struct mac_entry *ne = realloc(t->e, nc * sizeof(*ne));

			if (!ne)
				return -ENOMEM;
			t->e = ne;
			t->cap = nc;
		}
		e = &t->e[t->n++];
		memset(e, 0, sizeof(*e));
		memcpy(e->mac, mac, 6);
		e->port = port;
		e->last_ns = now_ns;
		return MAC_NEW;
	}
	e->last_ns = now_ns;
	if (e->port == port)
		return MAC_SAME;
	if (ret_old_port)
		*ret_old_port = e->port;
	e->port = port;
	e->moves_ns[e->head] = now_ns;
	e->head = (e->head + 1) % 16;
	if (e->n_moves < 16)
		e->n_moves++;
	for (unsigned i = 0; i < e->n_moves; i++)
		if (now_ns - e->moves_ns[i] <= t->flap_window_ns)
			in_window++;
	if (t->flap_moves && in_window >= t->flap_moves) {
		e->alarmed = true;
		return MAC_FLAPPING;
	}
	e->alarmed = false;
	return MAC_MOVED;
}

int mac_table_seed(struct mac_table *t, const uint8_t mac[6], int port, uint64_t now_ns)
{
	if (mac_find(t, mac))
		return 0;
	return mac_table_learn(t, mac, port, now_ns, NULL) < 0 ? -ENOMEM : 1;
}

void mac_table_free(struct mac_table *t)
{
	free(t->e);
	t->e = NULL;
	t->n = t->cap = 0;
}

bool storm_allow(struct storm_bucket *b, uint64_t now_ns)
{
	if (!b->rate)
		return true;
	if (!b->last_ns) {
		b->tokens = b->burst;
	} else {
		b->tokens += (double)(now_ns - b->last_ns) * b->rate / 1e9;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
	}
	b->last_ns = now_ns;
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}
