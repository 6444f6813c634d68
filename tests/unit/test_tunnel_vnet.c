/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio_net_hdr codec and checksum completion: TCP/IPv4, UDP/IPv6 frames
 * whose checksum field holds the pseudo-header sum the way the kernel
 * leaves it (CHECKSUM_PARTIAL) are completed to the checksum computed in
 * full; odd lengths, a computed zero for UDP, offsets that do not fit;
 * the GSO kind on the wire and the handshake's feature bits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tunnel/vnet.h"
#include "tunnel/wire.h"

/* the full checksum of a transport segment, computed from scratch */
static uint16_t full_csum(const uint8_t *pseudo, size_t plen, const uint8_t *seg, size_t slen)
{
	return (uint16_t)~vnet_csum_fold(vnet_csum_add(vnet_csum_add(0, pseudo, plen), seg, slen));
}

/* an Ethernet + IPv4 + TCP frame with payload n bytes; returns its length
 * and the pseudo-header in ph (12 bytes) */
static size_t tcp4_frame(uint8_t *f, size_t n, uint8_t ph[12])
{
	size_t l4 = 20 + n, i;

	memset(f, 0, 14 + 20 + l4);
	f[12] = 0x08;
	f[14] = 0x45;
	f[14 + 2] = (uint8_t)((20 + l4) >> 8);
	f[14 + 3] = (uint8_t)(20 + l4);
	f[14 + 8] = 64;
	f[14 + 9] = 6;
	memcpy(f + 14 + 12, "\xc6\x13\x01\x01\xc6\x13\x01\x02", 8);
	f[34] = 0x12; f[35] = 0x34; f[36] = 0x00; f[37] = 0x50;
	f[34 + 12] = 0x50;
	for (i = 0; i < n; i++)
		f[54 + i] = (uint8_t)(i * 7 + 3);
	memcpy(ph, f + 14 + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)(l4 >> 8);
	ph[11] = (uint8_t)l4;
	return 14 + 20 + l4;
}

static void t_tcp4(void **state)
{
	static uint8_t f[2000];
	uint8_t ph[12];
	size_t sizes[] = { 0, 1, 2, 3, 1000, 1401, 1460 };

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = tcp4_frame(f, sizes[k], ph);
		uint16_t want = full_csum(ph, 12, f + 34, len - 34), partial, got;

		/* what the kernel leaves: the folded pseudo-header sum, not complemented */
		partial = vnet_csum_fold(vnet_csum_add(0, ph, 12));
		f[34 + 16] = (uint8_t)(partial >> 8);
		f[34 + 17] = (uint8_t)partial;
		assert_int_equal(vnet_csum_complete(f, len, 34, 16), 0);
		got = (uint16_t)(f[50] << 8 | f[51]);
		assert_int_equal(got, want);
		/* a receiver verifying it: the sum over pseudo-header and segment folds to 0xffff */
		assert_int_equal(vnet_csum_fold(vnet_csum_add(vnet_csum_add(0, ph, 12), f + 34, len - 34)), 0xffff);
	}
}

static void t_udp_zero(void **state)
{
	/* a UDP segment whose checksum comes out 0 is sent as 0xffff */
	uint8_t f[64] = { 0 };

	(void)state;
	/* csum_start 14, the field at 14 + 6; all-zero bytes sum to 0, so the
	 * complement is 0xffff already; make the sum 0xffff instead: */
	f[14] = 0xff;
	f[15] = 0xff;
	assert_int_equal(vnet_csum_complete(f, 30, 14, 6), 0);
	assert_int_equal(f[20] << 8 | f[21], 0xffff);
}

static void t_bounds(void **state)
{
	uint8_t f[100] = { 0 };

	(void)state;
	assert_int_equal(vnet_csum_complete(f, 100, 100, 0), -EINVAL);
	assert_int_equal(vnet_csum_complete(f, 100, 90, 9), -EINVAL);
	assert_int_equal(vnet_csum_complete(f, 100, 98, 0), 0);
	assert_int_equal(vnet_csum_complete(f, 100, 0xffff, 0xffff), -EINVAL);
	assert_int_equal(vnet_csum_complete(f, 0, 0, 0), -EINVAL);
}

