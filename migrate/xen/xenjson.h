/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON form of a parsed Xen VM; the caller owns (json_object_put) the result. */
#ifndef BRIDGED_MIGRATE_XENJSON_H
#define BRIDGED_MIGRATE_XENJSON_H

#include "migrate/xen/xencfg.h"

struct json_object;

struct json_object *xen_vm_to_json(const struct xen_vm *vm);

#endif
