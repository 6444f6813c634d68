/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test driver: `stream-tool send ...` / `stream-tool receive ...` /
 * `stream-tool source ...` run the same code as `bridgectl migrate
 * send|receive|source`; `stream-tool genkey` and `stream-tool pubkey` make
 * test keys.
 */
#include <stdio.h>
#include <string.h>

#include "bridged/cli/migrate_cli.h"
#include "common/keys.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return stream_send_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "receive"))
		return stream_receive_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "source"))
		return migrate_cmd_source(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "genkey")) {
		uint8_t k[KEY_LEN];
		char b[KEY_B64_LEN];

		if (key_generate_private(k) < 0)
			return 1;
		key_to_base64(k, b);
		printf("%s\n", b);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "pubkey")) {
		uint8_t k[KEY_LEN], p[KEY_LEN];
		char line[128], b[KEY_B64_LEN];

		if (!fgets(line, sizeof(line), stdin) || key_from_base64(line, k) < 0 ||
		    key_public_from_private(k, p) < 0)
			return 1;
		key_to_base64(p, b);
		printf("%s\n", b);
		return 0;
	}
	fprintf(stderr, "usage: stream-tool send|receive|source|genkey|pubkey ...\n");
	stream_usage(stderr);
	source_usage(stderr);
	return 2;
}
