/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket's `fdb` request: where each MAC is. The live FDB of
 * every configured segment bridge, each learned entry named by its port:
 * one of the peers' TAPs (kind "tunnel", with the peer) or any other port
 * (kind "local": a VM's interface, an uplink). For `bridgectl fdb` and the
 * cutover's two checks: a VM's MAC is not live on a local port here before
 * the VM starts here, and has been learned on its local port after.
 *
 * Read-only and bounded: one link dump, one FDB dump per bridge, at most
 * FDBQ_MAX_ENTRIES entries in the answer ("truncated" says when more were
 * left out; a query for some MACs is never cut short by others).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridged/ctlreq.h"
#include "bridged/daemon.h"
#include "common/log.h"
#include "netcfg/netcfg.h"

#define FDBQ_MAX_ENTRIES 4096

struct fdbq {
	const struct bridge_cfg *only;  /* segment ... : this bridge, NULL: all */
	uint8_t macs[CTL_FDB_MAX_MACS][6];
	bool found[CTL_FDB_MAX_MACS];
	size_t n_macs;                  /* 0: every MAC */
	size_t n_entries;
	bool truncated;
	/* the links, sorted by ifindex, and the TAP each one is (or NULL) */
	struct netcfg_link *links;
	const struct tap_port **taps;
	size_t n_links;
};

/* The parsed request's segment (ctlreq.c checked its syntax): on this host? */
static int fdbq_from_request(struct daemon *d, const struct ctl_request *r, struct fdbq *q,
			     char *err, size_t errlen)
{
	if (r->segment[0]) {
		q->only = config_bridge_by_segment(d->cfg, r->segment);
		if (!q->only) {
			snprintf(err, errlen, "fdb: no segment '%s' on this host", r->segment);
			return -1;
		}
	}
	memcpy(q->macs, r->macs, sizeof(q->macs));
	q->n_macs = r->n_macs;
	return 0;
}

static int cmp_link(const void *a, const void *b)
{
	const struct netcfg_link *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct netcfg_fdb_event *x = a, *y = b;
	int c = memcmp(x->mac, y->mac, sizeof(x->mac));

	return c ? c : (x->vlan > y->vlan) - (x->vlan < y->vlan);
}

static const struct tap_port *tap_by_name(struct daemon *d, const char *name)
{
	for (struct dpeer *p = d->peers; p; p = p->next)
		for (size_t i = 0; i < p->n_taps; i++)
			if (!strcmp(p->taps[i].name, name))
				return &p->taps[i];
	return NULL;
}

/* One link dump: ports by ifindex, and which of them are our TAPs. */
static int fdbq_links(struct daemon *d, struct fdbq *q)
{
	int r = netcfg_dump_links(d->nc, &q->links, &q->n_links);

	if (r < 0)
		return r;
	qsort(q->links, q->n_links, sizeof(*q->links), cmp_link);
	q->taps = calloc(q->n_links ? q->n_links : 1, sizeof(*q->taps));
	if (!q->taps)
		return -ENOMEM;
	for (size_t i = 0; i < q->n_links; i++)
		if (q->links[i].master)
			q->taps[i] = tap_by_name(d, q->links[i].name);
	return 0;
}

static const struct netcfg_link *fdbq_link(const struct fdbq *q, int ifindex, size_t *ret_i)
{
	struct netcfg_link key = { .ifindex = ifindex };
	const struct netcfg_link *l = bsearch(&key, q->links, q->n_links, sizeof(*q->links), cmp_link);

	if (l && ret_i)
		*ret_i = (size_t)(l - q->links);
	return l;
}

/* Whether the entry is asked for: a learned VM's MAC among the wanted. */
static bool fdbq_wanted(struct fdbq *q, const struct netcfg_fdb_event *e)
{
	bool any = !q->n_macs;

	if (e->permanent || macwatch_is_probe_mac(e->mac))
		return false;
	for (size_t k = 0; k < q->n_macs; k++)
		if (!memcmp(q->macs[k], e->mac, 6))
			any = q->found[k] = true;
	return any;
}

static json_object *entry_json(struct daemon *d, struct fdbq *q, const struct bridge_cfg *b,
			       const struct netcfg_fdb_event *e)
{
	json_object *o = json_object_new_object();
	const struct netcfg_link *l;
	const struct tap_port *t = NULL;
	char mac[NETCFG_MAC_STRLEN], port[IFNAMSIZ + 16];
	size_t i;

	l = fdbq_link(q, e->port_ifindex, &i);
	if (l) {
		snprintf(port, sizeof(port), "%s", l->name);
		t = q->taps[i];
		/* a TAP of ours moved to another bridge by hand is no tunnel here */
		if (t && strcmp(t->bridge, b->name))
			t = NULL;
	} else {
		names_link(d, e->port_ifindex, port);
	}
	json_object_object_add(o, "mac", json_object_new_string(netcfg_mac_format(e->mac, mac)));
	json_object_object_add(o, "segment", json_object_new_string(b->segment));
	json_object_object_add(o, "bridge", json_object_new_string(b->name));
	json_object_object_add(o, "port", json_object_new_string(port));
	json_object_object_add(o, "kind", json_object_new_string(t ? "tunnel" : "local"));
	json_object_object_add(o, "peer", t ? json_object_new_string(t->peer->cfg.name) : NULL);
	json_object_object_add(o, "vlan", e->vlan ? json_object_new_int(e->vlan) : NULL);
	json_object_object_add(o, "age_ms", e->age_ms >= 0 ? json_object_new_int64(e->age_ms) : NULL);
	return o;
}

/* The entries of one bridge, if it is there, onto the array. */
static void fdbq_bridge(struct daemon *d, struct fdbq *q, const struct bridge_cfg *b,
			json_object *entries)
{
	struct netcfg_fdb_event *fdb = NULL;
	int br = 0, r;
	size_t n = 0;

	for (size_t i = 0; i < q->n_links && !br; i++)
		if (!strcmp(q->links[i].name, b->name) && !strcmp(q->links[i].kind, "bridge"))
			br = q->links[i].ifindex;
	if (!br)
		return;
	r = netcfg_dump_fdb(d->nc, br, &fdb, &n);
	if (r < 0) {
		log_debug("fdb: %s: cannot read the FDB: %s", b->name, strerror(-r));
		return;
	}
	qsort(fdb, n, sizeof(*fdb), cmp_entry);
	for (size_t k = 0; k < n; k++) {
		if (!fdbq_wanted(q, &fdb[k]))
			continue;
		if (q->n_entries == FDBQ_MAX_ENTRIES) {
			q->truncated = true;
			continue;
		}
		json_object_array_add(entries, entry_json(d, q, b, &fdb[k]));
		q->n_entries++;
	}
	free(fdb);
}

static json_object *error_json(const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

json_object *fdbquery_json(struct daemon *d, const struct ctl_request *req)
{
	struct fdbq q = { 0 };
	json_object *o, *entries;
	char err[160];
	int r;

	if (fdbq_from_request(d, req, &q, err, sizeof(err)) < 0)
		return error_json(err);
	r = fdbq_links(d, &q);
	if (r < 0) {
		free(q.links);
		free(q.taps);
		snprintf(err, sizeof(err), "fdb: cannot list the links: %s", strerror(-r));
		return error_json(err);
	}
	entries = json_object_new_array();
	for (size_t i = 0; i < d->cfg->n_bridges; i++)
		if (!q.only || q.only == &d->cfg->bridges[i])
			fdbq_bridge(d, &q, &d->cfg->bridges[i], entries);
	free(q.links);
	free(q.taps);
	o = json_object_new_object();
	json_object_object_add(o, "entries", entries);
	json_object_object_add(o, "truncated", json_object_new_boolean(q.truncated));
	if (q.n_macs) {
		json_object *missing = json_object_new_array();
		char mac[NETCFG_MAC_STRLEN];

		for (size_t k = 0; k < q.n_macs; k++)
			if (!q.found[k])
				json_object_array_add(missing, json_object_new_string(
					netcfg_mac_format(q.macs[k], mac)));
		json_object_object_add(o, "missing", missing);
	}
	return o;
}
