/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: a Unix stream socket, mode 0600, root only (0660 and
 * its group with ControlGroup); every accepted connection's SO_PEERCRED is
 * checked as well (ctl_admit). A client
 * sends one command line ("status", "fdb ..."); the daemon answers with one
 * JSON document and closes, or ("events") streams one JSON line per event
 * (docs/CONTROL.md).
 * JSON is built with json-c; the connections are conn.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bridged/ctlreq.h"
#include "bridged/daemon.h"
#include "bridged/priv.h"
#include "common/log.h"
#include "netcfg/netcfg.h"
#include "common/keys.h"
#include "tunnel/tap.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000   /* RFC 2863 operational, <linux/if.h> clashes with <net/if.h> */
#endif

const char *const tap_drop_names[_TAP_DROP_MAX] = {
	[TAP_DROP_WRITE] = "tap_write",
	[TAP_DROP_READ] = "tap_read",
	[TAP_DROP_GUARD] = "port_not_forwarding",
	[TAP_DROP_STORM] = "storm",
	[TAP_DROP_PROBE] = "probe",
};

static json_object *drops_json(const uint64_t *drops)
{
	json_object *o = json_object_new_object();

	for (int i = 0; i < _TUNNEL_DROP_MAX; i++)
		json_object_object_add(o, tunnel_drop_to_string(i),
				       json_object_new_int64((int64_t)drops[i]));
	return o;
}

static json_object *time_json(uint64_t mono_ns)
{
	/* monotonic -> wall clock seconds since the epoch */
	if (!mono_ns)
		return NULL;
	return json_object_new_int64((int64_t)((realtime_ns() - (now_ns() - mono_ns)) / 1000000000ull));
}

static json_object *ms_json(uint64_t ns)
{
	return json_object_new_double((double)ns / 1e6);
}

/* All links from one dump (a status of 200 peers asked the kernel 200
 * times before: 0.6 s); NULL when absent. */
struct link_dump {
	struct netcfg_link *v;
	size_t n;
};

static const struct netcfg_link *dump_find(const struct link_dump *ld, const char *name)
{
	for (size_t i = 0; i < ld->n; i++)
		if (!strcmp(ld->v[i].name, name))
			return &ld->v[i];
	return NULL;
}

