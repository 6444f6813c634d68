/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket's requests (docs/CONTROL.md), parsed: pure, no daemon,
 * no I/O, so that tests/fuzz/fuzz_ctl drives the very code ctl.c serves
 * with. A request is one line of at most CONN_REQUEST_MAX - 1 bytes:
 *   status
 *   events
 *   fdb [segment NAME] [MAC...]
 * ending in "\n" (or "\r\n"). What follows the line is ignored.
 */
#ifndef BRIDGED_CTLREQ_H
#define BRIDGED_CTLREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_FDB_MAX_MACS 16
#define CTL_SEGMENT_MAX 32             /* CONFIG_NAME_MAX: a name and its NUL */

enum ctl_cmd {
	CTL_CMD_STATUS,
	CTL_CMD_EVENTS,
	CTL_CMD_FDB,
	_CTL_CMD_MAX,
};

struct ctl_request {
	enum ctl_cmd cmd;
	/* fdb */
	char segment[CTL_SEGMENT_MAX];  /* "": every segment */
	uint8_t macs[CTL_FDB_MAX_MACS][6];
	size_t n_macs;                  /* 0: every MAC; a MAC given twice counts once */
};

/* Whether the len bytes of buf hold a whole request (a line). */
bool ctl_request_complete(const char *buf, size_t len);

/* Parses the request line at the start of buf (len bytes, any bytes): 0 and
 * *ret filled, or -1 with err (a sentence for the client, errlen bytes)
 * saying what is wrong. */
int ctl_request_parse(const char *buf, size_t len, struct ctl_request *ret, char *err, size_t errlen);

#endif
