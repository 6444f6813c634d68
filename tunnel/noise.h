/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tunnel's handshake (docs/PROTOCOL.md): the IK pattern in the manner
 * of WireGuard, in the tunnel's packet layout (indices, TAI64N, mac1),
 * written over the Noise construction both handshakes share
 * (common/noise.h: primitives, symmetric state). Pure message crypto: no
 * peers, no sessions, no clock. Secret state lives in caller-provided
 * sodium_malloc'd structs and on-stack structs that are wiped with
 * noise_wipe.
 */
#ifndef BRIDGED_TUNNEL_NOISE_H
#define BRIDGED_TUNNEL_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "common/noise.h"
#include "tunnel/wire.h"

/* The node's static identity (sodium_malloc'd by the owner). */
struct noise_static {
	uint8_t priv[NOISE_KEY_LEN];
	uint8_t pub[NOISE_KEY_LEN];
	uint8_t mac1_key[NOISE_KEY_LEN];    /* for checking packets to us */
};

/* Per-peer secrets (sodium_malloc'd by the owner). */
struct noise_peer {
	uint8_t ss[NOISE_KEY_LEN];          /* DH(our static, peer static) */
	uint8_t mac1_key[NOISE_KEY_LEN];    /* for packets to the peer */
	/* The initiation in flight. */
	uint8_t e_priv[NOISE_KEY_LEN];
	uint8_t e_pub[NOISE_KEY_LEN];
	struct noise_symmetric sym;
	uint32_t sender;
	int pending;
};

/* Responder state between the two halves of consuming an initiation. */
struct noise_init_state {
	struct noise_symmetric sym;
	uint8_t e_i[NOISE_KEY_LEN];
	uint8_t s_i[NOISE_KEY_LEN];        /* the initiator's static public key */
	uint32_t sender;
};

/* Fills s from a private key (pub, mac1 key); -EINVAL for a bad key. */
int noise_static_init(struct noise_static *s, const uint8_t priv[NOISE_KEY_LEN]);
/* Fills the static parts of p for the peer with public key peer_pub;
 * -EINVAL for a low-order key. */
int noise_peer_init(struct noise_peer *p, const struct noise_static *s,
		    const uint8_t peer_pub[NOISE_KEY_LEN]);

/* True if the mac1 of a handshake packet (type 1 or 2, len bytes) is
 * right for key (our noise_static.mac1_key). */
int noise_mac1_ok(const uint8_t mac1_key[NOISE_KEY_LEN], const uint8_t *pkt, size_t len);

/* Initiator: builds the WIRE_INIT_LEN-byte initiation into out, keeping the
 * handshake state in p. payload is at most WIRE_HS_PAYLOAD_LEN bytes, padded
 * with zeros. */
int noise_create_initiation(struct noise_peer *p, const struct noise_static *s,
			    const uint8_t peer_pub[NOISE_KEY_LEN], uint32_t sender,
			    const uint8_t tai64n[WIRE_TAI64N_LEN],
			    const uint8_t *payload, size_t payload_len,
			    uint8_t out[WIRE_INIT_LEN]);
/* Responder, first half: decrypts the initiator's static key (mac1 already
 * checked). -EBADMSG (length) or -EKEYREJECTED (decryption failed). */
int noise_consume_initiation_static(const struct noise_static *s, const uint8_t *pkt,
				    size_t len, struct noise_init_state *st);
/* Responder, second half, with the initiator's peer secrets: decrypts the
 * timestamp and payload (WIRE_HS_PAYLOAD_LEN bytes into ret_payload). */
int noise_consume_initiation_payload(struct noise_init_state *st, const struct noise_peer *p,
				     const uint8_t *pkt, uint8_t ret_tai64n[WIRE_TAI64N_LEN],
				     uint8_t ret_payload[WIRE_HS_PAYLOAD_LEN]);
/* Responder: builds the response (at most WIRE_RESP_MAX_LEN bytes) into out
 * and derives the transport keys; wipes st. Returns the length. */
int noise_create_response(struct noise_init_state *st, const struct noise_peer *p,
			  uint32_t sender, const uint8_t *payload, size_t payload_len,
			  uint8_t *out, struct noise_keys *ret_keys);
/* Initiator: consumes a response to p's pending initiation (mac1 already
 * checked, receiver index matched); writes the payload (len - 76 bytes) to
 * ret_payload and derives the transport keys; clears the pending state. */
int noise_consume_response(struct noise_peer *p, const struct noise_static *s,
			   const uint8_t *pkt, size_t len, uint8_t *ret_payload,
			   struct noise_keys *ret_keys);

/* TAI64N of a wall-clock time in ns since the epoch. */
void noise_tai64n(uint8_t out[WIRE_TAI64N_LEN], uint64_t unix_ns);

#endif
