/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loop guard decisions, pure (no I/O, time passed in), unit-tested in
 * tests/unit/test_loopguard.c. The daemon (guard.c) wires them to TAPs,
 * netlink port states and the event stream.
 *
 * Probes are Ethernet frames (ethertype 0x88B5, group address
 * 03:62:64:00:00:01) that a node sends through a tunnel port. Every daemon
 * that carries a probe through a tunnel appends a hop (from node, to node,
 * flags). A probe that reaches its origin again (or a node twice) proved a
 * loop, and its hop list names the tunnels the loop goes through: every
 * node that sees the loop picks the same victim (loopguard_victim) and the
 * two ends of that tunnel block it. Only the origin can verify a probe (a
 * MAC keyed by a secret derived from its private key): probes of others are
 * hints for loop-through-this-node detection, never trusted for more.
 */
#ifndef BRIDGED_LOOPGUARD_H
#define BRIDGED_LOOPGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_ETHERTYPE 0x88b5
#define PROBE_MAX_HOPS 16
#define PROBE_HDR_LEN 56          /* Ethernet + fixed part */
#define PROBE_HOP_LEN 20
#define PROBE_MAX_LEN (PROBE_HDR_LEN + PROBE_MAX_HOPS * PROBE_HOP_LEN)
#define NODE_ID_LEN 8

extern const uint8_t probe_dst_mac[6];

/* Hop flags: the state of the tunnel's ports when the probe crossed it,
 * ORed over both ends (the sender sets its end, the receiver adds its own). */
#define HOP_PROBING 0x01          /* probing at one end: not forwarding yet */
#define HOP_BLOCKED 0x02          /* held blocked at one end: a loop through it is broken */

struct probe_hop {
	uint8_t from[NODE_ID_LEN];
	uint8_t to[NODE_ID_LEN];
	uint32_t flags;
};

struct probe {
	uint8_t origin[NODE_ID_LEN];
	uint32_t segment;
	uint64_t seq;
	uint8_t mac[16];
	unsigned n_hops;
	struct probe_hop hops[PROBE_MAX_HOPS];
};

/* True when the frame is a probe (by ethertype and address). */
bool probe_is(const uint8_t *frame, size_t len);
/* Builds our probe (no hops yet); returns its length. key: 32 bytes. */
size_t probe_build(uint8_t *frame, const uint8_t origin[NODE_ID_LEN], uint32_t segment,
		   uint64_t seq, const uint8_t key[32]);
/* Parses a probe; -EINVAL when malformed. */
int probe_parse(const uint8_t *frame, size_t len, struct probe *ret);
/* Appends a hop in place; returns the new length, or -E2BIG when full. */
int probe_append_hop(uint8_t *frame, size_t len, size_t cap, const uint8_t from[NODE_ID_LEN],
		     const uint8_t to[NODE_ID_LEN], uint32_t flags);
/* ORs flags into the last hop's flags, in place (no-op without hops). */
void probe_mark_last_hop(uint8_t *frame, size_t len, uint32_t flags);
/* Checks the MAC of a probe that claims to be ours. */
bool probe_verify(const struct probe *p, const uint8_t key[32]);

/*
 * The tunnel to block for the loop the hop list describes, starting at
 * hops[first]. A loop that crosses a blocked tunnel is already broken:
 * returns 0, nothing to block (ret_a / ret_b zeroed). Otherwise returns 1:
 * the victim is one of the probing tunnels if any (the loop would form
 * when they forward), else one of all; among those, the greatest by the
 * (larger, smaller) node id pair, so every node that sees the loop picks
 * the same one. ret_a / ret_b get its two node ids.
 */
int loopguard_victim(const struct probe_hop *hops, unsigned n, unsigned first,
		     uint8_t ret_a[NODE_ID_LEN], uint8_t ret_b[NODE_ID_LEN]);
/*
 * Whether a loop that is already broken is broken by one block only: true
 * when exactly one tunnel of the loop (from hops[first]) does not forward
 * and it is blocked. Lifting that block would close the loop, so it is
 * still needed; ret_a / ret_b get its two node ids.
 */
bool loopguard_block_needed(const struct probe_hop *hops, unsigned n, unsigned first,
			    uint8_t ret_a[NODE_ID_LEN], uint8_t ret_b[NODE_ID_LEN]);
/* Index of the first hop sent by node (as 'from'), or -1. */
int probe_find_from(const struct probe *p, const uint8_t node[NODE_ID_LEN]);

/* The guard state of one tunnel port. */
enum guard_state {
	GUARD_DOWN,          /* tunnel not up: carrier off */
	GUARD_PROBING,       /* blocking, a probe round is running */
	GUARD_FORWARDING,
	GUARD_BLOCKED,       /* a loop went through it; retried later */
	_GUARD_STATE_MAX,
};

enum guard_event {
	GUARD_EV_TUNNEL_UP,
	GUARD_EV_TUNNEL_DOWN,
	GUARD_EV_PROBE_PASSED,   /* the probe round ended with no loop */
	GUARD_EV_LOOP,           /* this port is the victim of a loop */
	GUARD_EV_RETRY,          /* the block's back-off elapsed: probe again */
	_GUARD_EVENT_MAX,
};

const char *guard_state_to_string(enum guard_state s);
/* The hop flags a port in state s puts on the probes it carries. */
uint32_t guard_hop_flags(enum guard_state s);
const char *guard_event_to_string(enum guard_event e);
enum guard_state guard_next(enum guard_state s, enum guard_event ev);
/* Whether frames may pass the port in this state (probes always may). */
bool guard_forwards(enum guard_state s);
/* Back-off before retry number n (0-based) of a blocked port. */
uint64_t guard_backoff_ns(unsigned n, uint64_t min_ns, uint64_t max_ns);

/* MAC move history: one move is an event, many in a short time an alarm. */
struct mac_entry {
	uint8_t mac[6];
	int port;                     /* last port it was learned on, 0 none */
	uint64_t last_ns;
	uint64_t moves_ns[16];        /* ring of recent move times */
	unsigned n_moves, head;
	bool alarmed;
};

#define MAC_TABLE_MAX 8192

struct mac_table {
	struct mac_entry *e;
	size_t n, cap;
	unsigned flap_moves;          /* default 5 */
	uint64_t flap_window_ns;      /* default 10 s */
	uint64_t forget_ns;           /* entries idle this long are dropped */
};

enum mac_verdict {
	MAC_NEW,          /* first time seen */
	MAC_SAME,         /* refreshed on the same port */
	MAC_MOVED,        /* moved: an event */
	MAC_FLAPPING,     /* moved, and the moves in the window reached the limit: alarm */
};

/* Records that mac was learned on port at now; *ret_old_port the port it
 * was on before (for MOVED/FLAPPING). Returns a verdict or -ENOMEM. */
int mac_table_learn(struct mac_table *t, const uint8_t mac[6], int port, uint64_t now_ns,
		    int *ret_old_port);
/* Adds mac on port only if the table does not know it (initial state,
 * resync after lost notifications): never reports or records a move.
 * Returns 1 if added, 0 if known, -ENOMEM. */
int mac_table_seed(struct mac_table *t, const uint8_t mac[6], int port, uint64_t now_ns);
void mac_table_free(struct mac_table *t);

/* Token bucket for broadcast / multicast / unknown-unicast frames. */
struct storm_bucket {
	double tokens;
	uint64_t last_ns;
	unsigned rate;                /* frames per second, 0 = unlimited */
	unsigned burst;
};
/* True if the frame may pass (a token was taken). */
bool storm_allow(struct storm_bucket *b, uint64_t now_ns);

#endif
