/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure parsers of guest files; see parse.h. No I/O. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/guest/parse.h"

/* ---- lines ------------------------------------------------------------ */

struct lines {
	const char *p, *end;
	int line;		/* the number of the last physical line read */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

const char *guest_trim(const char *s, size_t len, size_t *ret_len)
{
	while (len && is_blank(*s)) {
		s++;
		len--;
	}
	while (len && is_blank(s[len - 1]))
		len--;
	*ret_len = len;
	return s;
}

/*
 * The next logical line into a new string (CR before LF dropped). With
 * cont, a line ending in a backslash is joined to the next one (the
 * backslash and the newline removed). *ret_line: its first physical line.
 * Returns 1 with a line, 0 at the end, -ENOMEM. A line holding a NUL byte
 * comes back as "" (skipped by every parser: it is not text).
 */
static int next_line(struct lines *it, bool cont, char **ret, int *ret_line)
{
	char *out = NULL;
	size_t olen = 0;
	bool nul = false;

	if (it->p >= it->end)
		return 0;
	*ret_line = it->line + 1;
	for (;;) {
		const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
		const char *e = nl ? nl : it->end;
		size_t l = (size_t)(e - it->p);
		bool join;
		char *n;

		it->line++;
		if (l && it->p[l - 1] == '\r')
			l--;
		if (memchr(it->p, '\0', l))
			nul = true;
		join = cont && l && it->p[l - 1] == '\\' && nl;
		if (join)
			l--;
		n = realloc(out, olen + l + 1);
		if (!n) {
			free(out);
			return -ENOMEM;
		}
		out = n;
		memcpy(out + olen, it->p, l);
		olen += l;
		out[olen] = '\0';
		it->p = nl ? nl + 1 : it->end;
		if (!join || it->p >= it->end)
			break;
	}
	if (nul)
		out[0] = '\0';
	*ret = out;
	return 1;
}

/* Appends one element of size sz to *arr (n elements). */
static void *grow(void *arr, size_t n, size_t sz)
{
	void *p;

	if (n >= SIZE_MAX / sz / 2)
		return NULL;
	p = realloc(arr, (n + 1) * sz);
	if (p)
		memset((char *)p + n * sz, 0, sz);
	return p;
}

/* The next blank-separated word of *s, or NULL; *s moves past it. */
static char *word(char **s)
{
	char *p = *s, *w;

	while (*p && is_blank(*p))
		p++;
	if (!*p) {
		*s = p;
		return NULL;
	}
	w = p;
	while (*p && !is_blank(*p))
		p++;
	if (*p)
		*p++ = '\0';
	*s = p;
	return w;
}

static char *skip_blanks(char *s)
{
	while (*s && is_blank(*s))
		s++;
	return s;
}

static void rtrim(char *s)
{
	size_t l = strlen(s);

	while (l && is_blank(s[l - 1]))
		s[--l] = '\0';
}

/* ---- fstab ------------------------------------------------------------ */

/* fstab's octal escapes: \040 blank, \011 tab, \012 newline, \134 backslash. */
static char *fstab_unescape(const char *w)
{
	char *out = malloc(strlen(w) + 1), *o = out;

	if (!out)
		return NULL;
	while (*w) {
		if (w[0] == '\\' && w[1] >= '0' && w[1] <= '3' && w[2] >= '0' && w[2] <= '7' &&
		    w[3] >= '0' && w[3] <= '7') {
			char c = (char)((w[1] - '0') * 64 + (w[2] - '0') * 8 + (w[3] - '0'));

			*o++ = c ? c : '?';
			w += 4;
		} else {
			*o++ = *w++;
		}
	}
	*o = '\0';
	return out;
}

void guest_fstab_clear(struct guest_fstab *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->entries[i].spec);
		free(f->entries[i].file);
		free(f->entries[i].type);
		free(f->entries[i].opts);
	}
	free(f->entries);
	f->entries = NULL;
	f->n = 0;
}

