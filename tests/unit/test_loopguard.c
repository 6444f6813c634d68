/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loop guard decisions without a kernel (bridged/loopguard.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "bridged/loopguard.h"

#define MS 1000000ull
static const uint8_t A[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
static const uint8_t B[8] = { 2, 2, 2, 2, 2, 2, 2, 2 };
static const uint8_t C[8] = { 3, 3, 3, 3, 3, 3, 3, 3 };
static const uint8_t D[8] = { 4, 4, 4, 4, 4, 4, 4, 4 };
static uint8_t key[32], other_key[32];

static void test_probe_roundtrip(void **state)
{
	uint8_t f[PROBE_MAX_LEN + 8];
	struct probe p;
	size_t len = probe_build(f, A, 0xdeadbeef, 42, key);
	int r;

	assert_true(len >= 60);
	assert_true(probe_is(f, len));
	assert_int_equal(probe_parse(f, len, &p), 0);
	assert_memory_equal(p.origin, A, 8);
	assert_int_equal(p.segment, 0xdeadbeef);
	assert_int_equal(p.seq, 42);
	assert_int_equal(p.n_hops, 0);
	assert_true(probe_verify(&p, key));
	assert_false(probe_verify(&p, other_key));

	r = probe_append_hop(f, len, sizeof(f), A, B, HOP_PROBING);
	assert_true(r > 0);
	len = r;
	r = probe_append_hop(f, len, sizeof(f), B, C, 0);
	assert_true(r > 0);
	len = r;
	assert_int_equal(len, PROBE_HDR_LEN + 2 * PROBE_HOP_LEN);
	assert_int_equal(probe_parse(f, len, &p), 0);
	assert_int_equal(p.n_hops, 2);
	assert_memory_equal(p.hops[1].from, B, 8);
	assert_memory_equal(p.hops[1].to, C, 8);
	assert_int_equal(p.hops[0].flags, HOP_PROBING);
	/* hops do not break the origin's MAC; a changed seq does */
	assert_true(probe_verify(&p, key));
	p.seq++;
	assert_false(probe_verify(&p, key));
	assert_int_equal(probe_find_from(&p, B), 1);
	assert_int_equal(probe_find_from(&p, C), -1);
}

static void test_probe_malformed(void **state)
{
	uint8_t f[PROBE_MAX_LEN + 8];
	struct probe p;
	size_t len = probe_build(f, A, 1, 1, key);

	/* truncated hop list */
	f[19] = 3;
	assert_int_equal(probe_parse(f, len, &p), -EINVAL);
	f[19] = 0;
	f[18] = 2;  /* unknown version */
	assert_int_equal(probe_parse(f, len, &p), -EINVAL);
	f[18] = 1;
	f[12] = 0x08;  /* not our ethertype */
	assert_false(probe_is(f, len));
	f[12] = 0x88;
	assert_false(probe_is(f, 20));
	/* the hop list is bounded */
	for (int i = 0; i < PROBE_MAX_HOPS; i++) {
		int r = probe_append_hop(f, len, sizeof(f), A, B, 0);

		assert_true(r > 0);
		len = r;
	}
	assert_int_equal(probe_append_hop(f, len, sizeof(f), A, B, 0), -E2BIG);
}

static void test_victim_agrees(void **state)
{
	/* triangle A-B-C; every node sees the same cycle from its own start */
	struct probe_hop seen_by_a[3] = { { {0}, {0}, 0 } }, seen_by_c[3];
	uint8_t va[8], vb[8], wa[8], wb[8];

	memcpy(seen_by_a[0].from, A, 8); memcpy(seen_by_a[0].to, B, 8);
	memcpy(seen_by_a[1].from, B, 8); memcpy(seen_by_a[1].to, C, 8);
	memcpy(seen_by_a[2].from, C, 8); memcpy(seen_by_a[2].to, A, 8);
	memcpy(seen_by_c[0].from, C, 8); memcpy(seen_by_c[0].to, A, 8);
	memcpy(seen_by_c[1].from, A, 8); memcpy(seen_by_c[1].to, B, 8);
	memcpy(seen_by_c[2].from, B, 8); memcpy(seen_by_c[2].to, C, 8);
	for (int i = 0; i < 3; i++)
		seen_by_a[i].flags = seen_by_c[i].flags = 0;
	loopguard_victim(seen_by_a, 3, 0, va, vb);
	loopguard_victim(seen_by_c, 3, 0, wa, wb);
	assert_memory_equal(va, wa, 8);
	assert_memory_equal(vb, wb, 8);
	/* the greatest pair: (C, B) */
	assert_memory_equal(va, C, 8);
	assert_memory_equal(vb, B, 8);
	/* a probing tunnel is preferred: A-B just came up */
	seen_by_a[0].flags = HOP_PROBING;
	loopguard_victim(seen_by_a, 3, 0, va, vb);
	assert_memory_equal(va, B, 8);
	assert_memory_equal(vb, A, 8);
	/* 'first' skips the hops before the loop */
	loopguard_victim(seen_by_a, 3, 1, va, vb);
	assert_memory_equal(va, C, 8);
}

static void hop(struct probe_hop *h, const uint8_t *from, const uint8_t *to, uint32_t flags)
{
	memcpy(h->from, from, 8);
	memcpy(h->to, to, 8);
	h->flags = flags;
}

/* The ring-of-four bug: X blocked its port to B (one end only), then its
 * probe left through D, went round and came back in through the blocked
 * port. That loop is already broken: nothing may be blocked for it (X
 * blocked D's port too and cut itself off). */
static void test_victim_loop_already_broken(void **state)
{
	static const uint8_t X[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	struct probe_hop ring[4];
	uint8_t va[8], vb[8];
	static const uint8_t zero[8];

	hop(&ring[0], X, D, 0);
	hop(&ring[1], D, C, 0);
	hop(&ring[2], C, B, 0);
	hop(&ring[3], B, X, HOP_BLOCKED);      /* this end blocks, the far end forwards */
	assert_int_equal(loopguard_victim(ring, 4, 0, va, vb), 0);
	assert_memory_equal(va, zero, 8);
	/* and that one block is what keeps the loop broken: still needed */
	assert_true(loopguard_block_needed(ring, 4, 0, va, vb));
	assert_memory_equal(va, X, 8);
	assert_memory_equal(vb, B, 8);
	/* a blocked tunnel wins over probing ones: nothing to block */
	ring[1].flags = HOP_PROBING;
	assert_int_equal(loopguard_victim(ring, 4, 0, va, vb), 0);
	/* ... but the block alone no longer holds it: D-C would close it
	 * only once it forwards, so the block may be lifted and retried */
	assert_false(loopguard_block_needed(ring, 4, 0, va, vb));
	/* two blocked tunnels in one loop: neither is needed alone */
	ring[1].flags = HOP_BLOCKED | HOP_PROBING;
	assert_false(loopguard_block_needed(ring, 4, 0, va, vb));
	/* no blocked tunnel: the greatest probing one is the victim */
	ring[1].flags = HOP_PROBING;
	ring[3].flags = HOP_PROBING;
	assert_int_equal(loopguard_victim(ring, 4, 0, va, vb), 1);
	assert_memory_equal(va, X, 8);
	assert_memory_equal(vb, B, 8);
	assert_false(loopguard_block_needed(ring, 4, 0, va, vb));
	/* all forwarding: a live loop, the greatest tunnel of all */
	for (int i = 0; i < 4; i++)
		ring[i].flags = 0;
	assert_int_equal(loopguard_victim(ring, 4, 0, va, vb), 1);
	assert_memory_equal(va, X, 8);
	assert_false(loopguard_block_needed(ring, 4, 0, va, vb));
}

static void test_hop_flags(void **state)
{
	assert_int_equal(guard_hop_flags(GUARD_FORWARDING), 0);
	assert_int_equal(guard_hop_flags(GUARD_PROBING), HOP_PROBING);
	assert_int_equal(guard_hop_flags(GUARD_BLOCKED), HOP_BLOCKED);
}

static void test_guard_fsm(void **state)
{
	enum guard_state s = GUARD_DOWN;

	s = guard_next(s, GUARD_EV_PROBE_PASSED);
	assert_int_equal(s, GUARD_DOWN);
	s = guard_next(s, GUARD_EV_TUNNEL_UP);
	assert_int_equal(s, GUARD_PROBING);
	assert_false(guard_forwards(s));
	s = guard_next(s, GUARD_EV_PROBE_PASSED);
	assert_int_equal(s, GUARD_FORWARDING);
	assert_true(guard_forwards(s));
	/* a probe of its round came back through a loop after it passed */
	assert_int_equal(guard_next(s, GUARD_EV_RETRY), GUARD_PROBING);
	s = guard_next(s, GUARD_EV_LOOP);
	assert_int_equal(s, GUARD_BLOCKED);
	assert_false(guard_forwards(s));
	assert_int_equal(guard_next(s, GUARD_EV_PROBE_PASSED), GUARD_BLOCKED);
	s = guard_next(s, GUARD_EV_RETRY);
	assert_int_equal(s, GUARD_PROBING);
	s = guard_next(s, GUARD_EV_LOOP);
	assert_int_equal(s, GUARD_BLOCKED);
	assert_int_equal(guard_next(s, GUARD_EV_TUNNEL_DOWN), GUARD_DOWN);
	assert_int_equal(guard_backoff_ns(0, 1000, 8000), 1000);
	assert_int_equal(guard_backoff_ns(2, 1000, 8000), 4000);
	assert_int_equal(guard_backoff_ns(10, 1000, 8000), 8000);
}

static void test_mac_moves(void **state)
{
	struct mac_table t = { .flap_moves = 5, .flap_window_ns = 10000 * MS,
			       .forget_ns = 300000 * MS };
	uint8_t m[6] = { 2, 0, 0, 0, 0, 1 };
	int old = 0;

	assert_int_equal(mac_table_learn(&t, m, 10, 0, &old), MAC_NEW);
	assert_int_equal(mac_table_learn(&t, m, 10, 100 * MS, &old), MAC_SAME);
	/* one migration: an event, with the old port */
	assert_int_equal(mac_table_learn(&t, m, 20, 200 * MS, &old), MAC_MOVED);
	assert_int_equal(old, 10);
	/* flapping: 5 moves within 10 s raise the alarm */
	assert_int_equal(mac_table_learn(&t, m, 10, 300 * MS, &old), MAC_MOVED);
	assert_int_equal(mac_table_learn(&t, m, 20, 400 * MS, &old), MAC_MOVED);
	assert_int_equal(mac_table_learn(&t, m, 10, 500 * MS, &old), MAC_MOVED);
	assert_int_equal(mac_table_learn(&t, m, 20, 600 * MS, &old), MAC_FLAPPING);
	/* moves spread over a long time are not an alarm */
	{
		uint8_t m2[6] = { 2, 0, 0, 0, 0, 2 };

		mac_table_learn(&t, m2, 1, 0, &old);
		for (int i = 1; i <= 8; i++)
			assert_int_equal(mac_table_learn(&t, m2, 1 + (i & 1), (uint64_t)i * 5000 * MS, &old),
					 MAC_MOVED);
	}
	/* seeding adds unknown MACs only, and never records a move */
	{
		uint8_t m3[6] = { 2, 0, 0, 0, 0, 3 };

		assert_int_equal(mac_table_seed(&t, m3, 7, 700 * MS), 1);
		assert_int_equal(mac_table_seed(&t, m3, 8, 701 * MS), 0);
		assert_int_equal(mac_table_learn(&t, m3, 7, 702 * MS, &old), MAC_SAME);
	}
	mac_table_free(&t);
}

static void test_storm(void **state)
{
	struct storm_bucket b = { .rate = 100, .burst = 10 };
	int passed = 0;

	for (int i = 0; i < 50; i++)
		passed += storm_allow(&b, 1000 * MS + i);
	assert_int_equal(passed, 10);
	/* 100 ms later: 10 more tokens */
	passed = 0;
	for (int i = 0; i < 50; i++)
		passed += storm_allow(&b, 1100 * MS + i);
	assert_true(passed >= 9 && passed <= 11);
	b.rate = 0;
	assert_true(storm_allow(&b, 2000 * MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_roundtrip),
		cmocka_unit_test(test_probe_malformed),
		cmocka_unit_test(test_victim_agrees),
		cmocka_unit_test(test_victim_loop_already_broken),
		cmocka_unit_test(test_hop_flags),
		cmocka_unit_test(test_guard_fsm),
		cmocka_unit_test(test_mac_moves),
		cmocka_unit_test(test_storm),
	};
	if (sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(other_key, sizeof(other_key));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
