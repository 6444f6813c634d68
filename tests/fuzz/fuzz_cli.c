/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for bridgectl's readers of the daemon's answers
 * (bridged/cli/ctl_print.c): the human forms of status, fdb and events
 * given any JSON at all (objects where arrays are expected, strings where
 * numbers are, nulls, deep nesting), and the event stream's line reader
 * given any byte stream cut at any points (long lines, NUL bytes, lines
 * that are not JSON, a refusal). Output goes to /dev/null.
 *
 * First byte even: the rest is one JSON document for the three printers.
 * Odd: the rest is a stream; each chunk is [u8 length][bytes].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridged/cli/ctl_print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

static void document(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	json_object *o;

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	o = json_tokener_parse(text);
	if (o) {
		ctl_print_status(devnull(), o);
		ctl_print_fdb(devnull(), o);
		ctl_print_event(devnull(), o);
		json_object_put(o);
	}
	free(text);
}

static void stream(const uint8_t *data, size_t size, uint8_t flags)
{
	static struct ctl_events ev;

	memset(&ev, 0, sizeof(ev) - sizeof(ev.buf));
	ev.out = devnull();
	ev.sock = "fuzz.sock";
	ev.json = flags & 2;
	ev.count = flags & 4 ? 3 : -1;
	while (size) {
		size_t n = data[0], room = sizeof(ev.buf) - 1 - ev.have;

		data++, size--;
		/* a chunk of 255 stands for a large read: the buffer's limit */
		if (n == 255)
			n = room;
		if (n > size)
			n = size;
		if (n > room)
			n = room;
		memcpy(ev.buf + ev.have, data, n);
		data += n, size -= n;
		if (!ctl_events_feed(&ev, n))
			break;
		if (ev.have >= sizeof(ev.buf) - 1 || (ev.count >= 0 && ev.seen > ev.count))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		stream(data + 1, size - 1, data[0]);
	else
		document(data + 1, size - 1);
	return 0;
}
