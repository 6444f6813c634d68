/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The old host's side of a cutover (MigrateListen): the daemon serves, to
 * a peer that authenticates with the PublicKey of one of its [Peer]s, for
 * the VMs whose Xen configs are in XenConfigDir only: their disks
 * (read-only; a warm copy of a disk in use), their config, their state,
 * a shutdown, a start (a rollback), and switching their autostart off and
 * back (through the backend of MigrateSource), and nothing else.
 * docs/STREAM.md, "Copying from the old host's daemon" and "What else the
 * old host serves".
 *
 * The listener lives in the event loop; every accepted connection is served
 * by a forked child (a copy takes minutes to hours, the loop must never
 * block), which keeps only the connection and the private key, runs the
 * stream handshake as responder, reads one request and either refuses it
 * (a reply with the reason, and a log line) or runs the stream engine as
 * the sender. SIGCHLD (through the daemon's signalfd) reaps the children.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bridged/daemon.h"
#include "common/escape.h"
#include "common/log.h"
#include "migrate/migrate.h"

#define MIGSRV_CHILDREN_MAX 16
#define MIGSRV_HANDSHAKE_MS 15000
#define MIGSRV_REQUEST_MS 30000

/* One daemon per process: the children are tracked here. */
static pid_t children[MIGSRV_CHILDREN_MAX];
static unsigned n_children;

/* ---- the child ------------------------------------------------------------ */

struct conn {
	struct stream_chan *ch;
	int fd;
	const char *who;	/* "198.18.0.2:40000" or "peer NAME (198.18.0.2:40000)" */
};

/* Sends a refusal to the client and logs it; returns the exit status. */
static int __attribute__((format(printf, 3, 4)))
refuse(struct conn *c, int err, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_warnx("migrate: %s: refused: %s", c->who, text);
	if (fetch_send_reply(c->ch, c->fd, (uint16_t)(err > 0 && err < 65536 ? err : EPERM), text) < 0)
		log_debug("migrate: %s: could not send the refusal", c->who);
	return 3;
}

/* XenConfigDir/NAME, else XenConfigDir/NAME.cfg: a regular file. */
static int find_config(const char *dir, const char *name, char *path, size_t len)
{
	static const char *const suffixes[] = { "", ".cfg" };
	struct stat st;

	for (size_t i = 0; i < 2; i++) {
		if ((size_t)snprintf(path, len, "%s/%s%s", dir, name, suffixes[i]) >= len)
			return -ENAMETOOLONG;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return 0;
	}
	return -ENOENT;
}

/* The swap signature of the disk's first bytes (one bounded read), so the
 * new host can make its swap with the same UUID and label; null when none
 * or unreadable (logged). */
static json_object *swap_json(const struct xen_disk *dk, const struct stream_source *src)
{
	struct swapsig sig;
	int r = swapsig_read(stream_source_fd(src), &sig);

	if (r < 0)
		log_warnx("migrate: %s: reading its first %d bytes: %s", STR_ESCAPED(dk->target),
			  SWAPSIG_READ, strerror(-r));
	return r == 1 ? swapsig_json(&sig) : NULL;
}

static json_object *disk_json(const struct xen_disk *dk)
{
	json_object *j = json_object_new_object();
	struct stream_source *src = NULL;
	char err[256] = "";
	bool in_use = false;
	int r;

	json_object_object_add(j, "vdev", json_object_new_string(dk->vdev ? dk->vdev : ""));
	json_object_object_add(j, "target", dk->target ? json_object_new_string(dk->target) : NULL);
	json_object_object_add(j, "devtype", json_object_new_string(xen_devtype_names[dk->devtype]));
	json_object_object_add(j, "access", json_object_new_string(xen_access_names[dk->access]));
	json_object_object_add(j, "format", dk->format ? json_object_new_string(dk->format) : NULL);
	if (!dk->target)
		return j;
	r = stream_source_open(dk->target, false, &src, err, sizeof(err));
	if (r == -EBUSY) {
		in_use = true;
		r = stream_source_open(dk->target, true, &src, err, sizeof(err));
	}
	if (r < 0) {
		json_object_object_add(j, "size", NULL);
		json_object_object_add(j, "error", json_object_new_string(err));
		return j;
	}
	json_object_object_add(j, "size", json_object_new_int64((int64_t)stream_source_size(src)));
	json_object_object_add(j, "in_use", json_object_new_boolean(in_use));
	json_object_object_add(j, "swap", swap_json(dk, src));
	stream_source_free(src);
	return j;
}

static int serve_list(struct conn *c, const char *cfgpath, const struct xen_vm *vm, const char *name)
{
	json_object *j = json_object_new_object(), *disks = json_object_new_array();
	int r;

	json_object_object_add(j, "vm", json_object_new_string(name));
	json_object_object_add(j, "config", json_object_new_string(cfgpath));
	for (size_t i = 0; i < vm->n_disks; i++)
		json_object_array_add(disks, disk_json(&vm->disks[i]));
	json_object_object_add(j, "disks", disks);
	r = fetch_send_reply(c->ch, c->fd, 0, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	log_info("migrate: %s: listed the disks of VM %s", c->who, name);
	return r < 0 ? 1 : 0;
}

/*
 * Opens the disk for a copy: refused while in use (a block device held
 * exclusively, a file open for writing: the VM runs), unless the request
 * is warm. A warm copy of a disk in use is verified against what was read;
 * the final pass must be a delta without warm, which is refused until the
 * VM is off, so it cannot miss a write. A warm request for a disk that is
 * not in use is an ordinary copy. 0, or the refusal's exit status.
 */
static int open_disk(struct conn *c, const struct xen_disk *dk, const struct fetch_request *req,
		     struct stream_source **src, bool *in_use)
{
	bool warm = req->flags & FETCH_FLAG_WARM, delta = req->flags & FETCH_FLAG_DELTA;
	char err[256] = "";
	int r;

	r = stream_source_open(dk->target, false, src, err, sizeof(err));
	if (r == -EBUSY && warm) {
		*in_use = true;
		r = stream_source_open(dk->target, true, src, err, sizeof(err));
	}
	if (r == -EBUSY)
		return refuse(c, EBUSY, "VM %s disk %s (%s) is in use (the VM is running?); %s", req->vm,
			      req->vdev, STR_ESCAPED(dk->target), delta ?
			      "the final delta pass is taken with the VM shut down (--warm --delta for "
			      "an interim pass while it runs)" :
			      "shut the VM down first, or copy it warm (--warm) now and again with "
			      "--delta once it is shut down");
	if (r < 0)
		return refuse(c, -r, "VM %s disk %s: %s", req->vm, req->vdev, STR_ESCAPED(err));
	return 0;
}

static int serve_disk(struct conn *c, const struct xen_vm *vm, const struct fetch_request *req)
{
	const struct xen_disk *dk = NULL;
	struct stream_source *src = NULL;
	struct stream_report *rep;
	struct stream_opts o = { 0 };
	char list[256] = "";
	json_object *j;
	size_t used = 0;
	bool in_use = false;
	int r;

	for (size_t i = 0; i < vm->n_disks; i++) {
		const char *v = vm->disks[i].vdev ? vm->disks[i].vdev : "";

		if (!strcmp(v, req->vdev))
			dk = &vm->disks[i];
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", v);
	}
	if (!dk)
		return refuse(c, ENOENT, "VM %s has no disk %s (its disks: %s)", req->vm, req->vdev,
			      list[0] ? list : "none");
	if (!dk->target)
		return refuse(c, ENOENT, "VM %s: disk %s is an empty cdrom drive", req->vm, req->vdev);
	r = open_disk(c, dk, req, &src, &in_use);
	if (r)
		return r;

	j = json_object_new_object();
	json_object_object_add(j, "vm", json_object_new_string(req->vm));
	json_object_object_add(j, "vdev", json_object_new_string(req->vdev));
	json_object_object_add(j, "target", json_object_new_string(dk->target));
	json_object_object_add(j, "size", json_object_new_int64((int64_t)stream_source_size(src)));
	json_object_object_add(j, "in_use", json_object_new_boolean(in_use));
	r = fetch_send_reply(c->ch, c->fd, 0, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	if (r < 0) {
		stream_source_free(src);
		return 1;
	}
	log_info("migrate: %s: sending VM %s disk %s (%s, %llu bytes)%s%s", c->who, req->vm, req->vdev,
		 STR_ESCAPED(dk->target), (unsigned long long)stream_source_size(src),
		 req->flags & FETCH_FLAG_DELTA ? ", delta" : "",
		 in_use ? ", warm: in use by the running VM" : "");
	rep = calloc(1, sizeof(*rep));
	if (!rep) {
		stream_source_free(src);
		return 1;
	}
	o.delta = req->flags & FETCH_FLAG_DELTA;
	r = stream_send(c->ch, c->fd, src, &o, rep);
	log_info("migrate: %s: VM %s disk %s: %s%s%s (%llu bytes sent, %llu zero bytes skipped, %.1f s)",
		 c->who, req->vm, req->vdev, stream_result_to_string(rep->result),
		 rep->message[0] ? ": " : "", STR_ESCAPED(rep->message),
		 (unsigned long long)rep->bytes_sent,
		 (unsigned long long)rep->zero_bytes, rep->duration);
	free(rep);
	stream_source_free(src);
	return r == 0 ? 0 : 1;
}

/* The requests other than the disks (migrate/source/serve.h). */
static int serve_source(struct conn *c, const struct node_cfg *n, const struct fetch_request *req,
			const char *cfgpath, const struct xen_vm *vm)
{
	struct source_backend *b = NULL;
	struct source_ctx ctx = {
		.auto_dir = n->xen_auto_dir, .save_dir = n->xen_save_dir,
		.state_dir = n->migrate_state_dir,
	};
	const char *op = fetch_op_to_string(req->op);
	char err[256] = "", desc[600], *text = NULL;
	int st, r;

	if (req->op == FETCH_OP_CONFIG) {
		st = source_serve_config(req->vm, vm->name, cfgpath, &text);
	} else {
		r = source_backend_new(n->migrate_source, n->migrate_source_tool, &b, err, sizeof(err));
		if (r < 0)
			return refuse(c, -r, "VM %s: %s", req->vm, err);
		ctx.backend = b;
		source_backend_describe(b, desc, sizeof(desc));
		switch (req->op) {
		case FETCH_OP_STATE:
			st = source_serve_state(&ctx, req->vm, vm->name, &text);
			break;
		case FETCH_OP_SHUTDOWN:
			log_info("migrate: %s: shutting down VM %s (domain %s, %s; %u s%s)", c->who, req->vm,
				 vm->name, desc, req->timeout_s,
				 req->flags & FETCH_FLAG_FORCE ? ", then destroy" : "");
			st = source_serve_shutdown(&ctx, req->vm, vm->name, req->timeout_s,
						   req->flags & FETCH_FLAG_FORCE, &text);
			break;
		case FETCH_OP_START:
			log_info("migrate: %s: starting VM %s (domain %s, %s; %s)", c->who, req->vm, vm->name,
				 desc, cfgpath);
			st = source_serve_start(&ctx, req->vm, vm->name, cfgpath, &text);
			break;
		default:
			st = source_serve_autostart(&ctx, req->op == FETCH_OP_AUTOSTART_OFF, req->vm,
						    vm->name, cfgpath, &text);
			break;
		}
	}
	source_backend_free(b);
	if (st < 0 || !text) {
		free(text);
		return refuse(c, ENOMEM, "VM %s: %s: out of memory", req->vm, op);
	}
	if (st > 0) {
		r = refuse(c, st, "%s", text);
		free(text);
		return r;
	}
	r = fetch_send_reply(c->ch, c->fd, 0, text);
	if (req->op == FETCH_OP_CONFIG)
		log_info("migrate: %s: served the config of VM %s (%s)", c->who, req->vm, cfgpath);
	else
		log_info("migrate: %s: VM %s: %s: %s", c->who, req->vm, op, text);
	free(text);
	return r < 0 ? 1 : 0;
}

static int serve(struct daemon *d, int fd, const char *addr)
{
	const struct config *cfg = d->cfg;
	uint8_t (*keys)[KEY_LEN] = NULL;
	struct stream_auth auth = { 0 };
	struct fetch_request req;
	struct conn c = { .fd = fd, .who = addr };
	struct xen_vm *vm = NULL;
	struct xen_error xerr = { 0 };
	char err[256] = "", who[160], cfgpath[CONFIG_PATH_MAX + FETCH_NAME_MAX + 8];
	const char *why;
	unsigned idx = 0;
	int r, status;

	if (!cfg->n_peers) {
		log_warnx("migrate: %s: refused: no [Peer] is configured", addr);
		return 3;
	}
	keys = calloc(cfg->n_peers, sizeof(*keys));
	if (!keys)
		return 1;
	for (size_t i = 0; i < cfg->n_peers; i++)
		memcpy(keys[i], cfg->peers[i].public_key, KEY_LEN);
	auth.local_priv = d->private_key;
	auth.peers = (const uint8_t (*)[KEY_LEN])keys;
	auth.n_peers = (unsigned)cfg->n_peers;
	r = stream_handshake(fd, STREAM_RESPONDER, &auth, MIGSRV_HANDSHAKE_MS, &c.ch, &idx, err, sizeof(err));
	free(keys);
	if (r < 0) {
		if (r == -EACCES)
			log_warnx("migrate: %s: refused: not authenticated (its key is the PublicKey of "
				  "no [Peer])", addr);
		else
			log_warnx("migrate: %s: refused: %s", addr, err[0] ? err : strerror(-r));
		return 3;
	}
	snprintf(who, sizeof(who), "peer %s (%s)", cfg->peers[idx].name, addr);
	c.who = who;

	r = fetch_recv_request(c.ch, fd, MIGSRV_REQUEST_MS, &req);
	if (r < 0) {
		if (r == -EBADMSG)
			status = refuse(&c, EPROTO, "not a valid request");
		else {
			log_warnx("migrate: %s: no request: %s", who, strerror(-r));
			status = 1;
		}
		goto out;
	}
	if (!fetch_vm_name_ok(req.vm)) {
		status = refuse(&c, EINVAL, "\"%s\" is not a VM name (no '/', no leading '.')", req.vm);
		goto out;
	}
	if (!fetch_op_to_string(req.op)) {
		status = refuse(&c, EOPNOTSUPP, "unknown request %u", req.op);
		goto out;
	}
	why = fetch_request_fields_check(&req);
	if (why) {
		status = refuse(&c, EINVAL, "VM %s: %s request with %s", req.vm,
				fetch_op_to_string(req.op), why);
		goto out;
	}
	r = find_config(cfg->node.xen_config_dir, req.vm, cfgpath, sizeof(cfgpath));
	if (r < 0) {
		status = refuse(&c, ENOENT, "no VM %s here (no %s/%s or %s.cfg)", req.vm,
				cfg->node.xen_config_dir, req.vm, req.vm);
		goto out;
	}
	r = xen_vm_load(cfgpath, &vm, &xerr);
	if (r < 0) {
		status = refuse(&c, EINVAL, "VM %s: %s does not parse: %d:%d: %s", req.vm, cfgpath,
				xerr.line, xerr.col, xerr.msg);
		goto out;
	}
	if (req.op == FETCH_OP_LIST)
		status = serve_list(&c, cfgpath, vm, req.vm);
	else if (req.op == FETCH_OP_DISK)
		status = serve_disk(&c, vm, &req);
	else
		status = serve_source(&c, &cfg->node, &req, cfgpath, vm);
out:
	xen_vm_free(vm);
	stream_chan_free(c.ch);
	return status;
}

static void __attribute__((noreturn)) child_main(struct daemon *d, int fd, const char *addr)
{
	int one = 1, idle = 30, intvl = 10, cnt = 6;
	sigset_t none;

	/* The daemon's signal mask and handlers are not ours; a child outliving
	 * its daemon stops with it. */
	sigemptyset(&none);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(1);
	/* Keep stdio and the connection only: no TAP, no tunnel socket, no
	 * netlink, no epoll, no lock, no control socket. syslog reconnects. */
	closelog();
	if (fd != 3) {
		if (dup2(fd, 3) < 0)
			_exit(1);
		fd = 3;
	}
	if (close_range(4, ~0U, 0) < 0)
		for (int i = 4; i < 65536; i++)
			close(i);
	/* dup2 cleared close-on-exec: the tools of MigrateSource get no socket */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	_exit(serve(d, fd, addr));
}

int migsrv_root_main(const struct config *cfg, int chan)
{
	(void)cfg;
	close(chan);
	return 1;
}

/* ---- the daemon side ---------------------------------------------------- */

static void migsrv_cb(struct loop_source *s, uint32_t events)
{
	struct daemon *d = container_of(s, struct daemon, migsrv);

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char addr[80];
		pid_t pid;
		int fd;

		fd = accept4(s->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("migrate: accept");
			return;
		}
		sockaddr_to_string(&ss, addr, sizeof(addr));
		if (n_children >= MIGSRV_CHILDREN_MAX) {
			log_warnx("migrate: %s: refused: already %u copies running", addr, n_children);
			close(fd);
			continue;
		}
		pid = fork();
		if (pid < 0) {
			log_warn("migrate: %s: fork", addr);
			close(fd);
			continue;
		}
		if (pid == 0)
			child_main(d, fd, addr);
		close(fd);
		children[n_children++] = pid;
		log_info("migrate: connection from %s (served by pid %d)", addr, (int)pid);
	}
}

void migsrv_reap(struct daemon *d)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (unsigned i = 0; i < n_children; i++) {
			if (children[i] != pid)
				continue;
			children[i] = children[--n_children];
			break;
		}
		if (WIFSIGNALED(st))
			log_info("migrate: pid %d killed by signal %d", (int)pid, WTERMSIG(st));
		else
			log_debug("migrate: pid %d done, status %d", (int)pid, WEXITSTATUS(st));
	}
}

