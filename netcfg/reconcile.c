/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netcfg/reconcile.c: the pure (desired, observed) -> actions function of
 * reconcile.h, and the string tables of its enums and of enum port_state.
 * No netlink and no I/O: tests/unit/test_reconcile.c drives it with
 * hand-made link snapshots.
 *
 * Rules, in output order:
 *   every desired bridge, in configuration order:
 *     no link of that name           -> CREATE_BRIDGE
 *     a link of another kind         -> CONFLICT (nothing else for it)
 *     a bridge that is down          -> BRIDGE_UP
 *   then every desired port, in the given order:
 *     no link of that name           -> PORT_MISSING (its owner recreates it)
 *     master is not its bridge       -> ENSLAVE (also when the bridge is
 *                                       missing: it is created first); not
 *                                       when the bridge's name is in CONFLICT,
 *                                       enslaving into a bond or team of that
 *                                       name would be worse than waiting
 *     down                           -> PORT_UP (after its ENSLAVE)
 *     blocked, and forwarding or learning, or just enslaved
 *                                    -> PORT_BLOCK (last: the kernel refuses
 *                                       a state on a port that is down or
 *                                       not enslaved). With STP off the
 *                                       kernel forwards on a port again by
 *                                       itself after a carrier or up/down
 *                                       change: this puts the block back.
 */
#include "netcfg/reconcile.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const reconcile_op_table[_RECONCILE_OP_MAX] = {
	[RECONCILE_CREATE_BRIDGE] = "create-bridge",
	[RECONCILE_BRIDGE_UP]     = "bridge-up",
	[RECONCILE_ENSLAVE]       = "enslave",
	[RECONCILE_PORT_UP]       = "port-up",
	[RECONCILE_CONFLICT]      = "conflict",
	[RECONCILE_PORT_MISSING]  = "port-missing",
	[RECONCILE_PORT_BLOCK]    = "port-block",
};

const char *reconcile_op_to_string(enum reconcile_op op)
{
	if ((unsigned)op >= _RECONCILE_OP_MAX)
		return NULL;
	return reconcile_op_table[op];
}

static const char *const port_state_table[_PORT_STATE_MAX] = {
	[PORT_STATE_DISABLED]   = "disabled",
	[PORT_STATE_LISTENING]  = "listening",
	[PORT_STATE_LEARNING]   = "learning",
	[PORT_STATE_FORWARDING] = "forwarding",
	[PORT_STATE_BLOCKING]   = "blocking",
};

const char *port_state_to_string(enum port_state s)
{
	if ((unsigned)s >= _PORT_STATE_MAX)
		return NULL;
	return port_state_table[s];
}

static const struct netcfg_link *find_link(const struct netcfg_link *v, size_t n,
					   const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strncmp(v[i].name, name, IFNAMSIZ) == 0)
			return &v[i];
	return NULL;
}

static size_t find_bridge_cfg(const struct reconcile_desired *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_bridges; i++)
		if (strncmp(d->bridges[i].name, name, IFNAMSIZ) == 0)
			return i;
	return RECONCILE_NO_BRIDGE;
}

struct action_list {
	struct reconcile_action *v;
	size_t n;
};

static void add(struct action_list *l, enum reconcile_op op, const char *name,
		const char *bridge, size_t bridge_index)
{
	struct reconcile_action *a = &l->v[l->n++];

	memset(a, 0, sizeof(*a));
	a->op = op;
	a->bridge_index = bridge_index;
	/* Names come from fixed IFNAMSIZ arrays that may lack a NUL. */
	memcpy(a->name, name, strnlen(name, IFNAMSIZ - 1));
	if (bridge)
		memcpy(a->bridge, bridge, strnlen(bridge, IFNAMSIZ - 1));
}

int reconcile(const struct reconcile_desired *desired,
	      const struct netcfg_link *observed, size_t n_observed,
	      struct reconcile_action **ret, size_t *ret_n)
{
	struct action_list l = { 0 };
	size_t i, max;

	/* At most 3 actions per bridge or port; +1 so that calloc(0) never
	 * happens. */
	if (desired->n_bridges > SIZE_MAX / 8 / sizeof(*l.v) ||
	    desired->n_ports > SIZE_MAX / 8 / sizeof(*l.v))
		return -ENOMEM;
	max = 3 * (desired->n_bridges + desired->n_ports) + 1;
	l.v = calloc(max, sizeof(*l.v));
	if (!l.v)
		return -ENOMEM;

	for (i = 0; i < desired->n_bridges; i++) {
		const struct bridge_cfg *b = &desired->bridges[i];
		const struct netcfg_link *o = find_link(observed, n_observed, b->name);

		if (!o)
			add(&l, RECONCILE_CREATE_BRIDGE, b->name, NULL, i);
		else if (strcmp(o->kind, "bridge") != 0)
			add(&l, RECONCILE_CONFLICT, b->name, NULL, i);
		else if (!(o->flags & IFF_UP))
			add(&l, RECONCILE_BRIDGE_UP, b->name, NULL, i);
	}

	for (i = 0; i < desired->n_ports; i++) {
		const struct reconcile_port *p = &desired->ports[i];
		const struct netcfg_link *o = find_link(observed, n_observed, p->name);
		const struct netcfg_link *br = find_link(observed, n_observed, p->bridge);
		size_t bi = find_bridge_cfg(desired, p->bridge);
		bool conflict = br && strcmp(br->kind, "bridge") != 0;
		bool enslave;

		if (!o) {
			add(&l, RECONCILE_PORT_MISSING, p->name, p->bridge, bi);
			continue;
		}
		/* A missing bridge has no ifindex yet: any master is wrong. A
		 * name in CONFLICT is no bridge to enslave into. */
		enslave = !br || (!conflict && o->master != br->ifindex);

		if (enslave)
			add(&l, RECONCILE_ENSLAVE, p->name, p->bridge, bi);
		if (!(o->flags & IFF_UP))
			add(&l, RECONCILE_PORT_UP, p->name, p->bridge, bi);
		if (p->blocked && !conflict && (enslave || o->port_state == PORT_STATE_FORWARDING ||
				   o->port_state == PORT_STATE_LEARNING))
			add(&l, RECONCILE_PORT_BLOCK, p->name, p->bridge, bi);
	}

	*ret = l.v;
	*ret_n = l.n;
	return 0;
}
