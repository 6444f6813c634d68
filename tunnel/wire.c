/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wire codec: data header, fragment geometry, segment ids, handshake
 * payload (see wire.h and docs/PROTOCOL.md). */
#include "tunnel/wire.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

void wire_data_hdr_encode(uint8_t out[WIRE_DATA_HDR_LEN], const struct wire_data_hdr *h)
{
	out[0] = WIRE_TYPE_DATA;
	out[1] = h->kind;
	out[2] = h->frag_index;
	out[3] = h->frag_count;
	wire_put32(out + 4, h->receiver);
	wire_put64(out + 8, h->counter);
	wire_put32(out + 16, h->segment_id);
	wire_put16(out + 20, 0);
	wire_put16(out + 22, h->frame_len);
}

int wire_data_hdr_decode(const uint8_t *pkt, size_t len, struct wire_data_hdr *ret)
{
	struct wire_data_hdr h;

	if (len < WIRE_DATA_HDR_LEN || pkt[0] != WIRE_TYPE_DATA)
		return -EBADMSG;
	h.kind = pkt[1];
	h.frag_index = pkt[2];
	h.frag_count = pkt[3];
	h.receiver = wire_get32(pkt + 4);
	h.counter = wire_get64(pkt + 8);
	h.segment_id = wire_get32(pkt + 16);
	h.frame_len = wire_get16(pkt + 22);

	if (h.kind >= _WIRE_KIND_MAX || h.frame_len == 0 || wire_get16(pkt + 20) != 0)
		return -EBADMSG;
	if (h.frag_count == 0 || h.frag_count > WIRE_FRAG_MAX ||
	    h.frag_index >= h.frag_count)
		return -EBADMSG;
	/* Fragments carry consecutive counters: the frame's first is
	 * counter - index. */
	if (h.counter < h.frag_index)
		return -EBADMSG;
	if (h.kind == WIRE_KIND_GSO) {
		/* the header and at least an Ethernet header */
		if (h.frame_len < WIRE_VNET_HDR_LEN + 14)
			return -EBADMSG;
	} else if (h.kind != WIRE_KIND_FRAME &&
		   (h.frag_count != 1 || h.segment_id != 0 || h.frame_len != WIRE_KEEPALIVE_LEN)) {
		return -EBADMSG;
	}
	*ret = h;
	return 0;
}

int wire_data_check_body(const struct wire_data_hdr *h, size_t body_len)
{
	size_t chunk, expect;

	if (h->frag_count == 1)
		return body_len == h->frame_len ? 0 : -EBADMSG;
	chunk = wire_frag_chunk(h->frame_len, h->frag_count);
	/* The last fragment must not be empty: the sender never splits so. */
	if (chunk * (h->frag_count - 1u) >= h->frame_len)
		return -EBADMSG;
	if (h->frag_index + 1u < h->frag_count)
		expect = chunk;
	else
		expect = h->frame_len - chunk * (h->frag_count - 1u);
	return body_len == expect ? 0 : -EBADMSG;
}

int wire_frag_geometry(size_t len, size_t max_payload, unsigned *ret_count,
		       size_t *ret_chunk)
{
	size_t count;

	if (len == 0 || len > WIRE_FRAME_MAX || max_payload == 0)
		return -EMSGSIZE;
	count = (len + max_payload - 1) / max_payload;
	if (count > WIRE_FRAG_MAX)
		return -EMSGSIZE;
	*ret_count = (unsigned)count;
	*ret_chunk = wire_frag_chunk(len, (unsigned)count);
	return 0;
}

uint32_t wire_segment_id(const char *name, size_t len)
{
	static const char label[] = "bridged segment";
	crypto_generichash_state st;
	uint8_t out[32];

	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label) - 1);
	crypto_generichash_update(&st, (const uint8_t *)name, len);
	crypto_generichash_final(&st, out, sizeof(out));
	return wire_get32(out);
}

int wire_hs_payload_encode(uint8_t *out, size_t cap, uint8_t crypt, uint8_t ciphers,
			   const char (*names)[32], size_t n)
{
	return wire_hs_payload_encode_features(out, cap, crypt, ciphers, 0, names, n);
}

int wire_hs_payload_encode_features(uint8_t *out, size_t cap, uint8_t crypt, uint8_t ciphers,
				    uint8_t features, const char (*names)[32], size_t n)
{
	size_t off = WIRE_HS_PAYLOAD_MIN, i, l;

	if (cap < WIRE_HS_PAYLOAD_MIN || n > 255)
		return -E2BIG;
	if ((ciphers & ~WIRE_CIPHERS_ALL) || (features & ~WIRE_FEATS_ALL))
		return -EINVAL;
	out[0] = 1;
	out[1] = crypt;
	out[2] = ciphers | features;
	out[3] = (uint8_t)n;
	for (i = 0; i < n; i++) {
		l = strnlen(names[i], 32);
		if (l == 0 || l > WIRE_SEGMENT_NAME_MAX)
			return -EINVAL;
		if (off + 1 + l > cap)
			return -E2BIG;
		out[off++] = (uint8_t)l;
		memcpy(out + off, names[i], l);
		off += l;
	}
	return (int)off;
}

int wire_hs_payload_decode(const uint8_t *in, size_t len, struct wire_hs_payload *ret)
{
	size_t off = WIRE_HS_PAYLOAD_MIN, i, l;

	if (len < WIRE_HS_PAYLOAD_MIN || in[0] != 1)
		return -EBADMSG;
	if (in[1] != WIRE_CRYPT_AEAD && in[1] != WIRE_CRYPT_NONE)
		return -EBADMSG;
	if (in[2] & ~(WIRE_CIPHERS_ALL | WIRE_FEATS_ALL))
		return -EBADMSG;
	ret->version = in[0];
	ret->crypt = in[1];
	ret->ciphers = in[2] & WIRE_CIPHERS_ALL;
	ret->features = in[2] & WIRE_FEATS_ALL;
	ret->n_segments = in[3];
	for (i = 0; i < ret->n_segments; i++) {
		if (off >= len)
			return -EBADMSG;
		l = in[off++];
		if (l == 0 || l > WIRE_SEGMENT_NAME_MAX || off + l > len ||
		    memchr(in + off, '\0', l))
			return -EBADMSG;
		memcpy(ret->segments[i], in + off, l);
		ret->segments[i][l] = '\0';
		off += l;
	}
	for (; off < len; off++)
		if (in[off] != 0)
			return -EBADMSG;
	return 0;
}
