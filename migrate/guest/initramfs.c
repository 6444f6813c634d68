/* SPDX-License-Identifier: GPL-2.0-or-later */
/* initramfs images: segments, decompression, module names; see initramfs.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "migrate/guest/cpio.h"
#include "migrate/guest/initramfs.h"

#define OUT_CHUNK (256 * 1024)

struct ctx {
	struct guest_names *mods;
	int err;
	uint64_t out;		/* decompressed bytes so far */
};

/* A member under lib/modules/ (or usr/lib/modules/) that is a module. */
static int member(const char *name, uint32_t mode, void *data)
{
	struct ctx *c = data;
	const char *m = strstr(name, "lib/modules/");
	char mod[256];
	struct guest_name *n;

	(void)mode;
	if (!m || (m != name && m[-1] != '/'))
		return 0;
	if (!guest_module_name(name, strlen(name), mod, sizeof(mod)))
		return 0;
	n = realloc(c->mods->names, (c->mods->n + 1) * sizeof(*n));
	if (!n) {
		c->err = -ENOMEM;
		return 1;
	}
	c->mods->names = n;
	n[c->mods->n].name = strdup(mod);
	n[c->mods->n].line = 0;
	if (!n[c->mods->n].name) {
		c->err = -ENOMEM;
		return 1;
	}
	c->mods->n++;
	return 0;
}

/* Feeds decompressed bytes; -EFBIG past the cap. */
static int feed(struct ctx *c, struct guest_cpio *cp, const void *b, size_t n)
{
	c->out += n;
	if (c->out > GUEST_INITRAMFS_MAX_OUT)
		return -EFBIG;
	if (guest_cpio_done(cp))
		return 0;
	return guest_cpio_feed(cp, b, n);
}

static int gunzip(struct ctx *c, struct guest_cpio *cp, const uint8_t *in, size_t len, size_t *used)
{
	uint8_t *out = malloc(OUT_CHUNK);
	z_stream z = { 0 };
	int zr = Z_OK, r = 0;

	if (!out)
		return -ENOMEM;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(out);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	/* zlib counts in uInt: a larger image is read in slices */
	z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	while (zr != Z_STREAM_END) {
		z.next_out = out;
		z.avail_out = OUT_CHUNK;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			r = zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
			break;
		}
		r = feed(c, cp, out, OUT_CHUNK - z.avail_out);
		if (r < 0)
			break;
		if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			r = -EINVAL;	/* truncated */
			break;
		}
	}
	*used = len - z.avail_in;
	inflateEnd(&z);
	free(out);
	return r;
}

static int unxz(struct ctx *c, struct guest_cpio *cp, const uint8_t *in, size_t len, size_t *used)
{
	uint8_t *out = malloc(OUT_CHUNK);
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret lr = LZMA_OK;
	int r = 0;

	if (!out)
		return -ENOMEM;
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) {
		free(out);
		return -ENOMEM;
	}
	s.next_in = in;
	s.avail_in = len;
	while (lr != LZMA_STREAM_END) {
		s.next_out = out;
		s.avail_out = OUT_CHUNK;
		lr = lzma_code(&s, LZMA_FINISH);
		if (lr != LZMA_OK && lr != LZMA_STREAM_END) {
			r = lr == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
			break;
		}
		r = feed(c, cp, out, OUT_CHUNK - s.avail_out);
		if (r < 0)
			break;
	}
	*used = len - s.avail_in;
	lzma_end(&s);
	free(out);
	return r;
}

