/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tunnel health in the daemon: per peer, the state machine of health.c
 * (connecting/up/degraded/down) fed from the tunnel's counters on a timer,
 * driving the carrier of the peer's TAPs (a dead tunnel loses carrier, so
 * the bridge stops flooding into it) and the loop guard of its ports.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "bridged/daemon.h"
#include "common/log.h"
#include "tunnel/tap.h"
#include "tunnel/tunnel.h"
#include "tunnel/udp.h"

#define MS 1000000ull
#define LOSS_SAMPLE_MIN_NS (250 * MS)
#define LOSS_SAMPLE_NS (1000 * MS)
/* down: how soon a tunnel that answers again gets its carrier back */
#define DOWN_POLL_NS (50 * MS)
/* A path MTU the kernel taught us (EMSGSIZE) is read again this often, so
 * fragments grow back when the path does (the kernel forgets a learnt path
 * MTU after 10 min; a local link's MTU change is seen at once: netlink). */
#define PMTU_RECHECK_NS (10000 * MS)

static void set_carrier(struct daemon *d, struct dpeer *p, bool on)
{
	if (p->carrier == on)
		return;
	p->carrier = on;
	for (size_t i = 0; i < p->n_taps; i++)
		if (p->taps[i].src.fd >= 0)
			tap_set_carrier(p->taps[i].src.fd, on);
	log_info("peer %s: carrier %s on %zu tunnel port(s)", p->cfg.name, on ? "on" : "off", p->n_taps);
}

/* The health of p now: loss sample, RTT, state changes with their events,
 * carrier, and the guard of its ports. Returns the time it must be looked
 * at again. */
static uint64_t health_step(struct daemon *d, struct dpeer *p, uint64_t now)
{
	const struct health_params hp = {
		.dead_after_ns = (uint64_t)d->cfg->node.dead_after_ms * MS,
		.degraded_loss_pct = 2,
		.loss_window_ns = 10000 * MS,
	};
	struct tunnel_peer_stats st;
	struct health_input in;

	tunnel_peer_get_stats_at(p->tp, now, &st);
	if (st.path_mtu_learned && now >= p->pmtu_check_ns) {
		peer_path_mtu_check(d, p, &st);
		p->pmtu_check_ns = now + PMTU_RECHECK_NS;
	}
	/* at least 250 ms apart (the ring then spans 16 s or more, more than
	 * the 10 s window the loss is reported over) */
	if (now - p->last_loss_sample_ns >= LOSS_SAMPLE_MIN_NS) {
		p->last_loss_sample_ns = now;
		health_loss_sample(&p->loss, now, st.rx_packets + st.rx_lost, st.rx_packets);
	}
	if (st.keepalives_rx != p->keepalives_rx_seen) {
		p->keepalives_rx_seen = st.keepalives_rx;
		if (st.rtt_last_ns)
			health_rtt_add(&p->rtt, st.rtt_last_ns);
	}
	in.now_ns = now;
	in.session_up = st.state == TUNNEL_SESSION_UP;
	/* silence counted as the engine counts it: an idle tunnel is heard
	 * from once per IdleKeepalive (docs/PROTOCOL.md, "Idle tunnels") */
	in.last_rx_ns = st.last_rx_ns ? st.silence_ref_ns : 0;
	/* down, only a packet received since brings it back (never a move of
	 * the reference alone, such as an idle spell starting) */
	if (p->health == HEALTH_DOWN && st.last_rx_ns <= p->down_rx_ns)
		in.last_rx_ns = st.last_rx_ns;
	in.loss_pct = health_loss_pct(&p->loss, now, hp.loss_window_ns);

	for (int guard = 0; guard < 4; guard++) {
		enum health_event ev = health_evaluate(p->health, &in, &hp);
		enum health_state from = p->health, to;
		json_object *o;

		if (ev == _HEALTH_EVENT_MAX)
			break;
		to = health_next(from, ev);
		if (to == from)
			break;
		p->health = to;
		p->health_since_ns = now;
		if (to == HEALTH_DOWN)
			p->down_rx_ns = st.last_rx_ns;
		if (to == HEALTH_DOWN)
			log_warnx("peer %s: tunnel %s -> %s (%s; last received %.0f ms ago)", p->cfg.name,
				  health_state_to_string(from), health_state_to_string(to),
				  health_event_to_string(ev),
				  st.last_rx_ns ? (double)(now - st.last_rx_ns) / 1e6 : -1.0);
		else
			log_info("peer %s: tunnel %s -> %s (%s)", p->cfg.name, health_state_to_string(from),
				 health_state_to_string(to), health_event_to_string(ev));
		o = json_object_new_object();
		json_object_object_add(o, "peer", json_object_new_string(p->cfg.name));
		json_object_object_add(o, "from", json_object_new_string(health_state_to_string(from)));
		json_object_object_add(o, "to", json_object_new_string(health_state_to_string(to)));
		json_object_object_add(o, "reason", json_object_new_string(health_event_to_string(ev)));
		if (in.loss_pct >= 0)
			json_object_object_add(o, "loss_pct", json_object_new_double(in.loss_pct));
		ctl_event(d, "tunnel-state", o);
	}
	set_carrier(d, p, health_carrier(p->health));
	for (size_t i = 0; i < p->n_taps; i++)
		guard_port_carrier(d, &p->taps[i], p->carrier, now);

	/* The next look: when silence would make it down (DeadAfter after the
	 * last packet), and a loss sample a second later at the latest. Down,
	 * it watches for the tunnel coming back; connecting, the session-up
	 * event calls peerhealth_kick(). */
	switch (p->health) {
	case HEALTH_UP:
	case HEALTH_DEGRADED: {
		uint64_t next = now + LOSS_SAMPLE_NS, dead = in.last_rx_ns + hp.dead_after_ns + MS;

		return dead < next && dead > now ? dead : next;
	}
	case HEALTH_DOWN:
		return now + DOWN_POLL_NS;
	case HEALTH_CONNECTING:
	default:
		return now + LOSS_SAMPLE_NS;
	}
}

