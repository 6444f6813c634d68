# SPDX-License-Identifier: GPL-2.0-or-later
# --- tunnel engine (protocol, pure; docs/PROTOCOL.md) ---
TUNNEL_ENGINE_OBJS := tunnel/tunnel.o tunnel/keypair.o tunnel/send.o tunnel/receive.o \
		      tunnel/timers.o tunnel/noise.o tunnel/wire.o tunnel/aead.o \
		      tunnel/replay.o tunnel/frag.o tunnel/index.o tunnel/tso.o tunnel/vnet.o
TUNNEL_OBJS += $(TUNNEL_ENGINE_OBJS) tunnel/tap.o tunnel/udp.o tunnel/datapath.o tunnel/gro.o

UNIT_TESTS += tests/unit/test_tunnel_codec tests/unit/test_tunnel_aead \
	      tests/unit/test_tunnel_replay tests/unit/test_tunnel_frag \
	      tests/unit/test_tunnel_handshake tests/unit/test_tunnel_vnet \
	      tests/unit/test_tunnel_gro tests/unit/test_tunnel_tso tests/unit/test_tunnel_steer
test_tunnel_vnet_OBJS := tunnel/vnet.o tunnel/wire.o
test_tunnel_gro_OBJS := tunnel/gro.o tunnel/vnet.o tunnel/wire.o tunnel/tso.o
test_tunnel_tso_OBJS := tunnel/tso.o tunnel/gro.o tunnel/vnet.o
test_tunnel_codec_OBJS := tunnel/wire.o
test_tunnel_steer_OBJS = $(LIB_TUNNEL) $(LIB_COMMON)
test_tunnel_aead_OBJS := tunnel/aead.o
test_tunnel_replay_OBJS := tunnel/replay.o
test_tunnel_frag_OBJS := tunnel/frag.o tunnel/wire.o
test_tunnel_handshake_OBJS := $(TUNNEL_ENGINE_OBJS) common/keys.o common/noise.o

tests/bench/bench_codec: tests/bench/bench_codec.o $(TUNNEL_ENGINE_OBJS) common/noise.o common/keys.o
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
bench: tests/bench/bench_codec
.PHONY: bench
# --- end tunnel engine ---
