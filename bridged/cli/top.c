/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bridgectl top: a live view of the daemon (its `status` document, asked
 * for every second): per peer its state, health, rx/tx rates, RTT, loss
 * and drops, per tunnel its segment, TAP, port and loop-guard state. Plain
 * ANSI escapes (no curses); it fits the terminal's width and height and
 * redraws at once when the terminal is resized; q quits.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "bridged/cli/cli.h"

#define TOP_PEERS_MAX 256

static volatile sig_atomic_t top_resized, top_quit;

static void top_sig(int sig)
{
	if (sig == SIGWINCH)
		top_resized = 1;
	else
		top_quit = 1;
}

struct top_prev {
	char name[64];
	double rx, tx;
};

/* The daemon's status document, without a word on stderr (the screen is
 * ours); NULL with why in err. */
static json_object *top_fetch(const char *sock, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	json_object *o;
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long");
		return NULL;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, "status\n", 7) != 7) {
		snprintf(err, errlen, "no bridged answers on %s: %s", sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb)
				break;
			buf = nb;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	buf[len] = 0;
	o = json_tokener_parse(buf);
	free(buf);
	if (!o)
		snprintf(err, errlen, "bridged's answer is not JSON");
	return o;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static double jnum(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) || !v)
		return -1;
	return json_object_get_double(v);
}

static void human_rate(double bps, char *buf, size_t len)
{
	if (bps < 0)
		snprintf(buf, len, "-");
	else if (bps < 1e3)
		snprintf(buf, len, "%.0f B/s", bps);
	else if (bps < 1e6)
		snprintf(buf, len, "%.1f kB/s", bps / 1e3);
	else
		snprintf(buf, len, "%.1f MB/s", bps / 1e6);
}

