/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Disk stream handshake and channel (stream.h, stream_chan.h).
 *
 * Records: AES-256-GCM with a per-direction frame counter as nonce when both
 * CPUs have AES-NI (hello flag), else crypto_secretstream_xchacha20poly1305.
 *
 * Handshake, Noise-KK in spirit (both static keys known in advance), built
 * from crypto_scalarmult and keyed BLAKE2b (crypto_generichash) as the KDF:
 *
 *   I -> R  hello_i                        16 bytes: magic, version, flags
 *   R -> I  hello_r                        (a plain/encrypted mismatch stops here)
 *   I -> R  E_i, tag1                      tag1 proves I holds s_i and saw S_r
 *   R -> I  E_r, tag2                      tag2 proves R holds s_r and e_r
 *   both    secretstream header for their sending direction
 *
 *   h0   = H("bridged-stream-v1" || hello_i || hello_r || S_i || S_r)
 *   ck1  = H_h0 (DH(e_i, S_r) || DH(s_i, S_r))          tag1 = H_ck1("m1" || E_i)
 *   ck2  = H_ck1(DH(e_r, E_i) || DH(e_r, S_i))          tag2 = H_ck2("m2" || E_i || E_r)
 *   k_i2r = H_ck2("i2r"), k_r2i = H_ck2("r2i")
 *
 * The responder knows which initiators it accepts (peers[]) and tries each.
 * The ephemeral keys give forward secrecy; a replayed first message gets
 * nowhere because the keys depend on e_r and the first frame must decrypt.
 */
#include "migrate/stream/stream_chan.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <sodium.h>

#include "migrate/stream/stream_wire.h"

#define HS_MAGIC "BRSTRM01"
#define HS_VERSION 1
#define HS_FLAG_PLAIN 0x0001
#define HS_FLAG_AESGCM 0x0002	/* this side has AES-NI: AES-256-GCM if both do */
#define SS_HDR crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

struct chan_dir {
	crypto_aead_aes256gcm_state gcm;	/* first: 16-byte aligned */
	uint64_t ctr;				/* AES-GCM: the frame counter (nonce) */
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t *buf;		/* frame scratch: prefix + ciphertext */
	size_t cap;
	uint64_t bytes;
};

enum chan_cipher {
	CHAN_PLAIN,
	CHAN_XCHACHA,		/* crypto_secretstream_xchacha20poly1305 */
	CHAN_AESGCM,		/* crypto_aead_aes256gcm, counter nonces */
	CHAN_CIPHER_MAX,
};

static const char *const cipher_names[CHAN_CIPHER_MAX] = {
	[CHAN_PLAIN] = "none",
	[CHAN_XCHACHA] = "xchacha20poly1305",
	[CHAN_AESGCM] = "aes256gcm",
};

struct stream_chan {
	struct chan_dir tx, rx;
	bool encrypted;
	enum chan_cipher cipher;
};

/* sodium_malloc aligns the end of the region to a page: a size that is a
 * multiple of 64 keeps the AES-GCM states aligned. */
#define CHAN_ALLOC_SIZE ((sizeof(struct stream_chan) + 63) & ~(size_t)63)

static void gcm_nonce(uint8_t n[crypto_aead_aes256gcm_NPUBBYTES], uint64_t ctr)
{
	memset(n, 0, crypto_aead_aes256gcm_NPUBBYTES);
	put_le64(n + 4, ctr);
}

int io_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int io_read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int io_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;	/* the source shrank */
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int io_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENOSPC;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int dir_reserve(struct chan_dir *d, size_t need)
{
	uint8_t *p;

	if (d->cap >= need)
		return 0;
	p = realloc(d->buf, need);
	if (!p)
		return -ENOMEM;
	d->buf = p;
	d->cap = need;
	return 0;
}

