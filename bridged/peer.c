/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Peers and their TAP ports: building, naming, enslaving, removing; the
 * daemon's side of the data path (tunnel/datapath.c), which calls the loop
 * guard through daemon_port_ops.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridged/daemon.h"
#include "bridged/priv.h"
#include "common/log.h"
#include "netcfg/netcfg.h"
#include "tunnel/tap.h"
#include "tunnel/udp.h"

#define STATE_SAVE_MIN_NS 1000000000ull   /* at most one state file write a second */

void daemon_flush(struct daemon *d)
{
	tunnel_queue_flush(daemon_queue(d));
}

void tap_port_drops(const struct tap_port *t, uint64_t ret[_TAP_DROP_MAX])
{
	memcpy(ret, t->drops, sizeof(t->drops));
	ret[TAP_DROP_WRITE] += t->tport.write_drops;
	ret[TAP_DROP_READ] += t->tport.read_drops;
}

/* The loop guard and the storm limit, as the data path's filters. */
static bool port_from_tap(struct tunnel_port *tp, uint8_t *frame, size_t *len, size_t cap,
			  uint64_t now)
{
	return guard_tap_frame(container_of(tp, struct tap_port, tport), frame, len, cap, now);
}

static bool port_to_tap(struct tunnel_port *tp, const uint8_t *frame, size_t len, uint64_t now)
{
	return guard_tunnel_frame(container_of(tp, struct tap_port, tport), frame, len, now);
}

const struct tunnel_port_ops daemon_port_ops = {
	.from_tap = port_from_tap,
	.to_tap = port_to_tap,
};

/* Whether name is taken by a TAP of ours (other peers, or the earlier
 * segments of the peer being built) or by any link in the kernel. */
static bool tap_name_taken(struct daemon *d, const struct dpeer *building, size_t n_built,
			   const char *name)
{
	struct netcfg_link l;

	for (struct dpeer *p = d->peers; p; p = p->next)
		for (size_t i = 0; i < p->n_taps; i++)
			if (!strcmp(p->taps[i].name, name))
				return true;
	for (size_t i = 0; i < n_built; i++)
		if (!strcmp(building->taps[i].name, name))
			return true;
	return netcfg_get_link(d->nc, name, &l) >= 0;
}

/* TAP names: "<peer>.<segment>" cut to fit IFNAMSIZ, readable in `bridge
 * link`; when that is taken (two long segment names with one prefix, a
 * foreign link), "bd" and a hash of both names, with a counter if needed. */
static void tap_name(struct daemon *d, const struct dpeer *building, size_t n_built,
		     const char *peer, const char *seg, char out[IFNAMSIZ])
{
	char both[2 * CONFIG_NAME_MAX + 2];

	snprintf(out, IFNAMSIZ, "%.6s.%.8s", peer, seg);
	if (!tap_name_taken(d, building, n_built, out))
		return;
	snprintf(both, sizeof(both), "%s/%s", peer, seg);
	for (unsigned k = 0; k < 100; k++) {
		snprintf(out, IFNAMSIZ, "bd%08x.%u", tunnel_segment_id(both) + k, k);
		if (!tap_name_taken(d, building, n_built, out))
			return;
	}
}

static void tap_cb(struct loop_source *s, uint32_t events)
{
	struct tap_port *t = container_of(s, struct tap_port, src);

	tunnel_queue_tap_ready(&t->peer->d->q, &t->tport);
}

/* The offloads the TAP asks of the kernel follow what the peer takes:
 * super-frames and partial checksums only when both sides announced GSO
 * (and UDP GSO when both announced USO); else none, and every frame leaves
 * whole and checksummed. */
void tap_port_sync_offload(struct tap_port *t)
{
	struct dpeer *p = t->peer;
	unsigned want = 0;
	int r;

	if (t->src.fd < 0 || !t->tport.vnet)
		return;
	if (p->tp && tunnel_peer_gso(p->tp))
		want = TAP_OFFLOAD_TSO | (tunnel_peer_uso(p->tp) ? TAP_OFFLOAD_USO : 0);
	if (want == t->tport.offload && t->offload_set)
		return;
	r = tap_set_offload(t->src.fd, want);
	if (r < 0) {
		log_warnx("%s: offloads: %s", t->name, strerror(-r));
		return;
	}
	t->offload_set = true;
	if ((unsigned)r != t->tport.offload) {
		char a[64];

		log_info("%s: offloads %s", t->name, tap_offload_string((unsigned)r, a, sizeof(a)));
	}
	t->tport.offload = (unsigned)r;
}

