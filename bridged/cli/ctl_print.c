/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The readers of the daemon's answers (ctl_print.h). */
#include <string.h>
#include <time.h>

#include "bridged/cli/ctl_client.h"
#include "bridged/cli/ctl_print.h"

#define js ctl_js
#define jget ctl_jget

/* An array's length, 0 for anything else (json-c asserts on a non-array:
 * found by fuzz_cli, a damaged answer aborted bridgectl). */
static size_t alen(json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

const char *ctl_js(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

json_object *ctl_jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static void human_bytes(int64_t b, char *out, size_t len)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, len, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

void ctl_print_status(FILE *f, json_object *st)
{
	json_object *node = jget(st, "node"), *segs = jget(st, "segments"), *peers = jget(st, "peers");

	fprintf(f, "node\n  public key:  %s\n  listening:   %s\n  config:      %s (pid %s)\n",
	       js(node, "public_key"), js(node, "listen"), js(node, "config"), js(node, "pid"));
	if (jget(node, "offloads")) {
		json_object *of = jget(node, "offloads"), *qs = jget(node, "queues");

		fprintf(f, "  offloads:    %s (UDP_SEGMENT %s, UDP_GRO %s, USO %s)\n", js(of, "mode"),
		       json_object_get_boolean(jget(of, "udp_segment")) ? "on" : "off",
		       json_object_get_boolean(jget(of, "udp_gro")) ? "on" : "off",
		       json_object_get_boolean(jget(of, "uso")) ? "on" : "off");
		if (jget(node, "steering"))
			fprintf(f, "  workers:     %s%s\n", js(node, "workers"),
				!strcmp(js(node, "steering"), "cpu") ? ", steering by CPU (worker i on CPU i)" :
				!strcmp(js(node, "steering"), "hash") ? ", steering by hash" : " (the main loop)");
		for (size_t i = 0; i < alen(qs); i++) {
			json_object *q = json_object_array_get_idx(qs, i);
			char lbl[48];

			if (jget(q, "cpu"))
				snprintf(lbl, sizeof(lbl), "queue %zu (CPU %s):", i, js(q, "cpu"));
			else
				snprintf(lbl, sizeof(lbl), "queue %zu:", i);
			fprintf(f, "  %-13s tap %s frames in %s reads (%s super-frames; reader %s, %s reads in"
			       " %s io_uring calls), %s writes (%s super-frames,"
			       " %s of them coalesced from %s frames);"
			       " udp %.1f datagrams per send call, %.1f per message, %.1f per receive call; %s drops\n", lbl,
			       js(q, "tap_frames"), js(q, "tap_reads"), js(q, "tap_superframes"),
			       jget(q, "tap_reader") ? js(q, "tap_reader") : "read",
			       jget(q, "tap_ring_reads") ? js(q, "tap_ring_reads") : "0",
			       jget(q, "tap_ring_calls") ? js(q, "tap_ring_calls") : "0", js(q, "tap_writes"),
			       js(q, "tap_written_superframes"), js(q, "gro_superframes"), js(q, "gro_frames"),
			       json_object_get_double(jget(q, "datagrams_per_send")),
			       json_object_get_double(jget(q, "datagrams_per_message")),
			       json_object_get_double(jget(q, "datagrams_per_recv")),
			       jget(q, "drops") ? js(q, "drops") : "0");
		}
	}
	fprintf(f, "\nsegments\n");
	for (size_t i = 0; i < alen(segs); i++) {
		json_object *s = json_object_array_get_idx(segs, i), *ports = jget(s, "ports");

		fprintf(f, "  %-12s bridge %-12s %s, stp %s, forward delay %s\n", js(s, "segment"),
		       js(s, "bridge"), json_object_get_boolean(jget(s, "up")) ? "up" :
		       json_object_get_boolean(jget(s, "present")) ? "DOWN" : "MISSING",
		       json_object_get_boolean(jget(s, "stp")) ? "on" : "off", js(s, "forward_delay"));
		fprintf(f, "               ports:");
		for (size_t k = 0; k < alen(ports); k++) {
			json_object *p = json_object_array_get_idx(ports, k);

			fprintf(f, " %s(%s)", js(p, "name"), js(p, "state"));
		}
		fprintf(f, "\n");
	}
	fprintf(f, "\npeers\n");
	for (size_t i = 0; i < alen(peers); i++) {
		json_object *p = json_object_array_get_idx(peers, i), *tun = jget(p, "tunnels");
		json_object *rtt = jget(p, "rtt_ms"), *drops = jget(p, "drops");
		char rx[32], tx[32];

		human_bytes(json_object_get_int64(jget(p, "rx_bytes")), rx, sizeof(rx));
		human_bytes(json_object_get_int64(jget(p, "tx_bytes")), tx, sizeof(tx));
		fprintf(f, "  %s  %s\n", js(p, "name"), js(p, "public_key"));
		fprintf(f, "    state:          %s, health %s, carrier %s (%s, %s)%s\n", js(p, "state"), js(p, "health"),
		       json_object_get_boolean(jget(p, "carrier")) ? "on" : "off", js(p, "encryption"), js(p, "cipher"),
		       json_object_get_boolean(jget(p, "idle")) ? ", idle" : "");
		if (jget(p, "refused"))
			fprintf(f, "    REFUSED:        %s\n", js(p, "refused"));
		if (jget(p, "loss_pct"))
			fprintf(f, "    loss:           %.2f %% (10 s window)\n", json_object_get_double(jget(p, "loss_pct")));
		fprintf(f, "    endpoint:       %s\n", js(p, "endpoint"));
		if (jget(p, "last_handshake_ago_s"))
			fprintf(f, "    last handshake: %.1f s ago\n",
			       json_object_get_double(jget(p, "last_handshake_ago_s")));
		else
			fprintf(f, "    last handshake: never\n");
		if (rtt)
			fprintf(f, "    rtt:            %.3f ms (min %.3f, avg %.3f, max %.3f, p99 %.3f, jitter %.3f)\n",
			       json_object_get_double(jget(rtt, "last")), json_object_get_double(jget(rtt, "min")),
			       json_object_get_double(jget(rtt, "avg")), json_object_get_double(jget(rtt, "max")),
			       json_object_get_double(jget(rtt, "p99")), json_object_get_double(jget(rtt, "jitter")));
		fprintf(f, "    transfer:       rx %s frames (%s), tx %s frames (%s)\n",
		       js(p, "rx_frames"), rx, js(p, "tx_frames"), tx);
		if (!json_object_get_boolean(jget(p, "gso")))
			fprintf(f, "    super-frames:   no (frames go whole, checksummed here)\n");
		else if (json_object_get_int64(jget(p, "tx_split_superframes")))
			fprintf(f, "    super-frames:   yes (both ends take GSO frames); %s sent as %s segments\n",
			       js(p, "tx_split_superframes"), js(p, "tx_split_segments"));
		else
			fprintf(f, "    super-frames:   yes (both ends take GSO frames)\n");
		fprintf(f, "    drops:         ");
		{
			int any = 0;

			/* (found by fuzz_cli: no "drops" object crashed the foreach) */
			if (json_object_is_type(drops, json_type_object)) {
				json_object_object_foreach(drops, k, v) {
					if (json_object_get_int64(v)) {
						fprintf(f, " %s %lld", k, (long long)json_object_get_int64(v));
						any = 1;
					}
				}
			}
			fprintf(f, "%s\n", any ? "" : " none");
		}
		for (size_t k = 0; k < alen(tun); k++) {
			json_object *t = json_object_array_get_idx(tun, k);

			fprintf(f, "    segment %-10s tap %-15s in %-12s port %s, guard %s", js(t, "segment"),
			       js(t, "tap"), js(t, "bridge"), js(t, "port_state"), js(t, "guard"));
			if (json_object_get_boolean(jget(t, "retrying")))
				fprintf(f, " (retrying a block)");
			if (jget(t, "retry_in_s"))
				fprintf(f, " (loop, blocked by %s; retry in %.1f s)", js(t, "blocked_by"),
				       json_object_get_double(jget(t, "retry_in_s")));
			if (jget(t, "peer_end"))
				fprintf(f, ", far end %s", js(t, "peer_end"));
			fprintf(f, "\n");
			if (jget(t, "offload"))
				fprintf(f, "      offloads %s; super-frames read %s, written %s\n",
				       js(jget(t, "offload"), "tap"), js(jget(t, "offload"), "superframes_read"),
				       js(jget(t, "offload"), "superframes_written"));
		}
	}
}

void ctl_print_event(FILE *f, json_object *e)
{
	double t = json_object_get_double(jget(e, "time"));
	time_t secs;
	struct tm tm;
	char ts[32] = "--:--:--";
	const char *type = js(e, "type");

	if (!json_object_is_type(e, json_type_object))
		return;         /* (found by fuzz_cli: foreach on a non-object crashed) */
	if (!(t >= 0 && t < 1e11))
		t = 0;          /* (a time no time_t holds: the cast was undefined) */
	secs = (time_t)t;
	if (localtime_r(&secs, &tm))
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(f, "%s.%03d %-18s", ts, (int)((t - (double)secs) * 1000), type);
	json_object_object_foreach(e, k, v) {
		if (!strcmp(k, "time") || !strcmp(k, "type"))
			continue;
		fprintf(f, " %s=%s", k, v ? json_object_get_string(v) : "null");
	}
	fprintf(f, "\n");
}

static void print_age(FILE *f, json_object *age)
{
	double s = json_object_get_int64(age) / 1e3;

	if (!age)
		fprintf(f, "-");
	else if (s < 100)
		fprintf(f, "%.1f s", s);
	else
		fprintf(f, "%.0f s", s);
}

void ctl_print_fdb(FILE *f, json_object *ans)
{
	json_object *entries = jget(ans, "entries"), *missing = jget(ans, "missing");
	size_t n = alen(entries);

	if (n)
		fprintf(f, "%-17s  %-12s %-15s %-15s %-20s %-5s %s\n", "MAC", "SEGMENT", "BRIDGE", "PORT",
		       "KIND", "VLAN", "AGE");
	else if (!missing)
		fprintf(f, "no learned MACs\n");
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(entries, i);
		char kind[64];

		if (!strcmp(js(e, "kind"), "tunnel"))
			snprintf(kind, sizeof(kind), "tunnel %s", js(e, "peer"));
		else
			snprintf(kind, sizeof(kind), "%s", js(e, "kind"));
		fprintf(f, "%-17s  %-12s %-15s %-15s %-20s %-5s ", js(e, "mac"), js(e, "segment"),
		       js(e, "bridge"), js(e, "port"), kind, js(e, "vlan"));
		print_age(f, jget(e, "age_ms"));
		fprintf(f, "\n");
	}
	for (size_t i = 0; i < alen(missing); i++)
		fprintf(f, "%-17s  not seen\n", json_object_get_string(json_object_array_get_idx(missing, i)));
	if (json_object_get_boolean(jget(ans, "truncated")))
		fprintf(f, "(more entries left out: ask for MACs or a segment)\n");
}


bool ctl_events_feed(struct ctl_events *ev, size_t n)
{
	char *line = ev->buf, *nl, *end;

	ev->have += n;
	ev->buf[ev->have] = '\0';
	end = ev->buf + ev->have;
	while ((nl = memchr(line, '\n', (size_t)(end - line))) && (ev->count < 0 || ev->seen < ev->count)) {
		json_object *e;

		*nl = '\0';
		if (ev->seen == 0 && ctl_refused(ev->sock, line)) {
			ev->refused = true;
			return false;
		}
		e = json_tokener_parse(line);
		/* the daemon's hello says the subscription is live: a script
		 * that starts the stream in the background waits for it
		 * before it makes what it watches happen (not an event) */
		if (e && json_object_is_type(e, json_type_object)) {
			bool hello = !strcmp(js(e, "type"), "hello");

			if (ev->json)
				fprintf(ev->out, "%s\n", line);
			else if (!hello)
				ctl_print_event(ev->out, e);
			if (!hello)
				ev->seen++;
		}
		json_object_put(e);
		line = nl + 1;
	}
	ev->have -= (size_t)(line - ev->buf);
	memmove(ev->buf, line, ev->have);
	if (ev->have >= sizeof(ev->buf) - 1)
		ev->have = 0;           /* a line longer than the buffer: dropped */
	return ev->count < 0 || ev->seen < ev->count;
}
