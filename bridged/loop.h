/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's one epoll loop. A source is embedded in its owner and
 * recovered with container_of() in the callback (tinc's event.h shape).
 * Timers likewise (OpenBGPD's timer.c shape): a timer is embedded in its
 * owner, armed for a CLOCK_MONOTONIC deadline, and runs once when it is
 * due; the loop sleeps until the earliest armed deadline, so an idle
 * daemon wakes only for its own deadlines.
 */
#ifndef BRIDGED_LOOP_H
#define BRIDGED_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct loop;
struct loop_source;
typedef void (*loop_cb)(struct loop_source *s, uint32_t events);

struct loop_source {
	int fd;
	loop_cb cb;
};

struct loop_timer;
typedef void (*loop_timer_cb)(struct loop_timer *t, uint64_t now_ns);

struct loop_timer {
	uint64_t deadline_ns;
	loop_timer_cb cb;
	size_t heap_idx;               /* position in the loop's heap, SIZE_MAX: not armed */
};

int loop_new(struct loop **ret);
void loop_free(struct loop *l);
/* Watches s->fd for events (EPOLLIN...). */
int loop_add(struct loop *l, struct loop_source *s, uint32_t events);
int loop_mod(struct loop *l, struct loop_source *s, uint32_t events);
void loop_del(struct loop *l, struct loop_source *s);

/* Timers: init once (not armed); arm (again) for a deadline, replacing the
 * previous one; disarm (a no-op when not armed; required before the owner
 * is freed). A timer runs once per arming, disarmed before its callback,
 * which may arm it again. */
void loop_timer_init(struct loop_timer *t, loop_timer_cb cb);
int loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t deadline_ns);
void loop_timer_disarm(struct loop *l, struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);

/* Waits until a source is ready or the earliest timer is due, then runs
 * the callbacks of the ready sources and of every timer due (never before
 * its deadline). Returns the number of sources handled or -errno. */
int loop_run_once(struct loop *l);

/* A lock the loop's thread holds all the time but while it sleeps in
 * epoll_wait (the data path's workers run under it meanwhile). */
void loop_set_lock(struct loop *l, void (*lock)(void *ctx), void (*unlock)(void *ctx), void *ctx);
/* Called by another thread holding that lock: true when the loop sleeps
 * past deadline or past its earliest timer's (armed meanwhile), so it
 * must be woken (once: it then counts as awake). */
bool loop_wake_needed(struct loop *l, uint64_t deadline);


#endif
