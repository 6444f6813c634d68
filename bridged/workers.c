/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The data path's worker threads (Workers = N, docs/CONFIG.md): each has a
 * queue of every multi-queue TAP (IFF_MULTI_QUEUE), a UDP socket of its own
 * on the shared port (SO_REUSEPORT), its own buffers and batches, and an
 * epoll set of those fds.
 *
 * Concurrency (docs/BENCHMARKS.md, "Multi-queue"), kept simple:
 * - dp_rw, a writer-preferring rwlock: the main loop holds it for writing
 *   all the time but while it sleeps in epoll_wait, so the control plane
 *   (handshakes, timers, loop guard, health, the control socket, reloads)
 *   never runs beside a worker; a worker holds it for reading while it
 *   handles one epoll batch. Ports, peers and keypairs are only created
 *   and freed under the write lock, so a worker never sees one vanish in
 *   the middle of a batch; a TAP closed while a worker slept bumps dp_gen,
 *   and the worker drops the events it got before it took the lock (the
 *   RCU-like epoch: its epoll data may point at a freed port).
 * - dp_mu, a mutex among the workers: the engine (send counters, replay
 *   windows, reassembly, statistics), the loop guard's frame filters and
 *   the ports' counters run under it; the syscalls (TAP reads, recvmmsg,
 *   sendmmsg, the TAP writes of delivered frames: copied under it, written
 *   after) run outside it, in parallel.
 * - Handshake messages a worker receives go to the main loop through a
 *   mailbox (the control plane stays there); a worker that armed a timer or
 *   moved the engine's next deadline wakes the main loop (an eventfd).
 * With Workers = 1 none of this exists: the main loop carries the data
 * path as it always did.
 */
#include <errno.h>
#include <linux/filter.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bridged/daemon.h"
#include "common/log.h"
#include "tunnel/tap.h"
#include "tunnel/udp.h"

#define MAILBOX_MAX 64

struct dp_mail {
	uint8_t pkt[TUNNEL_DGRAM_MAX];
	size_t len;
	struct sockaddr_storage src;
	socklen_t src_len;
};

struct dp_mailbox {
	struct dp_mail m[MAILBOX_MAX];
	size_t n;
	uint64_t dropped;
};

struct dp_worker {
	struct daemon *d;
	unsigned idx;
	pthread_t th;
	bool started;
	int epfd, wake_fd;
	int udp_fd;
	uint64_t gen;                  /* dp_gen when it last let go of the lock */
	int cpu;                       /* the CPU it keeps to, or -1 */
	struct tunnel_queue q;
};

/* epoll data of a worker's own fds (TAP ports are their struct tap_port) */
static char udp_tag, wake_tag;

static __thread struct dp_worker *cur_worker;

struct tunnel_queue *daemon_queue(struct daemon *d)
{
	return cur_worker ? &cur_worker->q : &d->q;
}

struct tunnel_queue *daemon_queue_at(struct daemon *d, unsigned i)
{
	if (d->n_workers <= 1)
		return i == 0 ? &d->q : NULL;
	return i < d->n_workers ? &d->workers[i].q : NULL;
}

int workers_cpu(const struct daemon *d, unsigned i)
{
	return d->n_workers > 1 && i < d->n_workers ? d->workers[i].cpu : -1;
}

const char *workers_steering(const struct daemon *d)
{
	return d->n_workers <= 1 ? "none" : workers_cpu(d, 0) >= 0 ? "cpu" : "hash";
}

unsigned workers_count(const struct config *cfg)
{
	long n;

	if (cfg->node.workers)
		return cfg->node.workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > CONFIG_WORKERS_MAX ? CONFIG_WORKERS_MAX : (unsigned)n;
}

