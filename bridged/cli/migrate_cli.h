/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared pieces of the `bridgectl migrate` subcommands (bridged/cli/migrate.c, migrate_*.c). */
#ifndef BRIDGED_MIGRATE_CLI_H
#define BRIDGED_MIGRATE_CLI_H

#include "migrate/xen/xencfg.h"

/* Prints "FILE:LINE:COL: error: MSG" (or "FILE: error: MSG") on stderr. */
void migrate_print_error(const char *file, const struct xen_error *err);
/* Loads and parses a config, printing the error; returns -errno. */
int migrate_load(const char *file, struct xen_vm **ret);

int migrate_cmd_plan(int argc, char **argv);
int migrate_cmd_create(int argc, char **argv);

#endif
