/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The protocol engine (tunnel.h, docs/PROTOCOL.md): handshake retries (the backoff), session expiry, keepalives, the
 * next deadline.
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

/* ---- timers ---- */

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
uint64_t eng_hs_retry_interval(const struct tunnel_peer *p, uint64_t now)
{
	const struct tunnel_params *pr = &p->t->params;
	uint64_t iv = jitter(p->hs_backoff_ns);
	uint64_t ref = p->last_rx_ns ? p->last_rx_ns : p->hs_first_ns;

	if ((ref > now || now - ref < pr->hs_recent_window_ns) &&
	    iv > pr->hs_backoff_recent_max_ns)
		iv = pr->hs_backoff_recent_max_ns;
	return iv;
}


/* ---- idle tunnels (docs/PROTOCOL.md, "Idle tunnels") ---- */

static uint64_t load_relaxed(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* A frame went to or came from the peer: unless it is one of the owner's
 * quiet frames (loop-guard probes), the peer is not idle. Cheap enough for
 * every frame: one load, a store at most once a millisecond. */
void eng_note_frame(struct tunnel_peer *p, const uint8_t *eth, size_t len, uint64_t now)
{
	uint16_t quiet = p->t->params.quiet_ethertype;
	uint64_t last = load_relaxed(&p->last_data_ns);

	if (quiet && len >= 14 && (uint16_t)(eth[12] << 8 | eth[13]) == quiet)
		return;
	if (now <= last || now - last < MSEC)
		return;
	if (!last || now - last >= IDLE_AFTER_NS)
		__atomic_store_n(&p->active_since_ns, now, __ATOMIC_RELAXED);
	__atomic_store_n(&p->last_data_ns, now, __ATOMIC_RELAXED);
}

/* Idle: idle mode on, keepalives on, nothing queued, no frame for
 * IDLE_AFTER_NS. */
bool eng_idle(const struct tunnel_peer *p, uint64_t now)
{
	uint64_t last = load_relaxed(&p->last_data_ns);

	if (!p->t->params.idle_keepalive_ns || !p->keepalive_ms || p->q_n)
		return false;
	return last < now && now - last >= IDLE_AFTER_NS;
}

/* The time the peer's silence is counted from: an idle peer is heard from
 * once per idle interval, so its last packet plus that interval; a busy
 * one from its last packet, but not before the end of the idle spell (a
 * peer waking up after 1 s of idle silence is not already late). */
uint64_t eng_silence_ref(const struct tunnel_peer *p, uint64_t now)
{
	uint64_t since = load_relaxed(&p->active_since_ns);

	if (eng_idle(p, now)) {
		uint64_t h = p->t->params.idle_keepalive_ns;
		uint64_t quiet_from = load_relaxed(&p->last_data_ns) + IDLE_AFTER_NS;

		/* the idle allowance only for a peer heard from within the
		 * silence bound of the spell's start: one that fell silent
		 * while busy (an underlay cut) is not revived by the spell
		 * starting */
		if (p->last_rx_ns + eng_silence_dead_ns(p) > quiet_from)
			return p->last_rx_ns + h;
		return p->last_rx_ns;
	}
	return p->last_rx_ns > since || !p->t->params.idle_keepalive_ns ? p->last_rx_ns : since;
}

/* Heard from within the silence bound (eng_silence_dead_ns). */
bool eng_peer_heard(const struct tunnel_peer *p, uint64_t now)
{
	uint64_t ref = eng_silence_ref(p, now);

	return p->last_rx_ns && (ref >= now || now - ref < eng_silence_dead_ns(p));
}

bool tunnel_peer_idle(const struct tunnel_peer *p, uint64_t now_ns)
{
	return eng_idle(p, now_ns);
}

void tunnel_peer_get_stats_at(const struct tunnel_peer *p, uint64_t now_ns,
			      struct tunnel_peer_stats *ret)
{
	tunnel_peer_get_stats(p, ret);
	ret->idle = eng_idle(p, now_ns);
	ret->last_frame_ns = load_relaxed(&p->last_data_ns);
	ret->silence_ref_ns = eng_silence_ref(p, now_ns);
}

static bool usable(const struct tunnel_peer *p, uint64_t now)
{
	return eng_kp_can_send(p->t, p->kp_cur, now, 1);
}

static void peer_expire(struct tunnel_peer *p, uint64_t now)
{
	struct tunnel *t = p->t;
	unsigned n;

	if (p->kp_prev && !eng_kp_alive(t, p->kp_prev, now)) {
		eng_kp_free(t, p->kp_prev);
		p->kp_prev = NULL;
	}
	if (p->kp_next && !eng_kp_alive(t, p->kp_next, now)) {
		eng_kp_free(t, p->kp_next);
		p->kp_next = NULL;
	}
	if (p->kp_cur && !eng_kp_alive(t, p->kp_cur, now)) {
		eng_kp_free(t, p->kp_cur);
		p->kp_cur = NULL;
	}
	if (p->session_up && !usable(p, now)) {
		p->session_up = false;
		eng_emit(t, p, TUNNEL_EV_SESSION_DOWN,
		     p->kp_cur ? "session exhausted its messages" : "session expired");
	}
	n = frag_expire(&p->frags, now, t->params.frag_timeout_ns);
	p->st.drops[TUNNEL_DROP_FRAGMENT] += n;
	eng_queue_age(p, now);
}

/* Idle and heard from within 1.25 idle intervals: the one-a-second pace.
 * A missed echo, or a peer silent since an outage, brings back the
 * keepalive_ms pace at once (both ends ask), so one lost datagram costs a
 * few keepalives, not the tunnel, and a peer back from an outage is heard
 * within keepalive_ms, not a second later. */
static bool idle_paced(const struct tunnel_peer *p, uint64_t now)
{
	uint64_t h = p->t->params.idle_keepalive_ns;

	return eng_idle(p, now) && p->last_rx_ns && p->last_rx_ns <= now &&
	       now - p->last_rx_ns < h + h / 4;
}

static bool keepalive_due(const struct tunnel_peer *p, uint64_t now)
{
	uint64_t ka = (uint64_t)p->keepalive_ms * MSEC, h = p->t->params.idle_keepalive_ns;

	/* Idle: the session's initiator sends one keepalive per idle
	 * interval and the responder echoes it, one packet each way; when
	 * the initiator's stop coming (a peer with idle mode off, or
	 * Keepalive = 0 there, or a lost one), the keepalive_ms pace below
	 * takes over (idle_paced). */
	if (idle_paced(p, now))
		return p->kp_cur->initiator && now - p->last_tx_ns >= h;
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
			r = eng_send_initiation(p, now_ns, out);
			if (r == -ENOBUFS)
				return -ENOBUFS;
		} else {
			eng_maybe_rekey(p, now_ns, out);
		}
		if (usable(p, now_ns)) {
			if (p->q_n) {
				eng_queue_flush(p, now_ns, out);
				if (p->q_n && out->n == out->cap)
					return -ENOBUFS;
			}
			if (keepalive_due(p, now_ns) &&
			    eng_send_keepalive(p, p->kp_cur, WIRE_KIND_KEEPALIVE, now_ns, now_ns,
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

static uint64_t peer_deadline(const struct tunnel_peer *p, uint64_t now)
{
	const struct tunnel *t = p->t;
	const struct tunnel_params *pr = &t->params;
	const struct keypair *kps[3] = { p->kp_prev, p->kp_cur, p->kp_next }, *kp = p->kp_cur;
	uint64_t d = UINT64_MAX, ka = (uint64_t)p->keepalive_ms * MSEC, dead, ref;
	size_t i;

	for (i = 0; i < 3; i++)
		if (kps[i])
			d = min64(d, kps[i]->created_ns + pr->reject_after_time_ns);
	d = min64(d, frag_next_deadline(&p->frags, pr->frag_timeout_ns));
	if (p->q_n)
		d = min64(d, p->q[p->q_head].at_ns + QUEUE_AGE_NS);
	if (p->hs_pending)
		d = min64(d, p->hs_retry_ns);
	else if (p->gso_upgrade_at && p->has_endpoint)
		d = min64(d, p->gso_upgrade_at);
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
		dead = eng_silence_dead_ns(p);
		ref = eng_silence_ref(p, now);
		if (p->last_tx_ns > p->last_rx_ns)
			d = min64(d, (ref > p->hs_sent_ns ? ref : p->hs_sent_ns) + dead);
	}
	if (p->q_n)
		d = 0;
	if (ka && idle_paced(p, now)) {
		uint64_t h = pr->idle_keepalive_ns;

		/* the end of the pace when the peer stays silent; the end of
		 * the idle spell comes with a frame, which brings the daemon's
		 * loop back here */
		d = min64(d, p->last_rx_ns + h + h / 4);
		if (kp->initiator)
			d = min64(d, p->last_tx_ns + h);
		return d;
	}
	if (ka && pr->idle_keepalive_ns) {
		uint64_t last = load_relaxed(&p->last_data_ns);

		/* the start of the idle spell */
		if (last)
			d = min64(d, last + IDLE_AFTER_NS);
	}
	if (p->last_rx_ns > p->last_tx_ns)
		d = min64(d, p->last_rx_ns + PASSIVE_KEEPALIVE_NS);
	if (ka) {
		d = min64(d, p->last_tx_ns + ka);
		d = min64(d, p->last_ka_tx_ns + 4 * ka);
		d = min64(d, (p->last_rx_ns > p->last_ka_tx_ns ? p->last_rx_ns : p->last_ka_tx_ns) + ka);
	}
	return d;
}

uint64_t tunnel_next_deadline_at(const struct tunnel *t, uint64_t now_ns)
{
	const struct tunnel_peer *p;
	uint64_t d = UINT64_MAX;

	for (p = t->peers; p; p = p->next_peer)
		d = min64(d, peer_deadline(p, now_ns));
	return d;
}

uint64_t tunnel_next_deadline(const struct tunnel *t)
{
	return tunnel_next_deadline_at(t, 0);
}
