/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit test: the Noise construction both handshakes share (common/noise.c):
 * the symmetric state, the KK pattern of the disk stream (agreement,
 * refusals, tampering, replay, domain separation), and known-answer vectors
 * that pin the bytes on the wire of both patterns: the tunnel's IK
 * (tunnel/noise.c, recorded before it moved onto common/noise.c) and KK.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/noise.h"
#include "tunnel/noise.h"

static const char kk_name[] = "Noise_KK_25519_ChaChaPoly_BLAKE2b";
static const char kk_prologue[] = "bridged v2 disk stream";

/* Random bytes: the system's, or a fixed sequence for the known answers. */
static bool det_rng;
static uint64_t det_ctr;

static const char *rng_name(void)
{
	return "test";
}

static void rng_buf(void *buf, size_t size)
{
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };
	int i;

	if (!det_rng) {
		randombytes_sysrandom_implementation.buf(buf, size);
		return;
	}
	for (i = 0; i < 8; i++)
		seed[i] = (uint8_t)(det_ctr >> (8 * i));
	det_ctr++;
	randombytes_buf_deterministic(buf, size, seed);
}

static uint32_t rng_random(void)
{
	uint32_t v;

	rng_buf(&v, sizeof(v));
	return v;
}

static struct randombytes_implementation rng = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

static void det_start(void)
{
	det_rng = true;
	det_ctr = 0;
}

