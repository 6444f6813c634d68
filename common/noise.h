/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one Noise construction of bridged (docs/PROTOCOL.md, "One Noise
 * construction, two patterns"): X25519, ChaCha20-Poly1305 and BLAKE2b-256
 * from libsodium, HKDF over keyed BLAKE2b in place of HMAC (as the tunnel
 * has always done it), and the symmetric state of the Noise specification
 * (revision 34, section 5.2): MixHash, MixKey, MixKeyAndHash,
 * EncryptAndHash, DecryptAndHash, Split.
 *
 * Two handshake patterns are built on it:
 *   - IK for the tunnel, in WireGuard's packet layout: tunnel/noise.c;
 *   - KK for the disk stream: the noise_kk_* functions below, used by
 *     migrate/stream/stream_chan.c.
 *
 * Pure message crypto: no I/O, no clock, no allocation. Secret state lives
 * in caller-provided structs (sodium_malloc'd, or on the stack and wiped
 * with noise_wipe). Errors are -errno: -EINVAL for a bad key or a call out
 * of order, -EBADMSG for a message of the wrong length, -EKEYREJECTED when
 * a message does not authenticate.
 */
#ifndef BRIDGED_COMMON_NOISE_H
#define BRIDGED_COMMON_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOISE_KEY_LEN 32	/* X25519 keys, cipher keys */
#define NOISE_HASH_LEN 32	/* BLAKE2b-256: h and ck */
#define NOISE_TAG_LEN 16	/* ChaCha20-Poly1305 */

void noise_wipe(void *p, size_t len);

/* --- Primitives --- */

/* HASH(a || b), BLAKE2b-256 (b may be empty). */
void noise_hash(uint8_t out[NOISE_HASH_LEN], const void *a, size_t alen,
		const void *b, size_t blen);
/* MAC(key, a || b): BLAKE2b keyed with key, outlen (16..32) bytes. */
void noise_mac(uint8_t *out, size_t outlen, const uint8_t key[NOISE_KEY_LEN],
	       const void *a, size_t alen, const void *b, size_t blen);
/* HKDF(ck, in) with keyed BLAKE2b in place of HMAC; writes the outputs
 * that are not NULL (t1..t3). Outputs may alias ck. */
void noise_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t ck[NOISE_HASH_LEN],
	       const uint8_t *in, size_t inlen);
/* X25519; -EINVAL when the result is all zeros (a low-order public key). */
int noise_dh(uint8_t out[NOISE_KEY_LEN], const uint8_t priv[NOISE_KEY_LEN],
	     const uint8_t pub[NOISE_KEY_LEN]);
/* A fresh X25519 key pair (the ephemeral keys). */
void noise_keypair(uint8_t pub[NOISE_KEY_LEN], uint8_t priv[NOISE_KEY_LEN]);

/* --- Symmetric state (Noise section 5.2) --- */

struct noise_symmetric {
	uint8_t ck[NOISE_HASH_LEN];	/* chaining key */
	uint8_t h[NOISE_HASH_LEN];	/* handshake hash */
	uint8_t k[NOISE_KEY_LEN];	/* cipher key, valid when has_k */
	uint64_t n;			/* its nonce */
	bool has_k;
};

/* InitializeSymmetric(protocol_name) then MixHash(prologue). */
void noise_symmetric_init(struct noise_symmetric *sym, const char *protocol_name,
			  const void *prologue, size_t prologue_len);
void noise_mix_hash(struct noise_symmetric *sym, const void *data, size_t len);
void noise_mix_key(struct noise_symmetric *sym, const uint8_t *ikm, size_t len);
/* MixKey(DH(priv, pub)); -EINVAL for a low-order public key. */
int noise_mix_dh(struct noise_symmetric *sym, const uint8_t priv[NOISE_KEY_LEN],
		 const uint8_t pub[NOISE_KEY_LEN]);
void noise_mix_key_and_hash(struct noise_symmetric *sym, const uint8_t *ikm, size_t len);
/* EncryptAndHash: out gets len bytes (+ NOISE_TAG_LEN once a key is set);
 * returns that length. out and in may be the same buffer. */