int chan_send(struct stream_chan *ch, int fd, const void *a, size_t alen,
	      const void *b, size_t blen)
{
	size_t mlen = alen + blen, flen;
	uint8_t pre[4];
	int r;

	if (mlen > SMSG_MAX_LEN)
		return -EMSGSIZE;
	if (!ch->encrypted) {
		struct iovec iov[3] = {
			{ pre, 4 }, { (void *)a, alen }, { (void *)b, blen },
		};
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = blen ? 3 : 2 };
		size_t left = 4 + mlen;

		put_le32(pre, (uint32_t)mlen);
		while (left > 0) {
			ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			left -= (size_t)n;
			/* Advance the iovecs past what went out. */
			while (n > 0 && mh.msg_iovlen > 0) {
				if ((size_t)n >= mh.msg_iov->iov_len) {
					n -= (ssize_t)mh.msg_iov->iov_len;
					mh.msg_iov++;
					mh.msg_iovlen--;
				} else {
					mh.msg_iov->iov_base = (uint8_t *)mh.msg_iov->iov_base + n;
					mh.msg_iov->iov_len -= (size_t)n;
					n = 0;
				}
			}
		}
		ch->tx.bytes += 4 + mlen;
		return 0;
	}
	flen = mlen + (ch->cipher == CHAN_AESGCM ? crypto_aead_aes256gcm_ABYTES : SS_ABYTES);
	/* secretstream seals one contiguous message: gather a and b first,
	 * behind the room for the prefix and the ciphertext. */
	r = dir_reserve(&ch->tx, 4 + flen + (blen ? mlen : 0));
	if (r < 0)
		return r;
	{
		const uint8_t *plain = a;

		if (blen) {
			uint8_t *p = ch->tx.buf + 4 + flen;

			memcpy(p, a, alen);
			memcpy(p + alen, b, blen);
			plain = p;
		}
		put_le32(ch->tx.buf, (uint32_t)flen);
		if (ch->cipher == CHAN_AESGCM) {
			uint8_t n[crypto_aead_aes256gcm_NPUBBYTES];

			/* One key per direction, the counter never repeats. */
			gcm_nonce(n, ch->tx.ctr++);
			crypto_aead_aes256gcm_encrypt_afternm(ch->tx.buf + 4, NULL, plain, mlen,
							      NULL, 0, NULL, n, &ch->tx.gcm);
		} else {
			crypto_secretstream_xchacha20poly1305_push(&ch->tx.st, ch->tx.buf + 4, NULL,
								   plain, mlen, NULL, 0, 0);
		}
	}
	r = io_write_all(fd, ch->tx.buf, 4 + flen);
	if (r < 0)
		return r;
	ch->tx.bytes += 4 + flen;
	return 0;
}

int chan_recv(struct stream_chan *ch, int fd, uint8_t *buf, size_t cap, size_t *ret_len)
{
	uint8_t pre[4];
	uint32_t flen;
	unsigned long long mlen;
	unsigned char tag;
	int r;

	r = io_read_full(fd, pre, 4);
	if (r < 0)
		return r;
	flen = get_le32(pre);
	if (!ch->encrypted) {
		if (flen > cap || flen > SMSG_MAX_LEN)
			return -EBADMSG;
		r = io_read_full(fd, buf, flen);
		if (r < 0)
			return r;
		ch->rx.bytes += 4 + (uint64_t)flen;
		*ret_len = flen;
		return 0;
	}
	{
		size_t ab = ch->cipher == CHAN_AESGCM ? crypto_aead_aes256gcm_ABYTES : SS_ABYTES;

		if (flen < ab || flen - ab > cap || flen > SMSG_MAX_LEN + ab)
			return -EBADMSG;
	}
	r = dir_reserve(&ch->rx, flen);
	if (r < 0)
		return r;
	r = io_read_full(fd, ch->rx.buf, flen);
	if (r < 0)
		return r;
	ch->rx.bytes += 4 + (uint64_t)flen;
	if (ch->cipher == CHAN_AESGCM) {
		uint8_t n[crypto_aead_aes256gcm_NPUBBYTES];

		/* The expected counter: a dropped, replayed or reordered frame
		 * does not authenticate. */
		gcm_nonce(n, ch->rx.ctr++);
		if (crypto_aead_aes256gcm_decrypt_afternm(buf, &mlen, NULL, ch->rx.buf, flen,
							  NULL, 0, n, &ch->rx.gcm) != 0)
			return -EBADMSG;
		(void)tag;
	} else if (crypto_secretstream_xchacha20poly1305_pull(&ch->rx.st, buf, &mlen, &tag,
							      ch->rx.buf, flen, NULL, 0) != 0) {
		return -EBADMSG;
	}
	*ret_len = (size_t)mlen;
	return 0;
}

