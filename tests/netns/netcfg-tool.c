/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netcfg-tool: a thin command-line driver of netcfg (netcfg/nl.c) and
 * reconcile (netcfg/reconcile.c) for tests/netns/t-netcfg.sh, run inside a
 * network namespace. One command per run; exit 0 on success, 1 on failure
 * (the -errno text on stderr), 2 on usage errors.
 *
 *   ensure-bridge NAME [STP [FWD [ADDR [MTU]]]]
 *                              STP 0|1, FWD seconds, ADDR cidr or "-"
 *   get NAME | dump            one line per link (see print_link())
 *   enslave PORT BRIDGE | release PORT
 *   port-state PORT disabled|listening|learning|forwarding|blocking
 *   set-up NAME up|down | set-mtu NAME MTU
 *   watch SECONDS [NAME]       prints "ready", then "new|del|change NAME"
 *                              for each notified change (diffing dumps);
 *                              with NAME, exits 0 once NAME is deleted and
 *                              1 if that does not happen in time
 *   overflow N                 shrinks the notification socket's buffer,
 *                              creates bridges ovf0..ovfN-1 without reading
 *                              and prints "changed=0|1" for the drain that
 *                              follows (the lost events must read as a
 *                              change; with -v the log says so)
 *   reconcile BRIDGE[:PORT[:blocked]]...
 *                              reconciles to that desired state the way the
 *                              daemon does (rounds until nothing is left to
 *                              do); prints each applied action, then
 *                              "in sync"
 *   fdb-watch SECONDS          prints "ready", then for each bridge FDB
 *                              event "new|del MAC port=NAME bridge=NAME"
 *                              (plus " vlan=N" if tagged), and "links" for
 *                              each netcfg_process() that reported a link
 *                              change; exits 0 after SECONDS
 *   fdb-dump BRIDGE            the entries, "MAC port=NAME bridge=NAME
 *                              [ vlan=N][ permanent][ age_ms=N]" each:
 *                              learned ones with their age, the ports' own
 *                              addresses marked permanent
 *   route-oif ADDR             "dev=NAME ifindex=N" of the route to ADDR
 *   route-via-bridge ADDR BRIDGE...
 *                              "1 bridge=NAME" if ADDR routes through one
 *                              of the bridges (or a port or VLAN of one),
 *                              else "0"
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "common/log.h"
#include "netcfg/netcfg.h"
#include "netcfg/reconcile.h"

/* reconcile: rounds before giving up. */
#define RECONCILE_ROUNDS 5

static int usage(void)
{
	fprintf(stderr,
		"usage: netcfg-tool [-v] ensure-bridge NAME [STP [FWD [ADDR [MTU]]]]\n"
		"       netcfg-tool [-v] get NAME | dump\n"
		"       netcfg-tool [-v] enslave PORT BRIDGE | release PORT\n"
		"       netcfg-tool [-v] port-state PORT STATE\n"
		"       netcfg-tool [-v] set-up NAME up|down | set-mtu NAME MTU\n"
		"       netcfg-tool [-v] watch SECONDS [NAME] | overflow N\n"
		"       netcfg-tool [-v] reconcile BRIDGE[:PORT[:blocked]]...\n"
		"       netcfg-tool [-v] fdb-watch SECONDS | fdb-dump BRIDGE\n"
		"       netcfg-tool [-v] route-oif ADDR | route-via-bridge ADDR BRIDGE...\n");
	return 2;
}

static int fail(const char *what, int r)
{
	fprintf(stderr, "netcfg-tool: %s: %s\n", what, strerror(-r));
	return 1;
}

static int parse_uint(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 0xffffffffUL || s[0] == '-')
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static const char *name_of(const struct netcfg_link *v, size_t n, int ifindex)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].ifindex == ifindex)
			return v[i].name;
	return "?";
}

