/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging for the daemon and the tools, in the OpenNTPD log.c manner:
 * stderr in the foreground, syslog otherwise. log_warn() appends the errno
 * text; every function preserves errno. Never call these from a signal
 * handler.
 */
#ifndef BRIDGED_COMMON_LOG_H
#define BRIDGED_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* Opens the log. foreground: stderr, else syslog with ident. verbose: debug. */
void log_init(const char *ident, bool foreground, int verbose);
void log_set_verbose(int verbose);
int log_get_verbose(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only the top level of a program may call these. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
