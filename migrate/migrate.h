/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * migrate: the companion that moves one VM (Xen config, disk plan, volume
 * creation and partitioning, disk stream, libvirt domain, cutover journal).
 * Linked into bridgectl; `bridgectl migrate ARGS...` calls migrate_main().
 */
#ifndef BRIDGED_MIGRATE_MIGRATE_H
#define BRIDGED_MIGRATE_MIGRATE_H

#include <stdio.h>

/* argv[0] is "migrate". Returns the process exit status. */
int migrate_main(int argc, char **argv);
/* Prints the `bridgectl migrate` part of the usage text. */
void migrate_usage(FILE *f);

#endif
