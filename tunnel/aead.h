/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data-packet ciphers behind one small interface: ChaCha20-Poly1305 IETF,
 * AES-256-GCM (where the CPU has it) and the plaintext "none" mode. A
 * struct aead_key lives in sodium_malloc'd memory (aead_key_new) and is
 * wiped on free. Nonce: 4 zero bytes || counter (u64 LE).
 */
#ifndef BRIDGED_TUNNEL_AEAD_H
#define BRIDGED_TUNNEL_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

enum aead_cipher {
	AEAD_CHACHA20POLY1305,
	AEAD_AES256GCM,
	AEAD_NONE,
	_AEAD_CIPHER_MAX,
};
const char *aead_cipher_to_string(enum aead_cipher c);

#define AEAD_KEY_LEN 32
#define AEAD_TAG_LEN 16

struct aead_key {
	crypto_aead_aes256gcm_state aes;     /* 16-byte aligned, first */
	uint8_t key[AEAD_KEY_LEN];
	enum aead_cipher cipher;
};

/* True if AES-256-GCM can be used on this CPU (after sodium_init). */
int aead_aesgcm_available(void);
/* Allocates a key in sodium_malloc'd memory; -ENOMEM / -ENOTSUP. */
int aead_key_new(enum aead_cipher c, const uint8_t key[AEAD_KEY_LEN], struct aead_key **ret);
void aead_key_free(struct aead_key *k);
/* Tag bytes the cipher adds (0 for none). */
static inline size_t aead_overhead(const struct aead_key *k)
{
	return k->cipher == AEAD_NONE ? 0 : AEAD_TAG_LEN;
}
/* out gets len + overhead bytes; out may equal in. */
void aead_seal(const struct aead_key *k, uint64_t counter, const uint8_t *ad,
	       size_t ad_len, const uint8_t *in, size_t len, uint8_t *out);
/* in is len bytes including the tag; out gets len - overhead bytes; out may
 * equal in. 0 or -EBADMSG. */
int aead_open(const struct aead_key *k, uint64_t counter, const uint8_t *ad,
	      size_t ad_len, const uint8_t *in, size_t len, uint8_t *out);

#endif
