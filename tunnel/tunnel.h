/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tunnel: the wire protocol engine of bridged (docs/PROTOCOL.md).
 *
 * Pure: no sockets, no TAP, no clock of its own. The daemon feeds it
 * datagrams from the UDP socket (tunnel_receive), frames from TAP devices
 * (tunnel_encap) and timer ticks (tunnel_tick), passing the current
 * CLOCK_MONOTONIC time in nanoseconds; the engine appends the datagrams to
 * send to a struct tunnel_batch (the daemon sends them with sendmmsg) and
 * hands decapsulated frames and events to callbacks.
 *
 * It knows nothing about bridges or config files: a peer carries a list of
 * segment names; frames are tagged on the wire with a segment id derived
 * from the name, and delivered with the index of the segment in the peer's
 * list.
 */
#ifndef BRIDGED_TUNNEL_TUNNEL_H
#define BRIDGED_TUNNEL_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/keys.h"

#define TUNNEL_SEGMENT_NAME_MAX 32

struct tunnel;
struct tunnel_peer;

enum tunnel_crypt {
	TUNNEL_CRYPT_AEAD,     /* ChaCha20-Poly1305, or AES-256-GCM if available */
	TUNNEL_CRYPT_NONE,     /* authenticated handshake, plaintext frames */
	_TUNNEL_CRYPT_MAX,
};

enum tunnel_session_state {
	TUNNEL_SESSION_NONE,        /* no handshake attempted yet / listen-only */
	TUNNEL_SESSION_HANDSHAKE,   /* initiation sent, waiting */
	TUNNEL_SESSION_UP,          /* a valid session exists */
	TUNNEL_SESSION_EXPIRED,     /* the session timed out, re-handshaking */
	_TUNNEL_SESSION_STATE_MAX,
};
const char *tunnel_session_state_to_string(enum tunnel_session_state s);

/* Why a packet was dropped; counted per peer where the peer is known, per
 * tunnel otherwise. */
enum tunnel_drop {
	TUNNEL_DROP_MALFORMED,      /* too short, bad type, bad lengths */
	TUNNEL_DROP_UNKNOWN_INDEX,  /* no session with that receiver index */
	TUNNEL_DROP_AUTH,           /* AEAD / MAC check failed */
	TUNNEL_DROP_REPLAY,         /* counter outside or already seen in window */
	TUNNEL_DROP_UNKNOWN_PEER,   /* handshake from a key not configured */
	TUNNEL_DROP_HANDSHAKE,      /* a handshake that failed otherwise (stale, replayed timestamp) */
	TUNNEL_DROP_SEGMENT,        /* frame for a segment this peer does not carry */
	TUNNEL_DROP_FRAGMENT,       /* reassembly failed or timed out */
	TUNNEL_DROP_NO_SESSION,     /* tx: no session yet (frame queue full) */
	TUNNEL_DROP_TOO_BIG,        /* tx: frame larger than the protocol carries */
	_TUNNEL_DROP_MAX,
};
const char *tunnel_drop_to_string(enum tunnel_drop d);

enum tunnel_event {
	TUNNEL_EV_SESSION_UP,       /* handshake completed (first or rekey) */
	TUNNEL_EV_SESSION_DOWN,     /* no valid session any more */
	TUNNEL_EV_ENDPOINT_CHANGED, /* authenticated packet from a new address */
	TUNNEL_EV_HANDSHAKE_REJECTED, /* detail: why, with the offending key in base64 */
	TUNNEL_EV_PATH_MTU,         /* detail: "OLD -> NEW" (the IP MTU fragments are cut for) */
	_TUNNEL_EV_MAX,
};
const char *tunnel_event_to_string(enum tunnel_event e);

struct tunnel_peer_config {
	uint8_t public_key[KEY_LEN];
	bool has_endpoint;                 /* false: listen-only, wait for it */
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	enum tunnel_crypt crypt;
	unsigned keepalive_ms;             /* 0: none */
	const char (*segments)[TUNNEL_SEGMENT_NAME_MAX];
	size_t n_segments;
	unsigned underlay_mtu;             /* IP MTU of the path, 0 = 1500 */
};

