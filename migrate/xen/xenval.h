/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The evaluated contents of a Xen domain config (xl or xm format): an
 * ordered table of variables whose values are strings, integers or lists.
 * migrate/xen/xenlex.c reads the text into it; migrate/xen/xencfg.c maps it to a VM.
 * No I/O here: the parser works on a buffer so it can be fuzzed.
 */
#ifndef BRIDGED_MIGRATE_XENVAL_H
#define BRIDGED_MIGRATE_XENVAL_H

#include <stdbool.h>
#include <stddef.h>

enum xval_type {
	XVAL_STR,
	XVAL_INT,
	XVAL_LIST,
	XVAL_MAX
};

struct xval {
	enum xval_type type;
	bool tuple;		/* a Python tuple: '%' takes its items as arguments */
	int line, col;		/* where the value starts in the file */
	char *str;		/* XVAL_STR, NUL-terminated; len excludes the NUL */
	size_t len;
	long long num;		/* XVAL_INT */
	struct xval **items;	/* XVAL_LIST */
	size_t n_items;
};

struct xvar {
	char *name;
	struct xval *val;
	int line, col;		/* the last assignment */
};

struct xvars {
	struct xvar *v;
	size_t n;
	int eof_line, eof_col;	/* position just past the last token */
};

/* A parse error: "file:line:col: msg". */
struct xen_error {
	int line, col;
	char msg[512];
};

void xval_free(struct xval *v);
void xvars_free(struct xvars *vars);
const struct xvar *xvars_get(const struct xvars *vars, const char *name);

/*
 * Parses an xl or xm (safe Python subset) config held in buf[0..len).
 * Returns 0 and fills *ret (freed with xvars_free), or -EINVAL with *err
 * set, or -ENOMEM.
 */
int xen_eval(const char *buf, size_t len, struct xvars *ret, struct xen_error *err);

#endif
