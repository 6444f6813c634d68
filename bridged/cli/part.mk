# SPDX-License-Identifier: GPL-2.0-or-later
# bridgectl: the command-line front end (bridged/cli/).
MIGRATE_CLI_OBJS := bridged/cli/migrate.o bridged/cli/migrate_args.o bridged/cli/migrate_plan.o \
	bridged/cli/migrate_conn.o bridged/cli/migrate_source.o \
	bridged/cli/migrate_create.o bridged/cli/migrate_stream.o bridged/cli/migrate_preflight.o \
	bridged/cli/migrate_domain.o
CTL_OBJS += bridged/cli/bridgectl.o bridged/cli/cli.o bridged/cli/ctl_client.o bridged/cli/ctl_print.o bridged/cli/cutover.o \
	bridged/cli/doctor.o bridged/cli/import.o bridged/cli/export.o bridged/cli/top.o $(MIGRATE_CLI_OBJS)

# `bridgectl migrate` alone: used by tests/migrate and the storage guest.
tests/migrate/bridgectl-migrate: tests/migrate/bridgectl-migrate.o bridged/cli/cli.o $(MIGRATE_CLI_OBJS) \
		$(LIB_MIGRATE) tunnel/libtunnel.a common/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CTL)
TEST_TOOLS += tests/migrate/bridgectl-migrate