int guest_fstab_parse(const char *buf, size_t len, struct guest_fstab *ret)
{
	struct lines it = { buf, buf + len, 0 };
	struct guest_fstab f = { 0 };
	char *l;
	int ln, r;

	while ((r = next_line(&it, false, &l, &ln)) > 0) {
		char *s = l, *w[4];
		struct guest_fstab_entry *e;
		int nw = 0;

		s = skip_blanks(s);
		if (*s == '#')
			s = (char *)"";
		while (nw < 4 && (w[nw] = word(&s)))
			nw++;
		if (nw < 2) {
			free(l);
			continue;
		}
		e = grow(f.entries, f.n, sizeof(*e));
		if (!e) {
			free(l);
			r = -ENOMEM;
			break;
		}
		f.entries = e;
		e = &f.entries[f.n++];
		e->line = ln;
		e->spec = fstab_unescape(w[0]);
		e->file = fstab_unescape(w[1]);
		e->type = fstab_unescape(nw > 2 ? w[2] : "");
		e->opts = fstab_unescape(nw > 3 ? w[3] : "");
		free(l);
		if (!e->spec || !e->file || !e->type || !e->opts) {
			r = -ENOMEM;
			break;
		}
	}
	if (r < 0) {
		guest_fstab_clear(&f);
		return r;
	}
	*ret = f;
	return 0;
}

bool guest_opts_has(const char *opts, const char *opt)
{
	size_t ol = strlen(opt);

	for (const char *p = opts; p && *p;) {
		size_t l = strcspn(p, ",");

		if (l == ol && !strncmp(p, opt, ol))
			return true;
		p += l;
		if (*p == ',')
			p++;
	}
	return false;
}

/* ---- grub ------------------------------------------------------------- */

void guest_grub_clear(struct guest_grub *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->entries[i].title);
		free(g->entries[i].kernel);
		free(g->entries[i].initrd);
		free(g->entries[i].args);
	}
	free(g->entries);
	g->entries = NULL;
	g->n = 0;
}

static struct guest_boot_entry *grub_add(struct guest_grub *g, const char *title, int line)
{
	struct guest_boot_entry *e = grow(g->entries, g->n, sizeof(*e));

	if (!e)
		return NULL;
	g->entries = e;
	e = &g->entries[g->n];
	e->title = strdup(title ? title : "");
	e->args = strdup("");
	e->line = line;
	e->item = -1;
	e->sub = -1;
	if (!e->title || !e->args) {
		free(e->title);
		free(e->args);
		return NULL;
	}
	g->n++;
	return e;
}

/* A kernel or initrd path without a grub device prefix: "(hd0,0)/vmlinuz" -> "/vmlinuz". */
static char *grub_path(const char *w)
{
	if (*w == '(') {
		const char *c = strchr(w, ')');

		if (c)
			w = c + 1;
	}
	return strdup(w);
}

/*
 * grub 2 and shell words: '...' literal, "..." with \ escapes, \ outside
 * quotes; variables are left as they are; '#' at a word's start ends the
 * line. Returns the count of words put into w[] (up to nw, each a new
 * string), or -ENOMEM.
 */
static int shell_words(const char *s, char **w, int nw)
{
	int n = 0;

	while (*s && n < nw) {
		char *o;
		size_t cap;

		while (*s && is_blank(*s))
			s++;
		if (!*s || *s == '#')
			break;
		cap = strlen(s) + 1;
		o = w[n] = malloc(cap);
		if (!o) {
			while (n > 0)
				free(w[--n]);
			return -ENOMEM;
		}
		while (*s && !is_blank(*s)) {
			if (*s == '\'') {
				const char *e = strchr(s + 1, '\'');

				if (!e)
					e = s + strlen(s);
				memcpy(o, s + 1, (size_t)(e - s - 1));
				o += e - s - 1;
				s = *e ? e + 1 : e;
			} else if (*s == '"') {
				s++;
				while (*s && *s != '"') {
					if (*s == '\\' && s[1] && strchr("\"\\$`", s[1]))
						s++;
					*o++ = *s++;
				}
				if (*s)
					s++;
			} else if (*s == '\\' && s[1]) {
				*o++ = s[1];
				s += 2;
			} else {
				*o++ = *s++;
			}
		}
		*o = '\0';
		n++;
	}
	return n;
}

