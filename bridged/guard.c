/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loop guard and tunnel health in the daemon: wires the pure decisions of
 * loopguard.c and health.c to the TAPs, the bridge port states (netlink),
 * the carrier of the TAPs, the FDB notifications and the event stream.
 *
 * Per peer, health (connecting/up/degraded/down) drives the carrier of its
 * TAPs; per tunnel port, the guard (down/probing/forwarding/blocked) drives
 * its bridge port state. A port forwards only after a probe round showed no
 * loop; probes run periodically while it forwards; a loop blocks the
 * tunnel that loopguard_victim() names, and the block is retried later.
 */
#include <errno.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bridged/daemon.h"
#include "common/log.h"
#include "netcfg/netcfg.h"
#include "tunnel/tap.h"
#include "tunnel/tunnel.h"

#define MS 1000000ull
#define PROBING_PROBE_NS (50 * MS)      /* probes this often while probing */
#define PROBE_TIMEOUT_NS (250 * MS)
#define PROBE_FRESH_NS (2000 * MS)      /* a probe of ours older than this is stale */
#define PROBE_ROUND_MAX_NS (1500 * MS)  /* a round waits at most this long */
/* A blocked port whose probes have not shown, for this many probe
 * intervals, a loop that only its block breaks, probes again: the loop is
 * gone (a host or tunnel of it went away) or another block breaks it too. */
#define NEEDED_INTERVALS 4

/* ---- node ids -------------------------------------------------------------- */

static void node_id_of(const uint8_t pub[32], uint8_t ret[NODE_ID_LEN])
{
	crypto_generichash(ret, NODE_ID_LEN, pub, 32, NULL, 0);
}

/* ---- seen MACs (known unicast destinations behind a port) ----------------- */

static unsigned mac_set(const uint8_t *mac)
{
	return (mac[5] ^ mac[4] * 7u ^ mac[3] * 31u ^ mac[2] * 131u) & (SEEN_SETS - 1);
}

static void seen_learn(struct seen_macs *s, const uint8_t *mac)
{
	unsigned set = mac_set(mac);

	for (unsigned w = 0; w < SEEN_WAYS; w++)
		if (!memcmp(s->mac[set][w], mac, 6))
			return;
	memcpy(s->mac[set][s->next[set]], mac, 6);
	s->next[set] = (s->next[set] + 1) % SEEN_WAYS;
}

static bool seen_has(const struct seen_macs *s, const uint8_t *mac)
{
	unsigned set = mac_set(mac);

	for (unsigned w = 0; w < SEEN_WAYS; w++)
		if (!memcmp(s->mac[set][w], mac, 6))
			return true;
	return false;
}

/* ---- events ----------------------------------------------------------------- */

static void event_port(struct daemon *d, struct tap_port *t, enum guard_state from,
		       enum guard_state to, const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "peer", json_object_new_string(t->peer->cfg.name));
	json_object_object_add(o, "segment", json_object_new_string(t->peer->cfg.segments[t->seg]));
	json_object_object_add(o, "port", json_object_new_string(t->name));
	json_object_object_add(o, "from", json_object_new_string(guard_state_to_string(from)));
	json_object_object_add(o, "to", json_object_new_string(guard_state_to_string(to)));
	if (why)
		json_object_object_add(o, "reason", json_object_new_string(why));
	ctl_event(d, "port-state", o);
}

/* ---- port guard ---------------------------------------------------------- */

bool guard_port_blocked(const struct tap_port *t)
{
	return t->guard == GUARD_PROBING || t->guard == GUARD_BLOCKED;
}

static void port_kernel_state(struct daemon *d, struct tap_port *t, enum port_state s)
{
	struct netcfg_link l;
	int r = netcfg_get_link(d->nc, t->name, &l);

	if (r >= 0)
		r = netcfg_port_set_state(d->nc, l.ifindex, s);
	/* ENETDOWN: no carrier (the bridge keeps it disabled anyway) */
	if (r < 0 && r != -ENETDOWN)
		log_warnx("%s: cannot set bridge port state %s: %s, retrying at the next reconcile",
			  t->name, port_state_to_string(s), strerror(-r));
	if (r < 0 && r != -ENETDOWN)
		d->resync = true;
}

