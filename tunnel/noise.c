/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Noise IK handshake messages (noise.h, docs/PROTOCOL.md "Handshake"). */
#include "tunnel/noise.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

static const char construction[] = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
static const char identifier[] = "bridged v1 tunnel";
static const char label_mac1[] = "mac1----";

void noise_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

static void hash2(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, 32);
}

static void mix_hash(uint8_t h[32], const void *data, size_t len)
{
	hash2(h, h, 32, data, len);
}

static void mac(uint8_t *out, size_t outlen, const uint8_t key[32],
		const void *a, size_t alen, const void *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, 32, outlen);
	crypto_generichash_update(&st, a, alen);
	if (blen)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, outlen);
	sodium_memzero(&st, sizeof(st));
}

/* HKDF with keyed BLAKE2b in place of HMAC. Outputs may alias ck. */
static void kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t ck[32],
		const uint8_t *in, size_t inlen)
{
	uint8_t prk[32], o1[32], o2[32], o3[32], c;

	mac(prk, 32, ck, in, inlen, NULL, 0);
	c = 1;
	mac(o1, 32, prk, &c, 1, NULL, 0);
	c = 2;
	mac(o2, 32, prk, o1, 32, &c, 1);
	c = 3;
	mac(o3, 32, prk, o2, 32, &c, 1);
	if (t1)
		memcpy(t1, o1, 32);
	if (t2)
		memcpy(t2, o2, 32);
	if (t3)
		memcpy(t3, o3, 32);
	sodium_memzero(prk, 32);
	sodium_memzero(o1, 32);
	sodium_memzero(o2, 32);
	sodium_memzero(o3, 32);
}

static int dh(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32])
{
	/* libsodium refuses an all-zero result (low-order point). */
	return crypto_scalarmult(out, priv, pub) == 0 ? 0 : -EINVAL;
}

static int mix_dh(uint8_t ck[32], uint8_t *key, const uint8_t priv[32], const uint8_t pub[32])
{
	uint8_t shared[32];
	int r;

	r = dh(shared, priv, pub);
	if (r == 0)
		kdf(ck, key, NULL, ck, shared, 32);
	sodium_memzero(shared, 32);
	return r;
}

static const uint8_t zero_nonce[12];

static void seal(uint8_t *out, const uint8_t key[32], const uint8_t *in, size_t len,
		 const uint8_t h[32])
{
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, len, h, 32, NULL,
						  zero_nonce, key);
}

static int open_(uint8_t *out, const uint8_t key[32], const uint8_t *in, size_t len,
		 const uint8_t h[32])
{
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in, len, h, 32,
						      zero_nonce, key) != 0)
		return -EKEYREJECTED;
	return 0;
}

static void init_hash(uint8_t ck[32], uint8_t h[32], const uint8_t responder_pub[32])
{
	crypto_generichash(ck, 32, (const uint8_t *)construction, sizeof(construction) - 1,
			   NULL, 0);
	hash2(h, ck, 32, identifier, sizeof(identifier) - 1);
	mix_hash(h, responder_pub, 32);
}

static void mac1_key(uint8_t out[32], const uint8_t pub[32])
{
	hash2(out, label_mac1, sizeof(label_mac1) - 1, pub, 32);
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
	if (dh(p->ss, s->priv, peer_pub) < 0)
		return -EINVAL;
	mac1_key(p->mac1_key, peer_pub);
	return 0;
}

static void put_mac1(const uint8_t key[32], uint8_t *pkt, size_t len)
{
	mac(pkt + len - WIRE_MAC_LEN, WIRE_MAC_LEN, key, pkt, len - WIRE_MAC_LEN, NULL, 0);
}

