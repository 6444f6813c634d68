# SPDX-License-Identifier: GPL-2.0-or-later
# bridgectl: the command-line front end (bridged/cli/).
MIGRATE_CLI_OBJS := bridged/cli/migrate.o bridged/cli/migrate_args.o bridged/cli/migrate_plan.o \
	bridged/cli/migrate_create.o bridged/cli/migrate_stream.o
CTL_OBJS += bridged/cli/bridgectl.o $(MIGRATE_CLI_OBJS)

# `bridgectl migrate` alone: used by tests/migrate and the storage guest.
tests/migrate/bridgectl-migrate: tests/migrate/bridgectl-migrate.o $(MIGRATE_CLI_OBJS) \
		$(MIGRATE_OBJS) tunnel/keys.o common/log.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
TEST_TOOLS += tests/migrate/bridgectl-migrate
