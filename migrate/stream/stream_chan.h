/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The disk stream channel: length-prefixed frames on a stream socket, each
 * sealed with AES-256-GCM or crypto_secretstream_xchacha20poly1305 (one key
 * per direction, from the Noise KK handshake in stream_handshake()) or in
 * clear with --plain. One thread may send while another receives.
 */
#ifndef BRIDGED_MIGRATE_STREAM_CHAN_H
#define BRIDGED_MIGRATE_STREAM_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/stream/stream.h"

/* Bytes of a frame beyond the message: length prefix and AEAD overhead. */
#define CHAN_FRAME_OVERHEAD (4 + 17)

/* Sends one message (a || b, b may be empty). 0 or -errno. */
int chan_send(struct stream_chan *ch, int fd, const void *a, size_t alen,
	      const void *b, size_t blen);
/* Receives one message into buf (cap bytes). 0 or -errno: -ECONNRESET on a
 * clean EOF, -EBADMSG when the frame fails authentication or is too long. */
int chan_recv(struct stream_chan *ch, int fd, uint8_t *buf, size_t cap, size_t *ret_len);
/* The same for a block: buf has room for cap + CHAN_FRAME_OVERHEAD bytes,
 * an AES-256-GCM record is read into it and opened in place (no second
 * buffer for the ciphertext: half the memory traffic per block). */
int chan_recv_inplace(struct stream_chan *ch, int fd, uint8_t *buf, size_t cap, size_t *ret_len);
/* Wire bytes sent / received so far. */
uint64_t chan_bytes_out(const struct stream_chan *ch);
uint64_t chan_bytes_in(const struct stream_chan *ch);
/* Seconds spent sealing (sending) / opening (receiving) records so far. */
double chan_seal_time(const struct stream_chan *ch);
double chan_open_time(const struct stream_chan *ch);

/* Low-level helpers, shared with the engine. */
int io_write_all(int fd, const void *buf, size_t len);
int io_read_full(int fd, void *buf, size_t len);
/* A frame's payload of len bytes (lowat: woken once it is all there,
 * SO_RCVLOWAT + poll, for len >= 64 KiB; stream_chan.c). 0 or -errno. */
int io_read_frame(int fd, void *buf, size_t len, bool lowat);
int io_pread_full(int fd, void *buf, size_t len, uint64_t off);
int io_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

/* Formats an error message into errbuf (both may be NULL/0: then nothing);
 * shared by the stream files that report errors this way. */
void stream_errf(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
