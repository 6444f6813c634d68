/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The readers of the daemon's answers (docs/CONTROL.md): the human forms of
 * `bridgectl status`, `fdb` and `events`, and the event stream's line
 * reader. Pure (they print to the FILE given), so that tests/fuzz/fuzz_cli
 * drives them with any JSON and any stream.
 */
#ifndef BRIDGED_CLI_CTL_PRINT_H
#define BRIDGED_CLI_CTL_PRINT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A member as a string ("-" when missing or null), a member or NULL. */
const char *ctl_js(json_object *o, const char *key);
json_object *ctl_jget(json_object *o, const char *key);

void ctl_print_status(FILE *f, json_object *st);
void ctl_print_event(FILE *f, json_object *e);
void ctl_print_fdb(FILE *f, json_object *ans);

/* `bridgectl events`: the stream read into buf, one JSON object a line. */
struct ctl_events {
	FILE *out;
	const char *sock;              /* for messages */
	bool json;                     /* print the lines as they are */
	long count, seen;              /* stop after count events (< 0: never) */
	bool refused;                  /* the daemon refused this user */
	size_t have;
	char buf[65536];
};

/* Takes the n bytes just read into buf + have (at most sizeof(buf) - 1 -
 * have), prints every whole line's event but the "hello"; false when done
 * (count events seen, or refused). */
bool ctl_events_feed(struct ctl_events *ev, size_t n);

#endif
