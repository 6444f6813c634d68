# SPDX-License-Identifier: GPL-2.0-or-later
# migrate/guest/: read-only guest inspection (preflight). fs.c is the only
# includer of libext2fs; initramfs.c of zlib, liblzma and libzstd.
MIGRATE_GUEST_OBJS := migrate/guest/parse.o migrate/guest/cpio.o migrate/guest/fs.o migrate/guest/tree.o \
	migrate/guest/initramfs.o migrate/guest/kernel.o migrate/guest/preflight.o migrate/guest/boot.o

UNIT_TESTS += tests/unit/test_guest_parse
test_guest_parse_OBJS := migrate/guest/parse.o migrate/guest/cpio.o

FUZZERS += tests/fuzz/fuzz_guest
fuzz_guest_SRCS := migrate/guest/parse.c migrate/guest/cpio.c

UNIT_TESTS += tests/unit/test_guest_tree
test_guest_tree_OBJS := migrate/guest/tree.o

UNIT_TESTS += tests/unit/test_guest_kernel
test_guest_kernel_OBJS := migrate/guest/kernel.o migrate/guest/tree.o migrate/guest/initramfs.o migrate/guest/cpio.o \
	migrate/guest/parse.o
tests/unit/test_guest_kernel: LDLIBS += -lz -llzma -lzstd
