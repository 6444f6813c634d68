# SPDX-License-Identifier: GPL-2.0-or-later

# TAP and UDP I/O (daemon side)
TUNNEL_IO_OBJS := tunnel/tap.o tunnel/udp.o
