/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit test: the request and reply codec of what the old host's daemon
 * serves (migrate/source/fetch.c): versions 1 and 2, every op, the
 * decoder's checks, the flags and fields each op takes, the VM name rule, and a request and a reply over a
 * real channel (a socket pair after the handshake).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "migrate/source/fetch.h"

static void test_v1_list_disk(void **state)
{
	struct fetch_request in = { .op = FETCH_OP_DISK, .flags = FETCH_FLAG_DELTA }, out;
	uint8_t buf[FETCH_REQUEST_MAX];
	size_t n;

	(void)state;
	strcpy(in.vm, "fileserver");
	strcpy(in.vdev, "xvda2");
	n = fetch_request_encode(buf, &in);
	/* version 1, as daemons before the other ops read it */
	assert_int_equal(n, 12 + 10 + 5);
	assert_memory_equal(buf, "BRFREQ01", 8);
	assert_int_equal(fetch_request_decode(buf, n, &out), 0);
	assert_int_equal(out.op, FETCH_OP_DISK);
	assert_int_equal(out.flags, FETCH_FLAG_DELTA);
	assert_int_equal(out.timeout_s, 0);
	assert_string_equal(out.vm, "fileserver");
	assert_string_equal(out.vdev, "xvda2");

	memset(&in, 0, sizeof(in));
	in.op = FETCH_OP_LIST;
	strcpy(in.vm, "web1");
	n = fetch_request_encode(buf, &in);
	assert_int_equal(n, 16);
	assert_int_equal(fetch_request_decode(buf, n, &out), 0);
	assert_int_equal(out.op, FETCH_OP_LIST);
	assert_string_equal(out.vdev, "");
}

static void test_v2_ops(void **state)
{
	static const uint8_t ops[] = { FETCH_OP_CONFIG, FETCH_OP_STATE, FETCH_OP_SHUTDOWN,
				       FETCH_OP_AUTOSTART_OFF, FETCH_OP_AUTOSTART_RESTORE,
				       FETCH_OP_START };
	uint8_t buf[FETCH_REQUEST_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(ops); i++) {
		struct fetch_request in = { .op = ops[i] }, out;
		size_t n;

		strcpy(in.vm, "web1");
		if (ops[i] == FETCH_OP_SHUTDOWN) {
			in.flags = FETCH_FLAG_FORCE;
			in.timeout_s = 0x01020304;
		}
		n = fetch_request_encode(buf, &in);
		assert_int_equal(n, 16 + 4);
		assert_memory_equal(buf, "BRFREQ02", 8);
		assert_int_equal(fetch_request_decode(buf, n, &out), 0);
		assert_int_equal(out.op, ops[i]);
		assert_int_equal(out.flags, in.flags);
		assert_int_equal(out.timeout_s, in.timeout_s);
		assert_string_equal(out.vm, "web1");
		assert_non_null(fetch_op_to_string(ops[i]));
	}
	/* little-endian timeout */
	{
		struct fetch_request in = { .op = FETCH_OP_SHUTDOWN, .timeout_s = 300 };

		strcpy(in.vm, "a");
		fetch_request_encode(buf, &in);
		assert_int_equal(buf[12], 300 & 0xff);
		assert_int_equal(buf[13], 300 >> 8);
		assert_int_equal(buf[14], 0);
	}
	/* a disk request with a timeout needs version 2 */
	{
		struct fetch_request in = { .op = FETCH_OP_DISK, .timeout_s = 5 }, out;
		size_t n;

		strcpy(in.vm, "a");
		strcpy(in.vdev, "xvda");
		n = fetch_request_encode(buf, &in);
		assert_memory_equal(buf, "BRFREQ02", 8);
		assert_int_equal(fetch_request_decode(buf, n, &out), 0);
		assert_int_equal(out.timeout_s, 5);
	}
	assert_string_equal(fetch_op_to_string(FETCH_OP_AUTOSTART_OFF), "autostart-off");
	assert_string_equal(fetch_op_to_string(FETCH_OP_START), "start");
	assert_int_equal(FETCH_OP_START, 8);
	assert_null(fetch_op_to_string(0));
	assert_null(fetch_op_to_string(_FETCH_OP_MAX));
	assert_null(fetch_op_to_string(255));
}

