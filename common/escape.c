/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Escaping of untrusted bytes for messages (see escape.h). */
#include "common/escape.h"

#include <string.h>

/* The escaped form of byte c into out (at most 4 characters); its length. */
static size_t escape_byte(unsigned char c, char out[4])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '\\': out[0] = '\\'; out[1] = '\\'; return 2;
	case '\t': out[0] = '\\'; out[1] = 't'; return 2;
	case '\r': out[0] = '\\'; out[1] = 'r'; return 2;
	case '\n': out[0] = '\\'; out[1] = 'n'; return 2;
	default:
		break;
	}
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 0xf];
	return 4;
}

const char *str_escape(const char *s, size_t len, char *buf, size_t bufsz)
{
	static const char dots[] = "...";
	size_t o = 0, cut = 0, room, i;

	if (!buf || bufsz == 0)
		return buf;
	if (!s) {
		s = "(null)";
		len = SIZE_MAX;
	}
	room = bufsz - 1;
	for (i = 0; len == SIZE_MAX ? s[i] != '\0' : i < len; i++) {
		char piece[4];
		size_t n = escape_byte((unsigned char)s[i], piece);

		if (n > room - o) {
			/* Back to the last escape that leaves room for "...". */
			n = room - cut < sizeof(dots) - 1 ? room - cut : sizeof(dots) - 1;
			memcpy(buf + cut, dots, n);
			o = cut + n;
			break;
		}
		memcpy(buf + o, piece, n);
		o += n;
		if (room >= sizeof(dots) - 1 && o <= room - (sizeof(dots) - 1))
			cut = o;
	}
	buf[o] = '\0';
	return buf;
}
