/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Metrics in the Prometheus text format: on an optional HTTP listener
 * (MetricsListen, off by default; a port alone is 127.0.0.1, any other
 * address is an explicit choice and logged as such; any request gets the
 * page) and/or written to a
 * textfile-collector file (MetricsFile; replaced atomically every second).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridged/daemon.h"
#include "bridged/priv.h"
#include "common/log.h"
#include "tunnel/tunnel.h"

static void metrics_render(struct daemon *d, FILE *f)
{
	uint64_t now = now_ns();

	fprintf(f, "# HELP bridged_up 1 while the daemon runs.\n# TYPE bridged_up gauge\nbridged_up 1\n");
	fprintf(f, "# TYPE bridged_mac_moves_total counter\nbridged_mac_moves_total %llu\n",
		(unsigned long long)d->counters[CNT_MAC_MOVES]);
	fprintf(f, "# TYPE bridged_mac_flaps_total counter\nbridged_mac_flaps_total %llu\n",
		(unsigned long long)d->counters[CNT_MAC_FLAPS]);
	fprintf(f, "# TYPE bridged_loops_blocked_total counter\nbridged_loops_blocked_total %llu\n",
		(unsigned long long)d->counters[CNT_LOOPS]);
	fprintf(f, "# HELP bridged_control_refused_total Control socket clients refused (neither root nor ControlGroup).\n"
		   "# TYPE bridged_control_refused_total counter\nbridged_control_refused_total %llu\n",
		(unsigned long long)d->counters[CNT_CTL_REFUSED]);
	fprintf(f, "# HELP bridged_peer_health 1 for the peer's current health state.\n"
		   "# TYPE bridged_peer_health gauge\n");
	for (struct dpeer *p = d->peers; p; p = p->next)
		for (int s = 0; s < _HEALTH_STATE_MAX; s++)
			fprintf(f, "bridged_peer_health{peer=\"%s\",state=\"%s\"} %d\n", p->cfg.name,
				health_state_to_string(s), p->health == (enum health_state)s);
	fprintf(f, "# TYPE bridged_peer_rx_frames_total counter\n# TYPE bridged_peer_tx_frames_total counter\n"
		   "# TYPE bridged_peer_rx_bytes_total counter\n# TYPE bridged_peer_tx_bytes_total counter\n"
		   "# TYPE bridged_peer_rtt_seconds gauge\n# TYPE bridged_peer_loss_ratio gauge\n"
		   "# TYPE bridged_peer_last_rx_age_seconds gauge\n# TYPE bridged_peer_drops_total counter\n");
	for (struct dpeer *p = d->peers; p; p = p->next) {
		struct tunnel_peer_stats st;
		double loss;

		if (!p->tp)
			continue;
		tunnel_peer_get_stats(p->tp, &st);
		fprintf(f, "bridged_peer_rx_frames_total{peer=\"%s\"} %llu\n", p->cfg.name, (unsigned long long)st.rx_frames);
		fprintf(f, "bridged_peer_tx_frames_total{peer=\"%s\"} %llu\n", p->cfg.name, (unsigned long long)st.tx_frames);
		fprintf(f, "bridged_peer_rx_bytes_total{peer=\"%s\"} %llu\n", p->cfg.name, (unsigned long long)st.rx_bytes);
		fprintf(f, "bridged_peer_tx_bytes_total{peer=\"%s\"} %llu\n", p->cfg.name, (unsigned long long)st.tx_bytes);
		if (p->rtt.count) {
			fprintf(f, "bridged_peer_rtt_seconds{peer=\"%s\",stat=\"last\"} %.6f\n", p->cfg.name, p->rtt.last / 1e9);
			fprintf(f, "bridged_peer_rtt_seconds{peer=\"%s\",stat=\"avg\"} %.6f\n", p->cfg.name, p->rtt.mean / 1e9);
			fprintf(f, "bridged_peer_rtt_seconds{peer=\"%s\",stat=\"p99\"} %.6f\n", p->cfg.name,
				health_rtt_p99(&p->rtt) / 1e9);
			fprintf(f, "bridged_peer_rtt_seconds{peer=\"%s\",stat=\"jitter\"} %.6f\n", p->cfg.name, p->rtt.jitter / 1e9);
		}
		loss = health_loss_pct(&p->loss, now, 10000000000ull);
		if (loss >= 0)
			fprintf(f, "bridged_peer_loss_ratio{peer=\"%s\"} %.4f\n", p->cfg.name, loss / 100);
		if (st.last_rx_ns)
			fprintf(f, "bridged_peer_last_rx_age_seconds{peer=\"%s\"} %.3f\n", p->cfg.name,
				(double)(now - st.last_rx_ns) / 1e9);
		for (int k = 0; k < _TUNNEL_DROP_MAX; k++)
			fprintf(f, "bridged_peer_drops_total{peer=\"%s\",reason=\"%s\"} %llu\n", p->cfg.name,
				tunnel_drop_to_string(k), (unsigned long long)st.drops[k]);
		for (size_t i = 0; i < p->n_taps; i++) {
			uint64_t td[_TAP_DROP_MAX];

			tap_port_drops(&p->taps[i], td);
			for (int k = 0; k < _TAP_DROP_MAX; k++)
				fprintf(f, "bridged_peer_drops_total{peer=\"%s\",port=\"%s\",reason=\"%s\"} %llu\n",
					p->cfg.name, p->taps[i].name, tap_drop_names[k],
					(unsigned long long)td[k]);
		}
	}
	fprintf(f, "# HELP bridged_port_guard 1 for the tunnel port's loop-guard state.\n"
		   "# TYPE bridged_port_guard gauge\n");
	for (struct dpeer *p = d->peers; p; p = p->next)
		for (size_t i = 0; i < p->n_taps; i++)
			for (int s = 0; s < _GUARD_STATE_MAX; s++)
				fprintf(f, "bridged_port_guard{peer=\"%s\",segment=\"%s\",port=\"%s\",state=\"%s\"} %d\n",
					p->cfg.name, p->cfg.segments[i], p->taps[i].name,
					guard_state_to_string(s), p->taps[i].guard == (enum guard_state)s);
}

