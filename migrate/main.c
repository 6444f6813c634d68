/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bridgectl migrate ...`: placeholder until the migrate part lands. */
#include "migrate/migrate.h"

void migrate_usage(FILE *f)
{
	fprintf(f, "  migrate ...               (not built yet)\n");
}

int migrate_main(int argc, char **argv)
{
	fprintf(stderr, "bridgectl migrate: not implemented yet\n");
	return 2;
}
