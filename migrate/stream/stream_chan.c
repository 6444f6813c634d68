/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Disk stream handshake and channel (stream.h, stream_chan.h).
 *
 * Records: AES-256-GCM with a per-direction frame counter as nonce when both
 * CPUs have AES-NI (hello flag), else crypto_secretstream_xchacha20poly1305.
 * AES-256-GCM is OpenSSL's (libcrypto): the same construction as
 * libsodium's crypto_aead_aes256gcm (96-bit nonce, no associated data,
 * ciphertext || 16-byte tag), byte for byte, at twice its speed here
 * (docs/BENCHMARKS.md); the handshake and XChaCha20 stay with libsodium.
 *
 * Handshake (docs/STREAM.md, docs/PROTOCOL.md "One Noise construction, two
 * patterns"): the Noise KK pattern of common/noise.h, the construction the
 * tunnel's IK uses, under its own protocol name and prologue:
 *
 *   I -> R  hello_i                        16 bytes: magic, version, flags
 *   R -> I  hello_r                        (a plain/encrypted mismatch stops here)
 *   I -> R  e, es, ss                      E_i, then an empty payload's tag
 *   R -> I  e, ee, se                      E_r, then an empty payload's tag
 *   both    secretstream header for their sending direction (XChaCha20)
 *
 *   protocol name  "Noise_KK_25519_ChaChaPoly_BLAKE2b"
 *   prologue       "bridged v2 disk stream" || hello_i || hello_r
 *   pre-messages   S_i, S_r (--key, --peer-key)
 *   traffic keys   Split(): k_i2r, k_r2i
 *
 * The responder knows which initiators it accepts (peers[]) and tries each:
 * only the right static key authenticates message 1. The ephemeral keys
 * give forward secrecy; a replayed message 1 gets nowhere because the
 * traffic keys depend on e_r (ee, se) and the first frame must decrypt.
 */
#include "migrate/stream/stream_chan.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "common/noise.h"
#include "migrate/stream/stream_wire.h"

#define HS_MAGIC "BRSTRM01"
/* 1: the handshake before Noise KK; 2: BLAKE2b block checks; 3: XXH3-128
 * block checks; 4: a ZERO record may cover a run of blocks. */
#define HS_VERSION 4
#define HS_HELLO_LEN 16
#define HS_MSG_LEN NOISE_KK_MSG_LEN(0)	/* E, and the tag of an empty payload */
#define HS_FLAG_PLAIN 0x0001
#define HS_FLAG_AESGCM 0x0002	/* this side has AES-NI: AES-256-GCM if both do */
#define SS_HDR crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

#define GCM_NPUB 12
#define GCM_TAG 16

struct chan_dir {
	EVP_CIPHER_CTX *gcm;			/* AES-256-GCM, keyed once */
	uint64_t ctr;				/* AES-GCM: the frame counter (nonce) */
	double crypt_time;			/* seconds sealing / opening */
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
	bool frame_lowat;	/* io_read_frame's wake-up mark (BRIDGED_STREAM_RCVLOWAT=0: none) */
	enum chan_cipher cipher;
};

/* sodium_malloc aligns the end of the region to a page: a size that is a
 * multiple of 64 keeps the AES-GCM states aligned. */
#define CHAN_ALLOC_SIZE ((sizeof(struct stream_chan) + 63) & ~(size_t)63)

static void gcm_nonce(uint8_t n[GCM_NPUB], uint64_t ctr)
{
	memset(n, 0, GCM_NPUB);
	put_le64(n + 4, ctr);
}

static double chan_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One direction's AES-256-GCM context, keyed once; the nonce is set per
 * frame. */
static EVP_CIPHER_CTX *gcm_new(const uint8_t key[32], bool enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (!c)
		return NULL;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GCM_NPUB, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, NULL, enc) != 1) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

/* out = ciphertext || tag (mlen + GCM_TAG bytes). */
static int gcm_seal(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *m, size_t mlen,
		    const uint8_t n[GCM_NPUB])
{
	int l1 = 0, l2 = 0;

	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, n) != 1 ||
	    EVP_EncryptUpdate(c, out, &l1, m, (int)mlen) != 1 ||
	    EVP_EncryptFinal_ex(c, out + l1, &l2) != 1 ||
	    (size_t)(l1 + l2) != mlen ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, out + mlen) != 1)
		return -EIO;
	return 0;
}

/* m = the plaintext of ciphertext || tag (clen bytes); -EBADMSG when it
 * does not authenticate (m then holds nothing to use). */