void metrics_write_file(struct daemon *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return;
	metrics_render(d, f);
	if (fclose(f) != 0) {
		free(text);
		return;
	}
	/* written by the privileged helper when this process dropped its rights */
	r = priv_write_file(d, PRIV_FILE_METRICS, text, len);
	if (r < 0)
		log_debug("metrics: %s: %s", d->cfg->node.metrics_file, strerror(-r));
	free(text);
}

/* The whole HTTP response (malloc'd) for any request. */
static char *metrics_http_response(struct daemon *d, size_t *ret_len)
{
	char *body = NULL, *out = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&body, &blen);
	int n;

	if (!f)
		return NULL;
	metrics_render(d, f);
	if (fclose(f) != 0) {
		free(body);
		return NULL;
	}
	n = asprintf(&out, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", blen, body);
	free(body);
	if (n < 0)
		return NULL;
	*ret_len = (size_t)n;
	return out;
}

/* An HTTP request head ends with an empty line (or fills the buffer). */
static bool http_complete(const char *buf, size_t len)
{
	return strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n") || len >= CONN_REQUEST_MAX - 1;
}

static char *http_answer(struct conn_server *srv, struct conn *c, char *req, size_t *ret_len)
{
	return metrics_http_response(srv->ctx, ret_len);
}

static const struct conn_handler metrics_handler = {
	.name = "metrics listener",
	.complete = http_complete,
	.answer = http_answer,
};

/* MetricsFile: rewritten every second ([Node] changes only at restart). */
static void metrics_timer_cb(struct loop_timer *t, uint64_t now)
{
	struct daemon *d = container_of(t, struct daemon, metrics_timer);

	metrics_write_file(d);
	loop_timer_arm(d->loop, t, now + 1000000000ull);
}

int metrics_open(struct daemon *d)
{
	int fd, one = 1;

	d->metrics_srv.src.fd = -1;
	loop_timer_init(&d->metrics_timer, metrics_timer_cb);
	if (d->cfg->node.metrics_file[0])
		loop_timer_arm(d->loop, &d->metrics_timer, now_ns());
	if (!d->cfg->node.has_metrics_listen)
		return 0;
	fd = socket(d->cfg->node.metrics_listen.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&d->cfg->node.metrics_listen, d->cfg->node.metrics_listen_len) < 0 ||
	    listen(fd, 8) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!sockaddr_is_loopback(&d->cfg->node.metrics_listen)) {
		char addr[80];

		log_warnx("metrics: MetricsListen = %s is not a loopback address: whoever reaches it "
			  "reads the metrics (peer names, traffic counters)",
			  sockaddr_to_string(&d->cfg->node.metrics_listen, addr, sizeof(addr)));
	}
	return conn_server_open(&d->metrics_srv, d->loop, fd, &metrics_handler, d);
}

void metrics_close(struct daemon *d)
{
	loop_timer_disarm(d->loop, &d->metrics_timer);
	conn_server_close(&d->metrics_srv);
}
