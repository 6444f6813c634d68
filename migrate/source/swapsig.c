/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The swap signature of a listed disk (swapsig.h). Where util-linux's
 * libblkid finds the same (libblkid/src/superblocks/swap.c): the magic at
 * pagesize - 10 for each page size, version 1 in either byte order and a
 * last page for SWAPSPACE2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate/source/swapsig.h"

#define SWAP_VERSION_OFF 1024
#define SWAP_LASTPAGE_OFF 1028
#define SWAP_UUID_OFF 1036
#define SWAP_LABEL_OFF 1052
#define SWAP_LABEL_LEN 16
#define SWAP_MAGIC_LEN 10

static const unsigned pagesizes[] = { 4096, 8192, 16384, 65536 };

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

/* UTF-8 (no overlong forms, no surrogates) without control characters
 * (C0, DEL, C1). */
static bool is_text(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + k >= n)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += k + 1;
	}
	return true;
}

/* The magic at pagesize - 10: 1 swap, 2 hibernated, 0 none. */
static int magic_at(const uint8_t *m)
{
	static const char *const hib[] = { "S1SUSPEND", "S2SUSPEND", "ULSUSPEND" };

	if (!memcmp(m, "SWAPSPACE2", SWAP_MAGIC_LEN))
		return 1;
	for (size_t i = 0; i < sizeof(hib) / sizeof(hib[0]); i++)
		if (!memcmp(m, hib[i], 9))
			return 2;
	return 0;
}

int swapsig_parse(const uint8_t *buf, size_t len, struct swapsig *ret)
{
	const uint8_t *v;
	bool v1;
	int kind = 0;
	size_t i;

	memset(ret, 0, sizeof(*ret));
	for (i = 0; i < sizeof(pagesizes) / sizeof(pagesizes[0]); i++) {
		if (len < pagesizes[i])
			break;
		kind = magic_at(buf + pagesizes[i] - SWAP_MAGIC_LEN);
		if (kind)
			break;
	}
	if (!kind)
		return 0;
	v = buf + SWAP_VERSION_OFF;
	v1 = le32(v) == 1 || be32(v) == 1;
	/* SWAPSPACE2 of another version, or without a last page: not swap v1 */
	if (kind == 1 && (!v1 || !le32(buf + SWAP_LASTPAGE_OFF)))
		return 0;
	ret->pagesize = pagesizes[i];
	ret->hibernated = kind == 2;
	if (!v1)
		return 1;	/* a hibernation image over something else: no header */
	memcpy(ret->uuid, buf + SWAP_UUID_OFF, sizeof(ret->uuid));
	for (i = 0; i < sizeof(ret->uuid); i++)
		ret->has_uuid |= ret->uuid[i] != 0;
	while (ret->label_len < SWAP_LABEL_LEN && buf[SWAP_LABEL_OFF + ret->label_len])
		ret->label_len++;
	memcpy(ret->label, buf + SWAP_LABEL_OFF, ret->label_len);
	ret->label_text = is_text((const uint8_t *)ret->label, ret->label_len);
	return 1;
}

const char *swapsig_uuid_string(const struct swapsig *s, char out[37])
{
	const uint8_t *u = s->uuid;

	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
	return out;
}

int swapsig_read(int fd, struct swapsig *ret)
{
	uint8_t *buf = malloc(SWAPSIG_READ);
	ssize_t n;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!buf)
		return -ENOMEM;
	do
		n = pread(fd, buf, SWAPSIG_READ, 0);
	while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : swapsig_parse(buf, (size_t)n, ret);
	free(buf);
	return r;
}

json_object *swapsig_json(const struct swapsig *s)
{
	json_object *j = json_object_new_object();
	char uuid[37], hex[2 * SWAP_LABEL_LEN + 1];

	json_object_object_add(j, "uuid", s->has_uuid ?
			       json_object_new_string(swapsig_uuid_string(s, uuid)) : NULL);
	json_object_object_add(j, "label", s->label_len && s->label_text ?
			       json_object_new_string_len(s->label, (int)s->label_len) : NULL);
	if (s->label_len && !s->label_text) {
		for (size_t i = 0; i < s->label_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", (uint8_t)s->label[i]);
		json_object_object_add(j, "label_hex", json_object_new_string(hex));
	}
	json_object_object_add(j, "hibernated", json_object_new_boolean(s->hibernated));
	json_object_object_add(j, "pagesize", json_object_new_int(s->pagesize));
	return j;
}
