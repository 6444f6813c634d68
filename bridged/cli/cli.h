/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bridgectl's command tables, in the manner of wireguard-tools' wg.c: each
 * level of commands is one table of {name, function, synopsis, summary},
 * ended by an entry whose name is NULL,
 * and every help text that lists commands is printed from its table, so no
 * command can be missing from one.
 */
#ifndef BRIDGED_CLI_CLI_H
#define BRIDGED_CLI_CLI_H

#include <stddef.h>
#include <stdio.h>

struct cli_command {
	const char *name;
	/* argv[0] is the command's own name. Returns the exit status. */
	int (*fn)(int argc, char **argv);
	const char *synopsis;          /* arguments after the name */
	const char *summary;           /* lines separated by '\n' */
	const struct cli_command *sub; /* a command with its own table (NULL: none) */
};

/* Prints one line (or more) per command: "  PREFIX NAME SYNOPSIS" and the
 * summary beside it; commands with a sub-table are listed through it. */
void cli_print_commands(FILE *f, const char *prefix, const struct cli_command *cmds);
/* Runs the command argv[0] names from the table (argv[0] may be "help",
 * "--help" or "-h": prints `usage` and the table). prog: "bridgectl
 * migrate" for messages. Returns the exit status (2: unknown command). */
int cli_dispatch(const char *prog, const char *usage, const struct cli_command *cmds,
		 int argc, char **argv);

/* The daemon's control socket (--socket, $BRIDGED_SOCKET, the default). */
extern const char *cli_socket;

/* doctor.c: bridgectl doctor. */
int doctor_main(int argc, char **argv);
/* import.c: bridgectl import vtund FILE. */
int import_main(int argc, char **argv);
/* export.c: bridgectl export ifupdown|networkd. */
int export_main(int argc, char **argv);
/* top.c: bridgectl top. */
int top_main(int argc, char **argv);

/* The tables (bridgectl.c, migrate.c). */
extern const struct cli_command cli_commands[];
extern const struct cli_command migrate_commands[];

#endif
