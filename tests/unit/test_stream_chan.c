/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit test: disk stream handshake and channel (migrate/stream/stream_chan.c),
 * both ends over a socketpair, the responder in a thread. */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
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

#include "migrate/stream/stream.h"
#include "migrate/stream/stream_chan.h"

struct side {
	uint8_t priv[32], pub[32];
};

struct resp_arg {
	int fd;
	struct stream_auth auth;
	struct stream_chan *ch;
	unsigned peer;
	int r;
	char err[256];
};

static void *responder(void *v)
{
	struct resp_arg *a = v;

	a->r = stream_handshake(a->fd, STREAM_RESPONDER, &a->auth, 5000, &a->ch, &a->peer,
				a->err, sizeof(a->err));
	if (a->r < 0)
		close(a->fd);	/* as the CLI does: the initiator sees EOF */
	return NULL;
}

static void keypair(struct side *s)
{
	crypto_box_keypair(s->pub, s->priv);
}

/* Runs both ends; returns the initiator's result, fills *ra. */
static int run(struct stream_auth *ia, struct resp_arg *ra, struct stream_chan **ich, int sp[2])
{
	pthread_t t;
	char err[256];
	int r;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ra->fd = sp[1];
	pthread_create(&t, NULL, responder, ra);
	r = stream_handshake(sp[0], STREAM_INITIATOR, ia, 5000, ich, NULL, err, sizeof(err));
	pthread_join(t, NULL);
	return r;
}

/* *state: force XChaCha20-Poly1305 (else AES-256-GCM where both have AES-NI). */
static void test_handshake_and_records(void **state)
{
	bool no_aes = *(bool *)*state;
	struct side i, r, other;
	uint8_t iallowed[1][32], rallowed[2][32], buf[256];
	struct stream_auth ia = { 0 };
	struct resp_arg ra = { 0 };
	struct stream_chan *ich = NULL;
	int sp[2], sp2[2];
	size_t len;

	keypair(&i);
	keypair(&r);
	keypair(&other);
	memcpy(iallowed[0], r.pub, 32);
	memcpy(rallowed[0], other.pub, 32);
	memcpy(rallowed[1], i.pub, 32);
	ia = (struct stream_auth){ .local_priv = i.priv, .peers = (const uint8_t (*)[32])iallowed, .n_peers = 1,
				   .no_aesgcm = no_aes };
	ra.auth = (struct stream_auth){ .local_priv = r.priv, .peers = (const uint8_t (*)[32])rallowed, .n_peers = 2 };
	assert_int_equal(run(&ia, &ra, &ich, sp), 0);
	if (no_aes || !crypto_aead_aes256gcm_is_available())
		assert_string_equal(stream_chan_cipher(ich), "xchacha20poly1305");
	else
		assert_string_equal(stream_chan_cipher(ich), "aes256gcm");
	assert_string_equal(stream_chan_cipher(ra.ch), stream_chan_cipher(ich));
	assert_int_equal(ra.r, 0);
	assert_int_equal(ra.peer, 1);	/* the second allowed key */
	assert_true(stream_chan_encrypted(ich));

	/* both directions, a || b gathered */
	assert_int_equal(chan_send(ich, sp[0], "hello ", 6, "world", 5), 0);
	assert_int_equal(chan_recv(ra.ch, sp[1], buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(buf, "hello world", 11);
	assert_int_equal(chan_send(ra.ch, sp[1], "back", 4, NULL, 0), 0);
	assert_int_equal(chan_recv(ich, sp[0], buf, sizeof(buf), &len), 0);
	assert_memory_equal(buf, "back", 4);

	/* a frame replayed does not authenticate */
	{
		uint8_t raw[64];
		ssize_t n;

		assert_int_equal(chan_send(ich, sp[0], "once", 4, NULL, 0), 0);
		n = read(sp[1], raw, sizeof(raw));
		assert_true(n > 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp2), 0);
		assert_int_equal(write(sp2[0], raw, (size_t)n), n);
		assert_int_equal(write(sp2[0], raw, (size_t)n), n);
		assert_int_equal(chan_recv(ra.ch, sp2[1], buf, sizeof(buf), &len), 0);
		assert_memory_equal(buf, "once", 4);
		assert_int_equal(chan_recv(ra.ch, sp2[1], buf, sizeof(buf), &len), -EBADMSG);
		close(sp2[0]);
		close(sp2[1]);
	}
	/* one flipped bit in flight: the frame does not authenticate */
	{
		uint8_t raw[64];
		ssize_t n;

		assert_int_equal(chan_send(ich, sp[0], "secret", 6, NULL, 0), 0);
		n = read(sp[1], raw, sizeof(raw));
		assert_int_equal(n, 4 + 6 + (strcmp(stream_chan_cipher(ich), "aes256gcm") ? 17 : 16));
		assert_memory_not_equal(raw + 4 + 1, "secret", 6);	/* encrypted */
		raw[10] ^= 0x40;
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp2), 0);
		assert_int_equal(write(sp2[0], raw, (size_t)n), n);
		assert_int_equal(chan_recv(ra.ch, sp2[1], buf, sizeof(buf), &len), -EBADMSG);
		close(sp2[0]);
		close(sp2[1]);
	}
	/* too long for the buffer */
	assert_int_equal(chan_send(ich, sp[0], buf, 200, NULL, 0), 0);
	assert_int_equal(chan_recv(ra.ch, sp[1], buf, 100, &len), -EBADMSG);
	stream_chan_free(ich);
	stream_chan_free(ra.ch);
	close(sp[0]);
	close(sp[1]);
}

