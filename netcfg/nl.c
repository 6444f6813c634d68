/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netcfg/nl.c: the rtnetlink side of netcfg (see netcfg.h), on libnl-3 and
 * libnl-route-3.
 *
 * Owns two sockets per instance: a blocking request socket (requests, acks,
 * dumps, one transaction at a time) and a non-blocking notification socket
 * subscribed to RTNLGRP_LINK and RTNLGRP_NEIGH (bridge FDB changes) with an
 * enlarged receive buffer. Requests that libnl 3.7 has no object setters for
 * (bridge IFLA_INFO_DATA, AF_BRIDGE port state, FDB dumps, route lookups)
 * are built by hand with nlmsg_alloc_simple() + nla_put*(), and so,
 * for uniformity, are the other link requests; replies are parsed from the
 * raw ifinfomsg. A kernel error comes back as the raw errno of its
 * NLMSG_ERROR (its extended-ack text goes to the debug log); libnl's own
 * NLE_* codes become -errno in nle_to_errno(), the one place that maps them.
 */
#include "netcfg/netcfg.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/rtnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "common/log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Receive buffer of the notification socket: a burst of link events (a host
 * starting dozens of VMs) must not overflow it. */
#define NETCFG_EVENT_RCVBUF (4 * 1024 * 1024)
/* netcfg_process() reads at most this many datagrams per call; epoll is
 * level-triggered, so the rest waits for the next round. */
#define NETCFG_PROCESS_MAX_READS 256
/* A dump the kernel flags as inconsistent (NLM_F_DUMP_INTR) is retried. */
#define NETCFG_DUMP_RETRIES 5
/* The kernel takes bridge timers in clock_t units (USER_HZ). */
#define NETCFG_USER_HZ 100

struct netcfg {
	struct nl_sock *req;    /* requests, acks, dumps */
	struct nl_sock *ev;     /* RTNLGRP_LINK + RTNLGRP_NEIGH notifications */
	bool ev_changed;        /* set by ev_valid() inside netcfg_process() */
	netcfg_fdb_cb fdb_cb;   /* called by ev_valid(), NULL: none */
	void *fdb_ctx;
};

/* ---- errors ------------------------------------------------------------ */

