# SPDX-License-Identifier: GPL-2.0-or-later
COMMON_OBJS += common/log.o
