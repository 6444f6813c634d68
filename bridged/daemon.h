/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's state: one instance, owned by main(), passed everywhere.
 * Peers own their TAP ports; the tunnel engine owns sessions and keys.
 */
#ifndef BRIDGED_DAEMON_H
#define BRIDGED_DAEMON_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bridged/conn.h"
#include "bridged/epstate.h"
#include "bridged/health.h"
#include "bridged/loop.h"
#include "bridged/loopguard.h"
#include "netcfg/config.h"
#include "tunnel/datapath.h"
#include "tunnel/tunnel.h"

struct netcfg;
struct netcfg_fdb_event;
struct netcfg_link;

enum tap_drop {
	TAP_DROP_WRITE,      /* the TAP would not take a frame (queue full) */
	TAP_DROP_READ,       /* read error on the TAP */
	TAP_DROP_GUARD,      /* the port is not forwarding (probing, blocked, down) */
	TAP_DROP_STORM,      /* broadcast/multicast/unknown unicast over StormLimit */
	TAP_DROP_PROBE,      /* loop-guard probes taken out of the data path */
	_TAP_DROP_MAX,
};
extern const char *const tap_drop_names[_TAP_DROP_MAX];

/* MACs seen behind a tunnel port (sources of frames from the peer): a
 * unicast frame to a MAC not in here is unknown unicast (flooded). */
#define SEEN_SETS 256
#define SEEN_WAYS 4
struct seen_macs {
	uint8_t mac[SEEN_SETS][SEEN_WAYS][6];
	uint8_t next[SEEN_SETS];       /* round-robin replacement */
};

/* One TAP per (peer, segment), enslaved to the segment's bridge. */
struct tap_port {
	struct loop_source src;        /* src.fd == tport.fd */
	struct tunnel_port tport;      /* its side of the data path */
	struct dpeer *peer;
	size_t seg;                    /* index into peer->cfg.segments */
	char name[IFNAMSIZ];
	char bridge[IFNAMSIZ];
	bool offload_set;              /* tport.offload was asked of the kernel */
	uint64_t drops[_TAP_DROP_MAX];
	/* loop guard */
	enum guard_state guard;
	struct loop_timer timer;       /* its next probe, round end, retry */
	uint64_t guard_since_ns;
	uint64_t last_probe_ns;
	uint64_t probe_deadline_ns;    /* PROBING: passes at this time */
	uint64_t next_probe_ns;        /* FORWARDING, BLOCKED: periodic probes */
	bool probe_forced;             /* the next one goes even if the tunnel is idle */
	uint64_t retry_at_ns;          /* BLOCKED: probe again at this time */
	uint64_t needed_ns;            /* BLOCKED: last seen holding a loop open alone */
	uint64_t probe_travel_ns;      /* how long our probes took round a loop through it (decaying max) */
	unsigned retries;
	uint64_t loops;                /* times blocked for a loop */
	bool mirrored;                 /* BLOCKED because the other end blocked it */
	bool retrying;                 /* PROBING: a retry of a block (was BLOCKED) */
	bool peer_known;               /* peer_flags were read off a probe */
	uint32_t peer_flags;           /* the other end's hop flags (its guard state) */
	uint32_t seg_id;
	struct storm_bucket storm;
	struct seen_macs seen;
};

struct dpeer {
	struct daemon *d;
	struct peer_cfg cfg;           /* deep copy: owns cfg.segments */
	struct tunnel_peer *tp;
	struct tap_port *taps;
	size_t n_taps;
	struct dpeer *next;
	uint8_t node_id[NODE_ID_LEN];  /* from its public key */
	/* health */
	struct loop_timer health_timer;
	enum health_state health;
	uint64_t health_since_ns;
	uint64_t down_rx_ns;           /* last_rx_ns when it went down: only a later packet revives it */
	struct health_loss loss;
	uint64_t last_loss_sample_ns;
	struct health_rtt rtt;
	uint64_t keepalives_rx_seen;
	bool carrier;
	uint64_t last_reject_log_ns;
	char refused[128];             /* non-empty: not started, and why */
	bool hinted;                   /* endpoint from the state file, not proven yet */
	uint64_t pmtu_check_ns;        /* path MTU below the configured: looked at again then */
};

/* A write-only TAP per bridge through which probes that arrive on a
 * non-forwarding tunnel port are flooded into the bridge. */
