/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config-keys: prints the daemon's key table, one "SECTION KEY" per line
 * (Node, Bridge, Peer), for tests/man/t-man.sh to compare with
 * bridged.conf(5).
 */
#include <stdio.h>

#include "netcfg/config.h"
#include "netcfg/config_parser.h"

int main(void)
{
	static const char *const sect[] = {
		[SECT_NODE] = "Node", [SECT_BRIDGE] = "Bridge", [SECT_PEER] = "Peer",
	};

	for (int k = 0; k < _KEY_MAX; k++) {
		const struct key_def *kd = &key_table[k];

		if (!kd->name || kd->kind < SECT_NODE || kd->kind > SECT_PEER) {
			fprintf(stderr, "config-keys: key %d has no name or section\n", k);
			return 1;
		}
		printf("%s %s\n", sect[kd->kind], kd->name);
	}
	return 0;
}
