# SPDX-License-Identifier: GPL-2.0-or-later
DAEMON_OBJS += bridged/bridged.o bridged/loop.o bridged/peer.o bridged/netsync.o \
	       bridged/ctl.o bridged/ctlreq.o bridged/guard.o bridged/health.o bridged/loopguard.o \
	       bridged/metrics.o bridged/migsrv.o bridged/peerhealth.o bridged/probeport.o \
	       bridged/macwatch.o bridged/fdbquery.o bridged/names.o bridged/conn.o bridged/epstate.o \
	       bridged/notify.o bridged/workers.o bridged/priv.o bridged/sandbox.o

include bridged/cli/part.mk

# test tools used by the namespace scenarios
TEST_TOOLS += tests/netns/udp-replay tests/netns/probe-forge tests/netns/notify-listen \
	      tests/netns/bridged-test
# the daemon with its test hooks (sandbox.c: a forbidden system call on
# request, for tests/netns/t-privdrop.sh); never installed
bridged/sandbox-test.o: bridged/sandbox.c $(FLAGS_STAMP)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -DBRIDGED_TEST_HOOKS -c -o $@ $<
tests/netns/bridged-test: $$(filter-out bridged/sandbox.o,$$(DAEMON_OBJS)) bridged/sandbox-test.o \
		$$(LIB_MIGRATE_DAEMON) $$(LIB_TUNNEL) $$(LIB_NETCFG) $$(LIB_COMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON) $(LIBS_NOTIFY) $(LIBS_PRIV)
tests/netns/notify-listen: tests/netns/notify-listen.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
tests/netns/udp-replay: tests/netns/udp-replay.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
tests/netns/probe-forge: tests/netns/probe-forge.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

UNIT_TESTS += tests/unit/test_health tests/unit/test_loopguard tests/unit/test_loop \
	      tests/unit/test_epstate tests/unit/test_ctlreq
test_ctlreq_OBJS := bridged/ctlreq.o netcfg/mac.o
test_loop_OBJS := bridged/loop.o common/clock.o
test_health_OBJS := bridged/health.o
test_loopguard_OBJS := bridged/loopguard.o
test_epstate_OBJS := bridged/epstate.o netcfg/config.o netcfg/config_keys.o netcfg/config_print.o common/keys.o common/log.o common/escape.o common/fileio.o