int migsrv_open(struct daemon *d)
{
	const struct node_cfg *n = &d->cfg->node;
	char addr[80];
	int fd, one = 1;

	d->migsrv.fd = -1;
	n_children = 0;
	if (!n->has_migrate_listen)
		return 0;
	fd = socket(n->migrate_listen.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&n->migrate_listen, n->migrate_listen_len) < 0 ||
	    listen(fd, 16) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	d->migsrv.fd = fd;
	d->migsrv.cb = migsrv_cb;
	log_info("migrate: serving the disks of the VMs in %s on %s, to [Peer]s only", n->xen_config_dir,
		 sockaddr_to_string(&n->migrate_listen, addr, sizeof(addr)));
	log_info("migrate: their state, shutdown and autostart through %s%s%s (autostart: %s, %s; "
		 "journals in %s)", n->migrate_source, n->migrate_source_tool[0] ? " " : "",
		 n->migrate_source_tool, n->xen_auto_dir[0] ? n->xen_auto_dir : "no auto folder",
		 n->xen_save_dir[0] ? n->xen_save_dir : "no save folder", n->migrate_state_dir);
	return loop_add(d->loop, &d->migsrv, EPOLLIN);
}

void migsrv_close(struct daemon *d)
{
	if (d->migsrv.fd >= 0) {
		loop_del(d->loop, &d->migsrv);
		close(d->migsrv.fd);
		d->migsrv.fd = -1;
	}
	/* Copies in progress stop with the daemon (the receiver resumes). */
	for (unsigned i = 0; i < n_children; i++)
		kill(children[i], SIGTERM);
	for (int t = 0; t < 50 && n_children; t++) {
		struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };

		migsrv_reap(d);
		if (n_children)
			nanosleep(&ts, NULL);
	}
	for (unsigned i = 0; i < n_children; i++) {
		kill(children[i], SIGKILL);
		while (waitpid(children[i], NULL, 0) < 0 && errno == EINTR)
			;
	}
	n_children = 0;
}