static void test_decode_checks(void **state)
{
	struct fetch_request in = { .op = FETCH_OP_STATE }, out;
	uint8_t buf[FETCH_REQUEST_MAX + 8];
	size_t n;

	(void)state;
	strcpy(in.vm, "web1");
	n = fetch_request_encode(buf, &in);
	/* every shorter length, and a longer one */
	for (size_t l = 0; l < n; l++)
		assert_int_equal(fetch_request_decode(buf, l, &out), -EBADMSG);
	buf[n] = 'x';
	assert_int_equal(fetch_request_decode(buf, n + 1, &out), -EBADMSG);
	/* another magic, another version */
	buf[7] = '3';
	assert_int_equal(fetch_request_decode(buf, n, &out), -EBADMSG);
	buf[7] = '2';
	buf[0] = 'X';
	assert_int_equal(fetch_request_decode(buf, n, &out), -EBADMSG);
	buf[0] = 'B';
	/* a name with a blank or a control character */
	buf[16 + 1] = ' ';
	assert_int_equal(fetch_request_decode(buf, n, &out), -EBADMSG);
	buf[16 + 1] = 0x1b;
	assert_int_equal(fetch_request_decode(buf, n, &out), -EBADMSG);
	buf[16 + 1] = 0x80;
	assert_int_equal(fetch_request_decode(buf, n, &out), -EBADMSG);
	buf[16 + 1] = 'e';
	assert_int_equal(fetch_request_decode(buf, n, &out), 0);
	/* a length byte over the maximum */
	buf[10] = FETCH_NAME_MAX + 1;
	assert_int_equal(fetch_request_decode(buf, n, &out), -EBADMSG);
	/* names too long to encode */
	memset(in.vm, 'a', FETCH_NAME_MAX + 1);
	in.vm[FETCH_NAME_MAX] = 'a';
	{
		struct fetch_request big = { .op = FETCH_OP_STATE };

		memset(big.vm, 'a', FETCH_NAME_MAX);
		assert_int_equal(fetch_request_encode(buf, &big), 16 + FETCH_NAME_MAX);
		memset(big.vdev, 'b', FETCH_NAME_MAX);
		assert_int_equal(fetch_request_encode(buf, &big), FETCH_REQUEST_MAX);
		assert_int_equal(fetch_request_decode(buf, FETCH_REQUEST_MAX, &out), 0);
		assert_int_equal(strlen(out.vm), FETCH_NAME_MAX);
	}
}