struct probe_port {
	struct loop_source src;        /* drained: the bridge floods into it */
	struct daemon *d;
	char name[IFNAMSIZ];
	char bridge[IFNAMSIZ];
	uint32_t seg_id;
	struct probe_port *next;       /* in probe_graveyard, once its bridge is gone */
};

/* Probes we sent, to accept each back at most once, fresh, from the port
 * it left through. */
#define SENT_PROBES 1024
struct sent_probe {
	uint64_t seq;
	uint64_t sent_ns;
	uint32_t seg_id;
	uint8_t peer[NODE_ID_LEN];
	bool used;
};

struct link_name {
	int ifindex;
	char name[IFNAMSIZ];
};

struct daemon {
	const char *config_path;
	struct config *cfg;
	struct loop *loop;
	struct tunnel *tunnel;
	struct netcfg *nc;
	uint8_t *private_key;          /* sodium_malloc */
	uint8_t public_key[KEY_LEN];
	struct loop_source udp, sig, nl;
	struct conn_server ctl_srv;    /* the control socket */
	gid_t ctl_gid;                 /* ControlGroup's gid, (gid_t)-1: none */
	struct dpeer *peers;
	struct dpeer *graveyard;       /* freed after the current loop round */
	struct probe_port *probe_graveyard; /* likewise: probe ports of removed bridges */
	/* The data path (workers.c): with one worker the main loop carries it
	 * through q, as it always did; with more, each worker thread has its
	 * own queue, TAP queue fds and UDP socket, and q is the main loop's
	 * own (timers, probes, handshakes) on the first worker's socket. */
	struct tunnel_queue q;
	unsigned n_workers;
	struct dp_worker *workers;     /* n_workers of them when n_workers > 1 */
	pthread_rwlock_t dp_rw;        /* workers read; the main loop writes (but in epoll_wait) */
	pthread_mutex_t dp_mu;         /* among workers: engine, guard, port counters */
	uint64_t dp_gen;               /* bumped when a TAP goes: workers drop their events */
	int dp_stop;                   /* atomic: workers exit */
	struct loop_source wake;       /* eventfd: a worker moved a deadline or passed a handshake */
	struct dp_mailbox *mailbox;    /* handshake messages from the workers */
	int uso_probe;                 /* the kernel's TAPs take USO: -1 not known yet, 0, 1 */
	uint64_t started_ns;
	int lock_fd;
	bool quit;
	bool resync;                   /* netlink says: reconcile */
	/* loop guard and health */
	uint8_t node_id[NODE_ID_LEN];
	uint8_t *probe_key;            /* sodium_malloc, 32 bytes */
	uint64_t probe_seq;
	struct sent_probe sent[SENT_PROBES];
	struct probe_port **probes;    /* one per configured bridge */
	size_t n_probes;
	struct mac_table macs;
	int *bridge_ifindex;           /* per configured bridge, from the last reconcile */
	struct link_name *names;       /* every link name seen, for events */
	size_t n_names, cap_names;
	struct loop_timer tunnel_timer; /* the tunnel engine's next deadline */
	struct loop_timer metrics_timer;/* MetricsFile: rewritten every second */
	struct conn_server metrics_srv; /* MetricsListen */
	struct loop_source migsrv;     /* MigrateListen, -1: off */
	uint64_t counters[8];          /* see enum daemon_counter */
	uint64_t now;                  /* monotonic time of the current batch */
	uint64_t last_unknown_log_ns;  /* rate limit for strangers' handshakes */
	/* StateFile: each peer's last confirmed endpoint (peer.c) */
	struct epstate epstate;
	bool epstate_dirty;            /* changed since the last save */
	struct loop_timer state_timer; /* writes it, at most once a second */
	uint64_t epstate_saved_ns;
	int epstate_err;               /* last save error logged (-errno), 0: none */
	/* the service manager (notify.c) */
	bool notify_on;                /* NOTIFY_SOCKET was set */
	struct loop_timer watchdog_timer; /* WATCHDOG=1 every half watchdog_ns */
	uint64_t watchdog_ns;          /* WATCHDOG_USEC, 0: no watchdog */
	uint64_t notify_checked_ns;
	char notify_status[240];       /* the last STATUS= sent */
};

