/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include "migrate/cli.h"
int migrate_cmd_create(int argc, char **argv) { fprintf(stderr, "todo\n"); return 2; }
