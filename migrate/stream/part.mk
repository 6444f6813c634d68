# SPDX-License-Identifier: GPL-2.0-or-later
# The disk stream (bridgectl migrate send|receive): engine, tests.
STREAM_CORE_OBJS := migrate/stream/stream_wire.o migrate/stream/stream_chan.o \
	migrate/stream/stream_map.o migrate/stream/stream_dev.o migrate/stream/stream_pipe.o \
	migrate/stream/stream_engine.o

UNIT_TESTS += tests/unit/test_stream_wire tests/unit/test_stream_chan tests/unit/test_stream_map \
	tests/unit/test_stream_retry
test_stream_retry_OBJS := $(STREAM_CORE_OBJS) common/noise.o
test_stream_wire_OBJS := migrate/stream/stream_wire.o
test_stream_chan_OBJS := migrate/stream/stream_chan.o migrate/stream/stream_wire.o common/noise.o
test_stream_map_OBJS := migrate/stream/stream_map.o migrate/stream/stream_chan.o \
	migrate/stream/stream_wire.o common/noise.o

# Test helpers: a stand-alone driver of the two commands (for tests that
# must not depend on the rest of bridgectl) and the corrupting proxy.
STREAM_TOOLS := tests/stream/stream-tool tests/stream/flip-proxy
tests/stream/stream-tool: tests/stream/stream-tool.o bridged/cli/migrate_stream.o \
		bridged/cli/migrate_conn.o bridged/cli/migrate_source.o \
		migrate/libmigrate-source.a migrate/libmigrate-stream.a tunnel/libtunnel.a \
		common/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# io_read_frame's end-of-stream case over real TCP (t-frame-read).
STREAM_TOOLS += tests/stream/frame-read
tests/stream/frame-read: tests/stream/frame-read.o migrate/libmigrate-stream.a common/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
tests/stream/flip-proxy: tests/stream/flip-proxy.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# A disk with a volatile write cache, in FUSE (t-faults' power loss).
STREAM_TOOLS += tests/stream/wcache-fs
tests/stream/wcache-fs.o: CFLAGS += $(shell $(PKG_CONFIG) --cflags fuse3 2>/dev/null)
tests/stream/wcache-fs: tests/stream/wcache-fs.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs fuse3 2>/dev/null)
TEST_TOOLS += $(STREAM_TOOLS)
stream: $(STREAM_TOOLS) tests/unit/test_stream_wire tests/unit/test_stream_chan tests/unit/test_stream_map
.PHONY: stream