static void t_hdr(void **state)
{
	struct vnet_hdr h = { VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 66, 1448, 34, 16 }, g;
	uint8_t b[VNET_HDR_LEN];

	(void)state;
	vnet_hdr_encode(b, &h);
	/* little-endian on the wire, as the kernel writes it on x86 */
	assert_int_equal(b[0], 1);
	assert_int_equal(b[1], 1);
	assert_int_equal(b[2], 66);
	assert_int_equal(b[4] | b[5] << 8, 1448);
	vnet_hdr_decode(b, &g);
	assert_memory_equal(&g, &h, sizeof(g));
	assert_false(vnet_hdr_plain(&g));
	memset(&g, 0, sizeof(g));
	assert_true(vnet_hdr_plain(&g));
	g.flags = VNET_F_DATA_VALID;
	assert_true(vnet_hdr_plain(&g));
}

static void t_wire(void **state)
{
	uint8_t pkt[WIRE_DATA_HDR_LEN] = { 0 };
	struct wire_data_hdr h = { .kind = WIRE_KIND_GSO, .frag_count = 1, .receiver = 1,
				   .counter = 5, .segment_id = 9, .frame_len = 24 }, r;
	uint8_t buf[64];
	static const char names[1][32] = { "sv" };
	struct wire_hs_payload pl;

	(void)state;
	wire_data_hdr_encode(pkt, &h);
	assert_int_equal(wire_data_hdr_decode(pkt, sizeof(pkt), &r), 0);
	assert_int_equal(r.kind, WIRE_KIND_GSO);
	/* shorter than the header and an Ethernet header */
	h.frame_len = 23;
	wire_data_hdr_encode(pkt, &h);
	assert_int_equal(wire_data_hdr_decode(pkt, sizeof(pkt), &r), -EBADMSG);
	/* a GSO frame may be fragmented, unlike keepalives */
	h.frame_len = 60000;
	h.frag_count = 43;
	h.frag_index = 2;
	wire_data_hdr_encode(pkt, &h);
	assert_int_equal(wire_data_hdr_decode(pkt, sizeof(pkt), &r), 0);
	/* an unknown kind */
	pkt[1] = 4;
	assert_int_equal(wire_data_hdr_decode(pkt, sizeof(pkt), &r), -EBADMSG);

	/* the features ride beside the ciphers and are told apart */
	assert_true(wire_hs_payload_encode_features(buf, sizeof(buf), WIRE_CRYPT_AEAD, WIRE_CIPHER_CHACHA,
						    WIRE_FEAT_GSO | WIRE_FEAT_USO, names, 1) > 0);
	assert_int_equal(wire_hs_payload_decode(buf, sizeof(buf), &pl), 0);
	assert_int_equal(pl.ciphers, WIRE_CIPHER_CHACHA);
	assert_int_equal(pl.features, WIRE_FEAT_GSO | WIRE_FEAT_USO);
	assert_true(wire_hs_payload_encode_features(buf, sizeof(buf), WIRE_CRYPT_NONE, 0, 0, names, 1) > 0);
	assert_int_equal(wire_hs_payload_decode(buf, sizeof(buf), &pl), 0);
	assert_int_equal(pl.features, 0);
	assert_int_equal(wire_hs_payload_encode_features(buf, sizeof(buf), WIRE_CRYPT_AEAD, 0x10, 0, names, 1),
			 -EINVAL);
	assert_int_equal(wire_hs_payload_encode_features(buf, sizeof(buf), WIRE_CRYPT_AEAD, 1, 0x20, names, 1),
			 -EINVAL);
	buf[2] = 0x20;	/* a bit no one defined */
	assert_int_equal(wire_hs_payload_decode(buf, sizeof(buf), &pl), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_tcp4),
		cmocka_unit_test(t_udp_zero),
		cmocka_unit_test(t_bounds),
		cmocka_unit_test(t_hdr),
		cmocka_unit_test(t_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
