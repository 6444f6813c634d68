/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging: stderr in the foreground, syslog otherwise (see log.h). */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static struct {
	bool foreground;
	int verbose;
	const char *ident;
} log_state = { .foreground = true, .verbose = 0, .ident = "bridged" };

void log_init(const char *ident, bool foreground, int verbose)
{
	log_state.ident = ident;
	log_state.foreground = foreground;
	log_state.verbose = verbose;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_verbose(int verbose) { log_state.verbose = verbose; }
int log_get_verbose(void) { return log_state.verbose; }

static void vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	int saved = errno;
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_state.foreground) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(stderr, "%s[%ld.%03ld]: %s%s%s\n", log_state.ident,
			(long)ts.tv_sec % 100000, ts.tv_nsec / 1000000, buf,
			suffix ? ": " : "", suffix ? suffix : "");
		fflush(stderr);
	} else {
		syslog(pri, "%s%s%s", buf, suffix ? ": " : "", suffix ? suffix : "");
	}
	errno = saved;
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_state.verbose < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
