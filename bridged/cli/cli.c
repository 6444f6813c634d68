/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bridgectl's command tables: help from the table, dispatch (cli.h). */
#include <string.h>

#include "bridged/cli/cli.h"

#define CLI_COLUMN 36

static void print_one(FILE *f, const char *prefix, const struct cli_command *c)
{
	char head[160];
	const char *s = c->summary, *nl;
	int w;

	w = snprintf(head, sizeof(head), "  %s%s%s%s%s", prefix, *prefix ? " " : "", c->name,
		     c->synopsis && *c->synopsis ? " " : "", c->synopsis ? c->synopsis : "");
	fputs(head, f);
	if (w >= CLI_COLUMN - 1)
		fprintf(f, "\n%*s", CLI_COLUMN, "");
	else
		fprintf(f, "%*s", CLI_COLUMN - w, "");
	for (;;) {
		nl = strchr(s, '\n');
		if (!nl) {
			fprintf(f, "%s\n", s);
			break;
		}
		fprintf(f, "%.*s\n%*s", (int)(nl - s), s, CLI_COLUMN, "");
		s = nl + 1;
	}
}

void cli_print_commands(FILE *f, const char *prefix, const struct cli_command *cmds)
{
	for (size_t i = 0; cmds[i].name; i++) {
		if (cmds[i].sub) {
			char p[64];

			snprintf(p, sizeof(p), "%s%s%s", prefix, *prefix ? " " : "", cmds[i].name);
			cli_print_commands(f, p, cmds[i].sub);
		} else {
			print_one(f, prefix, &cmds[i]);
		}
	}
}

int cli_dispatch(const char *prog, const char *usage, const struct cli_command *cmds,
		 int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "help") || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
		FILE *f = argc < 1 ? stderr : stdout;

		fputs(usage, f);
		cli_print_commands(f, "", cmds);
		return argc < 1 ? 2 : 0;
	}
	for (size_t i = 0; cmds[i].name; i++)
		if (!strcmp(argv[0], cmds[i].name))
			return cmds[i].fn(argc, argv);
	fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n", prog, argv[0], prog);
	return 2;
}