static const int nle_errno_table[] = {
	[NLE_SUCCESS]           = 0,
	[NLE_FAILURE]           = EIO,
	[NLE_INTR]              = EINTR,
	[NLE_BAD_SOCK]          = EBADF,
	[NLE_AGAIN]             = EAGAIN,
	[NLE_NOMEM]             = ENOMEM,
	[NLE_EXIST]             = EEXIST,
	[NLE_INVAL]             = EINVAL,
	[NLE_RANGE]             = ERANGE,
	[NLE_MSGSIZE]           = EMSGSIZE,
	[NLE_OPNOTSUPP]         = EOPNOTSUPP,
	[NLE_AF_NOSUPPORT]      = EAFNOSUPPORT,
	[NLE_OBJ_NOTFOUND]      = ENOENT,
	[NLE_NOATTR]            = ENODATA,
	[NLE_MISSING_ATTR]      = EINVAL,
	[NLE_AF_MISMATCH]       = EINVAL,
	[NLE_SEQ_MISMATCH]      = EPROTO,
	[NLE_MSG_OVERFLOW]      = EMSGSIZE,
	[NLE_MSG_TRUNC]         = EMSGSIZE,
	[NLE_NOADDR]            = EADDRNOTAVAIL,
	[NLE_SRCRT_NOSUPPORT]   = EOPNOTSUPP,
	[NLE_MSG_TOOSHORT]      = EBADMSG,
	[NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP,
	[NLE_OBJ_MISMATCH]      = EINVAL,
	[NLE_NOCACHE]           = ENOENT,
	[NLE_BUSY]              = EBUSY,
	[NLE_PROTO_MISMATCH]    = EPROTONOSUPPORT,
	[NLE_NOACCESS]          = EACCES,
	[NLE_PERM]              = EPERM,
	[NLE_PKTLOC_FILE]       = ENOENT,
	[NLE_PARSE_ERR]         = EINVAL,
	[NLE_NODEV]             = ENODEV,
	[NLE_IMMUTABLE]         = EROFS,
	[NLE_DUMP_INTR]         = EINTR,
	[NLE_ATTRSIZE]          = ERANGE,
};

/*
 * The one place where libnl's NLE_* codes become -errno. Non-negative values
 * (counts) pass through. Note that libnl reports ENOBUFS (lost
 * notifications) as NLE_NOMEM: netcfg_process() handles that before calling
 * this.
 */
static int nle_to_errno(int nle)
{
	if (nle >= 0)
		return nle;
	nle = -nle;
	if ((size_t)nle >= ARRAY_SIZE(nle_errno_table) || nle_errno_table[nle] == 0)
		return -EIO;
	return -nle_errno_table[nle];
}

/* ---- one request/response transaction on the request socket ------------ */

struct nc_txn {
	int (*valid)(struct nl_msg *msg, void *arg);  /* 0 or -errno */
	void *arg;
	int kernel_err;         /* the NLMSG_ERROR's errno, negative */
	int cb_err;             /* first error of valid() */
	bool done;
};

static int txn_valid(struct nl_msg *msg, void *arg)
{
	struct nc_txn *t = arg;
	int r;

	if (!t->valid)
		return NL_OK;
	r = t->valid(msg, t->arg);
	/* Keep reading to the end of a dump even after an error, or its rest
	 * would be read by the next transaction. */
	if (r < 0 && t->cb_err == 0)
		t->cb_err = r;
	return NL_OK;
}

static int txn_done(struct nl_msg *msg, void *arg)
{
	struct nc_txn *t = arg;

	t->done = true;
	return NL_STOP;
}

/* The extended-ack message of an NLMSG_ERROR, or NULL. The kernel appends
 * the TLVs after the (possibly capped) copy of the request. */
static const char *ext_ack_msg(const struct nlmsgerr *e)
{
	const struct nlmsghdr *nlh =
		(const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN, payload = sizeof(*e);
	const struct nlattr *a;
	const char *s;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return NULL;
		payload += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	off += NLMSG_ALIGN(payload);
	if (off >= nlh->nlmsg_len)
		return NULL;
	a = nla_find((struct nlattr *)((char *)nlh + off),
		     (int)(nlh->nlmsg_len - off), NLMSGERR_ATTR_MSG);
	if (!a || nla_len(a) < 1)
		return NULL;
	s = nla_data(a);
	return s[nla_len(a) - 1] == '\0' ? s : NULL;
}

static int txn_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nc_txn *t = arg;
	const char *m = ext_ack_msg(e);

	t->kernel_err = e->error < 0 ? e->error : -EIO;
	t->done = true;
	if (m)
		log_debug("netlink: %s: %s", strerror(-t->kernel_err), m);
	return NL_STOP;
}

/*
 * Sends msg (consumed) and reads until its ack, its error or the end of its
 * dump, handing every data message to valid(). Returns the kernel's -errno,
 * valid()'s first error, or a mapped libnl error.
 */
static int nc_transact(struct netcfg *nc, struct nl_msg *msg,
		       int (*valid)(struct nl_msg *, void *), void *arg)
{
	struct nc_txn t = { .valid = valid, .arg = arg };
	struct nl_cb *orig, *cb;
	int r;

	orig = nl_socket_get_cb(nc->req);
	cb = nl_cb_clone(orig);
	nl_cb_put(orig);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, txn_valid, &t);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, txn_done, &t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, txn_done, &t);
	nl_cb_err(cb, NL_CB_CUSTOM, txn_error, &t);

	/* nl_send_auto() adds NLM_F_REQUEST and NLM_F_ACK (auto-ack is on). */
	r = nl_send_auto(nc->req, msg);
	nlmsg_free(msg);
	if (r < 0) {
		r = nle_to_errno(r);
		goto out;
	}
	do
		r = nl_recvmsgs(nc->req, cb);
	while (!t.done && r >= 0);

	if (t.kernel_err)
		r = t.kernel_err;
	else if (r < 0)
		r = nle_to_errno(r);  /* -EINTR for an interrupted dump */
	else
		r = t.cb_err;
out:
	nl_cb_put(cb);
	return r;
}

/* A new message with an ifinfomsg header; NULL on ENOMEM. */
static struct nl_msg *link_msg(int type, int flags, int family, int ifindex)
{
	struct ifinfomsg ifi = {
		.ifi_family = (unsigned char)family,
		.ifi_index = ifindex,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* ---- parsing links ------------------------------------------------------ */

/* A link plus the bridge options netcfg_bridge_ensure() compares against. */
struct link_info {
	struct netcfg_link link;
	long br_stp_state;      /* IFLA_BR_STP_STATE, -1 if not a bridge */
	long br_forward_delay;  /* IFLA_BR_FORWARD_DELAY (clock_t), or -1 */
	int lower;              /* IFLA_LINK in this namespace (a VLAN's
				 * parent ...), 0 if none or elsewhere */
};

static const struct nla_policy ifla_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME]   = { .type = NLA_STRING, .maxlen = IFNAMSIZ },
	[IFLA_MTU]      = { .type = NLA_U32 },
	[IFLA_MASTER]   = { .type = NLA_U32 },
	[IFLA_LINK]     = { .type = NLA_U32 },
	[IFLA_LINKINFO] = { .type = NLA_NESTED },
};

static const struct nla_policy linkinfo_policy[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND]       = { .type = NLA_STRING },
	[IFLA_INFO_DATA]       = { .type = NLA_NESTED },
	[IFLA_INFO_SLAVE_KIND] = { .type = NLA_STRING },
	[IFLA_INFO_SLAVE_DATA] = { .type = NLA_NESTED },
};

static const struct nla_policy br_policy[IFLA_BR_MAX + 1] = {
	[IFLA_BR_FORWARD_DELAY] = { .type = NLA_U32 },
	[IFLA_BR_STP_STATE]     = { .type = NLA_U32 },
};

static const struct nla_policy brport_policy[IFLA_BRPORT_MAX + 1] = {
	[IFLA_BRPORT_STATE] = { .type = NLA_U8 },
};