/* Once per daemon, on its first TAP: whether the kernel takes USO on a
 * TAP (Linux 6.2), so that the handshake can offer it. */
static void uso_probe(struct daemon *d, int fd)
{
	struct tunnel_params pr;
	int r;

	if (d->uso_probe >= 0 || d->cfg->node.offload_off)
		return;
	r = tap_set_offload(fd, TAP_OFFLOAD_TSO | TAP_OFFLOAD_USO);
	d->uso_probe = r > 0 && ((unsigned)r & TAP_OFFLOAD_USO) == TAP_OFFLOAD_USO;
	tap_set_offload(fd, 0);
	tunnel_get_params(d->tunnel, &pr);
	pr.offer_uso = d->uso_probe == 1;
	tunnel_set_params(d->tunnel, &pr);
}

static void tap_port_close(struct tap_port *t);

/* With several workers a multi-queue TAP, one queue per worker. */
static int tap_port_open(struct tap_port *t)
{
	struct daemon *d = t->peer->d;
	bool mq = d->n_workers > 1;
	int fd, r;

	fd = tap_open_vnet_mq(t->name, t->name, mq);
	if (fd < 0) {
		log_warnx("%s: cannot create TAP: %s", t->name, strerror(-fd));
		return fd;
	}
	t->tport.vnet = true;
	t->tport.offload = 0;
	t->offload_set = false;
	uso_probe(d, fd);
	t->src.fd = t->tport.fd = t->tport.qfd[0] = fd;
	t->tport.n_qfd = 1;
	for (unsigned i = 1; mq && i < d->n_workers; i++) {
		fd = tap_open_vnet_mq(t->name, NULL, true);
		if (fd < 0) {
			log_warnx("%s: cannot open queue %u: %s", t->name, i, strerror(-fd));
			tap_port_close(t);
			return fd;
		}
		t->tport.qfd[t->tport.n_qfd++] = fd;
	}
	tap_port_sync_offload(t);
	if (mq) {
		workers_port_add(d, t);
		return 0;
	}
	t->src.cb = tap_cb;
	r = loop_add(d->loop, &t->src, EPOLLIN);
	if (r < 0) {
		close(fd);
		t->src.fd = t->tport.fd = -1;
		t->tport.n_qfd = 0;
		return r;
	}
	return 0;
}

static void tap_port_close(struct tap_port *t)
{
	struct daemon *d = t->peer->d;

	if (t->src.fd < 0)
		return;
	if (d->n_workers > 1)
		workers_port_del(d, t);
	else
		loop_del(d->loop, &t->src);
	for (unsigned i = 1; i < t->tport.n_qfd; i++)
		close(t->tport.qfd[i]);
	close(t->src.fd);
	t->src.fd = t->tport.fd = -1;
	t->tport.n_qfd = 0;
}

int tap_port_reopen(struct tap_port *t)
{
	int r;

	tap_port_close(t);
	r = tap_port_open(t);
	if (r >= 0)
		tap_set_carrier(t->src.fd, t->peer->carrier);
	return r;
}

/* Enslaves t to its bridge and brings it up (idempotent). */
static int tap_port_enroll(struct tap_port *t)
{
	struct daemon *d = t->peer->d;
	struct netcfg_link port, br;
	int r;

	r = netcfg_get_link(d->nc, t->name, &port);
	if (r < 0)
		return r;
	r = netcfg_get_link(d->nc, t->bridge, &br);
	if (r < 0)
		return r;
	r = netcfg_enslave(d->nc, port.ifindex, br.ifindex);
	if (r < 0)
		return r;
	return netcfg_set_up(d->nc, port.ifindex, true);
}

/* ---- the state file: remembered endpoints ---- */

static bool same_endpoint(const struct sockaddr_storage *a, socklen_t alen,
			  const struct sockaddr_storage *b, socklen_t blen)
{
	return alen == blen && !memcmp(a, b, alen);
}

