/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bridged: joins the local bridges to those of peer hosts through
 * Ethernet-over-UDP tunnels on TAP devices. main(), start-up, the event loop
 * and SIGHUP reload; the rest lives in peer.c, netsync.c and ctl.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bridged/daemon.h"
#include "bridged/priv.h"
#include "bridged/sandbox.h"
#include "common/log.h"
#include "netcfg/netcfg.h"
#include "common/keys.h"
#include "tunnel/udp.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bridged [-c FILE] [-f] [-n] [-v]...\n"
"\n"
"Joins this host's bridges to those of its peers through authenticated\n"
"Ethernet-over-UDP tunnels, one TAP device per (peer, segment), so the VMs\n"
"of both hosts share each Layer-2 segment.\n"
"\n"
"  -c FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
"  -f        stay in the foreground and log to stderr (default: detach, syslog)\n"
"  -n        check the configuration, print it in canonical form, exit\n"
"            (0: valid; 1: errors, each as file:line: [Section] Key: what)\n"
"  -v        more logging (debug); repeatable\n"
"  -h        this help\n"
"\n"
"Signals: SIGHUP reloads the configuration (unchanged peers keep their\n"
"sessions and TAP devices); SIGTERM and SIGINT stop the daemon.\n"
"Control: bridgectl status [--json] talks to the ControlSocket of [Node].\n"
"See docs/CONFIG.md for the file format and docs/PROTOCOL.md for the wire.\n");
}

static int load_config(const char *path, struct config **ret)
{
	struct config_errors errs = { 0 };
	int r = config_parse_file(path, ret, &errs);

	for (size_t i = 0; i < errs.n; i++)
		log_warnx("%s", errs.msgs[i]);
	config_errors_clear(&errs);
	return r;
}

static void reload(struct daemon *d)
{
	struct config *nc = NULL, *old = d->cfg;
	int r;

	log_info("SIGHUP: reloading %s", d->config_path);
	/* opened by the privileged helper when this process dropped its rights */
	r = priv_open_config(d);
	if (r >= 0) {
		struct config_errors errs = { 0 };

		r = config_parse_fd(d->config_path, r, &nc, &errs);
		for (size_t i = 0; i < errs.n; i++)
			log_warnx("%s", errs.msgs[i]);
		config_errors_clear(&errs);
	} else {
		log_warnx("reload: %s: cannot open: %s", d->config_path, strerror(-r));
	}
	if (r < 0) {
		log_warnx("reload: %s has errors, keeping the running configuration", d->config_path);
		return;
	}
	{
		/* [Node] is the daemon's own frame (socket, key, timers): compare it
		 * as printed, so every key counts and padding does not */
		char *a = NULL, *b = NULL;
		size_t al = 0, bl = 0;
		FILE *fa = open_memstream(&a, &al), *fb = open_memstream(&b, &bl);
		struct config oa = { .node = old->node }, ob = { .node = nc->node };

		if (fa && fb) {
			config_print(&oa, fa);
			config_print(&ob, fb);
		}
		if (fa)
			fclose(fa);
		if (fb)
			fclose(fb);
		if (a && b && strcmp(a, b))
			log_warnx("reload: [Node] changed; those changes take effect only at restart, ignoring them");
		free(a);
		free(b);
	}
	nc->node = old->node;
	d->cfg = nc;
	/* bridge ifindexes are re-learned by the reconcile this reload ends with */
	free(d->bridge_ifindex);
	d->bridge_ifindex = NULL;
	daemon_bridges_ensure(d);
	probeports_sync(d);

	/* Peers that are gone or changed go; unchanged ones stay untouched. */
	for (struct dpeer *p = d->peers, *next; p; p = next) {
		const struct peer_cfg *np = config_peer_by_name(nc, p->cfg.name);

		next = p->next;
		if (np && peer_cfg_equal(np, &p->cfg)) {
			/* TAPs may have to follow a bridge renamed under the segment;
			 * in a new bridge a port must prove itself loop-free again */
			for (size_t i = 0; i < p->n_taps; i++) {
				const struct bridge_cfg *b = config_bridge_by_segment(nc, p->cfg.segments[i]);

				if (b && strcmp(p->taps[i].bridge, b->name)) {
					snprintf(p->taps[i].bridge, IFNAMSIZ, "%s", b->name);
					guard_port_rebridged(d, &p->taps[i], now_ns());
				}
			}
			continue;
		}
		log_info("reload: peer %s %s", p->cfg.name, np ? "changed: restarting it" : "removed");
		dpeer_remove(d, p);
	}
	for (size_t i = 0; i < nc->n_peers; i++) {
		bool have = false;

		for (struct dpeer *p = d->peers; p; p = p->next)
			if (!strcmp(p->cfg.name, nc->peers[i].name))
				have = true;
		if (have)
			continue;
		r = dpeer_add(d, &nc->peers[i]);
		if (r < 0)
			log_warnx("reload: peer %s: %s", nc->peers[i].name, strerror(-r));
		else
			log_info("reload: peer %s added", nc->peers[i].name);
	}
	config_free(old);
	d->resync = true;
}

