/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loop guard layer 4, the MAC-move watch: bridge FDB notifications feed the
 * per-MAC history of loopguard.c (mac_table); one move is a `mac-move`
 * event (a migrated VM showing up on this host), a MAC flapping between
 * ports is a `mac-flap` loop alarm and probes the segment at once.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridged/daemon.h"
#include "common/log.h"
#include "netcfg/netcfg.h"

#define MS 1000000ull

/* Probes' own source MACs (loopguard.c) are not VMs: never tracked. */
static const uint8_t probe_src_prefix[3] = { 0x02, 0x62, 0x64 };

bool macwatch_is_probe_mac(const uint8_t mac[6])
{
	return !memcmp(mac, probe_src_prefix, sizeof(probe_src_prefix));
}

/* What the move history tracks: learned MACs, probes' excepted. */
static bool tracked(const struct netcfg_fdb_event *e)
{
	return !e->permanent && !macwatch_is_probe_mac(e->mac);
}

static const struct bridge_cfg *our_bridge(struct daemon *d, int ifindex)
{
	if (!d->bridge_ifindex)
		return NULL;
	for (size_t i = 0; i < d->cfg->n_bridges; i++)
		if (d->bridge_ifindex[i] == ifindex)
			return &d->cfg->bridges[i];
	return NULL;
}

void macwatch_fdb_cb(void *ctx, const struct netcfg_fdb_event *ev)
{
	struct daemon *d = ctx;
	const struct bridge_cfg *b;
	uint64_t now = now_ns();
	int old = 0, v;
	char mac[18], from[IFNAMSIZ + 16], to[IFNAMSIZ + 16];
	json_object *o;

	if (ev->deleted || !tracked(ev))
		return;
	b = our_bridge(d, ev->bridge_ifindex);
	if (!b)
		return;
	v = mac_table_learn(&d->macs, ev->mac, ev->port_ifindex, now, &old);
	if (v != MAC_MOVED && v != MAC_FLAPPING)
		return;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ev->mac[0], ev->mac[1],
		 ev->mac[2], ev->mac[3], ev->mac[4], ev->mac[5]);
	names_link(d, old, from);
	names_link(d, ev->port_ifindex, to);
	/* a port recreated under its name (a peer restarted by a reload gets
	 * a new TAP, a new ifindex): the MAC did not move */
	if (!strcmp(from, to))
		return;
	o = json_object_new_object();
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "bridge", json_object_new_string(b->name));
	json_object_object_add(o, "segment", json_object_new_string(b->segment));
	json_object_object_add(o, "from_port", json_object_new_string(from));
	json_object_object_add(o, "to_port", json_object_new_string(to));
	if (v == MAC_MOVED) {
		d->counters[CNT_MAC_MOVES]++;
		log_info("%s: MAC %s moved from %s to %s", b->name, mac, from, to);
		ctl_event(d, "mac-move", o);
		return;
	}
	d->counters[CNT_MAC_FLAPS]++;
	log_warnx("%s: LOOP ALARM: MAC %s flapping between %s and %s (%u moves within %u ms)",
		  b->name, mac, from, to, d->macs.flap_moves, d->cfg->node.mac_flap_window_ms);
	json_object_object_add(o, "moves", json_object_new_int((int)d->macs.flap_moves));
	json_object_object_add(o, "window_s", json_object_new_double(d->cfg->node.mac_flap_window_ms / 1e3));
	ctl_event(d, "mac-flap", o);
	/* probe the segment's tunnel ports now rather than at their next turn */
	for (struct dpeer *p = d->peers; p; p = p->next)
		for (size_t i = 0; i < p->n_taps; i++)
			if (!strcmp(p->taps[i].bridge, b->name))
				guard_port_probe_now(d, &p->taps[i], now);
}

/* Adds the learned MACs the move history does not know yet (after lost
 * notifications); known ones wait for their next notification, so no move
 * is invented or swallowed. */
void macwatch_resync(struct daemon *d)
{
	uint64_t now = now_ns();

	if (!d->bridge_ifindex)
		return;
	for (size_t i = 0; i < d->cfg->n_bridges; i++) {
		struct netcfg_fdb_event *fdb = NULL;
		size_t n = 0;

		if (!d->bridge_ifindex[i] || netcfg_dump_fdb(d->nc, d->bridge_ifindex[i], &fdb, &n) < 0)
			continue;
		for (size_t k = 0; k < n; k++)
			if (tracked(&fdb[k]))
				mac_table_seed(&d->macs, fdb[k].mac, fdb[k].port_ifindex, now);
		free(fdb);
	}
}

/* Seeds the history with what a bridge has learned already (start). */
void macwatch_seed(struct daemon *d, int bridge_ifindex)
{
	struct netcfg_fdb_event *fdb = NULL;
	size_t n = 0;

	if (netcfg_dump_fdb(d->nc, bridge_ifindex, &fdb, &n) < 0)
		return;
	for (size_t k = 0; k < n; k++)
		if (tracked(&fdb[k]))
			mac_table_seed(&d->macs, fdb[k].mac, fdb[k].port_ifindex, now_ns());
	free(fdb);
}

void macwatch_init(struct daemon *d)
{
	d->macs.flap_moves = d->cfg->node.mac_flap_moves;
	d->macs.flap_window_ns = (uint64_t)d->cfg->node.mac_flap_window_ms * MS;
	d->macs.forget_ns = 3600ull * 1000 * MS;
	netcfg_set_fdb_callback(d->nc, macwatch_fdb_cb, d);
}

void macwatch_free(struct daemon *d)
{
	mac_table_free(&d->macs);
}
