/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared pieces of the `bridgectl migrate` subcommands (bridged/cli/migrate.c, migrate_*.c). */
#ifndef BRIDGED_MIGRATE_CLI_H
#define BRIDGED_MIGRATE_CLI_H

#include "migrate/migrate.h"

/* Prints "FILE:LINE:COL: error: MSG" (or "FILE: error: MSG") on stderr. */
void migrate_print_error(const char *file, const struct xen_error *err);
/* Loads and parses a config, printing the error; returns -errno. */
int migrate_load(const char *file, struct xen_vm **ret);

/* `bridgectl migrate ARGS` with argv[0] "migrate" (bridgectl-migrate). */
int migrate_main(int argc, char **argv);

/* Subcommands: argv[0] is their name; they return the exit status. */
int migrate_cmd_plan(int argc, char **argv);
int migrate_cmd_create(int argc, char **argv);
/* preflight: 0 no unwaived error, 1 an unwaived error or failure, 2 usage. */
int migrate_cmd_preflight(int argc, char **argv);
int migrate_cmd_domain(int argc, char **argv);
/* send / receive (migrate_stream.c): 0 verified, 1 mismatch or failure,
 * 2 usage, 3 refused, 4 interrupted. */
int stream_send_main(int argc, char **argv);
int stream_receive_main(int argc, char **argv);
/* The send/receive usage lines (for the stand-alone stream-tool). */
void stream_usage(FILE *f);
/* source (migrate_source.c): the old host's daemon about a VM. 0 done,
 * 1 error, 2 usage, 3 refused, 4 interrupted. */
int migrate_cmd_source(int argc, char **argv);
void source_usage(FILE *f);

/* `bridgectl cutover` (cutover.c). */
int cutover_main(int argc, char **argv);

#endif
