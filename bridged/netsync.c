/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keeps the kernel's bridges and tunnel ports as configured: at start, and
 * whenever netlink reports a change (a bridge deleted, a port pulled out of
 * its bridge). The decision is reconcile() (pure, unit-tested); this file
 * applies its actions and says what it did.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridged/daemon.h"
#include "common/log.h"
#include "netcfg/netcfg.h"
#include "netcfg/reconcile.h"

int daemon_bridges_ensure(struct daemon *d)
{
	int ret = 0;

	for (size_t i = 0; i < d->cfg->n_bridges; i++) {
		const struct bridge_cfg *b = &d->cfg->bridges[i];
		struct netcfg_bridge_report rep;
		int r = netcfg_bridge_ensure(d->nc, b, &rep);

		if (r < 0) {
			log_warnx("bridge %s: %s: %s", b->name, rep.failed, strerror(-r));
			ret = r;
		} else if (rep.created) {
			log_info("%s: bridge created", b->name);
		}
	}
	return ret;
}

static struct tap_port *find_tap(struct daemon *d, const char *name)
{
	for (struct dpeer *p = d->peers; p; p = p->next)
		for (size_t i = 0; i < p->n_taps; i++)
			if (!strcmp(p->taps[i].name, name))
				return &p->taps[i];
	return NULL;
}


static int apply(struct daemon *d, const struct reconcile_action *a)
{
	struct netcfg_link l, br;
	struct tap_port *t;
	int r;

	switch (a->op) {
	case RECONCILE_CREATE_BRIDGE: {
		struct netcfg_bridge_report rep;

		r = netcfg_bridge_ensure(d->nc, &d->cfg->bridges[a->bridge_index], &rep);
		if (r >= 0)
			log_info("bridge %s was missing: created it", a->name);
		else
			log_debug("bridge %s: %s", a->name, rep.failed);
		return r;
	}
	case RECONCILE_BRIDGE_UP:
	case RECONCILE_PORT_UP:
		r = netcfg_get_link(d->nc, a->name, &l);
		if (r >= 0)
			r = netcfg_set_up(d->nc, l.ifindex, true);
		if (r >= 0)
			log_info("%s was down: brought it up", a->name);
		return r;
	case RECONCILE_ENSLAVE:
		r = netcfg_get_link(d->nc, a->name, &l);
		if (r >= 0)
			r = netcfg_get_link(d->nc, a->bridge, &br);
		if (r >= 0)
			r = netcfg_enslave(d->nc, l.ifindex, br.ifindex);
		if (r >= 0)
			log_info("%s was not in bridge %s: enslaved it again", a->name, a->bridge);
		return r;
	case RECONCILE_PORT_MISSING: {
		struct probe_port *pp = probeport_by_name(d, a->name);

		if (pp) {
			if (pp->src.fd >= 0) {
				loop_del(d->loop, &pp->src);
				close(pp->src.fd);
				pp->src.fd = -1;
			}
			r = probeport_open(d, pp);
			if (r >= 0)
				log_info("probe port %s was deleted: recreated it in %s", a->name, pp->bridge);
			return r < 0 ? r : 0;
		}
	}
		t = find_tap(d, a->name);
		if (!t)
			return 0;
		if (t->peer->refused[0])
			return 0;
		r = tap_port_reopen(t);
		if (r >= 0) {
			r = netcfg_get_link(d->nc, a->name, &l);
			if (r >= 0)
				r = netcfg_get_link(d->nc, t->bridge, &br);
			if (r >= 0)
				r = netcfg_enslave(d->nc, l.ifindex, br.ifindex);
			if (r >= 0)
				r = netcfg_set_up(d->nc, l.ifindex, true);
		}
		if (r >= 0)
			log_info("tunnel port %s was deleted: recreated it in %s", a->name, t->bridge);
		return r;
	case RECONCILE_PORT_BLOCK:
		/* the kernel re-enabled a port the loop guard holds blocked
		 * (it does so on every carrier change) */
		r = netcfg_get_link(d->nc, a->name, &l);
		if (r >= 0)
			r = netcfg_port_set_state(d->nc, l.ifindex, PORT_STATE_BLOCKING);
		if (r == -ENETDOWN)
			r = 0;
		return r;
	case RECONCILE_CONFLICT:
		log_warnx("%s exists but is not a bridge: cannot use it, ignoring", a->name);
		return 0;
	default:
		return -EINVAL;
	}
}

/* Caches the bridges' ifindexes (FDB events name the bridge by ifindex). */
static void note_bridges(struct daemon *d, const struct netcfg_link *links, size_t n)
{
	int *idx = realloc(d->bridge_ifindex, (d->cfg->n_bridges ? d->cfg->n_bridges : 1) * sizeof(int));

	if (!idx)
		return;
	d->bridge_ifindex = idx;
	for (size_t i = 0; i < d->cfg->n_bridges; i++) {
		idx[i] = 0;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(links[k].name, d->cfg->bridges[i].name))
				idx[i] = links[k].ifindex;
	}
}

int daemon_reconcile(struct daemon *d)
{
	struct reconcile_port *ports = NULL;
	struct reconcile_desired want = {
		.bridges = d->cfg->bridges, .n_bridges = d->cfg->n_bridges,
	};
	struct reconcile_action *acts = NULL;
	struct netcfg_link *links = NULL;
	size_t n_links = 0, n_acts = 0, n_ports = 0, k = 0;
	int r;

	for (struct dpeer *p = d->peers; p; p = p->next)
		n_ports += p->n_taps;
	n_ports += d->n_probes;
	ports = calloc(n_ports ? n_ports : 1, sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	for (struct dpeer *p = d->peers; p; p = p->next)
		for (size_t i = 0; i < p->n_taps; i++, k++) {
			memcpy(ports[k].name, p->taps[i].name, IFNAMSIZ);
			memcpy(ports[k].bridge, p->taps[i].bridge, IFNAMSIZ);
			ports[k].blocked = guard_port_blocked(&p->taps[i]);
		}
	for (size_t i = 0; i < d->n_probes; i++) {
		memcpy(ports[k].name, d->probes[i]->name, IFNAMSIZ);
		memcpy(ports[k].bridge, d->probes[i]->bridge, IFNAMSIZ);
		k++;
	}
	n_ports = k;
	want.ports = ports;
	want.n_ports = n_ports;

	r = netcfg_dump_links(d->nc, &links, &n_links);
	if (r < 0)
		goto out;
	names_note_links(d, links, n_links);
	note_bridges(d, links, n_links);
	/* notifications may have been lost (ENOBUFS looks like a change):
	 * re-read the learned MACs so the move history stays true */
	macwatch_resync(d);
	r = reconcile(&want, links, n_links, &acts, &n_acts);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n_acts; i++) {
		int q = apply(d, &acts[i]);

		if (q < 0)
			log_warnx("reconcile: %s %s: %s", reconcile_op_to_string(acts[i].op),
				  acts[i].name, strerror(-q));
	}
	r = (int)n_acts;
out:
	free(acts);
	free(links);
	free(ports);
	return r;
}

void daemon_nl_cb(struct loop_source *s, uint32_t events)
{
	struct daemon *d = container_of(s, struct daemon, nl);
	bool changed = false;
	int r;

	r = netcfg_process(d->nc, &changed);
	if (r < 0)
		log_debug("netlink: %s", strerror(-r));
	if (changed) {
		d->resync = true;
		guard_links_changed(d, now_ns());
		peers_path_mtu_changed(d);
	}
}
