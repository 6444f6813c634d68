/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Noise construction and the KK pattern (noise.h, docs/PROTOCOL.md). */
#include "common/noise.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <sodium.h>

void noise_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

void noise_hash(uint8_t out[NOISE_HASH_LEN], const void *a, size_t alen,
		const void *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, NOISE_HASH_LEN);
	crypto_generichash_update(&st, a, alen);
	if (blen)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, NOISE_HASH_LEN);
}

void noise_mac(uint8_t *out, size_t outlen, const uint8_t key[NOISE_KEY_LEN],
	       const void *a, size_t alen, const void *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, NOISE_KEY_LEN, outlen);
	crypto_generichash_update(&st, a, alen);
	if (blen)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, outlen);
	sodium_memzero(&st, sizeof(st));
}

/* Noise's HKDF (section 4.3) with MAC in place of HMAC-HASH. */
void noise_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t ck[NOISE_HASH_LEN],
	       const uint8_t *in, size_t inlen)
{
	uint8_t prk[32], o1[32], o2[32], o3[32], c;

	noise_mac(prk, 32, ck, in, inlen, NULL, 0);
	c = 1;
	noise_mac(o1, 32, prk, &c, 1, NULL, 0);
	c = 2;
	noise_mac(o2, 32, prk, o1, 32, &c, 1);
	c = 3;
	noise_mac(o3, 32, prk, o2, 32, &c, 1);
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

int noise_dh(uint8_t out[NOISE_KEY_LEN], const uint8_t priv[NOISE_KEY_LEN],
	     const uint8_t pub[NOISE_KEY_LEN])
{
	/* libsodium refuses an all-zero result (low-order point). */
	return crypto_scalarmult(out, priv, pub) == 0 ? 0 : -EINVAL;
}

void noise_keypair(uint8_t pub[NOISE_KEY_LEN], uint8_t priv[NOISE_KEY_LEN])
{
	crypto_box_keypair(pub, priv);
}

void noise_symmetric_init(struct noise_symmetric *sym, const char *protocol_name,
			  const void *prologue, size_t prologue_len)
{
	size_t len = strlen(protocol_name);

	memset(sym, 0, sizeof(*sym));
	if (len <= NOISE_HASH_LEN)
		memcpy(sym->h, protocol_name, len);	/* zero-padded */
	else
		noise_hash(sym->h, protocol_name, len, NULL, 0);
	memcpy(sym->ck, sym->h, NOISE_HASH_LEN);
	noise_mix_hash(sym, prologue, prologue_len);
}

void noise_mix_hash(struct noise_symmetric *sym, const void *data, size_t len)
{
	noise_hash(sym->h, sym->h, NOISE_HASH_LEN, data, len);
}

void noise_mix_key(struct noise_symmetric *sym, const uint8_t *ikm, size_t len)
{
	noise_kdf(sym->ck, sym->k, NULL, sym->ck, ikm, len);
	sym->n = 0;
	sym->has_k = true;
}

int noise_mix_dh(struct noise_symmetric *sym, const uint8_t priv[NOISE_KEY_LEN],
		 const uint8_t pub[NOISE_KEY_LEN])
{
	uint8_t shared[NOISE_KEY_LEN];
	int r;

	r = noise_dh(shared, priv, pub);
	if (r == 0)
		noise_mix_key(sym, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return r;
}

void noise_mix_key_and_hash(struct noise_symmetric *sym, const uint8_t *ikm, size_t len)
{
	uint8_t th[NOISE_HASH_LEN];

	noise_kdf(sym->ck, th, sym->k, sym->ck, ikm, len);
	noise_mix_hash(sym, th, sizeof(th));
	sym->n = 0;
	sym->has_k = true;
	sodium_memzero(th, sizeof(th));
}

/* ChaChaPoly's nonce (Noise section 12.3): 4 zero bytes, n as u64 LE. */
static void put_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES], uint64_t n)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

