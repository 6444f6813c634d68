/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest preflight: reads a guest's root file system (and its /boot and
 * /usr when they are separate and given) read-only, and reports what will
 * break when it boots on the new host with the chosen disk bus and NIC
 * model: findings, each with a stable id, a severity, the guest file and
 * line, a message and a fix hint. docs/MIGRATE.md "Guest preflight" lists
 * every id. No stdout: the report is printed to a FILE given, or as JSON.
 */
#ifndef BRIDGED_MIGRATE_GUEST_PREFLIGHT_H
#define BRIDGED_MIGRATE_GUEST_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum guest_bus {
	GUEST_BUS_SCSI,		/* virtio-scsi: /dev/sdX */
	GUEST_BUS_VIRTIO,	/* virtio-blk: /dev/vdX */
	GUEST_BUS_SATA,		/* ahci: /dev/sdX */
	GUEST_BUS_IDE,		/* piix ide under libata: /dev/sdX */
	GUEST_BUS_MAX
};

enum guest_nic {
	GUEST_NIC_VIRTIO,
	GUEST_NIC_E1000,
	GUEST_NIC_MAX
};

enum guest_severity {
	GUEST_SEV_ERROR,
	GUEST_SEV_WARNING,
	GUEST_SEV_INFO,
	GUEST_SEV_MAX
};

extern const char *const guest_bus_names[GUEST_BUS_MAX];
extern const char *const guest_nic_names[GUEST_NIC_MAX];
extern const char *const guest_severity_names[GUEST_SEV_MAX];

/* One volume of the VM that holds a file system (or swap). */
struct guest_volume {
	const char *path;	/* image file or block device */
	uint64_t offset;	/* where the file system starts */
	uint64_t size;		/* its size; 0: to the end of path */
	const char *old_dev;	/* "xvda1": the name the Xen guest knew it by, or NULL */
	const char *new_dev;	/* "sda1": the name it will have, or NULL */
	bool root;		/* holds "/" (else the first volume does) */
};

struct guest_input {
	enum guest_bus bus;
	enum guest_nic nic;
	const struct guest_volume *vols;
	size_t n_vols;
	bool vols_complete;	/* every file system of the VM is in vols: a UUID= or
				 * LABEL= that none holds is missing */
	const char *xen_file;	/* the Xen config (for findings), or NULL */
	const char *xen_cmdline;	/* its root=, extra= and cmdline, joined, or NULL */
	const char *const *macs;	/* the VM's MACs (lower case); n_macs 0: unknown */
	size_t n_macs;
};

struct guest_finding {
	const char *id;		/* "fstab-xvd" */
	enum guest_severity severity;
	char *file;		/* a guest path ("/etc/fstab"), the Xen config, or the volume */
	int line;		/* 0: none */
	char *message;
	char *hint;
	bool waived;
};

/* A file system preflight read, or could not. */
struct guest_mount {
	char *dir;		/* "/", "/boot" */
	char *path;		/* volume path */
	uint64_t offset;
	char type[32];		/* libblkid's name: "ext4", "xfs", "" */
	char uuid[37];
	bool inspected;
};

struct guest_report {
	struct guest_finding *findings;
	size_t n;
	struct guest_mount *mounts;
	size_t n_mounts;
	char *kernel;		/* the kernel the guest will boot ("/boot/vmlinuz-6.1.0-9-amd64"), or NULL */
	char *kernel_version;
	char *initrd;
	char *initrd_format;	/* "gzip", "cpio+zstd", or NULL */
	enum guest_bus bus;
	enum guest_nic nic;
};

/*
 * Runs every check. Returns 0 with a report (problems with the guest, even
 * an unreadable file system, are findings), -ENOMEM, or -EINVAL with err
 * set when the input is unusable (no volume).
 */
int guest_preflight(const struct guest_input *in, struct guest_report **ret, char *err, size_t errlen);
void guest_report_free(struct guest_report *r);
/* Marks every finding with this id waived; returns how many. */
size_t guest_report_waive(struct guest_report *r, const char *id);
/* Findings of a severity, counting waived ones or not. */
size_t guest_report_count(const struct guest_report *r, enum guest_severity sev, bool waived_too);
/* Whether id is one preflight can report. */
bool guest_finding_id_known(const char *id);

/* The report for people: errors first, then warnings, then info; guest text escaped. */
void guest_report_print(FILE *f, const struct guest_report *r);
struct json_object;
struct json_object *guest_report_to_json(const struct guest_report *r);

#endif