/* Copies bytes both ways between a and b, recording what goes a -> b,
 * until a closes. No cmocka assertion in the thread: failed is checked
 * after the join. */
struct relay {
	int a, b;
	uint8_t rec[4096];
	size_t n;
	bool failed;
};

static void *relay(void *v)
{
	struct relay *rl = v;
	struct pollfd p[2] = { { .fd = rl->a, .events = POLLIN }, { .fd = rl->b, .events = POLLIN } };
	uint8_t buf[4096];
	ssize_t n;

	while (poll(p, 2, 5000) > 0) {
		if (p[0].revents) {
			n = read(rl->a, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (rl->n + (size_t)n > sizeof(rl->rec) || write(rl->b, buf, (size_t)n) != n) {
				rl->failed = true;
				break;
			}
			memcpy(rl->rec + rl->n, buf, (size_t)n);
			rl->n += (size_t)n;
		}
		if (p[1].revents) {
			n = read(rl->b, buf, sizeof(buf));
			if (n <= 0 || write(rl->a, buf, (size_t)n) != n) {
				rl->failed = true;
				break;
			}
		}
	}
	return NULL;
}

/* Feeds bytes recorded from an initiator to a fresh responder (unthreaded:
 * everything fits in the socket buffers); returns its handshake result. */
static int replay_to(const uint8_t *rec, size_t len, const struct stream_auth *auth,
		     struct stream_chan **ret_ch, int sp[2], char *err, size_t errlen)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(write(sp[0], rec, len), (ssize_t)len);
	shutdown(sp[0], SHUT_WR);
	return stream_handshake(sp[1], STREAM_RESPONDER, auth, 1000, ret_ch, NULL, err, errlen);
}

/* Handshake: 16-byte hellos, then 48-byte Noise KK messages. */
#define OFF_MSG1 16
#define OFF_AFTER_MSG1 (16 + 48)

/* A recorded session replayed, and its first message altered. *state as
 * in test_handshake_and_records. */