/* NAME ifindex=N kind=K master=NAME|- up=0|1 mtu=N mac=M state=S|- */
static void print_link(const struct netcfg_link *l, const struct netcfg_link *all,
		       size_t n)
{
	const char *st = l->port_state >= 0 ?
		port_state_to_string((enum port_state)l->port_state) : NULL;

	printf("%s ifindex=%d kind=%s master=%s up=%d mtu=%u "
	       "mac=%02x:%02x:%02x:%02x:%02x:%02x state=%s\n",
	       l->name, l->ifindex, l->kind[0] ? l->kind : "-",
	       l->master ? name_of(all, n, l->master) : "-",
	       (l->flags & IFF_UP) ? 1 : 0, l->mtu,
	       l->mac[0], l->mac[1], l->mac[2], l->mac[3], l->mac[4], l->mac[5],
	       st ? st : "-");
}

static int cmd_dump(struct netcfg *nc, const char *only)
{
	struct netcfg_link *v = NULL;
	size_t n = 0, i;
	int r, found = 0;

	r = netcfg_dump_links(nc, &v, &n);
	if (r < 0)
		return fail("dump", r);
	for (i = 0; i < n; i++) {
		if (only && strcmp(v[i].name, only) != 0)
			continue;
		print_link(&v[i], v, n);
		found = 1;
	}
	free(v);
	if (only && !found)
		return fail(only, -ENODEV);
	return 0;
}

static int cmd_ensure(struct netcfg *nc, int argc, char **argv)
{
	struct bridge_cfg b = { 0 };
	unsigned v;
	struct netcfg_bridge_report rep;
	int r;

	if (argc < 1 || argc > 5 || strlen(argv[0]) >= sizeof(b.name))
		return usage();
	strcpy(b.name, argv[0]);
	if (argc > 1) {
		if (parse_uint(argv[1], &v) < 0 || v > 1)
			return usage();
		b.stp = v;
	}
	if (argc > 2 && parse_uint(argv[2], &b.forward_delay) < 0)
		return usage();
	if (argc > 3 && strcmp(argv[3], "-") != 0) {
		if (strlen(argv[3]) >= sizeof(b.address))
			return usage();
		strcpy(b.address, argv[3]);
	}
	if (argc > 4 && parse_uint(argv[4], &b.mtu) < 0)
		return usage();
	r = netcfg_bridge_ensure(nc, &b, &rep);
	if (r < 0) {
		fprintf(stderr, "netcfg-tool: %s: %s: %s\n", b.name, rep.failed, strerror(-r));
		return 1;
	}
	printf("%s ifindex=%d\n", b.name, rep.ifindex);
	return 0;
}

static int lookup(struct netcfg *nc, const char *name, int *ret_ifindex)
{
	struct netcfg_link l;
	int r;

	r = netcfg_get_link(nc, name, &l);
	if (r < 0)
		return fail(name, r);
	*ret_ifindex = l.ifindex;
	return 0;
}

static int cmd_port_state(struct netcfg *nc, const char *port, const char *state)
{
	int i, ifindex, r;

	if (lookup(nc, port, &ifindex))
		return 1;
	for (i = 0; i < _PORT_STATE_MAX; i++)
		if (strcmp(port_state_to_string((enum port_state)i), state) == 0)
			break;
	if (i == _PORT_STATE_MAX)
		return usage();
	r = netcfg_port_set_state(nc, ifindex, (enum port_state)i);
	return r < 0 ? fail(port, r) : 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const struct netcfg_link *by_index(const struct netcfg_link *v, size_t n,
					  int ifindex)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].ifindex == ifindex)
			return &v[i];
	return NULL;
}

/* Prints what differs between two dumps; returns true if a link called
 * gone was deleted. */
static bool print_diff(const struct netcfg_link *a, size_t na,
		       const struct netcfg_link *b, size_t nb, const char *gone)
{
	const struct netcfg_link *o;
	bool deleted = false;
	size_t i;

	for (i = 0; i < na; i++)
		if (!by_index(b, nb, a[i].ifindex)) {
			printf("del %s\n", a[i].name);
			if (gone && strcmp(a[i].name, gone) == 0)
				deleted = true;
		}
	for (i = 0; i < nb; i++) {
		o = by_index(a, na, b[i].ifindex);
		if (!o)
			printf("new %s\n", b[i].name);
		else if (o->master != b[i].master || o->flags != b[i].flags ||
			 o->mtu != b[i].mtu || o->port_state != b[i].port_state ||
			 strcmp(o->name, b[i].name) != 0)
			printf("change %s\n", b[i].name);
	}
	fflush(stdout);
	return deleted;
}