static void wake_main(struct daemon *d)
{
	uint64_t one = 1;

	if (write(d->wake.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("workers: wake: %s", strerror(errno));
}

/* A handshake message for the main loop (called under dp_mu). */
static void to_control(struct tunnel_queue *q, const uint8_t *pkt, size_t len,
		       const struct sockaddr *src, socklen_t src_len)
{
	struct dp_worker *w = container_of(q, struct dp_worker, q);
	struct dp_mailbox *mb = w->d->mailbox;
	struct dp_mail *m;

	if (mb->n == MAILBOX_MAX || len > sizeof(m->pkt) || src_len > sizeof(m->src)) {
		mb->dropped++;   /* the initiator retries */
		return;
	}
	m = &mb->m[mb->n++];
	memcpy(m->pkt, pkt, len);
	m->len = len;
	memcpy(&m->src, src, src_len);
	m->src_len = src_len;
	wake_main(w->d);
}

/* daemon_port_ops with the handshake messages passed to the main loop */
static struct tunnel_port_ops ops_mq;

/* The main loop: the eventfd a worker wrote. */
static void wake_cb(struct loop_source *s, uint32_t events)
{
	struct daemon *d = container_of(s, struct daemon, wake);
	struct dp_mailbox *mb = d->mailbox;
	uint64_t v;

	if (read(s->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("workers: wake: %s", strerror(errno));
	d->now = now_ns();
	for (size_t i = 0; i < mb->n; i++) {
		struct dp_mail *m = &mb->m[i];

		d->q.now = d->now;
		tunnel_receive(d->tunnel, m->pkt, m->len, (struct sockaddr *)&m->src, m->src_len, d->now,
			       tunnel_queue_batch(&d->q, 4));
	}
	mb->n = 0;
	daemon_flush(d);
	/* the main loop's round then re-arms the engine's timer */
}

static void rw_lock(void *ctx)
{
	pthread_rwlock_wrlock(&((struct daemon *)ctx)->dp_rw);
}

static void rw_unlock(void *ctx)
{
	pthread_rwlock_unlock(&((struct daemon *)ctx)->dp_rw);
}

static void *worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct daemon *d = w->d;
	struct epoll_event evs[16];

	cur_worker = w;
	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			log_warnx("worker %u: cannot keep to CPU %d: %s", w->idx, w->cpu, strerror(errno));
	}
	for (;;) {
		int n = epoll_wait(w->epfd, evs, 16, -1);

		if (__atomic_load_n(&d->dp_stop, __ATOMIC_ACQUIRE))
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warnx("worker %u: epoll: %s", w->idx, strerror(errno));
			break;
		}
		pthread_rwlock_rdlock(&d->dp_rw);
		if (__atomic_load_n(&d->dp_stop, __ATOMIC_ACQUIRE)) {
			pthread_rwlock_unlock(&d->dp_rw);
			break;
		}
		/* a TAP went while we slept: these events may name it */
		if (__atomic_load_n(&d->dp_gen, __ATOMIC_ACQUIRE) != w->gen)
			n = 0;
		for (int i = 0; i < n; i++) {
			void *ptr = evs[i].data.ptr;

			if (ptr == &wake_tag) {
				uint64_t v;

				if (read(w->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_debug("worker %u: wake: %s", w->idx, strerror(errno));
			} else if (ptr == &udp_tag) {
				tunnel_queue_udp_ready(&w->q);
			} else {
				struct tap_port *t = ptr;

				tunnel_queue_tap_ready(&w->q, &t->tport);
			}
		}
		/* what ran may have armed a timer or moved the engine's deadline */
		pthread_mutex_lock(&d->dp_mu);
		if (loop_wake_needed(d->loop, tunnel_next_deadline_at(d->tunnel, now_ns())))
			wake_main(d);
		pthread_mutex_unlock(&d->dp_mu);
		w->gen = __atomic_load_n(&d->dp_gen, __ATOMIC_ACQUIRE);
		pthread_rwlock_unlock(&d->dp_rw);
	}
	return NULL;
}

static int ep_add(int epfd, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void workers_port_add(struct daemon *d, struct tap_port *t)
{
	for (unsigned i = 0; d->n_workers > 1 && i < d->n_workers && i < t->tport.n_qfd; i++) {
		int r = ep_add(d->workers[i].epfd, t->tport.qfd[i], t);

		if (r < 0)
			log_warnx("%s: queue %u: epoll: %s", t->name, i, strerror(-r));
	}
}

void workers_port_del(struct daemon *d, struct tap_port *t)
{
	for (unsigned i = 0; d->n_workers > 1 && i < d->n_workers && i < t->tport.n_qfd; i++)
		if (t->tport.qfd[i] >= 0)
			epoll_ctl(d->workers[i].epfd, EPOLL_CTL_DEL, t->tport.qfd[i], NULL);
	/* a worker may hold an event of it from before it took the lock */
	__atomic_add_fetch(&d->dp_gen, 1, __ATOMIC_RELEASE);
}

static int open_udp(struct daemon *d, bool reuseport)
{
	int r = udp_open_reuseport(&d->cfg->node.listen, d->cfg->node.listen_len, reuseport);

	if (r < 0) {
		char a[80];

		fatalx("cannot listen on %s: %s", sockaddr_to_string(&d->cfg->node.listen, a, sizeof(a)),
		       strerror(-r));
	}
	return r;
}

/* Steering = cpu (docs/PROTOCOL.md, "Workers (multi-queue) and steering";
 * the default is hash: docs/BENCHMARKS.md, "CPU steering"):
 * worker i keeps to CPU i; the datagrams the kernel receives on CPU i go
 * to worker i's socket (a classic BPF program on the SO_REUSEPORT group:
 * the receiving CPU modulo the workers; the sockets joined the group in
 * worker order); a flow never read from the TAP goes to the delivering
 * worker's own TAP queue (flow_q as ever once read), so the kernel sends
 * its other direction through that queue, to the same worker. A packet's
 * softirq then wakes a thread on its own CPU rather than another's. Only when the workers are as many as
 * the CPUs this process may use, and those are 0..n-1; otherwise (and with
 * Steering = hash) the 4-tuple's hash and flow_q, on any CPU. */
static void cpu_steer(struct daemon *d)
{
	cpu_set_t set;
	struct sock_filter code[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_CPU) },
		{ BPF_ALU | BPF_MOD | BPF_K, 0, 0, d->n_workers },
		{ BPF_RET | BPF_A, 0, 0, 0 },
	};
	struct sock_fprog prog = { .len = 3, .filter = code };

	for (unsigned i = 0; i < d->n_workers; i++)
		d->workers[i].cpu = -1;
	if (!d->cfg->node.steering_cpu)
		return;
	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		log_warnx("data path: the CPUs of this process: %s: steering by hash", strerror(errno));
		return;
	}
	if ((unsigned)CPU_COUNT(&set) != d->n_workers) {
		log_info("data path: %u workers on %d CPUs: steering by hash", d->n_workers, CPU_COUNT(&set));
		return;
	}
	for (unsigned i = 0; i < d->n_workers; i++)
		if (!CPU_ISSET(i, &set)) {
			log_info("data path: CPU %u is not this process's: steering by hash", i);
			return;
		}
	if (setsockopt(d->workers[0].udp_fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0) {
		log_warnx("data path: receiving CPU steering: %s (the 4-tuple's hash instead)", strerror(errno));
		return;
	}
	for (unsigned i = 0; i < d->n_workers; i++) {
		d->workers[i].cpu = (int)i;
		d->workers[i].q.own_queue = true;
	}
}

void workers_start(struct daemon *d)
{
	pthread_rwlockattr_t ra;
	bool offload = !d->cfg->node.offload_off;

	d->n_workers = workers_count(d->cfg);
	d->wake.fd = -1;
	if (d->n_workers <= 1) {
		d->n_workers = 1;
		d->udp.fd = open_udp(d, false);
		if (tunnel_queue_init(&d->q, d->tunnel, d->udp.fd, &daemon_port_ops) < 0)
			fatalx("out of memory");
		tunnel_queue_udp_offload(&d->q, offload);
		d->udp.cb = daemon_udp_cb;
		loop_add(d->loop, &d->udp, EPOLLIN);
		return;
	}
	pthread_rwlockattr_init(&ra);
	/* the main loop must get in between the workers' batches */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&d->dp_rw, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&d->dp_mu, NULL);

	d->mailbox = calloc(1, sizeof(*d->mailbox));
	d->workers = calloc(d->n_workers, sizeof(*d->workers));
	if (!d->mailbox || !d->workers)
		fatalx("out of memory");
	ops_mq = daemon_port_ops;
	ops_mq.control = to_control;
	d->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->wake.fd < 0)
		fatal("eventfd");
	d->wake.cb = wake_cb;
	loop_add(d->loop, &d->wake, EPOLLIN);
	for (unsigned i = 0; i < d->n_workers; i++) {
		struct dp_worker *w = &d->workers[i];

		w->d = d;
		w->idx = i;
		w->udp_fd = open_udp(d, true);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (w->epfd < 0 || w->wake_fd < 0)
			fatal("worker %u: epoll", i);
		if (tunnel_queue_init(&w->q, d->tunnel, w->udp_fd, &ops_mq) < 0)
			fatalx("out of memory");
		w->q.index = i;
		w->q.lock = &d->dp_mu;
		tunnel_queue_udp_offload(&w->q, offload);
		if (ep_add(w->epfd, w->udp_fd, &udp_tag) < 0 || ep_add(w->epfd, w->wake_fd, &wake_tag) < 0)
			fatal("worker %u: epoll", i);
	}
	cpu_steer(d);
	/* the main loop's own queue sends through the first socket */
	d->udp.fd = -1;
	if (tunnel_queue_init(&d->q, d->tunnel, d->workers[0].udp_fd, &daemon_port_ops) < 0)
		fatalx("out of memory");
	d->q.udp_gso = d->workers[0].q.udp_gso;
}