/* A peer without a configured endpoint starts from the one it was last
 * confirmed at (the tunnel initiates to it at its first tick); a configured
 * endpoint comes first. Either way, only an authenticated handshake moves
 * the endpoint after that. */
static void peer_apply_hint(struct daemon *d, struct dpeer *p)
{
	const struct epstate_entry *e = epstate_find(&d->epstate, p->cfg.public_key);
	char a[80], b[80];

	if (!e)
		return;
	sockaddr_to_string(&e->endpoint, a, sizeof(a));
	if (p->cfg.has_endpoint) {
		if (!same_endpoint(&e->endpoint, e->endpoint_len, &p->cfg.endpoint,
				   p->cfg.endpoint_len))
			log_info("peer %s: the state file remembers %s; the configured endpoint %s comes first",
				 p->cfg.name, a, sockaddr_to_string(&p->cfg.endpoint, b, sizeof(b)));
		return;
	}
	if (tunnel_peer_set_endpoint(p->tp, (const struct sockaddr *)&e->endpoint,
				     e->endpoint_len) < 0)
		return;
	p->hinted = true;
	log_info("peer %s: no endpoint configured; initiating to %s, where it was last confirmed (state file)",
		 p->cfg.name, a);
}

void daemon_state_save(struct daemon *d, uint64_t now, bool force);

static void state_timer_cb(struct loop_timer *t, uint64_t now)
{
	struct daemon *d = container_of(t, struct daemon, state_timer);

	daemon_state_save(d, now, false);
	if (d->epstate_dirty)  /* the write failed: again a second later */
		loop_timer_arm(d->loop, t, now + STATE_SAVE_MIN_NS);
}

/* The remembered endpoints changed: written at most once a second. */
static void state_changed(struct daemon *d)
{
	uint64_t at = d->epstate_saved_ns + STATE_SAVE_MIN_NS, now = now_ns();

	d->epstate_dirty = true;
	if (!loop_timer_armed(&d->state_timer))
		loop_timer_arm(d->loop, &d->state_timer, at > now ? at : now);
}

/* An event that may have proven an endpoint: remember it if it is new. */
static void peer_note_endpoint(struct dpeer *p)
{
	struct tunnel_peer_stats st;
	char a[80], b[80];
	int r;

	tunnel_peer_get_stats(p->tp, &st);
	if (!st.endpoint_confirmed)
		return;
	if (p->hinted) {
		const struct epstate_entry *e = epstate_find(&p->d->epstate, p->cfg.public_key);

		p->hinted = false;
		if (e && !same_endpoint(&e->endpoint, e->endpoint_len, &st.endpoint, st.endpoint_len))
			log_info("peer %s: the remembered endpoint %s was stale; the peer is at %s",
				 p->cfg.name, sockaddr_to_string(&e->endpoint, a, sizeof(a)),
				 sockaddr_to_string(&st.endpoint, b, sizeof(b)));
	}
	r = epstate_set(&p->d->epstate, p->cfg.public_key, &st.endpoint, st.endpoint_len);
	if (r > 0)
		state_changed(p->d);
}

void daemon_state_load(struct daemon *d)
{
	const char *path = d->cfg->node.state_file;
	struct epstate_report rep = { 0 };
	int r;

	loop_timer_init(&d->state_timer, state_timer_cb);
	if (!path[0])
		return;
	r = epstate_load(path, &d->epstate, &rep);
	if (r == -ENOENT) {
		log_info("state file %s: none yet; peers without an endpoint wait to be contacted", path);
		return;
	}
	if (r < 0) {
		log_warnx("state file %s: %s%s; starting without remembered endpoints, ignoring it", path,
			  strerror(-r),
			  r == -EPERM ? " (it must be a regular file of ours, not writable by group or others)"
				      : "");
		return;
	}
	if (rep.bad)
		log_warnx("state file %s: %u unreadable line(s), the first at line %u; ignoring them",
			  path, rep.bad, rep.first_bad_line);
	log_info("state file %s: %u remembered endpoint(s)", path, rep.entries);
}

