/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vtund.conf's grammar, read for bridgectl import vtund (netcfg/vtund.h). */
#include "netcfg/vtund.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok { T_EOF, T_WORD, T_LBRACE, T_RBRACE, T_SEMI, T_ERR };

struct lexer {
	const char *s, *end;
	unsigned line;
	char word[256];
	unsigned tok_line;
	char *err;
	size_t errlen;
};

static int lex_error(struct lexer *lx, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(lx->err, lx->errlen, "%u: ", line);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < lx->errlen)
		vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static enum tok lex_next(struct lexer *lx)
{
	size_t n = 0;

	for (;;) {
		while (lx->s < lx->end && (*lx->s == ' ' || *lx->s == '\t' || *lx->s == '\r' || *lx->s == '\n')) {
			if (*lx->s == '\n')
				lx->line++;
			lx->s++;
		}
		if (lx->s < lx->end && *lx->s == '#') {
			while (lx->s < lx->end && *lx->s != '\n')
				lx->s++;
			continue;
		}
		break;
	}
	lx->tok_line = lx->line;
	if (lx->s >= lx->end)
		return T_EOF;
	switch (*lx->s) {
	case '{': lx->s++; return T_LBRACE;
	case '}': lx->s++; return T_RBRACE;
	case ';': lx->s++; return T_SEMI;
	case '"':
		lx->s++;
		while (lx->s < lx->end && *lx->s != '"') {
			if (*lx->s == '\n' || *lx->s == 0) {
				lex_error(lx, lx->tok_line, "unterminated string");
				return T_ERR;
			}
			if (n + 1 >= sizeof(lx->word)) {
				lex_error(lx, lx->tok_line, "string longer than %zu characters", sizeof(lx->word) - 1);
				return T_ERR;
			}
			lx->word[n++] = *lx->s++;
		}
		if (lx->s >= lx->end) {
			lex_error(lx, lx->tok_line, "unterminated string");
			return T_ERR;
		}
		lx->s++;
		lx->word[n] = 0;
		return T_WORD;
	default:
		break;
	}
	/* strchr() finds the NUL of its set: a NUL byte must not end a word
	 * that never started */
	while (lx->s < lx->end && (*lx->s == 0 || !strchr(" \t\r\n{};#\"", *lx->s))) {
		if (*lx->s == 0 || (unsigned char)*lx->s < 0x20) {
			lex_error(lx, lx->tok_line, "control character in a word");
			return T_ERR;
		}
		if (n + 1 >= sizeof(lx->word)) {
			lex_error(lx, lx->tok_line, "word longer than %zu characters", sizeof(lx->word) - 1);
			return T_ERR;
		}
		lx->word[n++] = *lx->s++;
	}
	lx->word[n] = 0;
	return T_WORD;
}

