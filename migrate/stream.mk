# SPDX-License-Identifier: GPL-2.0-or-later
# The disk stream (bridgectl migrate send|receive): engine, CLI, tests.
STREAM_CORE_OBJS := migrate/stream_wire.o migrate/stream_chan.o migrate/stream_map.o \
	migrate/stream_dev.o migrate/stream_pipe.o migrate/stream_engine.o migrate/stream_fetch.o
STREAM_OBJS := $(STREAM_CORE_OBJS) migrate/stream_cli.o
MIGRATE_OBJS += $(STREAM_OBJS)
LDLIBS += -lpthread

UNIT_TESTS += tests/unit/test_stream_wire tests/unit/test_stream_chan tests/unit/test_stream_map
test_stream_wire_OBJS := migrate/stream_wire.o
test_stream_chan_OBJS := migrate/stream_chan.o migrate/stream_wire.o
test_stream_map_OBJS := migrate/stream_map.o migrate/stream_chan.o migrate/stream_wire.o

# Test helpers: a stand-alone driver of the two commands (until bridgectl
# dispatches them, and for tests that must not depend on the rest of
# bridgectl) and the corrupting proxy.
STREAM_TOOLS := tests/stream/stream-tool tests/stream/flip-proxy
tests/stream/stream-tool: tests/stream/stream-tool.o $(STREAM_OBJS) tunnel/keys.o common/escape.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
tests/stream/flip-proxy: tests/stream/flip-proxy.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
tests: $(STREAM_TOOLS)
stream: $(STREAM_TOOLS) tests/unit/test_stream_wire tests/unit/test_stream_chan tests/unit/test_stream_map
.PHONY: stream