void daemon_state_save(struct daemon *d, uint64_t now, bool force)
{
	const char *path = d->cfg->node.state_file;
	struct epstate out = { 0 };
	int r = 0;

	if (!path[0] || (!force && (!d->epstate_dirty || now - d->epstate_saved_ns < STATE_SAVE_MIN_NS)))
		return;
	/* the configured peers only: a removed peer's entry goes with it */
	for (struct dpeer *p = d->peers; p && r >= 0; p = p->next) {
		const struct epstate_entry *e = epstate_find(&d->epstate, p->cfg.public_key);

		if (e)
			r = epstate_set(&out, e->key, &e->endpoint, e->endpoint_len);
	}
	if (r >= 0) {
		char *text = NULL;
		size_t len = 0;

		/* written by the privileged helper when this process dropped its rights */
		r = epstate_format(&out, &text, &len);
		if (r >= 0)
			r = priv_write_file(d, PRIV_FILE_STATE, text, len);
		free(text);
	}
	epstate_clear(&out);
	d->epstate_saved_ns = now;
	if (r < 0) {
		/* still dirty: retried a second later; said once per kind of failure */
		if (r != d->epstate_err)
			log_warnx("state file %s: cannot write: %s, ignoring", path, strerror(-r));
		d->epstate_err = r;
		return;
	}
	if (d->epstate_err)
		log_info("state file %s: written again", path);
	d->epstate_err = 0;
	d->epstate_dirty = false;
	log_debug("state file %s: saved", path);
}

static void peer_cfg_copy_free(struct peer_cfg *pc)
{
	free(pc->segments);
	pc->segments = NULL;
}

static void dpeer_free(struct dpeer *p)
{
	if (!p)
		return;
	free(p->taps);
	peer_cfg_copy_free(&p->cfg);
	free(p);
}

int dpeer_add(struct daemon *d, const struct peer_cfg *pc)
{
	struct tunnel_peer_config tc = { 0 };
	struct dpeer *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->d = d;
	p->cfg = *pc;
	p->cfg.segments = calloc(pc->n_segments, sizeof(*pc->segments));
	p->taps = calloc(pc->n_segments, sizeof(*p->taps));
	if (!p->cfg.segments || !p->taps) {
		r = -ENOMEM;
		goto err;
	}
	memcpy(p->cfg.segments, pc->segments, pc->n_segments * sizeof(*pc->segments));

	guard_peer_init(d, p);
	peerhealth_init(d, p);
	guard_peer_refuse_check(d, p);
	if (p->refused[0]) {
		/* kept in the list so status shows it, with no tunnel and no TAP */
		log_warnx("peer %s: REFUSED: %s", pc->name, p->refused);
		p->next = d->peers;
		d->peers = p;
		return 0;
	}
	memcpy(tc.public_key, pc->public_key, KEY_LEN);
	tc.has_endpoint = pc->has_endpoint;
	tc.endpoint = pc->endpoint;
	tc.endpoint_len = pc->endpoint_len;
	tc.crypt = pc->encryption == ENCRYPTION_NONE ? TUNNEL_CRYPT_NONE : TUNNEL_CRYPT_AEAD;
	tc.keepalive_ms = pc->keepalive_ms;
	tc.segments = (const char (*)[TUNNEL_SEGMENT_NAME_MAX])p->cfg.segments;
	tc.n_segments = pc->n_segments;
	r = tunnel_peer_add(d->tunnel, &tc, p, &p->tp);
	if (r < 0) {
		log_warnx("peer %s: cannot add: %s", pc->name, strerror(-r));
		goto err;
	}
	peer_apply_hint(d, p);

	for (size_t i = 0; i < pc->n_segments; i++) {
		struct tap_port *t = &p->taps[i];
		const struct bridge_cfg *b = config_bridge_by_segment(d->cfg, pc->segments[i]);

		t->peer = p;
		t->seg = i;
		t->src.fd = t->tport.fd = -1;
		t->tport.peer = p->tp;
		t->tport.seg = i;
		tap_name(d, p, i, pc->name, pc->segments[i], t->name);
		snprintf(t->bridge, sizeof(t->bridge), "%s", b ? b->name : "");
		p->n_taps = i + 1;
		r = tap_port_open(t);
		if (r < 0)
			goto err_tunnel;
		guard_port_init(d, t);
		r = tap_port_enroll(t);
		if (r < 0) {
			log_warnx("%s: cannot enslave to %s: %s", t->name, t->bridge, strerror(-r));
			goto err_tunnel;
		}
		log_info("peer %s: segment %s on %s in bridge %s", pc->name,
			 pc->segments[i], t->name, t->bridge);
	}
	p->next = d->peers;
	d->peers = p;
	peerhealth_kick(p);
	return 0;

err_tunnel:
	for (size_t i = 0; i < p->n_taps; i++) {
		guard_port_stop(d, &p->taps[i]);
		tap_port_close(&p->taps[i]);
	}
	tunnel_peer_remove(p->tp);
err:
	dpeer_free(p);
	return r;
}