static json_object *peer_json(struct daemon *d, struct dpeer *p, const struct link_dump *ld)
{
	json_object *o = json_object_new_object(), *tunnels = json_object_new_array();
	struct tunnel_peer_stats st;
	char key[KEY_B64_LEN], addr[80];
	uint64_t now = now_ns();

	if (p->tp)
		tunnel_peer_get_stats_at(p->tp, now, &st);
	else
		memset(&st, 0, sizeof(st));
	key_to_base64(p->cfg.public_key, key);
	json_object_object_add(o, "name", json_object_new_string(p->cfg.name));
	json_object_object_add(o, "public_key", json_object_new_string(key));
	json_object_object_add(o, "configured_endpoint", p->cfg.has_endpoint ?
		json_object_new_string(sockaddr_to_string(&p->cfg.endpoint, addr, sizeof(addr))) : NULL);
	json_object_object_add(o, "endpoint", st.endpoint.ss_family ?
		json_object_new_string(sockaddr_to_string(&st.endpoint, addr, sizeof(addr))) : NULL);
	json_object_object_add(o, "encryption",
			       json_object_new_string(encryption_to_string(p->cfg.encryption)));
	json_object_object_add(o, "cipher", p->refused[0] ? NULL :
			       json_object_new_string(st.cipher ? st.cipher : "none"));
	json_object_object_add(o, "state", json_object_new_string(p->refused[0] ? "refused" :
			       tunnel_session_state_to_string(st.state)));
	json_object_object_add(o, "refused", p->refused[0] ? json_object_new_string(p->refused) : NULL);
	json_object_object_add(o, "health", json_object_new_string(health_state_to_string(p->health)));
	json_object_object_add(o, "health_since_s",
			       json_object_new_double((double)(now - p->health_since_ns) / 1e9));
	json_object_object_add(o, "carrier", json_object_new_boolean(p->carrier));
	{
		double loss = health_loss_pct(&p->loss, now, 10000000000ull);

		json_object_object_add(o, "loss_pct", loss >= 0 ? json_object_new_double(loss) : NULL);
		json_object_object_add(o, "rx_lost", json_object_new_int64((int64_t)st.rx_lost));
		json_object_object_add(o, "rx_packets", json_object_new_int64((int64_t)st.rx_packets));
		json_object_object_add(o, "keepalives_tx", json_object_new_int64((int64_t)st.keepalives_tx));
		json_object_object_add(o, "keepalives_rx", json_object_new_int64((int64_t)st.keepalives_rx));
		json_object_object_add(o, "path_mtu", json_object_new_int((int)st.path_mtu));
		json_object_object_add(o, "max_payload", json_object_new_int((int)st.max_payload));
	}
	json_object_object_add(o, "last_handshake", time_json(st.last_handshake_ns));
	json_object_object_add(o, "last_handshake_ago_s", st.last_handshake_ns ?
		json_object_new_double((double)(now - st.last_handshake_ns) / 1e9) : NULL);
	json_object_object_add(o, "last_rx_ago_s", st.last_rx_ns ?
		json_object_new_double((double)(now - st.last_rx_ns) / 1e9) : NULL);
	json_object_object_add(o, "handshakes", json_object_new_int64((int64_t)st.handshakes));
	json_object_object_add(o, "keepalive_ms", json_object_new_int((int)p->cfg.keepalive_ms));
	/* idle: no frames for 2 s, one keepalive per IdleKeepalive, no probes */
	json_object_object_add(o, "idle", json_object_new_boolean(st.idle));
	json_object_object_add(o, "last_frame_ago_s", st.last_frame_ns && st.last_frame_ns <= now ?
		json_object_new_double((double)(now - st.last_frame_ns) / 1e9) : NULL);
	json_object_object_add(o, "rx_frames", json_object_new_int64((int64_t)st.rx_frames));
	json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)st.rx_bytes));
	json_object_object_add(o, "tx_frames", json_object_new_int64((int64_t)st.tx_frames));
	json_object_object_add(o, "tx_split_superframes", json_object_new_int64((int64_t)st.tx_split));
	json_object_object_add(o, "tx_split_segments", json_object_new_int64((int64_t)st.tx_split_segments));
	json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)st.tx_bytes));
	if (st.rtt_last_ns) {
		json_object *rtt = json_object_new_object();

		json_object_object_add(rtt, "last", ms_json(st.rtt_last_ns));
		json_object_object_add(rtt, "min", ms_json(st.rtt_min_ns));
		json_object_object_add(rtt, "avg", ms_json(st.rtt_avg_ns));
		json_object_object_add(rtt, "max", ms_json(st.rtt_max_ns));
		json_object_object_add(rtt, "p99", ms_json(health_rtt_p99(&p->rtt)));
		json_object_object_add(rtt, "jitter", json_object_new_double(p->rtt.jitter / 1e6));
		json_object_object_add(o, "rtt_ms", rtt);
	} else {
		json_object_object_add(o, "rtt_ms", NULL);
	}
	{
		json_object *drops = drops_json(st.drops);

		uint64_t sum[_TAP_DROP_MAX] = { 0 }, td[_TAP_DROP_MAX];

		for (size_t i = 0; i < p->n_taps; i++) {
			tap_port_drops(&p->taps[i], td);
			for (int k = 0; k < _TAP_DROP_MAX; k++)
				sum[k] += td[k];
		}
		for (int k = 0; k < _TAP_DROP_MAX; k++)
			json_object_object_add(drops, tap_drop_names[k], json_object_new_int64((int64_t)sum[k]));
		json_object_object_add(o, "drops", drops);
	}
	for (size_t i = 0; i < p->n_taps; i++) {
		json_object *t = json_object_new_object();
		const struct netcfg_link *l = dump_find(ld, p->taps[i].name);
		bool present = l != NULL;

		json_object_object_add(t, "segment", json_object_new_string(p->cfg.segments[i]));
		json_object_object_add(t, "tap", json_object_new_string(p->taps[i].name));
		json_object_object_add(t, "bridge", json_object_new_string(p->taps[i].bridge));
		json_object_object_add(t, "ifindex", json_object_new_int(present ? l->ifindex : 0));
		json_object_object_add(t, "port_state", present && l->port_state >= 0 ?
			json_object_new_string(port_state_to_string(l->port_state)) : NULL);
		json_object_object_add(t, "guard", json_object_new_string(guard_state_to_string(p->taps[i].guard)));
		json_object_object_add(t, "retrying", json_object_new_boolean(
			p->taps[i].guard == GUARD_PROBING && p->taps[i].retrying));
		json_object_object_add(t, "guard_since_s", json_object_new_double(
			(double)(now - p->taps[i].guard_since_ns) / 1e9));
		json_object_object_add(t, "loops", json_object_new_int64((int64_t)p->taps[i].loops));
		/* the far end's guard state, as its last probe showed it */
		json_object_object_add(t, "peer_end", p->taps[i].peer_known ? json_object_new_string(
			p->taps[i].peer_flags & HOP_BLOCKED ? "blocked" :
			p->taps[i].peer_flags & HOP_PROBING ? "probing" : "forwarding") : NULL);
		json_object_object_add(t, "blocked_by", p->taps[i].guard != GUARD_BLOCKED ? NULL :
			json_object_new_string(p->taps[i].mirrored ? "other end" : "this end"));
		json_object_object_add(t, "retry_in_s", p->taps[i].guard == GUARD_BLOCKED ?
			json_object_new_double((double)(p->taps[i].retry_at_ns > now ?
				p->taps[i].retry_at_ns - now : 0) / 1e9) : NULL);
		json_object_object_add(t, "carrier", json_object_new_boolean(present && (l->flags & IFF_LOWER_UP)));
		{
			/* what the kernel hands this TAP whole (super-frames,
			 * partial checksums), and what went through so */
			json_object *of = json_object_new_object();
			const struct tunnel_port *tp = &p->taps[i].tport;
			char fl[64];

			json_object_object_add(of, "tap", json_object_new_string(
				tap_offload_string(tp->offload, fl, sizeof(fl))));
			json_object_object_add(of, "superframes_read", json_object_new_int64((int64_t)tp->gso_read));
			json_object_object_add(of, "superframes_written",
					       json_object_new_int64((int64_t)tp->gso_written));
			json_object_object_add(of, "checksums_completed",
					       json_object_new_int64((int64_t)tp->csum_completed));
			json_object_object_add(of, "superframes_dropped", json_object_new_int64((int64_t)tp->gso_drops));
			json_object_object_add(t, "offload", of);
		}
		{
			json_object *dr = json_object_new_object();
			uint64_t td[_TAP_DROP_MAX];

			tap_port_drops(&p->taps[i], td);
			for (int k = 0; k < _TAP_DROP_MAX; k++)
				json_object_object_add(dr, tap_drop_names[k], json_object_new_int64((int64_t)td[k]));
			json_object_object_add(t, "drops", dr);
		}
		json_object_array_add(tunnels, t);
	}
	json_object_object_add(o, "tunnels", tunnels);
	json_object_object_add(o, "gso", json_object_new_boolean(p->tp && tunnel_peer_gso(p->tp)));
	return o;
}

