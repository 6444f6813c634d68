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
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cap-ng.h>
#include <json-c/json.h>
#include <sodium.h>

#include "bridged/daemon.h"
#include "bridged/priv.h"
#include "common/fileio.h"
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

/* ---- the host's part of a request: root when separated ------------------- */

/*
 * What the host's part of a request came to. The worker that speaks to
 * the network validates the request; the host's part (the VM's config, its
 * disks, the backend) runs in the root process of the connection's channel
 * when the daemon is separated (docs/SECURITY.md), else in the worker.
 */
struct result {
	int status;			/* 0: accepted; > 0: refused with this errno */
	char *text;			/* the reply (JSON) or why refused; malloc'd */
	struct stream_source *src;	/* DISK, accepted: the disk, opened read-only */
	bool in_use;
	char target[PATH_MAX];
	char cfgpath[CONFIG_PATH_MAX + FETCH_NAME_MAX + 8];
};

static void __attribute__((format(printf, 3, 4)))
res_refuse(struct result *res, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&res->text, fmt, ap) < 0)
		res->text = NULL;
	va_end(ap);
	res->status = err > 0 ? err : EPERM;
}

static void result_clear(struct result *res)
{
	free(res->text);
	stream_source_free(res->src);
	memset(res, 0, sizeof(*res));
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

static void host_list(struct result *res, const struct xen_vm *vm, const char *name)
{
	json_object *j = json_object_new_object(), *disks = json_object_new_array();

	json_object_object_add(j, "vm", json_object_new_string(name));
	json_object_object_add(j, "config", json_object_new_string(res->cfgpath));
	for (size_t i = 0; i < vm->n_disks; i++)
		json_object_array_add(disks, disk_json(&vm->disks[i]));
	json_object_object_add(j, "disks", disks);
	res->text = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	if (!res->text)
		res_refuse(res, ENOMEM, "VM %s: list: out of memory", name);
}

/*
 * Opens the disk for a copy: refused while in use (a block device held
 * exclusively, a file open for writing: the VM runs), unless the request
 * is warm. A warm copy of a disk in use is verified against what was read;
 * the final pass must be a delta without warm, which is refused until the
 * VM is off, so it cannot miss a write. A warm request for a disk that is
 * not in use is an ordinary copy.
 */
static void host_disk(struct result *res, const struct xen_vm *vm, const struct fetch_request *req)
{
	bool warm = req->flags & FETCH_FLAG_WARM, delta = req->flags & FETCH_FLAG_DELTA;
	const struct xen_disk *dk = NULL;
	char list[256] = "", err[256] = "";
	size_t used = 0;
	int r;

	for (size_t i = 0; i < vm->n_disks; i++) {
		const char *v = vm->disks[i].vdev ? vm->disks[i].vdev : "";

		if (!strcmp(v, req->vdev))
			dk = &vm->disks[i];
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", v);
	}
	if (!dk)
		return res_refuse(res, ENOENT, "VM %s has no disk %s (its disks: %s)", req->vm, req->vdev,
				  list[0] ? list : "none");
	if (!dk->target)
		return res_refuse(res, ENOENT, "VM %s: disk %s is an empty cdrom drive", req->vm, req->vdev);
	snprintf(res->target, sizeof(res->target), "%s", dk->target);
	r = stream_source_open(dk->target, false, &res->src, err, sizeof(err));
	if (r == -EBUSY && warm) {
		res->in_use = true;
		r = stream_source_open(dk->target, true, &res->src, err, sizeof(err));
	}
	if (r == -EBUSY)
		return res_refuse(res, EBUSY, "VM %s disk %s (%s) is in use (the VM is running?); %s",
				  req->vm, req->vdev, STR_ESCAPED(dk->target), delta ?
				  "the final delta pass is taken with the VM shut down (--warm --delta for "
				  "an interim pass while it runs)" :
				  "shut the VM down first, or copy it warm (--warm) now and again with "
				  "--delta once it is shut down");
	if (r < 0)
		return res_refuse(res, -r, "VM %s disk %s: %s", req->vm, req->vdev, STR_ESCAPED(err));
}

/* The requests other than the disks (migrate/source/serve.h). */
static void host_source(struct result *res, const struct node_cfg *n, const struct fetch_request *req,
			const char *who, const struct xen_vm *vm)
{
	struct source_backend *b = NULL;
	struct source_ctx ctx = {
		.auto_dir = n->xen_auto_dir, .save_dir = n->xen_save_dir,
		.state_dir = n->migrate_state_dir,
	};
	const char *op = fetch_op_to_string(req->op);
	char err[256] = "", desc[600];
	int st, r;

	if (req->op == FETCH_OP_CONFIG) {
		st = source_serve_config(req->vm, vm->name, res->cfgpath, &res->text);
	} else {
		r = source_backend_new(n->migrate_source, n->migrate_source_tool, &b, err, sizeof(err));
		if (r < 0)
			return res_refuse(res, -r, "VM %s: %s", req->vm, err);
		ctx.backend = b;
		source_backend_describe(b, desc, sizeof(desc));
		switch (req->op) {
		case FETCH_OP_STATE:
			st = source_serve_state(&ctx, req->vm, vm->name, &res->text);
			break;
		case FETCH_OP_SHUTDOWN:
			log_info("migrate: %s: shutting down VM %s (domain %s, %s; %u s%s)", who, req->vm,
				 vm->name, desc, req->timeout_s,
				 req->flags & FETCH_FLAG_FORCE ? ", then destroy" : "");
			st = source_serve_shutdown(&ctx, req->vm, vm->name, req->timeout_s,
						   req->flags & FETCH_FLAG_FORCE, &res->text);
			break;
		case FETCH_OP_START:
			log_info("migrate: %s: starting VM %s (domain %s, %s; %s)", who, req->vm, vm->name,
				 desc, res->cfgpath);
			st = source_serve_start(&ctx, req->vm, vm->name, res->cfgpath, &res->text);
			break;
		default:
			st = source_serve_autostart(&ctx, req->op == FETCH_OP_AUTOSTART_OFF, req->vm,
						    vm->name, res->cfgpath, &res->text);
			break;
		}
	}
	source_backend_free(b);
	if (st < 0 || !res->text) {
		free(res->text);
		res->text = NULL;
		return res_refuse(res, ENOMEM, "VM %s: %s: out of memory", req->vm, op);
	}
	if (st > 0)
		res->status = st;
}

/* The host's part of a validated request. */
static void host_serve(const struct config *cfg, const struct fetch_request *req, const char *who,
		       struct result *res)
{
	struct xen_vm *vm = NULL;
	struct xen_error xerr = { 0 };
	int r;

	r = find_config(cfg->node.xen_config_dir, req->vm, res->cfgpath, sizeof(res->cfgpath));
	if (r < 0)
		return res_refuse(res, ENOENT, "no VM %s here (no %s/%s or %s.cfg)", req->vm,
				  cfg->node.xen_config_dir, req->vm, req->vm);
	r = xen_vm_load(res->cfgpath, &vm, &xerr);
	if (r < 0)
		return res_refuse(res, EINVAL, "VM %s: %s does not parse: %d:%d: %s", req->vm,
				  res->cfgpath, xerr.line, xerr.col, xerr.msg);
	if (req->op == FETCH_OP_LIST)
		host_list(res, vm, req->vm);
	else if (req->op == FETCH_OP_DISK)
		host_disk(res, vm, req);
	else
		host_source(res, &cfg->node, req, who, vm);
	xen_vm_free(vm);
}

/* The request checks, in the worker and again in the root process. */
static const char *request_check(const struct fetch_request *req)
{
	if (!fetch_vm_name_ok(req->vm))
		return "not a VM name (no '/', no leading '.')";
	if (!fetch_op_to_string(req->op))
		return "unknown request";
	return fetch_request_fields_check(req);
}

/* ---- the channel between the worker and its root process ----------------- */

struct chan_req {
	struct fetch_request req;	/* validated by the worker, checked again */
	char who[160];			/* for the log lines */
};

struct chan_rep {
	int32_t status;			/* 0, > 0 refused (errno), < 0 failed */
	uint8_t in_use, is_blk, warm;
	uint64_t size;
	char target[PATH_MAX];
	char real[PATH_MAX];
	char cfgpath[CONFIG_PATH_MAX + FETCH_NAME_MAX + 8];
};

#define CHAN_TEXT_MAX (16u << 20)

static bool nul_terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

/* The root process of one connection's channel: one request, one reply
 * (a DISK's descriptor, else the text in a memfd). */
int migsrv_root_main(const struct config *cfg, int chan)
{
	struct chan_req q;
	struct chan_rep *rep = calloc(1, sizeof(*rep));
	struct result res = { 0 };
	const char *why;
	int fd = -1, r;

	prctl(PR_SET_NAME, "bridged-mig");
	if (!rep)
		return 1;
	r = priv_recv(chan, &q, sizeof(q), &fd);
	if (fd >= 0)
		close(fd);
	fd = -1;
	if (r <= 0) {
		free(rep);
		return r == 0 ? 0 : 1;
	}
	if (!nul_terminated(q.req.vm, sizeof(q.req.vm)) || !nul_terminated(q.req.vdev, sizeof(q.req.vdev)) ||
	    !nul_terminated(q.who, sizeof(q.who)))
		why = "names not terminated";
	else
		why = request_check(&q.req);
	if (why) {
		log_warnx("migrate: privileged part: a bad request from the worker (%s), refusing", why);
		rep->status = -EINVAL;
	} else {
		host_serve(cfg, &q.req, q.who, &res);
		rep->status = res.status;
		rep->in_use = res.in_use;
		snprintf(rep->target, sizeof(rep->target), "%s", res.target);
		snprintf(rep->cfgpath, sizeof(rep->cfgpath), "%s", res.cfgpath);
		if (!res.status && res.src) {
			fd = stream_source_fd(res.src);
			rep->size = stream_source_size(res.src);
			rep->is_blk = stream_source_is_blk(res.src);
			rep->warm = stream_source_warm(res.src);
			snprintf(rep->real, sizeof(rep->real), "%s", stream_source_real(res.src));
		} else if (res.text) {
			fd = memfd_create("bridged-reply", MFD_CLOEXEC);
			if (fd < 0 || file_write_all(fd, res.text, strlen(res.text)) < 0) {
				rep->status = -EIO;
				if (fd >= 0)
					close(fd);
				fd = -1;
			}
		}
	}
	r = priv_send(chan, rep, sizeof(*rep), fd);
	if (fd >= 0 && !res.src)
		close(fd);
	result_clear(&res);
	free(rep);
	return r < 0 ? 1 : 0;
}

/* The worker's side: asks the root process; 0, or -errno (channel). */
static int remote_serve(int chan, const struct fetch_request *req, const char *who, struct result *res)
{
	struct chan_req q = { .req = *req };
	struct chan_rep *rep = calloc(1, sizeof(*rep));
	struct stat st;
	int fd = -1, r;

	if (!rep)
		return -ENOMEM;
	snprintf(q.who, sizeof(q.who), "%s", who);
	r = priv_send(chan, &q, sizeof(q), -1);
	if (r == 0)
		r = priv_recv(chan, rep, sizeof(*rep), &fd);
	if (r == 0)
		r = -ECONNRESET;
	if (r < 0)
		goto out;
	if (rep->status < 0) {
		r = rep->status;
		goto out;
	}
	res->status = rep->status;
	res->in_use = rep->in_use;
	rep->target[sizeof(rep->target) - 1] = rep->real[sizeof(rep->real) - 1] = '\0';
	rep->cfgpath[sizeof(rep->cfgpath) - 1] = '\0';
	snprintf(res->target, sizeof(res->target), "%s", rep->target);
	snprintf(res->cfgpath, sizeof(res->cfgpath), "%s", rep->cfgpath);
	if (fd < 0) {
		r = -EPROTO;
		goto out;
	}
	if (req->op == FETCH_OP_DISK && !rep->status) {
		r = stream_source_adopt(fd, rep->target, rep->real, rep->is_blk, rep->warm, rep->size,
					&res->src);
		fd = -1;
		goto out;
	}
	/* the text: the reply or the refusal */
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size > CHAN_TEXT_MAX) {
		r = -EPROTO;
		goto out;
	}
	res->text = calloc(1, (size_t)st.st_size + 1);
	if (!res->text) {
		r = -ENOMEM;
		goto out;
	}
	if (pread(fd, res->text, (size_t)st.st_size, 0) != (ssize_t)st.st_size)
		r = -EIO;
out:
	if (fd >= 0)
		close(fd);
	free(rep);
	return r < 0 ? r : 0;
}