int noise_mac1_ok(const uint8_t key[NOISE_KEY_LEN], const uint8_t *pkt, size_t len)
{
	uint8_t m[WIRE_MAC_LEN];

	if (len < WIRE_MAC_LEN)
		return 0;
	mac(m, WIRE_MAC_LEN, key, pkt, len - WIRE_MAC_LEN, NULL, 0);
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
	uint8_t key[32], pt[WIRE_TAI64N_LEN + WIRE_HS_PAYLOAD_LEN];
	int r = -EINVAL;

	if (payload_len > WIRE_HS_PAYLOAD_LEN)
		return -E2BIG;
	memset(out, 0, WIRE_INIT_LEN);
	out[0] = WIRE_TYPE_INITIATION;
	wire_put32(out + WIRE_INIT_OFF_SENDER, sender);

	init_hash(p->ck, p->h, peer_pub);
	crypto_box_keypair(p->e_pub, p->e_priv);
	kdf(p->ck, NULL, NULL, p->ck, p->e_pub, 32);
	memcpy(out + WIRE_INIT_OFF_EPHEMERAL, p->e_pub, 32);
	mix_hash(p->h, p->e_pub, 32);

	if (mix_dh(p->ck, key, p->e_priv, peer_pub) < 0)
		goto out;
	seal(out + WIRE_INIT_OFF_STATIC, key, s->pub, 32, p->h);
	mix_hash(p->h, out + WIRE_INIT_OFF_STATIC, 32 + WIRE_TAG_LEN);

	kdf(p->ck, key, NULL, p->ck, p->ss, 32);
	memset(pt, 0, sizeof(pt));
	memcpy(pt, tai64n, WIRE_TAI64N_LEN);
	memcpy(pt + WIRE_TAI64N_LEN, payload, payload_len);
	seal(out + WIRE_INIT_OFF_PAYLOAD, key, pt, sizeof(pt), p->h);
	mix_hash(p->h, out + WIRE_INIT_OFF_PAYLOAD, WIRE_INIT_PAYLOAD_CT_LEN);

	put_mac1(p->mac1_key, out, WIRE_INIT_LEN);
	p->sender = sender;
	p->pending = 1;
	r = 0;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(pt, sizeof(pt));
	return r;
}

int noise_consume_initiation_static(const struct noise_static *s, const uint8_t *pkt,
				    size_t len, struct noise_init_state *st)
{
	uint8_t key[32];
	int r;

	if (len != WIRE_INIT_LEN || pkt[0] != WIRE_TYPE_INITIATION)
		return -EBADMSG;
	st->sender = wire_get32(pkt + WIRE_INIT_OFF_SENDER);
	init_hash(st->ck, st->h, s->pub);
	memcpy(st->e_i, pkt + WIRE_INIT_OFF_EPHEMERAL, 32);
	kdf(st->ck, NULL, NULL, st->ck, st->e_i, 32);
	mix_hash(st->h, st->e_i, 32);
	r = mix_dh(st->ck, key, s->priv, st->e_i);
	if (r < 0) {
		r = -EKEYREJECTED;
		goto out;
	}
	r = open_(st->s_i, key, pkt + WIRE_INIT_OFF_STATIC, 32 + WIRE_TAG_LEN, st->h);
	if (r < 0)
		goto out;
	mix_hash(st->h, pkt + WIRE_INIT_OFF_STATIC, 32 + WIRE_TAG_LEN);
out:
	sodium_memzero(key, sizeof(key));
	return r;
}

int noise_consume_initiation_payload(struct noise_init_state *st, const struct noise_peer *p,
				     const uint8_t *pkt, uint8_t ret_tai64n[WIRE_TAI64N_LEN],
				     uint8_t ret_payload[WIRE_HS_PAYLOAD_LEN])
{
	uint8_t key[32], pt[WIRE_TAI64N_LEN + WIRE_HS_PAYLOAD_LEN];
	int r;

	kdf(st->ck, key, NULL, st->ck, p->ss, 32);
	r = open_(pt, key, pkt + WIRE_INIT_OFF_PAYLOAD, WIRE_INIT_PAYLOAD_CT_LEN, st->h);
	if (r == 0) {
		mix_hash(st->h, pkt + WIRE_INIT_OFF_PAYLOAD, WIRE_INIT_PAYLOAD_CT_LEN);
		memcpy(ret_tai64n, pt, WIRE_TAI64N_LEN);
		memcpy(ret_payload, pt + WIRE_TAI64N_LEN, WIRE_HS_PAYLOAD_LEN);
	}
	sodium_memzero(key, sizeof(key));
	sodium_memzero(pt, sizeof(pt));
	return r;
}

