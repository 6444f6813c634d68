/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The backends of the old hypervisor (backend.h): the constructor, and xl
 * and xm, which share one implementation with the tool's name as a
 * parameter. libvirt is in backend_virt.c.
 *
 * What xl and xm print and how their answers are read is written down in
 * docs/MIGRATE.md ("What the xl and xm backends parse").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "migrate/source/backend.h"
#include "migrate/source/run.h"
#include "migrate/source/xllist.h"
#include "migrate/virt/domsrc.h"

#define TOOL_TIMEOUT_MS 30000

const char *const source_state_names[_SOURCE_STATE_MAX] = {
	[SOURCE_STATE_UNKNOWN] = "unknown",
	[SOURCE_STATE_RUNNING] = "running",
	[SOURCE_STATE_SHUT_OFF] = "shut off",
};

extern const struct source_backend_ops source_virt_ops;	/* backend_virt.c */

/* ---- xl and xm ---------------------------------------------------------- */

/* "xl" for messages: the tool's base name. */
static const char *tool_word(const struct source_backend *b)
{
	const char *s = strrchr(b->tool, '/');

	return s ? s + 1 : b->tool;
}

/* Runs `TOOL VERB [OPT] DOMAIN`; 0 with *r filled or -errno (not started,
 * err says so). */
static int tool_run(struct source_backend *b, const char *verb, const char *opt, const char *domain,
		    struct run_result *r, char *err, size_t errlen)
{
	const char *argv[5];
	int n = 0, e;

	argv[n++] = b->tool;
	argv[n++] = verb;
	if (opt)
		argv[n++] = opt;
	if (domain)
		argv[n++] = domain;
	argv[n] = NULL;
	e = run_argv(argv, b->timeout_ms, r);
	if (e < 0)
		snprintf(err, errlen, "cannot run %.200s: %s", b->tool, strerror(-e));
	return e;
}

/* What a failed run says, in one line: "exit 1: msg" / "timed out". */
static void run_failure(struct source_backend *b, const char *verb, const char *domain,
			const struct run_result *r, char *err, size_t errlen)
{
	char line[200];

	run_first_line(r, line, sizeof(line));
	if (r->timed_out)
		snprintf(err, errlen, "%s %s %s: no answer within %d s", tool_word(b), verb, domain,
			 b->timeout_ms / 1000);
	else if (r->status < 0)
		snprintf(err, errlen, "%s %s %s: killed by signal %d", tool_word(b), verb, domain, r->signal);
	else
		snprintf(err, errlen, "%s %s %s: exit %d%s%s", tool_word(b), verb, domain, r->status,
			 line[0] ? ": " : "", STR_ESCAPED(line));
}

/* The tool's way of saying that no domain has this name: xl's find_domain()
 * "NAME is an invalid domain identifier (rc=-6)", xm's "Error: Domain
 * 'NAME' does not exist.". */
static bool says_no_such_domain(const struct run_result *r)
{
	return r->status > 0 && (strstr(r->err, "is an invalid domain identifier") ||
				 strstr(r->err, "does not exist"));
}

static void fill_from_list(struct source_domain *ret, const struct xl_domain_info *info)
{
	if (info->domid < 0) {
		/* xm: a domain xend manages, not running */
		ret->state = SOURCE_STATE_SHUT_OFF;
		ret->managed = true;
		snprintf(ret->detail, sizeof(ret->detail), "managed by xend, not running");
		return;
	}
	ret->state = SOURCE_STATE_RUNNING;
	ret->domid = info->domid;
	memcpy(ret->flags, info->flags, sizeof(ret->flags));
	snprintf(ret->detail, sizeof(ret->detail), "%s", xl_flags_describe(info->flags));
	ret->guest_down = xl_flags_guest_down(info->flags);
}

static int xl_state(struct source_backend *b, const char *domain, struct source_domain *ret)
{
	struct run_result r = { 0 }, all = { 0 };
	struct xl_domain_info info;
	char err[SOURCE_MSG_MAX];
	int e;

	memset(ret, 0, sizeof(*ret));
	ret->domid = -1;
	ret->state = SOURCE_STATE_UNKNOWN;
	if (tool_run(b, "list", NULL, domain, &r, ret->message, sizeof(ret->message)) < 0)
		return 0;
	if (r.status == 0 && !r.timed_out) {
		e = xl_list_find(r.out, domain, &info);
		if (e == 1)
			fill_from_list(ret, &info);
		else if (e == 0)
			snprintf(ret->message, sizeof(ret->message), "%.60s list %.120s did not list it", tool_word(b),
				 domain);
		else
			snprintf(ret->message, sizeof(ret->message), "%.60s list %.120s: not the table expected",
				 tool_word(b), domain);
		goto out;
	}
	if (says_no_such_domain(&r)) {
		ret->state = SOURCE_STATE_SHUT_OFF;
		snprintf(ret->detail, sizeof(ret->detail), "no such domain");
		goto out;
	}
	/* Some other failure: the whole list, when it works, still tells. */
	run_failure(b, "list", domain, &r, ret->message, sizeof(ret->message));
	if (tool_run(b, "list", NULL, NULL, &all, err, sizeof(err)) == 0 && all.status == 0 &&
	    !all.timed_out) {
		e = xl_list_find(all.out, domain, &info);
		if (e == 1) {
			fill_from_list(ret, &info);
			ret->message[0] = '\0';
		} else if (e == 0) {
			ret->state = SOURCE_STATE_SHUT_OFF;
			snprintf(ret->detail, sizeof(ret->detail), "not in the list");
			ret->message[0] = '\0';
		}
	}
out:
	run_result_clear(&r);
	run_result_clear(&all);
	return 0;
}