static json_object *status_json(struct daemon *d)
{
	json_object *root = json_object_new_object();
	json_object *node = json_object_new_object();
	json_object *segs = json_object_new_array(), *peers = json_object_new_array();
	char key[KEY_B64_LEN], addr[80];
	uint64_t drops[_TUNNEL_DROP_MAX];
	struct link_dump ld = { NULL, 0 };

	if (netcfg_dump_links(d->nc, &ld.v, &ld.n) < 0) {
		ld.v = NULL;
		ld.n = 0;
	}
	key_to_base64(d->public_key, key);
	json_object_object_add(node, "public_key", json_object_new_string(key));
	json_object_object_add(node, "listen", json_object_new_string(
		sockaddr_to_string(&d->cfg->node.listen, addr, sizeof(addr))));
	json_object_object_add(node, "config", json_object_new_string(d->config_path));
	json_object_object_add(node, "pid", json_object_new_int(getpid()));
	json_object_object_add(node, "uptime_s",
			       json_object_new_double((double)(now_ns() - d->started_ns) / 1e9));
	tunnel_get_drops(d->tunnel, drops);
	json_object_object_add(node, "drops", drops_json(drops));
	{
		json_object *g = json_object_new_object();

		json_object_object_add(g, "loops_blocked", json_object_new_int64((int64_t)d->counters[CNT_LOOPS]));
		json_object_object_add(g, "mac_moves", json_object_new_int64((int64_t)d->counters[CNT_MAC_MOVES]));
		json_object_object_add(g, "mac_flaps", json_object_new_int64((int64_t)d->counters[CNT_MAC_FLAPS]));
		json_object_object_add(g, "dead_after_ms", json_object_new_int((int)d->cfg->node.dead_after_ms));
		json_object_object_add(g, "probe_interval_ms", json_object_new_int((int)d->cfg->node.probe_interval_ms));
		json_object_object_add(g, "idle_keepalive_ms", json_object_new_int((int)d->cfg->node.idle_keepalive_ms));
		json_object_object_add(g, "storm_limit", json_object_new_int((int)d->cfg->node.storm_limit));
		json_object_object_add(node, "loop_guard", g);
	}
	{
		/* the data path's queues (one per worker): what each syscall carried */
		const struct tunnel_queue *q0 = daemon_queue_at(d, 0);
		json_object *of = json_object_new_object(), *qa = json_object_new_array();

		json_object_object_add(of, "mode", json_object_new_string(d->cfg->node.offload_off ? "off" : "auto"));
		json_object_object_add(of, "superframes", json_object_new_string(d->cfg->node.offload_off ? "none" :
						d->cfg->node.superframes_whole ? "whole" : "segments"));
		json_object_object_add(of, "udp_segment", json_object_new_boolean(q0->udp_gso));
		json_object_object_add(of, "udp_gro", json_object_new_boolean(q0->udp_gro));
		json_object_object_add(of, "uso", json_object_new_boolean(d->uso_probe == 1));
		json_object_object_add(node, "offloads", of);
		json_object_object_add(node, "workers", json_object_new_int((int)d->n_workers));
		json_object_object_add(node, "steering", json_object_new_string(workers_steering(d)));
		for (unsigned i = 0; daemon_queue_at(d, i); i++) {
			const struct tunnel_queue_stats *qs = &daemon_queue_at(d, i)->st;
			json_object *q = json_object_new_object();

			json_object_object_add(q, "queue", json_object_new_int((int)i));
			json_object_object_add(q, "cpu", workers_cpu(d, i) >= 0 ? json_object_new_int(workers_cpu(d, i)) : NULL);
			json_object_object_add(q, "tap_reads", json_object_new_int64((int64_t)qs->tap_reads));
			json_object_object_add(q, "tap_reader", json_object_new_string(
				qs->tap_reader == TUNNEL_TAP_READER_URING ? "io_uring" :
				qs->tap_reader == TUNNEL_TAP_READER_READ ? "read" : "none yet"));
			json_object_object_add(q, "tap_ring_reads", json_object_new_int64((int64_t)qs->tap_ring_reads));
			json_object_object_add(q, "tap_ring_calls", json_object_new_int64((int64_t)qs->tap_ring_calls));
			json_object_object_add(q, "tap_frames", json_object_new_int64((int64_t)qs->tap_frames));
			json_object_object_add(q, "tap_superframes", json_object_new_int64((int64_t)qs->tap_superframes));
			json_object_object_add(q, "tap_writes", json_object_new_int64((int64_t)qs->tap_writes));
			json_object_object_add(q, "tap_written_superframes",
					       json_object_new_int64((int64_t)qs->tap_written_superframes));
			json_object_object_add(q, "gro_frames", json_object_new_int64((int64_t)qs->gro_frames));
			json_object_object_add(q, "gro_superframes", json_object_new_int64((int64_t)qs->gro_superframes));
			json_object_object_add(q, "udp_send_calls", json_object_new_int64((int64_t)qs->udp_send_calls));
			json_object_object_add(q, "udp_sent_datagrams", json_object_new_int64((int64_t)qs->udp_sent_dgrams));
			json_object_object_add(q, "udp_sent_messages", json_object_new_int64((int64_t)qs->udp_sent_msgs));
			json_object_object_add(q, "datagrams_per_message", json_object_new_double(qs->udp_sent_msgs ?
				(double)qs->udp_sent_dgrams / (double)qs->udp_sent_msgs : 0));
			json_object_object_add(q, "udp_recv_calls", json_object_new_int64((int64_t)qs->udp_recv_calls));
			json_object_object_add(q, "udp_recv_datagrams", json_object_new_int64((int64_t)qs->udp_recv_dgrams));
			json_object_object_add(q, "datagrams_per_send", json_object_new_double(qs->udp_send_calls ?
				(double)qs->udp_sent_dgrams / (double)qs->udp_send_calls : 0));
			json_object_object_add(q, "datagrams_per_recv", json_object_new_double(qs->udp_recv_calls ?
				(double)qs->udp_recv_dgrams / (double)qs->udp_recv_calls : 0));
			json_object_object_add(q, "drops", json_object_new_int64((int64_t)qs->drops));
			json_object_object_add(q, "too_big", json_object_new_int64((int64_t)qs->udp_too_big));
			json_object_array_add(qa, q);
		}
		json_object_object_add(node, "queues", qa);
	}
	json_object_object_add(root, "node", node);

	for (size_t i = 0; i < d->cfg->n_bridges; i++) {
		const struct bridge_cfg *b = &d->cfg->bridges[i];
		json_object *s = json_object_new_object(), *ports = json_object_new_array();
		const struct netcfg_link *bl = dump_find(&ld, b->name);
		bool present = bl != NULL;

		json_object_object_add(s, "segment", json_object_new_string(b->segment));
		json_object_object_add(s, "bridge", json_object_new_string(b->name));
		json_object_object_add(s, "present", json_object_new_boolean(present));
		json_object_object_add(s, "up", json_object_new_boolean(present && (bl->flags & IFF_UP)));
		json_object_object_add(s, "stp", json_object_new_boolean(b->stp));
		json_object_object_add(s, "forward_delay", json_object_new_int((int)b->forward_delay));
		if (present) {
			for (size_t k = 0; k < ld.n; k++) {
				const struct netcfg_link *links = ld.v;
				json_object *po;

				if (links[k].master != bl->ifindex)
					continue;
				po = json_object_new_object();
				json_object_object_add(po, "name", json_object_new_string(links[k].name));
				json_object_object_add(po, "kind", json_object_new_string(links[k].kind));
				json_object_object_add(po, "state", links[k].port_state >= 0 ?
					json_object_new_string(port_state_to_string(links[k].port_state)) : NULL);
				json_object_array_add(ports, po);
			}
		}
		json_object_object_add(s, "ports", ports);
		json_object_array_add(segs, s);
	}
	json_object_object_add(root, "segments", segs);
	for (struct dpeer *p = d->peers; p; p = p->next)
		json_object_array_add(peers, peer_json(d, p, &ld));
	json_object_object_add(root, "peers", peers);
	free(ld.v);
	return root;
}

