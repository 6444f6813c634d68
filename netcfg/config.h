/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration model of bridged (one daemon per host) and its parser.
 *
 * File format (INI, read by config.c; see docs/CONFIG.md):
 *
 *   [Node]
 *   PrivateKeyFile = /etc/bridged/private.key
 *   ListenAddress  = 198.18.0.1        (default: any IPv4 address)
 *   ListenPort     = 5880              (default 5880)
 *   ControlSocket  = /run/bridged.sock (default)
 *   ControlGroup   = NAME | none  (default none: root only) a group whose
 *                    members may use the control socket too
 *   DeadAfter      = 800ms  a tunnel with nothing received this long is down
 *   ProbeInterval  = 300ms  loop-guard probes into every tunnel port
 *   IdleKeepalive  = 1s     an idle tunnel (no frames for 2 s) sends one
 *                           keepalive this often and no probes (0: off)
 *   LoopRetryMin   = 2s     a port blocked for a loop is retried after this,
 *   LoopRetryMax   = 60s      doubling up to this
 *   MacFlapMoves   = 5      this many moves of one MAC ...
 *   MacFlapWindow  = 10s      ... within this window raise a loop alarm
 *   StormLimit     = 2000   broadcast/multicast/unknown-unicast frames per
 *                           second into one tunnel port (0: no limit)
 *   MetricsListen  = 9587 | 127.0.0.1:9587 | none  Prometheus text over HTTP
 *                    (a port alone: 127.0.0.1; default none)
 *   MetricsFile    = /var/lib/node_exporter/bridged.prom | none
 *   MigrateListen  = 198.18.0.1:5881 | none  (default none) the source side
 *                    of a disk copy, served to authenticated [Peer]s only
 *   XenConfigDir   = /etc/xen   (default) where MigrateListen finds the VMs'
 *                    Xen configs (NAME or NAME.cfg)
 *   StateFile      = /var/lib/bridged/endpoints | none  (default the former)
 *                    each peer's last confirmed endpoint, kept across
 *                    restarts as a hint (bridged/epstate.h)
 *
 *   [Bridge br-dmz]
 *   Segment      = dmz        (default: the bridge name)
 *   STP          = off        (default off)
 *   ForwardDelay = 0          (seconds, default 0)
 *   Address      = 198.18.5.1/24  (optional)
 *   MTU          = 1500       (optional, 0 = leave as is)
 *
 *   [Peer newhost]
 *   PublicKey  = base64 X25519 public key (44 chars)
 *   Endpoint   = 198.18.0.2:5880 | none  (none: listen-only side)
 *   Segments   = dmz, br-sv   (comma/space separated; must be defined by a
 *                              [Bridge] of this file)
 *   Encryption = aead | none  (default aead)
 *   Keepalive  = 250ms | 1s | 0.5  (interval, default 250 ms; 0 disables)
 *
 * The parser does no I/O of its own on the key file: PrivateKeyFile is a
 * path; the daemon loads it.
 */
#ifndef BRIDGED_NETCFG_CONFIG_H
#define BRIDGED_NETCFG_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/keys.h"

#define CONFIG_DEFAULT_PATH    "/etc/bridged/bridged.conf"
#define CONFIG_DEFAULT_PORT    5880
#define CONFIG_DEFAULT_SOCKET  "/run/bridged.sock"
#define CONFIG_DEFAULT_KEEPALIVE_MS 250
#define CONFIG_NAME_MAX        32   /* segment and peer names, incl. NUL */
#define CONFIG_PATH_MAX        256
#define CONFIG_GROUP_MAX       33   /* a group name (useradd's 32), incl. NUL */
#define CONFIG_DEFAULT_XEN_DIR "/etc/xen"
#define CONFIG_DEFAULT_STATE_FILE "/var/lib/bridged/endpoints"
#define CONFIG_DEFAULT_MIGRATE_SOURCE "xl"
#define CONFIG_DEFAULT_XEN_AUTO_DIR "/etc/xen/auto"
#define CONFIG_DEFAULT_XEN_SAVE_DIR "/var/lib/xen/save"
#define CONFIG_DEFAULT_MIGRATE_STATE_DIR "/var/lib/bridged/source"

enum encryption {
	ENCRYPTION_AEAD,
	ENCRYPTION_NONE,
	_ENCRYPTION_MAX,
};

/* "aead" / "none"; NULL for out-of-range values. */
const char *encryption_to_string(enum encryption e);

#define CONFIG_WORKERS_MAX 8