/* Copies src, cut to fit (a value longer than vtund's own limits). */
static void set_word(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* The bridges a command line of an up block enslaves %% to. */
static void up_command(struct vtund_session *s, const char *cmd)
{
	char buf[256], *w[32], *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", cmd);
	for (char *t = strtok_r(buf, " \t", &save); t && n < 32; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	for (size_t i = 0; i < n; i++) {
		const char *br = NULL;

		if (!strcmp(w[i], "addif") && i + 1 < n && i > 0 && strstr(w[i - 1], "brctl"))
			br = w[i + 1];
		else if (!strcmp(w[i], "master") && i + 1 < n)
			br = w[i + 1];
		if (!br)
			continue;
		for (size_t k = 0; k < s->n_bridges; k++)
			if (!strcmp(s->bridges[k], br))
				return;
		if (s->n_bridges < VTUND_BRIDGES_MAX)
			set_word(s->bridges[s->n_bridges++], VTUND_WORD_MAX, br);
		return;
	}
	s->n_up_other++;
}

/* Skips a nested block (after its '{'), or, for up, reads its commands. */
static int parse_block(struct lexer *lx, struct vtund_session *s, bool up)
{
	for (;;) {
		enum tok t = lex_next(lx);
		char key[VTUND_WORD_MAX], args[512] = "";
		unsigned nwords = 0, key_line;

		if (t == T_ERR)
			return -EINVAL;
		if (t == T_RBRACE)
			return 0;
		if (t == T_SEMI)
			continue;
		if (t != T_WORD)
			return lex_error(lx, lx->tok_line, t == T_EOF ? "missing '}' at the end of the file"
								  : "expected a statement, got '{'");
		set_word(key, sizeof(key), lx->word);
		key_line = lx->tok_line;
		while ((t = lex_next(lx)) == T_WORD) {
			size_t l = strlen(args);

			nwords++;

			snprintf(args + l, sizeof(args) - l, "%s%s", l ? " " : "", lx->word);
		}
		if (t == T_LBRACE) {
			if (parse_block(lx, s, s && !strcmp(key, "up")) < 0)
				return -EINVAL;
			continue;
		}
		if (t == T_ERR)
			return -EINVAL;
		if (t != T_SEMI)
			return lex_error(lx, lx->tok_line, "'%s': missing ';'", key);
		if (up) {
			up_command(s, args);
			continue;
		}
		if (!s)
			continue;
		/* vtund's grammar: these take exactly one value */
		if (nwords != 1 && (!strcmp(key, "type") || !strcmp(key, "proto") || !strcmp(key, "encrypt") ||
				    !strcmp(key, "keepalive") || !strcmp(key, "compress") || !strcmp(key, "passwd")))
			return lex_error(lx, key_line, "'%s' takes one value, got %u ('%s': a missing ';'?)", key,
					 nwords, args);
		if (!strcmp(key, "type"))
			set_word(s->type, sizeof(s->type), args);
		else if (!strcmp(key, "proto"))
			set_word(s->proto, sizeof(s->proto), args);
		else if (!strcmp(key, "encrypt"))
			set_word(s->encrypt, sizeof(s->encrypt), args);
		else if (!strcmp(key, "keepalive"))
			set_word(s->keepalive, sizeof(s->keepalive), args);
		else if (!strcmp(key, "compress"))
			set_word(s->compress, sizeof(s->compress), args);
		else if (!strcmp(key, "passwd") || !strcmp(key, "password"))
			s->has_passwd = true;
	}
}

int vtund_parse(const char *text, size_t len, struct vtund_conf *ret, char *err, size_t errlen)
{
	struct lexer lx = { .s = text, .end = text + len, .line = 1, .err = err, .errlen = errlen };
	struct vtund_conf c = { 0 };

	err[0] = 0;
	for (;;) {
		enum tok t = lex_next(&lx);
		char name[VTUND_WORD_MAX];
		unsigned line = lx.tok_line;

		if (t == T_EOF)
			break;
		if (t == T_ERR)
			goto fail;
		if (t == T_SEMI)
			continue;
		if (t != T_WORD) {
			lex_error(&lx, line, "expected a session name, got '%c'", t == T_LBRACE ? '{' : '}');
			goto fail;
		}
		if (strlen(lx.word) >= sizeof(name)) {
			lex_error(&lx, line, "name longer than %zu characters", sizeof(name) - 1);
			goto fail;
		}
		snprintf(name, sizeof(name), "%s", lx.word);
		if (lex_next(&lx) != T_LBRACE) {
			if (!err[0])
				lex_error(&lx, line, "'%s': expected '{'", name);
			goto fail;
		}
		if (!strcmp(name, "options")) {
			const char *p = lx.s;
			/* options { port N; ... }: only the port matters */
			if (parse_block(&lx, NULL, false) < 0)
				goto fail;
			for (const char *q = p; q < lx.s; q++)
				if (!strncmp(q, "port", 4) && (q == p || strchr(" \t\n{;", q[-1])) &&
				    (q[4] == ' ' || q[4] == '\t')) {
					c.port = (unsigned)strtoul(q + 4, NULL, 10);
					break;
				}
			continue;
		}
		{
			struct vtund_session *s, *ns;
			bool dflt = !strcmp(name, "default");

			if (dflt) {
				s = &c.defaults;
			} else {
				for (size_t i = 0; i < c.n_sessions; i++)
					if (!strcmp(c.sessions[i].name, name)) {
						lex_error(&lx, line, "session '%s' defined twice (first at line %u)", name,
							  c.sessions[i].line);
						goto fail;
					}
				ns = realloc(c.sessions, (c.n_sessions + 1) * sizeof(*ns));
				if (!ns) {
					snprintf(err, errlen, "out of memory");
					goto fail;
				}
				c.sessions = ns;
				s = &c.sessions[c.n_sessions++];
				*s = c.defaults;
				s->n_bridges = 0;
				s->n_up_other = 0;
			}
			snprintf(s->name, sizeof(s->name), "%s", name);
			s->line = line;
			if (parse_block(&lx, s, false) < 0)
				goto fail;
		}
	}
	*ret = c;
	return 0;
fail:
	vtund_conf_clear(&c);
	return -EINVAL;
}

void vtund_conf_clear(struct vtund_conf *c)
{
	free(c->sessions);
	memset(c, 0, sizeof(*c));
}