static void free_words(char **w, int n)
{
	for (int i = 0; i < n; i++)
		free(w[i]);
}

/* Joins w[from..n) with blanks. */
static char *join_words(char **w, int from, int n)
{
	size_t l = 1;
	char *out;

	for (int i = from; i < n; i++)
		l += strlen(w[i]) + 1;
	out = malloc(l);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (int i = from; i < n; i++) {
		if (i > from)
			strcat(out, " ");
		strcat(out, w[i]);
	}
	return out;
}

/* "N" or "N>M" into item, sub; -1 -1 when not numbers. */
static void grub_default(const char *v, struct guest_grub *g)
{
	char *end;
	long a, b = -1;

	g->default_item = g->default_sub = -1;
	if (!isdigit((unsigned char)*v))
		return;
	a = strtol(v, &end, 10);
	if (*end == '>') {
		if (!isdigit((unsigned char)end[1]))
			return;
		b = strtol(end + 1, &end, 10);
	}
	if (*end || a > INT_MAX || b > INT_MAX)
		return;
	g->default_item = (int)a;
	g->default_sub = (int)b;
}

/* cur: the index of the entry being read, -1 before the first title. */
static int grub_legacy_line(struct guest_grub *g, char *l, int ln, long *cur, int *items)
{
	char *s = skip_blanks(l), *cmd, *rest;
	struct guest_boot_entry *e = *cur >= 0 ? &g->entries[*cur] : NULL;
	size_t cl;

	if (*s == '#') {
		/* Debian's update-grub template: "# kopt=root=/dev/hda1 ro" */
		s = skip_blanks(s + 1);
		if (!strncmp(s, "kopt=", 5)) {
			e = grub_add(g, "kopt", ln);
			if (!e)
				return -ENOMEM;
			free(e->args);
			rtrim(s);
			e->args = strdup(s + 5);
			if (!e->args)
				return -ENOMEM;
		}
		return 0;
	}
	cl = strcspn(s, " \t=");
	if (!cl)
		return 0;
	cmd = s;
	rest = s + cl;
	if (*rest)
		*rest++ = '\0';
	rest = skip_blanks(rest);
	if (*rest == '=')
		rest = skip_blanks(rest + 1);
	rtrim(rest);
	if (!strcmp(cmd, "title")) {
		e = grub_add(g, rest, ln);
		if (!e)
			return -ENOMEM;
		e->menu = true;
		e->item = (*items)++;
		*cur = (long)(g->n - 1);
	} else if (!strcmp(cmd, "default")) {
		grub_default(rest, g);
	} else if (!strcmp(cmd, "kernel") && e && !e->kernel) {
		char *w;

		while ((w = word(&rest)) && !strncmp(w, "--", 2))
			;
		if (!w)
			return 0;
		e->kernel = grub_path(w);
		free(e->args);
		rest = skip_blanks(rest);
		e->args = strdup(rest);
		e->line = ln;
		if (!e->kernel || !e->args)
			return -ENOMEM;
	} else if (!strcmp(cmd, "initrd") && e && !e->initrd) {
		char *w = word(&rest);

		if (!w)
			return 0;
		e->initrd = grub_path(w);
		e->initrd_line = ln;
		if (!e->initrd)
			return -ENOMEM;
	}
	return 0;
}

struct grub2_state {
	long cur;		/* the index of the entry being read, or -1 */
	int depth;		/* braces open */
	int entry_depth;	/* depth of cur's body, 0: none */
	int sub_depth;		/* depth of the open submenu's body, 0: none */
	int items, subs;
};

#define GRUB_MAX_WORDS 512

