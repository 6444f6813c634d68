/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A streaming reader of cpio "newc" archives (070701, 070702: what
 * initramfs images are), pure: bytes in, one callback per member name out.
 * Archives may follow each other (early microcode then the main image),
 * separated by NUL padding; the first bytes that are neither padding nor a
 * cpio header end the reading, and guest_cpio_end() tells where they begin
 * (a compressed archive after an uncompressed one). Fuzzed by
 * tests/fuzz/fuzz_guest.
 */
#ifndef BRIDGED_MIGRATE_GUEST_CPIO_H
#define BRIDGED_MIGRATE_GUEST_CPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_CPIO_NAME_MAX 4096

/* Called for each member (not the trailer); a non-zero return stops the reading. */
typedef int (*guest_cpio_fn)(const char *name, uint32_t mode, void *data);

struct guest_cpio;

struct guest_cpio *guest_cpio_new(guest_cpio_fn fn, void *data);
void guest_cpio_free(struct guest_cpio *c);
/*
 * Feeds the next len bytes. 0 while reading (also once done: the bytes are
 * ignored), -EINVAL on a malformed header or a name longer than
 * GUEST_CPIO_NAME_MAX (the reader is then done).
 */
int guest_cpio_feed(struct guest_cpio *c, const void *buf, size_t len);
/* Whether the reader stopped: non-cpio bytes, an error, or the callback said so. */
bool guest_cpio_done(const struct guest_cpio *c);
/*
 * The stream offset where the non-cpio bytes begin (done without error), or
 * the count of bytes fed so far.
 */
uint64_t guest_cpio_end(const struct guest_cpio *c);
/* Members seen so far. */
uint64_t guest_cpio_members(const struct guest_cpio *c);

#endif