/* Arms the port's timer for its next deadline in its state: the next
 * probe, the end of the probe round, the retry of a block, the time a
 * block no loop needed is lifted. */
static void port_schedule(struct daemon *d, struct tap_port *t)
{
	uint64_t interval = (uint64_t)d->cfg->node.probe_interval_ms * MS, next;

	switch (t->guard) {
	case GUARD_PROBING:
		next = t->last_probe_ns + PROBING_PROBE_NS;
		if (t->probe_deadline_ns < next)
			next = t->probe_deadline_ns;
		break;
	case GUARD_FORWARDING:
		next = t->next_probe_ns;
		break;
	case GUARD_BLOCKED:
		next = t->next_probe_ns;
		if (t->retry_at_ns < next)
			next = t->retry_at_ns;
		if (t->needed_ns + NEEDED_INTERVALS * interval + 1 < next)
			next = t->needed_ns + NEEDED_INTERVALS * interval + 1;
		break;
	case GUARD_DOWN:
	default:
		loop_timer_disarm(d->loop, &t->timer);
		return;
	}
	loop_timer_arm(d->loop, &t->timer, next);
}

static void guard_set(struct daemon *d, struct tap_port *t, enum guard_event ev,
		      uint64_t now, const char *why)
{
	enum guard_state from = t->guard, to = guard_next(from, ev);

	if (to == from)
		return;
	t->guard = to;
	t->guard_since_ns = now;
	if (to != GUARD_BLOCKED)
		t->mirrored = false;
	/* a probe round that retries a block: the port never forwarded in
	 * between, and status says so (a retry that finds the loop again is
	 * not a change an operator or a convergence check should see) */
	t->retrying = from == GUARD_BLOCKED && to == GUARD_PROBING;
	switch (to) {
	case GUARD_FORWARDING:
		port_kernel_state(d, t, PORT_STATE_FORWARDING);
		t->next_probe_ns = now + (uint64_t)d->cfg->node.probe_interval_ms * MS;
		break;
	case GUARD_BLOCKED:
		/* probe at once: the other end learns from the hop flags that
		 * this end blocks, and the probe shows whether the loop is still
		 * there */
		t->next_probe_ns = now;
		t->needed_ns = now;
		/* fallthrough */
	case GUARD_PROBING:
		port_kernel_state(d, t, PORT_STATE_BLOCKING);
		break;
	case GUARD_DOWN:
		t->peer_known = false;
		t->peer_flags = 0;
		break;
	default:
		break;
	}
	if (to == GUARD_BLOCKED || from == GUARD_BLOCKED || to == GUARD_FORWARDING)
		log_info("%s (peer %s, segment %s): %s -> %s%s%s", t->name, t->peer->cfg.name,
			 t->peer->cfg.segments[t->seg], guard_state_to_string(from),
			 guard_state_to_string(to), why ? ": " : "", why ? why : "");
	else
		log_debug("%s: %s -> %s", t->name, guard_state_to_string(from), guard_state_to_string(to));
	event_port(d, t, from, to, why);
	port_schedule(d, t);
}

static void send_probe(struct daemon *d, struct tap_port *t, uint64_t now)
{
	uint8_t frame[PROBE_MAX_LEN];
	size_t len;
	int r;

	t->last_probe_ns = now;
	len = probe_build(frame, d->node_id, t->seg_id, ++d->probe_seq, d->probe_key);
	{
		struct sent_probe *sp = &d->sent[d->probe_seq % SENT_PROBES];

		sp->seq = d->probe_seq;
		sp->sent_ns = now;
		sp->seg_id = t->seg_id;
		memcpy(sp->peer, t->peer->node_id, NODE_ID_LEN);
		sp->used = false;
	}
	r = probe_append_hop(frame, len, sizeof(frame), d->node_id, t->peer->node_id,
			     guard_hop_flags(t->guard));
	if (r < 0)
		return;
	tunnel_queue_send_frame(daemon_queue(d), &t->tport, frame, (size_t)r, now);
}