struct tunnel_callbacks {
	void *ctx;
	/* A frame decapsulated, authenticated and reassembled, for the
	 * segment with index seg in the peer's configured list. */
	void (*deliver)(void *ctx, struct tunnel_peer *p, size_t seg,
			const uint8_t *frame, size_t len);
	/* A frame of kind GSO: frame starts with its WIRE_VNET_HDR_LEN-byte
	 * struct virtio_net_hdr (len includes it). NULL: such frames are
	 * dropped (TUNNEL_DROP_MALFORMED), and offer_gso must stay off. */
	void (*deliver_vnet)(void *ctx, struct tunnel_peer *p, size_t seg,
			     const uint8_t *frame, size_t len);
	/* p is NULL for events about unknown peers. detail may be NULL. */
	void (*event)(void *ctx, struct tunnel_peer *p, enum tunnel_event ev,
		      const char *detail);
};

/* Datagrams to send, in one flat arena so they map onto sendmmsg. */
struct tunnel_dgram {
	uint8_t *data;
	size_t len;
	struct sockaddr_storage dst;
	socklen_t dst_len;
};

struct tunnel_batch {
	struct tunnel_dgram *d;
	size_t n, cap;               /* cap: max datagrams */
	uint8_t *arena;              /* cap * TUNNEL_DGRAM_MAX bytes */
	uint8_t *scratch;            /* TUNNEL_DGRAM_MAX bytes: a decrypted datagram */
};
#define TUNNEL_DGRAM_MAX 2048

int tunnel_batch_init(struct tunnel_batch *b, size_t cap);
void tunnel_batch_reset(struct tunnel_batch *b);
void tunnel_batch_free(struct tunnel_batch *b);

struct tunnel_peer_stats {
	enum tunnel_session_state state;
	struct sockaddr_storage endpoint;  /* ss_family 0 when unknown */
	socklen_t endpoint_len;
	uint64_t last_handshake_ns;        /* monotonic, 0 = never */
	uint64_t last_rx_ns;               /* monotonic, any authenticated packet */
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t tx_split, tx_split_segments; /* super-frames sent as segments, and those */
	uint64_t handshakes;               /* completed */
	uint64_t rtt_last_ns, rtt_min_ns, rtt_avg_ns, rtt_max_ns; /* from keepalives, 0 = none */
	uint64_t drops[_TUNNEL_DROP_MAX];
	const char *cipher;                /* "chacha20-poly1305", "aes-256-gcm", "none";
					    * "pending" while not negotiated yet (aead) */
	/* Additions. */
	uint64_t rx_lost;                  /* counter gaps on received sessions (estimate) */
	uint64_t rx_packets;               /* data packets accepted, all keypairs: with
					    * rx_lost, the loss ratio */
	unsigned path_mtu;                 /* underlay IP MTU used for this peer */
	bool path_mtu_learned;             /* a smaller path MTU the kernel reported limits it */
	unsigned max_payload;              /* frame bytes per datagram before fragmenting */
	uint64_t keepalives_tx, keepalives_rx; /* keepalives sent / echoes received */
	size_t n_remote_segments;          /* from the last handshake */
	/* The endpoint was proven by a session: a handshake response to our
	 * initiation, or a data packet of a keypair from that address (in
	 * aead mode authenticated), not merely set by configuration, by
	 * tunnel_peer_set_endpoint or by an initiation (which an attacker can
	 * replay from elsewhere once our timestamps are gone). The daemon
	 * remembers only such endpoints across restarts. */
	bool endpoint_confirmed;
	/* Idle: no frames for 2 s (tunnel_params.idle_keepalive_ns on): one
	 * keepalive per idle_keepalive_ns each way, nothing else. Silence is
	 * counted from silence_ref_ns (the last packet plus one idle interval
	 * when idle; the last packet or the end of the idle spell otherwise),
	 * as of the time passed to tunnel_peer_get_stats_at. */
	bool idle;
	uint64_t last_frame_ns;            /* monotonic, 0 = none yet */
	uint64_t silence_ref_ns;
};

/* tunnel_peer_get_stats with the idle state as of now_ns. */
void tunnel_peer_get_stats_at(const struct tunnel_peer *p, uint64_t now_ns,
			      struct tunnel_peer_stats *ret);
/* True while the peer is idle (no frames for 2 s, idle mode on). */
bool tunnel_peer_idle(const struct tunnel_peer *p, uint64_t now_ns);

/* private_key is copied into sodium_malloc'd memory. */
int tunnel_new(const uint8_t private_key[KEY_LEN],
	       const struct tunnel_callbacks *cb, struct tunnel **ret);
void tunnel_free(struct tunnel *t);