int noise_encrypt_and_hash(struct noise_symmetric *sym, uint8_t *out, const uint8_t *in,
			   size_t len);
/* DecryptAndHash of len bytes; returns the plaintext length, or
 * -EKEYREJECTED (does not authenticate, sym unchanged) or -EBADMSG. */
int noise_decrypt_and_hash(struct noise_symmetric *sym, uint8_t *out, const uint8_t *in,
			   size_t len);

/* Transport keys from a completed handshake. */
struct noise_keys {
	uint8_t send[NOISE_KEY_LEN];
	uint8_t recv[NOISE_KEY_LEN];
};

/* Split(): the two transport keys; the initiator sends with the first. */
void noise_split(const struct noise_symmetric *sym, bool initiator, struct noise_keys *ret_keys);

/* --- The KK pattern (Noise section 7.5), for the disk stream --- */
/*
 *   KK:
 *     -> s
 *     <- s
 *     ...
 *     -> e, es, ss
 *     <- e, ee, se
 *
 * Message 1 is e (32 bytes) then the payload, encrypted; message 2 the
 * same. Both static keys are known in advance; the responder that accepts
 * several initiators runs noise_kk_init + noise_kk_read_first once per
 * candidate key: only the right one authenticates.
 */

#define NOISE_KK_MSG_LEN(payload_len) (NOISE_KEY_LEN + (payload_len) + NOISE_TAG_LEN)

enum noise_kk_step {
	NOISE_KK_IDLE,			/* not started, finished or failed */
	NOISE_KK_INITIATOR_START,
	NOISE_KK_INITIATOR_SENT,	/* message 1 written, waiting for 2 */
	NOISE_KK_RESPONDER_START,
	NOISE_KK_RESPONDER_READ,	/* message 1 read, message 2 to write */
	NOISE_KK_STEP_MAX,
};

struct noise_kk {
	struct noise_symmetric sym;
	uint8_t s_priv[NOISE_KEY_LEN];
	uint8_t s_pub[NOISE_KEY_LEN];
	uint8_t rs[NOISE_KEY_LEN];	/* the remote static public key */
	uint8_t e_priv[NOISE_KEY_LEN];
	uint8_t e_pub[NOISE_KEY_LEN];
	uint8_t re[NOISE_KEY_LEN];	/* the remote ephemeral public key */
	enum noise_kk_step step;
};

/* Starts a KK handshake under protocol_name and prologue (both sides must
 * give the same), with our static private key and the peer's static public
 * key; processes the pre-messages (the initiator's key, then the
 * responder's). -EINVAL for an unusable private key. */
int noise_kk_init(struct noise_kk *hs, bool initiator, const char *protocol_name,
		  const void *prologue, size_t prologue_len,
		  const uint8_t s_priv[NOISE_KEY_LEN], const uint8_t rs[NOISE_KEY_LEN]);
/* Initiator: writes message 1 (NOISE_KK_MSG_LEN(len) bytes) into out.
 * -EINVAL when rs is a low-order key (the handshake is then wiped). */
int noise_kk_write_first(struct noise_kk *hs, const uint8_t *payload, size_t len,
			 uint8_t *out);
/* Responder: reads message 1 (msglen bytes), writes its payload
 * (msglen - NOISE_KK_MSG_LEN(0) bytes) into ret_payload, which may be NULL
 * when only an empty payload is acceptable. On failure the
 * handshake is wiped: -EBADMSG (length), -EKEYREJECTED (the initiator does
 * not hold the private key of rs, or the message was changed). */
int noise_kk_read_first(struct noise_kk *hs, const uint8_t *msg, size_t msglen,
			uint8_t *ret_payload);
/* Responder: writes message 2 into out and the transport keys into
 * ret_keys; wipes the handshake. */
int noise_kk_write_second(struct noise_kk *hs, const uint8_t *payload, size_t len,
			  uint8_t *out, struct noise_keys *ret_keys);
/* Initiator: reads message 2, as noise_kk_read_first, then writes the
 * transport keys into ret_keys; wipes the handshake (also on failure). */
int noise_kk_read_second(struct noise_kk *hs, const uint8_t *msg, size_t msglen,
			 uint8_t *ret_payload, struct noise_keys *ret_keys);

#endif