static int parse_linkinfo(struct nlattr *attr, struct link_info *li)
{
	struct nlattr *tb[IFLA_INFO_MAX + 1], *d[IFLA_BR_MAX + 1];
	struct nlattr *p[IFLA_BRPORT_MAX + 1];
	int r;

	r = nla_parse_nested(tb, IFLA_INFO_MAX, attr, linkinfo_policy);
	if (r < 0)
		return nle_to_errno(r);
	if (tb[IFLA_INFO_KIND])
		nla_strlcpy(li->link.kind, tb[IFLA_INFO_KIND], sizeof(li->link.kind));
	if (strcmp(li->link.kind, "bridge") == 0 && tb[IFLA_INFO_DATA]) {
		r = nla_parse_nested(d, IFLA_BR_MAX, tb[IFLA_INFO_DATA], br_policy);
		if (r < 0)
			return nle_to_errno(r);
		if (d[IFLA_BR_STP_STATE])
			li->br_stp_state = nla_get_u32(d[IFLA_BR_STP_STATE]);
		if (d[IFLA_BR_FORWARD_DELAY])
			li->br_forward_delay = nla_get_u32(d[IFLA_BR_FORWARD_DELAY]);
	}
	/* A bridge port's own state travels in the AF_UNSPEC dump as slave
	 * data, so one dump gives both the master and the STP state. */
	if (tb[IFLA_INFO_SLAVE_KIND] && tb[IFLA_INFO_SLAVE_DATA] &&
	    strcmp(nla_get_string(tb[IFLA_INFO_SLAVE_KIND]), "bridge") == 0) {
		r = nla_parse_nested(p, IFLA_BRPORT_MAX, tb[IFLA_INFO_SLAVE_DATA],
				     brport_policy);
		if (r < 0)
			return nle_to_errno(r);
		if (p[IFLA_BRPORT_STATE])
			li->link.port_state = nla_get_u8(p[IFLA_BRPORT_STATE]);
	}
	return 0;
}

/* Parses an RTM_NEWLINK into *li. Returns 0, 1 for another message type
 * (skipped), or -errno. */
static int parse_link(struct nl_msg *msg, struct link_info *li)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;
	int r;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 1;
	if (!nlmsg_valid_hdr(nlh, sizeof(*ifi)))
		return -EBADMSG;
	ifi = nlmsg_data(nlh);
	r = nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, ifla_policy);
	if (r < 0)
		return nle_to_errno(r);

	memset(li, 0, sizeof(*li));
	li->link.port_state = -1;
	li->br_stp_state = -1;
	li->br_forward_delay = -1;
	li->link.ifindex = ifi->ifi_index;
	li->link.flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		nla_strlcpy(li->link.name, tb[IFLA_IFNAME], sizeof(li->link.name));
	if (tb[IFLA_MTU])
		li->link.mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER])
		li->link.master = (int)nla_get_u32(tb[IFLA_MASTER]);
	/* With IFLA_LINK_NETNSID the index is one of another namespace. */
	if (tb[IFLA_LINK] && !tb[IFLA_LINK_NETNSID])
		li->lower = (int)nla_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == sizeof(li->link.mac))
		memcpy(li->link.mac, nla_data(tb[IFLA_ADDRESS]), sizeof(li->link.mac));
	if (tb[IFLA_LINKINFO]) {
		r = parse_linkinfo(tb[IFLA_LINKINFO], li);
		if (r < 0)
			return r;
	}
	return 0;
}

struct dump_ctx {
	struct netcfg_link *v;
	size_t n, cap;
};

static int dump_valid(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *d = arg;
	struct link_info li;
	int r;

	r = parse_link(msg, &li);
	if (r != 0)
		return r < 0 ? r : 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct netcfg_link *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = li.link;
	return 0;
}

int netcfg_dump_links(struct netcfg *nc, struct netcfg_link **ret, size_t *ret_n)
{
	struct dump_ctx d = { 0 };
	struct nl_msg *msg;
	int r = -EINTR, i;

	for (i = 0; i < NETCFG_DUMP_RETRIES && r == -EINTR; i++) {
		d.n = 0;
		msg = link_msg(RTM_GETLINK, NLM_F_DUMP, AF_UNSPEC, 0);
		if (!msg || nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
			nlmsg_free(msg);
			r = -ENOMEM;
			break;
		}
		r = nc_transact(nc, msg, dump_valid, &d);
		if (r == -EINTR)
			log_debug("netlink: link dump interrupted, retrying");
	}
	if (r < 0) {
		free(d.v);
		return r;
	}
	*ret = d.v;
	*ret_n = d.n;
	return 0;
}

struct get_ctx {
	struct link_info *li;
	bool found;
};

static int get_valid(struct nl_msg *msg, void *arg)
{
	struct get_ctx *g = arg;
	int r;

	r = parse_link(msg, g->li);
	if (r == 0)
		g->found = true;
	return r < 0 ? r : 0;
}

