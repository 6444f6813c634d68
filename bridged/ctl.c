/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: a Unix stream socket, mode 0600, root only. A client
 * sends one command line ("status"); the daemon answers with one JSON
 * document and closes. JSON is built with json-c.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "bridged/daemon.h"
#include "common/log.h"
#include "netcfg/netcfg.h"
#include "tunnel/keys.h"

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

/*
 * A connection to the control socket or the metrics listener. All I/O is
 * non-blocking: a request is read as it comes, the answer written as the
 * peer takes it, and a connection that dawdles is closed after
 * CLIENT_DEADLINE_NS; the event loop never waits for a client.
 */
enum client_mode {
	CLIENT_REQUEST,      /* reading one command line */
	CLIENT_REPLY,        /* writing the answer, then closing */
	CLIENT_EVENTS,       /* `bridgectl events`: stays, one JSON line per event */
	CLIENT_HTTP,         /* metrics: reading an HTTP request */
};

#define CLIENT_DEADLINE_NS 2000000000ull
#define CLIENTS_MAX 64

struct ctl_client {
	struct loop_source src;
	struct daemon *d;
	struct ctl_client *next;
	enum client_mode mode;
	bool dead;
	struct loop_timer deadline;    /* request/reply: closed when it fires */
	char in[512];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
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

static json_object *peer_json(struct daemon *d, struct dpeer *p)
{
	json_object *o = json_object_new_object(), *tunnels = json_object_new_array();
	struct tunnel_peer_stats st;
	char key[KEY_B64_LEN], addr[80];
	uint64_t now = now_ns();

	if (p->tp)
		tunnel_peer_get_stats(p->tp, &st);
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
	json_object_object_add(o, "rx_frames", json_object_new_int64((int64_t)st.rx_frames));
	json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)st.rx_bytes));
	json_object_object_add(o, "tx_frames", json_object_new_int64((int64_t)st.tx_frames));
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

		for (int k = 0; k < _TAP_DROP_MAX; k++) {
			uint64_t sum = 0;

			for (size_t i = 0; i < p->n_taps; i++)
				sum += p->taps[i].drops[k];
			json_object_object_add(drops, tap_drop_names[k], json_object_new_int64((int64_t)sum));
		}
		json_object_object_add(o, "drops", drops);
	}
	for (size_t i = 0; i < p->n_taps; i++) {
		json_object *t = json_object_new_object();
		struct netcfg_link l;
		bool present = netcfg_get_link(d->nc, p->taps[i].name, &l) >= 0;

		json_object_object_add(t, "segment", json_object_new_string(p->cfg.segments[i]));
		json_object_object_add(t, "tap", json_object_new_string(p->taps[i].name));
		json_object_object_add(t, "bridge", json_object_new_string(p->taps[i].bridge));
		json_object_object_add(t, "ifindex", json_object_new_int(present ? l.ifindex : 0));
		json_object_object_add(t, "port_state", present && l.port_state >= 0 ?
			json_object_new_string(port_state_to_string(l.port_state)) : NULL);
		json_object_object_add(t, "guard", json_object_new_string(guard_state_to_string(p->taps[i].guard)));
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
		json_object_object_add(t, "carrier", json_object_new_boolean(present && (l.flags & IFF_LOWER_UP)));
		{
			json_object *dr = json_object_new_object();

			for (int k = 0; k < _TAP_DROP_MAX; k++)
				json_object_object_add(dr, tap_drop_names[k],
						       json_object_new_int64((int64_t)p->taps[i].drops[k]));
			json_object_object_add(t, "drops", dr);
		}
		json_object_array_add(tunnels, t);
	}
	json_object_object_add(o, "tunnels", tunnels);
	return o;
}

