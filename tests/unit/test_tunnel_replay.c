/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Replay window: the cases of WireGuard's src/selftest/counter.c (in order,
 * reordering within the window, duplicates, too old, big jumps, the
 * reject-after limit), each checked through replay_check (the read-only
 * pre-check) and replay_update. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "tunnel/replay.h"

#define REJECT (UINT64_MAX - REPLAY_WINDOW_SIZE - 1)
#define T_LIM (REPLAY_WINDOW_SIZE + 1)

static struct replay *r;
static unsigned test_num;

#define T_INIT() replay_init(r)
#define T(n, v) do {                                                              \
		bool pre = replay_check(r, (n), REJECT);                          \
		bool got = replay_update(r, (n), REJECT);                         \
		test_num++;                                                       \
		if (got != (v) || pre != (v))                                     \
			fail_msg("replay case %u: counter %llu expected %d got %d/%d", \
				 test_num, (unsigned long long)(n), (v), pre, got);  \
	} while (0)

static void test_window_size(void **state)
{
	assert_true(REPLAY_WINDOW_SIZE >= 2048);
}

static void test_wireguard_cases(void **state)
{
	test_num = 0;
	T_INIT();
	/*  1 */ T(0, true);
	/*  2 */ T(1, true);
	/*  3 */ T(1, false);
	/*  4 */ T(9, true);
	/*  5 */ T(8, true);
	/*  6 */ T(7, true);
	/*  7 */ T(7, false);
	/*  8 */ T(T_LIM, true);
	/*  9 */ T(T_LIM - 1, true);
	/* 10 */ T(T_LIM - 1, false);
	/* 11 */ T(T_LIM - 2, true);
	/* 12 */ T(2, true);
	/* 13 */ T(2, false);
	/* 14 */ T(T_LIM + 16, true);
	/* 15 */ T(3, false);
	/* 16 */ T(T_LIM + 16, false);
	/* 17 */ T(T_LIM * 4, true);
	/* 18 */ T(T_LIM * 4 - (T_LIM - 1), true);
	/* 19 */ T(10, false);
	/* 20 */ T(T_LIM * 4 - T_LIM, false);
	/* 21 */ T(T_LIM * 4 - (T_LIM + 1), false);
	/* 22 */ T(T_LIM * 4 - (T_LIM - 2), true);
	/* 23 */ T(T_LIM * 4 + 1 - T_LIM, false);
	/* 24 */ T(0, false);
	/* 25 */ T(REJECT, false);
	/* 26 */ T(REJECT - 1, true);
	/* 27 */ T(REJECT, false);
	/* 28 */ T(REJECT - 1, false);
	/* 29 */ T(REJECT - 2, true);
	/* 30 */ T(REJECT + 1, false);
	/* 31 */ T(REJECT + 2, false);
	/* 32 */ T(REJECT - 2, false);
	/* 33 */ T(REJECT - 3, true);
	/* 34 */ T(0, false);
}

static void test_full_window(void **state)
{
	uint64_t i;

	T_INIT();
	for (i = 1; i <= REPLAY_WINDOW_SIZE; ++i)
		T(i, true);
	T(0, true);
	T(0, false);

	T_INIT();
	for (i = 2; i <= REPLAY_WINDOW_SIZE + 1; ++i)
		T(i, true);
	T(1, true);
	T(0, false);

	T_INIT();
	for (i = REPLAY_WINDOW_SIZE + 1; i-- > 0;)
		T(i, true);

	T_INIT();
	for (i = REPLAY_WINDOW_SIZE + 2; i-- > 1;)
		T(i, true);
	T(0, false);

	T_INIT();
	for (i = REPLAY_WINDOW_SIZE + 1; i-- > 1;)
		T(i, true);
	T(REPLAY_WINDOW_SIZE + 1, true);
	T(0, false);

	T_INIT();
	for (i = REPLAY_WINDOW_SIZE + 1; i-- > 1;)
		T(i, true);
	T(0, true);
	T(REPLAY_WINDOW_SIZE + 1, true);
}

static void test_reordering_and_jumps(void **state)
{
	uint64_t i;

	T_INIT();
	/* Pairs swapped: every one accepted once. */
	for (i = 0; i < 10000; i += 2) {
		T(i + 1, true);
		T(i, true);
		T(i, false);
	}
	/* Late by 2000 (within the window): accepted. */
	T(12000, true);
	T(10001, true);
	T(10001, false);
	/* A jump far ahead clears the ring: old counters are too old, the
	 * ones just behind the new top are fresh. */
	T(1000000, true);
	T(12000, false);
	T(999999, true);
	T(1000000 - REPLAY_WINDOW_SIZE, true);
	T(1000000 - REPLAY_WINDOW_SIZE - 2, false);
}

static void test_tunable_limit(void **state)
{
	replay_init(r);
	assert_true(replay_update(r, 99, 100));
	assert_false(replay_check(r, 100, 100));
	assert_false(replay_update(r, 100, 100));
	assert_true(replay_update(r, 98, 100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_size),
		cmocka_unit_test(test_wireguard_cases),
		cmocka_unit_test(test_full_window),
		cmocka_unit_test(test_reordering_and_jumps),
		cmocka_unit_test(test_tunable_limit),
	};
	int ret;

	r = malloc(sizeof(*r));
	if (!r)
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	free(r);
	return ret;
}