uint64_t chan_bytes_out(const struct stream_chan *ch) { return ch->tx.bytes; }
uint64_t chan_bytes_in(const struct stream_chan *ch) { return ch->rx.bytes; }
bool stream_chan_encrypted(const struct stream_chan *ch) { return ch->encrypted; }
const char *stream_chan_cipher(const struct stream_chan *ch) { return cipher_names[ch->cipher]; }

void stream_chan_free(struct stream_chan *ch)
{
	if (!ch)
		return;
	free(ch->tx.buf);
	free(ch->rx.buf);
	sodium_free(ch);
}

void stream_errf(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static int set_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

static void hello_encode(uint8_t *h, bool plain, bool aesgcm)
{
	memset(h, 0, HS_HELLO_LEN);
	memcpy(h, HS_MAGIC, 8);
	h[8] = HS_VERSION;
	h[10] = (plain ? HS_FLAG_PLAIN : 0) | (aesgcm ? HS_FLAG_AESGCM : 0);
}

/* H_key(a || b || c): keyed BLAKE2b-256; key may be NULL. */
static void kdf(uint8_t out[32], const uint8_t *key, const void *a, size_t alen,
		const void *b, size_t blen, const void *c, size_t clen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, key ? 32 : 0, 32);
	if (alen)
		crypto_generichash_update(&st, a, alen);
	if (blen)
		crypto_generichash_update(&st, b, blen);
	if (clen)
		crypto_generichash_update(&st, c, clen);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}

/* Secrets of one handshake, in sodium_malloc'd memory. */
struct hs {
	uint8_t e_priv[32], e_pub[32], s_pub[32], peer_s[32], peer_e[32];
	uint8_t dh1[32], dh2[32];
	uint8_t h0[32], ck1[32], ck2[32], tag[32];
	uint8_t k_tx[32], k_rx[32];
	uint8_t msg[HS_MSG_LEN];
};

static void h0_compute(struct hs *s, const uint8_t *hello_i, const uint8_t *hello_r,
		       const uint8_t *s_i, const uint8_t *s_r)
{
	static const char label[] = "bridged-stream-v1";
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label) - 1);
	crypto_generichash_update(&st, hello_i, HS_HELLO_LEN);
	crypto_generichash_update(&st, hello_r, HS_HELLO_LEN);
	crypto_generichash_update(&st, s_i, 32);
	crypto_generichash_update(&st, s_r, 32);
	crypto_generichash_final(&st, s->h0, 32);
}

static int hs_dh(uint8_t out[32], const uint8_t *priv, const uint8_t *pub)
{
	/* -1 for a low-order public key: an all-zero shared secret. */
	return crypto_scalarmult(out, priv, pub) == 0 ? 0 : -EACCES;
}

static int chan_start(struct stream_chan *ch, int fd, struct hs *s)
{
	uint8_t hdr[SS_HDR], peer_hdr[SS_HDR];
	int r;

	if (ch->cipher == CHAN_AESGCM) {
		crypto_aead_aes256gcm_beforenm(&ch->tx.gcm, s->k_tx);
		crypto_aead_aes256gcm_beforenm(&ch->rx.gcm, s->k_rx);
		return 0;
	}
	crypto_secretstream_xchacha20poly1305_init_push(&ch->tx.st, hdr, s->k_tx);
	r = io_write_all(fd, hdr, sizeof(hdr));
	if (r < 0)
		return r;
	r = io_read_full(fd, peer_hdr, sizeof(peer_hdr));
	if (r < 0)
		return r;
	if (crypto_secretstream_xchacha20poly1305_init_pull(&ch->rx.st, peer_hdr, s->k_rx) != 0)
		return -EPROTO;
	ch->tx.bytes += SS_HDR;
	ch->rx.bytes += SS_HDR;
	return 0;
}

