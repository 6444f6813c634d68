/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Linux swap signature of a disk the old host's daemon lists (the new
 * host cannot probe the old host's disks, but recreates swap with the same
 * UUID and label): pure parsing of the disk's first bytes, and one bounded
 * read. The header is the one migrate/disk/swap.c writes (and mkswap):
 * in the first page, version u32 at byte 1024 (1), last_page u32 at 1028,
 * uuid[16] at 1036, volume_name[16] at 1052 (NUL-padded), and
 * "SWAPSPACE2" in the page's last 10 bytes. A swap area holding a
 * hibernation image has "S1SUSPEND", "S2SUSPEND" or "ULSUSPEND" there
 * instead (the kernel's swsusp and uswsusp; the rest of the header is
 * kept). The page size is the one of the kernel that made it: 4, 8, 16 or
 * 64 KiB.
 */
#ifndef BRIDGED_MIGRATE_SOURCE_SWAPSIG_H
#define BRIDGED_MIGRATE_SOURCE_SWAPSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define SWAPSIG_READ (64 * 1024)	/* bytes read: the largest page size */

struct swapsig {
	unsigned pagesize;	/* 4096, 8192, 16384 or 65536 */
	bool hibernated;	/* S1SUSPEND, S2SUSPEND, ULSUSPEND */
	bool has_uuid;		/* a version 1 header with a UUID that is not all zeros */
	uint8_t uuid[16];
	char label[17];		/* volume_name up to its first NUL (raw bytes) */
	size_t label_len;	/* 0: no label */
	bool label_text;	/* the label is UTF-8 without control characters */
};

/*
 * buf: the first len bytes of a disk. 1 with *ret filled when they hold a
 * Linux swap v1 signature (SWAPSPACE2 with version 1 in either byte order
 * and a last page, or a hibernation signature), 0 when not (*ret zeroed).
 * Reads nothing beyond buf[len - 1].
 */
int swapsig_parse(const uint8_t *buf, size_t len, struct swapsig *ret);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower case) into out[37]. */
const char *swapsig_uuid_string(const struct swapsig *s, char out[37]);

/* One pread of SWAPSIG_READ bytes at offset 0 of fd (a shorter disk gives
 * less), then swapsig_parse: 1, 0, or -errno when the read failed. */
int swapsig_read(int fd, struct swapsig *ret);

/* The list reply's "swap" object: {"uuid": "..." or null, "label": "..."
 * or null, "hibernated": bool, "pagesize": N}; a label that is not text
 * is null there, and "label_hex" holds its bytes. */
json_object *swapsig_json(const struct swapsig *s);

#endif