/* What each op takes, as the daemon checks it before acting. */
static void test_fields(void **state)
{
	struct fetch_request r;

	(void)state;
#define REQ(o, f, t, d) (memset(&r, 0, sizeof(r)), r.op = (o), r.flags = (f), r.timeout_s = (t), \
			 strcpy(r.vm, "web1"), strcpy(r.vdev, (d)), &r)
	/* disk: warm and delta, together too; no force, no timeout */
	assert_null(fetch_request_fields_check(REQ(FETCH_OP_DISK, 0, 0, "xvda")));
	assert_null(fetch_request_fields_check(REQ(FETCH_OP_DISK, FETCH_FLAG_WARM, 0, "xvda")));
	assert_null(fetch_request_fields_check(REQ(FETCH_OP_DISK, FETCH_FLAG_DELTA, 0, "xvda")));
	assert_null(fetch_request_fields_check(REQ(FETCH_OP_DISK, FETCH_FLAG_WARM | FETCH_FLAG_DELTA, 0,
						   "xvda")));
	assert_non_null(fetch_request_fields_check(REQ(FETCH_OP_DISK, FETCH_FLAG_FORCE, 0, "xvda")));
	assert_non_null(fetch_request_fields_check(REQ(FETCH_OP_DISK, 0, 5, "xvda")));
	/* shutdown: force and a timeout of 1 to 3600 s, no disk */
	assert_null(fetch_request_fields_check(REQ(FETCH_OP_SHUTDOWN, FETCH_FLAG_FORCE, 1, "")));
	assert_null(fetch_request_fields_check(REQ(FETCH_OP_SHUTDOWN, 0, FETCH_TIMEOUT_MAX, "")));
	assert_non_null(fetch_request_fields_check(REQ(FETCH_OP_SHUTDOWN, 0, 0, "")));
	assert_non_null(fetch_request_fields_check(REQ(FETCH_OP_SHUTDOWN, 0, FETCH_TIMEOUT_MAX + 1, "")));
	assert_non_null(fetch_request_fields_check(REQ(FETCH_OP_SHUTDOWN, FETCH_FLAG_WARM, 5, "")));
	assert_non_null(fetch_request_fields_check(REQ(FETCH_OP_SHUTDOWN, 0, 5, "xvda")));
	/* the others, start included: nothing at all */
	for (unsigned op = FETCH_OP_LIST; op < _FETCH_OP_MAX; op++) {
		if (op == FETCH_OP_DISK || op == FETCH_OP_SHUTDOWN)
			continue;
		assert_null(fetch_request_fields_check(REQ(op, 0, 0, "")));
		assert_non_null(fetch_request_fields_check(REQ(op, FETCH_FLAG_FORCE, 0, "")));
		assert_non_null(fetch_request_fields_check(REQ(op, FETCH_FLAG_WARM, 0, "")));
		assert_non_null(fetch_request_fields_check(REQ(op, 0, 1, "")));
		assert_non_null(fetch_request_fields_check(REQ(op, 0, 0, "xvda")));
	}
	assert_string_equal(fetch_request_fields_check(REQ(FETCH_OP_START, 0, 30, "")),
			    "flags, a timeout or a disk that it does not take");
#undef REQ
}

static void test_reply(void **state)
{
	static uint8_t buf[FETCH_REPLY_MAX + 16];
	const char *text;
	uint16_t st;
	size_t n, tl;

	(void)state;
	n = fetch_reply_encode(buf, 0, "{\"state\":\"running\"}");
	assert_int_equal(fetch_reply_decode(buf, n, &st, &text, &tl), 0);
	assert_int_equal(st, 0);
	assert_int_equal(tl, strlen("{\"state\":\"running\"}"));
	assert_memory_equal(text, "{\"state\":\"running\"}", tl);
	n = fetch_reply_encode(buf, ETIMEDOUT, "did not shut down");
	assert_int_equal(fetch_reply_decode(buf, n, &st, &text, &tl), 0);
	assert_int_equal(st, ETIMEDOUT);
	assert_int_equal(fetch_reply_decode(buf, 11, &st, &text, &tl), -EBADMSG);
	assert_int_equal(fetch_reply_decode(buf, FETCH_REPLY_MAX + 1, &st, &text, &tl), -EBADMSG);
	buf[0] = 'x';
	assert_int_equal(fetch_reply_decode(buf, n, &st, &text, &tl), -EBADMSG);
}

static void test_vm_names(void **state)
{
	char longname[FETCH_NAME_MAX + 2];

	(void)state;
	assert_true(fetch_vm_name_ok("web1"));
	assert_true(fetch_vm_name_ok("web-1.example_2"));
	assert_false(fetch_vm_name_ok(""));
	assert_false(fetch_vm_name_ok(".hidden"));
	assert_false(fetch_vm_name_ok("../evil"));
	assert_false(fetch_vm_name_ok("a/b"));
	assert_false(fetch_vm_name_ok("a b"));
	assert_false(fetch_vm_name_ok("a\tb"));
	assert_false(fetch_vm_name_ok("\x1b[2J"));
	memset(longname, 'a', sizeof(longname));
	longname[FETCH_NAME_MAX] = '\0';
	assert_true(fetch_vm_name_ok(longname));
	longname[FETCH_NAME_MAX] = 'a';
	longname[FETCH_NAME_MAX + 1] = '\0';
	assert_false(fetch_vm_name_ok(longname));
}