static int gcm_open(EVP_CIPHER_CTX *c, uint8_t *m, const uint8_t *ct, size_t clen,
		    const uint8_t n[GCM_NPUB])
{
	int l1 = 0, l2 = 0;

	if (clen < GCM_TAG)
		return -EBADMSG;
	if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, n) != 1 ||
	    EVP_DecryptUpdate(c, m, &l1, ct, (int)(clen - GCM_TAG)) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG, (void *)(ct + clen - GCM_TAG)) != 1 ||
	    EVP_DecryptFinal_ex(c, m + l1, &l2) != 1)
		return -EBADMSG;
	return 0;
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

/* A frame's payload, len bytes, from a TCP socket: the reader is woken
 * once the whole payload is there (or as much of it as the kernel lets
 * the mark ask for: tcp_rmem's maximum / 2), not at every segment's
 * arrival (about 16 wake-ups per 1 MiB block on a veth, each a context
 * switch on a core the pipeline's other stages share). SO_RCVLOWAT with
 * poll(): the kernel wakes a poller when that much is unread (or at an
 * error, the end, or when its buffer can take no more), and the read
 * after it does not wait. A blocking read would not do: its wake-up needs
 * the mark's worth beyond what the same read has already copied, and the
 * end of a stream never brings it. The mark goes back to 1 after the
 * frame, so a short message (a verdict, an ack) wakes the reader at once.
 * A descriptor that refuses the option (not a socket) reads as
 * io_read_full; an AF_UNIX socket takes it but its poll ignores it, so
 * it reads correctly without the gain. These reads wait without the
 * socket's receive timeout (SO_RCVTIMEO): after the handshake there is
 * none (stream_handshake), and callers with a timeout read frames under
 * FRAME_LOWAT_MIN. */
#define FRAME_LOWAT_MIN (64 * 1024)

int io_read_frame(int fd, void *buf, size_t len, bool lowat)
{
	uint8_t *p = buf;
	int one = 1, mark = 0, r = 0;	/* mark 0: not set by us */

	if (!lowat || len < FRAME_LOWAT_MIN)
		return io_read_full(fd, buf, len);
	while (len > 0) {
		int want = len > INT_MAX ? INT_MAX : (int)len;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		/* a partial read lowers the mark to what is left: never
		 * more than the rest of this frame is waited for */
		if (want != mark) {
			if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof(want)) < 0) {
				if (!mark)
					return io_read_full(fd, p, len);
				r = -errno;	/* a larger mark stays: reading on could hang */
				break;
			}
			mark = want;
		}
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		n = recv(fd, p, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -ECONNRESET;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (mark)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	return r;
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
	flen = mlen + (ch->cipher == CHAN_AESGCM ? GCM_TAG : SS_ABYTES);
	/* secretstream seals one contiguous message: gather a and b first,
	 * behind the room for the prefix and the ciphertext. */
	r = dir_reserve(&ch->tx, 4 + flen + (blen ? mlen : 0));
	if (r < 0)
		return r;
	{
		const uint8_t *plain = a;
		double t0 = chan_now();

		if (blen) {
			uint8_t *p = ch->tx.buf + 4 + flen;

			memcpy(p, a, alen);
			memcpy(p + alen, b, blen);
			plain = p;
		}
		put_le32(ch->tx.buf, (uint32_t)flen);
		if (ch->cipher == CHAN_AESGCM) {
			uint8_t n[GCM_NPUB];

			/* One key per direction, the counter never repeats. */
			gcm_nonce(n, ch->tx.ctr++);
			r = gcm_seal(ch->tx.gcm, ch->tx.buf + 4, plain, mlen, n);
			if (r < 0)
				return r;
		} else {
			crypto_secretstream_xchacha20poly1305_push(&ch->tx.st, ch->tx.buf + 4, NULL,
								   plain, mlen, NULL, 0, 0);
		}
		ch->tx.crypt_time += chan_now() - t0;
	}
	r = io_write_all(fd, ch->tx.buf, 4 + flen);
	if (r < 0)
		return r;
	ch->tx.bytes += 4 + flen;
	return 0;
}

