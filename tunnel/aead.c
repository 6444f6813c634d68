/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Data-packet ciphers (aead.h). */
#include "tunnel/aead.h"

#include <errno.h>
#include <string.h>

#include "tunnel/wire.h"

static const char *const cipher_names[_AEAD_CIPHER_MAX] = {
	[AEAD_CHACHA20POLY1305] = "chacha20-poly1305",
	[AEAD_AES256GCM] = "aes-256-gcm",
	[AEAD_NONE] = "none",
};

const char *aead_cipher_to_string(enum aead_cipher c)
{
	return (unsigned)c < _AEAD_CIPHER_MAX ? cipher_names[c] : "unknown";
}

int aead_aesgcm_available(void)
{
	return crypto_aead_aes256gcm_is_available();
}

int aead_key_new(enum aead_cipher c, const uint8_t key[AEAD_KEY_LEN], struct aead_key **ret)
{
	struct aead_key *k;

	if ((unsigned)c >= _AEAD_CIPHER_MAX)
		return -EINVAL;
	if (c == AEAD_AES256GCM && !crypto_aead_aes256gcm_is_available())
		return -ENOTSUP;
	/* sizeof is a multiple of 16, so sodium_malloc's end-of-page placement
	 * keeps the AES state aligned. */
	k = sodium_malloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
	memset(k, 0, sizeof(*k));
	k->cipher = c;
	memcpy(k->key, key, AEAD_KEY_LEN);
	if (c == AEAD_AES256GCM)
		crypto_aead_aes256gcm_beforenm(&k->aes, k->key);
	*ret = k;
	return 0;
}

void aead_key_free(struct aead_key *k)
{
	if (!k)
		return;
	/* sodium_free wipes too; be explicit about the contract. */
	sodium_memzero(k, sizeof(*k));
	sodium_free(k);
}

static void make_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	wire_put64(nonce + 4, counter);
}

void aead_seal(const struct aead_key *k, uint64_t counter, const uint8_t *ad,
	       size_t ad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	make_nonce(nonce, counter);
	switch (k->cipher) {
	case AEAD_CHACHA20POLY1305:
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(
			out, out + len, NULL, in, len, ad, ad_len, NULL, nonce, k->key);
		break;
	case AEAD_AES256GCM:
		crypto_aead_aes256gcm_encrypt_detached_afternm(
			out, out + len, NULL, in, len, ad, ad_len, NULL, nonce, &k->aes);
		break;
	default:
		if (out != in)
			memmove(out, in, len);
		break;
	}
}

int aead_open(const struct aead_key *k, uint64_t counter, const uint8_t *ad,
	      size_t ad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[12];
	int r;

	if (len < aead_overhead(k))
		return -EBADMSG;
	make_nonce(nonce, counter);
	switch (k->cipher) {
	case AEAD_CHACHA20POLY1305:
		r = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
			out, NULL, in, len - AEAD_TAG_LEN, in + len - AEAD_TAG_LEN,
			ad, ad_len, nonce, k->key);
		break;
	case AEAD_AES256GCM:
		r = crypto_aead_aes256gcm_decrypt_detached_afternm(
			out, NULL, in, len - AEAD_TAG_LEN, in + len - AEAD_TAG_LEN,
			ad, ad_len, nonce, &k->aes);
		break;
	default:
		if (out != in)
			memmove(out, in, len);
		r = 0;
		break;
	}
	return r == 0 ? 0 : -EBADMSG;
}