enum daemon_counter {
	CNT_MAC_MOVES,
	CNT_MAC_FLAPS,
	CNT_LOOPS,
	CNT_EVENTS,
	CNT_CTL_REFUSED,     /* control socket clients refused (SO_PEERCRED) */
};

/* workers.c: the data path's worker threads (Workers = N). */
/* Opens the UDP socket(s) and the workers' queues; workers_launch then starts
 * their threads, after daemon() (the main loop holds the data path lock from
 * then on but while it sleeps). */
void workers_start(struct daemon *d);
/* Starts their threads (after daemon(): threads do not survive a fork). */
void workers_launch(struct daemon *d);
void workers_stop(struct daemon *d);
/* The queue of the calling thread: a worker's, else the main loop's. */
struct tunnel_queue *daemon_queue(struct daemon *d);
/* The port's TAP fds go into (out of) the workers' epoll sets. */
void workers_port_add(struct daemon *d, struct tap_port *t);
void workers_port_del(struct daemon *d, struct tap_port *t);
/* The number of workers Workers = auto|N gives on this machine. */
unsigned workers_count(const struct config *cfg);
/* The CPU worker i keeps to (Steering = cpu), or -1. */
int workers_cpu(const struct daemon *d, unsigned i);
/* The steering in use: "none" (one thread), "cpu" or "hash". */
const char *workers_steering(const struct daemon *d);
/* The per-queue statistics (one entry per worker). */
struct tunnel_queue *daemon_queue_at(struct daemon *d, unsigned i);

/* peer.c */
int dpeer_add(struct daemon *d, const struct peer_cfg *pc);
/* Unlinks the peer, closes its TAPs, removes it from the tunnel; the memory
 * is freed by daemon_collect() after the loop round. */
void dpeer_remove(struct daemon *d, struct dpeer *p);
void daemon_collect(struct daemon *d);
void daemon_flush(struct daemon *d);
void daemon_udp_cb(struct loop_source *s, uint32_t events);
/* The port's drop counters, the data path's included. */
void tap_port_drops(const struct tap_port *t, uint64_t ret[_TAP_DROP_MAX]);
extern const struct tunnel_port_ops daemon_port_ops;
extern const struct tunnel_callbacks daemon_tunnel_callbacks;
/* Reopens a TAP that someone deleted. */
int tap_port_reopen(struct tap_port *t);
void tap_port_sync_offload(struct tap_port *t);
/* The state file (StateFile): read at start, before the peers are added
 * (a problem is logged, the daemon starts without remembered endpoints);
 * saved when a confirmed endpoint changed, at most once a second, and with
 * force at a clean exit. */
void daemon_state_load(struct daemon *d);
void daemon_state_save(struct daemon *d, uint64_t now, bool force);

/* netsync.c: desired state of bridges and ports vs. the kernel. */
int daemon_bridges_ensure(struct daemon *d);
int daemon_reconcile(struct daemon *d);
void daemon_nl_cb(struct loop_source *s, uint32_t events);

/* ctl.c: the control socket and the event stream. */
int ctl_open(struct daemon *d);
void ctl_close(struct daemon *d);
struct json_object;
/* Sends an event (takes ownership of o, adds "time" and "type") to every
 * `bridgectl events` client. */
void ctl_event(struct daemon *d, const char *type, struct json_object *o);
void ctl_collect(struct daemon *d);

/* guard.c: the loop guard of the tunnel ports (docs/LOOPGUARD.md). */
int guard_init(struct daemon *d);
void guard_free(struct daemon *d);
void guard_peer_init(struct daemon *d, struct dpeer *p);
void guard_port_init(struct daemon *d, struct tap_port *t);
/* Disarms the port's timer (before the port goes away). */
void guard_port_stop(struct daemon *d, struct tap_port *t);
void guard_port_rebridged(struct daemon *d, struct tap_port *t, uint64_t now);
/* The peer's carrier went on (the port starts probing) or off (down). */
void guard_port_carrier(struct daemon *d, struct tap_port *t, bool on, uint64_t now);
/* A forwarding port sends its next probe now (a loop is suspected). */
void guard_port_probe_now(struct daemon *d, struct tap_port *t, uint64_t now);
void guard_links_changed(struct daemon *d, uint64_t now);
/* Frame from the TAP towards the tunnel: false = do not send it (the frame
 * may be modified in place and grow by a probe hop: cap is its buffer). */
