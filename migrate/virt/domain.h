/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt domain of a migrated VM as plain data (struct domain_spec),
 * the domain XML built from it with libxml2's writer (the library escapes,
 * nothing is pasted together), and the XML's canonical form, with which a
 * definition is compared with an existing one. Pure: no libvirt, no I/O,
 * so all of it is unit-tested without a daemon. domain_map.h fills a spec
 * from a Xen config and a disk plan; define.h talks to libvirt.
 */
#ifndef BRIDGED_MIGRATE_DOMAIN_H
#define BRIDGED_MIGRATE_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

enum domain_bus {
	DOMAIN_BUS_SCSI,	/* virtio-scsi: sda1 stays sda1 */
	DOMAIN_BUS_VIRTIO,	/* virtio-blk: vda */
	DOMAIN_BUS_SATA,
	DOMAIN_BUS_IDE,
	DOMAIN_BUS_MAX
};

extern const char *const domain_bus_names[DOMAIN_BUS_MAX];
/* The bus named s ("scsi", "virtio", "sata", "ide"), or -EINVAL. */
int domain_bus_from_name(const char *s);

struct domain_disk {
	char *path;		/* host file or device; NULL: an empty cdrom */
	bool block;		/* <disk type='block'> (an LV, a device), else 'file' */
	bool cdrom, readonly;
	enum domain_bus bus;
	char dev[16];		/* libvirt's target dev: "sda", "vdb", "hdc" */
	char guest[16];		/* what the guest kernel calls it: "sda", "vdb", "sr0" */
	char xen_vdev[16];	/* the Xen vdev it comes from ("sda", "hdc"), for messages */
	char *volume;		/* the plan's volume name (VM-sda), NULL for a cdrom */
};

struct domain_nic {
	char mac[18];		/* lower case */
	char *bridge;		/* on this host */
	char *model;		/* "virtio", "e1000", ... */
	char *xen_bridge;	/* the Xen config's bridge (before --bridge-map) */
};

struct domain_spec {
	char *name;
	char *uuid;			/* NULL: libvirt picks one */
	char *type;			/* "kvm" or "qemu" */
	char *arch, *machine;		/* "x86_64", "pc-i440fx-7.2" */
	unsigned long long memory_kib;	/* maximum */
	unsigned long long current_kib;	/* at boot (<= memory_kib) */
	unsigned vcpus, current_vcpus;
	struct domain_disk *disks;	/* disks first (guest order), then cdroms */
	size_t n_disks;
	struct domain_nic *nics;
	size_t n_nics;
	char *kernel, *initrd;		/* stage 1 (direct kernel boot); kernel NULL: boot from disk */
	char *cmdline;
	char *on_poweroff, *on_reboot, *on_crash;	/* NULL: libvirt's default */
	char *console_log;		/* the serial console also logged here, or NULL */
	char **warnings;		/* what the mapping could not carry over as it was */
	size_t n_warnings;
};

void domain_spec_free(struct domain_spec *s);
/* Appends a warning to s. */
int domain_spec_warn(struct domain_spec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The domain XML of s (*ret_xml malloc'd, UTF-8, ends in a newline):
 * <domain type=...> with name, uuid, memory, vcpus, <os> (direct kernel
 * boot when s->kernel is set, else <boot dev='hd'/>), <features><acpi/>
 * <apic/>, the disks on their bus (a virtio-scsi controller with its model
 * set when a disk is on scsi), the bridged NICs, a serial console on a pty
 * and the console on it. -EINVAL with err set when s is incomplete or holds
 * a string XML cannot carry (a control character, invalid UTF-8).
 */
int domain_build_xml(const struct domain_spec *s, char **ret_xml, char *err, size_t errlen);

/*
 * The canonical form of a domain XML for comparison (*ret malloc'd): only
 * what domain_build_xml() sets, in a fixed order and form: the domain
 * type, name, uuid (when with_uuid), memory in KiB, vcpus, the os type,
 * kernel, initrd, cmdline and boot devices, acpi/apic, on_*, each disk
 * (type, device, driver type, cache, io, source, target, bus, readonly)
 * in target order, the scsi and sata controllers' models, each NIC (type,
 * MAC, bridge, model) in order, the serial ports and consoles. What libvirt
 * adds by itself (addresses, aliases, usb and pci controllers, input
 * devices, memballoon, emulator, cpu) is left out; defaults are written
 * out (no <boot> is <boot dev='hd'/>, no <currentMemory> is the memory).
 * -EINVAL when xml does not parse as a <domain>.
 */
int domain_xml_canonical(const char *xml, bool with_uuid, char **ret, char *err, size_t errlen);

/*
 * Stage 2 applied to an existing definition (*ret malloc'd): xml without
 * <kernel>, <initrd>, <cmdline> and <dtb>, booting from the disk (<boot
 * dev='hd'/> unless a device has its own boot order). Everything else,
 * libvirt's additions included, is kept as it is.
 */
int domain_xml_stage2(const char *xml, char **ret, char *err, size_t errlen);

/*
 * xml with the text of its top-level element (<uuid>, <name>) set to value
 * (added after <name> when missing; *ret malloc'd).
 */
int domain_xml_set_text(const char *xml, const char *element, const char *value, char **ret, char *err,
			size_t errlen);

/* The text of xml's top-level element (<uuid>, <name>; malloc'd), or NULL when it has none. */
char *domain_xml_text(const char *xml, const char *element);

/*
 * The lines that differ between the texts a and b, as a unified diff
 * without context (*ret malloc'd): "-line\n" for a line only in a,
 * "+line\n" for one only in b, in order (longest common subsequence).
 * *ret is "" when a and b are equal.
 */
int domain_text_diff(const char *a, const char *b, char **ret);

#endif
