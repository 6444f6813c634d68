# SPDX-License-Identifier: GPL-2.0-or-later
# migrate/: the library that moves one VM, one subfolder per concern.
MIGRATE_XEN_OBJS := migrate/xen/xenlex.o migrate/xen/xencfg.o migrate/xen/xenjson.o
MIGRATE_DISK_OBJS := migrate/disk/plan.o migrate/disk/probe.o migrate/disk/partition.o \
	migrate/disk/swap.o
MIGRATE_VIRT_OBJS := migrate/virt/volume.o
MIGRATE_SOURCE_OBJS := migrate/source/fetch.o
include migrate/stream/part.mk
MIGRATE_OBJS += $(MIGRATE_XEN_OBJS) $(MIGRATE_DISK_OBJS) $(MIGRATE_VIRT_OBJS) \
	$(MIGRATE_SOURCE_OBJS) $(STREAM_CORE_OBJS)

UNIT_TESTS += tests/unit/test_xencfg
test_xencfg_OBJS := migrate/xen/xencfg.o migrate/xen/xenlex.o common/log.o
UNIT_TESTS += tests/unit/test_plan
test_plan_OBJS := migrate/disk/plan.o migrate/xen/xencfg.o migrate/xen/xenlex.o common/log.o