/* After daemon(): threads do not survive a fork. */
void workers_launch(struct daemon *d)
{
	int r;

	if (d->n_workers <= 1)
		return;
	/* taken here, not before daemon(): a lock held across fork() would
	 * name the parent's thread as its writer */
	pthread_rwlock_wrlock(&d->dp_rw);
	loop_set_lock(d->loop, rw_lock, rw_unlock, d);
	for (unsigned i = 0; i < d->n_workers; i++) {
		struct dp_worker *w = &d->workers[i];

		w->gen = d->dp_gen;
		r = pthread_create(&w->th, NULL, worker_main, w);
		if (r)
			fatalx("worker %u: %s", i, strerror(r));
		w->started = true;
	}
	log_info("data path: %u workers, multi-queue TAPs, SO_REUSEPORT sockets, steering by %s", d->n_workers,
		 workers_cpu(d, 0) >= 0 ? "CPU (worker i on CPU i)" : "hash");
}

void workers_stop(struct daemon *d)
{
	if (d->n_workers <= 1 || !d->workers) {
		tunnel_queue_free(&d->q);
		if (d->udp.fd >= 0)
			close(d->udp.fd);
		d->udp.fd = -1;
		return;
	}
	if (!d->workers[0].started)
		pthread_rwlock_wrlock(&d->dp_rw);   /* never launched (a start-up failure) */
	__atomic_store_n(&d->dp_stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < d->n_workers; i++) {
		uint64_t one = 1;

		if (write(d->workers[i].wake_fd, &one, sizeof(one)) < 0)
			log_debug("worker %u: wake: %s", i, strerror(errno));
	}
	/* let a worker waiting for the lock see the stop */
	pthread_rwlock_unlock(&d->dp_rw);
	for (unsigned i = 0; i < d->n_workers; i++)
		if (d->workers[i].started)
			pthread_join(d->workers[i].th, NULL);
	pthread_rwlock_wrlock(&d->dp_rw);
	loop_set_lock(d->loop, NULL, NULL, NULL);
	pthread_rwlock_unlock(&d->dp_rw);
	for (unsigned i = 0; i < d->n_workers; i++) {
		struct dp_worker *w = &d->workers[i];

		tunnel_queue_free(&w->q);
		close(w->udp_fd);
		close(w->epfd);
		close(w->wake_fd);
	}
	tunnel_queue_free(&d->q);
	loop_del(d->loop, &d->wake);
	close(d->wake.fd);
	d->wake.fd = -1;
	free(d->workers);
	d->workers = NULL;
	free(d->mailbox);
	d->mailbox = NULL;
	pthread_rwlock_destroy(&d->dp_rw);
	pthread_mutex_destroy(&d->dp_mu);
}