static void test_replay_and_tamper(void **state)
{
	bool no_aes = *(bool *)*state;
	struct side i, r;
	uint8_t iallowed[1][32], rallowed[1][32], buf[64], rec[4096];
	struct stream_auth ia, rauth;
	struct resp_arg ra = { 0 };
	struct stream_chan *ich = NULL, *ch = NULL;
	struct relay rl = { 0 };
	pthread_t tr, tl;
	int si[2], sr[2], sp[2], ret;
	char err[256];
	size_t len, n;

	keypair(&i);
	keypair(&r);
	memcpy(iallowed[0], r.pub, 32);
	memcpy(rallowed[0], i.pub, 32);
	ia = (struct stream_auth){ .local_priv = i.priv, .peers = (const uint8_t (*)[32])iallowed, .n_peers = 1,
				   .no_aesgcm = no_aes };
	rauth = (struct stream_auth){ .local_priv = r.priv, .peers = (const uint8_t (*)[32])rallowed, .n_peers = 1 };

	/* The recorded session: initiator -> relay -> responder, one frame. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, si), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sr), 0);
	rl.a = si[1];
	rl.b = sr[0];
	ra.fd = sr[1];
	ra.auth = rauth;
	pthread_create(&tl, NULL, relay, &rl);
	pthread_create(&tr, NULL, responder, &ra);
	assert_int_equal(stream_handshake(si[0], STREAM_INITIATOR, &ia, 5000, &ich, NULL, err, sizeof(err)), 0);
	pthread_join(tr, NULL);
	assert_int_equal(ra.r, 0);
	assert_int_equal(chan_send(ich, si[0], "INFO", 4, NULL, 0), 0);
	assert_int_equal(chan_recv(ra.ch, sr[1], buf, sizeof(buf), &len), 0);
	assert_memory_equal(buf, "INFO", 4);
	close(si[0]);
	pthread_join(tl, NULL);
	assert_false(rl.failed);
	n = rl.n;
	memcpy(rec, rl.rec, n);
	assert_true(n > OFF_AFTER_MSG1);
	stream_chan_free(ich);
	stream_chan_free(ra.ch);
	close(si[1]);
	close(sr[0]);
	close(sr[1]);

	/* All of it replayed to a fresh responder: the handshake cannot tell,
	 * but its keys are new (its own ephemeral key) and the recorded frame
	 * does not decrypt. */
	ret = replay_to(rec, n, &rauth, &ch, sp, err, sizeof(err));
	assert_int_equal(ret, 0);
	assert_int_equal(chan_recv(ch, sp[1], buf, sizeof(buf), &len), -EBADMSG);
	stream_chan_free(ch);
	ch = NULL;
	close(sp[0]);
	close(sp[1]);

	/* Message 1 with one bit flipped (in E, in the tag): not authenticated. */
	for (len = OFF_MSG1; len < OFF_AFTER_MSG1; len += 47) {
		rec[len] ^= 0x10;
		assert_int_equal(replay_to(rec, OFF_AFTER_MSG1, &rauth, &ch, sp, err, sizeof(err)), -EACCES);
		assert_non_null(strstr(err, "not authenticated"));
		assert_null(ch);
		rec[len] ^= 0x10;
		close(sp[0]);
		close(sp[1]);
	}
	/* A changed hello (a reserved byte; the AES-NI flag, a downgrade):
	 * it is in the prologue, message 1 no longer authenticates. */
	rec[12] ^= 1;
	assert_int_equal(replay_to(rec, OFF_AFTER_MSG1, &rauth, &ch, sp, err, sizeof(err)), -EACCES);
	rec[12] ^= 1;
	close(sp[0]);
	close(sp[1]);
	if (rec[10] & 0x02) {
		rec[10] &= (uint8_t)~0x02;
		assert_int_equal(replay_to(rec, OFF_AFTER_MSG1, &rauth, &ch, sp, err, sizeof(err)), -EACCES);
		close(sp[0]);
		close(sp[1]);
	}
	/* An older handshake version: refused, and said so. */
	rec[8] = 1;
	assert_int_equal(replay_to(rec, OFF_AFTER_MSG1, &rauth, &ch, sp, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "version 1"));
	close(sp[0]);
	close(sp[1]);
}

