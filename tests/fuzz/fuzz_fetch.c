/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the requests and replies the old host's daemon
 * reads (fetch_request_decode, fetch_reply_decode in
 * migrate/source/fetch.c): arbitrary bytes never crash them, a name that
 * decodes is one the daemon can take (no blank, no control byte, bounded),
 * and an accepted request re-encodes to bytes that decode to the same
 * fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/source/fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[FETCH_REQUEST_MAX];
	struct fetch_request r, r2;
	const char *text;
	uint16_t st;
	size_t tl, n;

	if (fetch_reply_decode(data, size, &st, &text, &tl) == 0 &&
	    (text != (const char *)data + FETCH_REPLY_HDR || tl != size - FETCH_REPLY_HDR))
		abort();
	if (fetch_request_decode(data, size, &r) < 0)
		return 0;
	if (strlen(r.vm) > FETCH_NAME_MAX || strlen(r.vdev) > FETCH_NAME_MAX)
		abort();
	for (const char *p = r.vm; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			abort();
	n = fetch_request_encode(out, &r);
	if (!n || fetch_request_decode(out, n, &r2) < 0)
		abort();
	if (r2.op != r.op || r2.flags != r.flags || r2.timeout_s != r.timeout_s ||
	    strcmp(r2.vm, r.vm) || strcmp(r2.vdev, r.vdev))
		abort();
	/* the name check of the daemon never reads past the name */
	(void)fetch_vm_name_ok(r.vm);
	(void)fetch_op_to_string(r.op);
	(void)fetch_request_fields_check(&r);
	return 0;
}
