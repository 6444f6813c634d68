/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the configuration parser (netcfg/config.c), in the
 * manner of wireguard-tools src/fuzz/config.c. Besides "no crash, no leak"
 * it checks the printer's contract: a config that parses prints a canonical
 * form that parses again and prints identically.
 * A useful dictionary for longer runs: the key names and "[Node]",
 * "[Bridge ", "[Peer " (libFuzzer's -dict=).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netcfg/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print(const struct config *c, size_t *ret_len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, ret_len);

	if (!f)
		abort();
	config_print(c, f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char node[] = "[Node]\nPrivateKeyFile = /k\n";
	struct config_errors errs = { 0 };
	struct config *c = NULL, *c2 = NULL;
	char *out, *out2, *in;
	size_t len, len2;
	int r;

	/* Most mutants lose the [Node] section and fail on that alone: supply
	 * one when there is none, so that more inputs reach the print check. */
	if (!memmem(data, size, "[Node", 5) && !memmem(data, size, "[node", 5)) {
		in = malloc(sizeof(node) - 1 + size);
		if (!in)
			return 0;
		memcpy(in, node, sizeof(node) - 1);
		if (size)
			memcpy(in + sizeof(node) - 1, data, size);
		r = config_parse_buffer("fuzz.conf", in, sizeof(node) - 1 + size, &c, &errs);
		free(in);
	} else {
		r = config_parse_buffer("fuzz.conf", (const char *)data, size, &c, &errs);
	}
	if (r < 0) {
		/* A rejected config always says why. */
		if (r == -EINVAL && errs.n == 0)
			abort();
		config_errors_clear(&errs);
		return 0;
	}
	if (errs.n != 0)
		abort();

	out = print(c, &len);
	r = config_parse_buffer("fuzz.conf", out, len, &c2, &errs);
	if (r < 0) {
		size_t i;

		fprintf(stderr, "canonical output does not parse:\n%s", out);
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		abort();
	}
	out2 = print(c2, &len2);
	if (len != len2 || memcmp(out, out2, len)) {
		fprintf(stderr, "canonical output unstable:\n%s---\n%s", out, out2);
		abort();
	}
	if (c->n_peers != c2->n_peers)
		abort();
	for (size_t i = 0; i < c->n_peers; i++)
		if (!peer_cfg_equal(&c->peers[i], &c2->peers[i]))
			abort();

	free(out);
	free(out2);
	config_free(c);
	config_free(c2);
	config_errors_clear(&errs);
	return 0;
}
