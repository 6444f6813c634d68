# SPDX-License-Identifier: GPL-2.0-or-later
DAEMON_OBJS += bridged/bridged.o bridged/loop.o bridged/peer.o bridged/netsync.o \
	       bridged/ctl.o bridged/guard.o bridged/health.o bridged/loopguard.o \
	       bridged/metrics.o bridged/migsrv.o bridged/epstate.o tunnel/tap.o tunnel/udp.o
# the source side of a disk copy (migsrv.c): the stream engine and the Xen parser
DAEMON_OBJS += migrate/stream_wire.o migrate/stream_chan.o migrate/stream_map.o \
	       migrate/stream_dev.o migrate/stream_pipe.o migrate/stream_engine.o \
	       migrate/stream_fetch.o migrate/xencfg.o migrate/xenlex.o
CTL_OBJS += bridged/bridgectl.o

# test tools used by the namespace scenarios
BRIDGED_TEST_TOOLS := tests/netns/udp-replay tests/netns/probe-forge
tests/netns/udp-replay: tests/netns/udp-replay.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
tests/netns/probe-forge: tests/netns/probe-forge.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
tests: $(BRIDGED_TEST_TOOLS)

UNIT_TESTS += tests/unit/test_health tests/unit/test_loopguard tests/unit/test_epstate
test_health_OBJS := bridged/health.o
test_loopguard_OBJS := bridged/loopguard.o
test_epstate_OBJS := bridged/epstate.o netcfg/config.o tunnel/keys.o common/log.o
