# SPDX-License-Identifier: GPL-2.0-or-later
MIGRATE_OBJS += migrate/main.o migrate/xenlex.o migrate/xencfg.o migrate/xenjson.o \
	migrate/plan.o migrate/probe.o migrate/args.o migrate/cmd_plan.o migrate/cmd_create.o \
	migrate/partition.o migrate/swap.o migrate/volume.o

# `bridgectl migrate` alone: used by tests/migrate and the storage guest.
migrate/bridgectl-migrate: migrate/tool.o $(MIGRATE_OBJS) common/log.o common/escape.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

UNIT_TESTS += tests/unit/test_xencfg
test_xencfg_OBJS := migrate/xencfg.o migrate/xenlex.o common/log.o common/escape.o
UNIT_TESTS += tests/unit/test_plan
test_plan_OBJS := migrate/plan.o migrate/xencfg.o migrate/xenlex.o common/log.o common/escape.o
