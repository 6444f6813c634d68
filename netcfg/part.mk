# SPDX-License-Identifier: GPL-2.0-or-later
NETCFG_OBJS += netcfg/config.o netcfg/config_keys.o netcfg/config_print.o netcfg/mac.o netcfg/vtund.o
UNIT_TESTS += tests/unit/test_config
test_config_OBJS := netcfg/config.o netcfg/config_keys.o netcfg/config_print.o common/log.o common/escape.o common/keys.o

UNIT_TESTS += tests/unit/test_mac
test_mac_OBJS := netcfg/mac.o

# netlink layer and reconcile (netcfg/nl.c, netcfg/reconcile.c)
NETCFG_OBJS += netcfg/nl.o netcfg/reconcile.o
UNIT_TESTS += tests/unit/test_reconcile
test_reconcile_OBJS := netcfg/reconcile.o common/log.o
# Driver for the namespace test tests/netns/t-netcfg.sh.
TEST_TOOLS += tests/netns/netcfg-tool
tests/netns/netcfg-tool: tests/netns/netcfg-tool.o netcfg/nl.o netcfg/reconcile.o common/log.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
