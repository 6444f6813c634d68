/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netcfg: bridges and ports through rtnetlink (libnl-3 / libnl-route-3).
 * This directory is the only place that includes <netlink/...>; the rest of
 * bridged sees plain structs. Every operation is idempotent ("already
 * exists", "already enslaved" are success) and verified after the write.
 * Functions return 0 (or a count) on success and -errno on failure.
 */
#ifndef BRIDGED_NETCFG_NETCFG_H
#define BRIDGED_NETCFG_NETCFG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcfg/config.h"

struct netcfg;

/* Bridge port STP states, as the kernel's BR_STATE_* values. */
enum port_state {
	PORT_STATE_DISABLED = 0,
	PORT_STATE_LISTENING = 1,
	PORT_STATE_LEARNING = 2,
	PORT_STATE_FORWARDING = 3,
	PORT_STATE_BLOCKING = 4,
	_PORT_STATE_MAX,
};
const char *port_state_to_string(enum port_state s);

/* A snapshot of one link, as the rest of bridged needs it. */
struct netcfg_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[16];          /* "bridge", "tun", "veth", "" ... */
	int master;             /* ifindex of the bridge, 0 if none */
	unsigned flags;         /* IFF_UP, IFF_LOWER_UP ... */
	unsigned mtu;
	uint8_t mac[6];
	int port_state;         /* enum port_state when enslaved, else -1 */
};

/* Opens the netlink sockets: one for requests, one subscribed to link (and,
 * later, neighbour) notifications with an enlarged receive buffer. */
int netcfg_new(struct netcfg **ret);
void netcfg_free(struct netcfg *nc);

/* The notification socket's fd, for epoll (EPOLLIN). */
int netcfg_get_fd(const struct netcfg *nc);
/* Drains pending notifications without blocking. Sets *ret_changed when a
 * link appeared, vanished or changed master/flags since the last call, or
 * when notifications were lost (ENOBUFS): the caller then re-reads all links
 * and reconciles. */
int netcfg_process(struct netcfg *nc, bool *ret_changed);

/* A fresh dump of all links. *ret is malloc'd; free() it. */
int netcfg_dump_links(struct netcfg *nc, struct netcfg_link **ret, size_t *ret_n);
/* One link by name; -ENODEV if absent. */
int netcfg_get_link(struct netcfg *nc, const char *name, struct netcfg_link *ret);
/* One link by ifindex; -ENODEV if absent. */
int netcfg_get_link_by_index(struct netcfg *nc, int ifindex,
			     struct netcfg_link *ret);

/* Creates the bridge if missing, or adopts it (its ports are left alone);
 * sets STP and forward delay as configured, MTU and address if given, and
 * brings it up. *ret_ifindex (may be NULL) gets its ifindex. Options already
 * as configured are not written again (no spurious RTM_NEWLINK).
 * -EEXIST: the name belongs to a link of another kind (not a bridge); it is
 * left alone. -ERANGE: a forward delay outside 2..30 s while STP is on. */
int netcfg_bridge_ensure(struct netcfg *nc, const struct bridge_cfg *b,
			 int *ret_ifindex);
/* Enslaves port to bridge (no-op if already there), then verifies. */
int netcfg_enslave(struct netcfg *nc, int port_ifindex, int bridge_ifindex);
/* Removes port from its bridge (no-op if not enslaved). */
int netcfg_release(struct netcfg *nc, int port_ifindex);
int netcfg_set_up(struct netcfg *nc, int ifindex, bool up);
int netcfg_set_mtu(struct netcfg *nc, int ifindex, unsigned mtu);
/*
 * Sets a bridge port's STP state (IFLA_BRPORT_STATE through AF_BRIDGE), then
 * verifies it. Kernel rules: the port must be enslaved (else -EOPNOTSUPP),
 * up and with carrier (else -ENETDOWN), and the bridge must not run kernel
 * STP (-EBUSY).
 * On a bridge with STP off the kernel turns BLOCKING back into FORWARDING
 * at once, so there PORT_STATE_BLOCKING is applied (and reads back) as
 * PORT_STATE_DISABLED: no forwarding, no learning, either way.
 * With STP off the kernel also puts a DISABLED port back to FORWARDING by
 * itself when its carrier or admin state comes back (an RTM_NEWLINK, so
 * netcfg_process() reports it): a blocked port must be blocked again then
 * (see reconcile_port.blocked).
 */
int netcfg_port_set_state(struct netcfg *nc, int ifindex, enum port_state s);

#endif
