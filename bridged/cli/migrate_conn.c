/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pieces the commands that talk to another host share
 * (migrate_conn.h): signals, keys, connecting, and the handshake with the
 * old host's daemon.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bridged/cli/migrate_conn.h"
#include "common/keys.h"
#include "migrate/migrate.h"

/* The signal handler only sets the flag and shuts the socket, which wakes
 * the threads blocked on it (shutdown is async-signal-safe). */
volatile sig_atomic_t stream_cancel_flag;
volatile sig_atomic_t stream_cancel_fd = -1;

static void on_signal(int sig)
{
	(void)sig;
	stream_cancel_flag = 1;
	if (stream_cancel_fd >= 0)
		shutdown(stream_cancel_fd, SHUT_RDWR);
}

void signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* "ADDR:PORT" or "[V6]:PORT" -> host and port strings (host may be empty). */
int mig_split_addr(const char *s, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - s);
	}
	if (n >= hlen || strlen(colon + 1) >= plen || !colon[1])
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

void mig_tune_socket(int fd)
{
	int one = 1, idle = 30, intvl = 10, cnt = 6;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	/* Block headers are small frames between large ones: no Nagle delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

int mig_connect(const char *role, const char *addr, int timeout_s, const volatile sig_atomic_t *cancel)
{
	char host[256], port[32];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	time_t deadline = time(NULL) + timeout_s;
	int fd = -1, e;

	if (mig_split_addr(addr, host, sizeof(host), port, sizeof(port)) < 0 || !host[0]) {
		fprintf(stderr, "%s: bad address '%s' (ADDR:PORT)\n", role, addr);
		return -EINVAL;
	}
	e = getaddrinfo(host, port, &hints, &res);
	if (e) {
		fprintf(stderr, "%s: %s: %s\n", role, addr, gai_strerror(e));
		return -EHOSTUNREACH;
	}
	/* Bounded retries: the receiver may not listen yet. */
	for (;;) {
		for (ai = res; ai; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0)
				continue;
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			e = errno;
			close(fd);
			fd = -1;
			errno = e;
		}
		if (fd >= 0 || (cancel && *cancel) || time(NULL) >= deadline)
			break;
		usleep(50 * 1000);
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "%s: connect to %s: %s\n", role, addr, strerror(errno));
		return -ECONNREFUSED;
	}
	mig_tune_socket(fd);
	return fd;
}

int mig_load_keys(struct mig_keys *c, const char *role)
{
	int r;

	if (c->plain)
		return 0;
	if (!c->peer_key) {
		fprintf(stderr, "%s: --peer-key BASE64 is required (or --plain on a trusted LAN)\n", role);
		return -EINVAL;
	}
	if (key_from_base64(c->peer_key, c->peer[0]) < 0) {
		fprintf(stderr, "%s: --peer-key: not a base64 X25519 public key\n", role);
		return -EINVAL;
	}
	c->priv = sodium_malloc(KEY_LEN);
	if (!c->priv)
		return -ENOMEM;
	r = key_load_private_file(c->key_file, c->priv);
	if (r < 0) {
		fprintf(stderr, "%s: --key %s: %s\n", role, c->key_file,
			r == -EPERM ? "readable by group or others, refusing" :
			r == -EINVAL ? "not a private key" : strerror(-r));
		return r;
	}
	return 0;
}


void mig_keys_free(struct mig_keys *k)
{
	if (k->priv)
		sodium_free(k->priv);
	k->priv = NULL;
}

int mig_daemon_auth(const struct mig_keys *k, int fd, const char *addr, struct stream_chan **ret_ch,
		    char *why, size_t whylen)
{
	struct stream_auth auth = { 0 };
	char err[256] = "";
	int r;

	auth.local_priv = k->priv;
	auth.peers = (const uint8_t (*)[KEY_LEN])k->peer;
	auth.n_peers = 1;
	r = stream_handshake(fd, STREAM_INITIATOR, &auth, MIG_HANDSHAKE_TIMEOUT_MS, ret_ch, NULL, err,
			     sizeof(err));
	if (r == 0)
		return 0;
	/* The daemon closes the connection on a key it does not know. */
	if (r == -EACCES || r == -EPROTO || r == -ECONNRESET) {
		snprintf(why, whylen, "%s: not authenticated: %s (is our --key the PublicKey of a [Peer] "
			 "there?)", addr, err[0] ? err : strerror(-r));
		return -EACCES;
	}
	snprintf(why, whylen, "%s: %s", addr, err[0] ? err : strerror(-r));
	return r;
}