void dpeer_remove(struct daemon *d, struct dpeer *p)
{
	struct dpeer **pp;

	for (pp = &d->peers; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	peerhealth_stop(p);
	for (size_t i = 0; i < p->n_taps; i++) {
		guard_port_stop(d, &p->taps[i]);
		tap_port_close(&p->taps[i]);
	}
	if (p->tp)
		tunnel_peer_remove(p->tp);
	p->tp = NULL;
	p->next = d->graveyard;
	d->graveyard = p;
}

void daemon_collect(struct daemon *d)
{
	ctl_collect(d);
	probeports_collect(d);
	while (d->graveyard) {
		struct dpeer *p = d->graveyard;

		d->graveyard = p->next;
		dpeer_free(p);
	}
}

static void on_deliver(void *ctx, struct tunnel_peer *tp, size_t seg,
		       const uint8_t *frame, size_t len)
{
	struct dpeer *p = tunnel_peer_get_userdata(tp);
	struct tap_port *t;

	if (!p || seg >= p->n_taps)
		return;
	t = &p->taps[seg];
	tunnel_port_deliver(daemon_queue(p->d), &t->tport, frame, len);
}

static void on_deliver_vnet(void *ctx, struct tunnel_peer *tp, size_t seg,
			    const uint8_t *frame, size_t len)
{
	struct dpeer *p = tunnel_peer_get_userdata(tp);

	if (!p || seg >= p->n_taps)
		return;
	tunnel_port_deliver_vnet(daemon_queue(p->d), &p->taps[seg].tport, frame, len);
}

static void on_event(void *ctx, struct tunnel_peer *tp, enum tunnel_event ev,
		     const char *detail)
{
	struct dpeer *p = tp ? tunnel_peer_get_userdata(tp) : NULL;
	const char *name = p ? p->cfg.name : "(unknown peer)";

	switch (ev) {
	case TUNNEL_EV_HANDSHAKE_REJECTED: {
		/* a stranger retries every few seconds: say it, not forever */
		struct daemon *d = ctx;
		uint64_t *last = p ? &p->last_reject_log_ns : &d->last_unknown_log_ns, now = now_ns();
		json_object *o;

		if (*last && now - *last < 10000000000ull)
			break;
		*last = now;
		log_warnx("%s: handshake rejected: %s", name, detail ? detail : "");
		if (p) {
			o = json_object_new_object();
			json_object_object_add(o, "peer", json_object_new_string(name));
			json_object_object_add(o, "reason", json_object_new_string(detail ? detail : ""));
			ctl_event(p->d, "handshake-rejected", o);
		}
		break;
	}
	case TUNNEL_EV_SESSION_UP:
		if (p) {
			peerhealth_kick(p);
			for (size_t i = 0; i < p->n_taps; i++)
				tap_port_sync_offload(&p->taps[i]);
		}
		/* fallthrough */
	case TUNNEL_EV_ENDPOINT_CHANGED:
		log_info("peer %s: %s%s%s", name, tunnel_event_to_string(ev),
			 detail ? ": " : "", detail ? detail : "");
		if (p)
			peer_note_endpoint(p);
		break;
	case TUNNEL_EV_SESSION_DOWN:
		if (p)
			peerhealth_kick(p);
		/* fallthrough */
	default:
		log_info("peer %s: %s%s%s", name, tunnel_event_to_string(ev),
			 detail ? ": " : "", detail ? detail : "");
		break;
	}
}

const struct tunnel_callbacks daemon_tunnel_callbacks = {
	.deliver = on_deliver,
	.deliver_vnet = on_deliver_vnet,
	.event = on_event,
};

void daemon_udp_cb(struct loop_source *s, uint32_t events)
{
	tunnel_queue_udp_ready(&container_of(s, struct daemon, udp)->q);
}