static json_object *status_json(struct daemon *d)
{
	json_object *root = json_object_new_object();
	json_object *node = json_object_new_object();
	json_object *segs = json_object_new_array(), *peers = json_object_new_array();
	char key[KEY_B64_LEN], addr[80];
	uint64_t drops[_TUNNEL_DROP_MAX];

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
		json_object_object_add(g, "storm_limit", json_object_new_int((int)d->cfg->node.storm_limit));
		json_object_object_add(node, "loop_guard", g);
	}
	json_object_object_add(root, "node", node);

	for (size_t i = 0; i < d->cfg->n_bridges; i++) {
		const struct bridge_cfg *b = &d->cfg->bridges[i];
		json_object *s = json_object_new_object(), *ports = json_object_new_array();
		struct netcfg_link bl, *links = NULL;
		size_t n = 0;
		bool present = netcfg_get_link(d->nc, b->name, &bl) >= 0;

		json_object_object_add(s, "segment", json_object_new_string(b->segment));
		json_object_object_add(s, "bridge", json_object_new_string(b->name));
		json_object_object_add(s, "present", json_object_new_boolean(present));
		json_object_object_add(s, "up", json_object_new_boolean(present && (bl.flags & IFF_UP)));
		json_object_object_add(s, "stp", json_object_new_boolean(b->stp));
		json_object_object_add(s, "forward_delay", json_object_new_int((int)b->forward_delay));
		if (present && netcfg_dump_links(d->nc, &links, &n) >= 0) {
			for (size_t k = 0; k < n; k++) {
				json_object *po;

				if (links[k].master != bl.ifindex)
					continue;
				po = json_object_new_object();
				json_object_object_add(po, "name", json_object_new_string(links[k].name));
				json_object_object_add(po, "kind", json_object_new_string(links[k].kind));
				json_object_object_add(po, "state", links[k].port_state >= 0 ?
					json_object_new_string(port_state_to_string(links[k].port_state)) : NULL);
				json_object_array_add(ports, po);
			}
		}
		free(links);
		json_object_object_add(s, "ports", ports);
		json_object_array_add(segs, s);
	}
	json_object_object_add(root, "segments", segs);
	for (struct dpeer *p = d->peers; p; p = p->next)
		json_object_array_add(peers, peer_json(d, p));
	json_object_object_add(root, "peers", peers);
	return root;
}

static void client_drop(struct ctl_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	loop_timer_disarm(c->d->loop, &c->deadline);
	loop_del(c->d->loop, &c->src);
	close(c->src.fd);
	c->src.fd = -1;
	free(c->out);
	c->out = NULL;
}

/* Writes what the peer takes now; closes when all is out. */
static void client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = write(c->src.fd, c->out + c->out_off, c->out_len - c->out_off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			loop_mod(c->d->loop, &c->src, EPOLLOUT);
			return;
		}
		if (w <= 0) {
			client_drop(c);
			return;
		}
		c->out_off += (size_t)w;
	}
	/* all written: half-close, so the peer reads to the end before EOF */
	shutdown(c->src.fd, SHUT_WR);
	client_drop(c);
}

static void client_reply(struct ctl_client *c, char *buf, size_t len)
{
	c->mode = CLIENT_REPLY;
	c->out = buf;
	c->out_len = len;
	c->out_off = 0;
	if (!buf) {
		client_drop(c);
		return;
	}
	client_flush(c);
}

static void client_request(struct ctl_client *c, const char *line)
{
	struct daemon *d = c->d;
	json_object *o;
	char *buf = NULL;
	size_t len = 0;

	if (!strcmp(line, "events")) {
		c->mode = CLIENT_EVENTS;     /* stays: no deadline */
		loop_timer_disarm(d->loop, &c->deadline);
		loop_mod(d->loop, &c->src, EPOLLIN | EPOLLRDHUP);
		ctl_event(d, "hello", json_object_new_object());
		return;
	}
	if (!strcmp(line, "status")) {
		o = status_json(d);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "error", json_object_new_string("unknown command"));
	}
	buf = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (buf) {
		len = strlen(buf);
		buf[len] = '\0';
		/* room for the newline */
		{
			char *nb = realloc(buf, len + 2);

			if (nb) {
				buf = nb;
				buf[len++] = '\n';
				buf[len] = '\0';
			}
		}
	}
	client_reply(c, buf, len);
}

