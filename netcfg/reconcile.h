/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reconcile: a pure function from (desired, observed) to the list of actions
 * that bring the kernel to the desired state. No netlink here, so it is
 * unit-tested without a kernel (tests/unit/test_reconcile.c).
 */
#ifndef BRIDGED_NETCFG_RECONCILE_H
#define BRIDGED_NETCFG_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>

#include "netcfg/config.h"
#include "netcfg/netcfg.h"

enum reconcile_op {
	RECONCILE_CREATE_BRIDGE,   /* bridge missing: create (netcfg_bridge_ensure) */
	RECONCILE_BRIDGE_UP,       /* bridge present but down */
	RECONCILE_ENSLAVE,         /* port not in its bridge (or in another one) */
	RECONCILE_PORT_UP,         /* port present but down */
	RECONCILE_CONFLICT,        /* name taken by a link of another kind: report */
	RECONCILE_PORT_MISSING,    /* a port we own is gone: its owner recreates it */
	RECONCILE_PORT_BLOCK,      /* port wanted blocked forwards or learns:
				    * netcfg_port_set_state(PORT_STATE_BLOCKING) */
	_RECONCILE_OP_MAX,
};
const char *reconcile_op_to_string(enum reconcile_op op);

/* A port bridged owns (a tunnel TAP) and the bridge it belongs in. */
struct reconcile_port {
	char name[IFNAMSIZ];
	char bridge[IFNAMSIZ];
	bool blocked;              /* the loop guard holds it blocked */
};

struct reconcile_desired {
	const struct bridge_cfg *bridges;
	size_t n_bridges;
	const struct reconcile_port *ports;
	size_t n_ports;
};

/* bridge_index of a port whose bridge is not in desired->bridges. */
#define RECONCILE_NO_BRIDGE SIZE_MAX

struct reconcile_action {
	enum reconcile_op op;
	char name[IFNAMSIZ];       /* the bridge or the port acted on */
	char bridge[IFNAMSIZ];     /* for ENSLAVE/PORT_*: its bridge */
	size_t bridge_index;       /* index into desired->bridges, when relevant */
};

/*
 * Rules (details in reconcile.c): each desired bridge: missing ->
 * CREATE_BRIDGE, another kind -> CONFLICT, down -> BRIDGE_UP; then each
 * desired port: missing -> PORT_MISSING, not in its bridge -> ENSLAVE (none
 * while its bridge's name is in CONFLICT), down -> PORT_UP, blocked but
 * forwarding or learning (or just enslaved) -> PORT_BLOCK.
 * Computes the actions, ordered so that bridges come before the ports that
 * go into them. *ret is malloc'd (free() it), *ret_n its length; 0 actions
 * means in sync. Returns 0 or -ENOMEM.
 */
int reconcile(const struct reconcile_desired *desired,
	      const struct netcfg_link *observed, size_t n_observed,
	      struct reconcile_action **ret, size_t *ret_n);

#endif