static int grub2_line(struct guest_grub *g, const char *l, int ln, struct grub2_state *st)
{
	char *w[GRUB_MAX_WORDS];
	int n = shell_words(l, w, GRUB_MAX_WORDS), r = 0;
	struct guest_boot_entry *cur;
	const char *cmd;

	if (n <= 0)
		return n;
	cur = st->cur >= 0 ? &g->entries[st->cur] : NULL;
	cmd = w[0];
	if (!strcmp(cmd, "menuentry") || !strcmp(cmd, "submenu")) {
		bool sub = !strcmp(cmd, "submenu");
		bool inside = st->sub_depth && st->depth >= st->sub_depth;

		if (!strcmp(w[n - 1], "{"))
			st->depth++;
		if (sub) {
			if (!inside) {
				st->items++;
				st->sub_depth = st->depth;
				st->subs = 0;
			}
			goto out;
		}
		cur = grub_add(g, n > 1 ? w[1] : "", ln);
		if (!cur) {
			r = -ENOMEM;
			goto out;
		}
		st->cur = (long)(g->n - 1);
		cur->menu = true;
		if (inside) {
			cur->item = st->items - 1;
			cur->sub = st->subs++;
		} else {
			cur->item = st->items++;
		}
		st->entry_depth = st->depth;
		goto out;
	}
	if (!strcmp(cmd, "}")) {
		if (st->entry_depth && st->depth == st->entry_depth) {
			st->cur = -1;
			st->entry_depth = 0;
		}
		if (st->sub_depth && st->depth == st->sub_depth)
			st->sub_depth = 0;
		if (st->depth > 0)
			st->depth--;
		goto out;
	}
	if (!strcmp(w[n - 1], "{"))
		st->depth++;	/* if/function bodies */
	if (!strcmp(cmd, "set") && n > 1 && !strncmp(w[1], "default=", 8) && !st->entry_depth) {
		grub_default(w[1] + 8, g);
	} else if ((!strcmp(cmd, "linux") || !strcmp(cmd, "linux16") || !strcmp(cmd, "linuxefi") ||
		    !strcmp(cmd, "kernel")) && cur && !cur->kernel && n > 1) {
		cur->kernel = grub_path(w[1]);
		free(cur->args);
		cur->args = join_words(w, 2, n);
		cur->line = ln;
		if (!cur->kernel || !cur->args)
			r = -ENOMEM;
	} else if ((!strcmp(cmd, "initrd") || !strcmp(cmd, "initrd16") || !strcmp(cmd, "initrdefi")) &&
		   cur && !cur->initrd && n > 1) {
		/* the last one is the real initramfs; earlier ones are microcode */
		cur->initrd = grub_path(w[n - 1]);
		cur->initrd_line = ln;
		if (!cur->initrd)
			r = -ENOMEM;
	}
out:
	free_words(w, n);
	return r;
}

static int grub_default_line(struct guest_grub *g, const char *l, int ln)
{
	char *w[2];
	int n = shell_words(l, w, 2), r = 0;
	const char *a;
	char *eq;

	if (n <= 0)
		return n;
	a = (n == 2 && !strcmp(w[0], "export")) ? w[1] : w[0];
	eq = strchr(a, '=');
	if (eq && !strncmp(a, "GRUB_CMDLINE_LINUX", 18) && eq - a >= 18) {
		struct guest_boot_entry *e;

		*eq = '\0';
		e = grub_add(g, a, ln);
		if (!e) {
			r = -ENOMEM;
		} else {
			free(e->args);
			e->args = strdup(eq + 1);
			if (!e->args)
				r = -ENOMEM;
		}
	} else if (eq && !strncmp(a, "GRUB_DEFAULT=", 13)) {
		grub_default(eq + 1, g);
	}
	free_words(w, n);
	return r;
}