static int unzstd(struct ctx *c, struct guest_cpio *cp, const uint8_t *in, size_t len, size_t *used)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, len, 0 };
	uint8_t *out = malloc(OUT_CHUNK);
	size_t zr = 1;
	int r = 0;

	if (!z || !out) {
		ZSTD_freeDStream(z);
		free(out);
		return -ENOMEM;
	}
	/* one frame after the other until the input holds no further frame */
	while (ib.pos < ib.size) {
		ZSTD_outBuffer ob = { out, OUT_CHUNK, 0 };

		zr = ZSTD_decompressStream(z, &ob, &ib);
		if (ZSTD_isError(zr)) {
			r = -EINVAL;
			break;
		}
		r = feed(c, cp, out, ob.pos);
		if (r < 0)
			break;
		if (zr == 0 && (ib.size - ib.pos < 4 || memcmp((const uint8_t *)ib.src + ib.pos, "\x28\xb5\x2f\xfd", 4)))
			break;	/* frame done; what follows is no zstd frame */
		if (zr != 0 && ib.pos == ib.size && ob.pos < ob.size) {
			r = -EINVAL;	/* truncated */
			break;
		}
	}
	/* the loop ends with the input used up: flush what is buffered */
	while (r == 0 && zr != 0 && !ZSTD_isError(zr)) {
		ZSTD_outBuffer ob = { out, OUT_CHUNK, 0 };

		zr = ZSTD_decompressStream(z, &ob, &ib);
		if (ZSTD_isError(zr) || (!ob.pos && zr)) {
			r = -EINVAL;
			break;
		}
		r = feed(c, cp, out, ob.pos);
	}
	*used = ib.pos;
	ZSTD_freeDStream(z);
	free(out);
	return r;
}

static void add_format(char *format, size_t formatlen, const char *f)
{
	size_t l = strlen(format);

	snprintf(format + l, formatlen - l, "%s%s", l ? "+" : "", f);
}

int guest_initramfs_modules(const void *buf, size_t len, struct guest_names *ret, char *format,
			    size_t formatlen, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	struct guest_names mods = { 0 };
	struct ctx c = { .mods = &mods };
	size_t off = 0;
	int r = 0;

	format[0] = '\0';
	while (off < len) {
		struct guest_cpio *cp;
		const uint8_t *s;
		size_t rest, used = 0;

		while (off < len && !p[off])
			off++;
		if (off >= len)
			break;
		s = p + off;
		rest = len - off;
		cp = guest_cpio_new(member, &c);
		if (!cp) {
			r = -ENOMEM;
			break;
		}
		if (rest >= 6 && !memcmp(s, "0707", 4)) {
			add_format(format, formatlen, "cpio");
			r = guest_cpio_feed(cp, s, rest);
			used = guest_cpio_done(cp) ? (size_t)guest_cpio_end(cp) : rest;
			if (!used)
				r = -EINVAL;
		} else if (rest >= 2 && s[0] == 0x1f && (s[1] == 0x8b || s[1] == 0x9e)) {
			add_format(format, formatlen, "gzip");
			r = gunzip(&c, cp, s, rest, &used);
		} else if (rest >= 6 && !memcmp(s, "\xfd" "7zXZ\0", 6)) {
			add_format(format, formatlen, "xz");
			r = unxz(&c, cp, s, rest, &used);
		} else if (rest >= 4 && !memcmp(s, "\x28\xb5\x2f\xfd", 4)) {
			add_format(format, formatlen, "zstd");
			r = unzstd(&c, cp, s, rest, &used);
		} else {
			const char *what = "an unknown format";

			if (rest >= 4 && !memcmp(s, "\x02\x21\x4c\x18", 4))
				what = "lz4";
			else if (rest >= 4 && !memcmp(s, "\x89LZO", 4))
				what = "lzo";
			else if (rest >= 3 && !memcmp(s, "BZh", 3))
				what = "bzip2";
			else if (rest >= 3 && !memcmp(s, "\x5d\x00\x00", 3))
				what = "lzma";
			snprintf(err, errlen, "segment at byte %zu is %s, not read here (cpio, gzip, xz, zstd are)",
				 off, what);
			guest_cpio_free(cp);
			r = -EPROTONOSUPPORT;
			break;
		}
		if (r == 0 && c.err)
			r = c.err;
		if (r == -EINVAL && guest_cpio_members(cp))
			snprintf(err, errlen, "damaged segment at byte %zu (after %llu members)", off,
				 (unsigned long long)guest_cpio_members(cp));
		else if (r == -EINVAL)
			snprintf(err, errlen, "damaged segment at byte %zu", off);
		else if (r == -EFBIG)
			snprintf(err, errlen, "more than %llu bytes decompressed: not read further",
				 (unsigned long long)GUEST_INITRAMFS_MAX_OUT);
		else if (r < 0)
			snprintf(err, errlen, "%s", strerror(-r));
		guest_cpio_free(cp);
		if (r < 0)
			break;
		if (!used)
			break;
		off += used;
	}
	if (r < 0) {
		guest_names_clear(&mods);
		return r;
	}
	*ret = mods;
	return 0;
}
