/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bridgectl cutover VM`: moves one VM from the old host to this one, as a
 * journaled chain of the `bridgectl migrate` steps (migrate/cutover/
 * journal.h). Each step that talks to the old host, copies or defines is
 * the same command an operator can run alone: it runs as a child
 * (`bridgectl migrate ... --json`, this very program), its result read
 * from its JSON and recorded in the journal before the next step starts.
 * What only the cutover does (the refusals, the confirmation, starting the
 * domain, the proof of arrival on the bridge, autostart here) runs in
 * process. Killed at any point, the same command continues: every step is
 * idempotent, a step found "running" is run again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bridged/cli/cli.h"
#include "bridged/cli/ctl_client.h"
#include "bridged/cli/migrate_cli.h"
#include "bridged/cli/migrate_conn.h"
#include "common/escape.h"
#include "common/fileio.h"
#include "migrate/migrate.h"

#define DEFAULT_STATE_DIR "/var/lib/bridged/cutover"
#define DEFAULT_MIGRATE_PORT "5881"
#define MAX_MACS 16


/* The options a later run takes from the journal when it is not given them again. */
struct cut_opts {
	const char *from, *source, *key, *pool, *uri, *bridge_map, *disk_bus, *nic_model, *domain_type,
		*machine, *boot_dir, *console_log;
	long shutdown_timeout, arrival_timeout;
	int force;			/* -1: not given */
	char **waive;
	size_t n_waive;
};

struct cut {
	const char *vm, *state_dir;
	struct cut_opts o;
	bool yes, warm_only, dry_run, json, rollback, purge, stage2, list, tty;
	struct cutover_journal *jr;
	char dir[PATH_MAX];		/* STATE/VM.d: the config, the sources, the plan, stream maps */
	char cfg[PATH_MAX], sources[PATH_MAX], plan[PATH_MAX], stream_state[PATH_MAX];
	char peer_key[64];
	char macs[MAX_MACS][18];
	char bridges[MAX_MACS][64];	/* the bridge here each MAC is on */
	size_t n_macs;
	pid_t child;
};

static volatile sig_atomic_t stop_flag;
static volatile pid_t running_child;

static void on_signal(int sig)
{
	stop_flag = 1;
	if (running_child > 0)
		kill(running_child, sig);
}

/* snprintf where a long path may be cut short: the message stays readable. */
static void fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- output ---- */

static void emit(struct cut *c, json_object *o)
{
	if (c->json) {
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
	}
	json_object_put(o);
}

static void say(struct cut *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct cut *c, const char *fmt, ...)
{
	va_list ap;

	if (c->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void step_event(struct cut *c, enum cutover_step s, const char *status, const char *detail)
{
	json_object *o = json_object_new_object();
	double secs = cutover_jnum(cutover_step_obj(c->jr->root, s), "seconds", -1);

	json_object_object_add(o, "event", json_object_new_string("step"));
	json_object_object_add(o, "vm", json_object_new_string(c->vm));
	json_object_object_add(o, "step", json_object_new_string(cutover_step_names[s]));
	json_object_object_add(o, "number", json_object_new_int(s + 1));
	json_object_object_add(o, "status", json_object_new_string(status));
	if (strcmp(status, "running") && secs >= 0)
		json_object_object_add(o, "seconds", json_object_new_double(secs));
	json_object_object_add(o, "detail", detail ? json_object_new_string(detail) : NULL);
	emit(c, o);
	if (!strcmp(status, "running"))
		say(c, "[%2d/%d] %s%s%s\n", s + 1, CUT_STEP_MAX, cutover_step_names[s], detail ? ": " : "",
		    detail ? detail : "");
	else if (detail)
		say(c, "        %s: %s\n", status, detail);
	else if (strcmp(status, "done"))
		say(c, "        %s\n", status);
}

/* ---- the journal ---- */

static int save(struct cut *c)
{
	char err[512];

	if (cutover_journal_save(c->jr, err, sizeof(err)) < 0) {
		fprintf(stderr, "bridgectl cutover: %s\n", err);
		return -EIO;
	}
	return 0;
}

static json_object *step_obj(struct cut *c, enum cutover_step s)
{
	return cutover_step_obj(c->jr->root, s);
}

static void step_put(struct cut *c, enum cutover_step s, const char *key, json_object *v)
{
	json_object_object_add(step_obj(c, s), key, v);
}

static int step_begin(struct cut *c, enum cutover_step s, const char *detail)
{
	cutover_step_set(c->jr->root, s, CUT_RUNNING, now_real());
	step_event(c, s, "running", detail);
	return save(c);
}

static int step_done(struct cut *c, enum cutover_step s, const char *detail)
{
	cutover_step_set(c->jr->root, s, CUT_DONE, now_real());
	step_event(c, s, "done", detail);
	return save(c);
}

/* Records the failure (the step stays to be run again) and returns the exit status. */
static int step_fail(struct cut *c, enum cutover_step s, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int step_fail(struct cut *c, enum cutover_step s, int status, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cutover_step_set(c->jr->root, s, CUT_FAILED, now_real());
	if (stop_flag) {
		status = EXIT_INTERRUPTED;
	} else {
		cutover_set_state(c->jr->root, CUT_STATE_FAILED);
		json_object_object_add(c->jr->root, "failed_step", json_object_new_string(cutover_step_names[s]));
		json_object_object_add(c->jr->root, "error", json_object_new_string(msg));
	}
	step_event(c, s, stop_flag ? "interrupted" : "failed", msg);
	if (!c->json)
		fprintf(stderr, "bridgectl cutover: %s: step %d (%s) %s: %s\n", c->vm, s + 1, cutover_step_names[s],
			stop_flag ? "interrupted" : "failed", msg);
	save(c);
	return status;
}

/* ---- running a step's command ---- */

struct child_out {
	char *buf;
	size_t len, cap;
};

static void out_free(struct child_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

static int out_append(struct child_out *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 8192;
		char *nb;

		while (cap < o->len + n + 1)
			cap *= 2;
		nb = realloc(o->buf, cap);
		if (!nb)
			return -ENOMEM;
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 0;
}

/* A stream's progress line from the child: shown as the cutover's own. */
static void child_progress(struct cut *c, enum cutover_step s, const char *what, const char *line)
{
	json_object *p = json_tokener_parse(line), *o;
	const char *ev = cutover_jstr(p, "event");
	double done, len, rate, eta;

	if (!ev || strcmp(ev, "progress")) {
		json_object_put(p);
		return;
	}
	done = cutover_jnum(p, "bytes_done", 0);
	len = cutover_jnum(p, "length", 0);
	rate = cutover_jnum(p, "rate", 0);
	eta = cutover_jnum(p, "eta", -1);
	if (c->json) {
		o = json_object_new_object();
		json_object_object_add(o, "event", json_object_new_string("progress"));
		json_object_object_add(o, "step", json_object_new_string(cutover_step_names[s]));
		json_object_object_add(o, "disk", json_object_new_string(what));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)done));
		json_object_object_add(o, "length", json_object_new_int64((int64_t)len));
		json_object_object_add(o, "rate", json_object_new_double(rate));
		json_object_object_add(o, "eta", json_object_new_double(eta));
		emit(c, o);
	} else if (c->tty) {
		fprintf(stderr, "\r        %s %5.1f%%  %.0f / %.0f MiB  %.1f MiB/s  ETA %.0f s   ", what,
			len > 0 ? 100 * done / len : 100, done / 1048576, len / 1048576, rate / 1048576,
			eta < 0 ? 0 : eta);
	}
	json_object_put(p);
}

/*
 * Runs `bridgectl ARGS...` (this program) and collects its stdout; its
 * stderr is ours. The child dies with us (PR_SET_PDEATHSIG), so a kill -9
 * of the cutover leaves no copy running on. Returns its exit status, or
 * 128 + the signal that ended it, or -errno.
 */
static int run_self(struct cut *c, enum cutover_step s, const char *what, char **args, struct child_out *out)
{
	char *argv[64];
	int p[2], st, n = 0;
	pid_t pid, parent = getpid();
	char buf[65536];
	ssize_t k;
	size_t line_start = 0;

	argv[n++] = (char *)"bridgectl";
	for (int i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(4);
		dup2(p[1], STDOUT_FILENO);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "bridgectl cutover: cannot run itself: %s\n", strerror(errno));
		_exit(127);
	}
	running_child = pid;
	close(p[1]);
	for (;;) {
		k = read(p[0], buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (out_append(out, buf, (size_t)k) < 0)
			break;
		/* progress lines as they come */
		for (size_t i = line_start; i < out->len; i++)
			if (out->buf[i] == '\n') {
				out->buf[i] = '\0';
				if (out->buf[line_start] == '{' && strstr(out->buf + line_start, "\"progress\""))
					child_progress(c, s, what, out->buf + line_start);
				out->buf[i] = '\n';
				line_start = i + 1;
			}
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	running_child = 0;
	if (c->tty && !c->json && s == CUT_WARM)
		fprintf(stderr, "\r%70s\r", "");
	if (c->tty && !c->json && s == CUT_DELTA)
		fprintf(stderr, "\r%70s\r", "");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The last JSON document of a child's output (a whole document, else its last line). */
static json_object *out_json(const struct child_out *o)
{
	json_object *j;
	const char *last;
	size_t n;

	if (!o->buf)
		return NULL;
	j = json_tokener_parse(o->buf);
	if (j)
		return j;
	n = o->len;
	while (n > 0 && (o->buf[n - 1] == '\n' || o->buf[n - 1] == ' '))
		n--;
	last = o->buf;
	for (size_t i = 0; i < n; i++)
		if (o->buf[i] == '\n')
			last = o->buf + i + 1;
	return json_tokener_parse(last);
}

/* ---- the old host ---- */

/* `migrate SUB --from A --peer-key K [--key F] --vm VM` into a (the old
 * host's daemon, as `migrate source` and `migrate receive` reach it);
 * returns how many arguments it wrote (at most 10) */
static int peer_args(struct cut *c, char **a, const char *sub)
{
	int n = 0;

	a[n++] = (char *)"migrate";
	a[n++] = (char *)sub;
	a[n++] = (char *)"--from";
	a[n++] = (char *)c->o.source;
	a[n++] = (char *)"--peer-key";
	a[n++] = c->peer_key;
	if (c->o.key) {
		a[n++] = (char *)"--key";
		a[n++] = (char *)c->o.key;
	}
	a[n++] = (char *)"--vm";
	a[n++] = (char *)c->vm;
	return n;
}

/* argv for `migrate source --from A --peer-key K --key F --vm VM OP ...` */
static int source_args(struct cut *c, char **a, const char *op)
{
	int n = peer_args(c, a, "source");

	a[n++] = (char *)op;
	return n;
}

/* Runs a `migrate source` op with --json; *ret the reply. The status of the child. */
static int source_op(struct cut *c, enum cutover_step s, const char *op, const char *const *extra, json_object **ret,
		     char *why, size_t whylen)
{
	char *a[32];
	int n = source_args(c, a, op), r;
	struct child_out out = { 0 };
	json_object *j;

	for (int i = 0; extra && extra[i]; i++)
		a[n++] = (char *)extra[i];
	a[n++] = (char *)"--json";
	a[n] = NULL;
	r = run_self(c, s, op, a, &out);
	j = out_json(&out);
	if (r != 0) {
		const char *m = cutover_jstr(j, "message");

		fmt(why, whylen, "the old host (%s) %s %s%s%s", c->o.source, r == EXIT_REFUSED ? "refused" : "failed",
			 op, m ? ": " : " (its error is above)", m ? m : "");
	}
	*ret = j;
	out_free(&out);
	return r;
}

/* ---- the daemon here ---- */

static json_object *jget(json_object *o, const char *k)
{
	json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static json_object *find_peer(json_object *status, const char *name)
{
	json_object *peers = jget(status, "peers");

	for (size_t i = 0; peers && i < json_object_array_length(peers); i++) {
		json_object *p = json_object_array_get_idx(peers, i);

		if (cutover_jstr(p, "name") && !strcmp(cutover_jstr(p, "name"), name))
			return p;
	}
	return NULL;
}

/* The segment a bridge of this host carries, or NULL. */
static const char *bridge_segment(json_object *status, const char *bridge)
{
	json_object *segs = jget(status, "segments");

	for (size_t i = 0; segs && i < json_object_array_length(segs); i++) {
		json_object *s = json_object_array_get_idx(segs, i);

		if (cutover_jstr(s, "bridge") && !strcmp(cutover_jstr(s, "bridge"), bridge))
			return cutover_jstr(s, "segment");
	}
	return NULL;
}

/* The bridge here for a Xen bridge, through --bridge-map XEN=HERE,... (default: the same name). */
static void map_bridge(const char *map, const char *xen, char *out, size_t len)
{
	const char *p = map;

	fmt(out, len, "%s", xen);
	while (p && *p) {
		const char *comma = strchr(p, ','), *eq = strchr(p, '=');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (eq && eq < p + n && (size_t)(eq - p) == strlen(xen) && !strncmp(p, xen, strlen(xen))) {
			fmt(out, len, "%.*s", (int)(p + n - eq - 1), eq + 1);
			return;
		}
		p = comma ? comma + 1 : NULL;
	}
}

/*
 * Where the daemon here sees each of the VM's MACs (the `fdb` request):
 * *local counts those learned on a local port of their bridge, *tunnel
 * those on a tunnel port of the old host's peer. what: a line of what was
 * seen.
 */
static int mac_places(struct cut *c, int *local, int *tunnel, char *what, size_t wlen)
{
	char req[512] = "fdb";
	json_object *f, *entries;
	size_t off = 0;

	for (size_t m = 0; m < c->n_macs; m++)
		strcat(strcat(req, " "), c->macs[m]);	/* 16 MACs at most: 3 + 16 * 18 bytes */
	f = ctl_request_json(cli_socket, req);
	entries = jget(f, "entries");

	*local = *tunnel = 0;
	if (what && wlen)
		*what = '\0';
	if (!entries) {
		json_object_put(f);
		return -EIO;
	}
	for (size_t m = 0; m < c->n_macs; m++) {
		bool seen = false;

		for (size_t i = 0; i < json_object_array_length(entries); i++) {
			json_object *e = json_object_array_get_idx(entries, i);
			const char *mac = cutover_jstr(e, "mac"), *kind = cutover_jstr(e, "kind");
			const char *br = cutover_jstr(e, "bridge"), *peer = cutover_jstr(e, "peer");

			if (!mac || strcasecmp(mac, c->macs[m]) || !kind)
				continue;
			seen = true;
			if (!strcmp(kind, "local") && br && !strcmp(br, c->bridges[m]))
				(*local)++;
			else if (!strcmp(kind, "tunnel") && peer && !strcmp(peer, c->o.from))
				(*tunnel)++;
			if (what && off < wlen)
				off += (size_t)snprintf(what + off, wlen - off, "%s%s on %s port %s%s%s", off ? "; " : "",
							mac, kind, cutover_jstr(e, "port") ? cutover_jstr(e, "port") : "?",
							peer ? " of peer " : "", peer ? peer : "");
		}
		if (!seen && what && off < wlen)
			off += (size_t)snprintf(what + off, wlen - off, "%s%s not seen", off ? "; " : "", c->macs[m]);
	}
	json_object_put(f);
	return 0;
}

/* ---- the VM's config ---- */

static int load_vm_macs(struct cut *c, char *why, size_t whylen)
{
	struct xen_vm *vm;
	int r = migrate_load(c->cfg, &vm);

	if (r < 0) {
		fmt(why, whylen, "the Xen config from the old host (%s) does not parse (the error is above)", c->cfg);
		return r;
	}
	c->n_macs = 0;
	for (size_t i = 0; i < vm->n_vifs && c->n_macs < MAX_MACS; i++) {
		if (!vm->vifs[i].mac) {
			fmt(why, whylen, "vif %zu has no MAC: Xen makes one up at every boot; pin it in the config "
				 "on the old host (the MAC it runs with now)", i);
			xen_vm_free(vm);
			return -EINVAL;
		}
		fmt(c->macs[c->n_macs], sizeof(c->macs[0]), "%s", vm->vifs[i].mac);
		map_bridge(c->o.bridge_map, vm->vifs[i].bridge ? vm->vifs[i].bridge : "xenbr0", c->bridges[c->n_macs],
			   sizeof(c->bridges[0]));
		c->n_macs++;
	}
	xen_vm_free(vm);
	return 0;
}

static int write_file(const char *path, const char *data, size_t len, char *why, size_t whylen)
{
	int r = file_write_atomic(path, data, len, true);

	if (r < 0)
		fmt(why, whylen, "cannot write %s: %s", path, strerror(-r));
	return r;
}

/* ---- steps ---- */

/* `migrate receive --from SOURCE --peer-key K [--key F] --vm VM` into a */
static int receive_args(struct cut *c, char **a)
{
	return peer_args(c, a, "receive");
}

/* go_checks: what must hold before anything changes, checked by inspect
 * and again right before the shutdown (hours may separate a --warm-only run
 * from the final one): the tunnel to the old host up, every NIC's bridge
 * here a segment spanned by that tunnel, none of the VM's MACs live on a
 * local port here, no other domain of that name (with tunnel_only: the
 * first only). 0, or the step failed with
 * EXIT_REFUSED / EXIT_FAIL. */
static int go_checks(struct cut *c, enum cutover_step S, bool tunnel_only)
{
	json_object *status, *peer, *tunnels;
	const char *st, *hl;
	char why[2048];
	int r, local, tun;

	status = ctl_request_json(cli_socket, "status");
	if (!status)
		return step_fail(c, S, EXIT_FAIL, "the daemon here cannot be asked (%s)", cli_socket);
	peer = find_peer(status, c->o.from);
	if (!peer) {
		json_object_put(status);
		return step_fail(c, S, EXIT_REFUSED, "no peer %s in this host's bridged configuration", c->o.from);
	}
	st = cutover_jstr(peer, "state");
	hl = cutover_jstr(peer, "health");
	/* the session and the health both: a silent peer keeps its session a
	 * while (health "down"); a lossy one ("degraded") still carries */
	if (!st || strcmp(st, "up") || !hl || (strcmp(hl, "up") && strcmp(hl, "degraded"))) {
		int rr = step_fail(c, S, EXIT_REFUSED, "the tunnel to %s is not up (session %s, health %s): the VM "
				   "would come up cut off from its network", c->o.from, st ? st : "?",
				   cutover_jstr(peer, "health") ? cutover_jstr(peer, "health") : "?");

		json_object_put(status);
		return rr;
	}
	if (tunnel_only) {
		json_object_put(status);
		return 0;
	}
	tunnels = jget(peer, "tunnels");
	for (size_t m = 0; m < c->n_macs; m++) {
		const char *seg = bridge_segment(status, c->bridges[m]);
		bool spanned = false;

		if (!seg) {
			json_object_put(status);
			return step_fail(c, S, EXIT_REFUSED, "the VM's NIC %s goes to bridge %s here, which carries no "
					 "segment of bridged (give --bridge-map XEN=HERE)", c->macs[m], c->bridges[m]);
		}
		for (size_t i = 0; tunnels && i < json_object_array_length(tunnels); i++) {
			json_object *t = json_object_array_get_idx(tunnels, i);

			if (cutover_jstr(t, "segment") && !strcmp(cutover_jstr(t, "segment"), seg))
				spanned = true;
		}
		if (!spanned) {
			int rr = step_fail(c, S, EXIT_REFUSED, "segment %s (bridge %s, the VM's NIC %s) is not spanned "
					   "by a tunnel to %s: the VM would come up cut off", seg, c->bridges[m],
					   c->macs[m], c->o.from);

			json_object_put(status);
			return rr;
		}
	}
	json_object_put(status);
	/* three looks 100 ms apart: a namesake whose MAC also comes in
	 * through the tunnel (the real VM answering) moves between the two
	 * ports, and one look can fall in the tunnel's moment */
	for (int look = 0; look < 3; look++) {
		if (look)
			usleep(100000);
		if (mac_places(c, &local, &tun, why, sizeof(why)) < 0)
			return step_fail(c, S, EXIT_FAIL, "the daemon here cannot tell where the VM's MACs are (fdb)");
		if (local > 0)
			break;
	}
	if (local > 0 && cutover_step_status(c->jr->root, CUT_START) == CUT_PENDING)
		return step_fail(c, S, EXIT_REFUSED, "a MAC of %s is already live on this host (%s): the VM would "
				 "run twice", c->vm, why);
	{
		struct virt_conn *vc;
		struct virt_domain_info di;
		char err[512];

		if (virt_conn_open(c->o.uri, &vc, err, sizeof(err)) < 0)
			return step_fail(c, S, EXIT_FAIL, "%s", err);
		r = virt_domain_info(vc, c->vm, &di, err, sizeof(err));
		virt_conn_close(vc);
		if (r < 0)
			return step_fail(c, S, EXIT_FAIL, "%s", err);
		if (di.exists && cutover_step_status(c->jr->root, CUT_DEFINE) == CUT_PENDING)
			return step_fail(c, S, EXIT_REFUSED, "a domain named %s exists here already (%s, not defined by "
					 "this cutover): undefine it or move it away first", c->vm,
					 di.active ? "running" : "shut off");
	}
	return 0;
}

static int do_inspect(struct cut *c)
{
	const enum cutover_step S = CUT_INSPECT;
	json_object *j = NULL;
	char why[2048], *a[32];
	struct child_out out = { 0 };
	int r, n;

	if (step_begin(c, S, c->o.source) < 0)
		return EXIT_FAIL;
	if ((r = go_checks(c, S, true)))
		return r;
	/* the config, the state, the disks */
	n = source_args(c, a, "config");
	a[n] = NULL;
	r = run_self(c, S, "config", a, &out);
	if (r != 0) {
		out_free(&out);
		return step_fail(c, S, r == EXIT_REFUSED ? EXIT_REFUSED : EXIT_FAIL,
				 "the old host (%s) %s the config of %s%s", c->o.source,
				 r == EXIT_REFUSED ? "refused" : "could not send", c->vm,
				 r == EXIT_REFUSED ? " (is the VM known there? the reason is above)" : " (above)");
	}
	if (write_file(c->cfg, out.buf ? out.buf : "", out.len, why, sizeof(why)) < 0) {
		out_free(&out);
		return step_fail(c, S, EXIT_FAIL, "%s", why);
	}
	out_free(&out);
	if (load_vm_macs(c, why, sizeof(why)) < 0) {
		return step_fail(c, S, EXIT_REFUSED, "%s", why);
	}
	r = source_op(c, S, "state", NULL, &j, why, sizeof(why));
	if (r != 0 || !cutover_jstr(j, "state") || !strcmp(cutover_jstr(j, "state"), "unknown")) {
		char m[1024];

		fmt(m, sizeof(m), "%s", r ? why : cutover_jstr(j, "message") ? cutover_jstr(j, "message") : "?");
		json_object_put(j);
		return step_fail(c, S, r == EXIT_REFUSED ? EXIT_REFUSED : EXIT_FAIL,
				 "the state of %s on the old host is unknown: %s", c->vm, m);
	}
	step_put(c, S, "old_state", json_object_new_string(cutover_jstr(j, "state")));
	json_object_put(j);
	n = receive_args(c, a);
	a[n++] = (char *)"--list";
	a[n] = NULL;
	r = run_self(c, S, "list", a, &out);
	if (r != 0 || write_file(c->sources, out.buf ? out.buf : "", out.len, why, sizeof(why)) < 0) {
		out_free(&out);
		return step_fail(c, S, EXIT_FAIL, "the old host (%s) did not list the disks of %s%s", c->o.source,
				 c->vm, r ? " (above)" : "");
	}
	out_free(&out);
	/* the refusals: nothing has changed on either host yet */
	r = go_checks(c, S, false);
	if (r)
		return r;
	{
		json_object *macs = json_object_new_array();

		for (size_t m = 0; m < c->n_macs; m++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "mac", json_object_new_string(c->macs[m]));
			json_object_object_add(o, "bridge", json_object_new_string(c->bridges[m]));
			json_object_array_add(macs, o);
		}
		step_put(c, S, "nics", macs);
	}
	fmt(why, sizeof(why), "%s is %s on %s; config %s", c->vm,
		 cutover_jstr(step_obj(c, S), "old_state"), c->o.from, c->cfg);
	return step_done(c, S, why) < 0 ? EXIT_FAIL : 0;
}

static int plan_args(struct cut *c, char **a, const char *sub)
{
	int n = 0;

	a[n++] = (char *)"migrate";
	a[n++] = (char *)sub;
	a[n++] = (char *)"--json";
	a[n++] = (char *)"--sources";
	a[n++] = c->sources;
	a[n++] = (char *)"--pool";
	a[n++] = (char *)c->o.pool;
	a[n++] = (char *)"--connect";
	a[n++] = (char *)c->o.uri;
	a[n++] = c->cfg;
	a[n] = NULL;
	return n;
}

static json_object *load_plan(struct cut *c)
{
	return json_object_from_file(c->plan);
}

static int do_plan(struct cut *c)
{
	const enum cutover_step S = CUT_PLAN;
	char *a[16], why[1024], err[512];
	struct child_out out = { 0 };
	json_object *plan, *disks;
	uint64_t need = 0, avail;
	struct virt_conn *vc;
	int r;

	if (step_begin(c, S, NULL) < 0)
		return EXIT_FAIL;
	plan_args(c, a, "plan");
	r = run_self(c, S, "plan", a, &out);
	if (r != 0) {
		out_free(&out);
		return step_fail(c, S, EXIT_FAIL, "migrate plan failed (above)");
	}
	if (write_file(c->plan, out.buf, out.len, why, sizeof(why)) < 0) {
		out_free(&out);
		return step_fail(c, S, EXIT_FAIL, "%s", why);
	}
	out_free(&out);
	plan = load_plan(c);
	disks = jget(plan, "disks");
	if (virt_conn_open(c->o.uri, &vc, err, sizeof(err)) < 0) {
		json_object_put(plan);
		return step_fail(c, S, EXIT_FAIL, "%s", err);
	}
	for (size_t i = 0; disks && i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i);
		const char *name = cutover_jstr(d, "name");

		if (name && virt_volume_exists(vc, c->o.pool, name, err, sizeof(err)) == 0)
			need += (uint64_t)cutover_jnum(d, "size_bytes", 0);
	}
	r = virt_pool_available(vc, c->o.pool, &avail, err, sizeof(err));
	virt_conn_close(vc);
	json_object_put(plan);
	if (r < 0)
		return step_fail(c, S, EXIT_FAIL, "%s", err);
	if (need > avail)
		return step_fail(c, S, EXIT_REFUSED, "pool %s has %llu bytes free, the new volumes need %llu", c->o.pool,
				 (unsigned long long)avail, (unsigned long long)need);
	step_put(c, S, "bytes_needed", json_object_new_int64((int64_t)need));
	fmt(why, sizeof(why), "%s (%llu bytes of new volumes, %llu free in pool %s)", c->plan,
		 (unsigned long long)need, (unsigned long long)avail, c->o.pool);
	return step_done(c, S, why) < 0 ? EXIT_FAIL : 0;
}

static int do_create(struct cut *c)
{
	const enum cutover_step S = CUT_CREATE;
	char *a[16], why[1024];
	struct child_out out = { 0 };
	json_object *j, *disks, *vols;
	int r;

	if (step_begin(c, S, c->o.pool) < 0)
		return EXIT_FAIL;
	plan_args(c, a, "create");
	r = run_self(c, S, "create", a, &out);
	j = out_json(&out);
	out_free(&out);
	disks = jget(j, "disks");
	if (r != 0 || !disks) {
		json_object_put(j);
		return step_fail(c, S, EXIT_FAIL, "migrate create failed (above)");
	}
	vols = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i);

		if (cutover_jstr(d, "name") && cutover_jstr(d, "path"))
			json_object_object_add(vols, cutover_jstr(d, "name"),
					       json_object_new_string(cutover_jstr(d, "path")));
	}
	step_put(c, S, "volumes", vols);
	step_put(c, S, "result", json_object_get(disks));
	json_object_put(j);
	fmt(why, sizeof(why), "%zu volume(s) in pool %s", json_object_array_length(disks), c->o.pool);
	return step_done(c, S, why) < 0 ? EXIT_FAIL : 0;
}

/* The path of a plan disk's volume, from the create step. */
static const char *volume_path(struct cut *c, const char *disk)
{
	json_object *vols = jget(step_obj(c, CUT_CREATE), "volumes");

	return cutover_jstr(vols, disk);
}

/* Copies every partition of the plan that is copied: warm (VM running there) or delta (VM off). */
static int do_copy(struct cut *c, enum cutover_step S, bool warm)
{
	json_object *plan = load_plan(c), *disks = jget(plan, "disks"), *parts_done;
	int64_t bytes = (int64_t)cutover_jnum(step_obj(c, S), "bytes", 0), unchanged = 0;
	json_object *hashes;
	char why[1024];
	int copied = 0;

	if (!disks) {
		json_object_put(plan);
		return step_fail(c, S, EXIT_FAIL, "the plan %s cannot be read", c->plan);
	}
	if (!(parts_done = jget(step_obj(c, S), "partitions"))) {
		parts_done = json_object_new_object();
		step_put(c, S, "partitions", parts_done);
	}
	hashes = jget(step_obj(c, S), "hashes");
	if (!hashes) {
		hashes = json_object_new_object();
		step_put(c, S, "hashes", hashes);
	}
	for (size_t i = 0; i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i), *parts = jget(d, "partitions");
		const char *path = volume_path(c, cutover_jstr(d, "name"));

		if (!path) {
			json_object_put(plan);
			return step_fail(c, S, EXIT_FAIL, "no volume recorded for disk %s", cutover_jstr(d, "name"));
		}
		for (size_t k = 0; parts && k < json_object_array_length(parts); k++) {
			json_object *p = json_object_array_get_idx(parts, k), *res;
			const char *vdev = cutover_jstr(p, "source_vdev"), *act = cutover_jstr(p, "action");
			char off[32], *a[32];
			struct child_out out = { 0 };
			int n, r;

			if (!vdev || !act || strcmp(act, "copy") || jget(parts_done, vdev))
				continue;
			fmt(off, sizeof(off), "%lld", (long long)cutover_jnum(p, "start_bytes", 0));
			n = receive_args(c, a);
			a[n++] = (char *)"--disk";
			a[n++] = (char *)vdev;
			a[n++] = (char *)"--offset";
			a[n++] = off;
			a[n++] = (char *)"--state";
			a[n++] = c->stream_state;
			a[n++] = (char *)(warm ? "--warm" : "--delta");
			a[n++] = (char *)"--json";
			a[n++] = (char *)path;
			a[n] = NULL;
			say(c, "        %s -> %s at %s\n", vdev, path, off);
			r = run_self(c, S, vdev, a, &out);
			res = out_json(&out);
			out_free(&out);
			bytes += (int64_t)cutover_jnum(res, "data_bytes", 0);
			unchanged += (int64_t)cutover_jnum(res, "unchanged_bytes", 0);
			step_put(c, S, "bytes", json_object_new_int64(bytes));
			/* what an earlier, killed run had already landed (from the resume map) */
			step_put(c, S, "resumed_bytes", json_object_new_int64(
				(int64_t)cutover_jnum(step_obj(c, S), "resumed_bytes", 0) +
				(int64_t)cutover_jnum(res, "resumed_bytes", 0)));
			if (r != 0) {
				const char *m = cutover_jstr(res, "message");

				fmt(why, sizeof(why), "%s", m ? m : "");
				json_object_put(res);
				json_object_put(plan);
				return step_fail(c, S, r == 4 ? EXIT_INTERRUPTED : EXIT_FAIL, "%s copy of %s failed%s%s",
						 warm ? "the warm" : "the delta", vdev, *why ? ": " : " (above)", why);
			}
			json_object_object_add(parts_done, vdev, json_object_new_string(
				cutover_jstr(res, "result") ? cutover_jstr(res, "result") : "done"));
			if (cutover_jstr(res, "image_hash"))
				json_object_object_add(hashes, vdev,
						       json_object_new_string(cutover_jstr(res, "image_hash")));
			json_object_put(res);
			copied++;
			if (save(c) < 0) {
				json_object_put(plan);
				return EXIT_FAIL;
			}
		}
	}
	json_object_put(plan);
	fmt(why, sizeof(why), "%d partition(s), %lld bytes of data sent%s", copied, (long long)bytes,
		 warm ? "" : ", the rest verified unchanged");
	(void)unchanged;
	return step_done(c, S, why) < 0 ? EXIT_FAIL : 0;
}

static int do_preflight(struct cut *c)
{
	const enum cutover_step S = CUT_PREFLIGHT;
	json_object *plan = load_plan(c), *disks = jget(plan, "disks"), *j, *f;
	char *a[64], why[2048];
	const char *disk;
	struct child_out out = { 0 };
	size_t off = 0;
	int n = 0, r, errors;

	if (step_begin(c, S, NULL) < 0) {
		json_object_put(plan);
		return EXIT_FAIL;
	}
	disk = disks && json_object_array_length(disks) ?
		volume_path(c, cutover_jstr(json_object_array_get_idx(disks, 0), "name")) : NULL;
	if (!disk) {
		json_object_put(plan);
		return step_fail(c, S, EXIT_FAIL, "no volume to read");
	}
	a[n++] = (char *)"migrate";
	a[n++] = (char *)"preflight";
	a[n++] = (char *)"--json";
	if (c->o.disk_bus) {
		a[n++] = (char *)"--disk-bus";
		a[n++] = (char *)c->o.disk_bus;
	}
	if (c->o.nic_model) {
		a[n++] = (char *)"--nic-model";
		a[n++] = (char *)c->o.nic_model;
	}
	for (size_t m = 0; m < c->n_macs && n < 40; m++) {
		a[n++] = (char *)"--mac";
		a[n++] = c->macs[m];
	}
	for (size_t w = 0; w < c->o.n_waive && n < 60; w++) {
		a[n++] = (char *)"--waive";
		a[n++] = c->o.waive[w];
	}
	a[n++] = (char *)disk;
	a[n] = NULL;
	r = run_self(c, S, "preflight", a, &out);
	j = out_json(&out);
	out_free(&out);
	json_object_put(plan);
	if (!j)
		return step_fail(c, S, EXIT_FAIL, "migrate preflight failed (above)");
	f = jget(j, "findings");
	*why = '\0';
	for (size_t i = 0; f && i < json_object_array_length(f); i++) {
		json_object *x = json_object_array_get_idx(f, i), *w = jget(x, "waived");
		const char *sev = cutover_jstr(x, "severity");

		if (!sev || strcmp(sev, "error") || (w && json_object_get_boolean(w)))
			continue;
		if (off < sizeof(why))
			off += (size_t)snprintf(why + off, sizeof(why) - off, "%s%s: %s [%s]", off ? "; " : "",
						cutover_jstr(x, "file") ? cutover_jstr(x, "file") : "",
						cutover_jstr(x, "message") ? cutover_jstr(x, "message") : "",
						cutover_jstr(x, "id") ? cutover_jstr(x, "id") : "");
	}
	errors = (int)cutover_jnum(j, "errors", 0);
	step_put(c, S, "report", j);
	if (r != 0 || errors > 0)
		return step_fail(c, S, EXIT_FAIL, "the guest would not boot well here: %s (fix it in the guest while it "
				 "still runs on the old host, or rerun with --waive ID)", *why ? why : "see above");
	fmt(why, sizeof(why), "%s: no error left (%d warning(s))", disk, (int)cutover_jnum(j, "warnings", 0));
	return step_done(c, S, why) < 0 ? EXIT_FAIL : 0;
}

static int do_confirm(struct cut *c)
{
	const enum cutover_step S = CUT_CONFIRM;
	char line[16];
	int r;

	if (step_begin(c, S, NULL) < 0)
		return EXIT_FAIL;
	if ((r = go_checks(c, S, false)))
		return r;
	if (!c->yes) {
		if (!isatty(STDIN_FILENO) || c->json)
			return step_fail(c, S, EXIT_FAIL, "confirmation needed: rerun with --yes to shut %s down on %s "
					 "and bring it up here", c->vm, c->o.from);
		printf("Shut %s down on %s (%s) and bring it up here? [y/N] ", c->vm, c->o.from, c->o.source);
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
			return step_fail(c, S, EXIT_FAIL, "not confirmed: nothing was shut down");
	}
	step_put(c, S, "confirmed_at", json_object_new_double(now_real()));
	return step_done(c, S, c->yes ? "--yes" : "confirmed") < 0 ? EXIT_FAIL : 0;
}

static int do_shutdown(struct cut *c)
{
	const enum cutover_step S = CUT_SHUTDOWN;
	char t[32], why[2048];
	const char *extra[4] = { "--timeout", t, NULL, NULL };
	json_object *j = NULL;
	int r;

	fmt(t, sizeof(t), "%ld", c->o.shutdown_timeout);
	if (c->o.force > 0)
		extra[2] = "--force";
	if (step_begin(c, S, c->o.from) < 0)
		return EXIT_FAIL;
	/* the downtime starts at the first request, whatever happens after;
	 * before it, the conditions of the move once more (a rerun may come
	 * long after confirm) */
	if (!jget(step_obj(c, S), "requested_at")) {
		if ((r = go_checks(c, S, false)))
			return r;
		step_put(c, S, "requested_at", json_object_new_double(now_real()));
		if (save(c) < 0)
			return EXIT_FAIL;
	}
	r = source_op(c, S, "shutdown", extra, &j, why, sizeof(why));
	if (r != 0) {
		json_object_put(j);
		return step_fail(c, S, r == EXIT_REFUSED ? EXIT_REFUSED : EXIT_FAIL, "%s", why);
	}
	step_put(c, S, "result", json_object_get(j));
	fmt(why, sizeof(why), "%s on %s (%.1f s)", cutover_jstr(j, "result") ? cutover_jstr(j, "result") : "off",
		 c->o.from, cutover_jnum(j, "seconds", 0));
	json_object_put(j);
	step_put(c, S, "off_at", json_object_new_double(now_real()));
	return step_done(c, S, why) < 0 ? EXIT_FAIL : 0;
}

static int do_define(struct cut *c)
{
	const enum cutover_step S = CUT_DEFINE;
	char *a[48], why[1024];
	struct child_out out = { 0 };
	json_object *j;
	int n = 0, r;

	if (step_begin(c, S, NULL) < 0)
		return EXIT_FAIL;
	a[n++] = (char *)"migrate";
	a[n++] = (char *)"domain";
	a[n++] = (char *)"--json";
	a[n++] = (char *)"--stage";
	a[n++] = (char *)(c->stage2 ? "2" : "1");
	a[n++] = (char *)"--plan";
	a[n++] = c->plan;
	a[n++] = (char *)"--pool";
	a[n++] = (char *)c->o.pool;
	a[n++] = (char *)"--connect";
	a[n++] = (char *)c->o.uri;
#define PASS(opt, v) do { if (v) { a[n++] = (char *)opt; a[n++] = (char *)(v); } } while (0)
	PASS("--bridge-map", c->o.bridge_map);
	PASS("--disk-bus", c->o.disk_bus);
	PASS("--nic-model", c->o.nic_model);
	PASS("--domain-type", c->o.domain_type);
	PASS("--machine", c->o.machine);
	PASS("--boot-dir", c->o.boot_dir);
	PASS("--console-log", c->o.console_log);
#undef PASS
	a[n++] = c->cfg;
	a[n] = NULL;
	r = run_self(c, S, "domain", a, &out);
	j = out_json(&out);
	out_free(&out);
	if (r != 0 || !j) {
		json_object_put(j);
		return step_fail(c, S, EXIT_FAIL, "migrate domain failed (above)");
	}
	step_put(c, S, "result", json_object_new_string(cutover_jstr(j, "result") ? cutover_jstr(j, "result") : "?"));
	if (jget(j, "guest_kernel"))
		step_put(c, S, "guest_kernel", json_object_get(jget(j, "guest_kernel")));
	fmt(why, sizeof(why), "%s (stage %d)", cutover_jstr(j, "result") ? cutover_jstr(j, "result") : "?",
		 c->stage2 ? 2 : 1);
	json_object_put(j);
	return step_done(c, S, why) < 0 ? EXIT_FAIL : 0;
}

static int do_start(struct cut *c)
{
	const enum cutover_step S = CUT_START;
	struct virt_conn *vc;
	char err[512];
	int r;

	if (step_begin(c, S, c->o.uri) < 0)
		return EXIT_FAIL;
	if (virt_conn_open(c->o.uri, &vc, err, sizeof(err)) < 0)
		return step_fail(c, S, EXIT_FAIL, "%s", err);
	r = virt_domain_start(vc, c->vm, err, sizeof(err));
	virt_conn_close(vc);
	if (r < 0)
		return step_fail(c, S, EXIT_FAIL, "%s", err);
	step_put(c, S, "started_at", json_object_new_double(now_real()));
	return step_done(c, S, "running") < 0 ? EXIT_FAIL : 0;
}

/* Waits until every MAC of the VM is on the side wanted: local here, or the old host's tunnel port. */
static int wait_macs(struct cut *c, bool local_wanted, double *ret_at, char *seen, size_t seenlen)
{
	double end = now_real() + (double)c->o.arrival_timeout;
	int local, tun;

	for (;;) {
		if (mac_places(c, &local, &tun, seen, seenlen) == 0 &&
		    (local_wanted ? local : tun) >= (int)c->n_macs) {
			*ret_at = now_real();
			return 0;
		}
		if (stop_flag || now_real() > end)
			return -ETIMEDOUT;
		sleep_ms(100);
	}
}

static int do_arrival(struct cut *c)
{
	const enum cutover_step S = CUT_ARRIVAL;
	char seen[1024], why[1200];
	double at, from;

	if (step_begin(c, S, c->n_macs ? c->macs[0] : NULL) < 0)
		return EXIT_FAIL;
	if (wait_macs(c, true, &at, seen, sizeof(seen)) < 0)
		return step_fail(c, S, EXIT_FAIL, "the VM's MACs were not learned on this host's local port within "
				 "%ld s: %s", c->o.arrival_timeout, seen);
	from = cutover_jnum(step_obj(c, CUT_SHUTDOWN), "requested_at", at);
	step_put(c, S, "arrived_at", json_object_new_double(at));
	step_put(c, S, "seen", json_object_new_string(seen));
	json_object_object_add(c->jr->root, "downtime_s", json_object_new_double(at - from));
	fmt(why, sizeof(why), "%s (%.1f s after the shutdown request)", seen, at - from);
	return step_done(c, S, why) < 0 ? EXIT_FAIL : 0;
}

static int do_autostart(struct cut *c)
{
	const enum cutover_step S = CUT_AUTOSTART;
	struct virt_conn *vc;
	char err[512], why[1024];
	json_object *j = NULL;
	int r;

	if (step_begin(c, S, NULL) < 0)
		return EXIT_FAIL;
	if (virt_conn_open(c->o.uri, &vc, err, sizeof(err)) < 0)
		return step_fail(c, S, EXIT_FAIL, "%s", err);
	r = virt_domain_set_autostart(vc, c->vm, true, err, sizeof(err));
	virt_conn_close(vc);
	if (r < 0)
		return step_fail(c, S, EXIT_FAIL, "%s", err);
	r = source_op(c, S, "autostart-off", NULL, &j, why, sizeof(why));
	if (r != 0) {
		json_object_put(j);
		return step_fail(c, S, EXIT_FAIL, "%s", why);
	}
	step_put(c, S, "old_host", json_object_get(j));
	json_object_put(j);
	return step_done(c, S, "on here, off on the old host") < 0 ? EXIT_FAIL : 0;
}

/* ---- the report ---- */

static void report(struct cut *c)
{
	json_object *o = json_object_new_object(), *steps = json_object_new_array(), *down = json_object_new_object();
	json_object *r = c->jr->root;
	double req = cutover_jnum(step_obj(c, CUT_SHUTDOWN), "requested_at", -1);
	double off = cutover_jnum(step_obj(c, CUT_SHUTDOWN), "off_at", -1);
	double dfin = cutover_jnum(step_obj(c, CUT_DELTA), "finished", -1);
	double defin = cutover_jnum(step_obj(c, CUT_DEFINE), "finished", -1);
	double started = cutover_jnum(step_obj(c, CUT_START), "started_at", -1);
	double arr = cutover_jnum(step_obj(c, CUT_ARRIVAL), "arrived_at", -1);

	for (int i = 0; i < CUT_STEP_MAX; i++) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "name", json_object_new_string(cutover_step_names[i]));
		json_object_object_add(s, "status", json_object_new_string(
			cutover_status_names[cutover_step_status(r, (enum cutover_step)i)]));
		json_object_object_add(s, "seconds", json_object_new_double(
			cutover_jnum(step_obj(c, (enum cutover_step)i), "seconds", 0)));
		json_object_array_add(steps, s);
	}
	if (req > 0 && off > 0)
		json_object_object_add(down, "shutdown_s", json_object_new_double(off - req));
	if (off > 0 && dfin > 0)
		json_object_object_add(down, "delta_copy_s", json_object_new_double(dfin - off));
	if (dfin > 0 && defin > 0)
		json_object_object_add(down, "define_s", json_object_new_double(defin - dfin));
	if (defin > 0 && started > 0)
		json_object_object_add(down, "start_s", json_object_new_double(started - defin));
	if (started > 0 && arr > 0)
		json_object_object_add(down, "boot_to_mac_s", json_object_new_double(arr - started));
	json_object_object_add(o, "event", json_object_new_string("report"));
	json_object_object_add(o, "vm", json_object_new_string(c->vm));
	json_object_object_add(o, "state", json_object_new_string(cutover_state(r)));
	json_object_object_add(o, "from", json_object_new_string(c->o.from));
	json_object_object_add(o, "downtime_s", jget(r, "downtime_s") ? json_object_get(jget(r, "downtime_s")) : NULL);
	json_object_object_add(o, "downtime", down);
	json_object_object_add(o, "bytes_warm", json_object_new_int64((int64_t)cutover_jnum(step_obj(c, CUT_WARM),
												"bytes", 0)));
	json_object_object_add(o, "bytes_delta", json_object_new_int64((int64_t)cutover_jnum(step_obj(c, CUT_DELTA),
												 "bytes", 0)));
	json_object_object_add(o, "hashes", jget(step_obj(c, CUT_DELTA), "hashes") ?
			       json_object_get(jget(step_obj(c, CUT_DELTA), "hashes")) : NULL);
	json_object_object_add(o, "steps", steps);
	json_object_object_add(o, "journal", json_object_new_string(c->jr->path));
	if (!c->json) {
		printf("\n%s: %s\n", c->vm, cutover_state(r));
		for (int i = 0; i < CUT_STEP_MAX; i++)
			printf("  %2d %-11s %-8s %8.1f s\n", i + 1, cutover_step_names[i],
			       cutover_status_names[cutover_step_status(r, (enum cutover_step)i)],
			       cutover_jnum(step_obj(c, (enum cutover_step)i), "seconds", 0));
		printf("  copied warm %lld bytes (%.1f MiB), at the cutover %lld bytes (%.1f MiB)\n",
		       (long long)cutover_jnum(step_obj(c, CUT_WARM), "bytes", 0),
		       cutover_jnum(step_obj(c, CUT_WARM), "bytes", 0) / 1048576.0,
		       (long long)cutover_jnum(step_obj(c, CUT_DELTA), "bytes", 0),
		       cutover_jnum(step_obj(c, CUT_DELTA), "bytes", 0) / 1048576.0);
		if (jget(r, "downtime_s")) {
			static const char *const part[][2] = {
				{ "shutdown_s", "shutdown" }, { "delta_copy_s", "delta copy" }, { "define_s", "define" },
				{ "start_s", "start" }, { "boot_to_mac_s", "boot to MAC" },
			};
			const char *sep = ": ";

			printf("  downtime %.1f s (shutdown request -> MAC on the local port)",
			       cutover_jnum(r, "downtime_s", 0));
			for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
				if (!jget(down, part[i][0]))
					continue;
				printf("%s%s %.1f s", sep, part[i][1], cutover_jnum(down, part[i][0], 0));
				sep = ", ";
			}
			printf("\n");
		}
		if (jget(step_obj(c, CUT_DELTA), "hashes")) {
			json_object_object_foreach(jget(step_obj(c, CUT_DELTA), "hashes"), k, v)
				printf("  %s blake2b %s\n", k, json_object_get_string(v));
		}
		printf("  journal %s\n", c->jr->path);
	}
	emit(c, o);
}

/* ---- rollback, stage 2 ---- */

static int rollback(struct cut *c)
{
	const char *st = cutover_state(c->jr->root);
	struct virt_conn *vc;
	char err[512], why[2048], seen[1024];
	json_object *j = NULL;
	bool destroyed;
	double at;
	int r;

	if (!strcmp(st, CUT_STATE_DONE) || !strcmp(st, CUT_STATE_STAGE2)) {
		fprintf(stderr, "bridgectl cutover: %s was cut over (%s): it runs here now; moving it back is a cutover "
			"the other way\n", c->vm, st);
		return EXIT_REFUSED;
	}
	if (!strcmp(st, CUT_STATE_ROLLED_BACK)) {
		say(c, "%s: already rolled back\n", c->vm);
		return 0;
	}
	cutover_set_state(c->jr->root, CUT_STATE_ROLLING_BACK);
	json_object_object_add(c->jr->root, "rollback_started", json_object_new_double(now_real()));
	if (save(c) < 0)
		return EXIT_FAIL;
	say(c, "rolling back %s\n", c->vm);
	if (virt_conn_open(c->o.uri, &vc, err, sizeof(err)) < 0) {
		fprintf(stderr, "bridgectl cutover: %s\n", err);
		return EXIT_FAIL;
	}
	/* the new domain: only one this cutover defined */
	if (cutover_step_status(c->jr->root, CUT_DEFINE) != CUT_PENDING) {
		r = virt_domain_stop(vc, c->vm, 0, true, &destroyed, err, sizeof(err));
		if (r == 0)
			r = virt_domain_undefine(vc, c->vm, err, sizeof(err));
		if (r < 0) {
			virt_conn_close(vc);
			fprintf(stderr, "bridgectl cutover: %s\n", err);
			return EXIT_FAIL;
		}
		say(c, "  domain %s stopped and undefined here\n", c->vm);
	}
	if (c->purge && cutover_step_status(c->jr->root, CUT_CREATE) != CUT_PENDING) {
		json_object *vols = jget(step_obj(c, CUT_CREATE), "volumes");

		if (vols) {
			json_object_object_foreach(vols, name, path) {
				(void)path;
				if (virt_volume_delete(vc, c->o.pool, name, err, sizeof(err)) < 0) {
					virt_conn_close(vc);
					fprintf(stderr, "bridgectl cutover: %s\n", err);
					return EXIT_FAIL;
				}
				say(c, "  volume %s deleted (--purge)\n", name);
			}
		}
	}
	virt_conn_close(vc);
	if (cutover_step_status(c->jr->root, CUT_AUTOSTART) != CUT_PENDING) {
		r = source_op(c, CUT_AUTOSTART, "autostart-restore", NULL, &j, why, sizeof(why));
		json_object_put(j);
		if (r != 0) {
			fprintf(stderr, "bridgectl cutover: %s\n", why);
			return EXIT_FAIL;
		}
		say(c, "  autostart restored on %s\n", c->o.from);
	}
	if (cutover_step_status(c->jr->root, CUT_SHUTDOWN) != CUT_PENDING) {
		r = source_op(c, CUT_SHUTDOWN, "start", NULL, &j, why, sizeof(why));
		if (r != 0) {
			json_object_put(j);
			fprintf(stderr, "bridgectl cutover: %s\n", why);
			return EXIT_FAIL;
		}
		say(c, "  %s on %s: %s\n", c->vm, c->o.from, cutover_jstr(j, "result") ? cutover_jstr(j, "result") : "?");
		json_object_put(j);
		if (wait_macs(c, false, &at, seen, sizeof(seen)) < 0) {
			fprintf(stderr, "bridgectl cutover: %s runs on %s again, but its MACs were not seen on the tunnel "
				"port within %ld s: %s\n", c->vm, c->o.from, c->o.arrival_timeout, seen);
			return EXIT_FAIL;
		}
		say(c, "  back on the tunnel to %s: %s\n", c->o.from, seen);
	}
	for (int i = 0; i < CUT_STEP_MAX; i++)
		if (cutover_step_status(c->jr->root, (enum cutover_step)i) == CUT_RUNNING)
			cutover_step_set(c->jr->root, (enum cutover_step)i, CUT_FAILED, now_real());
	cutover_set_state(c->jr->root, CUT_STATE_ROLLED_BACK);
	json_object_object_add(c->jr->root, "rollback_finished", json_object_new_double(now_real()));
	if (save(c) < 0)
		return EXIT_FAIL;
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "event", json_object_new_string("report"));
		json_object_object_add(o, "vm", json_object_new_string(c->vm));
		json_object_object_add(o, "state", json_object_new_string(CUT_STATE_ROLLED_BACK));
		json_object_object_add(o, "journal", json_object_new_string(c->jr->path));
		emit(c, o);
	}
	say(c, "%s: rolled back; the journal %s keeps what was done (move it away to start afresh)\n", c->vm,
	    c->jr->path);
	return 0;
}

static int stage2(struct cut *c)
{
	const char *st = cutover_state(c->jr->root);
	struct virt_conn *vc;
	char err[512], seen[1024];
	bool destroyed;
	double at, t0;
	int r;

	if (strcmp(st, CUT_STATE_DONE) && strcmp(st, CUT_STATE_STAGE2)) {
		fprintf(stderr, "bridgectl cutover: %s: stage 2 comes after the cutover (the journal says %s)\n", c->vm,
			st);
		return EXIT_REFUSED;
	}
	r = do_define(c);
	if (r)
		return r;
	if (virt_conn_open(c->o.uri, &vc, err, sizeof(err)) < 0) {
		fprintf(stderr, "bridgectl cutover: %s\n", err);
		return EXIT_FAIL;
	}
	say(c, "  stopping %s for a full stop and start (up to %ld s)\n", c->vm, c->o.shutdown_timeout);
	r = virt_domain_stop(vc, c->vm, (int)c->o.shutdown_timeout, c->o.force > 0, &destroyed, err, sizeof(err));
	t0 = now_real();
	if (r == 0)
		r = virt_domain_start(vc, c->vm, err, sizeof(err));
	virt_conn_close(vc);
	if (r < 0) {
		fprintf(stderr, "bridgectl cutover: %s%s\n", err, r == -ETIMEDOUT ? " (--force destroys it)" : "");
		return EXIT_FAIL;
	}
	/* it came back when its MACs are learned anew on the local port */
	sleep_ms(200);
	if (wait_macs(c, true, &at, seen, sizeof(seen)) < 0) {
		fprintf(stderr, "bridgectl cutover: %s started from its own bootloader, but its MACs were not seen on "
			"the local port within %ld s: %s\n", c->vm, c->o.arrival_timeout, seen);
		return EXIT_FAIL;
	}
	cutover_set_state(c->jr->root, CUT_STATE_STAGE2);
	json_object_object_add(c->jr->root, "stage", json_object_new_int(2));
	json_object_object_add(c->jr->root, "stage2_at", json_object_new_double(now_real()));
	if (save(c) < 0)
		return EXIT_FAIL;
	say(c, "%s: stage 2, %s%s (%.1f s from the start)\n", c->vm, destroyed ? "destroyed and " : "",
	    "started from its own bootloader", at - t0);
	return 0;
}

/* ---- --list ---- */

static int list(struct cut *c)
{
	DIR *d = opendir(c->state_dir);
	struct dirent *e;
	json_object *arr = json_object_new_array();
	char path[PATH_MAX], err[512], sum[128];

	if (!d && errno != ENOENT) {
		fprintf(stderr, "bridgectl cutover: %s: %s\n", c->state_dir, strerror(errno));
		json_object_put(arr);
		return EXIT_FAIL;
	}
	if (!c->json)
		printf("%-24s %-12s %-44s %s\n", "VM", "FROM", "STATE", "DOWNTIME");
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		json_object *j, *o;

		if (n < 6 || strcmp(e->d_name + n - 5, ".json") || e->d_name[0] == '.')
			continue;
		fmt(path, sizeof(path), "%s/%s", c->state_dir, e->d_name);
		j = cutover_journal_read(path, err, sizeof(err));
		o = json_object_new_object();
		if (!j) {
			json_object_object_add(o, "vm", json_object_new_string_len(e->d_name, (int)n - 5));
			json_object_object_add(o, "error", json_object_new_string(err));
			if (!c->json)
				printf("%-24.*s %-12s unreadable: %s\n", (int)n - 5, e->d_name, "?", err);
		} else {
			json_object *opts = jget(j, "options");

			cutover_summary(j, sum, sizeof(sum));
			json_object_object_add(o, "vm", json_object_new_string(cutover_jstr(j, "vm")));
			json_object_object_add(o, "from", cutover_jstr(opts, "from") ?
					       json_object_new_string(cutover_jstr(opts, "from")) : NULL);
			json_object_object_add(o, "state", json_object_new_string(cutover_state(j)));
			json_object_object_add(o, "summary", json_object_new_string(sum));
			json_object_object_add(o, "next_step", cutover_next_step(j) < CUT_STEP_MAX ?
					       json_object_new_string(cutover_step_names[cutover_next_step(j)]) : NULL);
			json_object_object_add(o, "failed_step", jget(j, "failed_step") ?
					       json_object_get(jget(j, "failed_step")) : NULL);
			json_object_object_add(o, "error", jget(j, "error") ? json_object_get(jget(j, "error")) : NULL);
			json_object_object_add(o, "downtime_s", jget(j, "downtime_s") ?
					       json_object_get(jget(j, "downtime_s")) : NULL);
			json_object_object_add(o, "updated", jget(j, "updated") ? json_object_get(jget(j, "updated")) : NULL);
			json_object_object_add(o, "journal", json_object_new_string(path));
			if (!c->json) {
				char dt[32] = "-";

				if (jget(j, "downtime_s"))
					fmt(dt, sizeof(dt), "%.1f s", cutover_jnum(j, "downtime_s", 0));
				printf("%-24s %-12s %-44s %s\n", cutover_jstr(j, "vm"),
				       cutover_jstr(opts, "from") ? cutover_jstr(opts, "from") : "-", sum, dt);
			}
			json_object_put(j);
		}
		json_object_array_add(arr, o);
	}
	if (d)
		closedir(d);
	if (c->json)
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	json_object_put(arr);
	return 0;
}

/* ---- --dry-run ---- */

static void dry_run(struct cut *c)
{
	enum cutover_step next = cutover_next_step(c->jr->root);
	static const char *const what[CUT_STEP_MAX] = {
		[CUT_INSPECT] = "ask the daemon here (peer up, the VM's segments spanned, its MACs not live here), "
				"fetch the Xen config, state and disk list from the old host: nothing changes",
		[CUT_PLAN] = "plan the new disks (bridgectl migrate plan --sources) and check the pool has room",
		[CUT_CREATE] = "create the volumes, partition tables and swap areas in the pool (migrate create)",
		[CUT_WARM] = "copy every partition while the VM runs (migrate receive --warm): only the new "
			     "volumes are written",
		[CUT_PREFLIGHT] = "read the guest on the copy (migrate preflight): errors stop here unless waived",
		[CUT_CONFIRM] = "ask (or --yes)",
		[CUT_SHUTDOWN] = "shut the VM down on the old host, wait until it is off (the downtime starts)",
		[CUT_DELTA] = "copy the blocks that changed since the warm copy (migrate receive --delta), verified",
		[CUT_DEFINE] = "define the libvirt domain, stage 1: the guest's own kernel (migrate domain)",
		[CUT_START] = "start the domain here",
		[CUT_ARRIVAL] = "wait until the VM's MACs are learned on this host's local bridge port",
		[CUT_AUTOSTART] = "autostart on here, off on the old host (journaled there)",
	};

	printf("cutover %s from %s (%s), journal %s: would run\n", c->vm, c->o.from, c->o.source, c->jr->path);
	for (int i = 0; i < CUT_STEP_MAX; i++) {
		enum cutover_status st = cutover_step_status(c->jr->root, (enum cutover_step)i);

		if (i < (int)next && (st == CUT_DONE || st == CUT_SKIPPED)) {
			printf("  %2d %-11s already %s\n", i + 1, cutover_step_names[i], cutover_status_names[st]);
			continue;
		}
		if (c->warm_only && i == CUT_CONFIRM) {
			printf("  (--warm-only: stops here; the VM keeps running on %s)\n", c->o.from);
			break;
		}
		printf("  %2d %-11s %s\n", i + 1, cutover_step_names[i], what[i]);
	}
}

/* ---- options ---- */

static const struct { const char *name; size_t off; } str_opts[] = {
#define O(n, f) { n, offsetof(struct cut_opts, f) }
	O("from", from), O("source", source), O("key", key), O("pool", pool), O("connect", uri),
	O("bridge_map", bridge_map), O("disk_bus", disk_bus), O("nic_model", nic_model),
	O("domain_type", domain_type), O("machine", machine), O("boot_dir", boot_dir),
	O("console_log", console_log),
#undef O
};

#define OPT_STR(o, i) ((const char **)((char *)(o) + str_opts[i].off))

/* Options not given now come from the journal; those given are recorded for the next run. */
static void options_merge(struct cut *c)
{
	json_object *jo = jget(c->jr->root, "options"), *w;

	for (size_t i = 0; i < sizeof(str_opts) / sizeof(str_opts[0]); i++) {
		const char **v = OPT_STR(&c->o, i);

		if (*v)
			json_object_object_add(jo, str_opts[i].name, json_object_new_string(*v));
		else
			*v = cutover_jstr(jo, str_opts[i].name);
	}
	if (c->o.shutdown_timeout > 0)
		json_object_object_add(jo, "shutdown_timeout", json_object_new_int64(c->o.shutdown_timeout));
	else
		c->o.shutdown_timeout = (long)cutover_jnum(jo, "shutdown_timeout", 300);
	if (c->o.arrival_timeout > 0)
		json_object_object_add(jo, "arrival_timeout", json_object_new_int64(c->o.arrival_timeout));
	else
		c->o.arrival_timeout = (long)cutover_jnum(jo, "arrival_timeout", 180);
	if (c->o.force >= 0)
		json_object_object_add(jo, "force", json_object_new_boolean(c->o.force));
	else
		c->o.force = jget(jo, "force") && json_object_get_boolean(jget(jo, "force"));
	if (c->o.n_waive) {
		w = json_object_new_array();
		for (size_t i = 0; i < c->o.n_waive; i++)
			json_object_array_add(w, json_object_new_string(c->o.waive[i]));
		json_object_object_add(jo, "waive", w);
	} else if ((w = jget(jo, "waive")) && json_object_is_type(w, json_type_array)) {
		c->o.waive = calloc(json_object_array_length(w) + 1, sizeof(char *));
		for (size_t i = 0; c->o.waive && i < json_object_array_length(w); i++)
			c->o.waive[c->o.n_waive++] = (char *)json_object_get_string(json_object_array_get_idx(w, i));
	}
	if (!c->o.pool)
		c->o.pool = getenv("BRIDGED_POOL") && *getenv("BRIDGED_POOL") ? getenv("BRIDGED_POOL") : "default";
	if (!c->o.uri)
		c->o.uri = "qemu:///system";
}

/* The old host's migration address and public key, from the daemon's view of the peer. */
static int resolve_peer(struct cut *c)
{
	json_object *status = ctl_request_json(cli_socket, "status"), *peer;
	const char *ep, *key;
	static char source[300];

	if (!status)
		return -EIO;
	peer = find_peer(status, c->o.from);
	if (!peer) {
		fprintf(stderr, "bridgectl cutover: no peer %s in this host's bridged configuration (bridgectl status)\n",
			c->o.from);
		json_object_put(status);
		return -ENOENT;
	}
	key = cutover_jstr(peer, "public_key");
	fmt(c->peer_key, sizeof(c->peer_key), "%s", key ? key : "");
	if (!c->o.source) {
		ep = cutover_jstr(peer, "endpoint");
		if (!ep)
			ep = cutover_jstr(peer, "configured_endpoint");
		if (!ep) {
			fprintf(stderr, "bridgectl cutover: peer %s has no known endpoint: give --source ADDR:PORT (its "
				"MigrateListen)\n", c->o.from);
			json_object_put(status);
			return -ENOENT;
		}
		/* "198.18.0.2:5880" or "[fd00::2]:5880": the host, with the migration port */
		const char *colon = strrchr(ep, ':');

		fmt(source, sizeof(source), "%.*s:%s", colon ? (int)(colon - ep) : (int)strlen(ep), ep,
			 DEFAULT_MIGRATE_PORT);
		c->o.source = source;
	}
	json_object_put(status);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: bridgectl cutover VM --from PEER [OPTIONS]   move VM here from PEER (resumable)\n"
"       bridgectl cutover VM --rollback [--purge]      put VM back on the old host\n"
"       bridgectl cutover VM --stage2                  boot VM from its own bootloader\n"
"       bridgectl cutover --list [--json]              every cutover this host has journaled\n"
"\n"
"Moves one VM from the old host (the bridged [Peer] PEER, serving MigrateListen)\n"
"to this libvirt host while the segment spans both, in twelve steps, each\n"
"recorded in STATE/VM.json before the next starts:\n"
"  1 inspect    config, state and disks from the old host; refusals (below)\n"
"  2 plan       the new disks (migrate plan --sources), room in the pool\n"
"  3 create     volumes, partitions, swap with the old UUIDs (migrate create)\n"
"  4 warm-copy  every partition while the VM runs (migrate receive --warm)\n"
"  5 preflight  the guest read on the copy: errors stop here (--waive ID)\n"
"  6 confirm    a prompt on a terminal, else --yes\n"
"  7 shutdown   on the old host, waited for (the downtime starts here)\n"
"  8 delta-copy the blocks changed since, verified (migrate receive --delta)\n"
"  9 define     the libvirt domain, stage 1 (migrate domain)\n"
" 10 start      the domain here\n"
" 11 arrival    its MACs learned on this host's local bridge port\n"
" 12 autostart  on here, off on the old host\n"
"Killed or failed at any point, the same command continues where it stopped\n"
"(the options of the first run are kept in the journal). Nothing changes on\n"
"either host before step 3; refused before that: the tunnel to PEER is not up\n"
"(or silent), a bridge of the VM carries no segment spanned by a tunnel to\n"
"PEER, a MAC of the VM is live on a local port here, a domain of that name\n"
"exists here, the VM is unknown to the old host, the pool lacks room. The\n"
"tunnel, segment, MAC and domain checks run again at step 6 and right before\n"
"the shutdown is requested: a final run hours after --warm-only is refused\n"
"(exit 3, the VM still running there) when they no longer hold.\n"
"\n"
"Options:\n"
"  --from PEER           the old host: a [Peer] of this host's bridged\n"
"  --source ADDR:PORT    its MigrateListen (default: its endpoint, port " DEFAULT_MIGRATE_PORT ")\n"
"  --key FILE            our private key (default " MIG_DEFAULT_KEY ")\n"
"  --pool NAME           libvirt storage pool (default $BRIDGED_POOL, else default)\n"
"  --connect URI         libvirt here (default qemu:///system)\n"
"  --bridge-map XEN=HERE,...  bridges here for the Xen config's (default the same)\n"
"  --disk-bus BUS, --nic-model MODEL, --domain-type TYPE, --machine M,\n"
"  --boot-dir DIR, --console-log FILE   as for bridgectl migrate domain\n"
"  --waive ID            accept a preflight error (repeatable)\n"
"  --shutdown-timeout S  graceful shutdown on the old host (default 300)\n"
"  --force               destroy it when the timeout runs out\n"
"  --arrival-timeout S   wait for the MACs on the local port (default 180)\n"
"  --warm-only           stop after the warm copy and preflight (the VM runs on);\n"
"                        the same command later continues with the cutover\n"
"  --yes                 do not ask before shutting the VM down\n"
"  --dry-run             print the steps it would take; change nothing\n"
"  --json                one JSON object per line: step, progress, report\n"
"  --rollback            stop and undefine the new domain (volumes kept unless\n"
"                        --purge), restore autostart there, start the VM there\n"
"                        again, wait until its MACs are back on the tunnel port\n"
"  --stage2              define stage 2, stop and start the domain, wait for it\n"
"  --state-dir DIR       journals (default " DEFAULT_STATE_DIR ")\n"
"\n"
"Exit status: 0 done, 1 a step failed (rerun to continue), 2 usage, 3 refused,\n"
"4 interrupted (rerun to continue).\n");
}

enum {
	C_FROM = 300, C_SOURCE, C_KEY, C_POOL, C_CONNECT, C_BRIDGE_MAP, C_BUS, C_NIC, C_DTYPE, C_MACHINE, C_BOOT_DIR,
	C_CONSOLE, C_WAIVE, C_SHUT_T, C_FORCE, C_ARR_T, C_WARM, C_YES, C_DRY, C_JSON, C_ROLLBACK, C_PURGE, C_STAGE2,
	C_LIST, C_STATE,
};

static long parse_secs(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v > 0 && v <= 86400 ? v : -1;
}

static int valid_vm_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 128)
		return 0;
	for (; *s; s++)
		if (*s == '/' || (unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

int cutover_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, C_FROM }, { "source", required_argument, NULL, C_SOURCE },
		{ "key", required_argument, NULL, C_KEY }, { "pool", required_argument, NULL, C_POOL },
		{ "connect", required_argument, NULL, C_CONNECT },
		{ "bridge-map", required_argument, NULL, C_BRIDGE_MAP },
		{ "disk-bus", required_argument, NULL, C_BUS }, { "nic-model", required_argument, NULL, C_NIC },
		{ "domain-type", required_argument, NULL, C_DTYPE }, { "machine", required_argument, NULL, C_MACHINE },
		{ "boot-dir", required_argument, NULL, C_BOOT_DIR },
		{ "console-log", required_argument, NULL, C_CONSOLE }, { "waive", required_argument, NULL, C_WAIVE },
		{ "shutdown-timeout", required_argument, NULL, C_SHUT_T }, { "force", no_argument, NULL, C_FORCE },
		{ "arrival-timeout", required_argument, NULL, C_ARR_T },
		{ "warm-only", no_argument, NULL, C_WARM }, { "yes", no_argument, NULL, C_YES },
		{ "dry-run", no_argument, NULL, C_DRY }, { "json", no_argument, NULL, C_JSON },
		{ "rollback", no_argument, NULL, C_ROLLBACK }, { "purge", no_argument, NULL, C_PURGE },
		{ "stage2", no_argument, NULL, C_STAGE2 }, { "list", no_argument, NULL, C_LIST },
		{ "state-dir", required_argument, NULL, C_STATE }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cut c = { .state_dir = DEFAULT_STATE_DIR, .o = { .force = -1 } };
	struct sigaction sa = { .sa_handler = on_signal };
	char err[1024];
	int opt, r = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "hy", opts, NULL)) != -1) {
		switch (opt) {
		case C_FROM: c.o.from = optarg; break;
		case C_SOURCE: c.o.source = optarg; break;
		case C_KEY: c.o.key = optarg; break;
		case C_POOL: c.o.pool = optarg; break;
		case C_CONNECT: c.o.uri = optarg; break;
		case C_BRIDGE_MAP: c.o.bridge_map = optarg; break;
		case C_BUS: c.o.disk_bus = optarg; break;
		case C_NIC: c.o.nic_model = optarg; break;
		case C_DTYPE: c.o.domain_type = optarg; break;
		case C_MACHINE: c.o.machine = optarg; break;
		case C_BOOT_DIR: c.o.boot_dir = optarg; break;
		case C_CONSOLE: c.o.console_log = optarg; break;
		case C_WAIVE: {
			char **w = realloc(c.o.waive, (c.o.n_waive + 1) * sizeof(*w));

			if (!w)
				return EXIT_FAIL;
			c.o.waive = w;
			w[c.o.n_waive++] = optarg;
			break;
		}
		case C_SHUT_T:
		case C_ARR_T: {
			long v = parse_secs(optarg);

			if (v < 0) {
				fprintf(stderr, "bridgectl cutover: --%s %s: seconds from 1 to 86400 expected\n",
					opt == C_SHUT_T ? "shutdown-timeout" : "arrival-timeout", optarg);
				return EXIT_USAGE;
			}
			*(opt == C_SHUT_T ? &c.o.shutdown_timeout : &c.o.arrival_timeout) = v;
			break;
		}
		case C_FORCE: c.o.force = 1; break;
		case C_WARM: c.warm_only = true; break;
		case 'y':
		case C_YES: c.yes = true; break;
		case C_DRY: c.dry_run = true; break;
		case C_JSON: c.json = true; break;
		case C_ROLLBACK: c.rollback = true; break;
		case C_PURGE: c.purge = true; break;
		case C_STAGE2: c.stage2 = true; break;
		case C_LIST: c.list = true; break;
		case C_STATE: c.state_dir = optarg; break;
		case 'h':
			usage(stdout);
			free(c.o.waive);
			return 0;
		default:
			usage(stderr);
			free(c.o.waive);
			return EXIT_USAGE;
		}
	}
	c.tty = isatty(STDERR_FILENO);
	if (c.list) {
		free(c.o.waive);
		return list(&c);
	}
	if (optind != argc - 1 || (c.rollback + c.stage2 + c.warm_only > 1) || (c.purge && !c.rollback)) {
		fprintf(stderr, "bridgectl cutover: %s\n", optind != argc - 1 ? "one VM name expected" :
			c.purge ? "--purge goes with --rollback" : "--rollback, --stage2 and --warm-only exclude each other");
		usage(stderr);
		free(c.o.waive);
		return EXIT_USAGE;
	}
	c.vm = argv[optind];
	if (!valid_vm_name(c.vm)) {
		fprintf(stderr, "bridgectl cutover: '%s' is not a VM name\n", STR_ESCAPED(c.vm));
		free(c.o.waive);
		return EXIT_USAGE;
	}
	r = cutover_journal_open(c.state_dir, c.vm, !c.rollback && !c.stage2 && !c.dry_run, &c.jr, err, sizeof(err));
	if (r == -ENOENT && c.dry_run) {
		r = cutover_journal_open(c.state_dir, c.vm, true, &c.jr, err, sizeof(err));
	}
	if (r < 0) {
		fprintf(stderr, "bridgectl cutover: %s\n", err);
		free(c.o.waive);
		return r == -EBUSY ? EXIT_REFUSED : EXIT_FAIL;
	}
	options_merge(&c);
	if (!c.o.from) {
		fprintf(stderr, "bridgectl cutover: --from PEER is needed (the old host: a [Peer] of this host)\n");
		r = EXIT_USAGE;
		goto out;
	}
	fmt(c.dir, sizeof(c.dir), "%s/%s.d", c.state_dir, c.vm);
	fmt(c.cfg, sizeof(c.cfg), "%s/%s.cfg", c.dir, c.vm);
	fmt(c.sources, sizeof(c.sources), "%s/sources.json", c.dir);
	fmt(c.plan, sizeof(c.plan), "%s/plan.json", c.dir);
	fmt(c.stream_state, sizeof(c.stream_state), "%s/stream", c.dir);
	if (resolve_peer(&c) < 0) {
		r = EXIT_FAIL;
		goto out;
	}
	if (c.dry_run) {
		dry_run(&c);
		r = 0;
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((mkdir(c.dir, 0700) < 0 && errno != EEXIST) || (mkdir(c.stream_state, 0700) < 0 && errno != EEXIST)) {
		fprintf(stderr, "bridgectl cutover: %s: %s\n", c.dir, strerror(errno));
		r = EXIT_FAIL;
		goto out;
	}
	if (cutover_step_status(c.jr->root, CUT_INSPECT) != CUT_PENDING &&
	    cutover_step_status(c.jr->root, CUT_INSPECT) != CUT_RUNNING) {
		char why[512];

		if (load_vm_macs(&c, why, sizeof(why)) < 0) {
			fprintf(stderr, "bridgectl cutover: %s\n", why);
			r = EXIT_FAIL;
			goto out;
		}
	}
	if (c.rollback) {
		r = rollback(&c);
		goto out;
	}
	if (c.stage2) {
		r = stage2(&c);
		goto out;
	}
	{
		const char *st = cutover_state(c.jr->root);

		if (!strcmp(st, CUT_STATE_DONE) || !strcmp(st, CUT_STATE_STAGE2)) {
			say(&c, "%s: already cut over (%s)\n", c.vm, st);
			report(&c);
			goto out;
		}
		if (!strcmp(st, CUT_STATE_ROLLED_BACK) || !strcmp(st, CUT_STATE_ROLLING_BACK)) {
			fprintf(stderr, "bridgectl cutover: %s was %s: its journal %s stays as the record; move it away "
				"to start afresh\n", c.vm, !strcmp(st, CUT_STATE_ROLLED_BACK) ? "rolled back" :
				"being rolled back (rerun --rollback)", c.jr->path);
			r = EXIT_REFUSED;
			goto out;
		}
	}
	cutover_set_state(c.jr->root, CUT_STATE_RUNNING);
	json_object_object_add(c.jr->root, "error", NULL);
	json_object_object_add(c.jr->root, "failed_step", NULL);
	if (save(&c) < 0) {
		r = EXIT_FAIL;
		goto out;
	}
	for (enum cutover_step s; !r && (s = cutover_next_step(c.jr->root)) < CUT_STEP_MAX;) {
		if (stop_flag) {
			r = EXIT_INTERRUPTED;
			break;
		}
		if (c.warm_only && s == CUT_CONFIRM) {
			cutover_set_state(c.jr->root, CUT_STATE_WARM);
			save(&c);
			say(&c, "%s: copied warm; it keeps running on %s. `bridgectl cutover %s --yes` finishes the move.\n",
			    c.vm, c.o.from, c.vm);
			break;
		}
		switch (s) {
		case CUT_INSPECT: r = do_inspect(&c); break;
		case CUT_PLAN: r = do_plan(&c); break;
		case CUT_CREATE: r = do_create(&c); break;
		case CUT_WARM:
			if (step_begin(&c, s, NULL) < 0) {
				r = EXIT_FAIL;
				break;
			}
			r = do_copy(&c, s, strcmp(cutover_jstr(step_obj(&c, CUT_INSPECT), "old_state") ?
						  cutover_jstr(step_obj(&c, CUT_INSPECT), "old_state") : "", "shut off"));
			break;
		case CUT_PREFLIGHT: r = do_preflight(&c); break;
		case CUT_CONFIRM: r = do_confirm(&c); break;
		case CUT_SHUTDOWN: r = do_shutdown(&c); break;
		case CUT_DELTA:
			if (step_begin(&c, s, NULL) < 0) {
				r = EXIT_FAIL;
				break;
			}
			r = do_copy(&c, s, false);
			break;
		case CUT_DEFINE: r = do_define(&c); break;
		case CUT_START: r = do_start(&c); break;
		case CUT_ARRIVAL: r = do_arrival(&c); break;
		case CUT_AUTOSTART: r = do_autostart(&c); break;
		default: r = EXIT_FAIL; break;
		}
	}
	if (!r && cutover_next_step(c.jr->root) == CUT_STEP_MAX) {
		cutover_set_state(c.jr->root, CUT_STATE_DONE);
		json_object_object_add(c.jr->root, "done_at", json_object_new_double(now_real()));
		if (save(&c) < 0)
			r = EXIT_FAIL;
		else
			report(&c);
	}
out:
	cutover_journal_close(c.jr);
	if (!c.o.n_waive || c.o.waive)
		free(c.o.waive);
	return r;
}
