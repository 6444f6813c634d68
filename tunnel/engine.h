/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tunnel engine's internals, shared by its files (not a public header:
 * tunnel.h is): tunnel.c (peers, setup, batches, strings), keypair.c
 * (keypairs and sessions), send.c (encapsulation, handshake initiation,
 * keepalives, queues, rekey), receive.c (handshake messages, data,
 * tunnel_receive) and timers.c (retries, expiry, keepalives, deadlines),
 * the way the WireGuard module splits peer, noise, send, receive, timers.
 */
#ifndef BRIDGED_TUNNEL_ENGINE_H
#define BRIDGED_TUNNEL_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tunnel/aead.h"
#include "tunnel/frag.h"
#include "tunnel/index.h"
#include "tunnel/noise.h"
#include "tunnel/replay.h"
#include "tunnel/tunnel.h"
#include "tunnel/wire.h"

#define NSEC 1000000000ull
#define MSEC 1000000ull
#define QUEUE_AGE_NS (3 * NSEC)
#define NEXT_CONFIRM_NS (1 * NSEC)   /* wait this long for a "next" to confirm */
#define DEAD_MIN_NS (15 * NSEC)
#define PASSIVE_KEEPALIVE_NS (10 * NSEC)
#define GSO_UPGRADE_NS (1 * NSEC)    /* after a plain initiation's session */
#define IDLE_AFTER_NS (2 * NSEC)     /* no frames this long: the peer is idle */
#define REJECT_AFTER_MESSAGES_MAX (UINT64_MAX - REPLAY_WINDOW_SIZE - 1)

enum index_kind { IDX_HANDSHAKE = 1, IDX_KEYPAIR = 2 };

struct keypair {
	struct tunnel_peer *peer;
	struct aead_key *send, *recv;       /* sodium_malloc'd */
	uint32_t local_index, remote_index;
	uint64_t send_counter;
	uint64_t created_ns;
	uint64_t rx_count;
	bool initiator;
	enum aead_cipher cipher;
	struct replay replay;
};

struct qframe {
	uint8_t *data;
	bool vnet;
	size_t len, seg;
	uint64_t at_ns;
};

struct tunnel_peer {
	struct tunnel *t;
	struct tunnel_peer *prev_peer, *next_peer;
	void *userdata;
	uint8_t pub[KEY_LEN];
	struct noise_peer *np;              /* sodium_malloc'd */

	enum tunnel_crypt crypt;
	unsigned keepalive_ms, underlay_mtu;
	char (*segments)[TUNNEL_SEGMENT_NAME_MAX];
	uint32_t *seg_ids;
	size_t n_segments;
	char (*remote_segments)[TUNNEL_SEGMENT_NAME_MAX];
	size_t n_remote;

	bool has_endpoint;
	bool ep_confirmed;                  /* endpoint proven by a session (stats) */
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	size_t max_payload;                 /* frame bytes per data datagram */
	unsigned path_mtu;                  /* the kernel's path MTU to endpoint, 0 = not known */

	struct keypair *kp_prev, *kp_cur, *kp_next;
	bool hs_pending;
	uint64_t hs_sent_ns, hs_retry_ns, hs_backoff_ns;
	uint64_t hs_first_ns;               /* first initiation ever sent, 0 = none */
	uint8_t last_tai[WIRE_TAI64N_LEN];

	uint64_t last_tx_ns, last_rx_ns, last_ka_tx_ns;
	/* Frames (not the owner's quiet ones) sent or received, and the first
	 * one after an idle spell: written with relaxed atomics by whoever
	 * moves frames (eng_note_frame), read by the timers. */
	uint64_t last_data_ns, active_since_ns;
	bool session_up, had_session;
	bool remote_gso;                    /* WIRE_FEAT_GSO in its last handshake */
	bool remote_uso;                    /* WIRE_FEAT_USO likewise */
	unsigned hs_tries;                  /* initiations since the last session */
	bool hs_plain;                      /* the last one went without the feature bits */
	uint64_t gso_upgrade_at;            /* then: one initiation with them at this time, 0 none */
	bool gso_upgrade_tried;