/* o as one line of JSON (malloc'd, *ret_len bytes with the newline); puts o. */
static char *json_line(json_object *o, size_t *ret_len)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s);
	char *buf = malloc(len + 2);

	if (buf) {
		memcpy(buf, s, len);
		buf[len++] = '\n';
		buf[len] = '\0';
		*ret_len = len;
	}
	json_object_put(o);
	return buf;
}

/* Whether the peer on fd (credentials cr) has gid as its primary group or
 * among its supplementary groups (SO_PEERGROUPS: as they were at connect). */
static bool peer_in_group(int fd, const struct ucred *cr, gid_t gid)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	if (cr->gid == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;        /* ERANGE: more than 256 groups; not admitted */
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static json_object *error_json(const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

/* "status", "fdb ...": the JSON document; "events": the connection becomes
 * a stream of event lines; anything else: an error document. The parsing
 * is ctlreq.c's (pure, fuzzed by tests/fuzz/fuzz_ctl). */
static char *ctl_answer(struct conn_server *srv, struct conn *c, char *req, size_t *ret_len)
{
	struct daemon *d = srv->ctx;
	struct ctl_request r;
	char err[200];
	json_object *o;

	if (ctl_request_parse(req, strlen(req) + 1, &r, err, sizeof(err)) < 0)
		o = error_json(err);
	else if (r.cmd == CTL_CMD_EVENTS) {
		conn_make_stream(c);
		ctl_event(d, "hello", json_object_new_object());
		return NULL;
	} else if (r.cmd == CTL_CMD_STATUS)
		o = status_json(d);
	else
		o = fdbquery_json(d, &r);
	return json_line(o, ret_len);
}

/* Who may talk to the control socket: root, the daemon's own user, and the
 * members of ControlGroup (primary or supplementary group). The socket's
 * file mode says the same (0600, or 0660 and the group); this check holds
 * even when the file mode is opened wider or the socket is handed over. */
static bool ctl_admit(struct conn_server *srv, int fd, char **ret_refusal)
{
	struct daemon *d = srv->ctx;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char why[200];

	*ret_refusal = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr)) {
		log_warnx("control socket: refused a client whose credentials cannot be read: %s",
			  strerror(errno));
		snprintf(why, sizeof(why), "permission denied: credentials unknown");
	} else if (cr.uid == 0 || cr.uid == geteuid()) {
		return true;
	} else if (d->ctl_gid != (gid_t)-1 && peer_in_group(fd, &cr, d->ctl_gid)) {
		return true;
	} else {
		log_warnx("control socket: refused uid %u (gid %u, pid %d): neither root nor in ControlGroup%s%s",
			  (unsigned)cr.uid, (unsigned)cr.gid, (int)cr.pid,
			  d->cfg->node.control_group[0] ? " " : " (none configured)",
			  d->cfg->node.control_group);
		snprintf(why, sizeof(why), "permission denied: uid %u may not use the control socket "
			 "(root%s%s only)", (unsigned)cr.uid,
			 d->cfg->node.control_group[0] ? " and group " : "", d->cfg->node.control_group);
	}
	d->counters[CNT_CTL_REFUSED]++;
	*ret_refusal = json_line(error_json(why), &(size_t){ 0 });
	return false;
}

