/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bridgectl-migrate: `bridgectl migrate` alone, for tests and for the
 * storage-guest initramfs (a binary that needs neither the daemon nor the
 * tunnel parts). `bridgectl-migrate ARGS` == `bridgectl migrate ARGS`.
 */
#include "bridged/cli/migrate_cli.h"

int main(int argc, char **argv)
{
	return migrate_main(argc, argv);
}

/*
 * libparted's constructor (ped_disk_gpt_init) trips ASan's strchr
 * interceptor on a getdelim() buffer before main(); that is not our bug.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "intercept_strchr=0";
}