/* Adds a peer. userdata is for the caller (tunnel_peer_get_userdata). */
int tunnel_peer_add(struct tunnel *t, const struct tunnel_peer_config *cfg,
		    void *userdata, struct tunnel_peer **ret);
/* Removes a peer, wiping its sessions. */
void tunnel_peer_remove(struct tunnel_peer *p);
void *tunnel_peer_get_userdata(const struct tunnel_peer *p);
void tunnel_peer_get_stats(const struct tunnel_peer *p, struct tunnel_peer_stats *ret);
/* Drops per reason for packets no peer could be attributed to. */
void tunnel_get_drops(const struct tunnel *t, uint64_t ret[_TUNNEL_DROP_MAX]);

/* Encapsulates n frames (each one Ethernet frame, <= 65535 bytes) for
 * segment index seg of peer p, fragmenting where the underlay MTU needs it.
 * Starts a handshake (appending it to out) when there is no session and
 * queues a few frames meanwhile. Returns the number of datagrams appended or
 * -ENOBUFS when out is full (the caller flushes and calls again for the
 * rest; frames already taken are counted in the return through *ret_taken). */
int tunnel_encap(struct tunnel_peer *p, size_t seg, const struct iovec *frames,
		 size_t n, uint64_t now_ns, struct tunnel_batch *out,
		 size_t *ret_taken);
/* The same, where frames[i] starts with a WIRE_VNET_HDR_LEN-byte
 * virtio_net_hdr when vnet[i] (vnet NULL: none does); those go as kind GSO
 * and only to a peer for which tunnel_peer_gso() is true (else dropped as
 * TUNNEL_DROP_TOO_BIG: the caller completes or segments them first). */
int tunnel_encap_vnet(struct tunnel_peer *p, size_t seg, const struct iovec *frames,
		      const bool *vnet, size_t n, uint64_t now_ns, struct tunnel_batch *out,
		      size_t *ret_taken);
/* Both sides take GSO frames: we offer it and the peer announced it in the
 * last handshake. */
bool tunnel_peer_gso(const struct tunnel_peer *p);
/* ... and UDP GSO frames too (both offer USO). */
bool tunnel_peer_uso(const struct tunnel_peer *p);

/* Processes one received datagram from src. Calls deliver / event, may
 * append replies (handshake response, keepalive echo) to out. Returns 0 or
 * -errno for a dropped packet (already counted; not fatal). */
int tunnel_receive(struct tunnel *t, const uint8_t *pkt, size_t len,
		   const struct sockaddr *src, socklen_t src_len,
		   uint64_t now_ns, struct tunnel_batch *out);

/* Runs timers: handshake retries (jittered backoff, at most 500 ms apart
 * while the peer was heard within 5 min, else up to 5 s), rekey on time and
 * volume, keepalives, session expiry, reassembly timeouts. */
int tunnel_tick(struct tunnel *t, uint64_t now_ns, struct tunnel_batch *out);
/* The next monotonic time at which tunnel_tick has work (UINT64_MAX: none). */
uint64_t tunnel_next_deadline(const struct tunnel *t);
/* The same as of now_ns, which idle mode needs (tunnel_next_deadline
 * treats every peer as busy). */
uint64_t tunnel_next_deadline_at(const struct tunnel *t, uint64_t now_ns);

/* ---- Additions to the original contract. ---- */

/* Tunables; tunnel_params_default gives the protocol defaults
 * (docs/PROTOCOL.md, "Sessions, indices and rekey"). Tests shrink them to
 * force rekeys. */