/* ---- the worker: speaks to the network, unprivileged when separated ------ */

static int send_disk(struct conn *c, const struct fetch_request *req, struct result *res)
{
	struct stream_source *src = res->src;
	struct stream_report *rep;
	struct stream_opts o = { 0 };
	json_object *j;
	int r;

	j = json_object_new_object();
	json_object_object_add(j, "vm", json_object_new_string(req->vm));
	json_object_object_add(j, "vdev", json_object_new_string(req->vdev));
	json_object_object_add(j, "target", json_object_new_string(res->target));
	json_object_object_add(j, "size", json_object_new_int64((int64_t)stream_source_size(src)));
	json_object_object_add(j, "in_use", json_object_new_boolean(res->in_use));
	r = fetch_send_reply(c->ch, c->fd, 0, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	if (r < 0)
		return 1;
	log_info("migrate: %s: sending VM %s disk %s (%s, %llu bytes)%s%s", c->who, req->vm, req->vdev,
		 STR_ESCAPED(res->target), (unsigned long long)stream_source_size(src),
		 req->flags & FETCH_FLAG_DELTA ? ", delta" : "",
		 res->in_use ? ", warm: in use by the running VM" : "");
	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return 1;
	o.delta = req->flags & FETCH_FLAG_DELTA;
	r = stream_send(c->ch, c->fd, src, &o, rep);
	log_info("migrate: %s: VM %s disk %s: %s%s%s (%llu bytes sent, %llu zero bytes skipped, %.1f s)",
		 c->who, req->vm, req->vdev, stream_result_to_string(rep->result),
		 rep->message[0] ? ": " : "", STR_ESCAPED(rep->message),
		 (unsigned long long)rep->bytes_sent,
		 (unsigned long long)rep->zero_bytes, rep->duration);
	free(rep);
	return r == 0 ? 0 : 1;
}

static int serve(struct daemon *d, int fd, int chan, const char *addr)
{
	const struct config *cfg = d->cfg;
	uint8_t (*keys)[KEY_LEN] = NULL;
	struct stream_auth auth = { 0 };
	struct fetch_request req;
	struct conn c = { .fd = fd, .who = addr };
	struct result res = { 0 };
	char err[256] = "", who[160];
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
	/* the private key is needed no more in this process */
	sodium_memzero(d->private_key, KEY_LEN);
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
	if (chan >= 0) {
		r = remote_serve(chan, &req, who, &res);
		if (r < 0) {
			status = refuse(&c, EIO, "VM %s: %s: the privileged part failed: %s", req.vm,
					fetch_op_to_string(req.op), strerror(-r));
			goto out;
		}
	} else {
		host_serve(cfg, &req, who, &res);
	}
	if (res.status) {
		status = refuse(&c, res.status, "%s", res.text ? res.text : "out of memory");
		goto out;
	}
	if (req.op == FETCH_OP_DISK) {
		status = send_disk(&c, &req, &res);
		goto out;
	}
	r = fetch_send_reply(c.ch, c.fd, 0, res.text);
	if (req.op == FETCH_OP_LIST)
		log_info("migrate: %s: listed the disks of VM %s", who, req.vm);
	else if (req.op == FETCH_OP_CONFIG)
		log_info("migrate: %s: served the config of VM %s (%s)", who, req.vm, res.cfgpath);
	else
		log_info("migrate: %s: VM %s: %s: %s", who, req.vm, fetch_op_to_string(req.op), res.text);
	status = r < 0 ? 1 : 0;
out:
	result_clear(&res);
	stream_chan_free(c.ch);
	return status;
}

static void __attribute__((noreturn)) child_main(struct daemon *d, int fd, int chan, const char *addr)
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
	/* Keep stdio, the connection (3) and the channel to the root part (4)
	 * only: no TAP, no tunnel socket, no netlink, no epoll, no lock, no
	 * control socket, no channel to the privileged helper. syslog
	 * reconnects. */
	closelog();
	priv_forget();
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	if (chan >= 0)
		chan = fcntl(chan, F_DUPFD_CLOEXEC, 10);
	if (fd < 0 || dup2(fd, 3) < 0 || (chan >= 0 && dup2(chan, 4) < 0))
		_exit(1);
	fd = 3;
	chan = chan >= 0 ? 4 : -1;
	if (close_range(chan >= 0 ? 5 : 4, ~0U, 0) < 0)
		for (int i = chan >= 0 ? 5 : 4; i < 65536; i++)
			close(i);
	/* dup2 cleared close-on-exec: the tools of MigrateSource get no socket */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (chan >= 0) {
		fcntl(chan, F_SETFD, FD_CLOEXEC);
		/* separated: the network worker needs no capability at all */
		capng_clear(CAPNG_SELECT_CAPS);
		if (capng_apply(CAPNG_SELECT_CAPS) < 0)
			_exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	_exit(serve(d, fd, chan, addr));
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
		int fd, chan;

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
		/* separated: the disks and the backend through a root process of
		 * this connection's own (docs/SECURITY.md) */
		chan = -1;
		if (priv_separated()) {
			chan = priv_migrate_channel(d);
			if (chan < 0) {
				log_warnx("migrate: %s: refused: no channel to the privileged part: %s", addr,
					  strerror(-chan));
				close(fd);
				continue;
			}
		}
		pid = fork();
		if (pid < 0) {
			log_warn("migrate: %s: fork", addr);
			close(fd);
			if (chan >= 0)
				close(chan);
			continue;
		}
		if (pid == 0)
			child_main(d, fd, chan, addr);
		close(fd);
		if (chan >= 0)
			close(chan);
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
