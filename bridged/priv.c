/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Privilege separation: the root helper and the drop (bridged/priv.h,
 * docs/SECURITY.md).
 *
 * The helper is forked before setup, so it never holds the private key, a
 * TAP, the tunnel socket or a session. It keeps stdio and one end of a
 * SOCK_SEQPACKET socketpair, and answers a fixed set of requests, each one
 * fixed-size message (and at most one descriptor) each way. It takes no
 * path and no program from the other side: the paths are those of its own
 * start-up configuration. It stops when the daemon's end closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cap-ng.h>

#include "bridged/daemon.h"
#include "bridged/priv.h"
#include "bridged/sandbox.h"
#include "common/fileio.h"
#include "common/log.h"

enum priv_op {
	PRIV_OP_OPEN_CONFIG = 1,
	PRIV_OP_WRITE_FILE,     /* arg: enum priv_file; fd: a memfd with the data */
	PRIV_OP_UNLINK_CTL,
	PRIV_OP_MIGRATE_CHANNEL,
};

struct priv_msg {
	uint32_t op;            /* request: enum priv_op; reply: echoed */
	int32_t arg;            /* request: argument; reply: 0 or -errno */
};

/* A file the daemon writes through the helper is at most this large. */
#define PRIV_FILE_MAX (64u << 20)

static struct {
	int fd;                 /* the daemon's end, -1: not separated */
	bool drop;              /* priv_start decided to drop */
	uid_t uid;
	gid_t gid;
	char user[64];
} priv = { .fd = -1 };

bool priv_separated(void)
{
	return priv.fd >= 0;
}

/* ---- messages with a descriptor ------------------------------------------ */

int priv_send(int sock, const void *buf, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

int priv_recv(int sock, void *buf, size_t len, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (n != (ssize_t)len || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EBADMSG;
	}
	return 1;
}

/* One request, one reply: the reply's status, *ret_fd its descriptor. */
static int call(enum priv_op op, int arg, int fd, int *ret_fd)
{
	struct priv_msg m = { .op = op, .arg = arg };
	int r, got = -1;

	r = priv_send(priv.fd, &m, sizeof(m), fd);
	if (r < 0)
		fatalx("privileged helper: request %u: %s", op, strerror(-r));
	r = priv_recv(priv.fd, &m, sizeof(m), &got);
	if (r <= 0 || m.op != op)
		fatalx("privileged helper: %s", r < 0 ? strerror(-r) : "gone or out of step");
	if (ret_fd)
		*ret_fd = got;
	else if (got >= 0)
		close(got);
	return m.arg;
}

/* ---- the work, in the helper or in a daemon that stays root -------------- */

static int write_metrics(const char *path, const void *data, size_t len)
{
	char tmp[CONFIG_PATH_MAX + 8];
	int fd, r;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0)
		return -errno;
	r = file_write_all(fd, data, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	return r;
}

static int write_local(const struct node_cfg *n, enum priv_file which, const void *data, size_t len)
{
	switch (which) {
	case PRIV_FILE_STATE:
		return n->state_file[0] == '/' ? file_write_atomic(n->state_file, data, len, true) : -EINVAL;
	case PRIV_FILE_METRICS:
		return n->metrics_file[0] ? write_metrics(n->metrics_file, data, len) : -EINVAL;
	default:
		return -EINVAL;
	}
}

static int open_config(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? -errno : fd;
}

/* ---- the helper ------------------------------------------------------------ */

static int helper_write(const struct node_cfg *n, int which, int fd)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int r;

	if (fd < 0 || which < 0 || which >= _PRIV_FILE_MAX)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > PRIV_FILE_MAX)
		return -EINVAL;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t k = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	r = got == (size_t)st.st_size ? write_local(n, (enum priv_file)which, buf, got) : -EIO;
	free(buf);
	return r;
}

/* A root process for one MigrateListen connection: the other end of the
 * returned channel goes to the unprivileged worker. */
static int helper_migrate_channel(const struct config *cfg, int sock, int *ret_fd)
{
	int sv[2];
	pid_t pid;

	if (!cfg->node.has_migrate_listen)
		return -EOPNOTSUPP;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		close(sock);
		close(sv[0]);
		_exit(migsrv_root_main(cfg, sv[1]));
	}
	close(sv[1]);
	*ret_fd = sv[0];
	return 0;
}