static void start_probing(struct daemon *d, struct tap_port *t, enum guard_event ev, uint64_t now)
{
	uint64_t rtt = t->peer->rtt.count ? (uint64_t)t->peer->rtt.mean : 0;
	uint64_t round = PROBE_TIMEOUT_NS + 3 * rtt;

	/* at least twice as long as our probes lately took round a loop
	 * through this port: on a starved host a probe can come back after
	 * a fixed round passed, and the port would forward into the loop */
	if (round < 2 * t->probe_travel_ns)
		round = 2 * t->probe_travel_ns;
	if (round > PROBE_ROUND_MAX_NS)
		round = PROBE_ROUND_MAX_NS;
	guard_set(d, t, ev, now, NULL);
	t->probe_deadline_ns = now + round;
	send_probe(d, t, now);
	port_schedule(d, t);
}

/* Blocks t for `why`, retried after the back-off. */
static void block_port(struct daemon *d, struct tap_port *t, const char *why, uint64_t now)
{
	t->retry_at_ns = now + guard_backoff_ns(t->retries, (uint64_t)d->cfg->node.loop_retry_min_ms * MS,
						 (uint64_t)d->cfg->node.loop_retry_max_ms * MS);
	t->retries++;
	guard_set(d, t, GUARD_EV_LOOP, now, why);
}

/*
 * The far end of t showed its state (the flags of the hop it wrote on a
 * probe it sent us). Both ends of a tunnel agree on a block: when the far
 * end starts blocking, this end blocks too; when it stops (it probes again
 * after its back-off, or the loop is gone), this end probes again too.
 * Only the changes count, so the end that retries first is followed, never
 * pulled back.
 */
static void peer_end_seen(struct daemon *d, struct tap_port *t, uint32_t flags, uint64_t now)
{
	bool was = t->peer_known && (t->peer_flags & HOP_BLOCKED), is = flags & HOP_BLOCKED;
	char why[96];

	t->peer_flags = flags;
	t->peer_known = true;
	if (!was && is && (t->guard == GUARD_PROBING || t->guard == GUARD_FORWARDING)) {
		snprintf(why, sizeof(why), "the other end (peer %s) blocks this tunnel", t->peer->cfg.name);
		block_port(d, t, why, now);
		t->mirrored = true;
	} else if (was && !is && t->guard == GUARD_BLOCKED) {
		start_probing(d, t, GUARD_EV_RETRY, now);
	}
}

static struct tap_port *port_for(struct daemon *d, const uint8_t node[NODE_ID_LEN], uint32_t seg_id)
{
	for (struct dpeer *p = d->peers; p; p = p->next) {
		if (memcmp(p->node_id, node, NODE_ID_LEN))
			continue;
		for (size_t i = 0; i < p->n_taps; i++)
			if (p->taps[i].seg_id == seg_id)
				return &p->taps[i];
	}
	return NULL;
}

/* Whether `node` is the tunnel (a, b) seen from this node; the peer end. */
static const uint8_t *our_end_of(struct daemon *d, const uint8_t a[NODE_ID_LEN],
				 const uint8_t b[NODE_ID_LEN])
{
	if (!memcmp(a, d->node_id, NODE_ID_LEN))
		return b;
	if (!memcmp(b, d->node_id, NODE_ID_LEN))
		return a;
	return NULL;
}