struct tunnel_params {
	uint64_t rekey_after_time_ns;      /* 120 s */
	uint64_t reject_after_time_ns;     /* 180 s */
	uint64_t rekey_after_messages;     /* 2^60 */
	uint64_t reject_after_messages;    /* 2^64 - 2^13 - 1 (also the maximum) */
	uint64_t hs_backoff_min_ns;        /* 100 ms */
	uint64_t hs_backoff_max_ns;        /* 5 s */
	/* While the peer is recent (heard from, or never heard: first tried,
	 * less than hs_recent_window_ns ago) retries are at most
	 * hs_backoff_recent_max_ns apart (hs_backoff_min_ns .. _max_ns). */
	uint64_t hs_backoff_recent_max_ns; /* 500 ms */
	uint64_t hs_recent_window_ns;      /* 5 min; 0: never recent */
	uint64_t frag_timeout_ns;          /* 1 s */
	unsigned queue_max;                /* 16 frames per peer, <= TUNNEL_QUEUE_MAX */
	bool disable_aesgcm;               /* offer/accept ChaCha20-Poly1305 only */
	/* announce WIRE_FEAT_GSO: this side takes frames with a virtio_net_hdr
	 * (GSO super-frames, partial checksums); applies from the next handshake */
	bool offer_gso;
	bool offer_uso;                    /* and UDP GSO frames (with offer_gso) */
	/* send TCP and UDP GSO super-frames as their segments, one datagram
	 * each (tso.h), not as fragments of the whole: a datagram lost on
	 * the underlay costs one segment (docs/PROTOCOL.md) */
	bool split_gso;
	/* CLOCK_REALTIME - CLOCK_MONOTONIC in ns, for the handshake's TAI64N
	 * timestamp; tunnel_new reads both clocks once to set it (the only
	 * clock read of the engine). */
	int64_t wallclock_offset_ns;
	/* Idle tunnels (docs/PROTOCOL.md, "Idle tunnels"): a peer that moved
	 * no frames for 2 s sends one keepalive this often (the session's
	 * initiator; the responder echoes), 0: off (keepalives at the peer's
	 * keepalive_ms always). Frames with quiet_ethertype (the loop guard's
	 * probes) keep no tunnel awake. */
	uint64_t idle_keepalive_ns;
	uint16_t quiet_ethertype;
};
#define TUNNEL_QUEUE_MAX 64

void tunnel_params_default(struct tunnel_params *ret);
void tunnel_get_params(const struct tunnel *t, struct tunnel_params *ret);
/* -EINVAL if inconsistent (zero times, rekey > reject, ...). Applies to
 * existing peers and sessions at once. */
int tunnel_set_params(struct tunnel *t, const struct tunnel_params *p);

/* The peer's static public key. */
void tunnel_peer_get_public_key(const struct tunnel_peer *p, uint8_t ret[KEY_LEN]);
/* Sets (or, with sa NULL, forgets) the peer's endpoint, e.g. after DNS
 * re-resolution or from a hint remembered across restarts; it is not
 * confirmed (tunnel_peer_stats.endpoint_confirmed) until a session proves
 * it, and an authenticated packet from elsewhere replaces it as usual. A
 * peer with an endpoint initiates at the next tunnel_tick. -EINVAL for a
 * length that does not fit. */
int tunnel_peer_set_endpoint(struct tunnel_peer *p, const struct sockaddr *sa, socklen_t len);
/* The IP MTU towards dst is mtu now (the kernel refused a datagram as too
 * big, or the daemon read the path MTU again): every peer at that endpoint
 * cuts its fragments for min(mtu, its UnderlayMTU) from its next frame
 * (TUNNEL_EV_PATH_MTU when that changes; never below
 * TUNNEL_PATH_MTU_MIN). Returns how many peers changed. */
#define TUNNEL_PATH_MTU_MIN 1280
int tunnel_path_mtu(struct tunnel *t, const struct sockaddr *dst, socklen_t len, unsigned mtu);
/* Copies up to max segment names the peer announced in the last handshake
 * (NUL-terminated); returns how many it announced. */
size_t tunnel_peer_get_remote_segments(const struct tunnel_peer *p,
				       char (*ret)[TUNNEL_SEGMENT_NAME_MAX], size_t max);
/* The wire segment id of a name (docs/PROTOCOL.md, "Segment ids"). */
uint32_t tunnel_segment_id(const char *name);

/* Notes on the functions above (contract details, no change of signature):
 * - Callbacks run inside tunnel_receive / tunnel_encap / tunnel_tick: they
 *   must not remove peers or free the tunnel.
 * - tunnel_encap returns -EINVAL (nothing taken) for seg out of range; a
 *   frame of 0 or more than 65535 bytes is dropped as TUNNEL_DROP_TOO_BIG.
 * - tunnel_tick returns the number of datagrams appended, or -ENOBUFS when
 *   out filled up: flush it and call tunnel_tick again.
 * - tunnel_receive returns -EINVAL for a NULL or oversized src; drops
 *   return -EBADMSG (malformed / fragment), -ENOENT (unknown index), -EACCES
 *   (auth), -EALREADY (replay), -EPERM (unknown peer), -ESTALE / -EPROTO
 *   (handshake), -ENXIO (segment), -ENOBUFS (no room for the reply; not
 *   counted, the initiator retries).
 * - tunnel_peer_get_stats: cipher is "pending" while an aead session is not
 *   negotiated yet. */

#endif