static void __attribute__((noreturn)) helper_main(struct daemon *d, int sock)
{
	const struct config *cfg = d->cfg;
	sigset_t none;

	prctl(PR_SET_NAME, "bridged-priv");
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	closelog();
	if (sock != 3) {
		if (dup2(sock, 3) < 0)
			_exit(1);
		sock = 3;
	}
	if (close_range(4, ~0U, 0) < 0)
		for (int i = 4; i < 1024; i++)
			close(i);
	fcntl(sock, F_SETFD, FD_CLOEXEC);

	for (;;) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		struct priv_msg m;
		int fd, out = -1, r;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		r = poll(&pfd, 1, 1000);
		if (r < 0 && errno != EINTR)
			_exit(1);
		if (r <= 0)
			continue;
		r = priv_recv(sock, &m, sizeof(m), &fd);
		if (r == 0)
			_exit(0);          /* the daemon is gone */
		if (r < 0) {
			log_warnx("privileged helper: %s: stopping", strerror(-r));
			_exit(1);
		}
		switch (m.op) {
		case PRIV_OP_OPEN_CONFIG:
			r = open_config(d->config_path);
			if (r >= 0) {
				out = r;
				r = 0;
			}
			break;
		case PRIV_OP_WRITE_FILE:
			r = helper_write(&cfg->node, m.arg, fd);
			break;
		case PRIV_OP_UNLINK_CTL:
			r = unlink(cfg->node.control_socket) < 0 ? -errno : 0;
			break;
		case PRIV_OP_MIGRATE_CHANNEL:
			r = helper_migrate_channel(cfg, sock, &out);
			break;
		default:
			log_warnx("privileged helper: unknown request %u: stopping", m.op);
			_exit(1);
		}
		if (fd >= 0)
			close(fd);
		m.arg = r;
		r = priv_send(sock, &m, sizeof(m), out);
		if (out >= 0)
			close(out);
		if (r < 0)
			_exit(1);
	}
}

/* ---- the daemon's side ------------------------------------------------------ */

void priv_start(struct daemon *d)
{
	const char *want = d->cfg->node.user;
	struct passwd *pw;
	int sv[2];
	pid_t pid;

	if (!strcmp(want, "root")) {
		log_warnx("User = root: the daemon keeps every privilege and parses network input as "
			  "root (docs/SECURITY.md)");
		return;
	}
	errno = 0;
	pw = getpwnam(want[0] ? want : "bridged");
	if (!pw) {
		if (want[0])
			fatalx("%s: [Node] User %s: no such user", d->config_path, want);
		log_warnx("no user \"bridged\" (the package creates it): staying root and parsing "
			  "network input as root; create it, or set [Node] User (docs/SECURITY.md)");
		return;
	}
	if (pw->pw_uid == 0)
		fatalx("%s: [Node] User %s is uid 0: say User = root to stay root", d->config_path,
		       pw->pw_name);
	if (getuid() != 0) {
		log_warnx("not started as root: no privileges to drop, no helper");
		return;
	}
	priv.uid = pw->pw_uid;
	priv.gid = pw->pw_gid;
	snprintf(priv.user, sizeof(priv.user), "%s", pw->pw_name);
	priv.drop = true;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		fatal("privileged helper: socketpair");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fatal("privileged helper: fork");
	if (pid == 0) {
		close(sv[0]);
		helper_main(d, sv[1]);
	}
	close(sv[1]);
	priv.fd = sv[0];
	log_debug("privileged helper: pid %d", (int)pid);
}

void priv_drop(struct daemon *d)
{
	int r;

	if (!priv.drop)
		return;
	capng_clear(CAPNG_SELECT_ALL);
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN);
	r = capng_change_id((int)priv.uid, (int)priv.gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (r < 0)
		fatalx("dropping privileges to %s (uid %u): capng_change_id failed (%d)", priv.user,
		       (unsigned)priv.uid, r);
	/* proof: no way back */
	if (setuid(0) == 0 || getuid() != priv.uid || geteuid() != priv.uid || getegid() != priv.gid)
		fatalx("dropping privileges to %s: still able to become root", priv.user);
	capng_get_caps_process();
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN) ||
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_DAC_OVERRIDE) ||
	    !capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN))
		fatalx("dropping privileges to %s: the capabilities are not CAP_NET_ADMIN alone",
		       priv.user);
	log_info("running as %s (uid %u, gid %u) with CAP_NET_ADMIN only; root work through the "
		 "privileged helper", priv.user, (unsigned)priv.uid, (unsigned)priv.gid);
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer's check at exit ptraces the process from a task of its
	 * own, which the kernel refuses once the uid changed (not dumpable):
	 * sanitizer builds only */
	prctl(PR_SET_DUMPABLE, 1);
#endif
	sandbox_install();
	(void)d;
}

/* A request whose answer is a descriptor: it, or -errno. */
static int call_for_fd(enum priv_op op)
{
	int fd = -1, r = call(op, 0, -1, &fd);

	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd >= 0 ? fd : -EIO;
}

int priv_open_config(struct daemon *d)
{
	if (!priv_separated())
		return open_config(d->config_path);
	return call_for_fd(PRIV_OP_OPEN_CONFIG);
}

int priv_write_file(struct daemon *d, enum priv_file which, const void *data, size_t len)
{
	int fd, r;

	if (!priv_separated())
		return write_local(&d->cfg->node, which, data, len);
	fd = memfd_create("bridged-file", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = file_write_all(fd, data, len);
	if (r == 0)
		r = call(PRIV_OP_WRITE_FILE, (int)which, fd, NULL);
	close(fd);
	return r;
}

void priv_unlink_ctl(struct daemon *d)
{
	if (!priv_separated())
		unlink(d->cfg->node.control_socket);
	else
		call(PRIV_OP_UNLINK_CTL, 0, -1, NULL);
}

int priv_migrate_channel(struct daemon *d)
{
	(void)d;
	if (!priv_separated())
		return -EOPNOTSUPP;
	return call_for_fd(PRIV_OP_MIGRATE_CHANNEL);
}

void priv_forget(void)
{
	priv.fd = -1;
}

void priv_close(void)
{
	if (priv.fd >= 0)
		close(priv.fd);
	priv.fd = -1;
}