static const struct conn_handler ctl_handler = {
	.name = "control socket",
	.admit = ctl_admit,
	.complete = ctl_request_complete,
	.answer = ctl_answer,
};

void ctl_event(struct daemon *d, const char *type, json_object *o)
{
	const char *s;
	char *line;
	size_t len;

	d->counters[CNT_EVENTS]++;
	json_object_object_add(o, "time", json_object_new_double((double)realtime_ns() / 1e9));
	json_object_object_add(o, "type", json_object_new_string(type));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(s);
	line = malloc(len + 1);
	if (line) {
		memcpy(line, s, len);
		line[len] = '\n';
		conn_server_broadcast(&d->ctl_srv, line, len + 1);
		free(line);
	}
	json_object_put(o);
}

/* ControlGroup: its gid, or (gid_t)-1 for none; -ENOENT: no such group. */
static int ctl_group(const char *name, gid_t *ret)
{
	struct group gr, *res = NULL;
	char buf[16384], *end;
	unsigned long n;
	int r;

	*ret = (gid_t)-1;
	if (!name[0])
		return 0;
	r = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (r == 0 && res) {
		*ret = res->gr_gid;
		return 0;
	}
	/* a number that names no group is a gid as well */
	errno = 0;
	n = strtoul(name, &end, 10);
	if (!*end && !errno && n < (gid_t)-1) {
		*ret = (gid_t)n;
		return 0;
	}
	return r ? -r : -ENOENT;
}

