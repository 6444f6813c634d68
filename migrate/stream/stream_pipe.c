/* SPDX-License-Identifier: GPL-2.0-or-later */
/* In-order pipeline of stage threads over a ring of slots (stream_pipe.h). */
#include "migrate/stream/stream_pipe.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned nslots, nstages;
	struct pipe_slot *slots;
	const pipe_stage_fn *stages;
	pipe_abort_fn on_abort;
	void *arg;
	int err;
	bool abort;
	unsigned abort_stage;	/* the stage that failed */
	bool exited[PIPE_STAGES_MAX];
};

/* After a failure in stage abort_stage, stage j may still receive slots
 * while a stage between the two is running. */
static bool upstream_done(const struct pipe *p, unsigned j)
{
	for (unsigned k = p->abort_stage + 1; k < j; k++)
		if (!p->exited[k])
			return false;
	return true;
}

struct pipe_worker {
	struct pipe *p;
	unsigned stage;
	pthread_t tid;
};

static void *pipe_thread(void *v)
{
	struct pipe_worker *w = v;
	struct pipe *p = w->p;
	uint64_t seq;

	for (seq = 0;; seq++) {
		struct pipe_slot *s = &p->slots[seq % p->nslots];
		bool last;
		int r;

		pthread_mutex_lock(&p->mu);
		/* After a failure, the stages downstream of it still finish
		 * the slots already handed to them (blocks received are
		 * written and count for the resume), then stop. */
		while (s->state != (int)w->stage &&
		       !(p->abort && (w->stage <= p->abort_stage || upstream_done(p, w->stage))))
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->abort && (w->stage <= p->abort_stage || s->state != (int)w->stage)) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pthread_mutex_unlock(&p->mu);

		if (w->stage == 0) {
			s->last = false;
			s->kind = SLOT_NONE;
		}
		r = p->stages[w->stage](s, p->arg);
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
			pthread_cond_broadcast(&p->cv);
			pthread_mutex_unlock(&p->mu);
			if (first && p->on_abort)
				p->on_abort(r, p->arg);
			break;
		}
		s->state = (int)((w->stage + 1) % p->nstages);
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (last)
			break;
	}
	pthread_mutex_lock(&p->mu);
	p->exited[w->stage] = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int pipe_run(unsigned nslots, size_t bufsize, unsigned nstages, const pipe_stage_fn *stages,
	     pipe_abort_fn on_abort, void *arg)
{
	struct pipe_worker w[PIPE_STAGES_MAX];
	struct pipe p = {
		.nslots = nslots, .nstages = nstages, .stages = stages,
		.on_abort = on_abort, .arg = arg,
	};
	sigset_t all, old;
	unsigned i, started = 0;
	int r = 0;

	if (nstages == 0 || nstages > PIPE_STAGES_MAX || nslots == 0)
		return -EINVAL;
	p.slots = calloc(nslots, sizeof(*p.slots));
	if (!p.slots)
		return -ENOMEM;
	for (i = 0; i < nslots; i++) {
		/* Page-aligned: the receiver writes them with O_DIRECT. */
		if (bufsize && posix_memalign((void **)&p.slots[i].buf, 4096, bufsize) != 0)
			p.slots[i].buf = NULL;
		if (bufsize && !p.slots[i].buf) {
			r = -ENOMEM;
			goto out;
		}
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	/* Signals stay with the calling thread (the CLI's flag handler). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < nstages; i++) {
		w[i].p = &p;
		w[i].stage = i;
		if (pthread_create(&w[i].tid, NULL, pipe_thread, &w[i]) != 0) {
			pthread_mutex_lock(&p.mu);
			p.abort = true;
			p.err = -EAGAIN;
			pthread_cond_broadcast(&p.cv);
			pthread_mutex_unlock(&p.mu);
			break;
		}
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	r = p.err;
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
out:
	for (i = 0; i < nslots; i++)
		free(p.slots[i].buf);
	free(p.slots);
	return r;
}