static int hs_initiator(int fd, const struct stream_auth *auth, struct hs *s,
			const uint8_t *hello_i, const uint8_t *hello_r,
			char *errbuf, size_t errlen)
{
	int r;

	memcpy(s->peer_s, auth->peers[0], 32);
	h0_compute(s, hello_i, hello_r, s->s_pub, s->peer_s);
	if (hs_dh(s->dh1, s->e_priv, s->peer_s) < 0 || hs_dh(s->dh2, auth->local_priv, s->peer_s) < 0) {
		stream_errf(errbuf, errlen, "the peer key is not a usable X25519 public key");
		return -EINVAL;
	}
	kdf(s->ck1, s->h0, s->dh1, 32, s->dh2, 32, NULL, 0);
	kdf(s->tag, s->ck1, "m1", 2, s->e_pub, 32, NULL, 0);
	memcpy(s->msg, s->e_pub, 32);
	memcpy(s->msg + 32, s->tag, 32);
	r = io_write_all(fd, s->msg, HS_MSG_LEN);
	if (r < 0)
		goto io;
	r = io_read_full(fd, s->msg, HS_MSG_LEN);
	if (r < 0) {
		if (r == -ECONNRESET)
			stream_errf(errbuf, errlen, "the peer closed the handshake: it does not accept our key "
			     "(check its --peer-key)");
		else
			goto io;
		return -EACCES;
	}
	memcpy(s->peer_e, s->msg, 32);
	if (hs_dh(s->dh1, s->e_priv, s->peer_e) < 0 || hs_dh(s->dh2, auth->local_priv, s->peer_e) < 0)
		goto denied;
	kdf(s->ck2, s->ck1, s->dh1, 32, s->dh2, 32, NULL, 0);
	kdf(s->tag, s->ck2, "m2", 2, s->e_pub, 32, s->peer_e, 32);
	if (sodium_memcmp(s->tag, s->msg + 32, 32) != 0)
		goto denied;
	kdf(s->k_tx, s->ck2, "i2r", 3, NULL, 0, NULL, 0);
	kdf(s->k_rx, s->ck2, "r2i", 3, NULL, 0, NULL, 0);
	return 0;
denied:
	stream_errf(errbuf, errlen, "peer not authenticated: it does not hold the private key of --peer-key");
	return -EACCES;
io:
	stream_errf(errbuf, errlen, "handshake: %s", strerror(-r));
	return r;
}

static int hs_responder(int fd, const struct stream_auth *auth, struct hs *s,
			const uint8_t *hello_i, const uint8_t *hello_r, unsigned *ret_peer,
			char *errbuf, size_t errlen)
{
	unsigned i;
	int r;

	r = io_read_full(fd, s->msg, HS_MSG_LEN);
	if (r < 0) {
		stream_errf(errbuf, errlen, "handshake: %s", strerror(-r));
		return r;
	}
	memcpy(s->peer_e, s->msg, 32);
	for (i = 0; i < auth->n_peers; i++) {
		h0_compute(s, hello_i, hello_r, auth->peers[i], s->s_pub);
		if (hs_dh(s->dh1, auth->local_priv, s->peer_e) < 0 ||
		    hs_dh(s->dh2, auth->local_priv, auth->peers[i]) < 0)
			continue;
		kdf(s->ck1, s->h0, s->dh1, 32, s->dh2, 32, NULL, 0);
		kdf(s->tag, s->ck1, "m1", 2, s->peer_e, 32, NULL, 0);
		if (sodium_memcmp(s->tag, s->msg + 32, 32) == 0)
			break;
	}
	if (i == auth->n_peers) {
		stream_errf(errbuf, errlen, "peer not authenticated: its key is not the --peer-key we accept");
		return -EACCES;
	}
	memcpy(s->peer_s, auth->peers[i], 32);
	if (hs_dh(s->dh1, s->e_priv, s->peer_e) < 0 || hs_dh(s->dh2, s->e_priv, s->peer_s) < 0) {
		stream_errf(errbuf, errlen, "peer not authenticated: bad ephemeral key");
		return -EACCES;
	}
	kdf(s->ck2, s->ck1, s->dh1, 32, s->dh2, 32, NULL, 0);
	kdf(s->tag, s->ck2, "m2", 2, s->peer_e, 32, s->e_pub, 32);
	memcpy(s->msg, s->e_pub, 32);
	memcpy(s->msg + 32, s->tag, 32);
	r = io_write_all(fd, s->msg, HS_MSG_LEN);
	if (r < 0) {
		stream_errf(errbuf, errlen, "handshake: %s", strerror(-r));
		return r;
	}
	kdf(s->k_rx, s->ck2, "i2r", 3, NULL, 0, NULL, 0);
	kdf(s->k_tx, s->ck2, "r2i", 3, NULL, 0, NULL, 0);
	*ret_peer = i;
	return 0;
}