static void test_wrong_keys(void **state)
{
	struct side i, r, mallory;
	uint8_t iallowed[1][32], rallowed[1][32];
	struct stream_auth ia;
	struct resp_arg ra = { 0 };
	struct stream_chan *ich = NULL;
	int sp[2];

	(void)state;
	keypair(&i);
	keypair(&r);
	keypair(&mallory);
	/* the responder accepts only i; mallory connects */
	memcpy(iallowed[0], r.pub, 32);
	memcpy(rallowed[0], i.pub, 32);
	ia = (struct stream_auth){ .local_priv = mallory.priv, .peers = (const uint8_t (*)[32])iallowed, .n_peers = 1 };
	ra.auth = (struct stream_auth){ .local_priv = r.priv, .peers = (const uint8_t (*)[32])rallowed, .n_peers = 1 };
	assert_int_equal(run(&ia, &ra, &ich, sp), -EACCES);
	assert_int_equal(ra.r, -EACCES);
	assert_null(ich);
	assert_null(ra.ch);
	close(sp[0]);

	/* the initiator expects r, mallory answers holding r's public key only */
	memset(&ra, 0, sizeof(ra));
	ia = (struct stream_auth){ .local_priv = i.priv, .peers = (const uint8_t (*)[32])iallowed, .n_peers = 1 };
	ra.auth = (struct stream_auth){ .local_priv = mallory.priv, .peers = (const uint8_t (*)[32])rallowed, .n_peers = 1 };
	assert_int_not_equal(run(&ia, &ra, &ich, sp), 0);
	assert_int_equal(ra.r, -EACCES);
	close(sp[0]);
}

static void test_plain_and_mismatch(void **state)
{
	struct side i, r;
	uint8_t iallowed[1][32], rallowed[1][32], buf[16];
	struct stream_auth ia;
	struct resp_arg ra = { 0 };
	struct stream_chan *ich = NULL;
	int sp[2];
	size_t len;

	(void)state;
	keypair(&i);
	keypair(&r);
	memcpy(iallowed[0], r.pub, 32);
	memcpy(rallowed[0], i.pub, 32);
	ia = (struct stream_auth){ .plain = true };
	ra.auth = (struct stream_auth){ .plain = true };
	assert_int_equal(run(&ia, &ra, &ich, sp), 0);
	assert_false(stream_chan_encrypted(ich));
	assert_int_equal(chan_send(ich, sp[0], "abc", 3, NULL, 0), 0);
	assert_int_equal(chan_recv(ra.ch, sp[1], buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 3);
	stream_chan_free(ich);
	stream_chan_free(ra.ch);
	close(sp[0]);
	close(sp[1]);

	/* one side plain, the other not: refused on both ends */
	memset(&ra, 0, sizeof(ra));
	ich = NULL;
	ia = (struct stream_auth){ .local_priv = i.priv, .peers = (const uint8_t (*)[32])iallowed, .n_peers = 1 };
	ra.auth = (struct stream_auth){ .plain = true };
	assert_int_equal(run(&ia, &ra, &ich, sp), -EPROTO);
	assert_int_equal(ra.r, -EPROTO);
	assert_non_null(strstr(ra.err, "plain"));
	close(sp[0]);
}

static void test_not_a_peer(void **state)
{
	struct stream_auth ra_auth = { .plain = true };
	struct stream_chan *ch = NULL;
	char err[128];
	int sp[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(write(sp[0], "GET / HTTP/1.0\r\n\r\n", 18), 18);
	assert_int_equal(stream_handshake(sp[1], STREAM_RESPONDER, &ra_auth, 1000, &ch, NULL, err, sizeof(err)),
			 -EPROTO);
	assert_null(ch);
	close(sp[0]);
	close(sp[1]);
}

static bool aes = false, chacha = true;

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(test_handshake_and_records, &aes),
		cmocka_unit_test_prestate(test_handshake_and_records, &chacha),
		cmocka_unit_test_prestate(test_replay_and_tamper, &aes),
		cmocka_unit_test_prestate(test_replay_and_tamper, &chacha),
		cmocka_unit_test(test_wrong_keys),
		cmocka_unit_test(test_plain_and_mismatch),
		cmocka_unit_test(test_not_a_peer),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
