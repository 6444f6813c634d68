/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The JSON form of a parsed Xen VM (`bridgectl migrate inspect --json`).
 * The keys are a contract with outside tests: see docs/MIGRATE.md.
 */
#include <json-c/json.h>

#include "migrate/xen/xenjson.h"

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *jnum(long long n)
{
	return n < 0 ? NULL : json_object_new_int64(n);
}

static struct json_object *xval_to_json(const struct xval *v)
{
	struct json_object *a;

	switch (v->type) {
	case XVAL_STR:
		return json_object_new_string_len(v->str, (int)v->len);
	case XVAL_INT:
		return json_object_new_int64(v->num);
	case XVAL_LIST:
		a = json_object_new_array();
		for (size_t i = 0; i < v->n_items; i++)
			json_object_array_add(a, xval_to_json(v->items[i]));
		return a;
	default:
		return NULL;
	}
}

struct json_object *xen_vm_to_json(const struct xen_vm *vm)
{
	struct json_object *o = json_object_new_object(), *a, *u;

	json_object_object_add(o, "name", jstr(vm->name));
	json_object_object_add(o, "uuid", jstr(vm->uuid));
	json_object_object_add(o, "type", jstr(vm->type));
	json_object_object_add(o, "memory_mib", jnum(vm->memory_mib));
	json_object_object_add(o, "maxmem_mib", jnum(vm->maxmem_mib));
	json_object_object_add(o, "vcpus", jnum(vm->vcpus));
	json_object_object_add(o, "maxvcpus", jnum(vm->maxvcpus));
	json_object_object_add(o, "kernel", jstr(vm->kernel));
	json_object_object_add(o, "ramdisk", jstr(vm->ramdisk));
	json_object_object_add(o, "root", jstr(vm->root));
	json_object_object_add(o, "extra", jstr(vm->extra));
	json_object_object_add(o, "cmdline", jstr(vm->cmdline));
	json_object_object_add(o, "bootloader", jstr(vm->bootloader));
	json_object_object_add(o, "bootloader_args", jstr(vm->bootloader_args));
	json_object_object_add(o, "on_poweroff", jstr(vm->on_poweroff));
	json_object_object_add(o, "on_reboot", jstr(vm->on_reboot));
	json_object_object_add(o, "on_crash", jstr(vm->on_crash));

	a = json_object_new_array();
	for (size_t i = 0; i < vm->n_disks; i++) {
		const struct xen_disk *d = &vm->disks[i];
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "target", jstr(d->target));
		json_object_object_add(j, "vdev", jstr(d->vdev));
		json_object_object_add(j, "access", jstr(xen_access_names[d->access]));
		json_object_object_add(j, "devtype", jstr(xen_devtype_names[d->devtype]));
		json_object_object_add(j, "format", jstr(d->format));
		json_object_object_add(j, "backendtype", jstr(d->backendtype));
		json_object_object_add(j, "script", jstr(d->script));
		json_object_array_add(a, j);
	}
	json_object_object_add(o, "disks", a);

	a = json_object_new_array();
	for (size_t i = 0; i < vm->n_vifs; i++) {
		const struct xen_vif *v = &vm->vifs[i];
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "mac", jstr(v->mac));
		json_object_object_add(j, "bridge", jstr(v->bridge));
		json_object_object_add(j, "model", jstr(v->model));
		json_object_object_add(j, "vifname", jstr(v->vifname));
		json_object_object_add(j, "ip", jstr(v->ip));
		json_object_object_add(j, "script", jstr(v->script));
		json_object_object_add(j, "rate", jstr(v->rate));
		json_object_object_add(j, "type", jstr(v->type));
		json_object_array_add(a, j);
	}
	json_object_object_add(o, "vifs", a);

	u = json_object_new_object();
	for (size_t i = 0; i < vm->n_unmapped; i++) {
		const struct xvar *var = xvars_get(&vm->vars, vm->unmapped[i]);

		if (var)
			json_object_object_add(u, var->name, xval_to_json(var->val));
	}
	json_object_object_add(o, "unmapped", u);

	a = json_object_new_array();
	for (size_t i = 0; i < vm->n_warnings; i++)
		json_object_array_add(a, json_object_new_string(vm->warnings[i]));
	json_object_object_add(o, "warnings", a);
	return o;
}
