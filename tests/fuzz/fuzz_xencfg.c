/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the Xen config parser (xl and xm formats) and its JSON form. */
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "migrate/xen/xencfg.h"
#include "migrate/xen/xenjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xen_error err;
	struct xen_vm *vm = NULL;

	if (size > 65536)
		return 0;
	if (xen_vm_parse((const char *)data, size, &vm, &err) == 0) {
		struct json_object *o = xen_vm_to_json(vm);

		json_object_to_json_string(o);
		json_object_put(o);
		xen_vm_free(vm);
	}
	return 0;
}
