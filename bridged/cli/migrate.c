/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bridgectl migrate inspect|plan|create|preflight|domain ...`: the command
 * line of the migrate part. Each subcommand parses its options, calls the
 * library parts (xencfg, plan, probe, volume, partition, swap, guest,
 * domain) and prints text or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bridged/cli/cli.h"
#include "bridged/cli/migrate_cli.h"
#include "migrate/migrate.h"

static const char inspect_help[] =
"Usage: bridgectl migrate inspect [--json] XENCFG\n"
"\n"
"Reads a Xen domain config, in xl or xm (Python) format, and prints the VM\n"
"as the migration sees it: name, memory, vcpus, boot settings, disks, vifs\n"
"and warnings about everything that does not carry over.\n"
"\n"
"The xm format is evaluated as the safe subset of Python that real files\n"
"use (quoted numbers, '+' and '%' on known values, integer arithmetic,\n"
"backslash continuation, triple-quoted strings). Anything else is an error;\n"
"run 'xl -N create XENCFG' on the old host and inspect its output instead.\n"
"\n"
"Options:\n"
"  --json       print the VM as one JSON object (see docs/MIGRATE.md)\n"
"  -h, --help   this text\n"
"\n"
"Exit status: 0 on success, 1 when the config cannot be read (the error is\n"
"printed on stderr as FILE:LINE:COL: error: MESSAGE), 2 on a usage error.\n";

void migrate_print_error(const char *file, const struct xen_error *err)
{
	if (err->line > 0)
		fprintf(stderr, "%s:%d:%d: error: %s\n", file, err->line, err->col, err->msg);
	else
		fprintf(stderr, "%s: error: %s\n", file, err->msg);
}

int migrate_load(const char *file, struct xen_vm **ret)
{
	struct xen_error err;
	int r = xen_vm_load(file, ret, &err);

	if (r < 0)
		migrate_print_error(file, &err);
	return r;
}

static void print_vm(const struct xen_vm *vm)
{
	printf("name:       %s\n", vm->name);
	printf("type:       %s\n", vm->type);
	if (vm->uuid)
		printf("uuid:       %s\n", vm->uuid);
	printf("memory:     %lld MiB", vm->memory_mib);
	if (vm->maxmem_mib >= 0)
		printf(" (max %lld MiB)", vm->maxmem_mib);
	printf("\nvcpus:      %lld", vm->vcpus);
	if (vm->maxvcpus >= 0)
		printf(" (max %lld)", vm->maxvcpus);
	printf("\n");
	if (vm->bootloader)
		printf("bootloader: %s %s\n", vm->bootloader, vm->bootloader_args ? vm->bootloader_args : "");
	if (vm->kernel)
		printf("kernel:     %s\n", vm->kernel);
	if (vm->ramdisk)
		printf("ramdisk:    %s\n", vm->ramdisk);
	if (vm->root)
		printf("root:       %s\n", vm->root);
	if (vm->extra)
		printf("extra:      %s\n", vm->extra);
	if (vm->cmdline)
		printf("cmdline:    %s\n", vm->cmdline);
	for (size_t i = 0; i < vm->n_disks; i++) {
		const struct xen_disk *d = &vm->disks[i];

		printf("disk:       %-6s %-5s %-2s %-5s %s\n", d->vdev, xen_devtype_names[d->devtype],
		       xen_access_names[d->access], d->format, d->target ? d->target : "(empty)");
	}
	for (size_t i = 0; i < vm->n_vifs; i++) {
		const struct xen_vif *v = &vm->vifs[i];

		printf("vif:        mac %s bridge %s\n", v->mac ? v->mac : "(random)",
		       v->bridge ? v->bridge : "(default)");
	}
}

static int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	struct xen_vm *vm;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(inspect_help, stdout);
			return 0;
		default:
			fputs(inspect_help, stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs(inspect_help, stderr);
		return 2;
	}
	if (migrate_load(argv[optind], &vm) < 0)
		return 1;
	if (json) {
		struct json_object *o = xen_vm_to_json(vm);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		print_vm(vm);
		for (size_t i = 0; i < vm->n_warnings; i++)
			fprintf(stderr, "%s: warning: %s\n", argv[optind], vm->warnings[i]);
	}
	xen_vm_free(vm);
	return 0;
}

const struct cli_command migrate_commands[] = {
	{ .name = "inspect", .fn = cmd_inspect, .synopsis = "[--json] XENCFG",
	  .summary = "parse a Xen config (xl or xm)" },
	{ .name = "plan", .fn = migrate_cmd_plan, .synopsis = "[--json|--commands] XENCFG|VM",
	  .summary = "plan the new whole disks" },
	{ .name = "create", .fn = migrate_cmd_create, .synopsis = "[OPTIONS] XENCFG|VM",
	  .summary = "create volumes, partitions, swap" },
	{ .name = "preflight", .fn = migrate_cmd_preflight,
	  .synopsis = "[--json] [--disk-bus BUS] [--nic-model NIC] [--waive ID] XENCFG|VM|DISK",
	  .summary = "read the guest's root file system (read-only) and list\n"
		     "what breaks on the new bus and NIC" },
	{ .name = "domain", .fn = migrate_cmd_domain,
	  .synopsis = "[--stage 1|2] [--xml] [OPTIONS] XENCFG|VM",
	  .summary = "build and define the libvirt domain\n(stage 1: kernel from outside, 2: disk)" },
	{ .name = "send", .fn = stream_send_main,
	  .synopsis = "SRC --to ADDR:PORT [--peer-key KEY] [--delta] [--warm] ...",
	  .summary = "stream a disk or partition image" },
	{ .name = "receive", .fn = stream_receive_main,
	  .synopsis = "--listen ADDR:PORT DEST [--offset N] [--peer-key KEY] ...",
	  .summary = "receive it, verified and resumable; or, with\n"
		     "--from ADDR:PORT --vm VM --disk VDEV DEST [--list],\n"
		     "copy a VM's disk from the old host's bridged" },
	{ .name = "source", .fn = migrate_cmd_source,
	  .synopsis = "--from ADDR:PORT --vm VM config|state|shutdown|autostart-off|autostart-restore",
	  .summary = "ask the old host's bridged for a VM's config or state,\n"
		     "to shut it down, or to switch its autostart off and back" },
	{ .name = NULL }
};

/* `bridgectl-migrate ARGS` (tests): argv[0] is "migrate". */
int migrate_main(int argc, char **argv)
{
	return cli_dispatch("bridgectl migrate", "Usage: bridgectl migrate SUBCOMMAND ...\n\n"
			    "Subcommands (SUBCOMMAND --help for details):\n",
			    migrate_commands, argc - 1, argv + 1);
}