/* One link by name (if name) or by ifindex; -ENODEV if absent. */
static int get_link_info(struct netcfg *nc, const char *name, int ifindex,
			 struct link_info *ret)
{
	struct link_info li;
	struct get_ctx g = { .li = &li };
	struct nl_msg *msg;
	int r;

	if (name && (name[0] == '\0' || strnlen(name, IFNAMSIZ) >= IFNAMSIZ))
		return -EINVAL;
	if (!name && ifindex <= 0)
		return -ENODEV;
	msg = link_msg(RTM_GETLINK, 0, AF_UNSPEC, name ? 0 : ifindex);
	if (!msg)
		return -ENOMEM;
	if ((name && nla_put_string(msg, IFLA_IFNAME, name) < 0) ||
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = nc_transact(nc, msg, get_valid, &g);
	if (r < 0)
		return r;
	if (!g.found)
		return -ENODEV;
	*ret = li;
	return 0;
}

int netcfg_get_link(struct netcfg *nc, const char *name, struct netcfg_link *ret)
{
	struct link_info li;
	int r;

	r = get_link_info(nc, name, 0, &li);
	if (r < 0)
		return r;
	*ret = li.link;
	return 0;
}

int netcfg_get_link_by_index(struct netcfg *nc, int ifindex,
			     struct netcfg_link *ret)
{
	struct link_info li;
	int r;

	r = get_link_info(nc, NULL, ifindex, &li);
	if (r < 0)
		return r;
	*ret = li.link;
	return 0;
}

/* ---- notifications ------------------------------------------------------ */

static const struct nla_policy nda_policy[NDA_MAX + 1] = {
	[NDA_VLAN]   = { .type = NLA_U16 },
	[NDA_MASTER] = { .type = NLA_U32 },
	[NDA_CACHEINFO] = { .minlen = sizeof(struct nda_cacheinfo) },
};

/* NDA_CACHEINFO's times are clock_t, in USER_HZ ticks (10 ms on Linux). */
static int64_t cacheinfo_ms(const struct nlattr *a)
{
	const struct nda_cacheinfo *ci = nla_data(a);
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0)
		hz = 100;
	return (int64_t)ci->ndm_updated * 1000 / hz;
}

/*
 * Parses an RTM_NEWNEIGH / RTM_DELNEIGH into *ev. Returns 0 for a learned
 * bridge FDB entry (and, with local, for a port's own address: permanent
 * set), 1 for anything else (skipped: IP neighbours, static entries, a
 * device's own address lists, local ones unless asked for), or -errno.
 */
static int parse_fdb(struct nlmsghdr *nlh, bool local, struct netcfg_fdb_event *ev)
{
	struct nlattr *tb[NDA_MAX + 1];
	struct ndmsg *ndm;
	int r, master;
	bool permanent;

	if (nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH)
		return 1;
	if (!nlmsg_valid_hdr(nlh, sizeof(*ndm)))
		return -EBADMSG;
	ndm = nlmsg_data(nlh);
	/* The same group carries ARP/ND neighbours (AF_INET, AF_INET6). */
	if (ndm->ndm_family != AF_BRIDGE)
		return 1;
	/*
	 * The bridge's own entries: local addresses (its own MAC and its
	 * ports') are NUD_PERMANENT, user-added static ones NUD_NOARP, and
	 * NTF_SELF marks a device's own unicast/multicast lists (and VXLAN's
	 * remote table), not the bridge's learning. What is left is learned
	 * (NUD_REACHABLE, or NUD_STALE once idle).
	 */
	permanent = ndm->ndm_state & NUD_PERMANENT;
	if ((permanent && !local) || (ndm->ndm_state & NUD_NOARP))
		return 1;
	if (ndm->ndm_flags & NTF_SELF)
		return 1;
	r = nlmsg_parse(nlh, sizeof(*ndm), tb, NDA_MAX, nda_policy);
	if (r < 0)
		return nle_to_errno(r);
	if (!tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != (int)sizeof(ev->mac))
		return 1;
	/* The bridge's fdb_fill_info() always sends NDA_MASTER. */
	if (!tb[NDA_MASTER])
		return 1;
	master = (int)nla_get_u32(tb[NDA_MASTER]);
	if (master <= 0 || ndm->ndm_ifindex <= 0 || ndm->ndm_ifindex == master)
		return 1;

	memset(ev, 0, sizeof(*ev));
	ev->deleted = nlh->nlmsg_type == RTM_DELNEIGH;
	ev->permanent = permanent;
	memcpy(ev->mac, nla_data(tb[NDA_LLADDR]), sizeof(ev->mac));
	ev->port_ifindex = ndm->ndm_ifindex;
	ev->bridge_ifindex = master;
	if (tb[NDA_VLAN])
		ev->vlan = nla_get_u16(tb[NDA_VLAN]);
	/* a local entry's age says nothing: it is never refreshed */
	ev->age_ms = tb[NDA_CACHEINFO] && !permanent ? cacheinfo_ms(tb[NDA_CACHEINFO]) : -1;
	return 0;
}