static void hex(char *out, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

struct id {
	uint8_t priv[32], pub[32];
};

static void id_new(struct id *k)
{
	crypto_box_keypair(k->pub, k->priv);
}

/* A KK exchange between i and r; the messages are left in m1 and m2. */
struct kk_run {
	struct noise_kk hi, hr;
	struct noise_keys ki, kr;
	uint8_t m1[NOISE_KK_MSG_LEN(0)], m2[NOISE_KK_MSG_LEN(0)];
};

static void kk_first(struct kk_run *x, const struct id *i, const struct id *r)
{
	memset(x, 0, sizeof(*x));
	assert_int_equal(noise_kk_init(&x->hi, true, kk_name, kk_prologue, sizeof(kk_prologue) - 1,
				       i->priv, r->pub), 0);
	assert_int_equal(noise_kk_write_first(&x->hi, NULL, 0, x->m1), 0);
}

static int kk_resp(struct kk_run *x, const struct id *r, const uint8_t *expect_i_pub)
{
	int ret;

	assert_int_equal(noise_kk_init(&x->hr, false, kk_name, kk_prologue, sizeof(kk_prologue) - 1,
				       r->priv, expect_i_pub), 0);
	ret = noise_kk_read_first(&x->hr, x->m1, sizeof(x->m1), NULL);
	if (ret < 0)
		return ret;
	return noise_kk_write_second(&x->hr, NULL, 0, x->m2, &x->kr);
}

static void test_symmetric(void **state)
{
	struct noise_symmetric a, b, saved;
	uint8_t ct1[5 + NOISE_TAG_LEN], ct2[5 + NOISE_TAG_LEN], pt[5 + NOISE_TAG_LEN];
	uint8_t h[NOISE_HASH_LEN] = "Noise_short";

	(void)state;
	/* A name of at most 32 bytes is used as h, zero-padded; the
	 * prologue is hashed into h, never into ck. */
	noise_symmetric_init(&a, "Noise_short", "", 0);
	assert_memory_equal(a.ck, h, sizeof(h));
	noise_symmetric_init(&a, kk_name, "p", 1);
	noise_hash(h, kk_name, strlen(kk_name), NULL, 0);
	assert_memory_equal(a.ck, h, sizeof(h));
	noise_hash(h, h, sizeof(h), "p", 1);
	assert_memory_equal(a.h, h, sizeof(h));
	assert_false(a.has_k);

	/* Without a key: the payload in clear, hashed alike on both sides. */
	b = a;
	assert_int_equal(noise_encrypt_and_hash(&a, ct1, (const uint8_t *)"hello", 5), 5);
	assert_memory_equal(ct1, "hello", 5);
	assert_int_equal(noise_decrypt_and_hash(&b, pt, ct1, 5), 5);
	assert_memory_equal(a.h, b.h, sizeof(a.h));

	/* With a key: the nonce counts, the hash follows the ciphertext. */
	noise_mix_key(&a, (const uint8_t *)"ikm", 3);
	noise_mix_key(&b, (const uint8_t *)"ikm", 3);
	assert_int_equal(noise_encrypt_and_hash(&a, ct1, (const uint8_t *)"hello", 5), 5 + NOISE_TAG_LEN);
	assert_int_equal(a.n, 1);
	memcpy(ct2, ct1, sizeof(ct1));
	ct2[3] ^= 1;
	saved = b;
	assert_int_equal(noise_decrypt_and_hash(&b, pt, ct2, sizeof(ct2)), -EKEYREJECTED);
	assert_memory_equal(&b, &saved, sizeof(b));	/* a failure changes nothing */
	assert_int_equal(noise_decrypt_and_hash(&b, pt, ct1, 4), -EBADMSG);
	assert_int_equal(noise_decrypt_and_hash(&b, pt, ct1, sizeof(ct1)), 5);
	assert_memory_equal(pt, "hello", 5);
	assert_memory_equal(a.h, b.h, sizeof(a.h));
	/* The same plaintext under the next nonce is another ciphertext. */
	assert_int_equal(noise_encrypt_and_hash(&a, ct2, (const uint8_t *)"hello", 5), 5 + NOISE_TAG_LEN);
	assert_memory_not_equal(ct1, ct2, sizeof(ct1));
	assert_int_equal(noise_decrypt_and_hash(&b, pt, ct2, sizeof(ct2)), 5);

	/* Split: the initiator's send key is the responder's receive key. */
	{
		struct noise_keys ki, kr;

		noise_split(&a, true, &ki);
		noise_split(&b, false, &kr);
		assert_memory_equal(ki.send, kr.recv, NOISE_KEY_LEN);
		assert_memory_equal(ki.recv, kr.send, NOISE_KEY_LEN);
		assert_memory_not_equal(ki.send, ki.recv, NOISE_KEY_LEN);
	}
}

static void test_kk_exchange(void **state)
{
	struct id i, r;
	struct noise_kk hi, hr;
	struct noise_keys ki, kr;
	uint8_t m1[NOISE_KK_MSG_LEN(5)], m2[NOISE_KK_MSG_LEN(3)], p[8];
	uint8_t ct[4 + NOISE_TAG_LEN], nonce[12] = { 0 };
	static const uint8_t zero[NOISE_KEY_LEN];

	(void)state;
	id_new(&i);
	id_new(&r);
	assert_int_equal(noise_kk_init(&hi, true, kk_name, "x", 1, i.priv, r.pub), 0);
	assert_int_equal(noise_kk_init(&hr, false, kk_name, "x", 1, r.priv, i.pub), 0);
	assert_int_equal(noise_kk_write_first(&hi, (const uint8_t *)"first", 5, m1), 0);
	assert_memory_not_equal(m1 + NOISE_KEY_LEN, "first", 5);	/* encrypted */
	assert_int_equal(noise_kk_read_first(&hr, m1, sizeof(m1), p), 0);
	assert_memory_equal(p, "first", 5);
	assert_int_equal(noise_kk_write_second(&hr, (const uint8_t *)"2nd", 3, m2, &kr), 0);
	assert_int_equal(noise_kk_read_second(&hi, m2, sizeof(m2), p, &ki), 0);
	assert_memory_equal(p, "2nd", 3);

	/* Both sides derive the same keys, one per direction. */
	assert_memory_equal(ki.send, kr.recv, NOISE_KEY_LEN);
	assert_memory_equal(ki.recv, kr.send, NOISE_KEY_LEN);
	assert_memory_not_equal(ki.send, ki.recv, NOISE_KEY_LEN);
	/* ... and they work as transport keys. */
	crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, (const uint8_t *)"data", 4, NULL, 0,
						  NULL, nonce, ki.send);
	assert_int_equal(crypto_aead_chacha20poly1305_ietf_decrypt(p, NULL, NULL, ct, sizeof(ct),
								   NULL, 0, nonce, kr.recv), 0);
	assert_memory_equal(p, "data", 4);

	/* Finished: the states are wiped and take no further message. */
	assert_int_equal(hi.step, NOISE_KK_IDLE);
	assert_int_equal(hr.step, NOISE_KK_IDLE);
	assert_memory_equal(hi.e_priv, zero, sizeof(zero));
	assert_memory_equal(hr.sym.ck, zero, sizeof(zero));
	assert_int_equal(noise_kk_read_second(&hi, m2, sizeof(m2), p, &ki), -EINVAL);
	assert_int_equal(noise_kk_read_first(&hr, m1, sizeof(m1), p), -EINVAL);
	/* Out of order. */
	assert_int_equal(noise_kk_init(&hi, true, kk_name, "x", 1, i.priv, r.pub), 0);
	assert_int_equal(noise_kk_read_first(&hi, m1, sizeof(m1), p), -EINVAL);
	assert_int_equal(noise_kk_write_second(&hi, NULL, 0, m2, &ki), -EINVAL);
	assert_int_equal(noise_kk_init(&hr, false, kk_name, "x", 1, r.priv, i.pub), 0);
	assert_int_equal(noise_kk_write_first(&hr, NULL, 0, m1), -EINVAL);
	assert_int_equal(noise_kk_read_second(&hr, m2, sizeof(m2), p, &kr), -EINVAL);
}

