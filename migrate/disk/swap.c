/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The swap v1 header, as mkswap writes it: one page; bootbits[1024], then
 * version (1), last_page, nr_badpages (0), uuid[16], volume_name[16], all
 * little-endian, and "SWAPSPACE2" in the last 10 bytes of the page. The
 * page size is the running kernel's (the guest's is the same on x86-64).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/escape.h"
#include "migrate/disk/swap.h"

static int uuid_parse(const char *s, uint8_t out[16])
{
	int n = 0;

	for (; *s && n < 32; s++) {
		int v;

		if (*s == '-')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return -EINVAL;
		if (n % 2 == 0)
			out[n / 2] = (uint8_t)(v << 4);
		else
			out[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 32 && !*s ? 0 : -EINVAL;
}

int swap_write(int fd, uint64_t offset, uint64_t size, const char *uuid, const char *label, char *ret_uuid,
	       char *err, size_t errlen)
{
	long pagesize = sysconf(_SC_PAGESIZE);
	uint8_t u[16];
	uint32_t v;
	uint8_t *page;
	ssize_t w;

	if (pagesize <= 0)
		pagesize = 4096;
	if (size / (uint64_t)pagesize < 10 || size / (uint64_t)pagesize - 1 > UINT32_MAX) {
		snprintf(err, errlen, "swap area of %llu bytes: 10 to 2^32 pages of %ld bytes expected",
			 (unsigned long long)size, pagesize);
		return -EINVAL;
	}
	if (uuid && *uuid) {
		if (uuid_parse(uuid, u) < 0) {
			snprintf(err, errlen, "bad swap UUID '%s'", STR_ESCAPED(uuid));
			return -EINVAL;
		}
	} else {
		if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			return -EIO;
		}
		u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);	/* version 4 */
		u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	}
	page = calloc(1, (size_t)pagesize);
	if (!page)
		return -ENOMEM;
	v = htole32(1);
	memcpy(page + 1024, &v, 4);
	v = htole32((uint32_t)(size / (uint64_t)pagesize - 1));
	memcpy(page + 1028, &v, 4);
	/* nr_badpages stays 0 */
	memcpy(page + 1036, u, 16);
	if (label)
		strncpy((char *)page + 1052, label, 16);
	memcpy(page + pagesize - 10, "SWAPSPACE2", 10);
	w = pwrite(fd, page, (size_t)pagesize, (off_t)offset);
	free(page);
	if (w != pagesize || fdatasync(fd) < 0) {
		snprintf(err, errlen, "writing the swap header: %s", w < 0 ? strerror(errno) : "short write");
		return -EIO;
	}
	if (ret_uuid)
		snprintf(ret_uuid, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
			 u[14], u[15]);
	return 0;
}