int ctl_open(struct daemon *d)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = d->cfg->node.control_socket;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	r = ctl_group(d->cfg->node.control_group, &d->ctl_gid);
	if (r < 0) {
		log_warnx("ControlGroup = %s: %s", d->cfg->node.control_group,
			  r == -ENOENT ? "no such group" : strerror(-r));
		return r;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The lock (taken before) guarantees no live daemon owns the path. */
	unlink(path);
	old = umask(0077);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	/* root (and the daemon's user) only, or the group too: the file mode
	 * says it to connect(), ctl_admit() to every accepted connection */
	if (r == 0 && d->ctl_gid != (gid_t)-1 && chown(path, (uid_t)-1, d->ctl_gid) < 0) {
		r = -errno;
		/* without CAP_CHOWN a process may give a file only to its own groups */
		log_warnx("ControlGroup = %s: cannot give %s to gid %u: %s (under the systemd unit: "
			  "SupplementaryGroups=%s in a drop-in)", d->cfg->node.control_group, path,
			  (unsigned)d->ctl_gid, strerror(-r), d->cfg->node.control_group);
		close(fd);
		return r;
	}
	if (r < 0 || chmod(path, d->ctl_gid != (gid_t)-1 ? 0660 : 0600) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (d->ctl_gid != (gid_t)-1)
		log_info("control socket %s: root and group %s (gid %u)", path,
			 d->cfg->node.control_group, (unsigned)d->ctl_gid);
	return conn_server_open(&d->ctl_srv, d->loop, fd, &ctl_handler, d);
}

void ctl_close(struct daemon *d)
{
	bool open = d->ctl_srv.src.fd >= 0;

	conn_server_close(&d->ctl_srv);
	if (open)
		priv_unlink_ctl(d);
}

void ctl_collect(struct daemon *d)
{
	conn_server_collect(&d->ctl_srv);
	conn_server_collect(&d->metrics_srv);
}
