/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MAC addresses as text (netcfg.h): "52:54:00:ab:cd:ef" both ways. No
 * netlink here: bridgectl links this without libnl.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "netcfg/netcfg.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int netcfg_mac_parse(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (lo < 0 || s[2] != (i < 5 ? ':' : '\0'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	return 0;
}

char *netcfg_mac_format(const uint8_t mac[6], char buf[NETCFG_MAC_STRLEN])
{
	snprintf(buf, NETCFG_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
