/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writes a Linux swap (v1, "SWAPSPACE2") header at a byte range of a device or file. */
#ifndef BRIDGED_MIGRATE_SWAP_H
#define BRIDGED_MIGRATE_SWAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Makes [offset, offset + size) of fd a swap area with the given UUID
 * (text form; "" for a new random one) and label, like mkswap -U -L.
 * ret_uuid (37 bytes, may be NULL) receives the UUID written.
 */
int swap_write(int fd, uint64_t offset, uint64_t size, const char *uuid, const char *label, char *ret_uuid,
	       char *err, size_t errlen);

#endif
