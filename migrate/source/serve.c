/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The replies of CONFIG, STATE, SHUTDOWN and AUTOSTART (serve.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "migrate/source/autostart.h"
#include "migrate/source/serve.h"

#define SHUTDOWN_POLL_MS 250
#define DESTROY_WAIT_MS 30000
#define START_WAIT_MS 30000

static int refused(char **ret_text, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refused(char **ret_text, int err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(ret_text, fmt, ap);
	va_end(ap);
	if (r < 0) {
		*ret_text = NULL;
		return -ENOMEM;
	}
	return err;
}

static int accepted(char **ret_text, json_object *j)
{
	*ret_text = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return *ret_text ? 0 : -ENOMEM;
}

static json_object *head(const char *vm, const char *domain)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "vm", json_object_new_string(vm));
	json_object_object_add(j, "domain", json_object_new_string(domain));
	return j;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- CONFIG ----------------------------------------------------------- */

int source_serve_config(const char *vm, const char *domain, const char *cfgpath, char **ret_text)
{
	uint8_t hash[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1], *b64 = NULL;
	unsigned char *buf = NULL;
	struct stat st;
	size_t len = 0, b64len;
	ssize_t n;
	json_object *j;
	int fd, r;

	fd = open(cfgpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return refused(ret_text, errno, "VM %s: %s: %s", vm, cfgpath, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return refused(ret_text, EINVAL, "VM %s: %s is not a regular file", vm, cfgpath);
	}
	buf = malloc(SOURCE_CONFIG_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* read to the end (or one byte past the limit), whatever stat said */
	while (len <= SOURCE_CONFIG_MAX) {
		n = read(fd, buf + len, SOURCE_CONFIG_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	r = n < 0 ? errno : 0;
	close(fd);
	if (r) {
		free(buf);
		return refused(ret_text, r, "VM %s: %s: %s", vm, cfgpath, strerror(r));
	}
	if (len > SOURCE_CONFIG_MAX) {
		free(buf);
		return refused(ret_text, EFBIG, "VM %s: %s is larger than %d bytes: not a Xen config?", vm,
			       cfgpath, SOURCE_CONFIG_MAX);
	}
	crypto_hash_sha256(hash, buf, len);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	b64 = malloc(b64len);
	if (!b64) {
		free(buf);
		return -ENOMEM;
	}
	sodium_bin2base64(b64, b64len, buf, len, sodium_base64_VARIANT_ORIGINAL);
	j = head(vm, domain);
	json_object_object_add(j, "path", json_object_new_string(cfgpath));
	json_object_object_add(j, "size", json_object_new_int64((int64_t)len));
	json_object_object_add(j, "sha256", json_object_new_string(hex));
	json_object_object_add(j, "base64", json_object_new_string(b64));
	free(b64);
	free(buf);
	return accepted(ret_text, j);
}

/* ---- STATE -------------------------------------------------------------- */

static json_object *state_json(const struct source_ctx *c, const char *vm, const char *domain,
			       const struct source_domain *d)
{
	json_object *j = head(vm, domain);
	char desc[SOURCE_SPEC_MAX + SOURCE_TOOL_MAX + 8];

	json_object_object_add(j, "backend", json_object_new_string(source_backend_describe(c->backend,
											  desc, sizeof(desc))));
	json_object_object_add(j, "state", json_object_new_string(source_state_names[d->state]));
	json_object_object_add(j, "domid", d->domid >= 0 ? json_object_new_int64(d->domid) : NULL);
	json_object_object_add(j, "flags", d->flags[0] ? json_object_new_string(d->flags) : NULL);
	json_object_object_add(j, "detail", d->detail[0] ? json_object_new_string(d->detail) : NULL);
	json_object_object_add(j, "guest_down", json_object_new_boolean(d->guest_down));
	json_object_object_add(j, "managed", json_object_new_boolean(d->managed));
	json_object_object_add(j, "message", d->message[0] ? json_object_new_string(d->message) : NULL);
	return j;
}

int source_serve_state(const struct source_ctx *c, const char *vm, const char *domain,
		       char **ret_text)
{
	struct source_domain d;
	int r = c->backend->ops->state(c->backend, domain, &d);

	if (r < 0)
		return refused(ret_text, -r, "VM %s: the state cannot be asked: %s", vm, strerror(-r));
	return accepted(ret_text, state_json(c, vm, domain, &d));
}

/* ---- SHUTDOWN ------------------------------------------------------------- */

/* Asks until the domain is gone, or its guest has stopped (gone: 1), or
 * the deadline (0). *d is the last answer. */
static int wait_gone(const struct source_ctx *c, const char *domain, double deadline,
		     struct source_domain *d)
{
	int poll_ms = c->poll_ms > 0 ? c->poll_ms : SHUTDOWN_POLL_MS;

	for (;;) {
		if (c->backend->ops->state(c->backend, domain, d) == 0 &&
		    (d->state == SOURCE_STATE_SHUT_OFF ||
		     (d->state == SOURCE_STATE_RUNNING && d->guest_down)))
			return 1;
		if (now_s() >= deadline)
			return 0;
		sleep_ms(poll_ms);
	}
}

/* Destroys and waits for the domain to go. 0, or a positive errno with
 * *ret_text. */
static int destroy_wait(const struct source_ctx *c, const char *vm, const char *domain,
			struct source_domain *d, char **ret_text)
{
	char err[SOURCE_MSG_MAX] = "";
	int r = c->backend->ops->destroy(c->backend, domain, err, sizeof(err));

	if (r < 0 && r != -ENOENT)
		return refused(ret_text, -r, "VM %s: destroy failed: %s", vm, err);
	for (double end = now_s() + DESTROY_WAIT_MS / 1000.0;;) {
		if (c->backend->ops->state(c->backend, domain, d) == 0 && d->state == SOURCE_STATE_SHUT_OFF)
			return 0;
		if (now_s() >= end)
			return refused(ret_text, EIO, "VM %s: destroyed, but still listed as %s %s after "
				       "%d s", vm, source_state_names[d->state], d->detail,
				       DESTROY_WAIT_MS / 1000);
		sleep_ms(c->poll_ms > 0 ? c->poll_ms : SHUTDOWN_POLL_MS);
	}
}

static int shutdown_reply(const struct source_ctx *c, const char *vm, const char *domain,
			  const char *result, double t0, bool destroyed, const struct source_domain *d,
			  char **ret_text)
{
	json_object *j = head(vm, domain);

	json_object_object_add(j, "result", json_object_new_string(result));
	json_object_object_add(j, "seconds", json_object_new_double((double)(int)((now_s() - t0) * 10) / 10));
	json_object_object_add(j, "destroyed", json_object_new_boolean(destroyed));
	json_object_object_add(j, "state", state_json(c, vm, domain, d));
	return accepted(ret_text, j);
}

int source_serve_shutdown(const struct source_ctx *c, const char *vm, const char *domain,
			  unsigned timeout_s, bool force, char **ret_text)
{
	struct source_domain d = { .state = SOURCE_STATE_UNKNOWN };
	char err[SOURCE_MSG_MAX] = "";
	double t0 = now_s();
	int r;

	if (c->backend->ops->state(c->backend, domain, &d) < 0 || d.state == SOURCE_STATE_UNKNOWN)
		return refused(ret_text, EIO, "VM %s: its state is unknown (%s): not shutting it down "
			       "blindly", vm, d.message[0] ? d.message : "no answer");
	if (d.state == SOURCE_STATE_SHUT_OFF)
		return shutdown_reply(c, vm, domain, "already shut off", t0, false, &d, ret_text);
	if (!d.guest_down) {
		r = c->backend->ops->shutdown(c->backend, domain, err, sizeof(err));
		if (r < 0 && r != -ENOENT)
			return refused(ret_text, -r, "VM %s: shutdown failed: %s", vm, err);
		if (!wait_gone(c, domain, t0 + timeout_s, &d)) {
			if (!force)
				return refused(ret_text, ETIMEDOUT, "VM %s did not shut down within %u s; it "
					       "is still %s (%s): not destroyed (--force destroys it)", vm,
					       timeout_s, source_state_names[d.state],
					       d.detail[0] ? d.detail : d.message);
			r = destroy_wait(c, vm, domain, &d, ret_text);
			return r ? r : shutdown_reply(c, vm, domain, "destroyed", t0, true, &d, ret_text);
		}
		if (d.state == SOURCE_STATE_SHUT_OFF)
			return shutdown_reply(c, vm, domain, "shut off", t0, false, &d, ret_text);
	}
	/* The guest has stopped and only the domain's shell is left (on_poweroff
	 * = preserve, a crash kept for debugging): destroying it loses nothing. */
	r = destroy_wait(c, vm, domain, &d, ret_text);
	return r ? r : shutdown_reply(c, vm, domain, "shut off", t0, true, &d, ret_text);
}

/* ---- START ---------------------------------------------------------------- */

static int start_reply(const struct source_ctx *c, const char *vm, const char *domain,
		       const char *result, const struct source_domain *d, char **ret_text)
{
	json_object *j = head(vm, domain);

	json_object_object_add(j, "result", json_object_new_string(result));
	json_object_object_add(j, "state", state_json(c, vm, domain, d));
	return accepted(ret_text, j);
}

/* Asks until the domain runs with its guest up (1), or the deadline (0).
 * *d is the last answer. */
static int wait_running(const struct source_ctx *c, const char *domain, double deadline,
			struct source_domain *d)
{
	int poll_ms = c->poll_ms > 0 ? c->poll_ms : SHUTDOWN_POLL_MS;

	for (;;) {
		if (c->backend->ops->state(c->backend, domain, d) == 0 &&
		    d->state == SOURCE_STATE_RUNNING && !d->guest_down)
			return 1;
		if (now_s() >= deadline)
			return 0;
		sleep_ms(poll_ms);
	}
}

int source_serve_start(const struct source_ctx *c, const char *vm, const char *domain,
		       const char *cfgpath, char **ret_text)
{
	struct source_domain d = { .state = SOURCE_STATE_UNKNOWN };
	char err[SOURCE_MSG_MAX] = "";
	int wait_ms = c->start_wait_ms > 0 ? c->start_wait_ms : START_WAIT_MS, r;

	if (c->backend->ops->state(c->backend, domain, &d) < 0 || d.state == SOURCE_STATE_UNKNOWN)
		return refused(ret_text, EIO, "VM %s: its state is unknown (%s): not starting it blindly",
			       vm, d.message[0] ? d.message : "no answer");
	if (d.state == SOURCE_STATE_RUNNING && d.guest_down)
		return refused(ret_text, EEXIST, "VM %s: its domain is still there but its guest has "
			       "stopped (%s): not started; shut it down first (that removes what is left)",
			       vm, d.detail[0] ? d.detail : d.flags);
	if (d.state == SOURCE_STATE_RUNNING)
		return start_reply(c, vm, domain, "already running", &d, ret_text);
	if (!c->backend->ops->start)
		return refused(ret_text, EOPNOTSUPP, "VM %s: the %s backend cannot start a VM", vm,
			       c->backend->ops->name);
	r = c->backend->ops->start(c->backend, domain, cfgpath, err, sizeof(err));
	if (r < 0)
		return refused(ret_text, -r, "VM %s: start failed: %s", vm, err[0] ? err : strerror(-r));
	if (!wait_running(c, domain, now_s() + wait_ms / 1000.0, &d))
		return refused(ret_text, ETIMEDOUT, "VM %s was started but does not run after %g s: it is "
			       "%s%s%s%s", vm, wait_ms / 1000.0, source_state_names[d.state],
			       d.detail[0] || d.message[0] ? " (" : "", d.detail[0] ? d.detail : d.message,
			       d.detail[0] || d.message[0] ? ")" : "");
	return start_reply(c, vm, domain, "started", &d, ret_text);
}

/* ---- AUTOSTART ---------------------------------------------------------- */

int source_serve_autostart(const struct source_ctx *c, bool off, const char *vm, const char *domain,
			   const char *cfgpath, char **ret_text)
{
	struct autostart_env env = {
		.vm = vm, .domain = domain, .config = cfgpath,
		.auto_dir = c->auto_dir, .save_dir = c->save_dir, .state_dir = c->state_dir,
		.backend = c->backend,
	};
	json_object *j = NULL;
	char err[2048] = "";
	int r = off ? autostart_off(&env, &j, err, sizeof(err)) : autostart_restore(&env, &j, err, sizeof(err));

	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return refused(ret_text, -r, "VM %s: autostart %s: %s", vm, off ? "off" : "restore",
			       err[0] ? err : strerror(-r));
	return accepted(ret_text, j);
}