/* The hops of a probe as text, for logs. */
static void hops_text(struct daemon *d, const struct probe *pr, unsigned first, char *path, size_t size)
{
	char n1[40], n2[40];
	size_t off = 0;

	path[0] = '\0';
	for (unsigned i = first; i < pr->n_hops && off < size - 1; i++) {
		int w = snprintf(path + off, size - off, "%s%s->%s%s", i > first ? ", " : "",
				 names_node(d, pr->hops[i].from, n1, sizeof(n1)),
				 names_node(d, pr->hops[i].to, n2, sizeof(n2)),
				 pr->hops[i].flags & HOP_BLOCKED ? " (blocked)" :
				 pr->hops[i].flags & HOP_PROBING ? " (probing)" : "");

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/*
 * A probe of ours came back: it went round a loop through hops[0..]. The
 * hops after the first are written by others and unauthenticated, so this
 * node acts only on a port the probe really crossed here: the one it left
 * through (`sent_to`) or the tunnel it came back on (`from`, NULL when it
 * came back through the bridge); a forged hop list cannot point us at any
 * other tunnel.
 *
 * - The loop crosses a blocked tunnel: it is already broken, nothing new
 *   to block. If that blocked tunnel is ours and the only one of the loop
 *   that does not forward, its block is still needed (noted, so that it is
 *   not lifted early).
 * - Otherwise the victim (loopguard_victim) is blocked if this node is one
 *   of its ends, and the probe is used up (one block per probe at most).
 */
static void loop_found(struct daemon *d, const struct probe *pr, struct sent_probe *sp,
		       const uint8_t *from, const char *where, uint64_t now)
{
	uint8_t a[NODE_ID_LEN], b[NODE_ID_LEN];
	const uint8_t *other;
	struct tap_port *t;
	char path[640], n1[40], n2[40], why[768];
	json_object *o, *hops;

	if (!loopguard_victim(pr->hops, pr->n_hops, 0, a, b)) {
		if (loopguard_block_needed(pr->hops, pr->n_hops, 0, a, b) &&
		    (other = our_end_of(d, a, b)) &&
		    (!memcmp(other, sp->peer, NODE_ID_LEN) || (from && !memcmp(other, from, NODE_ID_LEN))) &&
		    (t = port_for(d, other, pr->segment)) && t->guard == GUARD_BLOCKED)
			t->needed_ns = now;
		/* the steady state of every block: not logged */
		return;
	}
	hops_text(d, pr, 0, path, sizeof(path));
	other = our_end_of(d, a, b);
	if (!other) {
		log_debug("loop through tunnels %s (probe %s): its ends block it", path, where);
		return;
	}
	if (memcmp(other, sp->peer, NODE_ID_LEN) && (!from || memcmp(other, from, NODE_ID_LEN))) {
		log_debug("loop through tunnels %s (probe %s): the victim is not a port it crossed here",
			  path, where);
		return;
	}
	t = port_for(d, other, pr->segment);
	if (!t || t->guard == GUARD_BLOCKED || t->guard == GUARD_DOWN)
		return;
	/* The port passed its probe round while this probe of the round was
	 * still out: the round was too short (a starved host), and the port
	 * may now forward into the loop the probe went round. It stops
	 * forwarding and probes again, with a round long enough for what
	 * the probes take now (start_probing); the fresh probes' flags decide
	 * the victim (another node may have broken the loop meanwhile). */
	if (t->guard == GUARD_FORWARDING && t->guard_since_ns > sp->sent_ns &&
	    (pr->hops[0].flags & HOP_PROBING)) {
		sp->used = true;
		log_info("%s (peer %s, segment %s): a probe of its round came back through a loop %.0f ms "
			 "after it left, after the round had passed: probing again", t->name,
			 t->peer->cfg.name, t->peer->cfg.segments[t->seg], (double)(now - sp->sent_ns) / 1e6);
		start_probing(d, t, GUARD_EV_RETRY, now);
		return;
	}
	/* The port changed state while the probe was out otherwise: the hop
	 * flags show the past, and another node may already have acted on the
	 * present. The next probe shows it. */
	if (t->guard_since_ns > sp->sent_ns) {
		log_debug("loop through tunnels %s (probe %s): %s changed state since the probe left, "
			  "waiting for a fresh one", path, where, t->name);
		return;
	}
	sp->used = true;
	d->counters[CNT_LOOPS]++;
	t->loops++;
	snprintf(why, sizeof(why), "loop through tunnels %s (probe %s); retry in %.1f s", path, where,
		 (double)guard_backoff_ns(t->retries, (uint64_t)d->cfg->node.loop_retry_min_ms * MS,
					  (uint64_t)d->cfg->node.loop_retry_max_ms * MS) / 1e9);
	log_warnx("LOOP on segment %s: blocking %s (tunnel to %s): %s", t->peer->cfg.segments[t->seg],
		  t->name, t->peer->cfg.name, why);
	block_port(d, t, why, now);
	o = json_object_new_object();
	hops = json_object_new_array();
	for (unsigned i = 0; i < pr->n_hops; i++) {
		json_object *h = json_object_new_object();

		json_object_object_add(h, "from", json_object_new_string(names_node(d, pr->hops[i].from, n1, sizeof(n1))));
		json_object_object_add(h, "to", json_object_new_string(names_node(d, pr->hops[i].to, n2, sizeof(n2))));
		if (pr->hops[i].flags)
			json_object_object_add(h, "state", json_object_new_string(
				pr->hops[i].flags & HOP_BLOCKED ? "blocked" : "probing"));
		json_object_array_add(hops, h);
	}
	json_object_object_add(o, "segment", json_object_new_string(t->peer->cfg.segments[t->seg]));
	json_object_object_add(o, "blocked_port", json_object_new_string(t->name));
	json_object_object_add(o, "peer", json_object_new_string(t->peer->cfg.name));
	json_object_object_add(o, "path", hops);
	json_object_object_add(o, "detected", json_object_new_string(where));
	json_object_object_add(o, "retry_in_s", json_object_new_double((double)(t->retry_at_ns - now) / 1e9));
	ctl_event(d, "loop", o);
}

/* Whether a probe of ours is genuine, fresh and not used up: we sent this
 * seq within PROBE_FRESH_NS, no earlier copy of it blocked a port, and its
 * first hop is the port we sent it through. Every copy that comes back is
 * looked at (each went round another loop), but only one may block. */
static struct sent_probe *own_probe_ok(struct daemon *d, const struct probe *pr, uint64_t now)
{
	struct sent_probe *sp = &d->sent[pr->seq % SENT_PROBES];

	if (sp->seq != pr->seq || sp->used || now - sp->sent_ns > PROBE_FRESH_NS ||
	    sp->seg_id != pr->segment || !pr->n_hops ||
	    memcmp(pr->hops[0].from, d->node_id, NODE_ID_LEN) ||
	    memcmp(pr->hops[0].to, sp->peer, NODE_ID_LEN) || !probe_verify(pr, d->probe_key))
		return NULL;
	return sp;
}

/* One of our probes came back round a loop through t after `travel`: the
 * port's probe rounds wait at least twice the recent longest (start_probing). */
static void note_travel(struct tap_port *t, uint64_t travel)
{
	if (!t)
		return;
	t->probe_travel_ns -= t->probe_travel_ns / 4;
	if (travel > t->probe_travel_ns)
		t->probe_travel_ns = travel;
}

/* A probe that came back, from the tunnel of peer `from` (NULL: out of our
 * bridge). Our own: a loop. A probe we carried before: a hint only (it is
 * not authenticated), so our ports on that segment probe at once. Returns
 * true when the frame must go no further. */
bool guard_probe_returned(struct daemon *d, const struct probe *pr, const uint8_t *from,
			  const char *where, uint64_t now)
{
	struct sent_probe *sp;

	if (!memcmp(pr->origin, d->node_id, NODE_ID_LEN)) {
		static uint64_t last_log_ns, unlogged;

		sp = own_probe_ok(d, pr, now);
		if (!sp) {
			/* a loop that stands carries each copy round and round
			 * (up to StormLimit a second): say it once a second */
			if (now - last_log_ns >= 1000 * MS) {
				log_debug("probe claiming to be ours (seq %llu) is stale, used up or forged, dropped"
					  " (and %llu more since the last such line)",
					  (unsigned long long)pr->seq, (unsigned long long)unlogged);
				last_log_ns = now;
				unlogged = 0;
			} else {
				unlogged++;
			}
			return true;
		}
		note_travel(port_for(d, sp->peer, pr->segment), now - sp->sent_ns);
		if (from)
			note_travel(port_for(d, from, pr->segment), now - sp->sent_ns);
		loop_found(d, pr, sp, from, where, now);
		return true;
	}
	if (probe_find_from(pr, d->node_id) >= 0) {
		for (struct dpeer *p = d->peers; p; p = p->next)
			for (size_t i = 0; i < p->n_taps; i++)
				if (p->taps[i].seg_id == pr->segment)
					guard_port_probe_now(d, &p->taps[i], now);
		return true;
	}
	return false;
}

bool guard_tap_frame(struct tap_port *t, uint8_t *frame, size_t *len, size_t cap, uint64_t now)
{
	struct daemon *d = t->peer->d;

	if (probe_is(frame, *len)) {
		struct probe pr;
		char where[64];
		int r;

		t->drops[TAP_DROP_PROBE]++;
		/* The bridge sends nothing out of a port it holds blocked, so a
		 * probe read here while we hold the port blocked left through
		 * the kernel's re-enable of the port on a carrier change,
		 * before the reconcile blocked it again: the probe may be one
		 * the peer just sent in through this very tunnel (flooded back
		 * through the probe port), and carrying it would report a
		 * loop a->b->a that is not there. The probe port sees every
		 * probe the bridge floods, so no loop goes unseen. */
		if (!guard_forwards(t->guard))
			return false;
		if (probe_parse(frame, *len, &pr) < 0)
			return false;
		snprintf(where, sizeof(where), "came back through the bridge into %s", t->name);
		if (guard_probe_returned(d, &pr, NULL, where, now))
			return false;
		/* others' probes are not ours to trust: they pay the storm limit */
		if (!storm_allow(&t->storm, now)) {
			t->drops[TAP_DROP_STORM]++;
			t->drops[TAP_DROP_PROBE]--;
			return false;
		}
		r = probe_append_hop(frame, *len, cap, d->node_id, t->peer->node_id,
				     guard_hop_flags(t->guard));
		if (r < 0)
			return false;
		t->drops[TAP_DROP_PROBE]--;   /* carried on, not dropped */
		*len = (size_t)r;
		return true;
	}
	if (!guard_forwards(t->guard)) {
		t->drops[TAP_DROP_GUARD]++;
		return false;
	}
	if (((frame[0] & 1) || !seen_has(&t->seen, frame)) && !storm_allow(&t->storm, now)) {
		t->drops[TAP_DROP_STORM]++;
		return false;
	}
	return true;
}

bool guard_tunnel_frame(struct tap_port *t, const uint8_t *frame, size_t len, uint64_t now)
{
	struct daemon *d = t->peer->d;

	if (probe_is(frame, len)) {
		struct probe pr;
		struct probe_port *pp;
		char where[64];
		uint32_t flags;

		if (probe_parse(frame, len, &pr) < 0) {
			t->drops[TAP_DROP_PROBE]++;
			return false;
		}
		/* The last hop is this tunnel, written by the peer (the session
		 * authenticates it): its flags are the state of the far end. Our
		 * end's state is added to it, as the probe crossed it here. */
		flags = guard_hop_flags(t->guard);
		if (pr.n_hops && !memcmp(pr.hops[pr.n_hops - 1].from, t->peer->node_id, NODE_ID_LEN) &&
		    !memcmp(pr.hops[pr.n_hops - 1].to, d->node_id, NODE_ID_LEN)) {
			peer_end_seen(d, t, pr.hops[pr.n_hops - 1].flags, now);
			pr.hops[pr.n_hops - 1].flags |= flags;
		}
		snprintf(where, sizeof(where), "came back from peer %s", t->peer->cfg.name);
		if (guard_probe_returned(d, &pr, t->peer->node_id, where, now))
			return false;
		if (guard_forwards(t->guard))
			return true;
		/* The port does not forward: flood the probe into the bridge
		 * through the probe port, so a loop that this port would close
		 * still shows, with its last hop marked with this end's state
		 * (a loop through a blocked port is already broken; one through
		 * a probing port is broken there first). */
		pp = probeport_for_bridge(d, t->bridge);
		if (pp && pp->src.fd >= 0 && len <= PROBE_MAX_LEN) {
			uint8_t copy[PROBE_MAX_LEN];

			memcpy(copy, frame, len);
			if (pr.n_hops)
				probe_mark_last_hop(copy, len, flags);
			if (write(pp->src.fd, copy, len) < 0)
				log_debug("%s: probe write: %s", pp->name, strerror(errno));
		}
		return false;
	}
	if (!guard_forwards(t->guard)) {
		t->drops[TAP_DROP_GUARD]++;
		return false;
	}
	if (len >= 12 && !(frame[6] & 1))
		seen_learn(&t->seen, frame + 6);
	return true;
}

static void guard_port_step(struct daemon *d, struct tap_port *t, uint64_t now)
{
	uint64_t interval = (uint64_t)d->cfg->node.probe_interval_ms * MS;

	switch (t->guard) {
	case GUARD_PROBING:
		if (now >= t->probe_deadline_ns)
			guard_set(d, t, GUARD_EV_PROBE_PASSED, now, "probe round showed no loop");
		else	/* several probes per round: one lost datagram must not pass a loop */
			send_probe(d, t, now);
		break;
	case GUARD_FORWARDING:
		/* An idle tunnel (no frames for 2 s, docs/PROTOCOL.md "Idle
		 * tunnels") is not probed periodically: a loop forms when a
		 * link comes or goes (netlink: every forwarding port probes at
		 * once, guard_links_changed) or when a loop already there gets
		 * its first frame, which ends the idle spell, so the next probe
		 * goes within one interval of it. */
		if (now >= t->next_probe_ns) {
			if (t->probe_forced || !tunnel_peer_idle(t->peer->tp, now))
				send_probe(d, t, now);
			t->probe_forced = false;
			t->next_probe_ns = now + interval;
		}
		/* a long quiet spell forgives earlier loops */
		if (t->retries && now - t->guard_since_ns > 2 * (uint64_t)d->cfg->node.loop_retry_max_ms * MS)
			t->retries = 0;
		break;
	case GUARD_BLOCKED:
		/* blocked ports probe too: the far end learns the block from
		 * the hop flags, and the probes show whether the loop is still
		 * there (loop_found() notes it in needed_ns) */
		if (now >= t->next_probe_ns) {
			send_probe(d, t, now);
			t->next_probe_ns = now + interval;
		}
		if (now >= t->retry_at_ns)
			start_probing(d, t, GUARD_EV_RETRY, now);
		else if (now - t->needed_ns > NEEDED_INTERVALS * interval) {
			log_info("%s (peer %s, segment %s): no loop needs this block any more, probing again",
				 t->name, t->peer->cfg.name, t->peer->cfg.segments[t->seg]);
			start_probing(d, t, GUARD_EV_RETRY, now);
		}
		break;
	case GUARD_DOWN:
	default:
		break;
	}
}

static void port_timer_cb(struct loop_timer *tm, uint64_t now)
{
	struct tap_port *t = container_of(tm, struct tap_port, timer);
	struct daemon *d = t->peer->d;

	guard_port_step(d, t, now);
	port_schedule(d, t);
	daemon_flush(d);
}

/* A link appeared, vanished or changed (a stray cable plugged into a
 * bridge closes a loop before any frame crosses it): every forwarding port
 * probes at once, idle or not. */
void guard_links_changed(struct daemon *d, uint64_t now)
{
	for (struct dpeer *p = d->peers; p; p = p->next)
		for (size_t i = 0; i < p->n_taps; i++)
			guard_port_probe_now(d, &p->taps[i], now);
}

void guard_port_probe_now(struct daemon *d, struct tap_port *t, uint64_t now)
{
	if (t->guard != GUARD_FORWARDING)
		return;
	t->probe_forced = true;
	t->next_probe_ns = now;
	port_schedule(d, t);
}

void guard_port_carrier(struct daemon *d, struct tap_port *t, bool on, uint64_t now)
{
	if (on && t->guard == GUARD_DOWN)
		start_probing(d, t, GUARD_EV_TUNNEL_UP, now);
	else if (!on && t->guard != GUARD_DOWN)
		guard_set(d, t, GUARD_EV_TUNNEL_DOWN, now, "tunnel down");
}

/* A port moved into another bridge (reload): it probes again there. */
void guard_port_rebridged(struct daemon *d, struct tap_port *t, uint64_t now)
{
	if (t->guard == GUARD_FORWARDING) {
		guard_set(d, t, GUARD_EV_LOOP, now, "moved to another bridge: probing again");
		t->retry_at_ns = now;
		port_schedule(d, t);
	}
}

void guard_peer_init(struct daemon *d, struct dpeer *p)
{
	node_id_of(p->cfg.public_key, p->node_id);
}

void guard_port_init(struct daemon *d, struct tap_port *t)
{
	unsigned rate = d->cfg->node.storm_limit;

	t->guard = GUARD_DOWN;
	loop_timer_init(&t->timer, port_timer_cb);
	t->seg_id = tunnel_segment_id(t->peer->cfg.segments[t->seg]);
	t->storm.rate = rate;
	t->storm.burst = rate / 10 > 64 ? rate / 10 : 64;
	/* no session yet: no carrier, the bridge does not flood into it */
	if (t->src.fd >= 0)
		tap_set_carrier(t->src.fd, false);
}

void guard_port_stop(struct daemon *d, struct tap_port *t)
{
	loop_timer_disarm(d->loop, &t->timer);
}

/* Loop guard, last layer: a tunnel must not route through itself. */
void guard_peer_refuse_check(struct daemon *d, struct dpeer *p)
{
	int *idx = calloc(d->cfg->n_bridges ? d->cfg->n_bridges : 1, sizeof(int));
	size_t n = 0;
	int via = 0, r;
	char a[80], b[IFNAMSIZ + 16];

	p->refused[0] = '\0';
	if (!idx || !p->cfg.has_endpoint)
		goto out;
	for (size_t i = 0; i < d->cfg->n_bridges; i++) {
		struct netcfg_link l;

		if (netcfg_get_link(d->nc, d->cfg->bridges[i].name, &l) >= 0)
			idx[n++] = l.ifindex;
	}
	r = netcfg_route_via_bridge(d->nc, &p->cfg.endpoint, idx, n, &via);
	if (r == 1)
		snprintf(p->refused, sizeof(p->refused),
			 "endpoint %s is routed through bridge %s: the tunnel would carry itself",
			 sockaddr_to_string(&p->cfg.endpoint, a, sizeof(a)), names_link(d, via, b));
out:
	free(idx);
}

int guard_init(struct daemon *d)
{
	uint8_t seed[] = "bridged probe key v1";

	node_id_of(d->public_key, d->node_id);
	d->probe_key = sodium_malloc(32);
	if (!d->probe_key)
		return -ENOMEM;
	crypto_generichash(d->probe_key, 32, seed, sizeof(seed) - 1, d->private_key, 32);
	macwatch_init(d);
	return probeports_sync(d);
}

void guard_free(struct daemon *d)
{
	probeports_free(d);
	macwatch_free(d);
	free(d->names);
	d->names = NULL;
	free(d->bridge_ifindex);
	d->bridge_ifindex = NULL;
	sodium_free(d->probe_key);
	d->probe_key = NULL;
}
