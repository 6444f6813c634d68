/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reads a Xen domain config into an ordered table of variables.
 *
 * One grammar covers both formats. xl: `KEY = VALUE`, `KEY += VALUE`, `;` or
 * newline separators, '...' and "..." strings with backslash escapes,
 * decimal/octal/hex numbers, lists over several lines with comments and
 * trailing commas, nested lists. xm files are Python; the safe subset that
 * real files use is evaluated: quoted numbers, `+` concatenation, `%`
 * formatting of known values, integer arithmetic, parentheses and tuples,
 * backslash continuation, triple-quoted and adjacent strings. Anything else
 * (imports, calls, conditionals...) is an error at its file position that
 * points the operator to `xl -N create FILE` on the old host.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "migrate/xen/xenval.h"

#define XEN_MAX_DEPTH	64
#define XEN_MAX_STR	(1u << 20)
#define XEN_HINT	"; run 'xl -N create FILE' on the old host to get the evaluated config"

enum tok {
	T_EOF, T_NL, T_IDENT, T_STR, T_NUM,
	T_ASSIGN, T_PLUSEQ, T_PLUS, T_MINUS, T_STAR, T_SLASH, T_DSLASH, T_PERCENT,
	T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_SEMI,
	T_MAX
};

static const char *const tok_names[T_MAX] = {
	[T_EOF] = "end of file", [T_NL] = "end of line", [T_IDENT] = "name",
	[T_STR] = "string", [T_NUM] = "number", [T_ASSIGN] = "'='",
	[T_PLUSEQ] = "'+='", [T_PLUS] = "'+'", [T_MINUS] = "'-'",
	[T_STAR] = "'*'", [T_SLASH] = "'/'", [T_DSLASH] = "'//'",
	[T_PERCENT] = "'%'", [T_LPAREN] = "'('", [T_RPAREN] = "')'",
	[T_LBRACK] = "'['", [T_RBRACK] = "']'", [T_COMMA] = "','",
	[T_SEMI] = "';'",
};

struct token {
	enum tok type;
	int line, col;
	char *str;		/* T_IDENT, T_STR (owned) */
	size_t len;
	long long num;		/* T_NUM */
};

struct parser {
	const char *buf;
	size_t len, pos;
	int line, col;
	int depth;		/* bracket nesting: newlines inside are blanks */
	int rdepth;		/* recursion depth of the expression parser */
	struct token tok;	/* the current token */
	struct xvars *vars;
	struct xen_error *err;
};

