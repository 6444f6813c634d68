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
#include <sys/socket.h>

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

/*
 * One entry of a bridge's forwarding database, or one change of it: a MAC
 * learned (or moved) on a port, or a learned entry gone (aged out, flushed,
 * deleted, its port left the bridge). Notifications report learned
 * (dynamic) entries only; a dump (netcfg_dump_fdb()) also lists the ports'
 * own addresses, marked permanent. Never reported: static entries, the
 * bridge device's own entries and a device's own address lists (NTF_SELF).
 * A MAC that moves to another port comes as a new event naming the new
 * port; the kernel sends nothing for the old one.
 */
struct netcfg_fdb_event {
	bool deleted;           /* RTM_DELNEIGH */
	bool permanent;         /* a port's own address (local, NUD_PERMANENT):
				 * in dumps only, never learned */
	uint8_t mac[6];
	int port_ifindex;       /* the port it was learned on (may be gone) */
	int bridge_ifindex;
	uint16_t vlan;          /* 0 if the entry has none */
	int64_t age_ms;         /* since the bridge last saw the MAC as a
				 * source (NDA_CACHEINFO, 10 ms steps); -1:
				 * unknown */
};
/* MAC addresses as text: exactly six pairs of hex digits (either case)
 * separated by ':', nothing before or after; -EINVAL otherwise. The format
 * is lower case, NETCFG_MAC_STRLEN with the NUL. */
#define NETCFG_MAC_STRLEN 18
int netcfg_mac_parse(const char *s, uint8_t mac[6]);
char *netcfg_mac_format(const uint8_t mac[6], char buf[NETCFG_MAC_STRLEN]);

typedef void (*netcfg_fdb_cb)(void *ctx, const struct netcfg_fdb_event *ev);

/* Opens the netlink sockets: one for requests, one subscribed to link and
 * neighbour notifications with an enlarged receive buffer. */
int netcfg_new(struct netcfg **ret);
void netcfg_free(struct netcfg *nc);

/* The notification socket's fd, for epoll (EPOLLIN). */
int netcfg_get_fd(const struct netcfg *nc);
/* Drains pending notifications without blocking. Sets *ret_changed when a
 * link appeared, vanished or changed master/flags since the last call, or
 * when notifications were lost (ENOBUFS): the caller then re-reads all links
 * and reconciles; FDB events may have been lost too, so an FDB consumer
 * re-reads with netcfg_dump_fdb() as well. FDB changes alone never set
 * *ret_changed: they go to the callback of netcfg_set_fdb_callback(), in
 * the order the kernel sent them, from inside this call. */
int netcfg_process(struct netcfg *nc, bool *ret_changed);

/* Registers the callback that netcfg_process() calls for each bridge FDB
 * change (NULL: FDB notifications are dropped, the default). The callback
 * may use the other netcfg calls, but not netcfg_process() or
 * netcfg_free(). */
void netcfg_set_fdb_callback(struct netcfg *nc, netcfg_fdb_cb cb, void *ctx);
/* A dump of the FDB entries of a bridge (ifindex), for the initial state:
 * subscribe (netcfg_new()), dump, then process. The learned entries, and
 * the ports' own addresses with permanent set (a consumer of learned MACs
 * skips those). *ret is malloc'd (free() it, also when *ret_n is 0); every
 * entry has deleted == false. -ENODEV if there is no such link; a link
 * that is not a bridge has no entries. */
int netcfg_dump_fdb(struct netcfg *nc, int bridge_ifindex,
		    struct netcfg_fdb_event **ret, size_t *ret_n);

/*
 * The output interface (RTA_OIF) of the route the kernel would use for dst
 * (AF_INET, or AF_INET6 with sin6_scope_id honoured and v4-mapped addresses
 * looked up as IPv4), as "ip route get" says. Errors are the kernel's:
 * -ENETUNREACH (no route), -EHOSTUNREACH (an unreachable route), -EACCES
 * (prohibit), -EINVAL (blackhole); -EAFNOSUPPORT for another family. A
 * local address yields the loopback device.
 */
int netcfg_route_oif(struct netcfg *nc, const struct sockaddr_storage *dst,
		     int *ret_ifindex);
/*
 * Whether traffic to dst would leave through one of the bridges (ifindexes)
 * given: returns 1 if the route's output interface is one of them, a port
 * enslaved to one of them, or a VLAN device on top of either, and then sets
 * *ret_bridge (may be NULL) to that bridge; 0 if not; -errno as
 * netcfg_route_oif(). For the guard "a tunnel must not route through its
 * own segment".
 */
int netcfg_route_via_bridge(struct netcfg *nc, const struct sockaddr_storage *dst,
			    const int *bridge_ifindexes, size_t n, int *ret_bridge);

/* A fresh dump of all links. *ret is malloc'd; free() it. */
int netcfg_dump_links(struct netcfg *nc, struct netcfg_link **ret, size_t *ret_n);
/* One link by name; -ENODEV if absent. */
int netcfg_get_link(struct netcfg *nc, const char *name, struct netcfg_link *ret);
/* One link by ifindex; -ENODEV if absent. */
int netcfg_get_link_by_index(struct netcfg *nc, int ifindex,
			     struct netcfg_link *ret);

/* What netcfg_bridge_ensure() did, for the caller to report. */
struct netcfg_bridge_report {
	int ifindex;
	bool created;                  /* it did not exist: created */
	char failed[96];               /* on failure: the step, e.g. "cannot set STP off" */
};

/* Creates the bridge if missing, or adopts it (its ports are left alone);
 * sets STP and forward delay as configured, MTU and address if given, and
 * brings it up. *ret (may be NULL) says what was done or which step failed.
 * Options already as configured are not written again (no spurious
 * RTM_NEWLINK). -EEXIST: the name belongs to a link of another kind (not a
 * bridge); it is left alone. -ERANGE: a forward delay outside 2..30 s while
 * STP is on. Logs nothing above debug: the caller reports. */
int netcfg_bridge_ensure(struct netcfg *nc, const struct bridge_cfg *b,
			 struct netcfg_bridge_report *ret);
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