static void test_kk_wrong_keys(void **state)
{
	struct id i, r, m, i2;
	struct kk_run x, y;
	uint8_t p[1];

	(void)state;
	id_new(&i);
	id_new(&r);
	id_new(&m);
	id_new(&i2);

	/* Wrong initiator static key: m pretends to be i. */
	kk_first(&x, &m, &r);
	assert_int_equal(kk_resp(&x, &r, i.pub), -EKEYREJECTED);
	assert_int_equal(x.hr.step, NOISE_KK_IDLE);	/* failed: wiped */

	/* Wrong responder static key, message 1: i addresses r, m (who
	 * holds only r's public key) cannot read it. */
	kk_first(&x, &i, &r);
	assert_int_equal(kk_resp(&x, &m, i.pub), -EKEYREJECTED);
	/* The initiator got the wrong key for r: r cannot read it either. */
	kk_first(&x, &i, &m);
	assert_int_equal(kk_resp(&x, &r, i.pub), -EKEYREJECTED);

	/* Wrong responder static key, message 2: i waits for r, and m
	 * answers with a message 2 of its own handshake (with i2, whose
	 * message 1 it could read). */
	kk_first(&x, &i, &r);
	kk_first(&y, &i2, &m);
	assert_int_equal(kk_resp(&y, &m, i2.pub), 0);
	assert_int_equal(noise_kk_read_second(&x.hi, y.m2, sizeof(y.m2), NULL, &x.ki), -EKEYREJECTED);
	assert_int_equal(x.hi.step, NOISE_KK_IDLE);
	/* nor a message 2 of r for another initiator */
	kk_first(&x, &i, &r);
	kk_first(&y, &i2, &r);
	assert_int_equal(kk_resp(&y, &r, i2.pub), 0);
	assert_int_equal(noise_kk_read_second(&x.hi, y.m2, sizeof(y.m2), p, &x.ki), -EKEYREJECTED);

	/* The right pair still works. */
	kk_first(&x, &i, &r);
	assert_int_equal(kk_resp(&x, &r, i.pub), 0);
	assert_int_equal(noise_kk_read_second(&x.hi, x.m2, sizeof(x.m2), NULL, &x.ki), 0);
	assert_memory_equal(x.ki.send, x.kr.recv, NOISE_KEY_LEN);
}