int guest_grub_parse(enum guest_grub_flavour flavour, const char *buf, size_t len, struct guest_grub *ret)
{
	struct lines it = { buf, buf + len, 0 };
	struct guest_grub g = { 0 };
	struct grub2_state st = { .cur = -1 };
	int ln, r, items = 0;
	long cur = -1;
	char *l;

	if (flavour >= GUEST_GRUB_FLAVOUR_MAX)
		return -EINVAL;
	while ((r = next_line(&it, flavour != GUEST_GRUB_LEGACY, &l, &ln)) > 0) {
		if (flavour == GUEST_GRUB_LEGACY)
			r = grub_legacy_line(&g, l, ln, &cur, &items);
		else if (flavour == GUEST_GRUB2)
			r = grub2_line(&g, l, ln, &st);
		else
			r = grub_default_line(&g, l, ln);
		free(l);
		if (r < 0)
			break;
	}
	if (r < 0) {
		guest_grub_clear(&g);
		return r;
	}
	*ret = g;
	return 0;
}

const struct guest_boot_entry *guest_grub_default(const struct guest_grub *g)
{
	const struct guest_boot_entry *first = NULL;

	for (size_t i = 0; i < g->n; i++) {
		const struct guest_boot_entry *e = &g->entries[i];

		if (!e->menu)
			continue;
		if (!first)
			first = e;
		if (e->item == g->default_item && (e->sub == g->default_sub || g->default_sub < 0))
			return e;
	}
	return first;
}

/* ---- kernel command lines ---------------------------------------------- */

/* The next word of a kernel command line ("..." may hold blanks), quotes removed. */
static bool cmdline_word(const char **s, char *buf, size_t buflen, bool *fits)
{
	const char *p = *s;
	size_t o = 0;
	bool q = false;

	while (*p && is_blank(*p))
		p++;
	if (!*p)
		return false;
	*fits = true;
	while (*p && (q || !is_blank(*p))) {
		if (*p == '"') {
			q = !q;
		} else if (o + 1 < buflen) {
			buf[o++] = *p;
		} else {
			*fits = false;
		}
		p++;
	}
	if (buflen)
		buf[o] = '\0';
	*s = p;
	return true;
}

bool guest_cmdline_get(const char *cmdline, const char *key, char *buf, size_t buflen)
{
	size_t kl = strlen(key);
	bool found = false, fits;
	char w[1024];

	if (!cmdline)
		return false;
	while (cmdline_word(&cmdline, w, sizeof(w), &fits)) {
		if (fits && !strncmp(w, key, kl) && w[kl] == '=') {
			if (strlen(w + kl + 1) + 1 > buflen)
				return false;
			snprintf(buf, buflen, "%s", w + kl + 1);
			found = true;
		}
	}
	return found;
}

void guest_cmdline_devices(const char *cmdline,
			   void (*fn)(const char *key, const char *dev, void *data), void *data)
{
	char w[1024];
	bool fits;

	if (!cmdline)
		return;
	while (cmdline_word(&cmdline, w, sizeof(w), &fits)) {
		char *eq = strchr(w, '=');

		if (!fits || !eq || strncmp(eq + 1, "/dev/", 5) || !eq[6])
			continue;
		*eq = '\0';
		fn(w, eq + 6, data);
	}
}

/* ---- inittab ------------------------------------------------------------ */

static bool tty_like(const char *w)
{
	return !strncmp(w, "tty", 3) || !strncmp(w, "hvc", 3) || !strncmp(w, "xvc", 3) ||
	       !strcmp(w, "console");
}

/*
 * Whether process runs a getty (getty, agetty, mingetty, busybox getty);
 * *copy: a copy of process (to free) and *args where its arguments start.
 */
static bool is_getty(const char *process, char **copy, char **args)
{
	char *s, *prog;
	const char *base;
	bool getty;

	*copy = s = strdup(process);
	if (!s)
		return false;
	prog = word(&s);
	if (prog && !strcmp(prog, "exec"))
		prog = word(&s);
	if (!prog)
		return false;
	base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	getty = strstr(base, "getty") != NULL;
	if (!strcmp(base, "busybox")) {
		char *w = word(&s);

		getty = w && strstr(w, "getty");
	}
	*args = s;
	return getty;
}

