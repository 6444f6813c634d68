# SPDX-License-Identifier: GPL-2.0-or-later
# migrate/: the library that moves one VM, one subfolder per concern.
MIGRATE_XEN_OBJS := migrate/xen/xenlex.o migrate/xen/xencfg.o migrate/xen/xenjson.o
MIGRATE_DISK_OBJS := migrate/disk/plan.o migrate/disk/plan_json.o migrate/disk/probe.o \
	migrate/disk/partition.o migrate/disk/swap.o
MIGRATE_VIRT_OBJS := migrate/virt/volume.o migrate/virt/domain.o migrate/virt/domain_canon.o \
	migrate/virt/domain_map.o migrate/virt/define.o migrate/virt/bootfiles.o migrate/virt/lifecycle.o
# the source's domains through libvirt, loaded at run time (dlopen): the
# daemon links it without linking libvirt
MIGRATE_VIRTSRC_OBJS := migrate/virt/domsrc.o
MIGRATE_SOURCE_OBJS := migrate/source/fetch.o migrate/source/run.o migrate/source/xllist.o \
	migrate/source/backend.o migrate/source/backend_virt.o migrate/source/autostart.o \
	migrate/source/serve.o migrate/source/swapsig.o
include migrate/stream/part.mk
include migrate/guest/part.mk

# One archive per concern; the daemon links only what serves a disk copy.
migrate/libmigrate-xen.a: $(MIGRATE_XEN_OBJS)
migrate/libmigrate-disk.a: $(MIGRATE_DISK_OBJS)
migrate/libmigrate-virt.a: $(MIGRATE_VIRT_OBJS)
migrate/libmigrate-source.a: $(MIGRATE_SOURCE_OBJS)
migrate/libmigrate-virtsrc.a: $(MIGRATE_VIRTSRC_OBJS)
migrate/libmigrate-stream.a: $(STREAM_CORE_OBJS)
migrate/libmigrate-guest.a: $(MIGRATE_GUEST_OBJS)
LIB_MIGRATE_DAEMON := migrate/libmigrate-source.a migrate/libmigrate-virtsrc.a migrate/libmigrate-stream.a \
	migrate/libmigrate-xen.a
LIB_MIGRATE := migrate/libmigrate-guest.a migrate/libmigrate-disk.a migrate/libmigrate-virt.a \
	$(LIB_MIGRATE_DAEMON)

UNIT_TESTS += tests/unit/test_xencfg
test_xencfg_OBJS := migrate/xen/xencfg.o migrate/xen/xenlex.o common/log.o common/escape.o
UNIT_TESTS += tests/unit/test_plan
test_plan_OBJS := migrate/disk/plan.o migrate/xen/xencfg.o migrate/xen/xenlex.o common/log.o \
	common/escape.o
UNIT_TESTS += tests/unit/test_domain
test_domain_OBJS := migrate/virt/domain.o migrate/virt/domain_canon.o migrate/virt/domain_map.o \
	migrate/disk/plan.o migrate/disk/plan_json.o migrate/xen/xencfg.o migrate/xen/xenlex.o common/log.o \
	common/escape.o
tests/unit/test_domain: LDLIBS += $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null)

# migrate/source: the request codec, the xl/xm table, the runner, the
# autostart switch, the libvirt backend (test:///default), the swap
# signature of a listed disk.
SOURCE_CHAN_OBJS := migrate/source/fetch.o migrate/stream/stream_chan.o migrate/stream/stream_wire.o \
	common/noise.o common/fileio.o
UNIT_TESTS += tests/unit/test_xllist tests/unit/test_fetch tests/unit/test_source_run \
	tests/unit/test_autostart tests/unit/test_source_virt tests/unit/test_swapsig
test_xllist_OBJS := migrate/source/xllist.o
test_fetch_OBJS := $(SOURCE_CHAN_OBJS)
test_source_run_OBJS := migrate/source/run.o migrate/source/backend.o migrate/source/backend_virt.o \
	migrate/source/xllist.o migrate/source/serve.o migrate/source/autostart.o migrate/virt/domsrc.o \
	$(SOURCE_CHAN_OBJS) common/escape.o
test_swapsig_OBJS := migrate/source/swapsig.o migrate/disk/swap.o common/escape.o
test_autostart_OBJS := migrate/source/autostart.o $(SOURCE_CHAN_OBJS)
test_source_virt_OBJS := migrate/source/backend.o migrate/source/backend_virt.o migrate/source/run.o \
	migrate/source/xllist.o migrate/source/serve.o migrate/source/autostart.o migrate/virt/domsrc.o \
	$(SOURCE_CHAN_OBJS) common/escape.o

# migrate/cutover: the journal of `bridgectl cutover` (the steps themselves
# are bridgectl's: bridged/cli/cutover.c).
MIGRATE_CUTOVER_OBJS := migrate/cutover/journal.o
migrate/libmigrate-cutover.a: $(MIGRATE_CUTOVER_OBJS)
LIB_MIGRATE := migrate/libmigrate-cutover.a $(LIB_MIGRATE)
UNIT_TESTS += tests/unit/test_cutover_journal
test_cutover_journal_OBJS := migrate/cutover/journal.o common/fileio.o common/escape.o
