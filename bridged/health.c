/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tunnel health state machine and statistics (see health.h). */
#include "bridged/health.h"

#include <stdlib.h>
#include <string.h>

static const char *const health_state_names[_HEALTH_STATE_MAX] = {
	[HEALTH_CONNECTING] = "connecting",
	[HEALTH_UP] = "up",
	[HEALTH_DEGRADED] = "degraded",
	[HEALTH_DOWN] = "down",
};

static const char *const health_event_names[_HEALTH_EVENT_MAX] = {
	[HEALTH_EV_SESSION_UP] = "session-up",
	[HEALTH_EV_SESSION_DOWN] = "session-down",
	[HEALTH_EV_SILENT] = "silent",
	[HEALTH_EV_ALIVE] = "alive",
	[HEALTH_EV_LOSSY] = "lossy",
	[HEALTH_EV_CLEAN] = "clean",
};

const char *health_state_to_string(enum health_state s)
{
	return (unsigned)s < _HEALTH_STATE_MAX ? health_state_names[s] : NULL;
}

const char *health_event_to_string(enum health_event e)
{
	return (unsigned)e < _HEALTH_EVENT_MAX ? health_event_names[e] : NULL;
}

enum health_state health_next(enum health_state s, enum health_event ev)
{
	switch (s) {
	case HEALTH_CONNECTING:
		switch (ev) {
		case HEALTH_EV_SESSION_UP:
			return HEALTH_UP;
		default:
			return s;
		}
	case HEALTH_UP:
		switch (ev) {
		case HEALTH_EV_SESSION_DOWN:
		case HEALTH_EV_SILENT:
			return HEALTH_DOWN;
		case HEALTH_EV_LOSSY:
			return HEALTH_DEGRADED;
		default:
			return s;
		}
	case HEALTH_DEGRADED:
		switch (ev) {
		case HEALTH_EV_SESSION_DOWN:
		case HEALTH_EV_SILENT:
			return HEALTH_DOWN;
		case HEALTH_EV_CLEAN:
			return HEALTH_UP;
		default:
			return s;
		}
	case HEALTH_DOWN:
		switch (ev) {
		case HEALTH_EV_SESSION_UP:
		case HEALTH_EV_ALIVE:
			return HEALTH_UP;
		default:
			return s;
		}
	default:
		return s;
	}
}

bool health_carrier(enum health_state s)
{
	return s == HEALTH_UP || s == HEALTH_DEGRADED;
}

enum health_event health_evaluate(enum health_state s, const struct health_input *in,
				  const struct health_params *p)
{
	/* last_rx_ns may lie ahead: the silence of an idle tunnel counts
	 * from its last packet plus one idle interval */
	bool silent = !in->last_rx_ns ||
		      (in->now_ns > in->last_rx_ns && in->now_ns - in->last_rx_ns >= p->dead_after_ns);

	switch (s) {
	case HEALTH_CONNECTING:
		if (in->session_up && !silent)
			return HEALTH_EV_SESSION_UP;
		return _HEALTH_EVENT_MAX;
	case HEALTH_UP:
	case HEALTH_DEGRADED:
		if (!in->session_up)
			return HEALTH_EV_SESSION_DOWN;
		if (silent)
			return HEALTH_EV_SILENT;
		if (s == HEALTH_UP && in->loss_pct >= 0 && in->loss_pct > p->degraded_loss_pct)
			return HEALTH_EV_LOSSY;
		if (s == HEALTH_DEGRADED && in->loss_pct >= 0 &&
		    in->loss_pct <= p->degraded_loss_pct / 2)
			return HEALTH_EV_CLEAN;
		return _HEALTH_EVENT_MAX;
	case HEALTH_DOWN:
		if (in->session_up && !silent)
			return HEALTH_EV_ALIVE;
		return _HEALTH_EVENT_MAX;
	default:
		return _HEALTH_EVENT_MAX;
	}
}

void health_loss_sample(struct health_loss *l, uint64_t now_ns, uint64_t expected,
			uint64_t received)
{
	unsigned i = l->head;

	l->t_ns[i] = now_ns;
	l->expected[i] = expected;
	l->received[i] = received;
	l->head = (l->head + 1) % HEALTH_LOSS_SAMPLES;
	if (l->n < HEALTH_LOSS_SAMPLES)
		l->n++;
}

double health_loss_pct(const struct health_loss *l, uint64_t now_ns, uint64_t window_ns)
{
	unsigned newest, oldest, k;
	uint64_t exp, rcv;

	if (l->n < 2)
		return -1;
	newest = (l->head + HEALTH_LOSS_SAMPLES - 1) % HEALTH_LOSS_SAMPLES;
	oldest = newest;
	/* walk back to the oldest sample still inside the window */
	for (k = 1; k < l->n; k++) {
		unsigned i = (newest + HEALTH_LOSS_SAMPLES - k) % HEALTH_LOSS_SAMPLES;

		if (now_ns - l->t_ns[i] > window_ns)
			break;
		oldest = i;
	}
	if (oldest == newest)
		return -1;
	/* counters restart with a new session: a decrease means no data */
	if (l->expected[newest] < l->expected[oldest] || l->received[newest] < l->received[oldest])
		return -1;
	exp = l->expected[newest] - l->expected[oldest];
	rcv = l->received[newest] - l->received[oldest];
	if (exp < 10)
		return -1;
	if (rcv >= exp)
		return 0;
	return 100.0 * (double)(exp - rcv) / (double)exp;
}

void health_rtt_add(struct health_rtt *r, uint64_t rtt_ns)
{
	if (r->count) {
		uint64_t d = rtt_ns > r->last ? rtt_ns - r->last : r->last - rtt_ns;

		/* RFC 3550-style smoothed jitter */
		r->jitter += ((double)d - r->jitter) / 16.0;
		if (rtt_ns < r->min)
			r->min = rtt_ns;
		if (rtt_ns > r->max)
			r->max = rtt_ns;
	} else {
		r->min = r->max = rtt_ns;
	}
	r->count++;
	r->mean += ((double)rtt_ns - r->mean) / (double)r->count;
	r->last = rtt_ns;
	r->ring[r->head] = rtt_ns;
	r->head = (r->head + 1) % HEALTH_RTT_SAMPLES;
	if (r->n < HEALTH_RTT_SAMPLES)
		r->n++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t health_rtt_p99(const struct health_rtt *r)
{
	uint64_t tmp[HEALTH_RTT_SAMPLES];
	unsigned idx;

	if (!r->n)
		return 0;
	memcpy(tmp, r->ring, sizeof(tmp));
	qsort(tmp, r->n, sizeof(tmp[0]), cmp_u64);
	/* nearest-rank p99 */
	idx = (unsigned)((99 * r->n + 99) / 100);
	if (idx == 0)
		idx = 1;
	return tmp[idx - 1];
}
