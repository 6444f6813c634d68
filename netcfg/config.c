/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration parser and printer (the model is in config.h, the file
 * format in docs/CONFIG.md).
 *
 * Shaped like wireguard-tools src/config.c: init, one call per line, finish.
 * config_parse_buffer() does no I/O, so it can be fuzzed. The reader is our
 * own (about sixty lines): an INI library (inih was used before) splits
 * "Key = value" but hands its handler no line number, reports only its first
 * syntax error, silently truncates long lines and section names and cannot
 * tell an empty section; every problem here is collected with its file:line,
 * so the reading had to be ours anyway, and what was left to the library
 * was one strchr.
 */
#include "netcfg/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/escape.h"

#include "netcfg/config_parser.h"

/* ---- error collection ---------------------------------------------------- */

struct error {
	unsigned line;
	size_t seq;                      /* keeps equal lines in finding order */
	char *msg;
};

static void errors_push(struct parser *p, unsigned line, char *msg)
{
	struct error *n;

	p->n_errors++;
	if (!p->errs) {
		free(msg);
		return;
	}
	n = realloc(p->found, (p->n_found + 1) * sizeof(*n));
	if (!n) {
		free(msg);
		p->oom = true;
		return;
	}
	p->found = n;
	p->found[p->n_found] = (struct error){ .line = line, .seq = p->n_found, .msg = msg };
	p->n_found++;
}