/* The terminal of a getty command line, or NULL. */
static char *getty_tty(const char *process)
{
	char *copy, *s, *w, *res = NULL;

	if (!is_getty(process, &copy, &s))
		goto out;
	while ((w = word(&s))) {
		if (*w == '-')
			continue;
		if (!strncmp(w, "/dev/", 5))
			w += 5;
		if (tty_like(w)) {
			res = strdup(w);
			break;
		}
	}
out:
	free(copy);
	return res;
}

void guest_inittab_clear(struct guest_inittab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->entries[i].id);
		free(t->entries[i].runlevels);
		free(t->entries[i].action);
		free(t->entries[i].process);
		free(t->entries[i].tty);
	}
	free(t->entries);
	t->entries = NULL;
	t->n = 0;
}

int guest_inittab_parse(const char *buf, size_t len, struct guest_inittab *ret)
{
	struct lines it = { buf, buf + len, 0 };
	struct guest_inittab t = { 0 };
	char *l;
	int ln, r;

	while ((r = next_line(&it, false, &l, &ln)) > 0) {
		char *s = skip_blanks(l), *f[4];
		struct guest_inittab_entry *e;
		int nf = 0;

		if (*s == '#' || !*s) {
			free(l);
			continue;
		}
		f[nf++] = s;
		while (nf < 4 && (s = strchr(s, ':'))) {
			*s++ = '\0';
			f[nf++] = s;
		}
		if (nf < 4) {
			free(l);
			continue;
		}
		rtrim(f[3]);
		e = grow(t.entries, t.n, sizeof(*e));
		if (!e) {
			free(l);
			r = -ENOMEM;
			break;
		}
		t.entries = e;
		e = &t.entries[t.n++];
		e->line = ln;
		e->id = strdup(f[0]);
		e->runlevels = strdup(f[1]);
		e->action = strdup(f[2]);
		e->process = strdup(skip_blanks(f[3]));
		if (!e->id || !e->runlevels || !e->action || !e->process) {
			free(l);
			r = -ENOMEM;
			break;
		}
		e->tty = getty_tty(e->process);
		/* busybox: the id field is the terminal ("ttyS0::respawn:/sbin/getty -L 115200 vt100") */
		if (!e->tty && tty_like(e->id)) {
			char *copy, *args;

			if (is_getty(e->process, &copy, &args))
				e->tty = strdup(e->id);
			free(copy);
		}
		free(l);
	}
	if (r < 0) {
		guest_inittab_clear(&t);
		return r;
	}
	*ret = t;
	return 0;
}

/* ---- name lists --------------------------------------------------------- */

void guest_names_clear(struct guest_names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->names[i].name);
	free(n->names);
	n->names = NULL;
	n->n = 0;
}

bool guest_names_has(const struct guest_names *n, const char *name)
{
	for (size_t i = 0; i < n->n; i++)
		if (!strcmp(n->names[i].name, name))
			return true;
	return false;
}

static int names_add(struct guest_names *n, const char *s, size_t len, int line)
{
	struct guest_name *a = grow(n->names, n->n, sizeof(*a));

	if (!a)
		return -ENOMEM;
	n->names = a;
	a[n->n].name = strndup(s, len);
	if (!a[n->n].name)
		return -ENOMEM;
	a[n->n++].line = line;
	return 0;
}

int guest_securetty_parse(const char *buf, size_t len, struct guest_names *ret)
{
	struct lines it = { buf, buf + len, 0 };
	struct guest_names n = { 0 };
	char *l;
	int ln, r;

	while ((r = next_line(&it, false, &l, &ln)) > 0) {
		const char *s;
		size_t sl;

		l[strcspn(l, "#")] = '\0';
		s = guest_trim(l, strlen(l), &sl);
		if (sl > 5 && !strncmp(s, "/dev/", 5)) {
			s += 5;
			sl -= 5;
		}
		r = sl ? names_add(&n, s, sl, ln) : 0;
		free(l);
		if (r < 0)
			break;
	}
	if (r < 0) {
		guest_names_clear(&n);
		return r;
	}
	*ret = n;
	return 0;
}