static int cmd_watch(struct netcfg *nc, const char *seconds, const char *gone)
{
	struct netcfg_link *prev = NULL, *cur = NULL;
	size_t nprev = 0, ncur = 0;
	unsigned secs;
	long deadline;
	int r, rc = 1;
	bool changed;

	if (parse_uint(seconds, &secs) < 0)
		return usage();
	deadline = now_ms() + secs * 1000L;
	/* Subscribed since netcfg_new(): dump now, so nothing falls between. */
	r = netcfg_dump_links(nc, &prev, &nprev);
	if (r < 0)
		return fail("dump", r);
	printf("ready\n");
	fflush(stdout);

	for (;;) {
		struct pollfd p = { .fd = netcfg_get_fd(nc), .events = POLLIN };
		long left = deadline - now_ms();

		if (left <= 0) {
			rc = gone ? 1 : 0;
			if (gone)
				fprintf(stderr, "netcfg-tool: %s not deleted in %us\n", gone, secs);
			break;
		}
		r = poll(&p, 1, (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = fail("poll", -errno);
			break;
		}
		if (r == 0)
			continue;
		r = netcfg_process(nc, &changed);
		if (r < 0) {
			rc = fail("process", r);
			break;
		}
		if (!changed)
			continue;
		printf("event\n");
		r = netcfg_dump_links(nc, &cur, &ncur);
		if (r < 0) {
			rc = fail("dump", r);
			break;
		}
		if (print_diff(prev, nprev, cur, ncur, gone)) {
			rc = 0;
			break;
		}
		free(prev);
		prev = cur;
		nprev = ncur;
		cur = NULL;
	}
	free(prev);
	free(cur);
	return rc;
}

static int cmd_overflow(struct netcfg *nc, const char *count)
{
	struct bridge_cfg b = { 0 };
	int small = 1, r;
	unsigned n, i;
	bool changed = false;

	if (parse_uint(count, &n) < 0 || n > 1000)
		return usage();
	/* The kernel rounds this up to its minimum, a few KiB. */
	if (setsockopt(netcfg_get_fd(nc), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) < 0)
		return fail("SO_RCVBUF", -errno);
	for (i = 0; i < n; i++) {
		snprintf(b.name, sizeof(b.name), "ovf%u", i);
		r = netcfg_bridge_ensure(nc, &b, NULL);
		if (r < 0)
			return fail(b.name, r);
	}
	r = netcfg_process(nc, &changed);
	if (r < 0)
		return fail("process", r);
	printf("changed=%d\n", changed);
	return 0;
}

/* What a daemon does with reconcile(): apply each action in order. */
static int apply(struct netcfg *nc, const struct reconcile_desired *d,
		 const struct reconcile_action *a)
{
	int port, br, r = 0;

	switch (a->op) {
	case RECONCILE_CREATE_BRIDGE:
		r = netcfg_bridge_ensure(nc, &d->bridges[a->bridge_index], NULL);
		break;
	case RECONCILE_BRIDGE_UP:
	case RECONCILE_PORT_UP:
		if (lookup(nc, a->name, &port))
			return -ENODEV;
		r = netcfg_set_up(nc, port, true);
		break;
	case RECONCILE_ENSLAVE:
		if (lookup(nc, a->name, &port) || lookup(nc, a->bridge, &br))
			return -ENODEV;
		r = netcfg_enslave(nc, port, br);
		break;
	case RECONCILE_PORT_BLOCK:
		if (lookup(nc, a->name, &port))
			return -ENODEV;
		r = netcfg_port_set_state(nc, port, PORT_STATE_BLOCKING);
		break;
	case RECONCILE_CONFLICT:
	case RECONCILE_PORT_MISSING:
		return -EEXIST;   /* nothing this tool can do: report */
	case _RECONCILE_OP_MAX:
		return -EINVAL;
	}
	return r;
}

static int cmd_reconcile(struct netcfg *nc, int argc, char **argv)
{
	struct bridge_cfg bridges[16] = { 0 };
	struct reconcile_port ports[16] = { 0 };
	struct reconcile_desired d = { .bridges = bridges, .ports = ports };
	struct reconcile_action *a = NULL;
	struct netcfg_link *links = NULL;
	size_t n = 0, nl = 0, i, j;
	int round, r;

	if (argc < 1 || argc > 16)
		return usage();
	for (i = 0; i < (size_t)argc; i++) {
		char *br = argv[i], *port = strchr(br, ':'), *flag = NULL;

		if (port) {
			*port++ = '\0';
			flag = strchr(port, ':');
			if (flag)
				*flag++ = '\0';
		}
		if (!br[0] || strlen(br) >= IFNAMSIZ || (port && strlen(port) >= IFNAMSIZ) ||
		    (flag && strcmp(flag, "blocked") != 0))
			return usage();
		for (j = 0; j < d.n_bridges; j++)
			if (strcmp(bridges[j].name, br) == 0)
				break;
		if (j == d.n_bridges)
			strcpy(bridges[d.n_bridges++].name, br);
		if (port && port[0]) {
			strcpy(ports[d.n_ports].bridge, br);
			strcpy(ports[d.n_ports].name, port);
			ports[d.n_ports++].blocked = flag != NULL;
		}
	}

	/* As the daemon does: reconcile, apply, and when something could not
	 * be applied yet (a port without carrier for a moment), wait for the
	 * kernel's next notification and go again. Applied actions go to
	 * stdout, failed attempts to stderr. */
	for (round = 0; round < RECONCILE_ROUNDS; round++) {
		bool failed = false, changed;

		r = netcfg_dump_links(nc, &links, &nl);
		if (r < 0)
			return fail("dump", r);
		r = reconcile(&d, links, nl, &a, &n);
		free(links);
		if (r < 0)
			return fail("reconcile", r);
		if (n == 0) {
			free(a);
			printf("in sync\n");
			return 0;
		}
		for (i = 0; i < n; i++) {
			r = apply(nc, &d, &a[i]);
			if (r < 0) {
				fprintf(stderr, "netcfg-tool: round %d: %s %s: %s\n", round,
					reconcile_op_to_string(a[i].op), a[i].name,
					strerror(-r));
				failed = true;
			} else {
				printf("%s %s\n", reconcile_op_to_string(a[i].op), a[i].name);
			}
		}
		free(a);
		a = NULL;
		fflush(stdout);
		if (failed) {
			struct pollfd p = { .fd = netcfg_get_fd(nc), .events = POLLIN };

			if (poll(&p, 1, 1000) > 0)
				(void)netcfg_process(nc, &changed);
		}
	}
	fprintf(stderr, "netcfg-tool: not in sync after %d rounds\n", RECONCILE_ROUNDS);
	return 1;
}

/* fdb-watch: a snapshot of the links, for the names of ports that are
 * gone by the time their entries' deletions are read. */
struct fdb_watch {
	struct netcfg *nc;
	struct netcfg_link *links;
	size_t n;
};

static void fdb_name(struct fdb_watch *w, int ifindex, char *buf, size_t len)
{
	struct netcfg_link l;
	const char *name = name_of(w->links, w->n, ifindex);

	if (strcmp(name, "?") == 0 && netcfg_get_link_by_index(w->nc, ifindex, &l) == 0)
		name = l.name;
	if (strcmp(name, "?") == 0)
		snprintf(buf, len, "#%d", ifindex);
	else
		snprintf(buf, len, "%s", name);
}

static void print_fdb(struct fdb_watch *w, const char *prefix,
		      const struct netcfg_fdb_event *ev, bool age)
{
	char port[IFNAMSIZ + 16], br[IFNAMSIZ + 16];

	fdb_name(w, ev->port_ifindex, port, sizeof(port));
	fdb_name(w, ev->bridge_ifindex, br, sizeof(br));
	printf("%s%02x:%02x:%02x:%02x:%02x:%02x port=%s bridge=%s", prefix,
	       ev->mac[0], ev->mac[1], ev->mac[2], ev->mac[3], ev->mac[4],
	       ev->mac[5], port, br);
	if (ev->vlan)
		printf(" vlan=%u", ev->vlan);
	if (ev->permanent)
		printf(" permanent");
	if (age && ev->age_ms >= 0)
		printf(" age_ms=%lld", (long long)ev->age_ms);
	printf("\n");
}

static void on_fdb(void *ctx, const struct netcfg_fdb_event *ev)
{
	print_fdb(ctx, ev->deleted ? "del " : "new ", ev, false);
}

static int cmd_fdb_watch(struct netcfg *nc, const char *seconds)
{
	struct fdb_watch w = { .nc = nc };
	unsigned secs;
	long deadline;
	bool changed;
	int r, rc = 0;

	if (parse_uint(seconds, &secs) < 0)
		return usage();
	deadline = now_ms() + secs * 1000L;
	r = netcfg_dump_links(nc, &w.links, &w.n);
	if (r < 0)
		return fail("dump", r);
	netcfg_set_fdb_callback(nc, on_fdb, &w);
	printf("ready\n");
	fflush(stdout);

	for (;;) {
		struct pollfd p = { .fd = netcfg_get_fd(nc), .events = POLLIN };
		long left = deadline - now_ms();

		if (left <= 0)
			break;
		r = poll(&p, 1, (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = fail("poll", -errno);
			break;
		}
		if (r == 0)
			continue;
		r = netcfg_process(nc, &changed);
		if (r < 0) {
			rc = fail("process", r);
			break;
		}
		if (changed) {
			struct netcfg_link *v = NULL;
			size_t n = 0;

			printf("links\n");
			/* Keep the old snapshot if the dump fails: names only. */
			if (netcfg_dump_links(nc, &v, &n) == 0) {
				free(w.links);
				w.links = v;
				w.n = n;
			}
		}
		fflush(stdout);
	}
	free(w.links);
	return rc;
}

static int cmd_fdb_dump(struct netcfg *nc, const char *bridge)
{
	struct netcfg_fdb_event *v = NULL;
	struct fdb_watch w = { .nc = nc };
	size_t n = 0, i;
	int r, br;

	if (lookup(nc, bridge, &br))
		return 1;
	r = netcfg_dump_fdb(nc, br, &v, &n);
	if (r < 0)
		return fail(bridge, r);
	r = netcfg_dump_links(nc, &w.links, &w.n);
	if (r < 0) {
		free(v);
		return fail("dump", r);
	}
	for (i = 0; i < n; i++)
		print_fdb(&w, "", &v[i], true);
	free(w.links);
	free(v);
	return 0;
}

/* A numeric IPv4 or IPv6 address, "fe80::1%dev" included. */
static int parse_addr(const char *s, struct sockaddr_storage *ret)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_family = AF_UNSPEC };
	struct addrinfo *ai = NULL;

	if (getaddrinfo(s, NULL, &hints, &ai) != 0 || !ai)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

static int cmd_route_oif(struct netcfg *nc, const char *addr)
{
	struct sockaddr_storage ss;
	struct netcfg_link l;
	int r, oif;

	if (parse_addr(addr, &ss) < 0)
		return usage();
	r = netcfg_route_oif(nc, &ss, &oif);
	if (r < 0)
		return fail(addr, r);
	r = netcfg_get_link_by_index(nc, oif, &l);
	printf("dev=%s ifindex=%d\n", r == 0 ? l.name : "?", oif);
	return 0;
}

static int cmd_route_via_bridge(struct netcfg *nc, int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct netcfg_link l;
	int bridges[16], n, i, r, br = 0;

	if (argc < 2 || argc > 17 || parse_addr(argv[0], &ss) < 0)
		return usage();
	for (n = 0, i = 1; i < argc; i++)
		if (lookup(nc, argv[i], &bridges[n++]))
			return 1;
	r = netcfg_route_via_bridge(nc, &ss, bridges, (size_t)n, &br);
	if (r < 0)
		return fail(argv[0], r);
	if (r == 0) {
		printf("0\n");
		return 0;
	}
	printf("1 bridge=%s\n", netcfg_get_link_by_index(nc, br, &l) == 0 ? l.name : "?");
	return 0;
}

int main(int argc, char **argv)
{
	struct netcfg *nc = NULL;
	const char *cmd;
	int r, rc, ifindex, br;
	unsigned v;

	log_init("netcfg-tool", true, 0);
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		log_set_verbose(1);
		argv++;
		argc--;
	}
	if (argc < 2)
		return usage();
	cmd = argv[1];
	argc -= 2;
	argv += 2;

	r = netcfg_new(&nc);
	if (r < 0)
		return fail("netcfg_new", r);

	if (strcmp(cmd, "ensure-bridge") == 0) {
		rc = cmd_ensure(nc, argc, argv);
	} else if (strcmp(cmd, "dump") == 0 && argc == 0) {
		rc = cmd_dump(nc, NULL);
	} else if (strcmp(cmd, "get") == 0 && argc == 1) {
		rc = cmd_dump(nc, argv[0]);
	} else if (strcmp(cmd, "enslave") == 0 && argc == 2) {
		rc = lookup(nc, argv[0], &ifindex) || lookup(nc, argv[1], &br);
		if (!rc && (r = netcfg_enslave(nc, ifindex, br)) < 0)
			rc = fail(argv[0], r);
	} else if (strcmp(cmd, "release") == 0 && argc == 1) {
		rc = lookup(nc, argv[0], &ifindex);
		if (!rc && (r = netcfg_release(nc, ifindex)) < 0)
			rc = fail(argv[0], r);
	} else if (strcmp(cmd, "port-state") == 0 && argc == 2) {
		rc = cmd_port_state(nc, argv[0], argv[1]);
	} else if (strcmp(cmd, "set-up") == 0 && argc == 2 &&
		   (strcmp(argv[1], "up") == 0 || strcmp(argv[1], "down") == 0)) {
		rc = lookup(nc, argv[0], &ifindex);
		if (!rc && (r = netcfg_set_up(nc, ifindex, strcmp(argv[1], "up") == 0)) < 0)
			rc = fail(argv[0], r);
	} else if (strcmp(cmd, "set-mtu") == 0 && argc == 2 &&
		   parse_uint(argv[1], &v) == 0) {
		rc = lookup(nc, argv[0], &ifindex);
		if (!rc && (r = netcfg_set_mtu(nc, ifindex, v)) < 0)
			rc = fail(argv[0], r);
	} else if (strcmp(cmd, "watch") == 0 && (argc == 1 || argc == 2)) {
		rc = cmd_watch(nc, argv[0], argc == 2 ? argv[1] : NULL);
	} else if (strcmp(cmd, "overflow") == 0 && argc == 1) {
		rc = cmd_overflow(nc, argv[0]);
	} else if (strcmp(cmd, "reconcile") == 0) {
		rc = cmd_reconcile(nc, argc, argv);
	} else if (strcmp(cmd, "fdb-watch") == 0 && argc == 1) {
		rc = cmd_fdb_watch(nc, argv[0]);
	} else if (strcmp(cmd, "fdb-dump") == 0 && argc == 1) {
		rc = cmd_fdb_dump(nc, argv[0]);
	} else if (strcmp(cmd, "route-oif") == 0 && argc == 1) {
		rc = cmd_route_oif(nc, argv[0]);
	} else if (strcmp(cmd, "route-via-bridge") == 0) {
		rc = cmd_route_via_bridge(nc, argc, argv);
	} else {
		rc = usage();
	}
	netcfg_free(nc);
	return rc;
}