static void test_kk_modified(void **state)
{
	struct id i, r;
	struct kk_run x;
	uint8_t longer[NOISE_KK_MSG_LEN(1)], p[1];
	size_t pos;
	int bit;

	(void)state;
	id_new(&i);
	id_new(&r);
	/* Any bit of message 1 changed: the responder refuses it. */
	kk_first(&x, &i, &r);
	for (pos = 0; pos < sizeof(x.m1); pos++) {
		for (bit = 0; bit < 8; bit += 3) {
			struct kk_run y = x;

			y.m1[pos] ^= (uint8_t)(1u << bit);
			assert_int_equal(kk_resp(&y, &r, i.pub), -EKEYREJECTED);
		}
	}
	/* Cut short or lengthened. */
	assert_int_equal(noise_kk_init(&x.hr, false, kk_name, kk_prologue, sizeof(kk_prologue) - 1,
				       r.priv, i.pub), 0);
	assert_int_equal(noise_kk_read_first(&x.hr, x.m1, sizeof(x.m1) - 1, NULL), -EBADMSG);
	memcpy(longer, x.m1, sizeof(x.m1));
	longer[sizeof(x.m1)] = 0;
	assert_int_equal(noise_kk_init(&x.hr, false, kk_name, kk_prologue, sizeof(kk_prologue) - 1,
				       r.priv, i.pub), 0);
	assert_int_equal(noise_kk_read_first(&x.hr, longer, sizeof(longer), NULL), -EBADMSG);
	assert_int_equal(noise_kk_init(&x.hr, false, kk_name, kk_prologue, sizeof(kk_prologue) - 1,
				       r.priv, i.pub), 0);
	assert_int_equal(noise_kk_read_first(&x.hr, longer, sizeof(longer), p), -EKEYREJECTED);
	/* The unmodified message still passes. */
	assert_int_equal(kk_resp(&x, &r, i.pub), 0);

	/* Any bit of message 2 changed: the initiator refuses it. */
	for (pos = 0; pos < sizeof(x.m2); pos++) {
		for (bit = 0; bit < 8; bit += 3) {
			kk_first(&x, &i, &r);
			assert_int_equal(kk_resp(&x, &r, i.pub), 0);
			x.m2[pos] ^= (uint8_t)(1u << bit);
			assert_int_equal(noise_kk_read_second(&x.hi, x.m2, sizeof(x.m2), NULL, &x.ki),
					 -EKEYREJECTED);
		}
	}
	kk_first(&x, &i, &r);
	assert_int_equal(kk_resp(&x, &r, i.pub), 0);
	assert_int_equal(noise_kk_read_second(&x.hi, x.m2, sizeof(x.m2) - 1, NULL, &x.ki), -EBADMSG);
}

static void test_kk_replay(void **state)
{
	struct id i, r;
	struct kk_run x, y;
	uint8_t ct[4 + NOISE_TAG_LEN], pt[4], nonce[12] = { 0 };

	(void)state;
	id_new(&i);
	id_new(&r);
	/* A recorded session: message 1, then the initiator's first frame. */
	kk_first(&x, &i, &r);
	assert_int_equal(kk_resp(&x, &r, i.pub), 0);
	assert_int_equal(noise_kk_read_second(&x.hi, x.m2, sizeof(x.m2), NULL, &x.ki), 0);
	crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, (const uint8_t *)"INFO", 4, NULL, 0,
						  NULL, nonce, x.ki.send);

	/* Message 1 replayed to a fresh responder: it cannot tell, but its
	 * answer has a new ephemeral key, so the keys are new and the
	 * recorded frame does not decrypt. */
	y = x;
	assert_int_equal(kk_resp(&y, &r, i.pub), 0);
	assert_memory_not_equal(y.m2, x.m2, sizeof(x.m2));
	assert_memory_not_equal(y.kr.recv, x.kr.recv, NOISE_KEY_LEN);
	assert_memory_not_equal(y.kr.send, x.kr.send, NOISE_KEY_LEN);
	assert_int_not_equal(crypto_aead_chacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct, sizeof(ct),
								       NULL, 0, nonce, y.kr.recv), 0);
	/* Under the original session's keys it did. */
	assert_int_equal(crypto_aead_chacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct, sizeof(ct),
								   NULL, 0, nonce, x.kr.recv), 0);
	/* And message 2 replayed to the initiator, which is done: refused. */
	assert_int_equal(noise_kk_read_second(&x.hi, x.m2, sizeof(x.m2), NULL, &x.ki), -EINVAL);
}

