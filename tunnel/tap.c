/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TAP device I/O setup (see tap.h). */
#include "tunnel/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef TUNSETCARRIER
#define TUNSETCARRIER _IOW('T', 226, int)
#endif

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

static int tap_open_flags(const char *name, char *ret_name, short flags);

int tap_open(const char *name, char *ret_name)
{
	return tap_open_flags(name, ret_name, IFF_TAP | IFF_NO_PI);
}

int tap_open_vnet(const char *name, char *ret_name)
{
	return tap_open_vnet_mq(name, ret_name, false);
}

int tap_open_vnet_mq(const char *name, char *ret_name, bool multi)
{
	int fd = tap_open_flags(name, ret_name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
				(multi ? IFF_MULTI_QUEUE : 0)), one = 1, sz = 10;

	if (fd < 0)
		return fd;
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	if (ioctl(fd, TUNSETVNETLE, &one) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
#else
	(void)one;
#endif
	return fd;
}

int tap_set_offload(int fd, unsigned want)
{
	static const unsigned tries[] = { ~0u, ~(unsigned)(TUN_F_USO4 | TUN_F_USO6),
					  TUN_F_CSUM, 0 };

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		unsigned f = want & tries[i];

		/* TSO and USO need checksum offload */
		if (!(f & TUN_F_CSUM))
			f = 0;
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)f) == 0)
			return (int)f;
		if (errno != EINVAL)
			return -errno;
	}
	return -EINVAL;
}

const char *tap_offload_string(unsigned flags, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } n[] = {
		{ TUN_F_CSUM, "csum" }, { TUN_F_TSO4, "tso4" }, { TUN_F_TSO6, "tso6" },
		{ TUN_F_TSO_ECN, "tso-ecn" }, { TUN_F_USO4, "uso4" }, { TUN_F_USO6, "uso6" },
	};
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		if ((flags & n[i].bit) && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " " : "", n[i].name);
	if (!off)
		snprintf(buf, len, "none");
	return buf;
}

static int tap_open_flags(const char *name, char *ret_name, short flags)
{
	struct ifreq ifr = { 0 };
	int fd, r;

	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ifr.ifr_flags = flags;
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