bool guard_tap_frame(struct tap_port *t, uint8_t *frame, size_t *len, size_t cap, uint64_t now);
/* Frame from the tunnel towards the TAP: false = do not write it. */
bool guard_tunnel_frame(struct tap_port *t, const uint8_t *frame, size_t len, uint64_t now);
/* A probe came back to this node, from the tunnel of peer `from` (NULL:
 * through the bridge): a loop if it is ours, a hint if we carried it.
 * True when the frame must go no further. */
struct probe;
bool guard_probe_returned(struct daemon *d, const struct probe *pr, const uint8_t *from,
			  const char *where, uint64_t now);
/* Whether the port is held blocked (for reconcile). */
bool guard_port_blocked(const struct tap_port *t);
void guard_peer_refuse_check(struct daemon *d, struct dpeer *p);

/* peerhealth.c: per peer health, carrier, on a timer. */
void peerhealth_init(struct daemon *d, struct dpeer *p);
/* Looks at the peer's health now (a session came up or went down). */
void peerhealth_kick(struct dpeer *p);
/* Path MTU (peerhealth.c): read the kernel's path MTU to p's endpoint and
 * tell the engine; for every peer a learnt path MTU limits, on a link change. */
struct tunnel_peer_stats;
void peer_path_mtu_check(struct daemon *d, struct dpeer *p, const struct tunnel_peer_stats *st);
void peers_path_mtu_changed(struct daemon *d);
void peerhealth_stop(struct dpeer *p);

/* probeport.c: one probe port per bridge. */
int probeports_sync(struct daemon *d);
void probeports_free(struct daemon *d);
int probeport_open(struct daemon *d, struct probe_port *pp);
struct probe_port *probeport_by_name(struct daemon *d, const char *name);
struct probe_port *probeport_for_bridge(struct daemon *d, const char *bridge);
void probeports_collect(struct daemon *d);

/* macwatch.c: the MAC-move watch (FDB notifications). */
void macwatch_init(struct daemon *d);
void macwatch_free(struct daemon *d);
void macwatch_fdb_cb(void *ctx, const struct netcfg_fdb_event *ev);
/* Adds learned MACs the history does not know (after lost notifications). */
void macwatch_resync(struct daemon *d);
void macwatch_seed(struct daemon *d, int bridge_ifindex);
/* A loop-guard probe's source MAC (prefix 02:62:64), not a VM's. */
bool macwatch_is_probe_mac(const uint8_t mac[6]);

/* notify.c: systemd's notify protocol (no-ops without NOTIFY_SOCKET).
 * ready: after start-up (daemonized: after the fork; sends MAINPID), arms
 * the watchdog keep-alive; reloading/reloaded around SIGHUP; status_update
 * after each loop round sends STATUS= when the peer summary changed. */
void notify_ready(struct daemon *d, bool daemonized);
void notify_reloading(struct daemon *d);
void notify_reloaded(struct daemon *d);
void notify_status_update(struct daemon *d);
void notify_stopping(struct daemon *d);

/* fdbquery.c: the `fdb` request ("fdb [segment NAME] [MAC...]", args is
 * what follows "fdb"): the learned MACs of the segment bridges, by port
 * (docs/CONTROL.md); an {"error": ...} document for a bad request. */
struct ctl_request;
struct json_object *fdbquery_json(struct daemon *d, const struct ctl_request *r);

/* names.c: names for logs and events. */
void names_note_links(struct daemon *d, const struct netcfg_link *links, size_t n);
const char *names_link(struct daemon *d, int ifindex, char buf[IFNAMSIZ + 16]);
const char *names_node(struct daemon *d, const uint8_t id[NODE_ID_LEN], char *buf, size_t len);

/* metrics.c */
int metrics_open(struct daemon *d);
void metrics_close(struct daemon *d);
void metrics_write_file(struct daemon *d);

/* migsrv.c: the source side of a disk copy (MigrateListen). Each connection
 * is served by a forked child; migsrv_reap() collects them (SIGCHLD). */
int migsrv_open(struct daemon *d);
void migsrv_close(struct daemon *d);
void migsrv_reap(struct daemon *d);
/* The root side of one connection's channel (priv.c forks it in the
 * privileged helper): serves the worker's requests until it closes the
 * channel; the exit status. */
int migsrv_root_main(const struct config *cfg, int chan);

#endif
