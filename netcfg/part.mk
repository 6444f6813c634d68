# SPDX-License-Identifier: GPL-2.0-or-later
NETCFG_OBJS += netcfg/config.o
UNIT_TESTS += tests/unit/test_config
test_config_OBJS := netcfg/config.o common/log.o common/escape.o
# libparted (in LDLIBS) trips ASan in its constructor: link only what is used.
tests/unit/test_config: LDFLAGS += -Wl,--as-needed

# netlink layer and reconcile (netcfg/nl.c, netcfg/reconcile.c)
NETCFG_OBJS += netcfg/nl.o netcfg/reconcile.o
UNIT_TESTS += tests/unit/test_reconcile
test_reconcile_OBJS := netcfg/reconcile.o common/log.o
# LDLIBS carries every package's libraries; libparted's constructor trips
# ASan (heap overflow in ped_disk_gpt_init) in binaries that never use it.
tests/unit/test_reconcile tests/netns/netcfg-tool: LDFLAGS += -Wl,--as-needed
# Driver for the namespace test tests/netns/t-netcfg.sh. This fragment is
# included before the Makefile's "all:": keep "all" the default goal.
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif
TEST_TOOLS += tests/netns/netcfg-tool
tests/netns/netcfg-tool: tests/netns/netcfg-tool.o netcfg/nl.o netcfg/reconcile.o common/log.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
tests: $(TEST_TOOLS)
