/* SPDX-License-Identifier: GPL-2.0-or-later */
/* In-order pipeline of stage threads over a ring of slots (stream_pipe.h). */
#include "migrate/stream/stream_pipe.h"
#include "migrate/stream/stream.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* The slots' region starts on a huge page (2 MiB on x86-64). */
#define PIPE_REGION_ALIGN (2u << 20)

struct pipe {
	pthread_mutex_t mu;
	/* One per stage: a slot handed on wakes only the stage it goes to
	 * (one condition for all woke every thread at every slot: on one
	 * core, a herd of context switches per block; 4096 of them for a
	 * mostly-zero 4 GiB image). An abort, the last slot and a thread's
	 * end wake them all (wake_all). */
	pthread_cond_t cv[PIPE_STAGES_MAX];
	unsigned nslots, nstages;
	struct pipe_slot *slots;
	void *region;		/* the slots' buffers */
	const struct pipe_stage *stages;
	unsigned workers[PIPE_STAGES_MAX];
	pipe_abort_fn on_abort;
	void *arg;
	int err;
	bool abort;
	unsigned abort_stage;	/* the stage that failed */
	bool have_last;
	uint64_t last_seq;	/* the first stage's last slot */
	unsigned exited[PIPE_STAGES_MAX];	/* workers of the stage that ended */
};

static void wake_all(struct pipe *p)
{
	for (unsigned k = 0; k < p->nstages; k++)
		pthread_cond_broadcast(&p->cv[k]);
}

static double pipe_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* After a failure in stage abort_stage, stage j may still receive slots
 * while a stage between the two is running. */
static bool upstream_done(const struct pipe *p, unsigned j)
{
	for (unsigned k = p->abort_stage + 1; k < j; k++)
		if (p->exited[k] < p->workers[k])
			return false;
	return true;
}

/* The first stage has one worker and takes its slots in order: a slot is
 * free for it when the last stage released it. A later stage must also
 * find its own sequence number there (a slot may still hold an earlier
 * one, meant for another worker of the same stage). */
static bool slot_ready(const struct pipe_slot *s, unsigned stage, uint64_t seq)
{
	return s->state == (int)stage && (stage == 0 || s->seq == seq);
}

struct pipe_worker {
	struct pipe *p;
	unsigned stage, j;
	pthread_t tid;
	double busy, wait;
	uint64_t slots;
};

