/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From a Xen VM and its disk plan to a domain spec (domain.h): what the
 * new domain is, decided without touching the host. Pure: the host's facts
 * (domain type, machine, volume paths, whether a bridge exists, the placed
 * kernel) come in through struct domain_choices or are filled in later by
 * the caller; every refusal names its cause in err.
 */
#ifndef BRIDGED_MIGRATE_DOMAIN_MAP_H
#define BRIDGED_MIGRATE_DOMAIN_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "migrate/disk/plan.h"
#include "migrate/virt/domain.h"
#include "migrate/xen/xencfg.h"

/* KEY=VALUE as given on the command line (--bridge-map, --mac). */
struct domain_pair {
	const char *key, *value;
};

struct domain_choices {
	int stage;				/* 1: direct kernel boot; 2: from the disk */
	enum domain_bus bus;
	const char *nic_model;			/* NULL: the vif's model, else virtio */
	const struct domain_pair *bridge_map;	/* Xen bridge -> bridge here */
	size_t n_bridge_map;
	const struct domain_pair *macs;		/* "vif0" -> MAC, for vifs without one */
	size_t n_macs;
	const char *kernel, *initrd;		/* stage 1: the paths the domain boots */
	const char *console_log;		/* NULL: none */
	/* Whether a cdrom's image exists here; NULL: every one is kept. */
	bool (*path_exists)(const char *path, void *data);
	void *data;
};

/* Xen's default bridge for a vif that names none (xl's "xenbr0"). */
#define DOMAIN_XEN_DEFAULT_BRIDGE "xenbr0"

/*
 * The spec of vm (*ret, domain_spec_free): name, uuid, memory, vcpus,
 * on_*, the plan's volumes as disks in guest order (disk[i].volume names
 * the volume; path and block are for the caller to fill), the cdroms, the
 * NICs and, for stage 1, the kernel, initrd and command line (root= and
 * resume= translated to the devices the guest will see, console=ttyS0 on
 * the end). type, arch and machine are left for the caller. -EINVAL with
 * err set: a Xen disk the plan does not cover (or a plan disk the config
 * lacks), a vif without a MAC and no --mac for it, a bad --mac, a disk
 * bus that cannot hold the disks (ide: four devices; read-only disks on
 * ide or sata), stage 1 without a kernel.
 */
int domain_spec_from_xen(const struct xen_vm *vm, const struct plan *plan, const struct domain_choices *c,
			 struct domain_spec **ret, char *err, size_t errlen);

/*
 * The kernel command line of vm for the guest of spec s (malloc'd): Xen's
 * cmdline, else "root=ROOT EXTRA", with root= and resume= naming a Xen disk
 * translated through s's disks, blanks outside double quotes collapsed,
 * and console=ttyS0,115200 last (the last console= is /dev/console).
 * Warnings (a root= that names no disk of the VM) go to s.
 */
int domain_cmdline(const struct xen_vm *vm, const struct plan *plan, struct domain_spec *s, char **ret);

/* "00-16-3E-0A-0B-0C" or "00:16:3e:0a:0b:0c" as lower case with colons; false when not a MAC. */
bool domain_mac_normalize(const char *in, char out[18]);

#endif