static void derive_transport(const uint8_t ck[32], uint8_t first[32], uint8_t second[32])
{
	kdf(first, second, NULL, ck, NULL, 0);
}

int noise_create_response(struct noise_init_state *st, const struct noise_peer *p,
			  uint32_t sender, const uint8_t *payload, size_t payload_len,
			  uint8_t *out, struct noise_keys *ret_keys)
{
	static const uint8_t psk[32];
	uint8_t e_priv[32], e_pub[32], key[32], tau[32];
	size_t len = WIRE_RESP_OFF_PAYLOAD + payload_len + WIRE_TAG_LEN + WIRE_MAC_LEN;
	int r = -EINVAL;

	if (payload_len < WIRE_HS_PAYLOAD_MIN || payload_len > WIRE_HS_PAYLOAD_LEN)
		return -E2BIG;
	memset(out, 0, WIRE_RESP_OFF_PAYLOAD);
	out[0] = WIRE_TYPE_RESPONSE;
	wire_put32(out + WIRE_RESP_OFF_SENDER, sender);
	wire_put32(out + WIRE_RESP_OFF_RECEIVER, st->sender);

	crypto_box_keypair(e_pub, e_priv);
	kdf(st->ck, NULL, NULL, st->ck, e_pub, 32);
	memcpy(out + WIRE_RESP_OFF_EPHEMERAL, e_pub, 32);
	mix_hash(st->h, e_pub, 32);
	if (mix_dh(st->ck, NULL, e_priv, st->e_i) < 0 ||
	    mix_dh(st->ck, NULL, e_priv, st->s_i) < 0)
		goto out;
	kdf(st->ck, tau, key, st->ck, psk, 32);
	mix_hash(st->h, tau, 32);
	seal(out + WIRE_RESP_OFF_PAYLOAD, key, payload, payload_len, st->h);
	mix_hash(st->h, out + WIRE_RESP_OFF_PAYLOAD, payload_len + WIRE_TAG_LEN);
	put_mac1(p->mac1_key, out, len);
	derive_transport(st->ck, ret_keys->recv, ret_keys->send);
	r = (int)len;
out:
	sodium_memzero(e_priv, sizeof(e_priv));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(tau, sizeof(tau));
	sodium_memzero(st, sizeof(*st));
	return r;
}

int noise_consume_response(struct noise_peer *p, const struct noise_static *s,
			   const uint8_t *pkt, size_t len, uint8_t *ret_payload,
			   struct noise_keys *ret_keys)
{
	static const uint8_t psk[32];
	uint8_t ck[32], h[32], key[32], tau[32], e_r[32];
	size_t ct_len;
	int r = -EKEYREJECTED;

	if (len < WIRE_RESP_MIN_LEN || len > WIRE_RESP_MAX_LEN ||
	    pkt[0] != WIRE_TYPE_RESPONSE)
		return -EBADMSG;
	if (!p->pending || wire_get32(pkt + WIRE_RESP_OFF_RECEIVER) != p->sender)
		return -ESTALE;
	ct_len = len - WIRE_RESP_OFF_PAYLOAD - WIRE_MAC_LEN;
	memcpy(ck, p->ck, 32);
	memcpy(h, p->h, 32);
	memcpy(e_r, pkt + WIRE_RESP_OFF_EPHEMERAL, 32);
	kdf(ck, NULL, NULL, ck, e_r, 32);
	mix_hash(h, e_r, 32);
	if (mix_dh(ck, NULL, p->e_priv, e_r) < 0 || mix_dh(ck, NULL, s->priv, e_r) < 0)
		goto out;
	kdf(ck, tau, key, ck, psk, 32);
	mix_hash(h, tau, 32);
	if (open_(ret_payload, key, pkt + WIRE_RESP_OFF_PAYLOAD, ct_len, h) < 0)
		goto out;
	derive_transport(ck, ret_keys->send, ret_keys->recv);
	/* One response per initiation: forget the ephemeral key. */
	sodium_memzero(p->e_priv, sizeof(p->e_priv));
	sodium_memzero(p->ck, sizeof(p->ck));
	sodium_memzero(p->h, sizeof(p->h));
	p->pending = 0;
	r = 0;
out:
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(tau, sizeof(tau));
	return r;
}
