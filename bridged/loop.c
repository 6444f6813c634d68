/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The epoll loop (see loop.h). */
#include "bridged/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct loop {
	int epfd;
};

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

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

int loop_run_once(struct loop *l, uint64_t deadline_ns)
{
	struct epoll_event evs[32];
	int timeout = -1, n, i;

	if (deadline_ns != UINT64_MAX) {
		uint64_t now = now_ns();

		if (deadline_ns <= now)
			timeout = 0;
		else	/* round up: never wake before the deadline */
			timeout = (int)((deadline_ns - now + 999999) / 1000000);
	}
	n = epoll_wait(l->epfd, evs, 32, timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct loop_source *s = evs[i].data.ptr;

		s->cb(s, evs[i].events);
	}
	return n;
}
