/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * notify-listen: the service manager's end of systemd's notify protocol,
 * for tests on machines without systemd as PID 1. Binds a datagram socket
 * at SOCKET (NOTIFY_SOCKET for the daemon), prints each message as one
 * line "<ms since start> <sender pid> <fields, blank-separated>", and
 * exits after SECONDS or after STOPPING=1.
 *   notify-listen SOCKET SECONDS [READY-HOOK]
 * READY-HOOK: on every message with READY=1 the sender is stopped
 * (SIGSTOP, so nothing it does after READY=1 can happen meanwhile), the
 * hook runs (sh -c), "hook rc=N" is printed, and the sender continues.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long t0, end;
	int fd, one = 1;

	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify-listen SOCKET SECONDS [READY-HOOK]\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		perror("socket");
		return 1;
	}
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "bind %s: %s\n", sa.sun_path, strerror(errno));
		return 1;
	}
	/* like systemd's /run/systemd/notify: a daemon that dropped its
	 * privileges still reports (docs/SECURITY.md) */
	chmod(sa.sun_path, 0777);
	t0 = ms_now();
	end = t0 + atoi(argv[2]) * 1000LL;
	printf("%lld 0 LISTENING\n", 0LL);
	fflush(stdout);
	for (;;) {
		char buf[4096], cbuf[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = end - ms_now();
		pid_t pid = 0;
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = recvmsg(fd, &mh, 0);
		if (n < 0)
			continue;
		buf[n] = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred uc;

				memcpy(&uc, CMSG_DATA(c), sizeof(uc));
				pid = uc.pid;
			}
		if (argc == 4 && pid > 0 && (strstr(buf, "READY=1\n") == buf || strstr(buf, "\nREADY=1") ||
					     !strcmp(buf, "READY=1")))
			kill(pid, SIGSTOP);
		else
			pid = -pid;
		for (char *p = buf; *p; p++)
			if (*p == '\n')
				*p = ' ';
		printf("%lld %d %s\n", ms_now() - t0, pid < 0 ? -pid : pid, buf);
		fflush(stdout);
		if (pid > 0) {
			int rc = system(argv[3]);

			printf("%lld %d hook rc=%d\n", ms_now() - t0, pid, WIFEXITED(rc) ? WEXITSTATUS(rc) : 255);
			fflush(stdout);
			kill(pid, SIGCONT);
		}
		if (strstr(buf, "STOPPING=1"))
			break;
	}
	close(fd);
	unlink(sa.sun_path);
	return 0;
}
