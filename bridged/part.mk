# SPDX-License-Identifier: GPL-2.0-or-later
DAEMON_OBJS += bridged/bridged.o bridged/loop.o bridged/peer.o bridged/netsync.o \
	       bridged/ctl.o $(TUNNEL_IO_OBJS)
CTL_OBJS += bridged/bridgectl.o
