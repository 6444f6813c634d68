/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Escaping of untrusted bytes for messages. Anything read from a file, a
 * config or the network that is quoted in an error or a log line goes
 * through str_escape(), so that no terminal control sequence (ESC [2J...)
 * reaches the operator's screen or the log. JSON output needs none of this:
 * json-c escapes itself.
 */
#ifndef BRIDGED_COMMON_ESCAPE_H
#define BRIDGED_COMMON_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for a config line (198 characters) printed as is. */
#define STR_ESCAPE_MAX 256

/*
 * Writes the len bytes at s into buf (bufsz bytes, always NUL-terminated
 * when bufsz > 0) as printable ASCII: a backslash becomes "\\", tab, CR and
 * LF become "\t", "\r", "\n", every other byte below 0x20, DEL and every
 * byte from 0x80 up becomes "\xNN" (two lowercase hex digits). UTF-8 is
 * escaped too, byte by byte: the result does not depend on the locale, and
 * no C1 control or bidirectional override gets through. Output that does not
 * fit is cut between two escapes and ends in "...". len SIZE_MAX means "up
 * to the NUL"; s NULL prints "(null)". Returns buf.
 */
const char *str_escape(const char *s, size_t len, char *buf, size_t bufsz);

/*
 * str_escape() of a NUL-terminated string into an unnamed buffer of
 * STR_ESCAPE_MAX bytes that lives until the end of the enclosing block, for
 * use as a printf argument: log_warnx("bad name \"%s\"", STR_ESCAPED(name)).
 */
#define STR_ESCAPED(s) \
	str_escape((s), SIZE_MAX, (char[STR_ESCAPE_MAX]){ 0 }, STR_ESCAPE_MAX)

#endif