/* ---- over a channel ------------------------------------------------------- */

struct side {
	int fd;
	uint8_t priv[KEY_LEN], peer[KEY_LEN];
	enum stream_role role;
	struct stream_chan *ch;
	int r;
};

static void *handshake(void *arg)
{
	struct side *s = arg;
	struct stream_auth auth = { .local_priv = s->priv, .n_peers = 1 };
	char err[256];

	auth.peers = (const uint8_t (*)[KEY_LEN])s->peer;
	s->r = stream_handshake(s->fd, s->role, &auth, 5000, &s->ch, NULL, err, sizeof(err));
	return NULL;
}

static void test_over_channel(void **state)
{
	struct side a = { .role = STREAM_INITIATOR }, b = { .role = STREAM_RESPONDER };
	struct fetch_request req = { .op = FETCH_OP_SHUTDOWN, .flags = FETCH_FLAG_FORCE, .timeout_s = 60 }, got;
	uint8_t pa[KEY_LEN], pb[KEY_LEN];
	char text[128];
	pthread_t t;
	uint16_t st;
	int sv[2];

	(void)state;
	assert_true(sodium_init() >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	randombytes_buf(a.priv, KEY_LEN);
	randombytes_buf(b.priv, KEY_LEN);
	crypto_scalarmult_base(pa, a.priv);
	crypto_scalarmult_base(pb, b.priv);
	memcpy(a.peer, pb, KEY_LEN);
	memcpy(b.peer, pa, KEY_LEN);
	a.fd = sv[0];
	b.fd = sv[1];
	pthread_create(&t, NULL, handshake, &b);
	handshake(&a);
	pthread_join(t, NULL);
	assert_int_equal(a.r, 0);
	assert_int_equal(b.r, 0);

	strcpy(req.vm, "web1");
	assert_int_equal(fetch_send_request(a.ch, a.fd, &req), 0);
	assert_int_equal(fetch_recv_request(b.ch, b.fd, 1000, &got), 0);
	assert_int_equal(got.op, FETCH_OP_SHUTDOWN);
	assert_int_equal(got.timeout_s, 60);
	assert_int_equal(got.flags, FETCH_FLAG_FORCE);
	assert_int_equal(fetch_send_reply(b.ch, b.fd, 0, "{\"result\":\"shut off\"}"), 0);
	assert_int_equal(fetch_recv_reply(a.ch, a.fd, 1000, &st, text, sizeof(text)), 0);
	assert_int_equal(st, 0);
	assert_string_equal(text, "{\"result\":\"shut off\"}");
	/* a reply longer than the buffer is cut, NUL-terminated */
	assert_int_equal(fetch_send_reply(b.ch, b.fd, ETIMEDOUT, "0123456789"), 0);
	assert_int_equal(fetch_recv_reply(a.ch, a.fd, 1000, &st, text, 5), 0);
	assert_int_equal(st, ETIMEDOUT);
	assert_string_equal(text, "0123");
	/* nothing comes: a timeout */
	assert_int_equal(fetch_recv_reply(a.ch, a.fd, 100, &st, text, sizeof(text)), -ETIMEDOUT);
	stream_chan_free(a.ch);
	stream_chan_free(b.ch);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_list_disk),
		cmocka_unit_test(test_v2_ops),
		cmocka_unit_test(test_decode_checks),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_vm_names),
		cmocka_unit_test(test_over_channel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
