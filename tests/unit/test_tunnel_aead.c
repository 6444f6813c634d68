/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Data ciphers: seal/open round trip for each cipher, tampering of
 * ciphertext, tag, additional data and nonce fails; none is plaintext. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tunnel/aead.h"

static void roundtrip(enum aead_cipher c)
{
	uint8_t key[AEAD_KEY_LEN], ad[24], pt[1500], ct[1500 + AEAD_TAG_LEN], out[1500];
	struct aead_key *k, *k2;
	size_t i;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(ad, sizeof(ad));
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)i;
	assert_int_equal(aead_key_new(c, key, &k), 0);
	assert_int_equal(aead_overhead(k), AEAD_TAG_LEN);
	aead_seal(k, 42, ad, sizeof(ad), pt, sizeof(pt), ct);
	assert_memory_not_equal(ct, pt, sizeof(pt));
	assert_int_equal(aead_open(k, 42, ad, sizeof(ad), ct, sizeof(ct), out), 0);
	assert_memory_equal(out, pt, sizeof(pt));
	/* Wrong nonce, tampered ciphertext, tag, ad, short input. */
	assert_int_equal(aead_open(k, 43, ad, sizeof(ad), ct, sizeof(ct), out), -EBADMSG);
	ct[7] ^= 1;
	assert_int_equal(aead_open(k, 42, ad, sizeof(ad), ct, sizeof(ct), out), -EBADMSG);
	ct[7] ^= 1;
	ct[sizeof(ct) - 1] ^= 0x80;
	assert_int_equal(aead_open(k, 42, ad, sizeof(ad), ct, sizeof(ct), out), -EBADMSG);
	ct[sizeof(ct) - 1] ^= 0x80;
	ad[3] ^= 4;
	assert_int_equal(aead_open(k, 42, ad, sizeof(ad), ct, sizeof(ct), out), -EBADMSG);
	ad[3] ^= 4;
	assert_int_equal(aead_open(k, 42, ad, sizeof(ad), ct, AEAD_TAG_LEN - 1, out), -EBADMSG);
	assert_int_equal(aead_open(k, 42, ad, sizeof(ad), ct, sizeof(ct), out), 0);
	/* Another key does not open it. */
	key[0] ^= 1;
	assert_int_equal(aead_key_new(c, key, &k2), 0);
	assert_int_equal(aead_open(k2, 42, ad, sizeof(ad), ct, sizeof(ct), out), -EBADMSG);
	/* In place. */
	memcpy(out, pt, sizeof(pt));
	aead_seal(k, 7, ad, sizeof(ad), pt, sizeof(pt), ct);
	assert_int_equal(aead_open(k, 7, ad, sizeof(ad), ct, sizeof(ct), ct), 0);
	assert_memory_equal(ct, pt, sizeof(pt));
	aead_key_free(k);
	aead_key_free(k2);
}

static void test_chacha(void **state)
{
	roundtrip(AEAD_CHACHA20POLY1305);
}

static void test_aesgcm(void **state)
{
	if (!aead_aesgcm_available()) {
		struct aead_key *k;
		uint8_t key[AEAD_KEY_LEN] = { 0 };

		assert_int_equal(aead_key_new(AEAD_AES256GCM, key, &k), -ENOTSUP);
		skip();
	}
	roundtrip(AEAD_AES256GCM);
}

static void test_ciphers_differ(void **state)
{
	uint8_t key[AEAD_KEY_LEN] = { 1 }, pt[64] = { 0 }, a[64 + 16], b[64 + 16];
	struct aead_key *k1, *k2;

	if (!aead_aesgcm_available())
		skip();
	assert_int_equal(aead_key_new(AEAD_CHACHA20POLY1305, key, &k1), 0);
	assert_int_equal(aead_key_new(AEAD_AES256GCM, key, &k2), 0);
	aead_seal(k1, 0, NULL, 0, pt, sizeof(pt), a);
	aead_seal(k2, 0, NULL, 0, pt, sizeof(pt), b);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(aead_open(k2, 0, NULL, 0, a, sizeof(a), pt), -EBADMSG);
	aead_key_free(k1);
	aead_key_free(k2);
}

static void test_none(void **state)
{
	uint8_t key[AEAD_KEY_LEN] = { 0 }, pt[100], out[100];
	struct aead_key *k;

	memset(pt, 0x5a, sizeof(pt));
	assert_int_equal(aead_key_new(AEAD_NONE, key, &k), 0);
	assert_int_equal(aead_overhead(k), 0);
	aead_seal(k, 1, NULL, 0, pt, sizeof(pt), out);
	assert_memory_equal(out, pt, sizeof(pt));
	assert_int_equal(aead_open(k, 1, NULL, 0, out, sizeof(out), out), 0);
	assert_string_equal(aead_cipher_to_string(AEAD_NONE), "none");
	assert_string_equal(aead_cipher_to_string(AEAD_AES256GCM), "aes-256-gcm");
	aead_key_free(k);
	aead_key_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chacha),
		cmocka_unit_test(test_aesgcm),
		cmocka_unit_test(test_ciphers_differ),
		cmocka_unit_test(test_none),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
