/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run_argv(): posix_spawn with two pipes and a deadline (run.h). No shell
 * is ever involved: the program gets exactly the vector it is given.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "migrate/source/run.h"

extern char **environ;

/* After the program exited, how long a grandchild that kept the pipes open
 * may hold us (xl's own helpers would). */
#define RUN_LINGER_MS 200
/* After the kill at the deadline, how long we still wait for the exit. */
#define RUN_KILL_GRACE_MS 2000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* environ without LC_* and LANG, plus LC_ALL=C: NULL-terminated, the
 * strings borrowed from environ. */
static char **child_env(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_", 3) && strncmp(environ[i], "LANG=", 5) &&
		    strncmp(environ[i], "LANGUAGE=", 9))
			env[k++] = environ[i];
	env[k++] = (char *)"LC_ALL=C";
	env[k] = NULL;
	return env;
}

struct capture {
	int fd;
	char *buf;
	size_t len;
	bool truncated;
};

/* Reads what is there; closes the descriptor at EOF or on an error. */
static void capture_read(struct capture *c)
{
	char scratch[4096];

	for (;;) {
		char *dst = scratch;
		size_t room = sizeof(scratch);
		ssize_t n;

		if (c->len < RUN_CAPTURE_MAX) {
			dst = c->buf + c->len;
			room = RUN_CAPTURE_MAX - c->len;
		}
		n = read(c->fd, dst, room);
		if (n > 0) {
			if (dst == scratch)
				c->truncated = true;
			else
				c->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close(c->fd);
		c->fd = -1;
		return;
	}
}

int run_argv(const char *const argv[], int timeout_ms, struct run_result *ret)
{
	struct capture cap[2] = { { .fd = -1 }, { .fd = -1 } };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int64_t deadline, exited_at = 0;
	bool exited = false, killed = false, have_fa = false, have_attr = false;
	char **env = NULL;
	pid_t pid = -1;
	int st = 0, r;

	memset(ret, 0, sizeof(*ret));
	cap[0].buf = malloc(RUN_CAPTURE_MAX + 1);
	cap[1].buf = malloc(RUN_CAPTURE_MAX + 1);
	env = child_env();
	if (!cap[0].buf || !cap[1].buf || !env) {
		r = -ENOMEM;
		goto fail;
	}
	if (pipe2(po, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(pe, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}
	/* The child's ends block, as programs expect. */
	fcntl(po[1], F_SETFL, 0);
	fcntl(pe[1], F_SETFL, 0);

	if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
		r = -r;
		goto fail;
	}
	have_fa = true;
	if ((r = posix_spawnattr_init(&attr)) != 0) {
		r = -r;
		goto fail;
	}
	have_attr = true;
	r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	/* Whatever the caller holds (the daemon child's connection) stays here. */
	if (!r)
		r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigemptyset(&none);
	sigfillset(&all);
	if (!r)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(&attr, &all);
	if (!r)
		r = posix_spawnattr_setpgroup(&attr, 0);
	if (!r)
		r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					     POSIX_SPAWN_SETPGROUP);
	if (r) {
		r = -r;
		goto fail;
	}
	r = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, env);
	if (r) {
		pid = -1;
		r = -r;
		goto fail;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	cap[0].fd = po[0];
	cap[1].fd = pe[0];
	po[0] = pe[0] = -1;

	deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		struct pollfd pfd[2];
		int64_t now = now_ms(), wait_ms;
		nfds_t n = 0;

		if (!exited) {
			pid_t w = waitpid(pid, &st, WNOHANG);

			if (w == pid) {
				exited = true;
				exited_at = now;
			}
		}
		if (exited && (cap[0].fd < 0 && cap[1].fd < 0))
			break;
		if (exited && now - exited_at >= RUN_LINGER_MS)
			break;
		if (!exited && now >= deadline) {
			if (killed)
				break;	/* not even SIGKILL: give up waiting */
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = ret->timed_out = true;
			deadline = now + RUN_KILL_GRACE_MS;
		}
		wait_ms = exited ? RUN_LINGER_MS - (now - exited_at) : deadline - now;
		if (wait_ms > 50)
			wait_ms = 50;	/* the exit itself is noticed by polling waitpid */
		if (wait_ms < 1)
			wait_ms = 1;
		for (int i = 0; i < 2; i++)
			if (cap[i].fd >= 0)
				pfd[n++] = (struct pollfd){ .fd = cap[i].fd, .events = POLLIN };
		if (n == 0) {
			/* both pipes at EOF: the exit is a moment away */
			struct timespec ts = { .tv_nsec = (wait_ms < 5 ? wait_ms : 5) * 1000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(pfd, n, (int)wait_ms) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		for (int i = 0; i < 2; i++)
			if (cap[i].fd >= 0)
				capture_read(&cap[i]);
	}
	if (!exited) {
		/* The kill's grace ran out: reap it when it finally goes. */
		kill(-pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++) {
		if (cap[i].fd >= 0)
			capture_read(&cap[i]);
		if (cap[i].fd >= 0)
			close(cap[i].fd);
		cap[i].buf[cap[i].len] = '\0';
	}
	ret->out = cap[0].buf;
	ret->out_len = strlen(cap[0].buf);
	ret->out_truncated = cap[0].truncated;
	ret->err = cap[1].buf;
	ret->err_len = strlen(cap[1].buf);
	ret->err_truncated = cap[1].truncated;
	if (WIFEXITED(st)) {
		ret->status = WEXITSTATUS(st);
	} else {
		ret->status = -1;
		ret->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(env);
	return 0;

fail:
	for (int i = 0; i < 2; i++) {
		free(cap[i].buf);
		if (cap[i].fd >= 0)
			close(cap[i].fd);
	}
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (have_fa)
		posix_spawn_file_actions_destroy(&fa);
	if (have_attr)
		posix_spawnattr_destroy(&attr);
	free(env);
	return r;
}

void run_result_clear(struct run_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

const char *run_first_line(const struct run_result *r, char *buf, size_t len)
{
	const char *s = r->err && r->err[strspn(r->err, " \t\r\n")] ? r->err : r->out ? r->out : "";
	size_t n;

	s += strspn(s, " \t\r\n");
	n = strcspn(s, "\r\n");
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!len)
		return buf;
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}
