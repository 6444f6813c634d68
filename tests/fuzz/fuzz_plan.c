/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the migration plan reader (migrate/disk/plan_json.c,
 * plan_from_json: `bridgectl migrate create --plan FILE` reads what `plan
 * --json` wrote, possibly edited by hand). Any text is refused with a
 * reason or read; a plan read writes back (plan_to_json) to text that
 * reads again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "migrate/disk/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256] = "";
	struct plan *p = NULL, *p2 = NULL;
	json_object *o;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (plan_from_json(text, &p, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
		free(text);
		return 0;
	}
	o = plan_to_json(p);
	if (!o || plan_from_json(json_object_to_json_string(o), &p2, err, sizeof(err)) < 0) {
		fprintf(stderr, "a plan read does not read back: %s\n", err);
		abort();
	}
	json_object_put(o);
	plan_free(p2);
	plan_free(p);
	free(text);
	return 0;
}
