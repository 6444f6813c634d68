/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit test: the event loop's timers and sources (bridged/loop.c), on a real epoll. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <cmocka.h>

#include "bridged/loop.h"

#define MS 1000000ull

struct tt {
	struct loop_timer timer;
	int id;
	uint64_t ran_ns;
	int runs;
};

static int order[512], n_order;

static void tt_cb(struct loop_timer *t, uint64_t now)
{
	struct tt *x = container_of(t, struct tt, timer);

	x->ran_ns = now;
	x->runs++;
	if (n_order < 512)
		order[n_order++] = x->id;
}

/* Runs the loop until none of the n timers is armed (bounded in time). */
static void run_until_idle(struct loop *l, struct tt *t, int n, uint64_t max_ns)
{
	uint64_t end = now_ns() + max_ns;

	for (;;) {
		int armed = 0;

		for (int i = 0; i < n; i++)
			armed += loop_timer_armed(&t[i].timer);
		if (!armed)
			return;
		assert_true(now_ns() < end);
		assert_true(loop_run_once(l) >= 0);
	}
}

static void test_timers_order_and_deadline(void **state)
{
	struct loop *l;
	struct tt t[5];
	uint64_t t0 = now_ns();
	static const int delay_ms[5] = { 40, 10, 30, 20, 50 };

	assert_int_equal(loop_new(&l), 0);
	n_order = 0;
	for (int i = 0; i < 5; i++) {
		loop_timer_init(&t[i].timer, tt_cb);
		t[i].id = i;
		t[i].runs = 0;
		assert_false(loop_timer_armed(&t[i].timer));
		assert_int_equal(loop_timer_arm(l, &t[i].timer, t0 + delay_ms[i] * MS), 0);
		assert_true(loop_timer_armed(&t[i].timer));
	}
	/* re-arming moves a timer: 4 now comes first, 1 last */
	loop_timer_arm(l, &t[4].timer, t0 + 5 * MS);
	loop_timer_arm(l, &t[1].timer, t0 + 60 * MS);
	/* a disarmed timer never runs */
	loop_timer_disarm(l, &t[2].timer);
	loop_timer_disarm(l, &t[2].timer);     /* twice: a no-op */
	run_until_idle(l, t, 5, 1000 * MS);
	assert_int_equal(n_order, 4);
	assert_int_equal(order[0], 4);
	assert_int_equal(order[1], 3);
	assert_int_equal(order[2], 0);
	assert_int_equal(order[3], 1);
	assert_int_equal(t[2].runs, 0);
	for (int i = 0; i < 5; i++) {
		if (i == 2)
			continue;
		assert_int_equal(t[i].runs, 1);      /* once per arming */
		assert_false(loop_timer_armed(&t[i].timer));
		/* never before its deadline */
		assert_true(t[i].ran_ns >= t[i].timer.deadline_ns);
	}
	loop_free(l);
}

/* A timer that re-arms itself in the past runs once per wake-up, not in
 * an endless loop inside one. */
static struct loop *self_loop;
static void rearm_cb(struct loop_timer *t, uint64_t now)
{
	struct tt *x = container_of(t, struct tt, timer);

	x->runs++;
	loop_timer_arm(self_loop, t, 0);
}

static void test_timer_rearm_in_past(void **state)
{
	struct tt x = { .runs = 0 };

	assert_int_equal(loop_new(&self_loop), 0);
	loop_timer_init(&x.timer, rearm_cb);
	loop_timer_arm(self_loop, &x.timer, 0);
	assert_true(loop_run_once(self_loop) >= 0);
	assert_int_equal(x.runs, 1);
	assert_true(loop_run_once(self_loop) >= 0);
	assert_int_equal(x.runs, 2);
	loop_timer_disarm(self_loop, &x.timer);
	loop_free(self_loop);
}

/* Many timers armed and disarmed at random keep the heap ordered. */
static void test_timer_heap_random(void **state)
{
	enum { N = 200 };
	struct loop *l;
	static struct tt t[N];
	uint64_t t0 = now_ns() + 1000 * MS;

	assert_int_equal(loop_new(&l), 0);
	srand(7);
	for (int i = 0; i < N; i++) {
		loop_timer_init(&t[i].timer, tt_cb);
		t[i].id = i;
	}
	for (int k = 0; k < 5000; k++) {
		int i = rand() % N;

		if (rand() % 3 == 0)
			loop_timer_disarm(l, &t[i].timer);
		else
			loop_timer_arm(l, &t[i].timer, t0 + (uint64_t)(rand() % 1000) * MS);
	}
	/* pull them forward in deadline order: each earlier than the rest */
	for (int i = 0; i < N; i++)
		if (loop_timer_armed(&t[i].timer))
			loop_timer_arm(l, &t[i].timer, t[i].timer.deadline_ns - 1000 * MS - 900 * MS);
	n_order = 0;
	{
		uint64_t prev = 0;

		run_until_idle(l, t, N, 1000 * MS);
		assert_true(n_order > 0);
		for (int i = 0; i < n_order; i++) {
			assert_true(t[order[i]].timer.deadline_ns >= prev);
			prev = t[order[i]].timer.deadline_ns;
		}
	}
	for (int i = 0; i < N; i++)
		loop_timer_disarm(l, &t[i].timer);
	loop_free(l);
}

/* A callback that closes another source whose event is in the same batch
 * (a reload removing a peer's TAPs): that source's stale event is not
 * dispatched (the chaos soak saw "tap fd -1: read: Bad file descriptor"). */
struct ts {
	struct loop_source src;
	struct loop *l;
	struct ts *other;
	int runs, bad_runs;
};

static void ts_cb(struct loop_source *s, uint32_t events)
{
	struct ts *x = container_of(s, struct ts, src);

	x->runs++;
	if (s->fd < 0)
		x->bad_runs++;
	if (x->other && x->other->src.fd >= 0) {
		loop_del(x->l, &x->other->src);
		close(x->other->src.fd);
		x->other->src.fd = -1;
	}
}

static void test_source_closed_in_batch(void **state)
{
	struct loop *l;
	struct ts t[2];
	int p[2][2];

	assert_int_equal(loop_new(&l), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pipe(p[i]), 0);
		t[i] = (struct ts){ .src = { .fd = p[i][0], .cb = ts_cb }, .l = l };
		assert_int_equal(loop_add(l, &t[i].src, EPOLLIN), 0);
		assert_int_equal(write(p[i][1], "x", 1), 1);
	}
	/* both readable: whichever runs first closes the other */
	t[0].other = &t[1];
	t[1].other = &t[0];
	assert_int_equal(loop_run_once(l), 2);
	assert_int_equal(t[0].runs + t[1].runs, 1);
	assert_int_equal(t[0].bad_runs + t[1].bad_runs, 0);
	for (int i = 0; i < 2; i++) {
		if (t[i].src.fd >= 0) {
			loop_del(l, &t[i].src);
			close(t[i].src.fd);
		}
		close(p[i][1]);
	}
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_order_and_deadline),
		cmocka_unit_test(test_timer_rearm_in_past),
		cmocka_unit_test(test_timer_heap_random),
		cmocka_unit_test(test_source_closed_in_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