static void sig_cb(struct loop_source *s, uint32_t events)
{
	struct daemon *d = container_of(s, struct daemon, sig);
	struct signalfd_siginfo si;

	while (read(d->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			sandbox_test_hook();
			notify_reloading(d);
			reload(d);
			notify_reloaded(d);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: stopping", (int)si.ssi_signo);
			d->quit = true;
			break;
		case SIGCHLD:
			migsrv_reap(d);
			break;
		default:
			break;
		}
	}
}

/* One daemon per control socket (and so per configuration): a second one
 * would create duplicate TAP devices, a loop in the making. */
static int take_lock(struct daemon *d)
{
	char path[sizeof(d->cfg->node.control_socket) + 8];
	int fd;

	snprintf(path, sizeof(path), "%s.lock", d->cfg->node.control_socket);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EALREADY : -errno;

		close(fd);
		return r;
	}
	d->lock_fd = fd;
	return 0;
}

/* The tunnel engine's timers (handshake retries, keepalives, rekeys). */
static void tunnel_timer_cb(struct loop_timer *t, uint64_t now)
{
	struct daemon *d = container_of(t, struct daemon, tunnel_timer);

	d->now = now;
	while (tunnel_tick(d->tunnel, now, &d->q.batch) == -ENOBUFS)
		daemon_flush(d);
	daemon_flush(d);
}

static void tunnel_schedule(struct daemon *d)
{
	uint64_t next = tunnel_next_deadline_at(d->tunnel, now_ns());

	if (next == UINT64_MAX)
		loop_timer_disarm(d->loop, &d->tunnel_timer);
	else if (!loop_timer_armed(&d->tunnel_timer) || d->tunnel_timer.deadline_ns != next)
		loop_timer_arm(d->loop, &d->tunnel_timer, next);
}

/* SIGHUP, SIGTERM, SIGINT and SIGCHLD through a signalfd in the loop. Called
 * again after daemon(): an epoll set that registered the signalfd in the
 * parent is never woken for the child's signals (the wait queue is the
 * parent's), so a detached daemon ignored SIGTERM. */
static void signals_open(struct daemon *d)
{
	sigset_t mask;

	if (d->sig.fd >= 0) {
		loop_del(d->loop, &d->sig);
		close(d->sig.fd);
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig.fd < 0)
		fatal("signalfd");
	d->sig.cb = sig_cb;
	loop_add(d->loop, &d->sig, EPOLLIN);
}

static int setup(struct daemon *d)
{
	struct tunnel_callbacks cb;
	int r;

	d->private_key = sodium_malloc(KEY_LEN);
	if (!d->private_key)
		fatalx("out of memory");
	r = key_load_private_file(d->cfg->node.private_key_file, d->private_key);
	if (r < 0)
		fatalx("%s: PrivateKeyFile %s: %s%s", d->config_path, d->cfg->node.private_key_file,
		       strerror(-r), r == -EPERM ? " (it must not be readable by group or others)" : "");
	key_public_from_private(d->private_key, d->public_key);

	r = take_lock(d);
	if (r == -EALREADY)
		fatalx("another bridged already runs with control socket %s: refusing to start a second one",
		       d->cfg->node.control_socket);
	if (r < 0)
		fatalx("lock %s.lock: %s", d->cfg->node.control_socket, strerror(-r));

	if ((r = loop_new(&d->loop)) < 0)
		fatalx("epoll: %s", strerror(-r));
	if ((r = netcfg_new(&d->nc)) < 0)
		fatalx("netlink: %s", strerror(-r));
	d->nl.fd = netcfg_get_fd(d->nc);
	d->nl.cb = daemon_nl_cb;
	loop_add(d->loop, &d->nl, EPOLLIN);

	cb = daemon_tunnel_callbacks;
	cb.ctx = d;
	if ((r = tunnel_new(d->private_key, &cb, &d->tunnel)) < 0)
		fatalx("tunnel: %s", strerror(-r));
	workers_start(d);
	/* super-frames across: TAP offloads (per peer, tap_port_sync_offload),
	 * UDP GSO and GRO on the socket(s) (docs/PROTOCOL.md, Offloads) */
	d->uso_probe = -1;
	{
		struct tunnel_params pr;
		struct tunnel_queue *q0 = daemon_queue_at(d, 0);

		tunnel_get_params(d->tunnel, &pr);
		pr.offer_gso = !d->cfg->node.offload_off;
		pr.split_gso = pr.offer_gso && !d->cfg->node.superframes_whole;
		/* idle tunnels: one keepalive per IdleKeepalive, the loop
		 * guard's probes keep none awake (docs/PROTOCOL.md) */
		pr.idle_keepalive_ns = (uint64_t)d->cfg->node.idle_keepalive_ms * 1000000ull;
		pr.quiet_ethertype = PROBE_ETHERTYPE;
		tunnel_set_params(d->tunnel, &pr);
		log_info("offloads: %s (UDP_SEGMENT %s, UDP_GRO %s, super-frames sent as %s)",
			 d->cfg->node.offload_off ? "off" : "auto", q0->udp_gso ? "on" : "off",
			 q0->udp_gro ? "on" : "off", pr.split_gso ? "segments" : "whole");
	}
	loop_timer_init(&d->tunnel_timer, tunnel_timer_cb);

	daemon_bridges_ensure(d);
	if ((r = guard_init(d)) < 0)
		fatalx("loop guard: %s", strerror(-r));
	if ((r = metrics_open(d)) < 0)
		fatalx("metrics: %s", strerror(-r));
	if ((r = migsrv_open(d)) < 0)
		fatalx("MigrateListen: %s", strerror(-r));
	daemon_state_load(d);
	for (size_t i = 0; i < d->cfg->n_peers; i++) {
		r = dpeer_add(d, &d->cfg->peers[i]);
		if (r < 0)
			fatalx("peer %s: %s", d->cfg->peers[i].name, strerror(-r));
	}
	daemon_reconcile(d);

	if ((r = ctl_open(d)) < 0)
		fatalx("control socket %s: %s", d->cfg->node.control_socket, strerror(-r));

	signals_open(d);
	return 0;
}