static int ev_valid(struct nl_msg *msg, void *arg)
{
	struct netcfg *nc = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct sockaddr_nl *src = nlmsg_get_src(msg);
	struct netcfg_fdb_event ev;
	int r;

	/* Only the kernel speaks for the kernel. */
	if (src && src->nl_pid != 0)
		return NL_SKIP;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		nc->ev_changed = true;
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		/* FDB changes are not link changes: a MAC learned must not
		 * cost the daemon a full link resync. */
		if (!nc->fdb_cb)
			break;
		r = parse_fdb(nlh, false, &ev);
		if (r < 0)
			log_debug("netlink: bad neighbour notification: %s, ignoring",
				  strerror(-r));
		else if (r == 0)
			nc->fdb_cb(nc->fdb_ctx, &ev);
		break;
	default:
		break;
	}
	return NL_OK;
}

void netcfg_set_fdb_callback(struct netcfg *nc, netcfg_fdb_cb cb, void *ctx)
{
	nc->fdb_cb = cb;
	nc->fdb_ctx = ctx;
}

int netcfg_get_fd(const struct netcfg *nc)
{
	return nl_socket_get_fd(nc->ev);
}

int netcfg_process(struct netcfg *nc, bool *ret_changed)
{
	int i, r;

	nc->ev_changed = false;
	for (i = 0; i < NETCFG_PROCESS_MAX_READS; i++) {
		r = nl_recvmsgs_default(nc->ev);
		if (r == -NLE_AGAIN)
			break;
		if (r == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped notifications. What we
			 * missed is unknown: the caller must resync. */
			log_debug("netlink: notifications lost, resync");
			nc->ev_changed = true;
			continue;
		}
		if (r < 0)
			return nle_to_errno(r);
	}
	*ret_changed = nc->ev_changed;
	return 0;
}

/* ---- FDB dump ----------------------------------------------------------- */

struct fdb_dump_ctx {
	int bridge;
	struct netcfg_fdb_event *v;
	size_t n, cap;
};

static int fdb_dump_valid(struct nl_msg *msg, void *arg)
{
	struct fdb_dump_ctx *d = arg;
	struct netcfg_fdb_event ev;
	int r;

	r = parse_fdb(nlmsg_hdr(msg), true, &ev);
	if (r != 0)
		return r < 0 ? r : 0;
	/* The kernel filters by bridge already; this keeps a kernel that
	 * ignores the filter from mixing bridges. */
	if (ev.bridge_ifindex != d->bridge)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct netcfg_fdb_event *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = ev;
	return 0;
}

int netcfg_dump_fdb(struct netcfg *nc, int bridge_ifindex,
		    struct netcfg_fdb_event **ret, size_t *ret_n)
{
	struct fdb_dump_ctx d = { .bridge = bridge_ifindex };
	struct nl_msg *msg;
	int r = -EINTR, i;

	if (bridge_ifindex <= 0)
		return -ENODEV;
	for (i = 0; i < NETCFG_DUMP_RETRIES && r == -EINTR; i++) {
		d.n = 0;
		/*
		 * Kernel quirk: without NETLINK_GET_STRICT_CHK, rtnl_fdb_dump()
		 * reads the header as an ndmsg only when the message is exactly
		 * an ndmsg (plus one u32); anything else is an ifinfomsg whose
		 * IFLA_MASTER names the bridge (what iproute2's "bridge fdb
		 * show br X" sends). AF_BRIDGE is the first byte of both.
		 */
		msg = link_msg(RTM_GETNEIGH, NLM_F_DUMP, AF_BRIDGE, 0);
		if (!msg || nla_put_u32(msg, IFLA_MASTER, (uint32_t)bridge_ifindex) < 0) {
			nlmsg_free(msg);
			r = -ENOMEM;
			break;
		}
		r = nc_transact(nc, msg, fdb_dump_valid, &d);
		if (r == -EINTR)
			log_debug("netlink: FDB dump interrupted, retrying");
	}
	if (r < 0) {
		free(d.v);
		return r;
	}
	*ret = d.v;
	*ret_n = d.n;
	return 0;
}

/* ---- route lookup ------------------------------------------------------- */

static int route_valid(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[RTA_MAX + 1];
	int *oif = arg, r;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (!nlmsg_valid_hdr(nlh, sizeof(struct rtmsg)))
		return -EBADMSG;
	r = nlmsg_parse(nlh, sizeof(struct rtmsg), tb, RTA_MAX, NULL);
	if (r < 0)
		return nle_to_errno(r);
	if (tb[RTA_OIF] && nla_len(tb[RTA_OIF]) >= (int)sizeof(uint32_t))
		*oif = (int)nla_get_u32(tb[RTA_OIF]);
	return 0;
}

