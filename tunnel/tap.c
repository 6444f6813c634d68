/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TAP device I/O setup (see tap.h). */
#include "tunnel/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
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

int tap_filter_frames(int fd, uint16_t ethertype, const uint8_t dst[6])
{
	uint32_t d0 = (uint32_t)dst[0] << 24 | dst[1] << 16 | dst[2] << 8 | dst[3];
	uint32_t d1 = (uint32_t)dst[4] << 8 | dst[5];
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),            /* ethertype */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ethertype, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),             /* dst[0..3] */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, d0, 0, 3),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),             /* dst[4..5] */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, d1, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (ioctl(fd, TUNATTACHFILTER, &prog) < 0)
		return -errno;
	return 0;
}
