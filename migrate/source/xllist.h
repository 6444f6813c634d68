/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table `xl list` and `xm list` print (pure parsing, no I/O), as their
 * manual pages and sources show it (docs/MIGRATE.md, "What the xl and xm
 * backends parse"):
 *
 *   Name                                        ID   Mem VCPUs      State   Time(s)
 *   Domain-0                                     0   750     4     r-----   11794.3
 *   win                                          1  1019     1     r-----       0.3
 *
 * xm lists a domain that xend manages but that is not running without an
 * ID (and, depending on the version, without a state).
 */
#ifndef BRIDGED_MIGRATE_SOURCE_XLLIST_H
#define BRIDGED_MIGRATE_SOURCE_XLLIST_H

#include <stdbool.h>

struct xl_domain_info {
	long domid;		/* -1: none (xm: managed by xend, not running) */
	unsigned long mem_mib;
	unsigned long vcpus;
	char flags[7];		/* the six state letters, "" when not shown */
	double time_s;
};

/*
 * Finds the domain called name in out, the standard output of `xl list
 * [NAME]` or `xm list [NAME]`: 1 with *ret filled, 0 when the table does
 * not list it, -EBADMSG when out is no such table (no "Name ID ..." header
 * line, or the domain's line does not parse).
 */
int xl_list_find(const char *out, const char *name, struct xl_domain_info *ret);

/* flags is a state column: six positions, each its letter or '-' (the
 * fifth a shutdown reason: - r s c w ?). */
bool xl_flags_valid(const char *flags);

/* What the letters say, in a word: "running", "blocked", "paused",
 * "shutdown" (the guest has powered off, the domain is kept), "rebooting",
 * "suspended", "crashed", "dying", or "idle" (no letter set). */
const char *xl_flags_describe(const char *flags);

/* The guest has stopped for good but the domain is still there (s with
 * reason poweroff or crash, c, d): only the shell remains. */
bool xl_flags_guest_down(const char *flags);

#endif