static void teardown(struct daemon *d)
{
	loop_timer_disarm(d->loop, &d->state_timer);
	daemon_state_save(d, now_ns(), true);
	epstate_clear(&d->epstate);
	while (d->peers)
		dpeer_remove(d, d->peers);
	daemon_collect(d);
	workers_stop(d);
	loop_timer_disarm(d->loop, &d->tunnel_timer);
	migsrv_close(d);
	metrics_close(d);
	guard_free(d);
	ctl_close(d);
	tunnel_free(d->tunnel);
	netcfg_free(d->nc);
	loop_free(d->loop);
	if (d->sig.fd >= 0)
		close(d->sig.fd);
	sodium_free(d->private_key);
	config_free(d->cfg);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	priv_close();
}

int main(int argc, char **argv)
{
	struct daemon d = { .config_path = CONFIG_DEFAULT_PATH, .lock_fd = -1 };
	bool foreground = false, check = false;
	char *abs_path = NULL;
	int verbose = 0, c;

	d.udp.fd = d.sig.fd = d.nl.fd = d.ctl_srv.src.fd = d.metrics_srv.src.fd = -1;
	while ((c = getopt(argc, argv, "c:fnvh")) != -1) {
		switch (c) {
		case 'c': d.config_path = optarg; break;
		case 'f': foreground = true; break;
		case 'n': check = true; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("bridged", true, verbose);
	if (load_config(d.config_path, &d.cfg) < 0) {
		if (check)
			return 1;
		fatalx("%s: invalid configuration, not starting", d.config_path);
	}
	if (check) {
		config_print(d.cfg, stdout);
		config_free(d.cfg);
		return 0;
	}
	if (sodium_init() < 0)
		fatalx("libsodium: initialisation failed");
	/* daemon() moves to /: SIGHUP must find a relative -c FILE again */
	abs_path = realpath(d.config_path, NULL);
	if (abs_path)
		d.config_path = abs_path;
	/* the root helper is forked before the key is read (docs/SECURITY.md) */
	priv_start(&d);
	setup(&d);
	if (!foreground) {
		if (daemon(0, 0) < 0)
			fatal("daemon");
		log_init("bridged", false, verbose);
		signals_open(&d);
	}
	/* from here on network input is parsed: as [Node] User, CAP_NET_ADMIN */
	priv_drop(&d);
	/* the worker threads inherit the user, the capabilities and the
	 * seccomp filter (a filter without TSYNC covers only the threads
	 * created after it) */
	workers_launch(&d);
	d.started_ns = now_ns();
	log_info("started: %zu bridge(s), %zu peer(s)", d.cfg->n_bridges, d.cfg->n_peers);
	/* bridges, TAPs, the UDP and control sockets are all up by now */
	notify_ready(&d, !foreground);

	while (!d.quit) {
		int r = loop_run_once(d.loop);

		if (r < 0)
			fatalx("epoll: %s", strerror(-r));
		d.now = now_ns();
		if (d.resync) {
			d.resync = false;
			daemon_reconcile(&d);
		}
		daemon_collect(&d);
		/* whatever ran may have moved the tunnel engine's deadline */
		tunnel_schedule(&d);
		notify_status_update(&d);
	}
	notify_stopping(&d);
	teardown(&d);
	log_info("stopped");
	free(abs_path);
	return 0;
}
