/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the requests and replies the old host's daemon
 * reads (fetch_request_decode, fetch_reply_decode in
 * migrate/source/fetch.c): arbitrary bytes never crash them, a name that
 * decodes is one the daemon can take (no blank, no control byte, bounded),
 * and an accepted request re-encodes to bytes that decode to the same
 * fields. The per-op field check never reads past the request. The
 * same bytes as a disk's first bytes (migrate/source/swapsig.c, the swap
 * signature of the list reply): never read past, a label within its 16
 * bytes, a page size of those probed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/source/fetch.h"
#include "migrate/source/swapsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[FETCH_REQUEST_MAX];
	struct fetch_request r, r2;
	const char *text;
	uint16_t st;
	size_t tl, n;
	struct swapsig sig;

	if (swapsig_parse(data, size, &sig) == 1) {
		json_object *j = swapsig_json(&sig);

		if (sig.label_len > 16 || strlen(sig.label) != sig.label_len ||
		    (sig.pagesize != 4096 && sig.pagesize != 8192 && sig.pagesize != 16384 &&
		     sig.pagesize != 65536) || sig.pagesize > size)
			abort();
		json_object_put(j);
	}
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
