# SPDX-License-Identifier: GPL-2.0-or-later
# libFuzzer targets: tests/fuzz/fuzz_X is built by clang from
# tests/fuzz/fuzz_X.c plus the sources in $(fuzz_X_SRCS). Fragments add:
#   FUZZERS += tests/fuzz/fuzz_X
#   fuzz_X_SRCS := netcfg/config.c netcfg/config_keys.c netcfg/config_print.c common/log.c
# tests/run.sh runs each for a bounded time when clang is present.
FUZZERS += tests/fuzz/fuzz_xencfg
fuzz_xencfg_SRCS := migrate/xen/xenlex.c migrate/xen/xencfg.c migrate/xen/xenjson.c common/escape.c

CLANG ?= clang
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS)

# The rule below needs secondary expansion for $$($$*_SRCS), and the
# Makefile turns it on only after including this file.
.SECONDEXPANSION:

# Fragments' FUZZERS lines must come before the rules below (rule targets
# are expanded when make reads them).
FUZZERS += tests/fuzz/fuzz_config
fuzz_config_SRCS := netcfg/config.c netcfg/config_keys.c netcfg/config_print.c common/log.c common/escape.c common/keys.c

# tunnel: the packet receive path (tunnel/ engine).
FUZZERS += tests/fuzz/fuzz_packet
fuzz_packet_SRCS := tunnel/tunnel.c tunnel/keypair.c tunnel/send.c tunnel/receive.c tunnel/timers.c \
	tunnel/noise.c tunnel/wire.c tunnel/aead.c \
	tunnel/replay.c tunnel/frag.c tunnel/index.c tunnel/tso.c tunnel/vnet.c common/keys.c common/noise.c common/log.c

# tunnel: GRO on delivery (the coalescer, checked against the kernel's
# segmentation done by hand, tests/fuzz/gro_seg.h).
FUZZERS += tests/fuzz/fuzz_gro
fuzz_gro_SRCS := tunnel/gro.c tunnel/vnet.c

# tunnel: segmentation of super-frames in user space (checked against the
# kernel's segmentation done by hand, and GRO giving the stream back).
FUZZERS += tests/fuzz/fuzz_tso
fuzz_tso_SRCS := tunnel/tso.c tunnel/gro.c tunnel/vnet.c

# tunnel: the handshake and session state machines, fed sequences of
# messages (stateful, two engines).
FUZZERS += tests/fuzz/fuzz_handshake
fuzz_handshake_SRCS := $(fuzz_packet_SRCS)

# migrate: the disk stream's record decoder.
FUZZERS += tests/fuzz/fuzz_stream
fuzz_stream_SRCS := migrate/stream/stream_wire.c

# migrate/source: the requests and replies of the old host's daemon (and
# the swap signature of a listed disk's first bytes), and the xl/xm list
# table.
FUZZERS += tests/fuzz/fuzz_fetch tests/fuzz/fuzz_xllist
fuzz_fetch_SRCS := migrate/source/fetch.c migrate/source/swapsig.c migrate/stream/stream_chan.c \
	migrate/stream/stream_wire.c common/noise.c
fuzz_xllist_SRCS := migrate/source/xllist.c

# bridged: the endpoint state file (StateFile).
FUZZERS += tests/fuzz/fuzz_epstate
fuzz_epstate_SRCS := bridged/epstate.c netcfg/config.c netcfg/config_keys.c netcfg/config_print.c common/keys.c common/log.c common/escape.c common/fileio.c

# netcfg: vtund.conf, read by bridgectl import vtund.
FUZZERS += tests/fuzz/fuzz_vtund
fuzz_vtund_SRCS := netcfg/vtund.c

# bridged: the control socket's request parser.
FUZZERS += tests/fuzz/fuzz_ctl
fuzz_ctl_SRCS := bridged/ctlreq.c netcfg/mac.c

# bridged: the loop guard's probe frames (TAPs and probe ports).
FUZZERS += tests/fuzz/fuzz_probe
fuzz_probe_SRCS := bridged/loopguard.c

# migrate: the journals read back after a crash (cutover's, MigrateListen's
# autostart journal).
FUZZERS += tests/fuzz/fuzz_journal
fuzz_journal_SRCS := migrate/cutover/journal.c migrate/source/autostart.c migrate/source/fetch.c \
	migrate/source/swapsig.c migrate/stream/stream_chan.c migrate/stream/stream_wire.c \
	common/noise.c common/fileio.c common/escape.c

# migrate: the disk stream's resume map (the receiver's state file).
FUZZERS += tests/fuzz/fuzz_smap
fuzz_smap_SRCS := migrate/stream/stream_map.c migrate/stream/stream_chan.c migrate/stream/stream_wire.c \
	common/noise.c common/fileio.c

# bridgectl: its readers of the daemon's answers (status, fdb, events).
FUZZERS += tests/fuzz/fuzz_cli
fuzz_cli_SRCS := bridged/cli/ctl_print.c bridged/cli/ctl_client.c

# migrate: the plan file (`migrate plan --json`, read by `migrate create --plan`).
FUZZERS += tests/fuzz/fuzz_plan
fuzz_plan_SRCS := migrate/disk/plan.c migrate/disk/plan_json.c migrate/xen/xencfg.c migrate/xen/xenlex.c \
	migrate/xen/xenjson.c common/escape.c

# common: the disk stream's Noise KK handshake (what MigrateListen reads
# first from whoever connects).
FUZZERS += tests/fuzz/fuzz_kk
fuzz_kk_SRCS := common/noise.c

fuzzers: $(FUZZERS)

$(FUZZERS): tests/fuzz/%: tests/fuzz/%.c $$($$*_SRCS)
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: fuzzers
