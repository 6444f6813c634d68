/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cutover's journal: one JSON file per VM (DIR/VM.json, default
 * /var/lib/bridged/cutover), replaced atomically after every step, so that
 * `bridgectl cutover VM` killed at any point continues where it stopped.
 * One cutover of a VM at a time: an exclusive flock on DIR/VM.lock.
 *
 * {"version":1, "vm":"web1", "state":"running", "stage":1,
 *  "options":{...what the first run was given...},
 *  "steps":[{"name":"inspect","status":"done","started":T,"finished":T,"seconds":S, ...}, ...],
 *  "error":null, "failed_step":null, "updated":T}
 *
 * Times are Unix seconds (double). The codec is pure (unit-tested and
 * fuzzed); the rest reads and writes the file.
 */
#ifndef BRIDGED_MIGRATE_CUTOVER_JOURNAL_H
#define BRIDGED_MIGRATE_CUTOVER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

enum cutover_step {
	CUT_INSPECT,		/* config, state and disks from the old host; the refusals */
	CUT_PLAN,
	CUT_CREATE,
	CUT_WARM,		/* copy while the VM runs there */
	CUT_PREFLIGHT,		/* the guest read on the warm copy */
	CUT_CONFIRM,
	CUT_SHUTDOWN,		/* the VM off on the old host: the downtime starts */
	CUT_DELTA,
	CUT_DEFINE,
	CUT_START,
	CUT_ARRIVAL,		/* its MACs learned on this host's local port */
	CUT_AUTOSTART,
	CUT_STEP_MAX
};

enum cutover_status { CUT_PENDING, CUT_RUNNING, CUT_DONE, CUT_FAILED, CUT_SKIPPED, CUT_STATUS_MAX };

extern const char *const cutover_step_names[CUT_STEP_MAX];
extern const char *const cutover_status_names[CUT_STATUS_MAX];

/* The journal's overall state. */
#define CUT_STATE_RUNNING "running"		/* under way (or killed: rerun) */
#define CUT_STATE_WARM "warm"			/* --warm-only finished: the VM runs there, copied warm */
#define CUT_STATE_FAILED "failed"		/* a step failed: failed_step, error */
#define CUT_STATE_DONE "done"			/* runs here, stage 1 */
#define CUT_STATE_STAGE2 "stage2"		/* runs here from its own bootloader */
#define CUT_STATE_ROLLING_BACK "rolling-back"
#define CUT_STATE_ROLLED_BACK "rolled-back"

/* A new journal for vm (every step pending). */
json_object *cutover_journal_new(const char *vm);
/*
 * Parses and checks a journal: version 1, the VM's name (when vm is not
 * NULL), a known state, the twelve steps in order with known statuses.
 * NULL with err naming what is wrong.
 */
json_object *cutover_journal_parse(const char *text, size_t len, const char *vm, char *err, size_t errlen);

json_object *cutover_step_obj(json_object *j, enum cutover_step s);
enum cutover_status cutover_step_status(json_object *j, enum cutover_step s);
/* Sets a step's status; RUNNING records "started", DONE/FAILED/SKIPPED
 * "finished" and "seconds" (added to earlier runs' seconds). */
void cutover_step_set(json_object *j, enum cutover_step s, enum cutover_status st, double now);
/* The first step neither done nor skipped; CUT_STEP_MAX when all are. */
enum cutover_step cutover_next_step(json_object *j);
const char *cutover_state(json_object *j);
void cutover_set_state(json_object *j, const char *state);
/* A word for `cutover --list`: "copying warm", "warm", "cut over", "stage 2", "rolled back", "failed at step N (name)", ... */
void cutover_summary(json_object *j, char *buf, size_t len);

/* Object helpers: a string or NULL; a number or def. */
const char *cutover_jstr(json_object *o, const char *key);
double cutover_jnum(json_object *o, const char *key, double def);

struct cutover_journal {
	char *dir, *path;
	int lock_fd;
	json_object *root;
};

/*
 * Opens VM's journal in dir (made 0700 when missing) under its lock (-EBUSY
 * when another cutover of VM holds it). No journal: -ENOENT unless create
 * (then a new one, not yet saved). A journal that does not parse: -EINVAL
 * with err naming it; nothing is changed.
 */
int cutover_journal_open(const char *dir, const char *vm, bool create, struct cutover_journal **ret, char *err,
			 size_t errlen);
/* Writes it (a new file, fsync, rename, fsync of the folder). */
int cutover_journal_save(struct cutover_journal *jr, char *err, size_t errlen);
void cutover_journal_close(struct cutover_journal *jr);
/* Reads a journal without its lock (for --list): NULL with err. */
json_object *cutover_journal_read(const char *path, char *err, size_t errlen);

#endif
