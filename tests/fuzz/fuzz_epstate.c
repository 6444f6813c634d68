/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the endpoint state file parser (bridged/epstate.c).
 * Besides "no crash, no leak": the report adds up, and what parses formats
 * to a file that parses again to the same entries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridged/epstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct epstate s = { 0 }, s2 = { 0 };
	struct epstate_report rep, rep2;
	char *text;
	size_t len;
	int n;

	n = epstate_parse(&s, (const char *)data, size, &rep);
	if (n < 0)
		return 0;
	if ((size_t)n != s.n || rep.entries != s.n || (rep.bad == 0) != (rep.first_bad_line == 0))
		abort();
	if (epstate_format(&s, &text, &len) < 0)
		abort();
	if (epstate_parse(&s2, text, len, &rep2) != n || rep2.bad != 0)
		abort();
	for (size_t i = 0; i < s.n; i++) {
		const struct epstate_entry *e = epstate_find(&s2, s.e[i].key);

		if (!e || e->endpoint_len != s.e[i].endpoint_len ||
		    memcmp(&e->endpoint, &s.e[i].endpoint, e->endpoint_len))
			abort();
	}
	free(text);
	epstate_clear(&s);
	epstate_clear(&s2);
	return 0;
}
