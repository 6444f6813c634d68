/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's state: one instance, owned by main(), passed everywhere.
 * Peers own their TAP ports; the tunnel engine owns sessions and keys.
 */
#ifndef BRIDGED_DAEMON_H
#define BRIDGED_DAEMON_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "bridged/loop.h"
#include "netcfg/config.h"
#include "tunnel/tunnel.h"

struct netcfg;
struct ctl_client;

#define DAEMON_BATCH 64
#define DAEMON_FRAME_MAX 16384

enum tap_drop {
	TAP_DROP_WRITE,      /* the TAP would not take a frame (queue full) */
	TAP_DROP_READ,       /* read error on the TAP */
	_TAP_DROP_MAX,
};

/* One TAP per (peer, segment), enslaved to the segment's bridge. */
struct tap_port {
	struct loop_source src;
	struct dpeer *peer;
	size_t seg;                    /* index into peer->cfg.segments */
	char name[IFNAMSIZ];
	char bridge[IFNAMSIZ];
	uint64_t drops[_TAP_DROP_MAX];
};

struct dpeer {
	struct daemon *d;
	struct peer_cfg cfg;           /* deep copy: owns cfg.segments */
	struct tunnel_peer *tp;
	struct tap_port *taps;
	size_t n_taps;
	struct dpeer *next;
};

struct daemon {
	const char *config_path;
	struct config *cfg;
	struct loop *loop;
	struct tunnel *tunnel;
	struct netcfg *nc;
	uint8_t *private_key;          /* sodium_malloc */
	uint8_t public_key[TUNNEL_KEY_LEN];
	struct loop_source udp, sig, nl, ctl;
	struct dpeer *peers;
	struct dpeer *graveyard;       /* freed after the current loop round */
	struct tunnel_batch batch;
	struct ctl_client *clients;
	uint8_t (*rxbuf)[DAEMON_FRAME_MAX];  /* DAEMON_BATCH buffers */
	uint64_t started_ns;
	int lock_fd;
	bool quit;
	bool resync;                   /* netlink says: reconcile */
};

/* peer.c */
int dpeer_add(struct daemon *d, const struct peer_cfg *pc);
/* Unlinks the peer, closes its TAPs, removes it from the tunnel; the memory
 * is freed by daemon_collect() after the loop round. */
void dpeer_remove(struct daemon *d, struct dpeer *p);
void daemon_collect(struct daemon *d);
void daemon_flush(struct daemon *d);
void daemon_udp_cb(struct loop_source *s, uint32_t events);
extern const struct tunnel_callbacks daemon_tunnel_callbacks;
/* Reopens a TAP that someone deleted. */
int tap_port_reopen(struct tap_port *t);

/* netsync.c: desired state of bridges and ports vs. the kernel. */
int daemon_bridges_ensure(struct daemon *d);
int daemon_reconcile(struct daemon *d);
void daemon_nl_cb(struct loop_source *s, uint32_t events);

/* ctl.c: the control socket. */
int ctl_open(struct daemon *d);
void ctl_close(struct daemon *d);

#endif