static void client_cb(struct loop_source *s, uint32_t events)
{
	struct ctl_client *c = container_of(s, struct ctl_client, src);
	char *nl;
	ssize_t r;

	if (c->dead)
		return;
	switch (c->mode) {
	case CLIENT_REPLY:
		client_flush(c);
		return;
	case CLIENT_EVENTS: {
		char buf[256];

		/* the client sends nothing more; EOF or error ends it */
		if (read(s->fd, buf, sizeof(buf)) <= 0 || (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
			client_drop(c);
		return;
	}
	case CLIENT_REQUEST:
	case CLIENT_HTTP:
	default:
		break;
	}
	r = read(s->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		client_drop(c);
		return;
	}
	c->in_len += (size_t)r;
	c->in[c->in_len] = '\0';
	if (c->mode == CLIENT_HTTP) {
		/* the end of the request head, or as much as we will read */
		if (strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n") || c->in_len == sizeof(c->in) - 1) {
			size_t len = 0;
			char *buf = metrics_http_response(c->d, &len);

			client_reply(c, buf, len);
		}
		return;
	}
	nl = strchr(c->in, '\n');
	if (!nl) {
		if (c->in_len == sizeof(c->in) - 1)
			client_drop(c);        /* no command is that long */
		return;
	}
	*nl = '\0';
	if (nl > c->in && nl[-1] == '\r')
		nl[-1] = '\0';
	client_request(c, c->in);
}

/* A request/reply connection that dawdled past its deadline. */
static void client_deadline_cb(struct loop_timer *t, uint64_t now)
{
	client_drop(container_of(t, struct ctl_client, deadline));
}

/* Accepts a connection on a listening socket into mode; false if not. */
bool ctl_accept(struct daemon *d, int lfd, bool http)
{
	struct ctl_client *c;
	size_t n = 0;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return false;
	for (c = d->clients; c; c = c->next)
		if (!c->dead && c->mode != CLIENT_EVENTS)
			n++;
	c = n < CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		close(fd);
		return true;
	}
	c->src.fd = fd;
	c->src.cb = client_cb;
	c->d = d;
	c->mode = http ? CLIENT_HTTP : CLIENT_REQUEST;
	c->next = d->clients;
	d->clients = c;
	loop_add(d->loop, &c->src, EPOLLIN | EPOLLRDHUP);
	loop_timer_init(&c->deadline, client_deadline_cb);
	loop_timer_arm(d->loop, &c->deadline, now_ns() + CLIENT_DEADLINE_NS);
	return true;
}

void ctl_event(struct daemon *d, const char *type, json_object *o)
{
	const char *s;
	size_t len;

	d->counters[CNT_EVENTS]++;
	json_object_object_add(o, "time", json_object_new_double((double)realtime_ns() / 1e9));
	json_object_object_add(o, "type", json_object_new_string(type));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(s);
	for (struct ctl_client *c = d->clients; c; c = c->next) {
		if (c->dead || c->mode != CLIENT_EVENTS)
			continue;
		/* a client that does not keep up is dropped, never waited for */
		if (write(c->src.fd, s, len) != (ssize_t)len || write(c->src.fd, "\n", 1) != 1) {
			log_info("events client dropped: it does not read fast enough");
			client_drop(c);
		}
	}
	json_object_put(o);
}

/* Frees clients that ended (after the loop round, see daemon_collect). */
void ctl_collect(struct daemon *d)
{
	struct ctl_client **pp = &d->clients;

	while (*pp) {
		struct ctl_client *c = *pp;

		if (c->dead) {
			*pp = c->next;
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

static void ctl_cb(struct loop_source *s, uint32_t events)
{
	struct daemon *d = container_of(s, struct daemon, ctl);

	for (int i = 0; i < 16 && ctl_accept(d, s->fd, false); i++)
		;
}

int ctl_open(struct daemon *d)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = d->cfg->node.control_socket;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The lock (taken before) guarantees no live daemon owns the path. */
	unlink(path);
	old = umask(0077);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	d->ctl.fd = fd;
	d->ctl.cb = ctl_cb;
	return loop_add(d->loop, &d->ctl, EPOLLIN);
}

void ctl_close(struct daemon *d)
{
	for (struct ctl_client *c = d->clients; c; c = c->next)
		client_drop(c);
	ctl_collect(d);
	if (d->ctl.fd < 0)
		return;
	loop_del(d->loop, &d->ctl);
	close(d->ctl.fd);
	unlink(d->cfg->node.control_socket);
	d->ctl.fd = -1;
}
