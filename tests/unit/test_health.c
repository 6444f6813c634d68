/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Health state machine, loss and RTT statistics (bridged/health.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bridged/health.h"

#define MS 1000000ull
static const struct health_params P = { .dead_after_ns = 1000 * MS, .degraded_loss_pct = 2,
					.loss_window_ns = 10000 * MS };

static void test_transitions(void **state)
{
	assert_int_equal(health_next(HEALTH_CONNECTING, HEALTH_EV_SESSION_UP), HEALTH_UP);
	assert_int_equal(health_next(HEALTH_CONNECTING, HEALTH_EV_SILENT), HEALTH_CONNECTING);
	assert_int_equal(health_next(HEALTH_UP, HEALTH_EV_SILENT), HEALTH_DOWN);
	assert_int_equal(health_next(HEALTH_UP, HEALTH_EV_LOSSY), HEALTH_DEGRADED);
	assert_int_equal(health_next(HEALTH_DEGRADED, HEALTH_EV_CLEAN), HEALTH_UP);
	assert_int_equal(health_next(HEALTH_DEGRADED, HEALTH_EV_SESSION_DOWN), HEALTH_DOWN);
	assert_int_equal(health_next(HEALTH_DOWN, HEALTH_EV_ALIVE), HEALTH_UP);
	assert_int_equal(health_next(HEALTH_DOWN, HEALTH_EV_LOSSY), HEALTH_DOWN);
	assert_true(health_carrier(HEALTH_UP));
	assert_true(health_carrier(HEALTH_DEGRADED));
	assert_false(health_carrier(HEALTH_DOWN));
	assert_false(health_carrier(HEALTH_CONNECTING));
	for (int s = 0; s < _HEALTH_STATE_MAX; s++)
		assert_non_null(health_state_to_string(s));
	for (int e = 0; e < _HEALTH_EVENT_MAX; e++)
		assert_non_null(health_event_to_string(e));
	assert_null(health_state_to_string(_HEALTH_STATE_MAX));
}

static void test_evaluate(void **state)
{
	struct health_input in = { .now_ns = 10000 * MS, .session_up = true,
				   .last_rx_ns = 9900 * MS, .loss_pct = 0 };

	assert_int_equal(health_evaluate(HEALTH_CONNECTING, &in, &P), HEALTH_EV_SESSION_UP);
	assert_int_equal(health_evaluate(HEALTH_UP, &in, &P), _HEALTH_EVENT_MAX);
	/* 999 ms of silence: still up; 1000 ms: silent */
	in.last_rx_ns = in.now_ns - 999 * MS;
	assert_int_equal(health_evaluate(HEALTH_UP, &in, &P), _HEALTH_EVENT_MAX);
	in.last_rx_ns = in.now_ns - 1000 * MS;
	assert_int_equal(health_evaluate(HEALTH_UP, &in, &P), HEALTH_EV_SILENT);
	assert_int_equal(health_evaluate(HEALTH_DOWN, &in, &P), _HEALTH_EVENT_MAX);
	in.last_rx_ns = in.now_ns - 10 * MS;
	assert_int_equal(health_evaluate(HEALTH_DOWN, &in, &P), HEALTH_EV_ALIVE);
	in.loss_pct = 5;
	assert_int_equal(health_evaluate(HEALTH_UP, &in, &P), HEALTH_EV_LOSSY);
	assert_int_equal(health_evaluate(HEALTH_DEGRADED, &in, &P), _HEALTH_EVENT_MAX);
	in.loss_pct = 1.5;  /* hysteresis: not yet clean */
	assert_int_equal(health_evaluate(HEALTH_DEGRADED, &in, &P), _HEALTH_EVENT_MAX);
	in.loss_pct = 0.5;
	assert_int_equal(health_evaluate(HEALTH_DEGRADED, &in, &P), HEALTH_EV_CLEAN);
	in.session_up = false;
	assert_int_equal(health_evaluate(HEALTH_DEGRADED, &in, &P), HEALTH_EV_SESSION_DOWN);
	in.loss_pct = -1;
	in.session_up = true;
	assert_int_equal(health_evaluate(HEALTH_UP, &in, &P), _HEALTH_EVENT_MAX);
}

static void test_loss(void **state)
{
	struct health_loss l = { 0 };
	uint64_t exp = 0, rcv = 0;

	assert_true(health_loss_pct(&l, 0, 10000 * MS) < 0);
	/* 100 packets per 100 ms, 5 lost each time */
	for (int i = 0; i <= 100; i++) {
		health_loss_sample(&l, i * 100 * MS, exp, rcv);
		exp += 100;
		rcv += 95;
	}
	{
		double pct = health_loss_pct(&l, 100 * 100 * MS, 5000 * MS);

		assert_true(pct > 4.99 && pct < 5.01);
	}
	/* no loss afterwards: the window forgets the old loss */
	for (int i = 101; i <= 200; i++) {
		health_loss_sample(&l, i * 100 * MS, exp, rcv);
		exp += 100;
		rcv += 100;
	}
	assert_true(health_loss_pct(&l, 200 * 100 * MS, 5000 * MS) < 0.01);
	/* counters restarted (new session): unknown, not negative */
	health_loss_sample(&l, 201 * 100 * MS, 10, 10);
	assert_true(health_loss_pct(&l, 201 * 100 * MS, 5000 * MS) < 0);
}

static void test_rtt(void **state)
{
	struct health_rtt r = { 0 };

	assert_int_equal(health_rtt_p99(&r), 0);
	for (int i = 1; i <= 100; i++)
		health_rtt_add(&r, (uint64_t)i * MS);
	assert_int_equal(r.min, 1 * MS);
	assert_int_equal(r.max, 100 * MS);
	assert_int_equal(r.last, 100 * MS);
	assert_true(r.mean > 50.4 * MS && r.mean < 50.6 * MS);
	assert_int_equal(health_rtt_p99(&r), 99 * MS);
	assert_true(r.jitter > 0.5 * MS && r.jitter < 1.5 * MS);
	/* the ring keeps only the recent samples for p99 */
	for (int i = 0; i < 200; i++)
		health_rtt_add(&r, 2 * MS);
	assert_int_equal(health_rtt_p99(&r), 2 * MS);
	assert_int_equal(r.max, 100 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_evaluate),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_rtt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