struct node_cfg {
	char private_key_file[CONFIG_PATH_MAX];
	struct sockaddr_storage listen;  /* address and port, AF_INET or AF_INET6 */
	socklen_t listen_len;
	char control_socket[108];        /* sizeof(sun_path) */
	char control_group[CONFIG_GROUP_MAX]; /* "" none: root only */
	unsigned dead_after_ms;
	unsigned probe_interval_ms;
	unsigned idle_keepalive_ms;      /* idle peers: one keepalive this often; 0: idle mode off */
	unsigned loop_retry_min_ms, loop_retry_max_ms;
	unsigned mac_flap_moves;
	unsigned mac_flap_window_ms;
	unsigned storm_limit;            /* frames/s, 0: none */
	bool offload_off;                /* Offload = off: no TAP/UDP offloads, no GSO frames */
	bool superframes_whole;          /* SuperFrames = whole: GSO frames as fragments of the whole */
	bool steering_cpu;               /* Steering = cpu: worker i on CPU i, datagrams by receiving CPU */
	unsigned workers;                /* Workers = N data path threads, 0: auto (CPUs, at most CONFIG_WORKERS_MAX) */
	bool has_metrics_listen;
	struct sockaddr_storage metrics_listen;
	socklen_t metrics_listen_len;
	char metrics_file[CONFIG_PATH_MAX]; /* "" none */
	bool has_migrate_listen;         /* false: the migration source is off */
	struct sockaddr_storage migrate_listen;
	socklen_t migrate_listen_len;
	char xen_config_dir[CONFIG_PATH_MAX];
	char migrate_source[CONFIG_PATH_MAX];      /* "xl", "xm", "libvirt:URI" */
	char migrate_source_tool[CONFIG_PATH_MAX]; /* xl/xm program; "" the default */
	char xen_auto_dir[CONFIG_PATH_MAX];        /* "" none */
	char xen_save_dir[CONFIG_PATH_MAX];        /* "" none */
	char migrate_state_dir[CONFIG_PATH_MAX];   /* the autostart journals */
	char state_file[CONFIG_PATH_MAX];   /* "" none */
	/* User: the account the network process runs as after start-up
	 * (docs/SECURITY.md); "" the default (bridged when it exists, else
	 * root with a warning), "root": no drop */
	char user[CONFIG_NAME_MAX];
};

struct bridge_cfg {
	char name[IFNAMSIZ];
	char segment[CONFIG_NAME_MAX];
	bool stp;
	unsigned forward_delay;          /* seconds */
	char address[64];                /* "198.18.5.1/24" or "" */
	unsigned mtu;                    /* 0: leave the kernel's value */
	unsigned line;                   /* where the section started */
};

struct peer_cfg {
	char name[CONFIG_NAME_MAX];
	uint8_t public_key[KEY_LEN];
	bool has_endpoint;
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	char (*segments)[CONFIG_NAME_MAX];
	size_t n_segments;
	enum encryption encryption;
	unsigned keepalive_ms;           /* 0: none */
	unsigned line;
};

struct config {
	char *path;                      /* as given, for messages */
	struct node_cfg node;
	struct bridge_cfg *bridges;
	size_t n_bridges;
	struct peer_cfg *peers;
	size_t n_peers;
};

/* Error messages from a parse, each "file:line: [Section] Key: what". */
struct config_errors {
	char **msgs;
	size_t n;
};

/*
 * Parses and validates a whole configuration held in memory. name is used in
 * messages only. On success returns 0 and *ret a new config; on a bad config
 * returns -EINVAL with every problem found appended to errs (errs may be
 * NULL); -ENOMEM on allocation failure. *ret is untouched on failure.
 */
int config_parse_buffer(const char *name, const char *buf, size_t len,
			struct config **ret, struct config_errors *errs);
/* Reads path and calls config_parse_buffer(); -errno if it cannot be read
 * (with a message in errs). */
int config_parse_file(const char *path, struct config **ret,
		      struct config_errors *errs);
/* The same from an open descriptor (taken over: closed), named path in
 * the messages: the reload of a daemon that dropped its privileges gets
 * the file opened by its privileged helper. */
int config_parse_fd(const char *path, int fd, struct config **ret,
		    struct config_errors *errs);
void config_free(struct config *c);
void config_errors_clear(struct config_errors *errs);

/* Prints the canonical form: every key, defaults made explicit, fixed order.
 * The output parses again to an equal config. */
void config_print(const struct config *c, FILE *f);

/* Lookups; NULL when absent. */
const struct bridge_cfg *config_bridge_by_segment(const struct config *c,
						  const char *segment);
const struct peer_cfg *config_peer_by_name(const struct config *c,
					   const char *name);
/* True when the two peer entries describe the same tunnel (key, endpoint,
 * segments, encryption, keepalive): SIGHUP keeps such a peer untouched. */
bool peer_cfg_equal(const struct peer_cfg *a, const struct peer_cfg *b);

/* The inverse: "198.18.0.2:5880" / "[2001:db8::1]:5880" (literal addresses
 * only) into *ret; -EINVAL, *ret untouched, for anything else. */
int sockaddr_from_string(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len);
/* "198.18.0.2:5880" / "[2001:db8::1]:5880" into buf. */
/* Whether ss is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
bool sockaddr_is_loopback(const struct sockaddr_storage *ss);
const char *sockaddr_to_string(const struct sockaddr_storage *ss, char *buf,
			       size_t len);

#endif
