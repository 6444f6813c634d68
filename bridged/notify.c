/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The service manager's side of the daemon (systemd's notify protocol,
 * through libsystemd's sd_notify): READY=1 once bridges, TAPs and sockets
 * are up, STATUS= with the peer summary whenever it changes,
 * RELOADING=1/READY=1 around a SIGHUP reload, STOPPING=1, and WATCHDOG=1
 * from a timer of the event loop at half the manager's WatchdogSec=
 * (WATCHDOG_USEC): a loop that stops turning stops the keep-alives, and
 * the manager restarts the daemon. Without NOTIFY_SOCKET every call is a
 * no-op (sd_notify returns 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "bridged/daemon.h"
#include "common/log.h"

/* The peer summary: "2 peers: newhost up, spare down; 3 bridges". */
static void notify_summary(struct daemon *d, char *buf, size_t len)
{
	size_t n_peers = 0, off;
	int w;

	for (struct dpeer *p = d->peers; p; p = p->next)
		n_peers++;
	w = snprintf(buf, len, "%zu peer%s", n_peers, n_peers == 1 ? "" : "s");
	off = w > 0 && (size_t)w < len ? (size_t)w : len - 1;
	for (struct dpeer *p = d->peers; p && off < len - 1; p = p->next) {
		w = snprintf(buf + off, len - off, "%s%s %s", p == d->peers ? ": " : ", ", p->cfg.name,
			     p->refused[0] ? "refused" : health_state_to_string(p->health));
		off = w > 0 && (size_t)w < len - off ? off + (size_t)w : len - 1;
	}
	if (off < len - 1)
		snprintf(buf + off, len - off, "; %zu bridge%s", d->cfg->n_bridges,
			 d->cfg->n_bridges == 1 ? "" : "s");
}

static void notify_send(const char *msg)
{
	int r = sd_notify(0, msg);

	if (r < 0)
		log_debug("sd_notify: %s, ignoring", strerror(-r));
}

/* Keep-alive: due every half watchdog interval, re-armed from the loop. */
static void watchdog_cb(struct loop_timer *t, uint64_t now)
{
	struct daemon *d = container_of(t, struct daemon, watchdog_timer);

	notify_send("WATCHDOG=1");
	loop_timer_arm(d->loop, &d->watchdog_timer, now + d->watchdog_ns / 2);
}

void notify_ready(struct daemon *d, bool daemonized)
{
	uint64_t usec = 0;
	char msg[300], sum[240];

	loop_timer_init(&d->watchdog_timer, watchdog_cb);
	/* after daemon(): WATCHDOG_PID, when set, names the process that must
	 * send the keep-alives */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		d->watchdog_ns = usec * 1000;
		log_info("watchdog: keep-alive every %llu ms", (unsigned long long)(usec / 2000));
		loop_timer_arm(d->loop, &d->watchdog_timer, now_ns() + d->watchdog_ns / 2);
	}
	d->notify_on = getenv("NOTIFY_SOCKET") != NULL;
	notify_summary(d, sum, sizeof(sum));
	snprintf(d->notify_status, sizeof(d->notify_status), "%s", sum);
	if (daemonized)
		snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld\nSTATUS=%s", (long)getpid(), sum);
	else
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", sum);
	notify_send(msg);
}

void notify_reloading(struct daemon *d)
{
	struct timespec ts;
	char msg[80];

	/* MONOTONIC_USEC: what Type=notify-reload (systemd 253) asks for */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	notify_send(msg);
}

void notify_reloaded(struct daemon *d)
{
	char msg[300], sum[240];

	notify_summary(d, sum, sizeof(sum));
	snprintf(d->notify_status, sizeof(d->notify_status), "%s", sum);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", sum);
	notify_send(msg);
}

void notify_status_update(struct daemon *d)
{
	char msg[260], sum[240];

	/* called after every loop round: look at most every 100 ms */
	if (!d->notify_on || d->now - d->notify_checked_ns < 100000000ull)
		return;
	d->notify_checked_ns = d->now;
	notify_summary(d, sum, sizeof(sum));
	if (!strcmp(sum, d->notify_status))
		return;
	snprintf(d->notify_status, sizeof(d->notify_status), "%s", sum);
	snprintf(msg, sizeof(msg), "STATUS=%s", sum);
	notify_send(msg);
}

void notify_stopping(struct daemon *d)
{
	loop_timer_disarm(d->loop, &d->watchdog_timer);
	notify_send("STOPPING=1\nSTATUS=stopping");
}
