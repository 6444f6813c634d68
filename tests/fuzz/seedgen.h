/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For the fuzz targets' seed generators (built with -DFUZZ_*_GEN_SEEDS):
 * writes one seed file DIR/NAME, or exits. */
#ifndef BRIDGED_TESTS_FUZZ_SEEDGEN_H
#define BRIDGED_TESTS_FUZZ_SEEDGEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline void write_seed(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

#endif