bool guest_module_name(const char *path, size_t len, char *buf, size_t buflen)
{
	static const char *const exts[] = { ".ko", ".ko.gz", ".ko.xz", ".ko.zst" };
	const char *base = path;
	size_t bl = 0;

	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			base = path + i + 1;
	bl = len - (size_t)(base - path);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t el = strlen(exts[i]);

		if (bl > el && !memcmp(base + bl - el, exts[i], el)) {
			size_t nl = bl - el;

			if (nl + 1 > buflen)
				return false;
			for (size_t j = 0; j < nl; j++)
				buf[j] = base[j] == '-' ? '_' : base[j];
			buf[nl] = '\0';
			return true;
		}
	}
	return false;
}

int guest_modules_parse(const char *buf, size_t len, struct guest_names *ret)
{
	struct lines it = { buf, buf + len, 0 };
	struct guest_names n = { 0 };
	char name[256], *l;
	int ln, r;

	while ((r = next_line(&it, false, &l, &ln)) > 0) {
		const char *s;
		size_t sl;

		l[strcspn(l, "#:")] = '\0';
		s = guest_trim(l, strlen(l), &sl);
		r = 0;
		if (sl && guest_module_name(s, sl, name, sizeof(name)))
			r = names_add(&n, name, strlen(name), ln);
		free(l);
		if (r < 0)
			break;
	}
	if (r < 0) {
		guest_names_clear(&n);
		return r;
	}
	*ret = n;
	return 0;
}

/* ---- udev rules --------------------------------------------------------- */

void guest_udev_clear(struct guest_udev_rules *r)
{
	for (size_t i = 0; i < r->n; i++) {
		for (size_t j = 0; j < r->rules[i].n; j++) {
			free(r->rules[i].items[j].key);
			free(r->rules[i].items[j].attr);
			free(r->rules[i].items[j].value);
		}
		free(r->rules[i].items);
	}
	free(r->rules);
	r->rules = NULL;
	r->n = 0;
}

/* Parses the items of one rule line into rule; stops at the first malformed item. */
static int udev_items(const char *s, struct guest_udev_rule *rule)
{
	for (;;) {
		const char *k, *a = NULL, *v;
		size_t kl, al = 0, vl;
		enum guest_udev_op op;
		struct guest_udev_item *it;
		char *val, *o;

		while (*s && (is_blank(*s) || *s == ','))
			s++;
		if (!*s)
			return 0;
		k = s;
		while (isalnum((unsigned char)*s) || *s == '_')
			s++;
		kl = (size_t)(s - k);
		if (!kl)
			return 0;
		if (*s == '{') {
			a = ++s;
			while (*s && *s != '}')
				s++;
			if (*s != '}')
				return 0;
			al = (size_t)(s - a);
			s++;
		}
		while (is_blank(*s))
			s++;
		if (!strncmp(s, "==", 2)) {
			op = GUEST_UDEV_MATCH;
			s += 2;
		} else if (!strncmp(s, "!=", 2)) {
			op = GUEST_UDEV_NOMATCH;
			s += 2;
		} else if (!strncmp(s, "+=", 2) || !strncmp(s, "-=", 2) || !strncmp(s, ":=", 2)) {
			op = GUEST_UDEV_ASSIGN;
			s += 2;
		} else if (*s == '=') {
			op = GUEST_UDEV_ASSIGN;
			s++;
		} else {
			return 0;
		}
		while (is_blank(*s))
			s++;
		if (*s != '"')
			return 0;
		v = ++s;
		while (*s && *s != '"') {
			if (*s == '\\' && s[1])
				s++;
			s++;
		}
		if (*s != '"')
			return 0;
		vl = (size_t)(s - v);
		s++;
		it = grow(rule->items, rule->n, sizeof(*it));
		if (!it)
			return -ENOMEM;
		rule->items = it;
		it = &rule->items[rule->n++];
		it->op = op;
		it->key = strndup(k, kl);
		it->attr = a ? strndup(a, al) : NULL;
		val = o = malloc(vl + 1);
		if (!it->key || (a && !it->attr) || !val)
			return -ENOMEM;
		for (size_t i = 0; i < vl; i++) {
			if (v[i] == '\\' && i + 1 < vl && v[i + 1] == '"')
				i++;
			*o++ = v[i];
		}
		*o = '\0';
		it->value = val;
	}
}

