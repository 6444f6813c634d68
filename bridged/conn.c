/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Non-blocking request/answer connections (see conn.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridged/conn.h"
#include "common/log.h"

enum conn_mode {
	CONN_REQUEST,        /* reading the request */
	CONN_ANSWER,         /* writing the answer, then closing */
	CONN_STREAM,         /* stays: one line per broadcast */
};

struct conn {
	struct loop_source src;
	struct loop_timer deadline;    /* request/answer: closed when it fires */
	struct conn_server *s;
	struct conn *next;
	enum conn_mode mode;
	bool dead;
	char *refusal;                 /* not admitted: the answer, whatever was asked */
	char in[CONN_REQUEST_MAX];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
};

static void conn_drop(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	loop_timer_disarm(c->s->loop, &c->deadline);
	loop_del(c->s->loop, &c->src);
	close(c->src.fd);
	c->src.fd = -1;
	free(c->out);
	c->out = NULL;
	free(c->refusal);
	c->refusal = NULL;
}

/* Writes what the peer takes now; closes when all is out. */
static void conn_flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = write(c->src.fd, c->out + c->out_off, c->out_len - c->out_off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			loop_mod(c->s->loop, &c->src, EPOLLOUT);
			return;
		}
		if (w <= 0) {
			conn_drop(c);
			return;
		}
		c->out_off += (size_t)w;
	}
	/* all written: half-close, so the peer reads to the end before EOF */
	shutdown(c->src.fd, SHUT_WR);
	conn_drop(c);
}

void conn_make_stream(struct conn *c)
{
	c->mode = CONN_STREAM;
	loop_timer_disarm(c->s->loop, &c->deadline);
	loop_mod(c->s->loop, &c->src, EPOLLIN | EPOLLRDHUP);
}

static void conn_cb(struct loop_source *src, uint32_t events)
{
	struct conn *c = container_of(src, struct conn, src);
	ssize_t r;

	if (c->dead)
		return;
	switch (c->mode) {
	case CONN_ANSWER:
		conn_flush(c);
		return;
	case CONN_STREAM: {
		char buf[256];

		/* the client sends nothing more; EOF or error ends it */
		if (read(src->fd, buf, sizeof(buf)) <= 0 || (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
			conn_drop(c);
		return;
	}
	case CONN_REQUEST:
	default:
		break;
	}
	r = read(src->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_drop(c);
		return;
	}
	c->in_len += (size_t)r;
	c->in[c->in_len] = '\0';
	if (c->refusal) {
		/* not admitted: the request is never looked at */
		if (!memchr(c->in, '\n', c->in_len) && c->in_len < sizeof(c->in) - 1)
			return;
		c->out = c->refusal;
		c->out_len = strlen(c->refusal);
		c->refusal = NULL;
	} else if (!c->s->h->complete(c->in, c->in_len)) {
		if (c->in_len == sizeof(c->in) - 1)
			conn_drop(c);        /* no request is that long */
		return;
	} else {
		c->out = c->s->h->answer(c->s, c, c->in, &c->out_len);
	}
	if (c->mode == CONN_STREAM)
		return;
	if (!c->out) {
		conn_drop(c);
		return;
	}
	c->mode = CONN_ANSWER;
	c->out_off = 0;
	conn_flush(c);
}

/* A request/answer connection that dawdled past its deadline. */
static void conn_deadline_cb(struct loop_timer *t, uint64_t now)
{
	conn_drop(container_of(t, struct conn, deadline));
}

/* Accepts one connection; false when there is none to accept. */
static bool conn_accept(struct conn_server *s)
{
	struct conn *c;
	size_t n = 0;
	int fd;

	fd = accept4(s->src.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return false;
	for (c = s->conns; c; c = c->next)
		if (!c->dead && c->mode != CONN_STREAM)
			n++;
	c = n < CONN_MAX ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		log_debug("%s: %zu connections open, refusing one more", s->h->name, n);
		close(fd);
		return true;
	}
	if (s->h->admit && !s->h->admit(s, fd, &c->refusal) && !c->refusal) {
		free(c);
		close(fd);
		return true;
	}
	c->src.fd = fd;
	c->src.cb = conn_cb;
	c->s = s;
	c->mode = CONN_REQUEST;
	c->next = s->conns;
	s->conns = c;
	loop_add(s->loop, &c->src, EPOLLIN | EPOLLRDHUP);
	loop_timer_init(&c->deadline, conn_deadline_cb);
	loop_timer_arm(s->loop, &c->deadline, now_ns() + CONN_DEADLINE_NS);
	return true;
}

static void listen_cb(struct loop_source *src, uint32_t events)
{
	struct conn_server *s = container_of(src, struct conn_server, src);

	for (int i = 0; i < 16 && conn_accept(s); i++)
		;
}

int conn_server_open(struct conn_server *s, struct loop *l, int listen_fd,
		     const struct conn_handler *h, void *ctx)
{
	s->loop = l;
	s->h = h;
	s->ctx = ctx;
	s->conns = NULL;
	s->src.fd = listen_fd;
	s->src.cb = listen_cb;
	return loop_add(l, &s->src, EPOLLIN);
}

void conn_server_broadcast(struct conn_server *s, const char *buf, size_t len)
{
	for (struct conn *c = s->conns; c; c = c->next) {
		if (c->dead || c->mode != CONN_STREAM)
			continue;
		if (write(c->src.fd, buf, len) != (ssize_t)len) {
			log_info("%s: stream client dropped: it does not read fast enough", s->h->name);
			conn_drop(c);
		}
	}
}

void conn_server_collect(struct conn_server *s)
{
	struct conn **pp = &s->conns;

	while (*pp) {
		struct conn *c = *pp;

		if (c->dead) {
			*pp = c->next;
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

void conn_server_close(struct conn_server *s)
{
	for (struct conn *c = s->conns; c; c = c->next)
		conn_drop(c);
	conn_server_collect(s);
	if (s->src.fd < 0)
		return;
	loop_del(s->loop, &s->src);
	close(s->src.fd);
	s->src.fd = -1;
}
