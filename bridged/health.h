/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tunnel health: an explicit state machine per peer with one transition
 * function (health_next), fed by events that health_evaluate() derives from
 * the tunnel's counters at each tick. Pure: no I/O, time passed in.
 *
 *   CONNECTING --session up--> UP <--clean/rx--> DEGRADED
 *        ^                      |                   |
 *        +----session down------+---silent/down-----+--> DOWN --rx--> UP
 */
#ifndef BRIDGED_HEALTH_H
#define BRIDGED_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

enum health_state {
	HEALTH_CONNECTING,   /* no session yet */
	HEALTH_UP,           /* session up, traffic received recently, loss low */
	HEALTH_DEGRADED,     /* up, but loss above the threshold */
	HEALTH_DOWN,         /* nothing received for dead_after, or session lost */
	_HEALTH_STATE_MAX,
};

enum health_event {
	HEALTH_EV_SESSION_UP,
	HEALTH_EV_SESSION_DOWN,
	HEALTH_EV_SILENT,    /* nothing authenticated received for dead_after */
	HEALTH_EV_ALIVE,     /* received again after silence */
	HEALTH_EV_LOSSY,     /* loss over the window above the threshold */
	HEALTH_EV_CLEAN,     /* loss back below half the threshold */
	_HEALTH_EVENT_MAX,
};

const char *health_state_to_string(enum health_state s);
const char *health_event_to_string(enum health_event e);

/* The one transition function. Returns the next state (maybe the same). */
enum health_state health_next(enum health_state s, enum health_event ev);

/* True when a tunnel in this state should carry traffic (carrier on). */
bool health_carrier(enum health_state s);

/* Loss accounting over a sliding window of samples. */
#define HEALTH_LOSS_SAMPLES 64
struct health_loss {
	uint64_t t_ns[HEALTH_LOSS_SAMPLES];
	uint64_t expected[HEALTH_LOSS_SAMPLES];  /* cumulative packets the peer sent to us */
	uint64_t received[HEALTH_LOSS_SAMPLES];  /* cumulative packets we accepted */
	unsigned head, n;
};
/* Adds a sample of the cumulative counters at now. */
void health_loss_sample(struct health_loss *l, uint64_t now_ns, uint64_t expected,
			uint64_t received);
/* Loss in percent over the last window_ns (-1 when not enough data). */
double health_loss_pct(const struct health_loss *l, uint64_t now_ns, uint64_t window_ns);

/* RTT statistics: last, min, max, mean, jitter (mean absolute difference of
 * consecutive samples), p99 over the recent ring. */
#define HEALTH_RTT_SAMPLES 128
struct health_rtt {
	uint64_t ring[HEALTH_RTT_SAMPLES];
	unsigned head, n;
	uint64_t last, min, max;
	double mean, jitter;
	uint64_t count;
};
void health_rtt_add(struct health_rtt *r, uint64_t rtt_ns);
uint64_t health_rtt_p99(const struct health_rtt *r);

struct health_params {
	uint64_t dead_after_ns;      /* default 1 s */
	double degraded_loss_pct;    /* default 2 % */
	uint64_t loss_window_ns;     /* default 10 s */
};

struct health_input {
	uint64_t now_ns;
	bool session_up;
	uint64_t last_rx_ns;         /* 0 = never; the time silence counts from,
				      * which may lie ahead (an idle tunnel) */
	double loss_pct;             /* -1 = unknown */
};

/*
 * Derives at most one event from the inputs for a tunnel currently in
 * state s (the daemon applies it with health_next and calls again until
 * none: returns _HEALTH_EVENT_MAX when there is nothing to report).
 */
enum health_event health_evaluate(enum health_state s, const struct health_input *in,
				  const struct health_params *p);

#endif