static int chan_recv_frame(struct stream_chan *ch, int fd, uint8_t *buf, size_t cap,
			   size_t *ret_len, bool inplace)
{
	uint8_t pre[4];
	uint32_t flen;
	unsigned long long mlen;
	unsigned char tag;
	double t0;
	int r;

	r = io_read_full(fd, pre, 4);
	if (r < 0)
		return r;
	flen = get_le32(pre);
	if (inplace && ch->encrypted && ch->cipher == CHAN_AESGCM) {
		uint8_t n[GCM_NPUB];

		if (flen < GCM_TAG || flen - GCM_TAG > cap || flen > SMSG_MAX_LEN + GCM_TAG)
			return -EBADMSG;
		r = io_read_frame(fd, buf, flen, ch->frame_lowat);
		if (r < 0)
			return r;
		ch->rx.bytes += 4 + (uint64_t)flen;
		t0 = chan_now();
		gcm_nonce(n, ch->rx.ctr++);
		r = gcm_open(ch->rx.gcm, buf, buf, flen, n);
		ch->rx.crypt_time += chan_now() - t0;
		if (r < 0)
			return r;
		*ret_len = flen - GCM_TAG;
		return 0;
	}
	if (!ch->encrypted) {
		if (flen > cap || flen > SMSG_MAX_LEN)
			return -EBADMSG;
		r = io_read_frame(fd, buf, flen, ch->frame_lowat);
		if (r < 0)
			return r;
		ch->rx.bytes += 4 + (uint64_t)flen;
		*ret_len = flen;
		return 0;
	}
	{
		size_t ab = ch->cipher == CHAN_AESGCM ? GCM_TAG : SS_ABYTES;

		if (flen < ab || flen - ab > cap || flen > SMSG_MAX_LEN + ab)
			return -EBADMSG;
	}
	r = dir_reserve(&ch->rx, flen);
	if (r < 0)
		return r;
	r = io_read_frame(fd, ch->rx.buf, flen, ch->frame_lowat);
	if (r < 0)
		return r;
	ch->rx.bytes += 4 + (uint64_t)flen;
	t0 = chan_now();
	if (ch->cipher == CHAN_AESGCM) {
		uint8_t n[GCM_NPUB];

		/* The expected counter: a dropped, replayed or reordered frame
		 * does not authenticate. */
		gcm_nonce(n, ch->rx.ctr++);
		r = gcm_open(ch->rx.gcm, buf, ch->rx.buf, flen, n);
		mlen = flen - GCM_TAG;
		(void)tag;
	} else {
		r = crypto_secretstream_xchacha20poly1305_pull(&ch->rx.st, buf, &mlen, &tag,
							       ch->rx.buf, flen, NULL, 0) != 0 ? -EBADMSG : 0;
	}
	ch->rx.crypt_time += chan_now() - t0;
	if (r < 0)
		return r;
	*ret_len = (size_t)mlen;
	return 0;
}

int chan_recv(struct stream_chan *ch, int fd, uint8_t *buf, size_t cap, size_t *ret_len)
{
	return chan_recv_frame(ch, fd, buf, cap, ret_len, false);
}

int chan_recv_inplace(struct stream_chan *ch, int fd, uint8_t *buf, size_t cap, size_t *ret_len)
{
	return chan_recv_frame(ch, fd, buf, cap, ret_len, true);
}

uint64_t chan_bytes_out(const struct stream_chan *ch) { return ch->tx.bytes; }
uint64_t chan_bytes_in(const struct stream_chan *ch) { return ch->rx.bytes; }
double chan_seal_time(const struct stream_chan *ch) { return ch->tx.crypt_time; }
double chan_open_time(const struct stream_chan *ch) { return ch->rx.crypt_time; }
bool stream_chan_encrypted(const struct stream_chan *ch) { return ch->encrypted; }
const char *stream_chan_cipher(const struct stream_chan *ch) { return cipher_names[ch->cipher]; }

