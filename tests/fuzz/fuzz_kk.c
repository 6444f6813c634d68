/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the Noise KK handshake of the disk stream
 * (common/noise.c, noise_kk_*: what MigrateListen reads first from anyone
 * who connects, and what `migrate receive --from` reads back), with fixed
 * static keys so that valid messages exist to be altered.
 *
 * Input: [mode][payload len][changes: (u16 position, u8 xor)...]. The
 * initiator writes message 1 (a payload of that many bytes), the changes
 * are applied to it (mode bit 0) or to message 2 (bit 1), or the input
 * after the header replaces message 1 whole (bit 2). Checked: the
 * responder accepts message 1 exactly when it is unchanged (and a foreign
 * one only with a payload our initiator wrote: a replay), the initiator
 * message 2 exactly when it is unchanged; both then hold the same transport
 * keys (one's send is the other's receive) and the same payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char proto[] = "Noise_KK_25519_ChaChaPoly_BLAKE2b";
static const uint8_t prologue[] = "bridged fuzz_kk";

/* Applies the input's changes to msg (len bytes); whether it differs now. */
static bool alter(uint8_t *msg, size_t len, const uint8_t *data, size_t size)
{
	uint8_t orig[NOISE_KK_MSG_LEN(64)];

	memcpy(orig, msg, len);
	for (size_t i = 0; i + 3 <= size; i += 3)
		msg[(data[i] | data[i + 1] << 8) % len] ^= data[i + 2];
	return memcmp(orig, msg, len) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ipriv[32], ipub[32], rpriv[32], rpub[32];
	static int init;
	uint8_t m1[NOISE_KK_MSG_LEN(64)], m2[NOISE_KK_MSG_LEN(64)], pay[64], got[64];
	struct noise_kk ini, res;
	struct noise_keys ki, kr;
	size_t plen, m1len, m2len;
	bool changed;
	uint8_t mode;
	int r;

	if (!init) {
		if (sodium_init() < 0)
			abort();
		memset(ipriv, 0x31, 32);
		memset(rpriv, 0x32, 32);
		crypto_scalarmult_base(ipub, ipriv);
		crypto_scalarmult_base(rpub, rpriv);
		init = 1;
	}
	if (size < 2)
		return 0;
	mode = data[0];
	plen = data[1] % (sizeof(pay) + 1);
	data += 2, size -= 2;
	for (size_t i = 0; i < plen; i++)
		pay[i] = (uint8_t)(i * 13 + 1);
	if (noise_kk_init(&ini, true, proto, prologue, sizeof(prologue), ipriv, rpub) < 0 ||
	    noise_kk_init(&res, false, proto, prologue, sizeof(prologue), rpriv, ipub) < 0)
		abort();
	m1len = NOISE_KK_MSG_LEN(plen);
	if (noise_kk_write_first(&ini, pay, plen, m1) < 0)
		abort();
	if (mode & 4) {
		/* message 1 replaced by the input. It authenticates only if an
		 * initiator holding ipriv wrote it (a replay of an earlier one
		 * does: KK's first message has no replay protection of its own,
		 * and libFuzzer learns such messages from comparisons it sees;
		 * the replayer cannot complete the handshake). So: when it is
		 * accepted, its payload is one our initiator writes. */
		size_t n = size < sizeof(m1) ? size : sizeof(m1);

		memcpy(m1, data, n);
		m1len = n;
		if (noise_kk_read_first(&res, m1, m1len, m1len >= NOISE_KK_MSG_LEN(0) &&
					m1len <= NOISE_KK_MSG_LEN(sizeof(got)) ? got : NULL) == 0)
			for (size_t i = 0; i < m1len - NOISE_KK_MSG_LEN(0); i++)
				if (got[i] != (uint8_t)(i * 13 + 1))
					abort();        /* forged: a payload nobody wrote */
		return 0;
	}
	changed = (mode & 1) && alter(m1, m1len, data, size);
	r = noise_kk_read_first(&res, m1, m1len, got);
	if (changed) {
		if (r == 0)
			abort();        /* a changed message 1 authenticated */
		return 0;
	}
	if (r < 0 || memcmp(got, pay, plen))
		abort();                /* the message as written was refused */
	m2len = NOISE_KK_MSG_LEN(plen);
	if (noise_kk_write_second(&res, pay, plen, m2, &kr) < 0)
		abort();
	changed = !(mode & 1) && (mode & 2) && alter(m2, m2len, data, size);
	r = noise_kk_read_second(&ini, m2, m2len, got, &ki);
	if (changed != (r < 0))
		abort();                /* message 2 taken exactly when unchanged */
	if (r == 0 && (memcmp(ki.send, kr.recv, 32) || memcmp(ki.recv, kr.send, 32) || memcmp(got, pay, plen)))
		abort();                /* the same transport keys on both sides */
	return 0;
}
