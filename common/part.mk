# SPDX-License-Identifier: GPL-2.0-or-later
COMMON_OBJS += common/log.o common/escape.o
UNIT_TESTS += tests/unit/test_escape
test_escape_OBJS := common/escape.o