void stream_chan_free(struct stream_chan *ch)
{
	if (!ch)
		return;
	free(ch->tx.buf);
	free(ch->rx.buf);
	EVP_CIPHER_CTX_free(ch->tx.gcm);	/* cleanses the key schedule */
	EVP_CIPHER_CTX_free(ch->rx.gcm);
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

static const char hs_protocol[] = "Noise_KK_25519_ChaChaPoly_BLAKE2b";
static const char hs_label[] = "bridged v2 disk stream";
#define HS_PROLOGUE_LEN (sizeof(hs_label) - 1 + 2 * HS_HELLO_LEN)

/* Secrets of one handshake, in sodium_malloc'd memory. */
struct hs {
	struct noise_kk kk;
	struct noise_keys keys;
	uint8_t prologue[HS_PROLOGUE_LEN];
	uint8_t msg[HS_MSG_LEN];
};

/* The prologue binds the hellos (versions, plain, AES-NI flags): a changed
 * hello does not authenticate. */
static void hs_prologue(struct hs *s, const uint8_t *hello_i, const uint8_t *hello_r)
{
	memcpy(s->prologue, hs_label, sizeof(hs_label) - 1);
	memcpy(s->prologue + sizeof(hs_label) - 1, hello_i, HS_HELLO_LEN);
	memcpy(s->prologue + sizeof(hs_label) - 1 + HS_HELLO_LEN, hello_r, HS_HELLO_LEN);
}

static int chan_start(struct stream_chan *ch, int fd, struct hs *s)
{
	uint8_t hdr[SS_HDR], peer_hdr[SS_HDR];
	int r;

	if (ch->cipher == CHAN_AESGCM) {
		ch->tx.gcm = gcm_new(s->keys.send, true);
		ch->rx.gcm = gcm_new(s->keys.recv, false);
		return ch->tx.gcm && ch->rx.gcm ? 0 : -ENOMEM;
	}
	crypto_secretstream_xchacha20poly1305_init_push(&ch->tx.st, hdr, s->keys.send);
	r = io_write_all(fd, hdr, sizeof(hdr));
	if (r < 0)
		return r;
	r = io_read_full(fd, peer_hdr, sizeof(peer_hdr));
	if (r < 0)
		return r;
	if (crypto_secretstream_xchacha20poly1305_init_pull(&ch->rx.st, peer_hdr, s->keys.recv) != 0)
		return -EPROTO;
	ch->tx.bytes += SS_HDR;
	ch->rx.bytes += SS_HDR;
	return 0;
}

static int hs_initiator(int fd, const struct stream_auth *auth, struct hs *s,
			char *errbuf, size_t errlen)
{
	int r;

	r = noise_kk_init(&s->kk, true, hs_protocol, s->prologue, sizeof(s->prologue),
			  auth->local_priv, auth->peers[0]);
	if (r == 0)
		r = noise_kk_write_first(&s->kk, NULL, 0, s->msg);	/* -> e, es, ss */
	if (r < 0) {
		stream_errf(errbuf, errlen, "the peer key is not a usable X25519 public key");
		return -EINVAL;
	}
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
	if (noise_kk_read_second(&s->kk, s->msg, HS_MSG_LEN, NULL, &s->keys) < 0) {	/* <- e, ee, se */
		stream_errf(errbuf, errlen, "peer not authenticated: it does not hold the private key of --peer-key");
		return -EACCES;
	}
	return 0;
io:
	stream_errf(errbuf, errlen, "handshake: %s", strerror(-r));
	return r;
}

static int hs_responder(int fd, const struct stream_auth *auth, struct hs *s,
			unsigned *ret_peer, char *errbuf, size_t errlen)
{
	unsigned i;
	int r;

	r = io_read_full(fd, s->msg, HS_MSG_LEN);
	if (r < 0) {
		stream_errf(errbuf, errlen, "handshake: %s", strerror(-r));
		return r;
	}
	/* KK: the initiator's static key is not in the message; only the
	 * allowed key it holds makes message 1 authenticate. */
	for (i = 0; i < auth->n_peers; i++) {
		if (noise_kk_init(&s->kk, false, hs_protocol, s->prologue, sizeof(s->prologue),
				  auth->local_priv, auth->peers[i]) < 0)
			continue;
		if (noise_kk_read_first(&s->kk, s->msg, HS_MSG_LEN, NULL) == 0)	/* -> e, es, ss */
			break;
	}
	if (i == auth->n_peers) {
		stream_errf(errbuf, errlen, "peer not authenticated: its key is not the --peer-key we accept");
		return -EACCES;
	}
	if (noise_kk_write_second(&s->kk, NULL, 0, s->msg, &s->keys) < 0) {	/* <- e, ee, se */
		stream_errf(errbuf, errlen, "peer not authenticated: bad ephemeral key");
		return -EACCES;
	}
	r = io_write_all(fd, s->msg, HS_MSG_LEN);
	if (r < 0) {
		stream_errf(errbuf, errlen, "handshake: %s", strerror(-r));
		return r;
	}
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
	if (memcmp(theirs, HS_MAGIC, 8) != 0) {
		stream_errf(errbuf, errlen, "the peer does not speak the bridged disk stream (version %d)",
			    HS_VERSION);
		r = -EPROTO;
		goto out;
	}
	if (theirs[8] != HS_VERSION) {
		stream_errf(errbuf, errlen, "the peer speaks version %u of the bridged disk stream, we "
			    "speak %d: update both hosts", (unsigned)theirs[8], HS_VERSION);
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
	/* Both hellos are in the prologue: a downgrade does not
	 * authenticate. */
	ch->cipher = auth->plain ? CHAN_PLAIN :
		     (ours[10] & theirs[10] & HS_FLAG_AESGCM) ? CHAN_AESGCM : CHAN_XCHACHA;
	ch->tx.bytes = ch->rx.bytes = 2 * HS_HELLO_LEN;
	ch->frame_lowat = !stream_knob_off("BRIDGED_STREAM_RCVLOWAT");
	if (!auth->plain) {
		s = sodium_malloc(sizeof(*s));
		if (!s) {
			r = -ENOMEM;
			goto out;
		}
		hs_prologue(s, hello_i, hello_r);
		if (role == STREAM_INITIATOR)
			r = hs_initiator(fd, auth, s, errbuf, errlen);
		else
			r = hs_responder(fd, auth, s, &peer, errbuf, errlen);
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
