/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a tool of the old hypervisor (xl, xm) without a shell: an
 * argument vector, stdin from /dev/null, stdout and stderr captured up to
 * a bound, a deadline after which the tool's process group is killed.
 */
#ifndef BRIDGED_MIGRATE_SOURCE_RUN_H
#define BRIDGED_MIGRATE_SOURCE_RUN_H

#include <stdbool.h>
#include <stddef.h>

#define RUN_CAPTURE_MAX (64 * 1024)	/* bytes kept of stdout, and of stderr */

struct run_result {
	int status;		/* exit status; -1 when killed by a signal */
	int signal;		/* the signal that killed it, else 0 */
	bool timed_out;		/* killed at the deadline */
	char *out, *err;	/* NUL-terminated (a NUL byte in the output ends it) */
	size_t out_len, err_len;
	bool out_truncated, err_truncated;	/* more was written and dropped */
};

/*
 * Runs argv[0] (a path, or a name looked up in PATH) with argv, in its own
 * process group, with LC_ALL=C in the environment (the messages the
 * callers match are the untranslated ones) and every descriptor above 2
 * closed. Waits for it up to timeout_ms, then kills the group (SIGKILL)
 * and sets timed_out. 0 with *ret filled (whatever the exit status), or
 * -errno when it could not be started (-ENOENT: no such program).
 */
int run_argv(const char *const argv[], int timeout_ms, struct run_result *ret);
void run_result_clear(struct run_result *r);

/* The first line of r's stderr (else stdout), trimmed, for messages. */
const char *run_first_line(const struct run_result *r, char *buf, size_t len);

#endif
