# SPDX-License-Identifier: GPL-2.0-or-later
# libFuzzer targets: tests/fuzz/fuzz_X is built by clang from
# tests/fuzz/fuzz_X.c plus the sources in $(fuzz_X_SRCS). Fragments add:
#   FUZZERS += tests/fuzz/fuzz_X
#   fuzz_X_SRCS := netcfg/config.c common/log.c
# tests/run.sh runs each for a bounded time when clang is present.
CLANG ?= clang
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS)

# Fragments' FUZZERS lines must come before the rules below (rule targets
# are expanded when make reads them).
FUZZERS += tests/fuzz/fuzz_config
fuzz_config_SRCS := netcfg/config.c common/log.c

fuzzers: $(FUZZERS)

$(FUZZERS): tests/fuzz/%: tests/fuzz/%.c $$($$*_SRCS)
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: fuzzers