static void test_kk_domains(void **state)
{
	struct id i, r;
	struct noise_kk hi, hr;
	uint8_t m1[NOISE_KK_MSG_LEN(0)];
	static const uint8_t low_order[NOISE_KEY_LEN];

	(void)state;
	id_new(&i);
	id_new(&r);
	/* Another prologue (the hellos differ): refused. */
	assert_int_equal(noise_kk_init(&hi, true, kk_name, "bridged v2 disk stream A", 24,
				       i.priv, r.pub), 0);
	assert_int_equal(noise_kk_write_first(&hi, NULL, 0, m1), 0);
	assert_int_equal(noise_kk_init(&hr, false, kk_name, "bridged v2 disk stream B", 24,
				       r.priv, i.pub), 0);
	assert_int_equal(noise_kk_read_first(&hr, m1, sizeof(m1), NULL), -EKEYREJECTED);
	/* The tunnel's protocol name and prologue: refused. */
	assert_int_equal(noise_kk_init(&hi, true, "Noise_IK_25519_ChaChaPoly_BLAKE2b",
				       "bridged v1 tunnel", 17, i.priv, r.pub), 0);
	assert_int_equal(noise_kk_write_first(&hi, NULL, 0, m1), 0);
	assert_int_equal(noise_kk_init(&hr, false, kk_name, kk_prologue, sizeof(kk_prologue) - 1,
				       r.priv, i.pub), 0);
	assert_int_equal(noise_kk_read_first(&hr, m1, sizeof(m1), NULL), -EKEYREJECTED);

	/* Low-order keys: a peer key we cannot use, an ephemeral key that
	 * proves nothing. */
	assert_int_equal(noise_kk_init(&hi, true, kk_name, "", 0, i.priv, low_order), 0);
	assert_int_equal(noise_kk_write_first(&hi, NULL, 0, m1), -EINVAL);
	assert_int_equal(hi.step, NOISE_KK_IDLE);
	assert_int_equal(noise_kk_init(&hi, true, kk_name, "", 0, i.priv, r.pub), 0);
	assert_int_equal(noise_kk_write_first(&hi, NULL, 0, m1), 0);
	memset(m1, 0, NOISE_KEY_LEN);
	assert_int_equal(noise_kk_init(&hr, false, kk_name, "", 0, r.priv, i.pub), 0);
	assert_int_equal(noise_kk_read_first(&hr, m1, sizeof(m1), NULL), -EKEYREJECTED);
}

/* The bytes on the wire of a KK exchange with fixed keys and fixed
 * "random" ephemeral keys: a change of these is a change of the disk
 * stream's protocol (bump HS_VERSION, docs/STREAM.md). */
static void test_kk_known_answer(void **state)
{
	struct id i, r;
	struct kk_run x;
	uint8_t h[32];
	char got[65];
	int k;

	(void)state;
	for (k = 0; k < 32; k++) {
		i.priv[k] = (uint8_t)(k + 1);
		r.priv[k] = (uint8_t)(0x80 + k);
	}
	crypto_scalarmult_base(i.pub, i.priv);
	crypto_scalarmult_base(r.pub, r.priv);
	det_start();
	kk_first(&x, &i, &r);
	assert_int_equal(kk_resp(&x, &r, i.pub), 0);
	assert_int_equal(noise_kk_read_second(&x.hi, x.m2, sizeof(x.m2), NULL, &x.ki), 0);
	det_rng = false;
	{
		crypto_generichash_state st;

		crypto_generichash_init(&st, NULL, 0, 32);
		crypto_generichash_update(&st, x.m1, sizeof(x.m1));
		crypto_generichash_update(&st, x.m2, sizeof(x.m2));
		crypto_generichash_update(&st, x.ki.send, 32);
		crypto_generichash_update(&st, x.ki.recv, 32);
		crypto_generichash_final(&st, h, 32);
	}
	hex(got, h, 32);
	assert_string_equal(got, "9cec1bff98b4e15ef1eeac34e6bc40022f4b95ca192768853954b9885ac96586");
}

/* The tunnel's IK on top of the shared construction: byte for byte what
 * tunnel/noise.c sent before the construction moved to common/noise.c
 * (the vector was recorded from that code), so tunnels of both versions
 * still agree. */
