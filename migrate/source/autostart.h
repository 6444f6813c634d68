/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The old host's autostart of one VM, switched off and put back exactly
 * (docs/MIGRATE.md, "Autostart on the old host"). What makes a Xen VM
 * start when its host boots:
 *
 *   - an entry in xendomains' XENDOMAINS_AUTO folder (XenAutoDir,
 *     /etc/xen/auto): a link to the VM's config (removed; the link's
 *     target is recorded), or a copy of it (moved aside to .NAME.bridged-off
 *     in the same folder, which xendomains' `*` does not match);
 *   - an image xendomains saved at shutdown and restores at boot
 *     (XenSaveDir/DOMAIN, XENDOMAINS_SAVE): moved aside the same way;
 *   - the hypervisor's own entry (libvirt's autostart flag): turned off;
 *     xend's (xm: on_xend_start = start) is reported, not changed.
 *
 * Planning is pure (autostart_plan: what is there -> what to change, and
 * what to leave alone and report); the executor records every change in a
 * journal (STATE_DIR/VM.json, replaced atomically) before and after making
 * it, so that restore puts back exactly what was there, also after a crash
 * or a partial failure, and a second "off" changes nothing.
 */
#ifndef BRIDGED_MIGRATE_SOURCE_AUTOSTART_H
#define BRIDGED_MIGRATE_SOURCE_AUTOSTART_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct source_backend;

enum autostart_kind {
	AUTOSTART_LINK,		/* XenAutoDir/NAME -> the config: removed */
	AUTOSTART_FILE,		/* XenAutoDir/NAME, a copy of the config: moved aside */
	AUTOSTART_SAVED,	/* XenSaveDir/DOMAIN: moved aside */
	AUTOSTART_MANAGED,	/* the hypervisor's autostart flag: off */
	_AUTOSTART_KIND_MAX,
};
extern const char *const autostart_kind_names[_AUTOSTART_KIND_MAX];

enum autostart_status {
	AUTOSTART_PENDING,	/* recorded, maybe not made (a crash in between) */
	AUTOSTART_DONE,		/* made */
	AUTOSTART_RESTORED,	/* put back */
	_AUTOSTART_STATUS_MAX,
};
extern const char *const autostart_status_names[_AUTOSTART_STATUS_MAX];

struct autostart_change {
	enum autostart_kind kind;
	enum autostart_status status;
	char *path;		/* LINK, FILE, SAVED: where it was; MANAGED: NULL */
	char *target;		/* LINK: the link's text (readlink) */
	char *aside;		/* FILE, SAVED: where it is while off */
	bool repeat;		/* plan only: recorded already, made again (it came back) */
};

struct autostart_note {
	char *path;
	char *why;
};

/* The journal, and a plan's output (same shape). */
struct autostart_journal {
	char *vm, *domain, *config;
	bool restored;		/* the last restore put everything back */
	struct autostart_change *changes;
	size_t n_changes;
	struct autostart_note *notes;	/* left alone, and why */
	size_t n_notes;
};

/* What is there (gathered by autostart_observe, or made up in tests). */
struct autostart_entry {
	char *name;		/* in XenAutoDir */
	bool is_link;		/* else a regular file (other types are skipped) */
	char *target;		/* is_link: readlink */
	bool is_config;		/* link: resolves to the VM's config; file: the
				 * config itself (a hard link) or the same bytes */
};

struct autostart_obs {
	const char *vm, *domain, *config;
	const char *auto_dir, *save_dir;	/* "" when not used */
	struct autostart_entry *entries;
	size_t n_entries;
	bool saved;		/* save_dir/DOMAIN is a regular file */
	bool saved_aside;	/* save_dir/.DOMAIN.bridged-off exists */
	int managed;		/* the hypervisor's autostart: 1 on, 0 off, <0 none */
	bool managed_fixed;	/* on, but the backend cannot switch it (xm) */
};

/*
 * The plan (pure): the changes that make the VM not start at boot and are
 * not yet in journal (NULL: none), and the entries left alone, each with a
 * reason (a link named after the VM that points elsewhere, a file named
 * after it that is not its config, an aside name already taken). A change
 * the journal records and that came back (the same link again) is planned
 * with repeat set. 0 or -ENOMEM.
 */
int autostart_plan(const struct autostart_obs *o, const struct autostart_journal *journal,
		   struct autostart_journal *ret);

/* Where a FILE or SAVED entry goes while off: DIR/.NAME.bridged-off. */
char *autostart_aside_path(const char *dir, const char *name);

/* Gathers what is there. backend may be NULL (no MANAGED). */
int autostart_observe(struct autostart_obs *o, struct source_backend *backend, char *err,
		      size_t errlen);
void autostart_obs_clear(struct autostart_obs *o);

/* The journal file: STATE_DIR/VM.json. load: -ENOENT when there is none. */
int autostart_journal_load(const char *path, struct autostart_journal *ret, char *err, size_t errlen);
int autostart_journal_save(const char *path, const struct autostart_journal *j, char *err,
			   size_t errlen);
struct json_object *autostart_journal_to_json(const struct autostart_journal *j);
void autostart_journal_clear(struct autostart_journal *j);

struct autostart_env {
	const char *vm, *domain, *config;	/* config: the VM's config file */
	const char *auto_dir, *save_dir;	/* "" when not used */
	const char *state_dir;			/* the journal's folder (made 0700) */
	struct source_backend *backend;		/* NULL: no MANAGED */
};

/*
 * Off: observes, plans against the journal, and makes each change with
 * the journal written before (PENDING) and after (DONE). 0 with *ret (the
 * JSON reply: the journal's changes, which of them are new, what was left
 * alone); on a failure -errno and err says what failed (what was made is
 * in the journal, and restore puts it back).
 */
int autostart_off(const struct autostart_env *env, struct json_object **ret, char *err, size_t errlen);

/*
 * Restore: puts back every change the journal records, the last first:
 * a removed link is made again with its recorded text, a moved entry is
 * moved back, the hypervisor's flag is turned on. A change already back
 * (the link is there with the same text, the entry at its place and none
 * aside) counts as restored; one whose place is taken by something else
 * is left and named. 0 with *ret when all is back (nothing to restore
 * included); -errno with err naming what could not be put back (those
 * stay in the journal, a rerun retries them).
 */
int autostart_restore(const struct autostart_env *env, struct json_object **ret, char *err,
		      size_t errlen);

#endif
