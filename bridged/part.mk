# SPDX-License-Identifier: GPL-2.0-or-later
DAEMON_OBJS += bridged/bridged.o
CTL_OBJS += bridged/bridgectl.o
