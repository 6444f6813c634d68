/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The endpoint state file (epstate.h): parser and formatter (pure), lookup,
 * and the atomic load and save.
 */
#include "bridged/epstate.h"
#include "common/fileio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netcfg/config.h"
#include "common/keys.h"

_Static_assert(KEY_LEN == KEY_LEN, "one key length");

#define HEADER \
	"# bridged: the last confirmed endpoint of each peer, a hint for the next\n" \
	"# start (StateFile, docs/CONFIG.md). Written by the daemon.\n"

/* ---- the table ---- */

void epstate_clear(struct epstate *s)
{
	free(s->e);
	memset(s, 0, sizeof(*s));
}

static struct epstate_entry *find(const struct epstate *s, const uint8_t key[KEY_LEN])
{
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(s->e[i].key, key, KEY_LEN))
			return &s->e[i];
	return NULL;
}

const struct epstate_entry *epstate_find(const struct epstate *s,
					 const uint8_t key[KEY_LEN])
{
	return find(s, key);
}

int epstate_set(struct epstate *s, const uint8_t key[KEY_LEN],
		const struct sockaddr_storage *endpoint, socklen_t len)
{
	struct epstate_entry *e;

	if (len == 0 || len > sizeof(e->endpoint))
		return -EINVAL;
	e = find(s, key);
	if (e && e->endpoint_len == len && !memcmp(&e->endpoint, endpoint, len))
		return 0;
	if (!e) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 8;
			struct epstate_entry *ne = realloc(s->e, cap * sizeof(*ne));

			if (!ne)
				return -ENOMEM;
			s->e = ne;
			s->cap = cap;
		}
		e = &s->e[s->n++];
		memcpy(e->key, key, KEY_LEN);
	}
	memset(&e->endpoint, 0, sizeof(e->endpoint));
	memcpy(&e->endpoint, endpoint, len);
	e->endpoint_len = len;
	return 1;
}

/* ---- text ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line (no '\n', maybe NUL bytes): 1 entry, 0 nothing, -EINVAL bad,
 * -ENOMEM. */
static int parse_line(struct epstate *s, const char *line, size_t len)
{
	char buf[EPSTATE_LINE_MAX], *key, *ep, *end;
	uint8_t k[KEY_LEN];
	struct sockaddr_storage ss;
	socklen_t sl;
	int r;

	while (len && is_blank(*line)) {
		line++;
		len--;
	}
	while (len && is_blank(line[len - 1]))
		len--;
	if (len == 0 || *line == '#')
		return 0;
	if (len >= sizeof(buf) || memchr(line, '\0', len))
		return -EINVAL;
	memcpy(buf, line, len);
	buf[len] = '\0';
	key = buf;
	end = key + strcspn(key, " \t");
	if (!*end)
		return -EINVAL;
	*end++ = '\0';
	ep = end + strspn(end, " \t");
	if (!*ep || ep[strcspn(ep, " \t")])
		return -EINVAL;
	if (key_from_base64(key, k) < 0 || sockaddr_from_string(ep, &ss, &sl) < 0)
		return -EINVAL;
	r = epstate_set(s, k, &ss, sl);
	return r < 0 ? r : 1;
}

int epstate_parse(struct epstate *ret, const char *buf, size_t len,
		  struct epstate_report *ret_report)
{
	struct epstate_report rep = { 0 };
	size_t off = 0;
	unsigned lineno = 0;

	epstate_clear(ret);
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;
		int r;

		lineno++;
		r = parse_line(ret, buf + off, l);
		if (r == -ENOMEM) {
			epstate_clear(ret);
			return -ENOMEM;
		}
		if (r < 0 && rep.bad++ == 0)
			rep.first_bad_line = lineno;
		off += l + (nl ? 1 : 0);
	}
	rep.entries = (unsigned)ret->n;
	if (ret_report)
		*ret_report = rep;
	return (int)ret->n;
}

int epstate_format(const struct epstate *s, char **ret, size_t *ret_len)
{
	char *text = NULL, b64[KEY_B64_LEN], addr[INET6_ADDRSTRLEN + 16];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -ENOMEM;
	fputs(HEADER, f);
	for (size_t i = 0; i < s->n; i++) {
		key_to_base64(s->e[i].key, b64);
		fprintf(f, "%s %s\n", b64, sockaddr_to_string(&s->e[i].endpoint, addr, sizeof(addr)));
	}
	if (fclose(f) != 0 || !text) {
		free(text);
		return -ENOMEM;
	}
	*ret = text;
	*ret_len = len;
	return 0;
}

/* ---- files ---- */

int epstate_load(const char *path, struct epstate *ret, struct epstate_report *ret_report)
{
	char *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd, r;

	epstate_clear(ret);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		r = -EPERM;
		goto out;
	}
	if (st.st_size > EPSTATE_MAX_BYTES) {
		r = -EFBIG;
		goto out;
	}
	buf = malloc(EPSTATE_MAX_BYTES + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	/* the size may change under us: read what is there, up to the cap */
	for (;;) {
		ssize_t n = read(fd, buf + got, EPSTATE_MAX_BYTES + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > EPSTATE_MAX_BYTES) {
			r = -EFBIG;
			goto out;
		}
	}
	r = epstate_parse(ret, buf, got, ret_report);
out:
	free(buf);
	close(fd);
	return r;
}

int epstate_save(const char *path, const struct epstate *s)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if (*path != '/')
		return -EINVAL;
	r = epstate_format(s, &text, &len);
	if (r < 0)
		return r;
	r = file_write_atomic(path, text, len, true);
	free(text);
	return r;
}