	struct frag_table frags;
	struct qframe q[TUNNEL_QUEUE_MAX];
	size_t q_head, q_n;

	struct tunnel_peer_stats st;
	uint64_t rtt_sum, rtt_n, lost_closed, rx_closed;
};

struct tunnel {
	struct noise_static *stat;          /* sodium_malloc'd */
	struct tunnel_callbacks cb;
	struct tunnel_params params;
	struct tunnel_peer *peers;
	struct index_table idx;
	uint64_t drops[_TUNNEL_DROP_MAX];
	bool aesgcm;
};

/* tunnel.c */
bool eng_addr_equal(const struct sockaddr_storage *a, socklen_t alen, const struct sockaddr *b, socklen_t blen);
const char *eng_crypt_name(unsigned c);
int eng_drop(struct tunnel *t, struct tunnel_peer *p, enum tunnel_drop d, int err);
uint8_t *eng_batch_slot(struct tunnel_batch *b);
void eng_addr_to_string(const struct sockaddr_storage *ss, char *buf, size_t len);
void eng_batch_commit(struct tunnel_batch *b, size_t len, const void *dst, socklen_t dst_len);
void eng_emit(struct tunnel *t, struct tunnel_peer *p, enum tunnel_event ev, const char *detail);
void eng_peer_set_endpoint(struct tunnel_peer *p, const struct sockaddr *src, socklen_t len, bool announce, bool confirm);
/* keypair.c */
bool eng_kp_alive(const struct tunnel *t, const struct keypair *kp, uint64_t now);
bool eng_kp_can_send(const struct tunnel *t, const struct keypair *kp, uint64_t now, unsigned n);
int eng_kp_new(struct tunnel_peer *p, const struct noise_keys *k, enum aead_cipher c, bool initiator, uint64_t now, struct keypair **ret);
void eng_kp_begin_session(struct tunnel_peer *p, struct keypair *kp);
void eng_kp_free(struct tunnel *t, struct keypair *kp);
void eng_session_established(struct tunnel_peer *p, struct keypair *kp, uint64_t now);
/* send.c */
bool eng_hs_plain(const struct tunnel_peer *p);
int eng_hs_payload(const struct tunnel_peer *p, bool initiation, enum aead_cipher chosen, uint8_t out[WIRE_HS_PAYLOAD_LEN]);
int eng_queue_flush(struct tunnel_peer *p, uint64_t now, struct tunnel_batch *out);
int eng_send_initiation(struct tunnel_peer *p, uint64_t now, struct tunnel_batch *out);
int eng_send_keepalive(struct tunnel_peer *p, struct keypair *kp, uint8_t kind, uint64_t stamp, uint64_t now, struct tunnel_batch *out);
uint64_t eng_silence_dead_ns(const struct tunnel_peer *p);
/* timers.c: idle tunnels (docs/PROTOCOL.md, "Idle tunnels") */
bool eng_idle(const struct tunnel_peer *p, uint64_t now);
uint64_t eng_silence_ref(const struct tunnel_peer *p, uint64_t now);
bool eng_peer_heard(const struct tunnel_peer *p, uint64_t now);
void eng_note_frame(struct tunnel_peer *p, const uint8_t *eth, size_t len, uint64_t now);
void eng_maybe_rekey(struct tunnel_peer *p, uint64_t now, struct tunnel_batch *out);
void eng_queue_age(struct tunnel_peer *p, uint64_t now);
void eng_queue_clear(struct tunnel_peer *p);
/* receive.c */
struct tunnel_peer *eng_peer_by_key(struct tunnel *t, const uint8_t pub[KEY_LEN]);
/* timers.c */
uint64_t eng_hs_retry_interval(const struct tunnel_peer *p, uint64_t now);

#endif
