/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the `xl list` / `xm list` table parser
 * (migrate/source/xllist.c): whatever the tool prints never crashes it.
 * The first line of the input is the domain's name, the rest the output;
 * a domain found has a state column that is valid or empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/source/xllist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xl_domain_info d;
	char *buf = malloc(size + 1), *nl;
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	nl = strchr(buf, '\n');
	if (nl) {
		*nl = '\0';
		r = xl_list_find(nl + 1, buf, &d);
		if (r == 1 && d.flags[0] && !xl_flags_valid(d.flags))
			abort();
		if (r == 1)
			(void)xl_flags_describe(d.flags);
	}
	free(buf);
	return 0;
}
