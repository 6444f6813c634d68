# SPDX-License-Identifier: GPL-2.0-or-later
# bridged: one top-level Makefile. Parts add their objects through the
# fragments they own (*/part.mk); see README.md, "Building".

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
MANDIR    ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR   ?=
CC        ?= cc
PKG_CONFIG ?= pkg-config

# Each binary links the libraries it uses, no more (docs/ARCHITECTURE.md):
# the daemon netlink, libsodium, json-c, libcrypto, libxxhash and liburing
# (the disk stream it serves: AES-256-GCM, block checks, the receiver's
# io_uring writes) (and loads libvirt at run time,
# only for MigrateSource = libvirt:URI); bridgectl also libvirt, libxml2
# (the domain XML), libparted, libblkid, libext2fs and the initramfs
# decompressors for migrate. Unit tests get the daemon's set (and name
# what else they link).
PKGS_DAEMON := libnl-3.0 libnl-route-3.0 libsodium json-c libcrypto libxxhash liburing
# libsystemd: the daemon's sd_notify (READY, STATUS, WATCHDOG), daemon only.
PKGS_NOTIFY := libsystemd
# libcap-ng, libseccomp: the daemon's privilege drop and its system call
# allow-list (docs/SECURITY.md), daemon only.
PKGS_PRIV   := libcap-ng libseccomp
PKGS_CTL    := $(PKGS_DAEMON) libvirt libxml-2.0 libparted blkid ext2fs com_err zlib liblzma libzstd

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -MMD -MP -D_GNU_SOURCE -I. \
	  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	  -Wno-unused-parameter
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
# ThreadSanitizer (the data path's workers): make SANITIZE=thread, then run
# the scenarios (README, Tests); it cannot be combined with ASan.
ifeq ($(SANITIZE),thread)
CFLAGS += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS_CTL) $(PKGS_NOTIFY) $(PKGS_PRIV) 2>/dev/null)
LIBS_DAEMON := $(shell $(PKG_CONFIG) --libs $(PKGS_DAEMON) 2>/dev/null) -lpthread -lm -ldl
LIBS_NOTIFY := $(shell $(PKG_CONFIG) --libs $(PKGS_NOTIFY) 2>/dev/null)
LIBS_PRIV   := $(shell $(PKG_CONFIG) --libs $(PKGS_PRIV) 2>/dev/null)
LIBS_CTL    := $(shell $(PKG_CONFIG) --libs $(PKGS_CTL) 2>/dev/null) -lpthread -lm
CFLAGS += $(PKG_CFLAGS)
LDLIBS := $(LIBS_DAEMON)
AR ?= ar

ifeq ($(V),1)
Q :=
else
Q := @
endif

.SECONDEXPANSION:

# Rebuild everything when the flags change (SANITIZE=1 and plain objects
# must never mix).
FLAGS_STAMP := .build-flags
_flags := $(CC) $(CFLAGS) $(LDFLAGS)
ifneq ($(_flags),$(shell cat $(FLAGS_STAMP) 2>/dev/null))
$(shell echo '$(_flags)' > $(FLAGS_STAMP))
endif

# Filled by the fragments.
.DEFAULT_GOAL := all
TEST_TOOLS :=
COMMON_OBJS :=
NETCFG_OBJS :=
TUNNEL_OBJS :=
DAEMON_OBJS :=
CTL_OBJS :=
UNIT_TESTS :=
FUZZERS :=

include common/part.mk netcfg/part.mk tunnel/part.mk migrate/part.mk bridged/part.mk tests/part.mk

# Each part is a static archive: binaries name parts, not objects.
LIB_COMMON := common/libcommon.a
LIB_NETCFG := netcfg/libnetcfg.a
LIB_TUNNEL := tunnel/libtunnel.a
$(LIB_COMMON): $(COMMON_OBJS)
$(LIB_NETCFG): $(NETCFG_OBJS)
$(LIB_TUNNEL): $(TUNNEL_OBJS)
%.a:
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

BINS := bridged/bridged bridged/bridgectl

all: $(BINS)

