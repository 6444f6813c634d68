/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an initramfs image holds: the kernel modules in it. Reads the
 * segments real images are made of (an uncompressed early cpio with
 * microcode, then a gzip, xz or zstd compressed cpio, or any sequence of
 * them), in memory, streaming the decompressed bytes through the cpio
 * reader (cpio.h). initramfs.c is the only includer of zlib, liblzma and
 * libzstd.
 */
#ifndef BRIDGED_MIGRATE_GUEST_INITRAMFS_H
#define BRIDGED_MIGRATE_GUEST_INITRAMFS_H

#include <stddef.h>

#include "migrate/guest/parse.h"

/* Decompressed bytes read at most (a bomb stops there, with an error). */
#define GUEST_INITRAMFS_MAX_OUT (4ull << 30)

/*
 * The names of the modules (".../lib/modules/VER/...NAME.ko[.xz|.zst|.gz]",
 * '-' as '_') in the image buf, and its format ("cpio", "gzip", "cpio+zstd",
 * ...). -EPROTONOSUPPORT for a compression that is not read here (lz4,
 * lzo, bzip2: err names it), -EINVAL for a damaged image.
 */
int guest_initramfs_modules(const void *buf, size_t len, struct guest_names *ret, char *format,
			    size_t formatlen, char *err, size_t errlen);

#endif
