# SPDX-License-Identifier: GPL-2.0-or-later
NETCFG_OBJS += netcfg/config.o
UNIT_TESTS += tests/unit/test_config
test_config_OBJS := netcfg/config.o common/log.o
# libparted (in LDLIBS) trips ASan in its constructor: link only what is used.
tests/unit/test_config: LDFLAGS += -Wl,--as-needed