int guest_udev_parse(const char *buf, size_t len, struct guest_udev_rules *ret)
{
	struct lines it = { buf, buf + len, 0 };
	struct guest_udev_rules rr = { 0 };
	char *l;
	int ln, r;

	while ((r = next_line(&it, true, &l, &ln)) > 0) {
		const char *s = skip_blanks(l);
		struct guest_udev_rule *rule;

		if (*s == '#' || !*s) {
			free(l);
			continue;
		}
		rule = grow(rr.rules, rr.n, sizeof(*rule));
		if (!rule) {
			free(l);
			r = -ENOMEM;
			break;
		}
		rr.rules = rule;
		rule = &rr.rules[rr.n++];
		rule->line = ln;
		r = udev_items(s, rule);
		free(l);
		if (r < 0)
			break;
	}
	if (r < 0) {
		guest_udev_clear(&rr);
		return r;
	}
	*ret = rr;
	return 0;
}

const char *guest_udev_get(const struct guest_udev_rule *r, const char *key, const char *attr,
			   enum guest_udev_op op)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct guest_udev_item *it = &r->items[i];

		if (it->op != op || strcmp(it->key, key))
			continue;
		if (attr && (!it->attr || strcmp(it->attr, attr)))
			continue;
		return it->value;
	}
	return NULL;
}

/* ---- names -------------------------------------------------------------- */

bool guest_getty_unit_tty(const char *unit, char *buf, size_t buflen)
{
	static const char *const pre[] = { "serial-getty@", "getty@" };
	const char *suf = ".service";

	for (size_t i = 0; i < 2; i++) {
		size_t pl = strlen(pre[i]), ul = strlen(unit), sl = strlen(suf), tl;

		if (strncmp(unit, pre[i], pl) || ul <= pl + sl || strcmp(unit + ul - sl, suf))
			continue;
		tl = ul - pl - sl;
		if (tl + 1 > buflen)
			return false;
		memcpy(buf, unit + pl, tl);
		buf[tl] = '\0';
		return true;
	}
	return false;
}

bool guest_devname_parse(const char *name, struct guest_devname *ret)
{
	static const char *const pre[] = { "xvd", "sd", "hd", "vd" };
	struct guest_devname d = { 0 };
	const char *s = name;
	size_t nl = 0;
	long part = 0;

	if (!strncmp(s, "/dev/", 5))
		s += 5;
	for (size_t i = 0; i < 4; i++)
		if (!strncmp(s, pre[i], strlen(pre[i]))) {
			snprintf(d.prefix, sizeof(d.prefix), "%s", pre[i]);
			s += strlen(pre[i]);
			break;
		}
	if (!d.prefix[0])
		return false;
	while (*s >= 'a' && *s <= 'z' && nl < 3)
		d.letters[nl++] = *s++;
	if (!nl)
		return false;
	if (*s) {
		if (*s < '1' || *s > '9' || strlen(s) > 4)
			return false;
		for (; *s; s++) {
			if (!isdigit((unsigned char)*s))
				return false;
			part = part * 10 + (*s - '0');
		}
	}
	d.part = (int)part;
	*ret = d;
	return true;
}

bool guest_devname_same(const struct guest_devname *a, const struct guest_devname *b)
{
	return !strcmp(a->letters, b->letters) && a->part == b->part;
}
