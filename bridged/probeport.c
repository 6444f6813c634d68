/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Probe ports: one TAP per bridge ("<bridge>.probe"), through which a
 * probe that arrives on a tunnel port that does not forward is flooded
 * into the bridge, so that a loop the port would close still shows
 * (docs/LOOPGUARD.md, layer 3). The bridge floods into it in turn: a
 * kernel filter lets only probes through, and one of ours that comes back
 * here went round a loop.
 */
#include <errno.h>
#include <stdbool.h>
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

struct probe_port *probeport_for_bridge(struct daemon *d, const char *bridge)
{
	for (size_t i = 0; i < d->n_probes; i++)
		if (!strcmp(d->probes[i]->bridge, bridge))
			return d->probes[i];
	return NULL;
}

static void probe_port_cb(struct loop_source *s, uint32_t events)
{
	struct probe_port *pp = container_of(s, struct probe_port, src);
	uint8_t buf[2048];

	/* The bridge floods into this port: everything is drained, and a
	 * probe of ours (or one we carried) arriving here came back into our
	 * own bridge: a loop, whichever way it went. */
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* the device was deleted under us: reconcile recreates it */
		log_warnx("%s: probe port gone, recreating it", pp->name);
		loop_del(pp->d->loop, s);
		close(s->fd);
		s->fd = -1;
		pp->d->resync = true;
		return;
	}
	for (int i = 0; i < 64; i++) {
		ssize_t r = read(s->fd, buf, sizeof(buf));
		struct probe pr;
		struct daemon *d = pp->d;

		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				log_warnx("%s: probe port: %s, recreating it", pp->name, strerror(errno));
				loop_del(d->loop, s);
				close(s->fd);
				s->fd = -1;
				d->resync = true;
			}
			break;
		}
		if (!probe_is(buf, (size_t)r) || probe_parse(buf, (size_t)r, &pr) < 0)
			continue;
		guard_probe_returned(d, &pr, NULL, "came back into our bridge", now_ns());
	}
	daemon_flush(pp->d);
}

/* Opens (again) a probe port and puts it into its bridge. */
int probeport_open(struct daemon *d, struct probe_port *pp)
{
	struct netcfg_link bl, pl;
	int fd = tap_open(pp->name, pp->name);

	if (fd < 0) {
		log_warnx("%s: cannot create the probe port of %s: %s; loops closed by a blocked "
			  "port of this bridge may go unseen", pp->name, pp->bridge, strerror(-fd));
		return fd;
	}
	pp->src.fd = fd;
	pp->src.cb = probe_port_cb;
	/* only probes are of interest here: the kernel drops the rest of what
	 * the bridge floods into this port before it reaches us */
	if (tap_filter_frames(fd, PROBE_ETHERTYPE, probe_dst_mac) < 0)
		log_debug("%s: no frame filter, reading all flooded frames", pp->name);
	loop_add(d->loop, &pp->src, EPOLLIN);
	if (netcfg_get_link(d->nc, pp->bridge, &bl) >= 0 && netcfg_get_link(d->nc, pp->name, &pl) >= 0) {
		netcfg_enslave(d->nc, pl.ifindex, bl.ifindex);
		netcfg_set_up(d->nc, pl.ifindex, true);
	}
	return fd;
}

struct probe_port *probeport_by_name(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_probes; i++)
		if (!strcmp(d->probes[i]->name, name))
			return d->probes[i];
	return NULL;
}

/* Closes the probe ports of bridges no longer configured (after a reload):
 * the TAP goes with its descriptor; the struct is freed after the current
 * loop round (an event of it may still be in the batch). */
static void probeports_prune(struct daemon *d)
{
	size_t k = 0;

	for (size_t i = 0; i < d->n_probes; i++) {
		struct probe_port *pp = d->probes[i];
		bool configured = false;

		for (size_t b = 0; b < d->cfg->n_bridges; b++)
			if (!strcmp(d->cfg->bridges[b].name, pp->bridge))
				configured = true;
		if (configured) {
			d->probes[k++] = pp;
			continue;
		}
		if (pp->src.fd >= 0) {
			loop_del(d->loop, &pp->src);
			close(pp->src.fd);
			pp->src.fd = -1;
		}
		log_info("%s: bridge %s no longer configured: probe port closed", pp->name, pp->bridge);
		pp->next = d->probe_graveyard;
		d->probe_graveyard = pp;
	}
	d->n_probes = k;
}

void probeports_collect(struct daemon *d)
{
	while (d->probe_graveyard) {
		struct probe_port *pp = d->probe_graveyard;

		d->probe_graveyard = pp->next;
		free(pp);
	}
}

/* One probe port per configured bridge: creates those missing (at start
 * and after a reload that added bridges), closes those of bridges no
 * longer configured. */
int probeports_sync(struct daemon *d)
{
	probeports_prune(d);
	for (size_t i = 0; i < d->cfg->n_bridges; i++) {
		const struct bridge_cfg *b = &d->cfg->bridges[i];
		struct netcfg_link bl, pl;
		struct probe_port *pp, **np;
		int fd;

		if (probeport_for_bridge(d, b->name))
			continue;
		np = realloc(d->probes, (d->n_probes + 1) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		d->probes = np;
		pp = calloc(1, sizeof(*pp));
		if (!pp)
			return -ENOMEM;
		d->probes[d->n_probes++] = pp;
		/* "<bridge>.probe" when it fits, else a name from a hash of the
		 * bridge's: truncating would give two bridges one name */
		if (strlen(b->name) <= IFNAMSIZ - 1 - 6)
			snprintf(pp->name, sizeof(pp->name), "%s.probe", b->name);
		else
			snprintf(pp->name, sizeof(pp->name), "bdp.%08x", tunnel_segment_id(b->name));
		snprintf(pp->bridge, sizeof(pp->bridge), "%s", b->name);
		pp->seg_id = tunnel_segment_id(b->segment);
		pp->src.fd = -1;
		pp->d = d;
		fd = probeport_open(d, pp);
		if (fd < 0)
			continue;
		if (netcfg_get_link(d->nc, b->name, &bl) >= 0 && netcfg_get_link(d->nc, pp->name, &pl) >= 0)
			macwatch_seed(d, bl.ifindex);
	}
	return 0;
}

void probeports_free(struct daemon *d)
{
	for (size_t i = 0; i < d->n_probes; i++) {
		if (d->probes[i]->src.fd >= 0) {
			loop_del(d->loop, &d->probes[i]->src);
			close(d->probes[i]->src.fd);
		}
		free(d->probes[i]);
	}
	free(d->probes);
	d->probes = NULL;
	d->n_probes = 0;
	probeports_collect(d);
}
