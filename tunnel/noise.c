/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Noise IK handshake messages (noise.h, docs/PROTOCOL.md "Handshake"), over
 * the shared construction of common/noise.c. */
#include "tunnel/noise.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

static const char construction[] = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
static const char identifier[] = "bridged v1 tunnel";
static const char label_mac1[] = "mac1----";

/* WireGuard's IK is IKpsk2 with a zero PSK: e also feeds the chaining key
 * (KDF1(C, E_pub)), and the response ends with MixKeyAndHash(psk). */
static const uint8_t psk[NOISE_KEY_LEN];

/* Initialize(): the protocol name, the prologue, the pre-message <- s. */
static void init_hash(struct noise_symmetric *sym, const uint8_t responder_pub[32])
{
	noise_symmetric_init(sym, construction, identifier, sizeof(identifier) - 1);
	noise_mix_hash(sym, responder_pub, 32);
}

/* e, with the PSK-mode rule: MixHash(E_pub) and MixKey(E_pub). */
static void mix_e(struct noise_symmetric *sym, const uint8_t e_pub[32])
{
	noise_mix_key(sym, e_pub, 32);
	noise_mix_hash(sym, e_pub, 32);
}

static void mac1_key(uint8_t out[32], const uint8_t pub[32])
{
	noise_hash(out, label_mac1, sizeof(label_mac1) - 1, pub, 32);
}

int noise_static_init(struct noise_static *s, const uint8_t priv[NOISE_KEY_LEN])
{
	memcpy(s->priv, priv, 32);
	if (crypto_scalarmult_base(s->pub, s->priv) != 0)
		return -EINVAL;
	mac1_key(s->mac1_key, s->pub);
	return 0;
}

int noise_peer_init(struct noise_peer *p, const struct noise_static *s,
		    const uint8_t peer_pub[NOISE_KEY_LEN])
{
	memset(p, 0, sizeof(*p));
	if (noise_dh(p->ss, s->priv, peer_pub) < 0)
		return -EINVAL;
	mac1_key(p->mac1_key, peer_pub);
	return 0;
}

static void put_mac1(const uint8_t key[32], uint8_t *pkt, size_t len)
{
	noise_mac(pkt + len - WIRE_MAC_LEN, WIRE_MAC_LEN, key, pkt, len - WIRE_MAC_LEN, NULL, 0);
}

int noise_mac1_ok(const uint8_t key[NOISE_KEY_LEN], const uint8_t *pkt, size_t len)
{
	uint8_t m[WIRE_MAC_LEN];

	if (len < WIRE_MAC_LEN)
		return 0;
	noise_mac(m, WIRE_MAC_LEN, key, pkt, len - WIRE_MAC_LEN, NULL, 0);
	return sodium_memcmp(m, pkt + len - WIRE_MAC_LEN, WIRE_MAC_LEN) == 0;
}

