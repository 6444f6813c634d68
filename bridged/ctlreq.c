/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket's request parser (ctlreq.h). */
#include <stdio.h>
#include <string.h>

#include "bridged/ctlreq.h"
#include "netcfg/netcfg.h"

bool ctl_request_complete(const char *buf, size_t len)
{
	return memchr(buf, '\n', len) != NULL;
}

/* The next word of line[*pos..end) (separated by spaces or tabs): its start
 * and length, 0 at the end. */
static size_t next_word(const char *line, size_t end, size_t *pos, const char **ret)
{
	size_t i = *pos, start;

	while (i < end && (line[i] == ' ' || line[i] == '\t'))
		i++;
	start = i;
	while (i < end && line[i] != ' ' && line[i] != '\t')
		i++;
	*pos = i;
	*ret = line + start;
	return i - start;
}

static bool word_is(const char *w, size_t n, const char *s)
{
	return n == strlen(s) && !memcmp(w, s, n);
}

/* "[segment NAME] [MAC...]" */
static int parse_fdb(const char *line, size_t end, size_t pos, struct ctl_request *r,
		     char *err, size_t errlen)
{
	const char *w;
	size_t n;

	while ((n = next_word(line, end, &pos, &w))) {
		char word[32];
		bool seen = false;

		if (word_is(w, n, "segment")) {
			n = next_word(line, end, &pos, &w);
			if (!n) {
				snprintf(err, errlen, "fdb: segment: a segment name expected");
				return -1;
			}
			if (n >= sizeof(r->segment)) {
				snprintf(err, errlen, "fdb: segment: a name of at most %zu characters expected",
					 sizeof(r->segment) - 1);
				return -1;
			}
			memcpy(r->segment, w, n);
			r->segment[n] = '\0';
			continue;
		}
		if (r->n_macs == CTL_FDB_MAX_MACS) {
			snprintf(err, errlen, "fdb: at most %d MAC addresses", CTL_FDB_MAX_MACS);
			return -1;
		}
		snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), w);
		if (n >= sizeof(word) || netcfg_mac_parse(word, r->macs[r->n_macs]) < 0) {
			snprintf(err, errlen, "fdb: '%s%s' is not a MAC address (six pairs of hex digits "
				 "separated by ':')", word, n >= sizeof(word) ? "..." : "");
			return -1;
		}
		for (size_t k = 0; k < r->n_macs; k++)
			seen |= !memcmp(r->macs[k], r->macs[r->n_macs], 6);
		if (!seen)
			r->n_macs++;
		else            /* unused slots stay zero: equal requests compare equal */
			memset(r->macs[r->n_macs], 0, 6);
	}
	return 0;
}

int ctl_request_parse(const char *buf, size_t len, struct ctl_request *r, char *err, size_t errlen)
{
	const char *nl = memchr(buf, '\n', len), *w;
	size_t end, pos = 0, n;

	memset(r, 0, sizeof(*r));
	if (!nl) {
		snprintf(err, errlen, "incomplete request: a line ending in a newline expected");
		return -1;
	}
	end = (size_t)(nl - buf);
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	if (memchr(buf, '\0', end)) {
		snprintf(err, errlen, "unknown command (a NUL byte in the request)");
		return -1;
	}
	n = next_word(buf, end, &pos, &w);
	if (word_is(w, n, "status") && pos == end && w == buf) {
		r->cmd = CTL_CMD_STATUS;
		return 0;
	}
	if (word_is(w, n, "events") && pos == end && w == buf) {
		r->cmd = CTL_CMD_EVENTS;
		return 0;
	}
	if (word_is(w, n, "fdb") && w == buf) {
		r->cmd = CTL_CMD_FDB;
		return parse_fdb(buf, end, pos, r, err, errlen);
	}
	snprintf(err, errlen, "unknown command");
	return -1;
}
