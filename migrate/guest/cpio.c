/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The streaming cpio newc reader; see cpio.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/guest/cpio.h"

#define HDR_LEN 110

enum cpio_state {
	CPIO_BETWEEN,		/* before an archive: NUL padding or a magic */
	CPIO_HEADER,
	CPIO_NAME,
	CPIO_SKIP,		/* name padding, data and data padding */
	CPIO_DONE,
};

struct guest_cpio {
	guest_cpio_fn fn;
	void *data;
	enum cpio_state state;
	bool error;
	char hdr[HDR_LEN];
	size_t have;		/* bytes of hdr or name collected */
	char name[GUEST_CPIO_NAME_MAX + 1];
	uint32_t namesize, mode, filesize;
	uint64_t skip;		/* bytes left to skip */
	uint64_t fed, end, members;
	uint64_t hdr_start;	/* stream offset of the header being read */
};

struct guest_cpio *guest_cpio_new(guest_cpio_fn fn, void *data)
{
	struct guest_cpio *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fn = fn;
	c->data = data;
	return c;
}

void guest_cpio_free(struct guest_cpio *c)
{
	free(c);
}

bool guest_cpio_done(const struct guest_cpio *c)
{
	return c->state == CPIO_DONE;
}

uint64_t guest_cpio_end(const struct guest_cpio *c)
{
	return c->state == CPIO_DONE && !c->error ? c->end : c->fed;
}

uint64_t guest_cpio_members(const struct guest_cpio *c)
{
	return c->members;
}

static bool hex8(const char *s, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char ch = s[i];
		uint32_t d;

		if (ch >= '0' && ch <= '9')
			d = (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (uint32_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (uint32_t)(ch - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*ret = v;
	return true;
}

static void stop(struct guest_cpio *c, bool error, uint64_t end)
{
	c->state = CPIO_DONE;
	c->error = error;
	c->end = end;
}

/* The header is complete: check it and go on to the name. */
static int header_done(struct guest_cpio *c)
{
	if (memcmp(c->hdr, "070701", 6) && memcmp(c->hdr, "070702", 6)) {
		stop(c, true, c->hdr_start);
		return -EINVAL;
	}
	if (!hex8(c->hdr + 14, &c->mode) || !hex8(c->hdr + 54, &c->filesize) ||
	    !hex8(c->hdr + 94, &c->namesize) || c->namesize == 0 || c->namesize > GUEST_CPIO_NAME_MAX + 1) {
		stop(c, true, c->hdr_start);
		return -EINVAL;
	}
	c->state = CPIO_NAME;
	c->have = 0;
	return 0;
}

static int name_done(struct guest_cpio *c)
{
	uint64_t pad = (4 - (HDR_LEN + c->namesize) % 4) % 4;

	c->name[c->namesize - 1] = '\0';
	if (!strcmp(c->name, "TRAILER!!!")) {
		c->skip = pad;
		c->state = CPIO_SKIP;
		c->filesize = 0;
		c->namesize = 0;	/* marks the trailer: after the skip, between archives */
		return 0;
	}
	c->members++;
	if (c->fn && c->fn(c->name, c->mode, c->data)) {
		stop(c, false, c->fed);
		return 0;
	}
	c->skip = pad + c->filesize + (4 - c->filesize % 4) % 4;
	c->state = CPIO_SKIP;
	return 0;
}

int guest_cpio_feed(struct guest_cpio *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len && c->state != CPIO_DONE) {
		size_t n;

		switch (c->state) {
		case CPIO_BETWEEN:
			if (*p == '\0') {
				p++;
				len--;
				c->fed++;
				continue;
			}
			c->hdr_start = c->fed;
			c->have = 0;
			c->state = CPIO_HEADER;
			continue;
		case CPIO_HEADER:
			n = HDR_LEN - c->have < len ? HDR_LEN - c->have : len;
			memcpy(c->hdr + c->have, p, n);
			/* not cpio at all (compressed data next): end without error */
			if (c->have < 6) {
				size_t k = c->have + n < 6 ? c->have + n : 6;

				if (memcmp(c->hdr, "070701", k) && memcmp(c->hdr, "070702", k)) {
					stop(c, false, c->hdr_start);
					return 0;
				}
			}
			c->have += n;
			p += n;
			len -= n;
			c->fed += n;
			if (c->have == HDR_LEN && header_done(c) < 0)
				return -EINVAL;
			continue;
		case CPIO_NAME:
			n = c->namesize - c->have < len ? c->namesize - c->have : len;
			memcpy(c->name + c->have, p, n);
			c->have += n;
			p += n;
			len -= n;
			c->fed += n;
			if (c->have == c->namesize)
				name_done(c);
			continue;
		case CPIO_SKIP:
			n = c->skip < len ? (size_t)c->skip : len;
			c->skip -= n;
			p += n;
			len -= n;
			c->fed += n;
			if (!c->skip)
				c->state = c->namesize ? CPIO_HEADER : CPIO_BETWEEN;
			if (c->state == CPIO_HEADER) {
				c->hdr_start = c->fed;
				c->have = 0;
			}
			continue;
		case CPIO_DONE:
			break;
		}
	}
	return 0;
}