int noise_encrypt_and_hash(struct noise_symmetric *sym, uint8_t *out, const uint8_t *in,
			   size_t len)
{
	static const uint8_t empty[1];
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	if (len > INT_MAX - NOISE_TAG_LEN)
		return -EMSGSIZE;
	if (!in)
		in = empty;	/* an empty payload */
	if (!sym->has_k) {
		if (len)
			memmove(out, in, len);
		noise_mix_hash(sym, out, len);
		return (int)len;
	}
	/* 2^64 - 1 is reserved; a handshake uses each key once or twice. */
	if (sym->n == UINT64_MAX)
		return -EOVERFLOW;
	put_nonce(nonce, sym->n++);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, len, sym->h, NOISE_HASH_LEN,
						  NULL, nonce, sym->k);
	noise_mix_hash(sym, out, len + NOISE_TAG_LEN);
	return (int)(len + NOISE_TAG_LEN);
}

int noise_decrypt_and_hash(struct noise_symmetric *sym, uint8_t *out, const uint8_t *in,
			   size_t len)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t h[NOISE_HASH_LEN];

	if (len > INT_MAX)
		return -EMSGSIZE;
	/* The hash covers the ciphertext: take it before out may overwrite it. */
	noise_hash(h, sym->h, NOISE_HASH_LEN, in, len);
	if (!sym->has_k) {
		if (len)
			memmove(out, in, len);
		memcpy(sym->h, h, NOISE_HASH_LEN);
		return (int)len;
	}
	if (len < NOISE_TAG_LEN)
		return -EBADMSG;
	if (sym->n == UINT64_MAX)
		return -EOVERFLOW;
	put_nonce(nonce, sym->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in, len, sym->h,
						      NOISE_HASH_LEN, nonce, sym->k) != 0)
		return -EKEYREJECTED;
	sym->n++;
	memcpy(sym->h, h, NOISE_HASH_LEN);
	return (int)(len - NOISE_TAG_LEN);
}

void noise_split(const struct noise_symmetric *sym, bool initiator, struct noise_keys *ret_keys)
{
	if (initiator)
		noise_kdf(ret_keys->send, ret_keys->recv, NULL, sym->ck, NULL, 0);
	else
		noise_kdf(ret_keys->recv, ret_keys->send, NULL, sym->ck, NULL, 0);
}

/* --- KK --- */

int noise_kk_init(struct noise_kk *hs, bool initiator, const char *protocol_name,
		  const void *prologue, size_t prologue_len,
		  const uint8_t s_priv[NOISE_KEY_LEN], const uint8_t rs[NOISE_KEY_LEN])
{
	memset(hs, 0, sizeof(*hs));
	memcpy(hs->s_priv, s_priv, NOISE_KEY_LEN);
	if (crypto_scalarmult_base(hs->s_pub, hs->s_priv) != 0) {
		sodium_memzero(hs, sizeof(*hs));
		return -EINVAL;
	}
	memcpy(hs->rs, rs, NOISE_KEY_LEN);
	noise_symmetric_init(&hs->sym, protocol_name, prologue, prologue_len);
	/* Pre-messages: -> s, <- s. */
	noise_mix_hash(&hs->sym, initiator ? hs->s_pub : hs->rs, NOISE_KEY_LEN);
	noise_mix_hash(&hs->sym, initiator ? hs->rs : hs->s_pub, NOISE_KEY_LEN);
	hs->step = initiator ? NOISE_KK_INITIATOR_START : NOISE_KK_RESPONDER_START;
	return 0;
}

/* e: a fresh ephemeral key, sent in clear and hashed. */
static void write_e(struct noise_kk *hs, uint8_t *out)
{
	noise_keypair(hs->e_pub, hs->e_priv);
	memcpy(out, hs->e_pub, NOISE_KEY_LEN);
	noise_mix_hash(&hs->sym, hs->e_pub, NOISE_KEY_LEN);
}

static void read_e(struct noise_kk *hs, const uint8_t *msg)
{
	memcpy(hs->re, msg, NOISE_KEY_LEN);
	noise_mix_hash(&hs->sym, hs->re, NOISE_KEY_LEN);
}

/* The payload of a message into ret_payload, which may be NULL when the
 * payload must be empty. */
