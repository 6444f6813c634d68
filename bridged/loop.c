/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The epoll loop (see loop.h). */
#include "bridged/loop.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct loop {
	int epfd;
	struct loop_timer **heap;      /* min-heap by deadline */
	size_t n_heap, cap_heap;
	/* held by this thread but while it sleeps in epoll_wait (the data
	 * path's workers take it meanwhile) */
	void (*lock)(void *ctx), (*unlock)(void *ctx);
	void *lock_ctx;
	uint64_t sleep_until;          /* the deadline it sleeps for, 0: awake */
};

int loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;

		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->heap);
	free(l);
}

int loop_add(struct loop *l, struct loop_source *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0 ? -errno : 0;
}

int loop_mod(struct loop *l, struct loop_source *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0 ? -errno : 0;
}

void loop_del(struct loop *l, struct loop_source *s)
{
	if (s->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
}

/* ---- timers: a binary min-heap of embedded timers ---------------------- */

static void heap_set(struct loop *l, size_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (l->heap[parent]->deadline_ns <= t->deadline_ns)
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void heap_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->n_heap)
			break;
		if (c + 1 < l->n_heap && l->heap[c + 1]->deadline_ns < l->heap[c]->deadline_ns)
			c++;
		if (t->deadline_ns <= l->heap[c]->deadline_ns)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void loop_timer_init(struct loop_timer *t, loop_timer_cb cb)
{
	t->deadline_ns = 0;
	t->cb = cb;
	t->heap_idx = SIZE_MAX;
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t->heap_idx != SIZE_MAX;
}

int loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t deadline_ns)
{
	if (loop_timer_armed(t)) {
		uint64_t old = t->deadline_ns;

		t->deadline_ns = deadline_ns;
		if (deadline_ns < old)
			heap_up(l, t->heap_idx);
		else
			heap_down(l, t->heap_idx);
		return 0;
	}
	if (l->n_heap == l->cap_heap) {
		size_t nc = l->cap_heap ? 2 * l->cap_heap : 64;
		struct loop_timer **nh = realloc(l->heap, nc * sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		l->heap = nh;
		l->cap_heap = nc;
	}
	t->deadline_ns = deadline_ns;
	heap_set(l, l->n_heap++, t);
	heap_up(l, t->heap_idx);
	return 0;
}

void loop_timer_disarm(struct loop *l, struct loop_timer *t)
{
	size_t i = t->heap_idx;

	if (!loop_timer_armed(t))
		return;
	t->heap_idx = SIZE_MAX;
	if (i == --l->n_heap)
		return;
	heap_set(l, i, l->heap[l->n_heap]);
	if (i > 0 && l->heap[i]->deadline_ns < l->heap[(i - 1) / 2]->deadline_ns)
		heap_up(l, i);
	else
		heap_down(l, i);
}

static void run_timers(struct loop *l)
{
	uint64_t now = now_ns();

	/* bounded: a timer that re-arms itself in the past runs once per
	 * wake-up, not forever */
	for (size_t budget = l->n_heap; budget && l->n_heap; budget--) {
		struct loop_timer *t = l->heap[0];

		if (t->deadline_ns > now)
			break;
		loop_timer_disarm(l, t);
		t->cb(t, now);
	}
}

void loop_set_lock(struct loop *l, void (*lock)(void *ctx), void (*unlock)(void *ctx), void *ctx)
{
	l->lock = lock;
	l->unlock = unlock;
	l->lock_ctx = ctx;
}

bool loop_wake_needed(struct loop *l, uint64_t deadline)
{
	if (l->n_heap && l->heap[0]->deadline_ns < deadline)
		deadline = l->heap[0]->deadline_ns;
	if (!l->sleep_until || deadline >= l->sleep_until)
		return false;
	l->sleep_until = 0;   /* one wake-up is enough */
	return true;
}

int loop_run_once(struct loop *l)
{
	struct epoll_event evs[32];
	int timeout = -1, n, i;

	l->sleep_until = UINT64_MAX;
	if (l->n_heap) {
		uint64_t now = now_ns(), deadline = l->heap[0]->deadline_ns;

		l->sleep_until = deadline;
		if (deadline <= now)
			timeout = 0;
		else	/* round up: never wake before the deadline */
			timeout = (int)((deadline - now + 999999) / 1000000);
	}
	if (l->unlock)
		l->unlock(l->lock_ctx);
	n = epoll_wait(l->epfd, evs, 32, timeout);
	if (l->lock)
		l->lock(l->lock_ctx);
	l->sleep_until = 0;
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct loop_source *s = evs[i].data.ptr;

		/* closed by an earlier callback of this batch (a reload that
		 * removed a peer and its TAPs): its event is stale, and its fd
		 * number may already belong to a new source */
		if (s->fd < 0)
			continue;
		s->cb(s, evs[i].events);
	}
	run_timers(l);
	return n;
}