static int perr(struct parser *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int perr(struct parser *p, int line, int col, const char *fmt, ...)
{
	va_list ap;

	p->err->line = line;
	p->err->col = col;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void xval_free(struct xval *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_items; i++)
		xval_free(v->items[i]);
	free(v->items);
	free(v->str);
	free(v);
}

void xvars_free(struct xvars *vars)
{
	if (!vars)
		return;
	for (size_t i = 0; i < vars->n; i++) {
		free(vars->v[i].name);
		xval_free(vars->v[i].val);
	}
	free(vars->v);
	vars->v = NULL;
	vars->n = 0;
}

const struct xvar *xvars_get(const struct xvars *vars, const char *name)
{
	for (size_t i = 0; i < vars->n; i++)
		if (!strcmp(vars->v[i].name, name))
			return &vars->v[i];
	return NULL;
}

static struct xval *xval_new(enum xval_type type, int line, int col)
{
	struct xval *v = calloc(1, sizeof(*v));

	if (v) {
		v->type = type;
		v->line = line;
		v->col = col;
	}
	return v;
}

static struct xval *xval_str(const char *s, size_t len, int line, int col)
{
	struct xval *v = xval_new(XVAL_STR, line, col);

	if (!v)
		return NULL;
	v->str = malloc(len + 1);
	if (!v->str) {
		free(v);
		return NULL;
	}
	memcpy(v->str, s, len);
	v->str[len] = '\0';
	v->len = len;
	return v;
}

static struct xval *xval_dup(const struct xval *s)
{
	struct xval *v;

	if (s->type == XVAL_STR)
		return xval_str(s->str, s->len, s->line, s->col);
	v = xval_new(s->type, s->line, s->col);
	if (!v)
		return NULL;
	v->num = s->num;
	v->tuple = s->tuple;
	if (s->n_items) {
		v->items = calloc(s->n_items, sizeof(*v->items));
		if (!v->items) {
			free(v);
			return NULL;
		}
		for (size_t i = 0; i < s->n_items; i++) {
			v->items[i] = xval_dup(s->items[i]);
			if (!v->items[i]) {
				v->n_items = i;
				xval_free(v);
				return NULL;
			}
		}
		v->n_items = s->n_items;
	}
	return v;
}

static int list_push(struct xval *l, struct xval *item)
{
	struct xval **n = realloc(l->items, (l->n_items + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	l->items = n;
	l->items[l->n_items++] = item;
	return 0;
}

/* ---- lexer ---- */

static int peekc(const struct parser *p, size_t ahead)
{
	return p->pos + ahead < p->len ? (unsigned char)p->buf[p->pos + ahead] : -1;
}

static void advance(struct parser *p)
{
	if (p->pos >= p->len)
		return;
	if (p->buf[p->pos] == '\n') {
		p->line++;
		p->col = 1;
	} else {
		p->col++;
	}
	p->pos++;
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static int sbuf_addc(struct sbuf *b, char c)
{
	if (b->len + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		char *n;

		if (cap > XEN_MAX_STR + 2)
			return -E2BIG;
		n = realloc(b->s, cap);
		if (!n)
			return -ENOMEM;
		b->s = n;
		b->cap = cap;
	}
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int lex_string(struct parser *p, bool raw)
{
	int line = p->line, col = p->col, q = peekc(p, 0), r;
	bool triple = peekc(p, 1) == q && peekc(p, 2) == q;
	struct sbuf b = { 0 };

	if (raw)
		col--;	/* the r prefix */
	for (int i = 0; i < (triple ? 3 : 1); i++)
		advance(p);
	for (;;) {
		int c = peekc(p, 0);

		if (c < 0 || (c == '\n' && !triple)) {
			free(b.s);
			return perr(p, line, col, "unterminated string");
		}
		if (c == q && (!triple || (peekc(p, 1) == q && peekc(p, 2) == q))) {
			for (int i = 0; i < (triple ? 3 : 1); i++)
				advance(p);
			break;
		}
		if (c == '\\' && !raw) {
			int eline = p->line, ecol = p->col, e;

			advance(p);
			e = peekc(p, 0);
			if (e < 0)
				continue;	/* reported as unterminated */
			advance(p);
			switch (e) {
			case '\n': continue;	/* line continuation inside a string */
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'a': c = '\a'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'v': c = '\v'; break;
			case '\\': case '\'': case '"': c = e; break;
			case 'x': {
				int h1 = hexval(peekc(p, 0)), h2 = h1 < 0 ? -1 : hexval(peekc(p, 1));

				if (h1 < 0 || h2 < 0) {
					free(b.s);
					return perr(p, eline, ecol, "bad \\x escape: two hex digits expected");
				}
				advance(p);
				advance(p);
				c = h1 * 16 + h2;
				break;
			}
			default:
				if (e >= '0' && e <= '7') {
					c = e - '0';
					for (int i = 0; i < 2 && peekc(p, 0) >= '0' && peekc(p, 0) <= '7'; i++) {
						c = c * 8 + (peekc(p, 0) - '0');
						advance(p);
					}
					c &= 0xff;
				} else {
					/* Python keeps unknown escapes as they are. */
					r = sbuf_addc(&b, '\\');
					if (r < 0)
						goto fail;
					c = e;
				}
			}
			if (c == 0) {
				free(b.s);
				return perr(p, eline, ecol, "NUL character in string");
			}
			r = sbuf_addc(&b, (char)c);
			if (r < 0)
				goto fail;
			continue;
		}
		if (c == 0) {
			free(b.s);
			return perr(p, p->line, p->col, "NUL character in string");
		}
		r = sbuf_addc(&b, (char)c);
		if (r < 0)
			goto fail;
		advance(p);
	}
	if (!b.s) {
		b.s = strdup("");
		if (!b.s)
			return -ENOMEM;
	}
	p->tok = (struct token){ .type = T_STR, .line = line, .col = col, .str = b.s, .len = b.len };
	return 0;
fail:
	free(b.s);
	if (r == -E2BIG)
		return perr(p, line, col, "string too long");
	return r;
}

static int lex_number(struct parser *p)
{
	int line = p->line, col = p->col, base = 10;
	unsigned long long v = 0;
	bool any = false;

	if (peekc(p, 0) == '0' && (peekc(p, 1) == 'x' || peekc(p, 1) == 'X')) {
		base = 16;
		advance(p);
		advance(p);
	} else if (peekc(p, 0) == '0' && (peekc(p, 1) == 'o' || peekc(p, 1) == 'O')) {
		base = 8;
		advance(p);
		advance(p);
	} else if (peekc(p, 0) == '0') {
		base = 8;	/* C, xl and Python 2: a leading 0 is octal */
	}
	for (;;) {
		int c = peekc(p, 0), d = hexval(c);

		if (d < 0 || d >= base) {
			if (c >= '0' && c <= '9')
				return perr(p, p->line, p->col, "bad digit '%c' in %s number", c,
					    base == 8 ? "octal" : "decimal");
			break;
		}
		if (v > (unsigned long long)LLONG_MAX / (unsigned)base ||
		    v * (unsigned)base > (unsigned long long)LLONG_MAX - (unsigned)d)
			return perr(p, line, col, "number too large");
		v = v * (unsigned)base + (unsigned)d;
		any = true;
		advance(p);
	}
	if (!any)
		return perr(p, line, col, "number without digits");
	if (peekc(p, 0) == 'L' || peekc(p, 0) == 'l')
		advance(p);	/* Python 2 long */
	if (peekc(p, 0) == '.' || peekc(p, 0) == 'e' || peekc(p, 0) == 'E')
		return perr(p, p->line, p->col, "floating point numbers are not supported" XEN_HINT);
	if ((peekc(p, 0) >= 'a' && peekc(p, 0) <= 'z') || (peekc(p, 0) >= 'A' && peekc(p, 0) <= 'Z') ||
	    peekc(p, 0) == '_')
		return perr(p, p->line, p->col, "unexpected character '%c' after number", peekc(p, 0));
	p->tok = (struct token){ .type = T_NUM, .line = line, .col = col, .num = (long long)v };
	return 0;
}

static bool is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(int c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Reads the next token into p->tok (freeing the previous one). */
static int next(struct parser *p)
{
	int c;

	free(p->tok.str);
	p->tok = (struct token){ .type = T_EOF };
	for (;;) {
		c = peekc(p, 0);
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			advance(p);
		} else if (c == '#') {
			while (peekc(p, 0) >= 0 && peekc(p, 0) != '\n')
				advance(p);
		} else if (c == '\\' && (peekc(p, 1) == '\n' ||
					 (peekc(p, 1) == '\r' && peekc(p, 2) == '\n'))) {
			advance(p);
			if (peekc(p, 0) == '\r')
				advance(p);
			advance(p);
		} else if (c == '\n' && p->depth > 0) {
			advance(p);
		} else {
			break;
		}
	}
	p->tok.line = p->line;
	p->tok.col = p->col;
	if (c < 0)
		return 0;
	if (c == '\n') {
		p->tok.type = T_NL;
		advance(p);
		return 0;
	}
	if (c == '\'' || c == '"')
		return lex_string(p, false);
	if (c >= '0' && c <= '9')
		return lex_number(p);
	if (is_ident_start(c)) {
		size_t start = p->pos;
		int line = p->line, col = p->col;

		/* String prefixes: r'' is raw, u'' and b'' are plain. */
		if (strchr("rRuUbB", c) && (peekc(p, 1) == '\'' || peekc(p, 1) == '"')) {
			advance(p);
			return lex_string(p, c == 'r' || c == 'R');
		}
		while (is_ident(peekc(p, 0)))
			advance(p);
		p->tok.type = T_IDENT;
		p->tok.line = line;
		p->tok.col = col;
		p->tok.len = p->pos - start;
		p->tok.str = strndup(p->buf + start, p->tok.len);
		return p->tok.str ? 0 : -ENOMEM;
	}
	advance(p);
	switch (c) {
	case '=':
		if (peekc(p, 0) == '=')
			return perr(p, p->tok.line, p->tok.col, "comparisons are not supported" XEN_HINT);
		p->tok.type = T_ASSIGN;
		return 0;
	case '+':
		if (peekc(p, 0) == '=') {
			advance(p);
			p->tok.type = T_PLUSEQ;
		} else {
			p->tok.type = T_PLUS;
		}
		return 0;
	case '-': p->tok.type = T_MINUS; return 0;
	case '*':
		if (peekc(p, 0) == '*')
			return perr(p, p->tok.line, p->tok.col, "'**' is not supported" XEN_HINT);
		p->tok.type = T_STAR;
		return 0;
	case '/':
		if (peekc(p, 0) == '/') {
			advance(p);
			p->tok.type = T_DSLASH;
		} else {
			p->tok.type = T_SLASH;
		}
		return 0;
	case '%': p->tok.type = T_PERCENT; return 0;
	case '(': p->tok.type = T_LPAREN; p->depth++; return 0;
	case ')': p->tok.type = T_RPAREN; if (p->depth) p->depth--; return 0;
	case '[': p->tok.type = T_LBRACK; p->depth++; return 0;
	case ']': p->tok.type = T_RBRACK; if (p->depth) p->depth--; return 0;
	case ',': p->tok.type = T_COMMA; return 0;
	case ';': p->tok.type = T_SEMI; return 0;
	case '{':
		return perr(p, p->tok.line, p->tok.col, "dictionaries are not supported" XEN_HINT);
	case '.':
		return perr(p, p->tok.line, p->tok.col, "attribute access is not supported" XEN_HINT);
	default:
		if (c >= 0x20 && c < 0x7f)
			return perr(p, p->tok.line, p->tok.col, "unexpected character '%c'", c);
		return perr(p, p->tok.line, p->tok.col, "unexpected byte 0x%02x", (unsigned)c);
	}
}

/* ---- evaluation helpers ---- */

static const char *const type_names[XVAL_MAX] = {
	[XVAL_STR] = "string", [XVAL_INT] = "integer", [XVAL_LIST] = "list",
};

static int concat(struct parser *p, struct xval *a, struct xval *b, int line, int col, struct xval **ret)
{
	if (a->type != b->type)
		return perr(p, line, col, "cannot add %s and %s", type_names[a->type], type_names[b->type]);
	if (a->type == XVAL_INT) {
		if (__builtin_add_overflow(a->num, b->num, &a->num))
			return perr(p, line, col, "integer overflow");
	} else if (a->type == XVAL_STR) {
		char *n;

		if (a->len + b->len > XEN_MAX_STR)
			return perr(p, line, col, "string too long");
		n = realloc(a->str, a->len + b->len + 1);
		if (!n)
			return -ENOMEM;
		memcpy(n + a->len, b->str, b->len + 1);
		a->str = n;
		a->len += b->len;
	} else {
		for (size_t i = 0; i < b->n_items; i++) {
			int r = list_push(a, b->items[i]);

			if (r < 0)
				return r;
			b->items[i] = NULL;
		}
		b->n_items = 0;
	}
	xval_free(b);
	*ret = a;
	return 0;
}

/* Python %-formatting of one conversion into b; spec is checked by format(). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int format_one(struct parser *p, struct sbuf *b, const char *spec, size_t speclen, char conv,
		      const struct xval *arg, int line, int col)
{
	char fmt[32], tmp[128];
	const char *s;
	int n, r;

	if (speclen + 4 > sizeof(fmt))
		return perr(p, line, col, "format specification too long");
	if (conv == 's' || conv == 'r') {
		char *quoted = NULL;

		if (arg->type == XVAL_LIST)
			return perr(p, line, col, "cannot format a list with %%%c", conv);
		if (arg->type == XVAL_INT) {
			snprintf(tmp, sizeof(tmp), "%lld", arg->num);
			s = tmp;
		} else if (conv == 'r') {
			if (asprintf(&quoted, "'%s'", arg->str) < 0)
				return -ENOMEM;
			s = quoted;
		} else {
			s = arg->str;
		}
		snprintf(fmt, sizeof(fmt), "%%%.*ss", (int)speclen, spec);
		{
			char *out = NULL;

			r = 0;
			if (asprintf(&out, fmt, s) < 0)
				r = -ENOMEM;
			for (size_t i = 0; r == 0 && out[i]; i++)
				r = sbuf_addc(b, out[i]);
			free(out);
		}
		free(quoted);
		return r == -E2BIG ? perr(p, line, col, "string too long") : r;
	}
	if (arg->type != XVAL_INT)
		return perr(p, line, col, "%%%c needs a number, not a %s", conv, type_names[arg->type]);
	if (conv == 'i' || conv == 'u')
		conv = 'd';
	snprintf(fmt, sizeof(fmt), "%%%.*sll%c", (int)speclen, spec, conv);
	n = snprintf(tmp, sizeof(tmp), fmt, arg->num);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return perr(p, line, col, "formatted number too wide");
	for (int i = 0; i < n; i++) {
		r = sbuf_addc(b, tmp[i]);
		if (r < 0)
			return r == -E2BIG ? perr(p, line, col, "string too long") : r;
	}
	return 0;
}
#pragma GCC diagnostic pop

static int format(struct parser *p, struct xval *f, struct xval *args, int line, int col, struct xval **ret)
{
	struct sbuf b = { 0 };
	size_t argi = 0, nargs = args->type == XVAL_LIST && args->tuple ? args->n_items : 1;
	int r = 0;

	for (size_t i = 0; i < f->len && r == 0; i++) {
		const char *spec;
		size_t speclen = 0;
		const struct xval *arg;

		if (f->str[i] != '%') {
			r = sbuf_addc(&b, f->str[i]);
			continue;
		}
		i++;
		spec = f->str + i;
		while (i < f->len && strchr("-+ #0123456789.", f->str[i])) {
			i++;
			speclen++;
		}
		if (i >= f->len) {
			r = perr(p, f->line, f->col, "incomplete format in string");
			break;
		}
		if (f->str[i] == '%') {
			r = sbuf_addc(&b, '%');
			continue;
		}
		if (f->str[i] == '(') {
			r = perr(p, f->line, f->col, "named formats '%%(...)' are not supported" XEN_HINT);
			break;
		}
		if (speclen > 8 || strtol(spec + strspn(spec, "-+ #0"), NULL, 10) > 4096 ||
		    (memchr(spec, '.', speclen) && strtol((char *)memchr(spec, '.', speclen) + 1, NULL, 10) > 4096) ||
		    !strchr("sdiuxXor", f->str[i])) {
			char e[64];

			/* from the '%' to the conversion character, any byte */
			r = perr(p, f->line, f->col, "unsupported format '%s'",
				 str_escape(spec - 1, speclen + 2, e, sizeof(e)));
			break;
		}
		if (argi >= nargs) {
			r = perr(p, line, col, "not enough arguments for format string");
			break;
		}
		arg = args->type == XVAL_LIST && args->tuple ? args->items[argi] : args;
		argi++;
		r = format_one(p, &b, spec, speclen, f->str[i], arg, line, col);
	}
	if (r == 0 && argi < nargs)
		r = perr(p, line, col, "not all arguments converted during string formatting");
	if (r == -E2BIG)
		r = perr(p, line, col, "string too long");
	if (r < 0) {
		free(b.s);
		return r;
	}
	free(f->str);
	f->str = b.s ? b.s : strdup("");
	f->len = b.len;
	if (!f->str)
		return -ENOMEM;
	xval_free(args);
	*ret = f;
	return 0;
}

static int arith(struct parser *p, enum tok op, struct xval *a, struct xval *b, int line, int col,
		 struct xval **ret)
{
	long long x, y, z = 0;

	if (op == T_PLUS)
		return concat(p, a, b, line, col, ret);
	if (op == T_PERCENT && a->type == XVAL_STR)
		return format(p, a, b, line, col, ret);
	if (a->type != XVAL_INT || b->type != XVAL_INT)
		return perr(p, line, col, "%s needs two numbers, not %s and %s", tok_names[op],
			    type_names[a->type], type_names[b->type]);
	x = a->num;
	y = b->num;
	switch (op) {
	case T_MINUS:
		if (__builtin_sub_overflow(x, y, &z))
			return perr(p, line, col, "integer overflow");
		break;
	case T_STAR:
		if (__builtin_mul_overflow(x, y, &z))
			return perr(p, line, col, "integer overflow");
		break;
	case T_SLASH:
	case T_DSLASH:
	case T_PERCENT:
		if (y == 0)
			return perr(p, line, col, "division by zero");
		if (x == LLONG_MIN && y == -1)
			return perr(p, line, col, "integer overflow");
		/* Python floors; C truncates. */
		if (op == T_PERCENT) {
			z = x % y;
			if (z != 0 && ((z < 0) != (y < 0)))
				z += y;
		} else {
			z = x / y;
			if ((x % y != 0) && ((x < 0) != (y < 0)))
				z--;
		}
		break;
	default:
		return perr(p, line, col, "unexpected operator");
	}
	a->num = z;
	xval_free(b);
	*ret = a;
	return 0;
}

/* ---- parser ---- */

static int parse_expr(struct parser *p, struct xval **ret);

/* '[' or '(' already seen at (line, col); reads items up to close. */
static int parse_seq(struct parser *p, enum tok close, int line, int col, struct xval **ret)
{
	struct xval *l = xval_new(XVAL_LIST, line, col), *item;
	bool comma = false;
	int r;

	if (!l)
		return -ENOMEM;
	l->tuple = close == T_RPAREN;
	r = next(p);
	while (r == 0 && p->tok.type != close) {
		if (p->tok.type == T_EOF) {
			r = perr(p, line, col, "unclosed %s", close == T_RBRACK ? "'['" : "'('");
			break;
		}
		r = parse_expr(p, &item);
		if (r < 0)
			break;
		r = list_push(l, item);
		if (r < 0) {
			xval_free(item);
			break;
		}
		if (p->tok.type == T_COMMA) {
			comma = true;
			r = next(p);
		} else if (p->tok.type != close) {
			if (p->tok.type == T_EOF)
				r = perr(p, line, col, "unclosed %s", close == T_RBRACK ? "'['" : "'('");
			else
				r = perr(p, p->tok.line, p->tok.col, "expected ',' or %s, found %s",
					 tok_names[close], tok_names[p->tok.type]);
		}
	}
	if (r == 0)
		r = next(p);
	if (r < 0) {
		xval_free(l);
		return r;
	}
	/* (x) is x; (x,) and () are tuples. */
	if (close == T_RPAREN && l->n_items == 1 && !comma) {
		item = l->items[0];
		l->n_items = 0;
		xval_free(l);
		*ret = item;
		return 0;
	}
	*ret = l;
	return 0;
}

static bool is_keyword(const char *s)
{
	static const char *const keywords[] = {
		"import", "from", "def", "if", "elif", "else", "for", "while", "lambda",
		"class", "return", "print", "exec", "with", "try", "and", "or", "not", "in",
		"is", "del", "global", "assert", "raise", "yield", "pass",
	};

	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (!strcmp(s, keywords[i]))
			return true;
	return false;
}

static int parse_primary(struct parser *p, struct xval **ret)
{
	struct xval *v;
	int line = p->tok.line, col = p->tok.col, r;

	switch (p->tok.type) {
	case T_STR:
		v = xval_str(p->tok.str, p->tok.len, line, col);
		if (!v)
			return -ENOMEM;
		r = next(p);
		/* Adjacent literals concatenate, as in Python. */
		while (r == 0 && p->tok.type == T_STR) {
			struct xval *s = xval_str(p->tok.str, p->tok.len, p->tok.line, p->tok.col);

			if (!s) {
				r = -ENOMEM;
				break;
			}
			r = concat(p, v, s, line, col, &v);
			if (r < 0) {
				xval_free(s);
				break;
			}
			r = next(p);
		}
		break;
	case T_NUM:
		v = xval_new(XVAL_INT, line, col);
		if (!v)
			return -ENOMEM;
		v->num = p->tok.num;
		r = next(p);
		break;
	case T_IDENT: {
		const struct xvar *var;

		if (is_keyword(p->tok.str))
			return perr(p, line, col, "Python '%s' is not supported" XEN_HINT, p->tok.str);
		if (!strcmp(p->tok.str, "True") || !strcmp(p->tok.str, "False")) {
			v = xval_new(XVAL_INT, line, col);
			if (!v)
				return -ENOMEM;
			v->num = p->tok.str[0] == 'T';
			r = next(p);
			break;
		}
		{
			char *name = p->tok.str;

			p->tok.str = NULL;
			r = next(p);
			if (r == 0 && p->tok.type == T_LPAREN)
				r = perr(p, line, col, "function calls ('%s(...)') are not supported" XEN_HINT,
					 name);
			var = r == 0 ? xvars_get(p->vars, name) : NULL;
			if (r == 0 && !var)
				r = perr(p, line, col, "'%s' is not defined", name);
			free(name);
			if (r < 0)
				return r;
		}
		v = xval_dup(var->val);
		if (!v)
			return -ENOMEM;
		v->line = line;
		v->col = col;
		break;
	}
	case T_LBRACK:
		return parse_seq(p, T_RBRACK, line, col, ret);
	case T_LPAREN:
		return parse_seq(p, T_RPAREN, line, col, ret);
	default:
		return perr(p, line, col, "expected a value, found %s", tok_names[p->tok.type]);
	}
	if (r == 0 && p->tok.type == T_LBRACK)
		r = perr(p, p->tok.line, p->tok.col, "indexing and slicing are not supported" XEN_HINT);
	if (r < 0) {
		xval_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

static int parse_unary(struct parser *p, struct xval **ret)
{
	int line = p->tok.line, col = p->tok.col, r;
	enum tok op = p->tok.type;
	struct xval *v;

	if (op != T_MINUS && op != T_PLUS)
		return parse_primary(p, ret);
	if (++p->rdepth > XEN_MAX_DEPTH)
		return perr(p, line, col, "expression nested too deeply");
	r = next(p);
	if (r == 0)
		r = parse_unary(p, &v);
	p->rdepth--;
	if (r < 0)
		return r;
	if (v->type != XVAL_INT) {
		xval_free(v);
		return perr(p, line, col, "unary %s needs a number", tok_names[op]);
	}
	if (op == T_MINUS) {
		if (v->num == LLONG_MIN) {
			xval_free(v);
			return perr(p, line, col, "integer overflow");
		}
		v->num = -v->num;
	}
	v->line = line;
	v->col = col;
	*ret = v;
	return 0;
}

static int parse_binary(struct parser *p, int level, struct xval **ret)
{
	struct xval *a, *b;
	int r;

	r = level == 0 ? parse_binary(p, 1, &a) : parse_unary(p, &a);
	if (r < 0)
		return r;
	for (;;) {
		enum tok op = p->tok.type;
		int line = p->tok.line, col = p->tok.col;

		if (level == 0 ? (op != T_PLUS && op != T_MINUS)
			       : (op != T_STAR && op != T_SLASH && op != T_DSLASH && op != T_PERCENT))
			break;
		r = next(p);
		if (r == 0)
			r = level == 0 ? parse_binary(p, 1, &b) : parse_unary(p, &b);
		if (r < 0) {
			xval_free(a);
			return r;
		}
		if (op == T_STAR && (a->type != XVAL_INT || b->type != XVAL_INT)) {
			xval_free(a);
			xval_free(b);
			return perr(p, line, col, "repetition with '*' is not supported" XEN_HINT);
		}
		r = arith(p, op, a, b, line, col, &a);
		if (r < 0) {
			xval_free(a);
			xval_free(b);
			return r;
		}
	}
	*ret = a;
	return 0;
}

static int parse_expr(struct parser *p, struct xval **ret)
{
	int r;

	if (++p->rdepth > XEN_MAX_DEPTH)
		return perr(p, p->tok.line, p->tok.col, "expression nested too deeply");
	r = parse_binary(p, 0, ret);
	p->rdepth--;
	return r;
}

static int assign(struct parser *p, char *name, int line, int col, bool append, struct xval *v)
{
	struct xvar *var = (struct xvar *)xvars_get(p->vars, name), *n;
	int r;

	if (var && append) {
		r = concat(p, var->val, v, v->line, v->col, &var->val);
		if (r < 0)
			return r;
		var->line = line;
		var->col = col;
		free(name);
		return 0;
	}
	if (var) {
		/* The last assignment wins. */
		xval_free(var->val);
		var->val = v;
		var->line = line;
		var->col = col;
		free(name);
		return 0;
	}
	n = realloc(p->vars->v, (p->vars->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->vars->v = n;
	p->vars->v[p->vars->n++] = (struct xvar){ .name = name, .val = v, .line = line, .col = col };
	return 0;
}

static int parse_stmt(struct parser *p)
{
	int line = p->tok.line, col = p->tok.col, r;
	bool append;
	char *name;
	struct xval *v;

	if (p->tok.type != T_IDENT) {
		if (p->tok.type == T_STR)
			return perr(p, line, col, "expected a setting name, found a string");
		return perr(p, line, col, "expected a setting name, found %s", tok_names[p->tok.type]);
	}
	name = p->tok.str;
	p->tok.str = NULL;
	r = next(p);
	if (r < 0)
		goto fail;
	if (p->tok.type != T_ASSIGN && p->tok.type != T_PLUSEQ) {
		if (p->tok.type == T_LPAREN)
			r = perr(p, p->tok.line, p->tok.col, "function calls are not supported" XEN_HINT);
		else if (is_keyword(name))
			r = perr(p, line, col, "Python '%s' statements are not supported" XEN_HINT, name);
		else
			r = perr(p, p->tok.line, p->tok.col, "expected '=' after '%s', found %s", name,
				 tok_names[p->tok.type]);
		goto fail;
	}
	append = p->tok.type == T_PLUSEQ;
	r = next(p);
	if (r < 0)
		goto fail;
	r = parse_expr(p, &v);
	if (r < 0)
		goto fail;
	r = assign(p, name, line, col, append, v);
	if (r < 0) {
		xval_free(v);
		goto fail;
	}
	return 0;
fail:
	free(name);
	return r;
}

int xen_eval(const char *buf, size_t len, struct xvars *ret, struct xen_error *err)
{
	struct xvars vars = { 0 };
	struct parser p = {
		.buf = buf, .len = len, .line = 1, .col = 1, .vars = &vars, .err = err,
	};
	int r;

	memset(err, 0, sizeof(*err));
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
		p.pos = 3;	/* UTF-8 byte order mark */
	}
	r = next(&p);
	while (r == 0 && p.tok.type != T_EOF) {
		if (p.tok.type == T_NL || p.tok.type == T_SEMI) {
			r = next(&p);
			continue;
		}
		r = parse_stmt(&p);
		if (r < 0)
			break;
		if (p.tok.type != T_NL && p.tok.type != T_SEMI && p.tok.type != T_EOF)
			r = perr(&p, p.tok.line, p.tok.col, "expected end of line, found %s",
				 tok_names[p.tok.type]);
	}
	vars.eof_line = p.tok.line;
	vars.eof_col = p.tok.col;
	free(p.tok.str);
	if (r < 0) {
		xvars_free(&vars);
		if (r == -ENOMEM)
			snprintf(err->msg, sizeof(err->msg), "out of memory");
		return r;
	}
	*ret = vars;
	return 0;
}
