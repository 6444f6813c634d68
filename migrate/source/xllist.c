/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing the table of `xl list` / `xm list` (xllist.h). The columns are
 * found by splitting on blanks after the domain's name: xl prints
 * "%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f" (a longer name only pushes
 * the rest right), the header separates "VCPUs", "State" and "Time(s)"
 * with tabs, xm (xend) "%-40s %5s %5d %5d %10s %8.1f".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/source/xllist.h"

#define BLANKS " \t"
#define MAX_TOKENS 12

bool xl_flags_valid(const char *f)
{
	static const char *const pos[6] = { "r-", "b-", "p-", "s-", "-rscw?", "d-" };

	if (strlen(f) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		if (!strchr(pos[i], f[i]))
			return false;
	return true;
}

const char *xl_flags_describe(const char *f)
{
	if (!xl_flags_valid(f))
		return "unknown";
	if (f[5] == 'd')
		return "dying";
	if (f[3] == 's') {
		switch (f[4]) {
		case 'r': return "rebooting";
		case 's': return "suspended";
		case 'c': return "crashed";
		case 'w': return "rebooting";	/* the watchdog fired */
		default: return "shutdown";
		}
	}
	if (f[4] == 'c')
		return "crashed";	/* xm, and xl before 4.2 */
	if (f[2] == 'p')
		return "paused";
	if (f[0] == 'r')
		return "running";
	if (f[1] == 'b')
		return "blocked";
	return "idle";
}

bool xl_flags_guest_down(const char *f)
{
	if (!xl_flags_valid(f))
		return false;
	if (f[5] == 'd' || f[4] == 'c')
		return true;
	return f[3] == 's' && (f[4] == '-' || f[4] == '?');
}

static bool parse_ulong(const char *s, unsigned long *ret)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*ret = strtoul(s, &end, 10);
	return !errno && !*end;
}

static bool parse_time(const char *s, double *ret)
{
	char *end;

	if ((*s < '0' || *s > '9') && *s != '-')
		return false;
	errno = 0;
	*ret = strtod(s, &end);
	return !errno && !*end;
}

/* Splits line[0..len) (a copy in buf) into blank-separated tokens. */
static int split(const char *line, size_t len, char *buf, size_t cap, char **tok)
{
	int n = 0;
	char *p, *save = NULL;

	if (len >= cap)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (p = strtok_r(buf, BLANKS "\r", &save); p; p = strtok_r(NULL, BLANKS "\r", &save)) {
		if (n == MAX_TOKENS)
			return -1;
		tok[n++] = p;
	}
	return n;
}

/* The columns after the name: "ID Mem VCPUs State Time(s) [more]" (xl and
 * running xm domains), "Mem VCPUs State Time(s)" or "Mem VCPUs Time(s)"
 * (xm: managed by xend, not running). */
static int parse_columns(char **t, int n, struct xl_domain_info *ret)
{
	unsigned long id;

	memset(ret, 0, sizeof(*ret));
	ret->domid = -1;
	if (n >= 5 && xl_flags_valid(t[3])) {
		if (!parse_ulong(t[0], &id) || id > 0x7fffffffUL || !parse_ulong(t[1], &ret->mem_mib) ||
		    !parse_ulong(t[2], &ret->vcpus) || !parse_time(t[4], &ret->time_s))
			return -EBADMSG;
		ret->domid = (long)id;
		memcpy(ret->flags, t[3], 7);
		return 0;
	}
	if (n == 4 && xl_flags_valid(t[2])) {
		if (!parse_ulong(t[0], &ret->mem_mib) || !parse_ulong(t[1], &ret->vcpus) ||
		    !parse_time(t[3], &ret->time_s))
			return -EBADMSG;
		memcpy(ret->flags, t[2], 7);
		return 0;
	}
	if (n == 3) {
		if (!parse_ulong(t[0], &ret->mem_mib) || !parse_ulong(t[1], &ret->vcpus) ||
		    !parse_time(t[2], &ret->time_s))
			return -EBADMSG;
		return 0;
	}
	return -EBADMSG;
}

int xl_list_find(const char *out, const char *name, struct xl_domain_info *ret)
{
	size_t nl = strlen(name);
	bool header = false;
	const char *line = out;

	if (!nl)
		return -EINVAL;
	while (*line) {
		size_t len = strcspn(line, "\n");
		const char *next = line[len] ? line + len + 1 : line + len;
		char buf[512], *t[MAX_TOKENS];
		int n;

		if (!header) {
			/* the first line that is not blank must be the header */
			n = split(line, len, buf, sizeof(buf), t);
			if (n == 0) {
				line = next;
				continue;
			}
			if (n < 2 || strcmp(t[0], "Name") || strcmp(t[1], "ID"))
				return -EBADMSG;
			header = true;
			line = next;
			continue;
		}
		/* the name, then a blank: a name may hold blanks, another name
		 * may start with ours */
		if (len > nl && !memcmp(line, name, nl) && strchr(BLANKS, line[nl])) {
			struct xl_domain_info d;

			n = split(line + nl, len - nl, buf, sizeof(buf), t);
			if (n < 0 || parse_columns(t, n, &d) < 0)
				return -EBADMSG;
			*ret = d;
			return 1;
		}
		line = next;
	}
	return header ? 0 : -EBADMSG;
}
