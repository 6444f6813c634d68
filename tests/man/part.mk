# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages' test tool: the key table as text.
TEST_TOOLS += tests/man/config-keys
tests/man/config-keys: tests/man/config-keys.o netcfg/config.o netcfg/config_keys.o netcfg/config_print.o \
		common/keys.o common/log.o common/escape.o common/fileio.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON)
