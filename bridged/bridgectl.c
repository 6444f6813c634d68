/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>
#include "migrate/migrate.h"
int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "migrate"))
		return migrate_main(argc - 1, argv + 1);
	fprintf(stderr, "bridgectl: under construction\n");
	return 1;
}
