/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the control socket's request parser
 * (bridged/ctlreq.c, the code ctl.c serves every request with): any bytes,
 * as the connection would hold them (at most CONN_REQUEST_MAX - 1, then a
 * NUL), never crash it; a failure always says why; what it accepts prints
 * back to a line that parses to the same request.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridged/conn.h"
#include "bridged/ctlreq.h"
#include "netcfg/netcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[_CTL_CMD_MAX] = { "status", "events", "fdb" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[CONN_REQUEST_MAX], line[CONN_REQUEST_MAX * 2], err[200], mac[NETCFG_MAC_STRLEN];
	struct ctl_request r, r2;
	size_t len = size < sizeof(in) - 1 ? size : sizeof(in) - 1;
	int n;

	memcpy(in, data, len);
	in[len] = '\0';
	err[0] = '\0';
	if (ctl_request_parse(in, len, &r, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();        /* a refusal always says why */
		return 0;
	}
	if (!ctl_request_complete(in, len) || (unsigned)r.cmd >= _CTL_CMD_MAX ||
	    r.n_macs > CTL_FDB_MAX_MACS || memchr(r.segment, '\0', sizeof(r.segment)) == NULL)
		abort();
	if (r.cmd != CTL_CMD_FDB && (r.n_macs || r.segment[0]))
		abort();
	/* the request printed back parses to the same request */
	n = snprintf(line, sizeof(line), "%s", names[r.cmd]);
	if (r.segment[0])
		n += snprintf(line + n, sizeof(line) - (size_t)n, " segment %s", r.segment);
	for (size_t k = 0; k < r.n_macs; k++) {
		for (size_t j = 0; j < k; j++)
			if (!memcmp(r.macs[j], r.macs[k], 6))
				abort();        /* a MAC given twice counts once */
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", netcfg_mac_format(r.macs[k], mac));
	}
	n += snprintf(line + n, sizeof(line) - (size_t)n, "\r\n");
	if (ctl_request_parse(line, (size_t)n, &r2, err, sizeof(err)) < 0 ||
	    r2.cmd != r.cmd || r2.n_macs != r.n_macs || strcmp(r2.segment, r.segment) ||
	    memcmp(r2.macs, r.macs, sizeof(r.macs)))
		abort();
	return 0;
}
