/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The client side of the daemon's control socket (bridged/ctl.c). */
#ifndef BRIDGED_CLI_CTL_CLIENT_H
#define BRIDGED_CLI_CTL_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>

/* Sends one command line, returns the daemon's answer (malloc'd), or NULL
 * after printing why it could not be had. */
char *ctl_request(const char *sock, const char *cmd);
/* The same, parsed: NULL with the reason printed. */
json_object *ctl_request_json(const char *sock, const char *cmd);

/* Whether answer is the daemon's refusal of this user (neither root nor in
 * its ControlGroup); says so on stderr when it is. */
bool ctl_refused(const char *sock, const char *answer);

#endif