int netcfg_route_oif(struct netcfg *nc, const struct sockaddr_storage *dst,
		     int *ret_ifindex)
{
	const struct sockaddr_in6 *sin6;
	struct rtmsg rtm = { 0 };
	struct nl_msg *msg;
	const void *addr;
	uint32_t scope = 0;
	int oif = 0, r;

	switch (dst->ss_family) {
	case AF_INET:
		rtm.rtm_family = AF_INET;
		addr = &((const struct sockaddr_in *)dst)->sin_addr;
		rtm.rtm_dst_len = 32;
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)dst;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			/* A dual-stack socket sends these over IPv4. */
			rtm.rtm_family = AF_INET;
			addr = &sin6->sin6_addr.s6_addr[12];
			rtm.rtm_dst_len = 32;
		} else {
			rtm.rtm_family = AF_INET6;
			addr = &sin6->sin6_addr;
			rtm.rtm_dst_len = 128;
			scope = sin6->sin6_scope_id;
		}
		break;
	default:
		return -EAFNOSUPPORT;
	}

	msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, rtm.rtm_dst_len / 8, addr) < 0 ||
	    (scope && nla_put_u32(msg, RTA_OIF, scope) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = nc_transact(nc, msg, route_valid, &oif);
	if (r < 0)
		return r;
	if (oif <= 0)
		return -ENETUNREACH;
	*ret_ifindex = oif;
	return 0;
}

static bool index_in(int ifindex, const int *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == ifindex)
			return true;
	return false;
}

/* How many lower links (a VLAN on a VLAN on a bridge ...) to follow. */
#define NETCFG_ROUTE_MAX_DEPTH 4

int netcfg_route_via_bridge(struct netcfg *nc, const struct sockaddr_storage *dst,
			    const int *bridge_ifindexes, size_t n, int *ret_bridge)
{
	struct link_info li;
	int ifindex, depth, r;

	r = netcfg_route_oif(nc, dst, &ifindex);
	if (r < 0)
		return r;
	for (depth = 0; depth < NETCFG_ROUTE_MAX_DEPTH && ifindex > 0; depth++) {
		if (index_in(ifindex, bridge_ifindexes, n))
			goto found;
		r = get_link_info(nc, NULL, ifindex, &li);
		if (r == -ENODEV)
			return 0;   /* gone meanwhile: not a bridge of ours */
		if (r < 0)
			return r;
		if (li.link.master > 0 && index_in(li.link.master, bridge_ifindexes, n)) {
			ifindex = li.link.master;
			goto found;
		}
		/* A VLAN device sends through its parent, which may be the
		 * bridge; other stacked kinds (veth's IFLA_LINK is its peer)
		 * are not followed. */
		if (strcmp(li.link.kind, "vlan") != 0)
			break;
		ifindex = li.lower;
	}
	return 0;
found:
	if (ret_bridge)
		*ret_bridge = ifindex;
	return 1;
}

/* ---- lifecycle ---------------------------------------------------------- */

int netcfg_new(struct netcfg **ret)
{
	struct netcfg *nc;
	int one = 1, rcvbuf = NETCFG_EVENT_RCVBUF, r;

	nc = calloc(1, sizeof(*nc));
	if (!nc)
		return -ENOMEM;

	nc->req = nl_socket_alloc();
	nc->ev = nl_socket_alloc();
	if (!nc->req || !nc->ev) {
		r = -ENOMEM;
		goto err;
	}

	r = nl_connect(nc->req, NETLINK_ROUTE);
	if (r < 0)
		goto err_nl;
	/* Extended acks: the kernel's reason for a refusal, for the log. */
	(void)setsockopt(nl_socket_get_fd(nc->req), SOL_NETLINK, NETLINK_EXT_ACK,
			 &one, sizeof(one));

	/* Notifications carry the kernel's sequence numbers, not ours. */
	nl_socket_disable_seq_check(nc->ev);
	r = nl_socket_modify_cb(nc->ev, NL_CB_VALID, NL_CB_CUSTOM, ev_valid, nc);
	if (r < 0)
		goto err_nl;
	r = nl_connect(nc->ev, NETLINK_ROUTE);
	if (r < 0)
		goto err_nl;
	r = nl_socket_add_memberships(nc->ev, RTNLGRP_LINK, RTNLGRP_NEIGH, 0);
	if (r < 0)
		goto err_nl;
	r = nl_socket_set_nonblocking(nc->ev);
	if (r < 0)
		goto err_nl;
	/* nl_connect() set 32 KiB; SO_RCVBUF is capped by rmem_max, so as
	 * root try SO_RCVBUFFORCE first. */
	r = nl_socket_set_buffer_size(nc->ev, rcvbuf, 0);
	if (r < 0)
		goto err_nl;
	if (setsockopt(nl_socket_get_fd(nc->ev), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)) < 0)
		log_debug("netlink: SO_RCVBUFFORCE: %s, using SO_RCVBUF",
			  strerror(errno));

	*ret = nc;
	return 0;

err_nl:
	r = nle_to_errno(r);
err:
	netcfg_free(nc);
	return r;
}

void netcfg_free(struct netcfg *nc)
{
	if (!nc)
		return;
	nl_socket_free(nc->ev);   /* closes the socket too; NULL-safe */
	nl_socket_free(nc->req);
	free(nc);
}

/* ---- writes ------------------------------------------------------------- */