int stream_handshake(int fd, enum stream_role role, const struct stream_auth *auth,
		     int timeout_ms, struct stream_chan **ret_chan, unsigned *ret_peer,
		     char *errbuf, size_t errlen)
{
	uint8_t hello_i[HS_HELLO_LEN], hello_r[HS_HELLO_LEN], ours[HS_HELLO_LEN];
	uint8_t *theirs;
	struct stream_chan *ch = NULL;
	struct hs *s = NULL;
	unsigned peer = 0;
	bool peer_plain;
	int r;

	if (sodium_init() < 0)
		return -EIO;
	if (!auth->plain && (!auth->local_priv || auth->n_peers == 0 ||
			     (role == STREAM_INITIATOR && auth->n_peers != 1))) {
		stream_errf(errbuf, errlen, "no keys: give our private key and the peer's public key, or --plain");
		return -EINVAL;
	}
	r = set_timeout(fd, timeout_ms);
	if (r < 0)
		return r;
	hello_encode(ours, auth->plain, !auth->plain && !auth->no_aesgcm &&
		     crypto_aead_aes256gcm_is_available());
	if (role == STREAM_INITIATOR) {
		memcpy(hello_i, ours, HS_HELLO_LEN);
		theirs = hello_r;
		r = io_write_all(fd, ours, HS_HELLO_LEN);
		if (r == 0)
			r = io_read_full(fd, hello_r, HS_HELLO_LEN);
	} else {
		memcpy(hello_r, ours, HS_HELLO_LEN);
		theirs = hello_i;
		r = io_read_full(fd, hello_i, HS_HELLO_LEN);
		if (r == 0 && memcmp(hello_i, HS_MAGIC, 8) == 0)
			r = io_write_all(fd, ours, HS_HELLO_LEN);
	}
	if (r < 0) {
		stream_errf(errbuf, errlen, "handshake: %s", strerror(-r));
		goto out;
	}
	if (memcmp(theirs, HS_MAGIC, 8) != 0 || theirs[8] != HS_VERSION) {
		stream_errf(errbuf, errlen, "the peer does not speak the bridged disk stream (version 1)");
		r = -EPROTO;
		goto out;
	}
	peer_plain = theirs[10] & HS_FLAG_PLAIN;
	if (peer_plain != auth->plain) {
		stream_errf(errbuf, errlen, "mode mismatch: the peer %s --plain, we %s",
		     peer_plain ? "uses" : "does not use", auth->plain ? "do" : "do not");
		r = -EPROTO;
		goto out;
	}
	ch = sodium_malloc(CHAN_ALLOC_SIZE);
	if (!ch) {
		r = -ENOMEM;
		goto out;
	}
	memset(ch, 0, sizeof(*ch));
	/* Both hellos are in the transcript (h0): a downgrade does not
	 * authenticate. */
	ch->cipher = auth->plain ? CHAN_PLAIN :
		     (ours[10] & theirs[10] & HS_FLAG_AESGCM) ? CHAN_AESGCM : CHAN_XCHACHA;
	ch->tx.bytes = ch->rx.bytes = 2 * HS_HELLO_LEN;
	if (!auth->plain) {
		s = sodium_malloc(sizeof(*s));
		if (!s) {
			r = -ENOMEM;
			goto out;
		}
		crypto_box_keypair(s->e_pub, s->e_priv);
		crypto_scalarmult_base(s->s_pub, auth->local_priv);
		if (role == STREAM_INITIATOR)
			r = hs_initiator(fd, auth, s, hello_i, hello_r, errbuf, errlen);
		else
			r = hs_responder(fd, auth, s, hello_i, hello_r, &peer, errbuf, errlen);
		if (r < 0)
			goto out;
		ch->encrypted = true;
		r = chan_start(ch, fd, s);
		if (r < 0) {
			stream_errf(errbuf, errlen, "handshake: %s", strerror(-r));
			goto out;
		}
		ch->tx.bytes += HS_MSG_LEN;
		ch->rx.bytes += HS_MSG_LEN;
	}
	r = set_timeout(fd, 0);
	if (r < 0)
		goto out;
	*ret_chan = ch;
	ch = NULL;
	if (ret_peer)
		*ret_peer = peer;
out:
	if (s)
		sodium_free(s);	/* wipes it */
	stream_chan_free(ch);
	return r;
}