/* One screen line, cut to the width; rows left counted down. */
static void line(int cols, int *rows, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line(int cols, int *rows, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (*rows <= 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (cols > 0 && (size_t)cols < sizeof(buf))
		buf[cols] = 0;
	fputs(buf, stdout);
	fputs("\033[K\r\n", stdout);
	(*rows)--;
}

static void top_draw(json_object *st, const char *err, struct top_prev *prev, size_t *n_prev, double dt)
{
	struct winsize ws = { 0 };
	json_object *peers = NULL, *node = NULL;
	char now[16];
	time_t t = time(NULL);
	int cols, rows;

	ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
	cols = ws.ws_col ? ws.ws_col : 80;
	rows = ws.ws_row ? ws.ws_row : 24;
	strftime(now, sizeof(now), "%H:%M:%S", localtime(&t));
	fputs("\033[H", stdout);
	line(cols, &rows, "bridgectl top  %s  %dx%d  q: quit", now, cols, rows + 0);
	if (!st) {
		line(cols, &rows, "%s", err);
		fputs("\033[J", stdout);
		fflush(stdout);
		return;
	}
	json_object_object_get_ex(st, "node", &node);
	json_object_object_get_ex(st, "peers", &peers);
	line(cols, &rows, "node %.12s...  listening %s  up %.0f s", jstr(node, "public_key"), jstr(node, "listen"),
	     jnum(node, "uptime_s"));
	line(cols, &rows, "%s", "");
	line(cols, &rows, "%-12s %-9s %-9s %11s %11s %9s %7s %7s", "PEER", "STATE", "HEALTH", "RX", "TX", "RTT ms",
	     "LOSS %", "DROPS");
	for (size_t i = 0; json_object_is_type(peers, json_type_array) && i < json_object_array_length(peers); i++) {
		json_object *p = json_object_array_get_idx(peers, i), *rtt = NULL, *drops = NULL, *tun = NULL;
		const char *name = jstr(p, "name");
		double rx = jnum(p, "rx_bytes"), tx = jnum(p, "tx_bytes"), rxr = -1, txr = -1, last = -1, loss;
		long long nd = 0;
		char rxs[24], txs[24], rtts[16], losss[16];
		size_t k;

		for (k = 0; k < *n_prev; k++)
			if (!strcmp(prev[k].name, name))
				break;
		if (k < *n_prev && dt > 0) {
			rxr = (rx - prev[k].rx) / dt;
			txr = (tx - prev[k].tx) / dt;
		}
		if (k == *n_prev && k < TOP_PEERS_MAX) {
			snprintf(prev[k].name, sizeof(prev[k].name), "%s", name);
			(*n_prev)++;
		}
		if (k < TOP_PEERS_MAX) {
			prev[k].rx = rx;
			prev[k].tx = tx;
		}
		if (json_object_object_get_ex(p, "rtt_ms", &rtt) && rtt)
			last = jnum(rtt, "last");
		if (json_object_object_get_ex(p, "drops", &drops) && json_object_is_type(drops, json_type_object)) {
			json_object_object_foreach(drops, dk, dv) {
				(void)dk;
				nd += json_object_get_int64(dv);
			}
		}
		human_rate(rxr, rxs, sizeof(rxs));
		human_rate(txr, txs, sizeof(txs));
		snprintf(rtts, sizeof(rtts), last >= 0 ? "%.3f" : "-", last);
		loss = jnum(p, "loss_pct");
		snprintf(losss, sizeof(losss), loss >= 0 ? "%.2f" : "-", loss);
		line(cols, &rows, "%-12.12s %-9.9s %-9.9s %11s %11s %9s %7s %7lld", name, jstr(p, "state"),
		     jstr(p, "health"), rxs, txs, rtts, losss, nd);
		if (json_object_object_get_ex(p, "tunnels", &tun) && json_object_is_type(tun, json_type_array))
			for (size_t j = 0; j < json_object_array_length(tun); j++) {
				json_object *tt = json_object_array_get_idx(tun, j);

				line(cols, &rows, "  segment %-10s tap %-15s port %-10s guard %-10s far end %s",
				     jstr(tt, "segment"), jstr(tt, "tap"), jstr(tt, "port_state"), jstr(tt, "guard"),
				     jstr(tt, "peer_end"));
			}
	}
	fputs("\033[J", stdout);
	fflush(stdout);
}

static const char top_help[] =
"Usage: bridgectl top\n"
"\n"
"A live view of the daemon, refreshed every second: per peer its session\n"
"state, health, receive and send rates, RTT, loss and drops; under each\n"
"peer its tunnels: segment, TAP, bridge port state and loop-guard state of\n"
"both ends. It fits the terminal and follows its size. q quits.\n"
"Needs a terminal; scripts use status --json.\n"
"\n"
"Options:\n"
"  -h, --help   this text\n"
"\n"
"Exit status: 0 after q; 1 without a terminal; 2 on a usage error.\n";

int top_main(int argc, char **argv)
{
	struct top_prev *prev;
	struct termios old, raw;
	struct sigaction sa = { .sa_handler = top_sig };
	struct timespec t0, t1;
	size_t n_prev = 0;
	double dt = 0;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(top_help, stdout);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "bridgectl top: unexpected argument '%s'\n%s", argv[1], top_help);
		return 2;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || tcgetattr(STDIN_FILENO, &old) < 0) {
		fprintf(stderr, "bridgectl top: needs a terminal (scripts: bridgectl status --json)\n");
		return 1;
	}
	prev = calloc(TOP_PEERS_MAX, sizeof(*prev));
	if (!prev)
		return 1;
	raw = old;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fputs("\033[?25l\033[2J", stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!top_quit) {
		struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
		char err[300] = "", c;
		json_object *st = top_fetch(cli_socket, err, sizeof(err));

		clock_gettime(CLOCK_MONOTONIC, &t1);
		dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		t0 = t1;
		top_draw(st, err, prev, &n_prev, dt);
		json_object_put(st);
		top_resized = 0;
		/* a second, or less when a key or a resize comes */
		while (!top_quit && !top_resized) {
			int r = poll(&pfd, 1, 1000);

			if (r < 0 && errno == EINTR)
				continue;
			if (r > 0 && read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
				top_quit = 1;
			if (r <= 0)
				break;
		}
	}
	tcsetattr(STDIN_FILENO, TCSANOW, &old);
	fputs("\033[?25h\033[2J\033[H", stdout);
	fflush(stdout);
	free(prev);
	return 0;
}