void noise_tai64n(uint8_t out[WIRE_TAI64N_LEN], uint64_t unix_ns)
{
	uint64_t sec = (1ull << 62) + unix_ns / 1000000000ull;
	uint32_t nsec = (uint32_t)(unix_ns % 1000000000ull);
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

int noise_create_initiation(struct noise_peer *p, const struct noise_static *s,
			    const uint8_t peer_pub[NOISE_KEY_LEN], uint32_t sender,
			    const uint8_t tai64n[WIRE_TAI64N_LEN],
			    const uint8_t *payload, size_t payload_len,
			    uint8_t out[WIRE_INIT_LEN])
{
	uint8_t pt[WIRE_TAI64N_LEN + WIRE_HS_PAYLOAD_LEN];
	int r = -EINVAL;

	if (payload_len > WIRE_HS_PAYLOAD_LEN)
		return -E2BIG;
	memset(out, 0, WIRE_INIT_LEN);
	out[0] = WIRE_TYPE_INITIATION;
	wire_put32(out + WIRE_INIT_OFF_SENDER, sender);

	init_hash(&p->sym, peer_pub);
	noise_keypair(p->e_pub, p->e_priv);			/* e */
	memcpy(out + WIRE_INIT_OFF_EPHEMERAL, p->e_pub, 32);
	mix_e(&p->sym, p->e_pub);
	if (noise_mix_dh(&p->sym, p->e_priv, peer_pub) < 0)	/* es */
		goto out;
	if (noise_encrypt_and_hash(&p->sym, out + WIRE_INIT_OFF_STATIC, s->pub, 32) < 0)	/* s */
		goto out;
	noise_mix_key(&p->sym, p->ss, 32);			/* ss, precomputed */
	memset(pt, 0, sizeof(pt));
	memcpy(pt, tai64n, WIRE_TAI64N_LEN);
	memcpy(pt + WIRE_TAI64N_LEN, payload, payload_len);
	if (noise_encrypt_and_hash(&p->sym, out + WIRE_INIT_OFF_PAYLOAD, pt, sizeof(pt)) < 0)
		goto out;

	put_mac1(p->mac1_key, out, WIRE_INIT_LEN);
	p->sender = sender;
	p->pending = 1;
	r = 0;
out:
	sodium_memzero(pt, sizeof(pt));
	return r;
}

int noise_consume_initiation_static(const struct noise_static *s, const uint8_t *pkt,
				    size_t len, struct noise_init_state *st)
{
	int r;

	if (len != WIRE_INIT_LEN || pkt[0] != WIRE_TYPE_INITIATION)
		return -EBADMSG;
	st->sender = wire_get32(pkt + WIRE_INIT_OFF_SENDER);
	init_hash(&st->sym, s->pub);
	memcpy(st->e_i, pkt + WIRE_INIT_OFF_EPHEMERAL, 32);
	mix_e(&st->sym, st->e_i);
	if (noise_mix_dh(&st->sym, s->priv, st->e_i) < 0)	/* es */
		return -EKEYREJECTED;
	r = noise_decrypt_and_hash(&st->sym, st->s_i, pkt + WIRE_INIT_OFF_STATIC,
				   32 + WIRE_TAG_LEN);		/* s */
	return r < 0 ? r : 0;
}

int noise_consume_initiation_payload(struct noise_init_state *st, const struct noise_peer *p,
				     const uint8_t *pkt, uint8_t ret_tai64n[WIRE_TAI64N_LEN],
				     uint8_t ret_payload[WIRE_HS_PAYLOAD_LEN])
{
	uint8_t pt[WIRE_TAI64N_LEN + WIRE_HS_PAYLOAD_LEN];
	int r;

	noise_mix_key(&st->sym, p->ss, 32);			/* ss, precomputed */
	r = noise_decrypt_and_hash(&st->sym, pt, pkt + WIRE_INIT_OFF_PAYLOAD,
				   WIRE_INIT_PAYLOAD_CT_LEN);
	if (r >= 0) {
		memcpy(ret_tai64n, pt, WIRE_TAI64N_LEN);
		memcpy(ret_payload, pt + WIRE_TAI64N_LEN, WIRE_HS_PAYLOAD_LEN);
		r = 0;
	}
	sodium_memzero(pt, sizeof(pt));
	return r;
}

int noise_create_response(struct noise_init_state *st, const struct noise_peer *p,
			  uint32_t sender, const uint8_t *payload, size_t payload_len,
			  uint8_t *out, struct noise_keys *ret_keys)
{
	uint8_t e_priv[32], e_pub[32];
	size_t len = WIRE_RESP_OFF_PAYLOAD + payload_len + WIRE_TAG_LEN + WIRE_MAC_LEN;
	int r = -EINVAL;

	if (payload_len < WIRE_HS_PAYLOAD_MIN || payload_len > WIRE_HS_PAYLOAD_LEN)
		return -E2BIG;
	memset(out, 0, WIRE_RESP_OFF_PAYLOAD);
	out[0] = WIRE_TYPE_RESPONSE;
	wire_put32(out + WIRE_RESP_OFF_SENDER, sender);
	wire_put32(out + WIRE_RESP_OFF_RECEIVER, st->sender);

	noise_keypair(e_pub, e_priv);				/* e */
	memcpy(out + WIRE_RESP_OFF_EPHEMERAL, e_pub, 32);
	mix_e(&st->sym, e_pub);
	if (noise_mix_dh(&st->sym, e_priv, st->e_i) < 0 ||	/* ee */
	    noise_mix_dh(&st->sym, e_priv, st->s_i) < 0)	/* se */
		goto out;
	noise_mix_key_and_hash(&st->sym, psk, sizeof(psk));	/* psk */
	if (noise_encrypt_and_hash(&st->sym, out + WIRE_RESP_OFF_PAYLOAD, payload,
				   payload_len) < 0)
		goto out;
	put_mac1(p->mac1_key, out, len);
	noise_split(&st->sym, false, ret_keys);
	r = (int)len;
out:
	sodium_memzero(e_priv, sizeof(e_priv));
	sodium_memzero(st, sizeof(*st));
	return r;
}

int noise_consume_response(struct noise_peer *p, const struct noise_static *s,
			   const uint8_t *pkt, size_t len, uint8_t *ret_payload,
			   struct noise_keys *ret_keys)
{
	struct noise_symmetric sym;
	uint8_t e_r[32];
	size_t ct_len;
	int r = -EKEYREJECTED;

	if (len < WIRE_RESP_MIN_LEN || len > WIRE_RESP_MAX_LEN ||
	    pkt[0] != WIRE_TYPE_RESPONSE)
		return -EBADMSG;
	if (!p->pending || wire_get32(pkt + WIRE_RESP_OFF_RECEIVER) != p->sender)
		return -ESTALE;
	ct_len = len - WIRE_RESP_OFF_PAYLOAD - WIRE_MAC_LEN;
	/* On a copy: a response that does not authenticate leaves the
	 * initiation pending. */
	sym = p->sym;
	memcpy(e_r, pkt + WIRE_RESP_OFF_EPHEMERAL, 32);
	mix_e(&sym, e_r);					/* e */
	if (noise_mix_dh(&sym, p->e_priv, e_r) < 0 ||		/* ee */
	    noise_mix_dh(&sym, s->priv, e_r) < 0)		/* se */
		goto out;
	noise_mix_key_and_hash(&sym, psk, sizeof(psk));		/* psk */
	if (noise_decrypt_and_hash(&sym, ret_payload, pkt + WIRE_RESP_OFF_PAYLOAD, ct_len) < 0)
		goto out;
	noise_split(&sym, true, ret_keys);
	/* One response per initiation: forget the ephemeral key. */
	sodium_memzero(p->e_priv, sizeof(p->e_priv));
	sodium_memzero(&p->sym, sizeof(p->sym));
	p->pending = 0;
	r = 0;
out:
	sodium_memzero(&sym, sizeof(sym));
	return r;
}
