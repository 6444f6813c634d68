/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Wire codec of the bridged protocol (docs/PROTOCOL.md): packet layouts,
 * header encode/decode, handshake payload, segment ids. Pure byte work; no
 * cryptography except the segment-id hash.
 */
#ifndef BRIDGED_TUNNEL_WIRE_H
#define BRIDGED_TUNNEL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wire_type {
	WIRE_TYPE_INITIATION = 1,
	WIRE_TYPE_RESPONSE = 2,
	WIRE_TYPE_DATA = 4,
};

enum wire_kind {
	WIRE_KIND_FRAME = 0,
	WIRE_KIND_KEEPALIVE = 1,
	WIRE_KIND_ECHO = 2,
	/* a frame preceded by its 10-byte struct virtio_net_hdr (little
	 * endian): a GSO super-frame or a frame with a partial checksum; only
	 * to a peer that announced WIRE_FEAT_GSO */
	WIRE_KIND_GSO = 3,
	_WIRE_KIND_MAX,
};

#define WIRE_KEY_LEN 32
#define WIRE_TAG_LEN 16
#define WIRE_MAC_LEN 16
#define WIRE_TAI64N_LEN 12
#define WIRE_HS_PAYLOAD_LEN 1024          /* initiation payload, padded */
#define WIRE_HS_PAYLOAD_MIN 4
#define WIRE_SEGMENT_NAME_MAX 31          /* bytes on the wire, no NUL */

/* Initiation. */
#define WIRE_INIT_OFF_SENDER 4
#define WIRE_INIT_OFF_EPHEMERAL 8
#define WIRE_INIT_OFF_STATIC 40
#define WIRE_INIT_OFF_PAYLOAD 88
#define WIRE_INIT_PAYLOAD_CT_LEN (WIRE_TAI64N_LEN + WIRE_HS_PAYLOAD_LEN + WIRE_TAG_LEN)
#define WIRE_INIT_OFF_MAC1 (WIRE_INIT_OFF_PAYLOAD + WIRE_INIT_PAYLOAD_CT_LEN)
#define WIRE_INIT_LEN (WIRE_INIT_OFF_MAC1 + WIRE_MAC_LEN)     /* 1156 */

/* Response. */
#define WIRE_RESP_OFF_SENDER 4
#define WIRE_RESP_OFF_RECEIVER 8
#define WIRE_RESP_OFF_EPHEMERAL 12
#define WIRE_RESP_OFF_PAYLOAD 44
#define WIRE_RESP_MIN_LEN (WIRE_RESP_OFF_PAYLOAD + WIRE_HS_PAYLOAD_MIN + WIRE_TAG_LEN + WIRE_MAC_LEN)
#define WIRE_RESP_MAX_LEN (WIRE_RESP_OFF_PAYLOAD + WIRE_HS_PAYLOAD_LEN + WIRE_TAG_LEN + WIRE_MAC_LEN)

/* Data. */
#define WIRE_DATA_HDR_LEN 24
#define WIRE_FRAG_MAX 64
#define WIRE_FRAME_MAX 65535
#define WIRE_KEEPALIVE_LEN 8

struct wire_data_hdr {
	uint8_t kind;          /* enum wire_kind */
	uint8_t frag_index;
	uint8_t frag_count;    /* 1: not fragmented */
	uint32_t receiver;
	uint64_t counter;
	uint32_t segment_id;
	uint16_t frame_len;
};

/* Little-endian helpers. */
static inline void wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
static inline void wire_put64(uint8_t *p, uint64_t v)
{
	wire_put32(p, (uint32_t)v);
	wire_put32(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t wire_get64(const uint8_t *p)
{
	return (uint64_t)wire_get32(p) | (uint64_t)wire_get32(p + 4) << 32;
}

/* Writes the 24-byte data header. */
void wire_data_hdr_encode(uint8_t out[WIRE_DATA_HDR_LEN], const struct wire_data_hdr *h);
/* Decodes and validates a data header from a datagram of len bytes whose
 * payload after the header is body_len bytes (tag excluded by the caller).
 * Returns 0 or -EBADMSG. */
int wire_data_hdr_decode(const uint8_t *pkt, size_t len, struct wire_data_hdr *ret);
/* Checks the header fields against the body length (payload bytes after the
 * header, tag removed): kind-specific lengths, fragment geometry. */
int wire_data_check_body(const struct wire_data_hdr *h, size_t body_len);

/* Fragment geometry: number of fragments and chunk size for a frame of len
 * bytes with at most max_payload bytes per datagram. -EMSGSIZE if it needs
 * more than WIRE_FRAG_MAX fragments or len is 0 / too big. */
int wire_frag_geometry(size_t len, size_t max_payload, unsigned *ret_count,
		       size_t *ret_chunk);
/* Chunk for a frame of len bytes split into count fragments. */
static inline size_t wire_frag_chunk(size_t len, unsigned count)
{
	return (len + count - 1) / count;
}

/* The segment id of a name (first 4 bytes of BLAKE2b-256 of
 * "bridged segment" || name, as u32 LE). */
uint32_t wire_segment_id(const char *name, size_t len);

/* Handshake payload. */
enum wire_crypt { WIRE_CRYPT_AEAD = 0, WIRE_CRYPT_NONE = 1 };
#define WIRE_CIPHER_CHACHA 0x01
#define WIRE_CIPHER_AESGCM 0x02
#define WIRE_CIPHERS_ALL (WIRE_CIPHER_CHACHA | WIRE_CIPHER_AESGCM)
/* A feature bit in the same byte: this side takes WIRE_KIND_GSO frames. */
#define WIRE_FEAT_GSO 0x80
/* ... and UDP segmentation offload frames (VIRTIO_NET_HDR_GSO_UDP_L4). */
#define WIRE_FEAT_USO 0x40
#define WIRE_FEATS_ALL (WIRE_FEAT_GSO | WIRE_FEAT_USO)
#define WIRE_VNET_HDR_LEN 10

struct wire_hs_payload {
	uint8_t version;
	uint8_t crypt;      /* enum wire_crypt */
	uint8_t ciphers;      /* WIRE_CIPHER_* bits only */
	uint8_t features;     /* WIRE_FEAT_* bits */
	uint8_t n_segments;
	char segments[255][WIRE_SEGMENT_NAME_MAX + 1];
};

/* Encodes a payload into out (at most cap bytes) without padding; returns
 * the length or -E2BIG. Names are NUL-terminated strings of 1..31 bytes. */
int wire_hs_payload_encode(uint8_t *out, size_t cap, uint8_t crypt, uint8_t ciphers,
			   const char (*names)[32], size_t n);
/* The same with feature bits (WIRE_FEAT_*) beside the ciphers. */
int wire_hs_payload_encode_features(uint8_t *out, size_t cap, uint8_t crypt, uint8_t ciphers,
				    uint8_t features, const char (*names)[32], size_t n);
/* Decodes (trailing bytes must be zero padding); 0 or -EBADMSG. */
int wire_hs_payload_decode(const uint8_t *in, size_t len, struct wire_hs_payload *ret);

#endif