static void health_timer_cb(struct loop_timer *tm, uint64_t now)
{
	struct dpeer *p = container_of(tm, struct dpeer, health_timer);

	loop_timer_arm(p->d->loop, tm, health_step(p->d, p, now));
	daemon_flush(p->d);
}

void peer_path_mtu_check(struct daemon *d, struct dpeer *p, const struct tunnel_peer_stats *st)
{
	int mtu;

	if (!st->endpoint_len)
		return;
	mtu = udp_path_mtu((const struct sockaddr *)&st->endpoint, st->endpoint_len);
	if (mtu > 0)
		tunnel_path_mtu(d->tunnel, (const struct sockaddr *)&st->endpoint, st->endpoint_len,
				(unsigned)mtu);
}

/* A link changed (its MTU maybe): every peer whose fragments a learnt path
 * MTU limits reads it again now. */
void peers_path_mtu_changed(struct daemon *d)
{
	for (struct dpeer *p = d->peers; p; p = p->next) {
		struct tunnel_peer_stats st;

		tunnel_peer_get_stats(p->tp, &st);
		if (st.path_mtu_learned)
			peer_path_mtu_check(d, p, &st);
	}
}

void peerhealth_kick(struct dpeer *p)
{
	if (!p->refused[0])
		loop_timer_arm(p->d->loop, &p->health_timer, now_ns());
}

void peerhealth_init(struct daemon *d, struct dpeer *p)
{
	p->health = HEALTH_CONNECTING;
	p->health_since_ns = now_ns();
	p->carrier = false;
	loop_timer_init(&p->health_timer, health_timer_cb);
}

void peerhealth_stop(struct dpeer *p)
{
	loop_timer_disarm(p->d->loop, &p->health_timer);
}