int netcfg_set_up(struct netcfg *nc, int ifindex, bool up)
{
	struct nl_msg *msg;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (ifindex <= 0)
		return -EINVAL;
	msg = link_msg(RTM_SETLINK, 0, AF_UNSPEC, ifindex);
	if (!msg)
		return -ENOMEM;
	nlh = nlmsg_hdr(msg);
	ifi = nlmsg_data(nlh);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return nc_transact(nc, msg, NULL, NULL);
}

static int set_link_u32(struct netcfg *nc, int ifindex, int attr, uint32_t v)
{
	struct nl_msg *msg;

	if (ifindex <= 0)
		return -EINVAL;
	msg = link_msg(RTM_SETLINK, 0, AF_UNSPEC, ifindex);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, attr, v) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return nc_transact(nc, msg, NULL, NULL);
}

int netcfg_set_mtu(struct netcfg *nc, int ifindex, unsigned mtu)
{
	if (mtu == 0)
		return -EINVAL;
	return set_link_u32(nc, ifindex, IFLA_MTU, mtu);
}

/* Moves port into master (0: out of any), then verifies by re-reading: a
 * kernel that silently ignores IFLA_MASTER is an error, not a success. */
static int set_master(struct netcfg *nc, int port, int master)
{
	struct netcfg_link l;
	int r;

	r = netcfg_get_link_by_index(nc, port, &l);
	if (r < 0)
		return r;
	if (l.master == master)
		return 0;
	r = set_link_u32(nc, port, IFLA_MASTER, (uint32_t)master);
	if (r < 0)
		return r;
	r = netcfg_get_link_by_index(nc, port, &l);
	if (r < 0)
		return r;
	if (l.master != master) {
		log_debug("%s: master is %d after setting %d", l.name, l.master, master);
		return -EIO;
	}
	return 0;
}

int netcfg_enslave(struct netcfg *nc, int port_ifindex, int bridge_ifindex)
{
	if (bridge_ifindex <= 0 || port_ifindex == bridge_ifindex)
		return -EINVAL;
	return set_master(nc, port_ifindex, bridge_ifindex);
}

int netcfg_release(struct netcfg *nc, int port_ifindex)
{
	return set_master(nc, port_ifindex, 0);
}

int netcfg_port_set_state(struct netcfg *nc, int ifindex, enum port_state s)
{
	enum port_state want = s;
	struct link_info br;
	struct netcfg_link l;
	struct nl_msg *msg;
	struct nlattr *pi;
	int r;

	if ((unsigned)s >= _PORT_STATE_MAX)
		return -EINVAL;
	r = netcfg_get_link_by_index(nc, ifindex, &l);
	if (r < 0)
		return r;
	/*
	 * Kernel quirk: with STP off (BR_NO_STP), br_set_port_state() ends in
	 * br_port_state_selection(), which at once turns a BLOCKING designated
	 * port back to FORWARDING (br_make_forwarding()), and the request is
	 * still acked. DISABLED is left alone by the selection, and it neither
	 * forwards nor learns either: on such a bridge it is what "blocking"
	 * means.
	 */
	if (s == PORT_STATE_BLOCKING && l.master > 0) {
		r = get_link_info(nc, NULL, l.master, &br);
		if (r < 0)
			return r;
		if (br.br_stp_state == 0)
			want = PORT_STATE_DISABLED;
	}
	if (l.port_state == (int)want)
		return 0;

	msg = link_msg(RTM_SETLINK, 0, AF_BRIDGE, ifindex);
	if (!msg)
		return -ENOMEM;
	/* NLA_F_NESTED matters here: without it br_setlink() takes
	 * IFLA_PROTINFO as the old bare-u8 RSTP format. */
	pi = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED);
	if (!pi || nla_put_u8(msg, IFLA_BRPORT_STATE, (uint8_t)want) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, pi);
	r = nc_transact(nc, msg, NULL, NULL);
	if (r < 0)
		return r;

	r = netcfg_get_link_by_index(nc, ifindex, &l);
	if (r < 0)
		return r;
	if (l.port_state != (int)want) {
		log_debug("%s: port state is %d after setting %d", l.name,
			  l.port_state, (int)want);
		return -EIO;
	}
	return 0;
}

/* RTM_NEWLINK of kind "bridge" with one IFLA_INFO_DATA option. libnl 3.7
 * has no setters for IFLA_BR_*, hence the hand-built message. With name
 * and NLM_F_CREATE it creates the bridge (or changes an existing one). */
static int bridge_newlink(struct netcfg *nc, const char *name, int ifindex,
			  int attr, uint32_t v)
{
	struct nlattr *linkinfo, *data;
	struct nl_msg *msg;

	msg = link_msg(RTM_NEWLINK, name ? NLM_F_CREATE : 0, AF_UNSPEC, ifindex);
	if (!msg)
		return -ENOMEM;
	if (name && nla_put_string(msg, IFLA_IFNAME, name) < 0)
		goto nomem;
	linkinfo = nla_nest_start(msg, IFLA_LINKINFO);
	if (!linkinfo || nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0)
		goto nomem;
	data = nla_nest_start(msg, IFLA_INFO_DATA);
	if (!data || nla_put_u32(msg, attr, v) < 0)
		goto nomem;
	nla_nest_end(msg, data);
	nla_nest_end(msg, linkinfo);
	return nc_transact(nc, msg, NULL, NULL);
nomem:
	nlmsg_free(msg);
	return -ENOMEM;
}

