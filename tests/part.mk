# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests add themselves in the fragment of the part they test:
#   UNIT_TESTS += tests/unit/test_config
#   test_config_OBJS := netcfg/config.o netcfg/config_keys.o netcfg/config_print.o common/log.o
# Fuzzers: FUZZERS += tests/fuzz/fuzz_X (built with clang, see tests/fuzz/).
include tests/fuzz/part.mk tests/man/part.mk
