/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's one epoll loop. A source is embedded in its owner and
 * recovered with container_of() in the callback (tinc's event.h shape).
 */
#ifndef BRIDGED_LOOP_H
#define BRIDGED_LOOP_H

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct loop;
struct loop_source;
typedef void (*loop_cb)(struct loop_source *s, uint32_t events);

struct loop_source {
	int fd;
	loop_cb cb;
};

int loop_new(struct loop **ret);
void loop_free(struct loop *l);
/* Watches s->fd for events (EPOLLIN...). */
int loop_add(struct loop *l, struct loop_source *s, uint32_t events);
int loop_mod(struct loop *l, struct loop_source *s, uint32_t events);
void loop_del(struct loop *l, struct loop_source *s);
/* Waits until a source is ready or deadline_ns (CLOCK_MONOTONIC, UINT64_MAX:
 * none) passes, then runs the callbacks. Returns the number handled or -errno. */
int loop_run_once(struct loop *l, uint64_t deadline_ns);

uint64_t now_ns(void);
uint64_t realtime_ns(void);

#endif