static void *pipe_thread(void *v)
{
	struct pipe_worker *w = v;
	struct pipe *p = w->p;
	unsigned nw = p->workers[w->stage];
	uint64_t seq;

	for (seq = w->j;; seq += nw) {
		struct pipe_slot *s = &p->slots[seq % p->nslots];
		double t0 = pipe_now(), t1;
		bool last;
		int r;

		pthread_mutex_lock(&p->mu);
		/* After a failure, the stages downstream of it still finish
		 * the slots already handed to them (blocks received are
		 * written and count for the resume), then stop. */
		while (!slot_ready(s, w->stage, seq) && !(p->have_last && seq > p->last_seq) &&
		       !(p->abort && (w->stage <= p->abort_stage || upstream_done(p, w->stage))))
			pthread_cond_wait(&p->cv[w->stage], &p->mu);
		if (!slot_ready(s, w->stage, seq) || (p->abort && w->stage <= p->abort_stage)) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pthread_mutex_unlock(&p->mu);

		if (w->stage == 0) {
			s->seq = seq;
			s->last = false;
			s->kind = SLOT_NONE;
			s->err = 0;
		}
		t1 = pipe_now();
		r = p->stages[w->stage].fn(s, p->arg);
		w->wait += t1 - t0;
		w->busy += pipe_now() - t1;
		w->slots++;
		if (r == PIPE_LAST && w->stage == 0)
			s->last = true;
		last = s->last;

		pthread_mutex_lock(&p->mu);
		if (r < 0) {
			bool first = !p->abort;

			p->abort = true;
			if (first) {
				p->err = r;
				p->abort_stage = w->stage;
			}
			wake_all(p);
			pthread_mutex_unlock(&p->mu);
			if (first && p->on_abort)
				p->on_abort(r, p->arg);
			break;
		}
		s->state = (int)((w->stage + 1) % p->nstages);
		if (last && w->stage == 0) {
			p->have_last = true;
			p->last_seq = seq;
			wake_all(p);
		} else {
			pthread_cond_broadcast(&p->cv[s->state]);
		}
		pthread_mutex_unlock(&p->mu);
		if (last)
			break;
	}
	pthread_mutex_lock(&p->mu);
	p->exited[w->stage]++;
	wake_all(p);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int pipe_run(unsigned nslots, size_t bufsize, unsigned nstages, const struct pipe_stage *stages,
	     pipe_abort_fn on_abort, void *arg, struct pipe_stats *stats)
{
	struct pipe_worker w[PIPE_STAGES_MAX * PIPE_WORKERS_MAX];
	struct pipe p = {
		.nslots = nslots, .nstages = nstages, .stages = stages,
		.on_abort = on_abort, .arg = arg,
	};
	sigset_t all, old;
	unsigned i, k, started = 0;
	int r = 0;

	if (nstages == 0 || nstages > PIPE_STAGES_MAX || nslots == 0)
		return -EINVAL;
	for (k = 0; k < nstages; k++) {
		p.workers[k] = stages[k].workers ? stages[k].workers : 1;
		if (p.workers[k] > PIPE_WORKERS_MAX || (k == 0 && p.workers[k] != 1))
			return -EINVAL;
	}
	p.slots = calloc(nslots, sizeof(*p.slots));
	if (!p.slots)
		return -ENOMEM;
	if (bufsize) {
		/* One region for all slots, page-aligned (the receiver writes
		 * them with O_DIRECT), in huge pages where the kernel gives
		 * them: 32 MiB of buffers touched for the first time cost
		 * 8192 page faults in 4 KiB pages, 0.1-0.2 s of a 1 GiB copy
		 * in a guest whose memory the host supplies at first touch
		 * (docs/BENCHMARKS.md); 16 faults in 2 MiB ones. */
		size_t stride = (bufsize + 4095) & ~(size_t)4095;

		if (bufsize > SIZE_MAX - 4095 || nslots > SIZE_MAX / stride || posix_memalign(&p.region, PIPE_REGION_ALIGN, stride * nslots) != 0) {
			r = -ENOMEM;
			goto out;
		}
		if (!stream_knob_off("BRIDGED_STREAM_HUGEPAGES"))
			(void)madvise(p.region, stride * nslots, MADV_HUGEPAGE);
		for (i = 0; i < nslots; i++)
			p.slots[i].buf = (uint8_t *)p.region + i * stride;
	}
	pthread_mutex_init(&p.mu, NULL);
	for (k = 0; k < nstages; k++)
		pthread_cond_init(&p.cv[k], NULL);
	/* Signals stay with the calling thread (the CLI's flag handler). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (k = 0; k < nstages; k++) {
		for (unsigned j = 0; j < p.workers[k]; j++) {
			struct pipe_worker *x = &w[started];

			memset(x, 0, sizeof(*x));
			x->p = &p;
			x->stage = k;
			x->j = j;
			if (pthread_create(&x->tid, NULL, pipe_thread, x) != 0) {
				pthread_mutex_lock(&p.mu);
				p.abort = true;
				p.err = -EAGAIN;
				/* The threads never started count as ended. */
				p.exited[k] += p.workers[k] - j;
				for (unsigned k2 = k + 1; k2 < nstages; k2++)
					p.exited[k2] += p.workers[k2];
				wake_all(&p);
				pthread_mutex_unlock(&p.mu);
				goto started;
			}
			started++;
		}
	}
started:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	for (k = 0; k < nstages; k++)
		if (stages[k].drain)
			stages[k].drain(arg);
	if (stats) {
		memset(stats, 0, nstages * sizeof(*stats));
		for (i = 0; i < started; i++) {
			stats[w[i].stage].busy += w[i].busy;
			stats[w[i].stage].wait += w[i].wait;
			stats[w[i].stage].slots += w[i].slots;
		}
	}
	r = p.err;
	for (k = 0; k < nstages; k++)
		pthread_cond_destroy(&p.cv[k]);
	pthread_mutex_destroy(&p.mu);
out:
	free(p.region);
	free(p.slots);
	return r;
}