static int read_payload(struct noise_kk *hs, const uint8_t *msg, size_t msglen,
			uint8_t *ret_payload)
{
	uint8_t none[1];
	int r;

	if (!ret_payload) {
		if (msglen != NOISE_KK_MSG_LEN(0))
			return -EBADMSG;
		ret_payload = none;
	}
	r = noise_decrypt_and_hash(&hs->sym, ret_payload, msg + NOISE_KEY_LEN,
				   msglen - NOISE_KEY_LEN);
	return r < 0 ? r : 0;
}

int noise_kk_write_first(struct noise_kk *hs, const uint8_t *payload, size_t len,
			 uint8_t *out)
{
	int r;

	if (hs->step != NOISE_KK_INITIATOR_START)
		return -EINVAL;
	write_e(hs, out);
	r = noise_mix_dh(&hs->sym, hs->e_priv, hs->rs);			/* es */
	if (r == 0)
		r = noise_mix_dh(&hs->sym, hs->s_priv, hs->rs);		/* ss */
	if (r == 0)
		r = noise_encrypt_and_hash(&hs->sym, out + NOISE_KEY_LEN, payload, len);
	if (r < 0) {
		sodium_memzero(hs, sizeof(*hs));
		return r;
	}
	hs->step = NOISE_KK_INITIATOR_SENT;
	return 0;
}

int noise_kk_read_first(struct noise_kk *hs, const uint8_t *msg, size_t msglen,
			uint8_t *ret_payload)
{
	int r;

	if (hs->step != NOISE_KK_RESPONDER_START)
		return -EINVAL;
	r = -EBADMSG;
	if (msglen < NOISE_KK_MSG_LEN(0))
		goto fail;
	read_e(hs, msg);
	/* A low-order e or rs: no authentication either. */
	r = -EKEYREJECTED;
	if (noise_mix_dh(&hs->sym, hs->s_priv, hs->re) < 0 ||		/* es */
	    noise_mix_dh(&hs->sym, hs->s_priv, hs->rs) < 0)		/* ss */
		goto fail;
	r = read_payload(hs, msg, msglen, ret_payload);
	if (r < 0)
		goto fail;
	hs->step = NOISE_KK_RESPONDER_READ;
	return 0;
fail:
	sodium_memzero(hs, sizeof(*hs));
	return r;
}

int noise_kk_write_second(struct noise_kk *hs, const uint8_t *payload, size_t len,
			  uint8_t *out, struct noise_keys *ret_keys)
{
	int r;

	if (hs->step != NOISE_KK_RESPONDER_READ)
		return -EINVAL;
	write_e(hs, out);
	r = noise_mix_dh(&hs->sym, hs->e_priv, hs->re);			/* ee */
	if (r == 0)
		r = noise_mix_dh(&hs->sym, hs->e_priv, hs->rs);		/* se */
	if (r == 0)
		r = noise_encrypt_and_hash(&hs->sym, out + NOISE_KEY_LEN, payload, len);
	if (r >= 0) {
		noise_split(&hs->sym, false, ret_keys);
		r = 0;
	}
	sodium_memzero(hs, sizeof(*hs));
	return r;
}

int noise_kk_read_second(struct noise_kk *hs, const uint8_t *msg, size_t msglen,
			 uint8_t *ret_payload, struct noise_keys *ret_keys)
{
	int r;

	if (hs->step != NOISE_KK_INITIATOR_SENT)
		return -EINVAL;
	r = -EBADMSG;
	if (msglen < NOISE_KK_MSG_LEN(0))
		goto out;
	read_e(hs, msg);
	r = -EKEYREJECTED;
	if (noise_mix_dh(&hs->sym, hs->e_priv, hs->re) < 0 ||		/* ee */
	    noise_mix_dh(&hs->sym, hs->s_priv, hs->re) < 0)		/* se */
		goto out;
	r = read_payload(hs, msg, msglen, ret_payload);
	if (r < 0)
		goto out;
	noise_split(&hs->sym, true, ret_keys);
	r = 0;
out:
	sodium_memzero(hs, sizeof(*hs));
	return r;
}
