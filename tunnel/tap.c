/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TAP device I/O setup (see tap.h). */
#include "tunnel/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef TUNSETCARRIER
#define TUNSETCARRIER _IOW('T', 226, int)
#endif

int tap_open(const char *name, char *ret_name)
{
	struct ifreq ifr = { 0 };
	int fd, r;

	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (ret_name) {
		memcpy(ret_name, ifr.ifr_name, IFNAMSIZ);
		ret_name[IFNAMSIZ - 1] = '\0';
	}
	return fd;
}

int tap_set_carrier(int fd, bool on)
{
	int v = on;

	if (ioctl(fd, TUNSETCARRIER, &v) < 0)
		return -errno;
	return 0;
}
