/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the vtund.conf reader (netcfg/vtund.c, bridgectl
 * import vtund): any input is parsed or refused with a line number, never
 * crashes it, and what it returns is bounded and NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netcfg/vtund.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vtund_conf c;
	char err[200];

	if (vtund_parse((const char *)data, size, &c, err, sizeof(err)) < 0) {
		if (!err[0] || strlen(err) >= sizeof(err))
			abort();
		return 0;
	}
	for (size_t i = 0; i < c.n_sessions; i++) {
		const struct vtund_session *s = &c.sessions[i];

		if (s->n_bridges > VTUND_BRIDGES_MAX || strlen(s->name) >= VTUND_WORD_MAX)
			abort();
		for (size_t b = 0; b < s->n_bridges; b++)
			if (!s->bridges[b][0] || strlen(s->bridges[b]) >= VTUND_WORD_MAX)
				abort();
	}
	vtund_conf_clear(&c);
	return 0;
}