static int xl_simple(struct source_backend *b, const char *verb, const char *domain, char *err,
		     size_t errlen)
{
	struct run_result r = { 0 };
	int e;

	e = tool_run(b, verb, NULL, domain, &r, err, errlen);
	if (e < 0)
		return e;
	if (r.status != 0 || r.timed_out) {
		run_failure(b, verb, domain, &r, err, errlen);
		e = says_no_such_domain(&r) ? -ENOENT : r.timed_out ? -ETIMEDOUT : -EIO;
	}
	run_result_clear(&r);
	return e;
}

static int xl_shutdown(struct source_backend *b, const char *domain, char *err, size_t errlen)
{
	struct run_result r = { 0 };
	char scratch[SOURCE_MSG_MAX];
	int e = xl_simple(b, "shutdown", domain, err, errlen);

	if (e == 0 || e == -ENOENT || e == -ETIMEDOUT || strcmp(b->ops->name, "xl"))
		return e;
	/* An HVM guest without PV drivers: xl can press the ACPI power button
	 * instead (-F, newer xl). Where -F fails too, the first error stands. */
	if (tool_run(b, "shutdown", "-F", domain, &r, scratch, sizeof(scratch)) == 0 &&
	    r.status == 0 && !r.timed_out)
		e = 0;
	run_result_clear(&r);
	return e;
}

static int xl_destroy(struct source_backend *b, const char *domain, char *err, size_t errlen)
{
	return xl_simple(b, "destroy", domain, err, errlen);
}

/* `TOOL create CFGPATH`: the domain is created from its config (xl and xm
 * return once it is; xl's monitoring process detaches). A domain of that
 * name that exists already: -EEXIST. */
static int xl_start(struct source_backend *b, const char *domain, const char *cfgpath, char *err,
		    size_t errlen)
{
	struct run_result r = { 0 };
	int e;

	e = tool_run(b, "create", NULL, cfgpath, &r, err, errlen);
	if (e < 0)
		return e;
	if (r.status != 0 || r.timed_out) {
		run_failure(b, "create", cfgpath, &r, err, errlen);
		e = strstr(r.err, "already exists") ? -EEXIST : r.timed_out ? -ETIMEDOUT : -EIO;
	}
	run_result_clear(&r);
	return e;
}

/* xm: xend's own autostart of a managed domain, as `xm list --long NAME`
 * prints it (an S-expression with "(on_xend_start start)"). Reported only:
 * xm has no command to change it. */
static int xm_autostart_get(struct source_backend *b, const char *domain, char *err, size_t errlen)
{
	struct run_result r = { 0 };
	int e;

	e = tool_run(b, "list", "--long", domain, &r, err, errlen);
	if (e < 0)
		return e;
	if (r.status != 0 || r.timed_out) {
		run_failure(b, "list --long", domain, &r, err, errlen);
		e = says_no_such_domain(&r) ? -ENOENT : -EIO;
	} else {
		e = strstr(r.out, "(on_xend_start start)") ? 1 : 0;
	}
	run_result_clear(&r);
	return e;
}

static const struct source_backend_ops xl_ops = {
	.name = "xl",
	.state = xl_state,
	.shutdown = xl_shutdown,
	.destroy = xl_destroy,
	.start = xl_start,
};

static const struct source_backend_ops xm_ops = {
	.name = "xm",
	.state = xl_state,
	.shutdown = xl_shutdown,
	.destroy = xl_destroy,
	.start = xl_start,
	.autostart_get = xm_autostart_get,
};

/* ---- construction ------------------------------------------------------- */

const char *source_spec_check(const char *spec)
{
	const char *uri;

	if (!strcmp(spec, "xl") || !strcmp(spec, "xm"))
		return NULL;
	if (strncmp(spec, "libvirt:", 8))
		return "not xl, xm or libvirt:URI";
	uri = spec + 8;
	if (!*uri)
		return "libvirt: without a URI (e.g. libvirt:xen:///system)";
	if (strlen(spec) >= SOURCE_SPEC_MAX)
		return "URI too long";
	for (const char *q = uri; *q; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return "blank or control character in the URI";
	return NULL;
}

int source_backend_new(const char *spec, const char *tool, struct source_backend **ret, char *err,
		       size_t errlen)
{
	struct source_backend *b;
	const char *why = source_spec_check(spec);

	if (why) {
		snprintf(err, errlen, "MigrateSource \"%s\": %s", STR_ESCAPED(spec), why);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->timeout_ms = TOOL_TIMEOUT_MS;
	if (!strncmp(spec, "libvirt:", 8)) {
		b->ops = &source_virt_ops;
		snprintf(b->uri, sizeof(b->uri), "%s", spec + 8);
	} else {
		b->ops = !strcmp(spec, "xl") ? &xl_ops : &xm_ops;
		snprintf(b->tool, sizeof(b->tool), "%s", tool && *tool ? tool : spec);
	}
	*ret = b;
	return 0;
}

void source_backend_free(struct source_backend *b)
{
	if (!b)
		return;
	virt_src_close(b->virt);
	free(b);
}

const char *source_backend_describe(const struct source_backend *b, char *buf, size_t len)
{
	if (b->uri[0])
		snprintf(buf, len, "%s (%s)", b->ops->name, b->uri);
	else if (strcmp(b->tool, b->ops->name))
		snprintf(buf, len, "%s (%s)", b->ops->name, b->tool);
	else
		snprintf(buf, len, "%s", b->ops->name);
	return buf;
}
