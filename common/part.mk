# SPDX-License-Identifier: GPL-2.0-or-later
COMMON_OBJS += common/log.o common/escape.o common/noise.o common/clock.o common/keys.o common/fileio.o
UNIT_TESTS += tests/unit/test_keys
test_keys_OBJS := common/keys.o
UNIT_TESTS += tests/unit/test_escape
test_escape_OBJS := common/escape.o

# The Noise construction and its two patterns: KK here, the tunnel's IK
# (tunnel/noise.c) pinned by a known-answer vector.
UNIT_TESTS += tests/unit/test_noise
test_noise_OBJS := common/noise.o tunnel/noise.o tunnel/wire.o