static int error_cmp(const void *a, const void *b)
{
	const struct error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands the messages to the caller sorted by line, or frees them. */
static void errors_flush(struct parser *p)
{
	struct config_errors *e = p->errs;
	size_t i;

	if (p->n_found)
		qsort(p->found, p->n_found, sizeof(*p->found), error_cmp);
	for (i = 0; i < p->n_found; i++) {
		char **n = e && !p->oom ? realloc(e->msgs, (e->n + 1) * sizeof(*n)) : NULL;

		if (!n) {
			if (e)
				p->oom = true;
			free(p->found[i].msg);
			continue;
		}
		e->msgs = n;
		e->msgs[e->n++] = p->found[i].msg;
	}
	free(p->found);
	p->found = NULL;
	p->n_found = 0;
}

/* "file:line: [label] key: message"; label and key may be NULL. */
static void __attribute__((format(printf, 5, 0)))
verror_at(struct parser *p, unsigned line, const char *label, const char *key,
	  const char *fmt, va_list ap)
{
	char what[512], *msg;
	int r;

	vsnprintf(what, sizeof(what), fmt, ap);
	r = asprintf(&msg, "%s:%u: %s%s%s%s%s%s", p->name, line,
		     label ? "[" : "", label ? label : "", label ? "] " : "",
		     key ? key : "", key ? ": " : "", what);
	if (r < 0) {
		p->n_errors++;
		p->oom = true;
		return;
	}
	errors_push(p, line, msg);
}

void __attribute__((format(printf, 5, 6)))
config_error_at(struct parser *p, unsigned line, const char *label, const char *key,
	 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(p, line, label, key, fmt, ap);
	va_end(ap);
}

/* An error about the key being parsed, on the current line. */
int __attribute__((format(printf, 2, 3)))
config_key_error(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(p, p->lineno, p->cur ? p->cur->label : NULL, p->key, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- sections --------------------------------------------------------------- */


static struct section *section_new(struct parser *p, enum sect_kind kind,
				   const char *label)
{
	struct section *s = realloc(p->sects, (p->n_sects + 1) * sizeof(*s));

	if (!s) {
		p->oom = true;
		return NULL;
	}
	p->sects = s;
	s = &p->sects[p->n_sects++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->line = p->lineno;
	snprintf(s->label, sizeof(s->label), "%s", label);
	return s;
}

static struct section *section_find(struct parser *p, enum sect_kind kind,
				    const char *name, struct section *except)
{
	size_t i;

	for (i = 0; i < p->n_sects; i++) {
		struct section *s = &p->sects[i];
		const char *n;

		if (s == except || s->kind != kind || s->invalid)
			continue;
		if (kind == SECT_NODE)
			return s;
		n = kind == SECT_BRIDGE ? p->c->bridges[s->idx].name
					: p->c->peers[s->idx].name;
		if (!strcmp(n, name))
			return s;
	}
	return NULL;
}

static void *section_obj(struct parser *p, struct section *s)
{
	switch (s->kind) {
	case SECT_NODE:
		return s->invalid ? (void *)&p->dup_node : (void *)&p->c->node;
	case SECT_BRIDGE:
		return &p->c->bridges[s->idx];
	case SECT_PEER:
		return &p->c->peers[s->idx];
	default:
		return NULL;
	}
}

/* "Type name" for messages, the name escaped and cut to fit. */
static void label_escape(char *label, size_t len, const char *type, const char *name)
{
	size_t tl = strlen(type) + (*type && *name ? 1 : 0);

	snprintf(label, len, "%s%s", type, *type && *name ? " " : "");
	if (tl < len)
		str_escape(name, SIZE_MAX, label + tl, len - tl);
}

/* Handles "[Type name]" (already without brackets and trimmed). */
static void section_start(struct parser *p, const char *hdr)
{
	char type[16], label[48];
	const char *name;
	size_t tl = strcspn(hdr, " \t");
	struct section *s, *first;

	name = hdr + tl;
	name += strspn(name, " \t");
	snprintf(type, sizeof(type), "%.*s", (int)(tl < sizeof(type) ? tl : sizeof(type) - 1), hdr);
	p->cur = NULL;

	if (!strcasecmp(type, "Node") && tl == 4) {
		s = section_new(p, SECT_NODE, "Node");
		if (!s)
			return;
		p->cur = s;
		if (*name) {
			config_error_at(p, p->lineno, "Node", NULL, "the [Node] section takes no name");
		}
		first = section_find(p, SECT_NODE, NULL, s);
		if (first) {
			config_error_at(p, p->lineno, "Node", NULL,
				 "duplicate [Node] section (first at line %u)", first->line);
			s->invalid = true;
			config_node_defaults(&p->dup_node);
		}
		return;
	}

	if ((!strcasecmp(type, "Bridge") && tl == 6) || (!strcasecmp(type, "Peer") && tl == 4)) {
		bool bridge = tl == 6;
		enum sect_kind kind = bridge ? SECT_BRIDGE : SECT_PEER;
		const char *why;

		label_escape(label, sizeof(label), bridge ? "Bridge" : "Peer", name);
		if (!*name) {
			config_error_at(p, p->lineno, NULL, NULL,
				 "[%s] needs a name: [%s NAME]", type, bridge ? "Bridge" : "Peer");
			why = "";
		} else if (strpbrk(name, " \t")) {
			why = "name must be one word";
		} else {
			why = bridge ? config_check_ifname(name) : config_check_name(name, CONFIG_NAME_MAX - 1);
			if (why && bridge && !strcmp(why, "name too long"))
				why = "interface name too long (at most 15 characters)";
		}
		if (why && *why)
			config_error_at(p, p->lineno, label, NULL, "%s", why);

		if (bridge) {
			struct bridge_cfg *b = realloc(p->c->bridges,
						       (p->c->n_bridges + 1) * sizeof(*b));
			if (!b) {
				p->oom = true;
				return;
			}
			p->c->bridges = b;
			b = &b[p->c->n_bridges];
			memset(b, 0, sizeof(*b));
			snprintf(b->name, sizeof(b->name), "%s", name);
			snprintf(b->segment, sizeof(b->segment), "%s", b->name);
			b->line = p->lineno;
		} else {
			struct peer_cfg *pc = realloc(p->c->peers,
						      (p->c->n_peers + 1) * sizeof(*pc));
			if (!pc) {
				p->oom = true;
				return;
			}
			p->c->peers = pc;
			pc = &pc[p->c->n_peers];
			memset(pc, 0, sizeof(*pc));
			snprintf(pc->name, sizeof(pc->name), "%s", name);
			pc->encryption = ENCRYPTION_AEAD;
			pc->keepalive_ms = CONFIG_DEFAULT_KEEPALIVE_MS;
			pc->line = p->lineno;
		}
		s = section_new(p, kind, label);
		if (!s) {
			/* The object is counted so config_free() sees it. */
			if (bridge)
				p->c->n_bridges++;
			else
				p->c->n_peers++;
			return;
		}
		s->idx = bridge ? p->c->n_bridges++ : p->c->n_peers++;
		s->invalid = why != NULL;
		p->cur = s;
		if (!s->invalid) {
			first = section_find(p, kind, name, s);
			if (first) {
				config_error_at(p, p->lineno, label, NULL,
					 "duplicate %s name (first at line %u)",
					 bridge ? "bridge" : "peer", first->line);
				s->invalid = true;
			}
		}
		return;
	}

	config_error_at(p, p->lineno, NULL, NULL,
		 "unknown section [%s] (expected [Node], [Bridge NAME] or [Peer NAME])",
		 STR_ESCAPED(hdr));
	label_escape(label, sizeof(label), "", hdr);
	s = section_new(p, SECT_IGNORE, label);
	p->cur = s;
}

/* ---- line handling ------------------------------------------------------------ */

/* The first of chars, or an inline ';' comment (a ';' after a blank). */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static void key_value(struct parser *p, const char *name, const char *value);

/*
 * Handles one line (NUL-terminated, leading blanks and the line end already
 * stripped): a comment, a section header or a "Key = value" (or "Key:
 * value") line, whose key ends before the first '=' or ':' and whose value
 * loses an inline ';' comment (a ';' after a blank) and surrounding blanks.
 */
static void line_handle(struct parser *p, char *line)
{
	size_t n = strlen(line);
	const char *end;
	char *value;

	while (n && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	if (!*line || *line == ';' || *line == '#')
		return;
	if (*line == '[') {
		char *hdr = line + 1, *close;
		const char *rest;

		close = (char *)find_chars_or_comment(hdr, "]");
		if (*close != ']') {
			config_error_at(p, p->lineno, NULL, NULL, "section header without ']'");
			p->cur = section_new(p, SECT_IGNORE, "?");
			return;
		}
		*close = '\0';
		rest = close + 1;
		rest += strspn(rest, " \t");
		if (*rest && *rest != ';' && *rest != '#') {
			config_error_at(p, p->lineno, NULL, NULL, "text after section header: \"%s\"",
				 STR_ESCAPED(rest));
		}
		hdr += strspn(hdr, " \t");
		n = strlen(hdr);
		while (n && isspace((unsigned char)hdr[n - 1]))
			hdr[--n] = '\0';
		section_start(p, hdr);
		return;
	}
	end = find_chars_or_comment(line, "=:");
	if (*end != '=' && *end != ':') {
		config_error_at(p, p->lineno, p->cur ? p->cur->label : NULL, NULL,
			 "syntax error: expected \"Key = value\"");
		return;
	}
	value = (char *)end + 1;
	*(char *)end = '\0';
	n = strlen(line);
	while (n && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	value += strspn(value, " \t\v\f");
	*(char *)find_chars_or_comment(value, "") = '\0';
	n = strlen(value);
	while (n && isspace((unsigned char)value[n - 1]))
		value[--n] = '\0';
	key_value(p, line, value);
}

/* Reads the next line into str (num bytes) and handles it; false at the end. */
static bool read_line(struct parser *p, char *str, size_t num)
{
	const char *line, *nl;
	size_t n, room;

	if (p->pos >= p->len)
		return false;
	line = p->buf + p->pos;
	nl = memchr(line, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - line) : p->len - p->pos;
	p->pos += n + (nl ? 1 : 0);
	p->lineno++;
	/* A CRLF line end is a line end: not counted against the limit. */
	if (n && line[n - 1] == '\r')
		n--;

	if (p->lineno == 1 && n >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
		line += 3;
		n -= 3;
	}
	/* leading blanks: indentation, never a continuation */
	while (n && (*line == ' ' || *line == '\t' || *line == '\r' ||
		     *line == '\v' || *line == '\f')) {
		line++;
		n--;
	}

	room = num - 2;  /* what a line may hold (the limit is documented) */
	if (memchr(line, '\0', n)) {
		config_error_at(p, p->lineno, p->cur ? p->cur->label : NULL, NULL, "NUL byte in line");
	} else if (n > room) {
		config_error_at(p, p->lineno, p->cur ? p->cur->label : NULL, NULL,
			 "line too long (at most %zu characters)", room);
	} else {
		memcpy(str, line, n);
		str[n] = '\0';
		line_handle(p, str);
	}
	return true;
}

static void key_value(struct parser *p, const char *name, const char *value)
{
	struct section *s = p->cur;
	size_t k;

	p->key = NULL;
	if (!s) {
		config_error_at(p, p->lineno, NULL, STR_ESCAPED(name), "key outside of any section");
		return;
	}
	if (s->kind == SECT_IGNORE)
		return;
	for (k = 0; k < _KEY_MAX; k++)
		if (key_table[k].kind == s->kind && !strcasecmp(name, key_table[k].name))
			break;
	if (k == _KEY_MAX) {
		config_error_at(p, p->lineno, s->label, STR_ESCAPED(name), "unknown key");
		return;
	}
	p->key = key_table[k].name;
	if (s->key_line[k]) {
		config_key_error(p, "duplicate key (first at line %u)", s->key_line[k]);
		p->key = NULL;
		return;
	}
	s->key_line[k] = p->lineno;
	if (!*value) {
		config_key_error(p, "empty value");
		s->key_bad |= 1ULL << k;
	} else if (key_table[k].parse(p, section_obj(p, s), value) < 0) {
		s->key_bad |= 1ULL << k;
	}
	p->key = NULL;
}

/* ---- finish: whole-config checks ------------------------------------------- */

static unsigned key_or_section_line(const struct section *s, enum key_id k)
{
	return s->key_line[k] ? s->key_line[k] : s->line;
}

static void config_finish(struct parser *p)
{
	struct config *c = p->c;
	struct section *node = NULL;
	size_t i, j, k;

	for (i = 0; i < p->n_sects; i++)
		if (p->sects[i].kind == SECT_NODE && !p->sects[i].invalid) {
			node = &p->sects[i];
			break;
		}
	if (!node)
		config_error_at(p, p->lineno ? p->lineno : 1, "Node", "PrivateKeyFile",
			 "missing (no [Node] section)");
	else if (!node->key_line[KEY_PRIVATE_KEY_FILE])
		config_error_at(p, node->line, "Node", "PrivateKeyFile", "missing");

	for (i = 0; i < p->n_sects; i++) {
		struct section *s = &p->sects[i];

		if (s->kind == SECT_BRIDGE) {
			const struct bridge_cfg *b = &c->bridges[s->idx];

			if (b->stp && b->forward_delay < CONFIG_FORWARD_DELAY_MIN_STP &&
			    !(s->key_bad & (1ULL << KEY_FORWARD_DELAY)))
				config_error_at(p, key_or_section_line(s, KEY_FORWARD_DELAY), s->label,
					 "ForwardDelay", "must be %d..%d with STP on",
					 CONFIG_FORWARD_DELAY_MIN_STP, CONFIG_FORWARD_DELAY_MAX);
			if (s->invalid || (s->key_bad & (1ULL << KEY_SEGMENT)))
				continue;
			for (j = 0; j < i; j++) {
				struct section *t = &p->sects[j];

				if (t->kind != SECT_BRIDGE || t->invalid ||
				    (t->key_bad & (1ULL << KEY_SEGMENT)))
					continue;
				if (!strcmp(c->bridges[t->idx].segment, b->segment)) {
					config_error_at(p, key_or_section_line(s, KEY_SEGMENT), s->label,
						 "Segment", "segment \"%s\" already carried by [%s] (line %u)",
						 b->segment, t->label, t->line);
					break;
				}
			}
		} else if (s->kind == SECT_PEER) {
			const struct peer_cfg *pc = &c->peers[s->idx];

			/* A bad header is reported already; its body may be empty. */
			if (!s->key_line[KEY_PUBLIC_KEY] && !s->invalid)
				config_error_at(p, s->line, s->label, "PublicKey", "missing");
			if (!s->key_line[KEY_SEGMENTS] && !s->invalid)
				config_error_at(p, s->line, s->label, "Segments", "missing");
			for (k = 0; k < pc->n_segments; k++) {
				bool found = false;

				for (j = 0; j < c->n_bridges && !found; j++)
					found = !strcmp(c->bridges[j].segment, pc->segments[k]);
				if (!found)
					config_error_at(p, s->key_line[KEY_SEGMENTS], s->label, "Segments",
						 "segment \"%s\" is not defined by any [Bridge]",
						 pc->segments[k]);
			}
			if (s->invalid || !s->key_line[KEY_PUBLIC_KEY])
				continue;
			for (j = 0; j < i; j++) {
				struct section *t = &p->sects[j];

				if (t->kind != SECT_PEER || t->invalid || !t->key_line[KEY_PUBLIC_KEY])
					continue;
				/* A key that failed to parse is all-zero: no match. */
				if (!memcmp(c->peers[t->idx].public_key, pc->public_key, KEY_LEN) &&
				    !sodium_is_zero(pc->public_key, KEY_LEN)) {
					config_error_at(p, s->key_line[KEY_PUBLIC_KEY], s->label, "PublicKey",
						 "same key as [%s] (line %u)", t->label, t->line);
					break;
				}
			}
		}
	}
}

/* ---- public entry points ------------------------------------------------------ */

int config_parse_buffer(const char *name, const char *buf, size_t len,
			struct config **ret, struct config_errors *errs)
{
	struct parser p = {
		.name = name ? name : "(config)",
		.buf = buf,
		.len = buf ? len : 0,
		.errs = errs,
	};

	p.c = calloc(1, sizeof(*p.c));
	if (!p.c)
		return -ENOMEM;
	p.c->path = strdup(p.name);
	if (!p.c->path) {
		free(p.c);
		return -ENOMEM;
	}
	config_node_defaults(&p.c->node);

	{
		/* the longest line the format allows, its '\n' and NUL */
		char line[CONFIG_LINE_MAX + 2];

		while (!p.oom && read_line(&p, line, sizeof(line)))
			;
	}
	if (!p.oom)
		config_finish(&p);

	free(p.sects);
	errors_flush(&p);
	if (p.oom) {
		config_free(p.c);
		return -ENOMEM;
	}
	if (p.n_errors) {
		config_free(p.c);
		return -EINVAL;
	}
	*ret = p.c;
	return 0;
}

static int push_plain_error(struct config_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int push_plain_error(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;
	char *msg, **n;
	int r;

	if (!errs)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	n = realloc(errs->msgs, (errs->n + 1) * sizeof(*n));
	if (!n) {
		free(msg);
		return -ENOMEM;
	}
	errs->msgs = n;
	errs->msgs[errs->n++] = msg;
	return 0;
}

int config_parse_file(const char *path, struct config **ret,
		      struct config_errors *errs)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r;

	if (fd < 0) {
		r = -errno;
		push_plain_error(errs, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	return config_parse_fd(path, fd, ret, errs);
}

int config_parse_fd(const char *path, int fd, struct config **ret,
		    struct config_errors *errs)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int r;

	f = fdopen(fd, "r");
	if (!f) {
		r = -errno;
		close(fd);
		push_plain_error(errs, "%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			if (cap >= CONFIG_FILE_MAX) {
				push_plain_error(errs, "%s: larger than %d bytes", path,
						 CONFIG_FILE_MAX);
				r = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		r = -EIO;
		push_plain_error(errs, "%s: read error", path);
		goto out;
	}
	r = config_parse_buffer(path, buf, len, ret, errs);
out:
	free(buf);
	fclose(f);
	return r;
}

void config_free(struct config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_peers; i++)
		free(c->peers[i].segments);
	free(c->peers);
	free(c->bridges);
	free(c->path);
	free(c);
}

void config_errors_clear(struct config_errors *errs)
{
	size_t i;

	if (!errs)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

