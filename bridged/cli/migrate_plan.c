/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bridgectl migrate plan`: prints the disk plan as a table, JSON or shell commands. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bridged/cli/migrate_args.h"
#include "bridged/cli/migrate_cli.h"

static const char plan_help[] =
"Usage: bridgectl migrate plan [--json | --commands] [OPTIONS] XENCFG|VM\n"
"\n"
"Plans the new disks of a Xen VM: the per-partition volumes of the old host\n"
"(disk = ['phy:/dev/r5/vm_root,sda1,w', ...]) are grouped into one whole\n"
"disk per Xen disk (sda1 sda2 -> sda) with an msdos partition table, keeping\n"
"partition numbers; whole-disk vdevs (xvda, hda) are copied as they are.\n"
"Sources are only read, never written.\n"
"\n"
"Geometry, in bytes and sectors only: the first partition starts at 1 MiB,\n"
"every partition starts on a 1 MiB boundary and is its source's size\n"
"rounded up to 1 MiB; with more than four partitions, partitions 4 and up\n"
"become logical partitions in an extended partition (a warning names the\n"
"renumbering); the volume is the end of the last partition rounded up to\n"
"the allocation unit. Swap sources (libblkid signature, or --swap) are not\n"
"copied but recreated with their UUID and label.\n"
"\n"
"Options:\n"
"  --json               the plan as JSON (see docs/MIGRATE.md)\n"
"  --commands           equivalent shell commands (lvcreate, parted with\n"
"                       sector units, kpartx, dd, mkswap) for the VG --pool,\n"
"                       every value quoted for sh\n"
"  --connect URI        libvirt connection where --pool is looked up\n"
"                       (default qemu:///system)\n"
MIGRATE_SHARED_HELP
"  -h, --help           this text\n"
"\n"
"Exit status: 0 on success, 1 on error, 2 on a usage error.\n";

int migrate_cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "commands", no_argument, NULL, OPT_COMMANDS },
		{ "connect", required_argument, NULL, OPT_CONNECT },
		MIGRATE_SHARED_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct migrate_args a = { .pool = getenv("BRIDGED_POOL") };
	struct plan_src *src = NULL;
	struct plan *plan = NULL;
	struct xen_vm *vm = NULL;
	size_t n = 0;
	int c, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int t = migrate_args_option(&a, c, optarg);

		if (t < 0)
			goto out;
		if (t > 0)
			continue;
		if (c == 'h') {
			fputs(plan_help, stdout);
			rc = 0;
		} else {
			fputs(plan_help, stderr);
		}
		goto out;
	}
	if (optind + 1 != argc || (a.json && a.commands)) {
		fputs(plan_help, stderr);
		goto out;
	}
	a.vm = argv[optind];
	if (!a.pool)
		a.pool = "default";
	rc = 1;
	if (migrate_args_plan(&a, &vm, &src, &n, &plan) < 0)
		goto out;
	if (a.json) {
		struct json_object *o = plan_to_json(plan);

		json_object_object_add(o, "vm", json_object_new_string(vm->name));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (a.commands) {
		plan_print_commands(stdout, plan, a.pool);
	} else {
		printf("VM %s: %zu new disk(s)\n", vm->name, plan->n_disks);
		plan_print(stdout, plan);
		for (size_t i = 0; i < plan->n_warnings; i++)
			fprintf(stderr, "warning: %s\n", plan->warnings[i]);
	}
	rc = 0;
out:
	plan_free(plan);
	migrate_src_free(src, n);
	xen_vm_free(vm);
	migrate_args_free(&a);
	return rc;
}