static int addr_add(struct netcfg *nc, int ifindex, const char *cidr)
{
	struct nl_addr *local = NULL;
	struct rtnl_addr *a = NULL;
	int r;

	r = nl_addr_parse(cidr, AF_UNSPEC, &local);
	if (r < 0)
		return -EINVAL;
	/* nl_addr_parse() also takes "default", "any" ...: not addresses. */
	if ((nl_addr_get_family(local) != AF_INET &&
	     nl_addr_get_family(local) != AF_INET6) || nl_addr_get_len(local) == 0) {
		r = -EINVAL;
		goto out;
	}
	a = rtnl_addr_alloc();
	if (!a) {
		r = -ENOMEM;
		goto out;
	}
	rtnl_addr_set_ifindex(a, ifindex);
	r = rtnl_addr_set_local(a, local);   /* also the family and prefix length */
	if (r < 0)
		goto out_nl;
	r = rtnl_addr_add(nc->req, a, NLM_F_EXCL);
	if (r == -NLE_EXIST)
		r = 0;
out_nl:
	r = nle_to_errno(r);
out:
	rtnl_addr_put(a);
	nl_addr_put(local);
	return r;
}

int netcfg_bridge_ensure(struct netcfg *nc, const struct bridge_cfg *b,
			 struct netcfg_bridge_report *ret)
{
	struct netcfg_bridge_report dummy;
	struct link_info li;
	uint32_t stp = b->stp ? 1 : 0, fwd;
	int r;

	if (!ret)
		ret = &dummy;
	memset(ret, 0, sizeof(*ret));
	if (b->forward_delay > UINT32_MAX / NETCFG_USER_HZ) {
		snprintf(ret->failed, sizeof(ret->failed), "forward delay %us out of range",
			 b->forward_delay);
		return -ERANGE;
	}
	fwd = b->forward_delay * NETCFG_USER_HZ;

	r = get_link_info(nc, b->name, 0, &li);
	if (r == -ENODEV) {
		/* No NLM_F_EXCL: if someone creates it meanwhile, this
		 * changes theirs, which is what adopting means. */
		r = bridge_newlink(nc, b->name, 0, IFLA_BR_STP_STATE, stp);
		if (r < 0) {
			snprintf(ret->failed, sizeof(ret->failed), "cannot create the bridge");
			return r;
		}
		ret->created = true;	/* the caller says so (once) */
		r = get_link_info(nc, b->name, 0, &li);
	}
	if (r < 0) {
		snprintf(ret->failed, sizeof(ret->failed), "cannot read the link");
		return r;
	}
	if (strcmp(li.link.kind, "bridge") != 0) {
		snprintf(ret->failed, sizeof(ret->failed), "exists as a link of kind \"%s\", not a bridge",
			 li.link.kind[0] ? li.link.kind : "none");
		return -EEXIST;
	}

	/*
	 * Each option is written only when it differs: a write makes the
	 * kernel send RTM_NEWLINK, which would wake our own reconcile loop.
	 * STP goes before the forward delay, each in its own message: the
	 * kernel applies IFLA_BR_FORWARD_DELAY first and, while STP is on,
	 * refuses delays outside 2..30 s with ERANGE, so turning STP off and
	 * the delay to 0 in one message fails.
	 */
	/* 1 is kernel STP, 2 user-space STP: both are "on". */
	if (li.br_stp_state < 0 || (li.br_stp_state != 0) != (stp != 0)) {
		r = bridge_newlink(nc, NULL, li.link.ifindex, IFLA_BR_STP_STATE, stp);
		if (r < 0) {
			snprintf(ret->failed, sizeof(ret->failed), "cannot set STP %s", stp ? "on" : "off");
			return r;
		}
	}
	if (li.br_forward_delay != (long)fwd) {
		r = bridge_newlink(nc, NULL, li.link.ifindex, IFLA_BR_FORWARD_DELAY, fwd);
		if (r < 0) {
			snprintf(ret->failed, sizeof(ret->failed), "cannot set forward delay %us",
				 b->forward_delay);
			return r;
		}
	}
	if (b->mtu && li.link.mtu != b->mtu) {
		r = netcfg_set_mtu(nc, li.link.ifindex, b->mtu);
		if (r < 0) {
			snprintf(ret->failed, sizeof(ret->failed), "cannot set MTU %u", b->mtu);
			return r;
		}
	}
	if (b->address[0]) {
		r = addr_add(nc, li.link.ifindex, b->address);
		if (r < 0) {
			snprintf(ret->failed, sizeof(ret->failed), "cannot add address %s", b->address);
			return r;
		}
	}
	if (!(li.link.flags & IFF_UP)) {
		r = netcfg_set_up(nc, li.link.ifindex, true);
		if (r < 0) {
			snprintf(ret->failed, sizeof(ret->failed), "cannot bring it up");
			return r;
		}
	}
	ret->ifindex = li.link.ifindex;
	return 0;
}
