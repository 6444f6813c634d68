/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure parsers of the guest files preflight reads: fstab, grub configs
 * (menu.lst, grub.cfg, /etc/default/grub), inittab, securetty, udev rules,
 * module lists, kernel command lines, systemd getty unit names and device
 * names. No I/O: each takes a buffer and its length (any bytes: NULs,
 * CRLF, lines of any length) and returns plain structs with the line
 * number (1-based) of each item. A line holding a NUL byte is skipped: it
 * is not text. Fuzzed by tests/fuzz/fuzz_guest.
 */
#ifndef BRIDGED_MIGRATE_GUEST_PARSE_H
#define BRIDGED_MIGRATE_GUEST_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* fstab(5): octal escapes (\040) decoded; entries with fewer than 2 fields are skipped. */
struct guest_fstab_entry {
	char *spec, *file, *type, *opts;	/* type and opts: "" when absent */
	int line;
};

struct guest_fstab {
	struct guest_fstab_entry *entries;
	size_t n;
};

int guest_fstab_parse(const char *buf, size_t len, struct guest_fstab *ret);
void guest_fstab_clear(struct guest_fstab *f);
/* Whether the comma-separated options hold opt exactly. */
bool guest_opts_has(const char *opts, const char *opt);

/* Boot entries of a grub config, and the kernel command lines in it. */
enum guest_grub_flavour {
	GUEST_GRUB_LEGACY,	/* /boot/grub/menu.lst (grub 0.9x, pygrub) */
	GUEST_GRUB2,		/* /boot/grub/grub.cfg */
	GUEST_GRUB_DEFAULT,	/* /etc/default/grub (shell variables) */
	GUEST_GRUB_FLAVOUR_MAX
};

struct guest_boot_entry {
	char *title;		/* menu title; the variable name for /etc/default/grub
				 * (GRUB_CMDLINE_LINUX...) and "kopt" for menu.lst's
				 * "# kopt=" (Debian's update-grub template) */
	char *kernel;		/* the kernel path, or NULL */
	char *initrd;		/* the first initrd path, or NULL */
	char *args;		/* the command line after the kernel ("" when none) */
	int line;		/* the kernel (or variable) line; else the title's */
	int initrd_line;
	bool menu;		/* a menu entry (false: kopt, defaults) */
	int item;		/* menu: the top-level item number (grub's "default" counts
				 * menuentry and submenu alike) */
	int sub;		/* menu: the number inside its submenu, -1 at the top */
};

struct guest_grub {
	struct guest_boot_entry *entries;
	size_t n;
	int default_item;	/* "default N" / "set default=N" or "N>M"; 0 when */
	int default_sub;	/* absent, -1 -1 when not a number ("saved", a title) */
};

int guest_grub_parse(enum guest_grub_flavour flavour, const char *buf, size_t len, struct guest_grub *ret);
void guest_grub_clear(struct guest_grub *g);
/*
 * The entry grub boots by default: the one "default" names, else (a
 * title, "saved", a number past the end) the first menu entry; NULL when
 * there is no menu entry.
 */
const struct guest_boot_entry *guest_grub_default(const struct guest_grub *g);

/*
 * Kernel command lines: the value of the last KEY=VALUE word (quotes
 * removed) into buf; false when absent or not fitting.
 */
bool guest_cmdline_get(const char *cmdline, const char *key, char *buf, size_t buflen);
/*
 * Calls fn for each word KEY=/dev/NAME of the command line (root=,
 * resume=, ...): key and the device name without "/dev/".
 */
void guest_cmdline_devices(const char *cmdline,
			   void (*fn)(const char *key, const char *dev, void *data), void *data);

/* inittab(5), sysvinit and busybox forms ("ttyS0::respawn:/sbin/getty ..."). */
struct guest_inittab_entry {
	char *id, *runlevels, *action, *process;
	char *tty;		/* the terminal of a getty (no "/dev/"), else NULL */
	int line;
};

struct guest_inittab {
	struct guest_inittab_entry *entries;
	size_t n;
};

int guest_inittab_parse(const char *buf, size_t len, struct guest_inittab *ret);
void guest_inittab_clear(struct guest_inittab *t);

/* A list of names, one per line, '#' comments (securetty, modules.builtin). */
struct guest_name {
	char *name;
	int line;
};

struct guest_names {
	struct guest_name *names;
	size_t n;
};

/* securetty(5): terminal names, "/dev/" removed. */
int guest_securetty_parse(const char *buf, size_t len, struct guest_names *ret);
/*
 * modules.dep ("kernel/drivers/x/virtio_scsi.ko: deps") or modules.builtin
 * ("kernel/drivers/x/virtio_scsi.ko"): module names, '-' as '_'.
 */
int guest_modules_parse(const char *buf, size_t len, struct guest_names *ret);
void guest_names_clear(struct guest_names *n);
bool guest_names_has(const struct guest_names *n, const char *name);
/*
 * The module name of a path: basename without .ko, .ko.gz, .ko.xz, .ko.zst,
 * '-' as '_'. false when the path is no module.
 */
bool guest_module_name(const char *path, size_t len, char *buf, size_t buflen);

/* udev rules: each rule (continuation lines joined) as key/op/value items. */
enum guest_udev_op {
	GUEST_UDEV_MATCH,	/* == */
	GUEST_UDEV_NOMATCH,	/* != */
	GUEST_UDEV_ASSIGN,	/* = += -= := */
	GUEST_UDEV_OP_MAX
};

struct guest_udev_item {
	char *key;		/* "ATTR", "NAME", "DRIVERS" */
	char *attr;		/* "address" of ATTR{address}, or NULL */
	enum guest_udev_op op;
	char *value;
};

struct guest_udev_rule {
	struct guest_udev_item *items;
	size_t n;
	int line;
};

struct guest_udev_rules {
	struct guest_udev_rule *rules;
	size_t n;
};

int guest_udev_parse(const char *buf, size_t len, struct guest_udev_rules *ret);
void guest_udev_clear(struct guest_udev_rules *r);
/* The value of the first item with key (and attr, when not NULL) and op, or NULL. */
const char *guest_udev_get(const struct guest_udev_rule *r, const char *key, const char *attr,
			   enum guest_udev_op op);

/*
 * The terminal a systemd getty unit runs on: "serial-getty@ttyS0.service"
 * and "getty@ttyS0.service" give "ttyS0"; false for other names.
 */
bool guest_getty_unit_tty(const char *unit, char *buf, size_t buflen);

/*
 * Disk device names as a guest sees them: "xvda1", "sdb", "hda3", "vdc2",
 * with or without "/dev/". prefix: "xvd", "sd", "hd" or "vd"; letters: the
 * disk letters ("a", "aa"); part: the partition number, 0 for a whole disk.
 */
struct guest_devname {
	char prefix[4];
	char letters[4];
	int part;
};

bool guest_devname_parse(const char *name, struct guest_devname *ret);
/* Whether two names are the same disk and partition, whatever their prefixes. */
bool guest_devname_same(const struct guest_devname *a, const struct guest_devname *b);

/*
 * Strips a line to its content: the pointer past leading blanks and the
 * length without trailing blanks (for tests and callers).
 */
const char *guest_trim(const char *s, size_t len, size_t *ret_len);

#endif