# The daemon: the migrate parts that serve the old host's side (migrate/source/).
bridged/bridged: $(DAEMON_OBJS) $(LIB_MIGRATE_DAEMON) $(LIB_TUNNEL) $(LIB_NETCFG) $(LIB_COMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON) $(LIBS_NOTIFY) $(LIBS_PRIV)

bridged/bridgectl: $(CTL_OBJS) $(LIB_MIGRATE) $(LIB_TUNNEL) $(LIB_NETCFG) $(LIB_COMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CTL)

%.o: %.c $(FLAGS_STAMP)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# Unit tests: tests/unit/test_X links tests/unit/test_X.o plus $(test_X_OBJS).
$(UNIT_TESTS): tests/unit/%: tests/unit/%.o $$($$*_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

tests: $(BINS) $(UNIT_TESTS) $(TEST_TOOLS)

# Everything the build, the tests and the demo need, as Debian packages.
deps:
	$(Q)scripts/deps.sh

# The build before the tests uses every CPU (BUILD_JOBS=1: one at a time).
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 1)

# check: everything (the README's test command). check-unit: what needs
# neither root nor a network (unit tests, fuzzers, golden and CLI tests).
# check-root: the scenarios (namespaces, loop devices, libvirt, guests).
check:
	$(Q)scripts/deps.sh --if-missing
	$(Q)$(MAKE) --no-print-directory -j$(BUILD_JOBS) all tests
	$(Q)tests/run.sh

check-unit:
	$(Q)$(MAKE) --no-print-directory -j$(BUILD_JOBS) all tests
	$(Q)SUITE=unit tests/run.sh

check-root:
	$(Q)scripts/deps.sh --if-missing
	$(Q)$(MAKE) --no-print-directory -j$(BUILD_JOBS) all tests
	$(Q)SUITE=root tests/run.sh

# The long fuzzing campaign: every target FUZZ_SECONDS (default 600), one
# per CPU at a time (scripts/fuzz.sh; docs/RELIABILITY.md, "Fuzzing").
fuzz:
	$(Q)scripts/fuzz.sh

# soak: the chaos soak alone, long (docs/RELIABILITY.md); SOAK_SECONDS
# (default here 300) and SOAK_SEED pass through. make check runs it for 60 s.
soak:
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SOAK_SECONDS=$${SOAK_SECONDS:-300} bash tests/soak/t-soak.sh

demo:
	$(Q)scripts/deps.sh --if-missing
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

# The systemd unit with this install's paths (UNIT_OUT: where to).
UNIT_OUT ?= dist/systemd/bridged.service
render-unit:
	$(Q)sed -e 's|@SBINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/systemd/bridged.service.in > $(UNIT_OUT)

install-man:
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 docs/man/bridged.8 docs/man/bridgectl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/man/bridged.conf.5 $(DESTDIR)$(MANDIR)/man5/

install: all render-unit install-man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/bridged $(DESTDIR)$(UNITDIR)
	install -m 0755 bridged/bridged bridged/bridgectl $(DESTDIR)$(BINDIR)/
	install -m 0644 docs/examples/bridged.conf $(DESTDIR)$(SYSCONFDIR)/bridged/bridged.conf.example
	install -m 0644 $(UNIT_OUT) $(DESTDIR)$(UNITDIR)/bridged.service
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 0644 dist/bash-completion/bridgectl $(DESTDIR)$(COMPLETIONDIR)/bridgectl

# The Debian package (debian/), built from a copy: dist/deb/bridged_*.deb.
deb:
	$(Q)scripts/make-deb.sh

clean:
	rm -f $(BINS) $(UNIT_TESTS) $(FUZZERS) $(TEST_TOOLS) dist/systemd/bridged.service
	find . -name '*.o' -o -name '*.d' -o -name '*.a' | xargs rm -f

.PHONY: all tests deps check check-unit check-root fuzz soak demo install install-man clean render-unit deb
-include $(shell find . -name '*.d' 2>/dev/null)

print-unit-tests:
	@echo $(sort $(UNIT_TESTS))
print-fuzzers:
	@echo $(sort $(FUZZERS))
.PHONY: print-unit-tests print-fuzzers