static void test_ik_known_answer(void **state)
{
	struct noise_static si, sr;
	struct noise_peer pi, pr;
	struct noise_init_state st;
	struct noise_keys ki, kr;
	uint8_t a[32], b[32], tai[WIRE_TAI64N_LEN], t2[WIRE_TAI64N_LEN];
	uint8_t init[WIRE_INIT_LEN], resp[WIRE_RESP_MAX_LEN], pl[WIRE_HS_PAYLOAD_LEN];
	uint8_t rp[WIRE_HS_PAYLOAD_LEN], h[32];
	crypto_generichash_state hs;
	char got[65];
	int k, rlen;

	(void)state;
	for (k = 0; k < 32; k++) {
		a[k] = (uint8_t)(k + 1);
		b[k] = (uint8_t)(0x80 + k);
	}
	det_start();
	assert_int_equal(noise_static_init(&si, a), 0);
	assert_int_equal(noise_static_init(&sr, b), 0);
	assert_int_equal(noise_peer_init(&pi, &si, sr.pub), 0);
	assert_int_equal(noise_peer_init(&pr, &sr, si.pub), 0);
	noise_tai64n(tai, 1700000000123456789ull);
	memcpy(pl, "\x01\x00\x03\x01\x05" "br-sv", 10);
	assert_int_equal(noise_create_initiation(&pi, &si, sr.pub, 0x11223344, tai, pl, 10, init), 0);
	assert_true(noise_mac1_ok(sr.mac1_key, init, sizeof(init)));
	assert_int_equal(noise_consume_initiation_static(&sr, init, sizeof(init), &st), 0);
	assert_memory_equal(st.s_i, si.pub, 32);
	assert_int_equal(noise_consume_initiation_payload(&st, &pr, init, t2, rp), 0);
	assert_memory_equal(t2, tai, sizeof(tai));
	assert_memory_equal(rp, pl, 10);
	rlen = noise_create_response(&st, &pr, 0x55667788, pl, 10, resp, &kr);
	assert_int_equal(rlen, 86);
	assert_true(noise_mac1_ok(si.mac1_key, resp, (size_t)rlen));
	assert_int_equal(noise_consume_response(&pi, &si, resp, (size_t)rlen, rp, &ki), 0);
	det_rng = false;
	assert_memory_equal(ki.send, kr.recv, 32);
	assert_memory_equal(ki.recv, kr.send, 32);

	crypto_generichash_init(&hs, NULL, 0, 32);
	crypto_generichash_update(&hs, init, sizeof(init));
	crypto_generichash_update(&hs, resp, (size_t)rlen);
	crypto_generichash_update(&hs, ki.send, 32);
	crypto_generichash_update(&hs, ki.recv, 32);
	crypto_generichash_final(&hs, h, 32);
	hex(got, h, 32);
	assert_string_equal(got, "0d8f7d2230782455a5e0b33f640ce1415fd1c722945b7ac7099c39b8f7809658");
}

/* A tunnel initiation is no stream message, and the reverse. */
static void test_patterns_apart(void **state)
{
	struct id i, r;
	struct noise_static si, sr;
	struct noise_peer pi;
	struct noise_init_state st;
	struct noise_kk hr;
	struct kk_run x;
	uint8_t tai[WIRE_TAI64N_LEN] = { 0 }, init[WIRE_INIT_LEN], pkt[WIRE_INIT_LEN];
	static const uint8_t payload[4] = { 1, 0, 1, 0 };

	(void)state;
	id_new(&i);
	id_new(&r);
	assert_int_equal(noise_static_init(&si, i.priv), 0);
	assert_int_equal(noise_static_init(&sr, r.priv), 0);
	assert_int_equal(noise_peer_init(&pi, &si, sr.pub), 0);
	assert_int_equal(noise_create_initiation(&pi, &si, sr.pub, 1, tai, payload, sizeof(payload), init), 0);
	/* Its first bytes as a KK message 1 (E at offset 8 in the tunnel). */
	assert_int_equal(noise_kk_init(&hr, false, kk_name, kk_prologue, sizeof(kk_prologue) - 1,
				       r.priv, i.pub), 0);
	assert_int_equal(noise_kk_read_first(&hr, init + 8, NOISE_KK_MSG_LEN(0), NULL), -EKEYREJECTED);
	/* A KK message 1 laid into an initiation: not the tunnel's either. */
	kk_first(&x, &i, &r);
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = WIRE_TYPE_INITIATION;
	memcpy(pkt + 8, x.m1, sizeof(x.m1));
	assert_int_equal(noise_consume_initiation_static(&sr, pkt, sizeof(pkt), &st), -EKEYREJECTED);
	noise_wipe(&st, sizeof(st));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symmetric),
		cmocka_unit_test(test_kk_exchange),
		cmocka_unit_test(test_kk_wrong_keys),
		cmocka_unit_test(test_kk_modified),
		cmocka_unit_test(test_kk_replay),
		cmocka_unit_test(test_kk_domains),
		cmocka_unit_test(test_kk_known_answer),
		cmocka_unit_test(test_ik_known_answer),
		cmocka_unit_test(test_patterns_apart),
	};

	/* Before sodium_init, as libsodium requires. */
	randombytes_set_implementation(&rng);
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
