/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The disk stream engine (stream.h): the sender's read / hash / send
 * pipeline and the receiver's receive / hash / write pipeline, the resume
 * and delta exchange before them and the verdict after them.
 *
 *   sender                               receiver
 *   INFO (length, block size, flags) ->
 *                                     <- HASHES... (map or destination hashes)
 *                                        or REFUSE (too small, wrong length)
 *   DATA+bytes | ZERO | SAME ...     ->  (blocks the receiver lacks, in order)
 *   END (image hash)                 ->
 *                                     <- RESULT (verdict, differing offsets)
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <xxhash.h>

#include "migrate/stream/stream.h"
#include "migrate/stream/stream_chan.h"
#include "migrate/stream/stream_dev.h"
#include "migrate/stream/stream_map.h"
#include "migrate/stream/stream_pipe.h"
#include "migrate/stream/stream_wire.h"

/* The default window: 32 MiB of blocks in flight per side (32 of 1 MiB),
 * between 4 and 64 slots. Deep enough to cover a write's latency and the
 * stages' jitter on a 10 GbE link (the bandwidth-delay product of a LAN
 * is far below it); the resume bound grows with it (docs/STREAM.md). */
#define WINDOW_BYTES (32u << 20)
#define WINDOW_MIN 4
#define WINDOW_MAX 64
#define CHECKPOINT_DEFAULT 16
#define CHECKPOINT_MAX (1u << 20)	/* as the CLI's --checkpoint */
/* A block of zeros or an unchanged block (delta) weighs 1/CKPT_LIGHT of a
 * data block toward the next checkpoint: resent after an interruption, it
 * costs a record, not its bytes. A mostly-zero 4 GiB image was otherwise
 * 256 checkpoints (each an fdatasync, a map written, an fsync, a rename
 * and an fsync of the folder) for its 205 MiB of data. */
#define CKPT_LIGHT 16
/* Threads of the receiver's write stage when io_uring is not there (the
 * fallback): O_DIRECT writes in flight. */
#define WRITERS 4
/* Block writes in flight through io_uring (docs/BENCHMARKS.md, "Issue 15:
 * the write stage"). */
#define RING_DEPTH 8
/* A regular file destination is allocated ahead of the data (dest_prealloc)
 * by as much as the run of consecutive data blocks so far, at most this:
 * a 1 GiB copy takes about a dozen fallocate calls (each waits for the
 * writes in flight), and a mostly-zero image at most twice its data. */
#define PREALLOC_MAX (256ull << 20)
#define RESULT_BUF (SMSG_RESULT_HDR + 8 * STREAM_BAD_MAX)

static const char *const result_names[STREAM_RESULT_MAX] = {
	[STREAM_RESULT_NONE] = "none",
	[STREAM_RESULT_VERIFIED] = "verified",
	[STREAM_RESULT_MISMATCH] = "mismatch",
	[STREAM_RESULT_INTERRUPTED] = "interrupted",
	[STREAM_RESULT_REFUSED] = "refused",
	[STREAM_RESULT_FAILED] = "failed",
};

const char *stream_result_to_string(enum stream_result r)
{
	return (unsigned)r < STREAM_RESULT_MAX ? result_names[r] : "unknown";
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned window_slots(const struct stream_opts *o, uint32_t bs)
{
	unsigned w = WINDOW_BYTES / bs;

	if (o->window)
		return o->window;
	return w < WINDOW_MIN ? WINDOW_MIN : w > WINDOW_MAX ? WINDOW_MAX : w;
}

/* The per-block check: XXH3-128 of the block's bytes in the first 16 bytes
 * of the 32-byte hash field (canonical, big-endian), zeros after. Records
 * are authenticated by the AEAD in flight; this proves that what was
 * written (and re-read, and compared in a delta) is what was read, against
 * accidents (docs/STREAM.md, "Block checks and the image hash"). */
static void block_hash(uint8_t out[STREAM_HASH_LEN], const void *buf, size_t len)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits(buf, len));
	memcpy(out, c.digest, sizeof(c.digest));
	memset(out + sizeof(c.digest), 0, STREAM_HASH_LEN - sizeof(c.digest));
}

static void report_stages(struct stream_report *rep, const struct pipe_stage *st, unsigned n,
			  const struct pipe_stats *stats, unsigned window)
{
	rep->nstages = n;
	rep->window = window;
	for (unsigned i = 0; i < n && i < STREAM_STAGES_MAX; i++) {
		snprintf(rep->stages[i].name, sizeof(rep->stages[i].name), "%s", st[i].name);
		rep->stages[i].threads = st[i].workers ? st[i].workers : 1;
		rep->stages[i].busy = stats[i].busy;
		rep->stages[i].wait = stats[i].wait;
	}
}

static void image_hash_init(crypto_generichash_state *st, uint64_t length, uint32_t bs)
{
	static const char label[] = "bridged-stream-image-v1";
	uint8_t hdr[12];

	put_le64(hdr, length);
	put_le32(hdr + 8, bs);
	crypto_generichash_init(st, NULL, 0, STREAM_HASH_LEN);
	crypto_generichash_update(st, (const uint8_t *)label, sizeof(label) - 1);
	crypto_generichash_update(st, hdr, sizeof(hdr));
}

/* The hashes of an all-zero full block and tail block, computed once. */
struct zero_hashes {
	uint8_t full[STREAM_HASH_LEN], tail[STREAM_HASH_LEN];
	uint32_t bs, tail_len;
};

static int zero_hashes_init(struct zero_hashes *z, uint64_t length, uint32_t bs)
{
	uint8_t *zeros = calloc(1, bs);

	if (!zeros)
		return -ENOMEM;
	z->bs = bs;
	z->tail_len = (uint32_t)(length % bs);
	block_hash(z->full, zeros, bs);
	block_hash(z->tail, zeros, z->tail_len);
	free(zeros);
	return 0;
}

/* The check of one block of zeros of len bytes: a whole block or the
 * image's tail (a run's are per block: slot_hash). */
static const uint8_t *zero_hash(const struct zero_hashes *z, uint32_t len)
{
	assert(len == z->bs || len == z->tail_len);
	return len == z->bs ? z->full : z->tail;
}

static void source_id(const struct stream_source *src, uint64_t length, uint32_t bs,
		      uint8_t out[STREAM_HASH_LEN])
{
	/* v3: the block checks became XXH3-128; a map of an older version
	 * (BLAKE2b checks) is bound to another id and ignored. */
	static const char label[] = "bridged-stream-source-v3";
	crypto_generichash_state st;
	uint8_t n[12];

	put_le64(n, length);
	put_le32(n + 8, bs);
	crypto_generichash_init(&st, NULL, 0, STREAM_HASH_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label) - 1);
	crypto_generichash_update(&st, (const uint8_t *)src->real, strlen(src->real));
	crypto_generichash_update(&st, n, sizeof(n));
	crypto_generichash_final(&st, out, STREAM_HASH_LEN);
}

static void rep_bad(struct stream_report *rep, uint64_t offset)
{
	if (rep->nbad < STREAM_BAD_MAX)
		rep->bad[rep->nbad] = offset;
	rep->nbad++;
}

static void progress_tick(const struct stream_opts *o, struct stream_report *rep,
			  double t0, double *last)
{
	double t = now_s();

	if (!o->progress || t - *last < 1.0)
		return;
	*last = t;
	rep->duration = t - t0;
	o->progress(rep, false, o->progress_arg);
}

static bool cancelled(const struct stream_opts *o)
{
	return o->cancel && *o->cancel;
}

static uint32_t block_len(uint64_t length, uint32_t bs, uint64_t i)
{
	uint64_t off = i * bs;

	return (uint32_t)(length - off < bs ? length - off : bs);
}

/* A slot holds one block, or a run of blocks of zeros (one ZERO record):
 * blocks s->index to slot_end() - 1. */
static uint64_t slot_end(uint32_t bs, const struct pipe_slot *s)
{
	return s->index + (s->len + (uint64_t)bs - 1) / bs;
}

/* The check of block i of slot s. */
static const uint8_t *slot_hash(const struct zero_hashes *z, uint64_t length,
				const struct pipe_slot *s, uint64_t i)
{
	return s->kind == SLOT_ZERO ? zero_hash(z, block_len(length, z->bs, i)) : s->hash;
}

/* The errors of a connection that broke (reset, closed, timed out,
 * unreachable), as opposed to a refusal, a mismatch or a local failure:
 * with --retry the run goes on over a new connection. */
static bool conn_broken(int r)
{
	switch (r) {
	case -ECONNRESET: case -EPIPE: case -ETIMEDOUT: case -ECONNABORTED:
	case -EHOSTUNREACH: case -ENETUNREACH: case -ENETDOWN: case -EHOSTDOWN:
	case -ENOTCONN:
		return true;
	default:
		return false;
	}
}

/* Starts the record of a broken connection (cuts[] keeps the first ones). */
static struct stream_cut *cut_begin(struct stream_report *rep, double t0, int err)
{
	struct stream_cut *c;

	if (rep->ncuts >= STREAM_CUTS_MAX)
		return NULL;
	c = &rep->cuts[rep->ncuts++];
	memset(c, 0, sizeof(*c));
	c->at = now_s() - t0;
	c->bytes_done = rep->bytes_done;
	c->err = -err;
	return c;
}

static void stats_add(struct pipe_stats *tot, const struct pipe_stats *st, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		tot[i].busy += st[i].busy;
		tot[i].wait += st[i].wait;
		tot[i].slots += st[i].slots;
	}
}

/* ------------------------------------------------------------------ */
/* Sender                                                              */

struct sender {
	struct stream_chan *ch;
	int fd;
	struct stream_source *src;
	const struct stream_opts *o;
	struct stream_report *rep;
	uint64_t length, nblocks, next;
	uint32_t bs;
	uint8_t *have;			/* the receiver's entries */
	/* Blocks sent (DATA or ZERO) over the current connection, with
	 * their checks, as map entries: after a reconnect, those that the
	 * receiver does not claim were lost with the connection. */
	uint8_t *sent;
	struct stream_cut *cut;		/* the last cut's record, or NULL */
	struct zero_hashes zh;
	crypto_generichash_state img;
	double t0, last_progress;
	double session_t0;		/* the current connection's start, for --max-rate */
	uint64_t wire_base;		/* wire bytes of the connections before this one */
	double seal_base;
	unsigned sessions;		/* connections that reached the block stream */
	bool peer_spoke;
	/* A regular file's extent found by the last lseek: [ext_start,
	 * ext_end) is all hole (ext_hole) or starts with data. */
	uint64_t ext_start, ext_end;
	bool ext_hole;
};

/* Whether [off, off + len) of a regular file is a hole, with one or two
 * lseeks per extent rather than one per block (a 4 GiB image mostly of
 * holes is 4096 blocks of 1 MiB). A warm source is asked at every block:
 * the block is then judged when it is read, and a write into a hole before
 * that is seen. An error of lseek other than ENXIO (no data after off)
 * counts as data: the block is read. */
static bool source_hole(struct sender *x, uint64_t off, uint32_t len)
{
	if (x->src->warm || off < x->ext_start || off >= x->ext_end) {
		off_t d = lseek(x->src->fd, (off_t)off, SEEK_DATA);

		x->ext_start = off;
		if (d < 0 && errno == ENXIO) {
			x->ext_end = x->length;
			x->ext_hole = true;
		} else if (d > (off_t)off) {
			x->ext_end = (uint64_t)d;
			x->ext_hole = true;
		} else {
			off_t h = d == (off_t)off ? lseek(x->src->fd, (off_t)off, SEEK_HOLE) : -1;

			x->ext_end = h > (off_t)off ? (uint64_t)h : off + len;
			x->ext_hole = false;
		}
	}
	return x->ext_hole && off + len <= x->ext_end;
}

static int send_read(struct pipe_slot *s, void *arg)
{
	struct sender *x = arg;
	const uint8_t *e;
	int r;

	if (cancelled(x->o))
		return -EINTR;
	if (x->next >= x->nblocks) {
		s->kind = SLOT_END;
		return PIPE_LAST;
	}
	s->index = x->next++;
	s->offset = s->index * x->bs;
	s->len = (uint32_t)(x->length - s->offset < x->bs ? x->length - s->offset : x->bs);
	e = x->have + s->index * SMAP_ENTRY;
	s->peer_valid = e[0];
	if (s->peer_valid)
		memcpy(s->peer_hash, e + 1, STREAM_HASH_LEN);
	if (s->peer_valid && !x->o->delta) {
		/* Resume: the receiver verified this block in an earlier run
		 * of the same copy; the source is taken as unchanged. */
		memcpy(s->hash, s->peer_hash, STREAM_HASH_LEN);
		s->kind = SLOT_RESUMED;
		return 0;
	}
	if (!x->src->is_blk && source_hole(x, s->offset, s->len)) {
		/* A hole in a sparse image file: zeros without reading them,
		 * with the blocks after it in the same hole in one ZERO record
		 * (up to STREAM_ZERO_RUN_MAX bytes; not those the receiver
		 * already has, nor in delta mode, where each block's hash is
		 * compared with the receiver's). */
		s->kind = SLOT_ZERO;
		memcpy(s->hash, zero_hash(&x->zh, s->len), STREAM_HASH_LEN);
		while (!x->o->delta && x->next < x->nblocks && !x->have[x->next * SMAP_ENTRY]) {
			uint32_t l = block_len(x->length, x->bs, x->next);

			if (s->len > STREAM_ZERO_RUN_MAX - l || !source_hole(x, x->next * x->bs, l))
				break;
			s->len += l;
			x->next++;
		}
		return 0;
	}
	r = io_pread_full(x->src->fd, s->buf, s->len, s->offset);
	if (r < 0) {
		snprintf(x->rep->message, sizeof(x->rep->message), "read %s at offset %llu: %s",
			 x->src->path, (unsigned long long)s->offset, strerror(-r));
		return r;
	}
	s->kind = SLOT_DATA;
	return 0;
}

static int send_hash(struct pipe_slot *s, void *arg)
{
	struct sender *x = arg;

	if (s->kind != SLOT_DATA && s->kind != SLOT_ZERO)
		return 0;
	if (s->kind == SLOT_DATA && buf_is_zero(s->buf, s->len)) {
		s->kind = SLOT_ZERO;
		memcpy(s->hash, zero_hash(&x->zh, s->len), STREAM_HASH_LEN);
	} else if (s->kind == SLOT_DATA) {
		block_hash(s->hash, s->buf, s->len);
	}
	if (x->o->delta && s->peer_valid && sodium_memcmp(s->hash, s->peer_hash, STREAM_HASH_LEN) == 0)
		s->kind = SLOT_UNCHANGED;
	return 0;
}

static void send_throttle(struct sender *x)
{
	double want, t;

	if (!x->o->max_rate)
		return;
	want = (double)chan_bytes_out(x->ch) / (double)x->o->max_rate;
	t = now_s() - x->session_t0;
	if (want > t) {
		double d = want - t;
		struct timespec ts = { .tv_sec = (time_t)d, .tv_nsec = (long)((d - floor(d)) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

static int send_block(struct pipe_slot *s, void *arg)
{
	struct sender *x = arg;
	struct stream_report *rep = x->rep;
	struct smsg_block b = { .len = s->len, .offset = s->offset };
	struct pollfd pfd = { .fd = x->fd, .events = POLLIN };
	uint8_t hdr[SMSG_DATA_LEN];
	int r = 0;

	if (s->kind == SLOT_END) {
		struct smsg_end e = { .blocks = x->nblocks };

		crypto_generichash_final(&x->img, e.image_hash, STREAM_HASH_LEN);
		memcpy(rep->image_hash, e.image_hash, STREAM_HASH_LEN);
		rep->have_hash = true;
		r = chan_send(x->ch, x->fd, hdr, smsg_encode_end(hdr, &e), NULL, 0);
		rep->bytes_sent = x->wire_base + chan_bytes_out(x->ch);
		return r;
	}
	if (cancelled(x->o))
		return -EINTR;
	/* The receiver says nothing until END unless it gives up early
	 * (a corrupt record, a write error): stop and read why. */
	if (poll(&pfd, 1, 0) > 0) {
		x->peer_spoke = true;
		return -EREMOTEIO;
	}
	for (uint64_t i = s->index; i < slot_end(x->bs, s); i++)
		crypto_generichash_update(&x->img, slot_hash(&x->zh, x->length, s, i), STREAM_HASH_LEN);
	switch (s->kind) {
	case SLOT_RESUMED:
		/* Counted once: the blocks a later connection finds on the
		 * receiver are this run's own. */
		if (x->sessions <= 1)
			rep->resumed_bytes += s->len;
		break;
	case SLOT_UNCHANGED:
		rep->unchanged_bytes += s->len;
		rep->bytes_read += s->len;
		r = chan_send(x->ch, x->fd, hdr, smsg_encode_same(hdr, &b), NULL, 0);
		break;
	case SLOT_ZERO:
		rep->zero_bytes += s->len;
		rep->bytes_read += s->len;
		r = chan_send(x->ch, x->fd, hdr, smsg_encode_zero(hdr, &b), NULL, 0);
		break;
	case SLOT_DATA:
		memcpy(b.hash, s->hash, STREAM_HASH_LEN);
		rep->bytes_read += s->len;
		/* Header and bytes in two frames: a block corrupted in flight
		 * is then named by its already authenticated header. */
		r = chan_send(x->ch, x->fd, hdr, smsg_encode_data(hdr, &b), NULL, 0);
		if (r == 0)
			r = chan_send(x->ch, x->fd, s->buf, s->len, NULL, 0);
		if (r == 0)
			rep->data_bytes += s->len;
		break;
	default:
		return -EPROTO;
	}
	if (r < 0)
		return r;
	if (s->kind == SLOT_DATA || s->kind == SLOT_ZERO) {
		for (uint64_t i = s->index; i < slot_end(x->bs, s); i++) {
			uint8_t *e = x->sent + i * SMAP_ENTRY;

			e[0] = 1;
			memcpy(e + 1, slot_hash(&x->zh, x->length, s, i), STREAM_HASH_LEN);
		}
	}
	rep->bytes_done += s->len;
	rep->bytes_sent = x->wire_base + chan_bytes_out(x->ch);
	send_throttle(x);
	progress_tick(x->o, rep, x->t0, &x->last_progress);
	return 0;
}

static void send_abort(int err, void *arg)
{
	(void)err;
	(void)arg;
}

/* Reads the receiver's verdict (RESULT) or refusal into rep. */
static int send_read_verdict(struct sender *x, int timeout_ms)
{
	struct stream_report *rep = x->rep;
	uint8_t *buf = malloc(RESULT_BUF);
	struct smsg m;
	size_t len;
	int r;

	if (!buf)
		return -ENOMEM;
	if (timeout_ms >= 0) {
		struct pollfd pfd = { .fd = x->fd, .events = POLLIN };

		if (poll(&pfd, 1, timeout_ms) <= 0) {
			r = -ETIMEDOUT;
			goto out;
		}
	}
	r = chan_recv(x->ch, x->fd, buf, RESULT_BUF, &len);
	if (r < 0)
		goto out;
	r = smsg_decode(buf, len, &m);
	if (r < 0)
		goto out;
	if (m.type == SMSG_REFUSE) {
		rep->result = STREAM_RESULT_REFUSED;
		snprintf(rep->message, sizeof(rep->message), "refused by the receiver: %s", m.refuse.text);
		r = -EPERM;
		goto out;
	}
	if (m.type != SMSG_RESULT) {
		r = -EPROTO;
		goto out;
	}
	rep->result = m.result.result;
	memcpy(rep->peer_image_hash, m.result.image_hash, STREAM_HASH_LEN);
	rep->have_peer_hash = !sodium_is_zero(m.result.image_hash, STREAM_HASH_LEN);
	rep->nbad = 0;
	for (uint32_t i = 0; i < m.result.nlisted; i++)
		rep_bad(rep, smsg_result_offset(&m.result, i));
	rep->nbad = m.result.nbad;
	if (rep->result != STREAM_RESULT_VERIFIED && !rep->message[0])
		snprintf(rep->message, sizeof(rep->message), "the receiver reports %u differing block(s)",
			 rep->nbad);
	if (rep->result == STREAM_RESULT_VERIFIED &&
	    (!rep->have_hash || sodium_memcmp(rep->image_hash, rep->peer_image_hash, STREAM_HASH_LEN) != 0)) {
		/* Cannot happen with an honest receiver; never call it verified. */
		rep->result = STREAM_RESULT_MISMATCH;
		snprintf(rep->message, sizeof(rep->message), "the receiver's image hash differs from ours");
	}
	r = 0;
out:
	free(buf);
	return r;
}

static int send_exchange(struct sender *x)
{
	struct stream_report *rep = x->rep;
	struct smsg_info info = { .block_size = x->bs, .length = x->length };
	uint8_t msg[SMSG_INFO_LEN], *buf;
	uint64_t got = 0;
	bool first = true;
	int r;

	info.flags = (x->o->delta ? SMSG_INFO_DELTA : 0) | (x->src->warm ? SMSG_INFO_WARM : 0);
	source_id(x->src, x->length, x->bs, info.source_id);
	r = chan_send(x->ch, x->fd, msg, smsg_encode_info(msg, &info), NULL, 0);
	if (r < 0)
		return r;
	buf = malloc(smsg_hashes_size(SMSG_HASHES_PER_MSG));
	if (!buf)
		return -ENOMEM;
	while (first || got < x->nblocks) {
		struct smsg m;
		size_t len;

		r = chan_recv(x->ch, x->fd, buf, smsg_hashes_size(SMSG_HASHES_PER_MSG), &len);
		if (r < 0)
			break;
		r = smsg_decode(buf, len, &m);
		if (r < 0)
			break;
		if (m.type == SMSG_REFUSE) {
			rep->result = STREAM_RESULT_REFUSED;
			snprintf(rep->message, sizeof(rep->message), "refused by the receiver: %s",
				 m.refuse.text);
			r = -EPERM;
			break;
		}
		if (m.type != SMSG_HASHES || m.hashes.first != got ||
		    m.hashes.count > x->nblocks - got) {
			r = -EPROTO;
			break;
		}
		memcpy(x->have + got * SMAP_ENTRY, m.hashes.entries, (size_t)m.hashes.count * SMAP_ENTRY);
		got += m.hashes.count;
		first = false;
	}
	free(buf);
	return r;
}

/* After a reconnect: the blocks sent over the broken connection that the
 * receiver does not hold now (not in its map, or with another check) travel
 * again; counted here, per cut. */
static void send_count_lost(struct sender *x)
{
	uint64_t lost = 0;

	for (uint64_t i = 0; i < x->nblocks; i++) {
		const uint8_t *s = x->sent + i * SMAP_ENTRY, *h = x->have + i * SMAP_ENTRY;

		if (s[0] && (!h[0] || memcmp(s + 1, h + 1, STREAM_HASH_LEN) != 0))
			lost += block_len(x->length, x->bs, i);
	}
	memset(x->sent, 0, x->nblocks * SMAP_ENTRY);
	x->rep->resent_bytes += lost;
	if (x->cut)
		x->cut->resent_bytes += lost;
}

/* One connection: INFO and HASHES, the blocks the receiver lacks, END and
 * the verdict. */
static int send_session(struct sender *x, const struct pipe_stage *stages, unsigned window,
			struct pipe_stats *tot)
{
	struct stream_report *rep = x->rep;
	struct pipe_stats stats[3];
	int r;

	x->peer_spoke = false;
	x->next = 0;
	/* The source's extents are asked again: a reconnect may come after
	 * a long outage. */
	x->ext_start = x->ext_end = 0;
	x->session_t0 = now_s();
	rep->bytes_done = 0;
	image_hash_init(&x->img, x->length, x->bs);
	r = send_exchange(x);
	if (r < 0)
		return r;
	if (x->sessions++ > 0)
		send_count_lost(x);
	memset(stats, 0, sizeof(stats));
	r = pipe_run(window, x->bs, 3, stages, send_abort, x, stats);
	stats_add(tot, stats, 3);
	rep->bytes_sent = x->wire_base + chan_bytes_out(x->ch);
	if (r < 0 && cancelled(x->o)) {
		r = -EINTR;
		snprintf(rep->message, sizeof(rep->message), "stopped by a signal");
	} else if (r == 0) {
		r = send_read_verdict(x, -1);
	} else if (x->peer_spoke || r == -EPIPE || r == -ECONNRESET) {
		/* The receiver stopped first: its reason, if it sent one. */
		int rr = send_read_verdict(x, 2000);

		if (rr == 0 && rep->result == STREAM_RESULT_VERIFIED)
			rep->result = STREAM_RESULT_INTERRUPTED;
		if (rr == 0 || rr == -EPERM) {
			r = rr == -EPERM ? rr : -EBADMSG;
		} else {
			r = -ECONNRESET;
			snprintf(rep->message, sizeof(rep->message),
				 "the receiver closed the connection");
		}
	}
	return r;
}

int stream_send(struct stream_chan *ch, int fd, struct stream_source *src,
		const struct stream_opts *o, struct stream_report *rep)
{
	static const struct pipe_stage stages[] = {
		{ "read", send_read, 1, NULL }, { "hash", send_hash, 1, NULL }, { "send", send_block, 1, NULL },
	};
	struct sender x = { .ch = ch, .fd = fd, .src = src, .o = o, .rep = rep };
	struct pipe_stats tot[3];
	unsigned window;
	int r;

	memset(rep, 0, sizeof(*rep));
	x.t0 = x.last_progress = now_s();
	x.length = o->length ? o->length : src->size;
	/* 1 MiB blocks stay in the CPU caches from decrypt to write and find
	 * zeros finely; very large images use 4 MiB to keep the map small. */
	x.bs = o->block_size ? o->block_size :
	       x.length > STREAM_BIG_IMAGE ? STREAM_BLOCK_DEFAULT_BIG : STREAM_BLOCK_DEFAULT;
	rep->length = x.length;
	rep->block_size = x.bs;
	if (x.bs < STREAM_BLOCK_MIN || x.bs > STREAM_BLOCK_MAX || (x.bs & (x.bs - 1))) {
		snprintf(rep->message, sizeof(rep->message), "block size must be a power of two in [64 KiB, 16 MiB]");
		rep->result = STREAM_RESULT_FAILED;
		return -EINVAL;
	}
	if (x.length > src->size) {
		snprintf(rep->message, sizeof(rep->message), "--length %llu is beyond the source (%llu bytes)",
			 (unsigned long long)x.length, (unsigned long long)src->size);
		rep->result = STREAM_RESULT_FAILED;
		return -EINVAL;
	}
	x.nblocks = smap_nblocks(x.length, x.bs);
	x.have = calloc(x.nblocks ? x.nblocks : 1, SMAP_ENTRY);
	x.sent = calloc(x.nblocks ? x.nblocks : 1, SMAP_ENTRY);
	r = x.have && x.sent ? zero_hashes_init(&x.zh, x.length, x.bs) : -ENOMEM;
	if (r < 0)
		goto out;
	window = window_slots(o, x.bs);
	memset(tot, 0, sizeof(tot));
	for (;;) {
		r = send_session(&x, stages, window, tot);
		if (r >= 0 || !o->reconnect || cancelled(o) ||
		    !(conn_broken(r) || rep->result == STREAM_RESULT_INTERRUPTED))
			break;
		/* --retry: the blocks this connection carried that the
		 * receiver lacks are counted when the next one tells. A
		 * receiver's "interrupted" verdict counts as a reset. */
		if (!conn_broken(r))
			r = -ECONNRESET;
		x.wire_base += chan_bytes_out(x.ch);
		x.seal_base += chan_seal_time(x.ch);
		x.cut = cut_begin(rep, x.t0, r);
		{
			double t = now_s();
			int rr = o->reconnect(o->reconnect_arg, r, rep, &x.ch, &x.fd);

			if (rr < 0) {
				rep->result = rr == -EACCES || rr == -EPERM ? STREAM_RESULT_REFUSED :
					      STREAM_RESULT_INTERRUPTED;
				snprintf(rep->message, sizeof(rep->message),
					 "the connection broke (%s); no new one: %s", strerror(-r),
					 strerror(-rr));
				break;
			}
			if (x.cut)
				x.cut->outage = now_s() - t;
		}
		rep->reconnects++;
		rep->result = STREAM_RESULT_NONE;
		rep->message[0] = '\0';
		rep->nbad = 0;
		rep->have_peer_hash = false;
	}
	report_stages(rep, stages, 3, tot, window);
	if (x.ch) {
		rep->seal_busy = x.seal_base + chan_seal_time(x.ch);
		rep->bytes_sent = x.wire_base + chan_bytes_out(x.ch);
	}
out:
	rep->duration = now_s() - x.t0;
	if (r < 0 && rep->result == STREAM_RESULT_NONE)
		rep->result = r == -EINTR || r == -EPIPE || r == -ECONNRESET || r == -ETIMEDOUT ?
			      STREAM_RESULT_INTERRUPTED : STREAM_RESULT_FAILED;
	if (r < 0 && !rep->message[0])
		snprintf(rep->message, sizeof(rep->message), "%s", strerror(-r));
	if (r == 0 && rep->result != STREAM_RESULT_VERIFIED)
		r = -EBADMSG;
	free(x.have);
	free(x.sent);
	return r;
}

/* ------------------------------------------------------------------ */
/* Receiver                                                            */

struct receiver {
	struct stream_chan *ch;
	int fd;
	struct stream_dest *dst;
	const struct stream_opts *o;
	struct stream_report *rep;
	uint64_t length, nblocks, last_offset;
	uint32_t bs;
	bool any_block, recv_failed;
	struct smap *map;
	uint8_t *adv;			/* the entries we advertised (HASHES) */
	struct zero_hashes zh;
	struct smsg_end end;
	bool delta;
	/* Claimed since the last checkpoint, in sixteenths of a data block
	 * (CKPT_LIGHT): a checkpoint is due at ckpt_every data blocks. */
	unsigned ckpt_every, since_ckpt;
	double t0, last_progress, last_ckpt;
	/* The checkpointer thread: flushes the destination and then saves a
	 * snapshot of the map taken before the flush began, so the map never
	 * claims a block that is not on stable storage, and the write stage
	 * does not wait for the disk. */
	pthread_t ckpt_tid;
	pthread_mutex_t ckpt_mu;
	pthread_cond_t ckpt_cv;
	bool ckpt_started, ckpt_busy, ckpt_stop;
	int ckpt_err;
	struct smap *snap;
	/* --retry: the image of the first connection; a later one must
	 * announce the same (length, block size, source id). */
	bool bound, refused_other;
	uint64_t bound_length;
	uint32_t bound_bs;
	uint8_t bound_id[STREAM_HASH_LEN];
	uint64_t first_resumed;
	uint64_t wire_base;		/* wire bytes of the connections before this one */
	double open_base;
	unsigned sessions;
	bool ring;			/* the write stage queues to io_uring */
	uint64_t pa_end;		/* dest_prealloc'd up to here (image offset) */
	uint64_t run_end, run_len;	/* the run of consecutive data blocks */
};

/* A block's record, in order; a ZERO record (run) may cover several
 * blocks: whole ones, the last possibly the image's short tail. */
static int recv_expect_block(struct receiver *x, const struct smsg_block *b, bool run,
			     struct pipe_slot *s)
{
	uint64_t idx = b->offset / x->bs;
	bool len_ok = idx < x->nblocks &&
		      (b->len == block_len(x->length, x->bs, idx) ||
		       (run && b->len <= x->length - b->offset &&
			(b->len % x->bs == 0 || b->offset + b->len == x->length)));

	if (b->offset % x->bs || !len_ok || (x->any_block && b->offset <= x->last_offset)) {
		snprintf(x->rep->message, sizeof(x->rep->message),
			 "protocol error: unexpected block offset %llu length %u",
			 (unsigned long long)b->offset, b->len);
		return -EPROTO;
	}
	x->any_block = true;
	x->last_offset = b->offset + (b->len - 1) / x->bs * x->bs;
	s->index = idx;
	s->offset = b->offset;
	s->len = b->len;
	return 0;
}

static int recv_one(struct receiver *x, struct pipe_slot *s);

static int recv_stage(struct pipe_slot *s, void *arg)
{
	struct receiver *x = arg;
	int r;

	if (cancelled(x->o))
		return -EINTR;
	/* Until proven otherwise, a failure here is the receive stage's own. */
	x->recv_failed = true;
	r = recv_one(x, s);
	if (r >= 0)
		x->recv_failed = false;
	return r;
}

static int recv_one(struct receiver *x, struct pipe_slot *s)
{
	uint8_t hdr[SMSG_TEXT_MAX + SMSG_REFUSE_HDR];
	struct smsg m;
	size_t len;
	int r;

	r = chan_recv(x->ch, x->fd, hdr, sizeof(hdr), &len);
	if (r == -EBADMSG) {
		if (x->any_block)
			snprintf(x->rep->message, sizeof(x->rep->message),
				 "the record after offset %llu failed authentication (corrupted in flight)",
				 (unsigned long long)x->last_offset);
		else
			snprintf(x->rep->message, sizeof(x->rep->message),
				 "the first record failed authentication (corrupted in flight)");
		if (x->any_block && x->last_offset + x->bs < x->length)
			rep_bad(x->rep, x->last_offset + x->bs);
		return r;
	}
	if (r < 0)
		return r;
	r = smsg_decode(hdr, len, &m);
	if (r < 0) {
		snprintf(x->rep->message, sizeof(x->rep->message), "protocol error: bad record");
		return r;
	}
	switch (m.type) {
	case SMSG_DATA:
		r = recv_expect_block(x, &m.block, false, s);
		if (r < 0)
			return r;
		memcpy(s->peer_hash, m.block.hash, STREAM_HASH_LEN);
		r = chan_recv_inplace(x->ch, x->fd, s->buf, x->bs, &len);
		if (r == -EBADMSG) {
			snprintf(x->rep->message, sizeof(x->rep->message),
				 "block at offset %llu failed authentication (corrupted in flight)",
				 (unsigned long long)s->offset);
			rep_bad(x->rep, s->offset);
			return r;
		}
		if (r < 0)
			return r;
		if (len != s->len)
			return -EPROTO;
		s->kind = SLOT_DATA;
		return 0;
	case SMSG_ZERO:
	case SMSG_SAME:
		r = recv_expect_block(x, &m.block, m.type == SMSG_ZERO, s);
		if (r < 0)
			return r;
		if (m.type == SMSG_SAME) {
			const uint8_t *e = x->adv + s->index * SMAP_ENTRY;

			if (!e[0])
				return -EPROTO;
			memcpy(s->hash, e + 1, STREAM_HASH_LEN);
			s->kind = SLOT_UNCHANGED;
		} else {
			s->kind = SLOT_ZERO;
		}
		return 0;
	case SMSG_END:
		x->end = m.end;
		s->kind = SLOT_END;
		return PIPE_LAST;
	case SMSG_REFUSE:
		snprintf(x->rep->message, sizeof(x->rep->message), "the sender gave up: %s", m.refuse.text);
		return -ECANCELED;
	default:
		snprintf(x->rep->message, sizeof(x->rep->message), "protocol error: unexpected %s record",
			 smsg_type_to_string(m.type));
		return -EPROTO;
	}
}

/* Allocates a regular file ahead of the writes, in order (one thread):
 * by the length of the run of data blocks that ends here, so a long run
 * gets few and large fallocate calls and a short one costs no more space
 * than its own data. */
static void recv_prealloc(struct receiver *x, const struct pipe_slot *s)
{
	uint64_t end = s->offset + s->len, n;

	if (x->dst->no_prealloc)
		return;
	if (s->offset != x->run_end)
		x->run_len = 0;
	x->run_len += s->len;
	x->run_end = end;
	if (end <= x->pa_end)
		return;
	n = x->run_len < PREALLOC_MAX ? x->run_len : PREALLOC_MAX;
	if (n > x->length - s->offset)
		n = x->length - s->offset;
	dest_prealloc(x->dst, s->offset, n);
	x->pa_end = s->offset + n;
}

static int recv_hash(struct pipe_slot *s, void *arg)
{
	struct receiver *x = arg;

	if (s->kind == SLOT_DATA) {
		block_hash(s->hash, s->buf, s->len);
		if (memcmp(s->hash, s->peer_hash, STREAM_HASH_LEN) != 0)
			s->kind = SLOT_BAD;
		else
			recv_prealloc(x, s);
	}
	/* A ZERO slot's checks are its blocks' own (slot_hash). */
	return 0;
}

/* Synchronous checkpoint: flush, then save the whole map. */
static int recv_checkpoint(struct receiver *x)
{
	int r;

	/* The map may only claim what is on stable storage. */
	r = dest_sync(x->dst);
	if (r == 0)
		r = smap_save(x->map, x->dst->state_path);
	if (r == 0)
		__atomic_add_fetch(&x->rep->checkpoints, 1, __ATOMIC_RELAXED);
	if (r < 0)
		snprintf(x->rep->message, sizeof(x->rep->message), "checkpoint %s: %s",
			 x->dst->state_path, strerror(-r));
	x->since_ckpt = 0;
	x->last_ckpt = now_s();
	return r;
}

static void *ckpt_thread(void *arg)
{
	struct receiver *x = arg;

	pthread_mutex_lock(&x->ckpt_mu);
	for (;;) {
		int r;

		while (!x->ckpt_busy && !x->ckpt_stop)
			pthread_cond_wait(&x->ckpt_cv, &x->ckpt_mu);
		if (!x->ckpt_busy)
			break;
		pthread_mutex_unlock(&x->ckpt_mu);
		r = dest_sync(x->dst);
		if (r == 0)
			r = smap_save(x->snap, x->dst->state_path);
		if (r == 0)
			__atomic_add_fetch(&x->rep->checkpoints, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&x->ckpt_mu);
		if (r < 0 && !x->ckpt_err)
			x->ckpt_err = r;
		x->ckpt_busy = false;
		pthread_cond_broadcast(&x->ckpt_cv);
	}
	pthread_mutex_unlock(&x->ckpt_mu);
	return NULL;
}

/* Hands a snapshot of the map to the checkpointer unless it is still busy
 * with the previous one. */
static int recv_checkpoint_async(struct receiver *x)
{
	int r;

	pthread_mutex_lock(&x->ckpt_mu);
	r = x->ckpt_err;
	if (r == 0 && !x->ckpt_busy) {
		memcpy(x->snap->entries, x->map->entries, x->map->nblocks * SMAP_ENTRY);
		x->ckpt_busy = true;
		x->since_ckpt = 0;
		x->last_ckpt = now_s();
		pthread_cond_broadcast(&x->ckpt_cv);
	}
	pthread_mutex_unlock(&x->ckpt_mu);
	if (r < 0)
		snprintf(x->rep->message, sizeof(x->rep->message), "checkpoint %s: %s",
			 x->dst->state_path, strerror(-r));
	return r;
}

static int ckpt_start(struct receiver *x)
{
	int r;

	r = smap_new(x->bs, x->map->offset, x->length, x->map->source_id, &x->snap);
	if (r < 0)
		return r;
	pthread_mutex_init(&x->ckpt_mu, NULL);
	pthread_cond_init(&x->ckpt_cv, NULL);
	if (pthread_create(&x->ckpt_tid, NULL, ckpt_thread, x) != 0) {
		pthread_cond_destroy(&x->ckpt_cv);
		pthread_mutex_destroy(&x->ckpt_mu);
		return -EAGAIN;
	}
	x->ckpt_started = true;
	return 0;
}

/* Waits for a checkpoint in progress and ends the thread. */
static void ckpt_stop(struct receiver *x)
{
	if (!x->ckpt_started)
		return;
	pthread_mutex_lock(&x->ckpt_mu);
	x->ckpt_stop = true;
	pthread_cond_broadcast(&x->ckpt_cv);
	pthread_mutex_unlock(&x->ckpt_mu);
	pthread_join(x->ckpt_tid, NULL);
	pthread_cond_destroy(&x->ckpt_cv);
	pthread_mutex_destroy(&x->ckpt_mu);
	x->ckpt_started = false;
}

/* The write stage runs on WRITERS threads, each with its block: several
 * O_DIRECT writes are in flight while the next blocks are received and
 * checked. Its result goes to the commit stage, which takes the blocks in
 * order. */
static int recv_write(struct pipe_slot *s, void *arg)
{
	struct receiver *x = arg;

	if (s->kind == SLOT_DATA)
		s->err = dest_write(x->dst, s->buf, s->len, s->offset);
	else if (s->kind == SLOT_ZERO)
		s->err = dest_zero(x->dst, s->len, s->offset);
	return 0;
}

/* The write stage with io_uring: one thread queues each block's write and
 * passes the slot on at once; the commit stage reaps the completions
 * (recv_reap) before it claims the block. */
static int recv_submit(struct pipe_slot *s, void *arg)
{
	struct receiver *x = arg;

	s->pending = false;
	if (s->kind == SLOT_DATA) {
		/* Set before the write is queued: the slot belongs to the
		 * reaper from then on. */
		s->pending = true;
		if (dest_ring_write(x->dst, s->buf, s->len, s->offset, s) < 0) {
			s->pending = false;
			s->err = dest_write(x->dst, s->buf, s->len, s->offset);
		}
	} else if (s->kind == SLOT_ZERO) {
		s->err = dest_zero(x->dst, s->len, s->offset);
	}
	return 0;
}

/* Reaps completions until the write of s is done. A write that failed or
 * came back short is redone with dest_write (idempotent; -EINVAL from an
 * O_DIRECT write the filesystem refuses turns to buffered writes there). */
static int recv_reap(struct receiver *x, struct pipe_slot *s)
{
	while (s->pending) {
		struct pipe_slot *t;
		void *tag;
		int res, r;

		r = dest_ring_reap(x->dst, &tag, &res);
		if (r < 0)
			return r;
		t = tag;
		t->pending = false;
		if (res < 0 || (uint32_t)res != t->len)
			t->err = dest_write(x->dst, t->buf, t->len, t->offset);
	}
	return 0;
}

/* After the run: no write may still be in flight on the slots' buffers. */
static void recv_drain_ring(void *arg)
{
	struct receiver *x = arg;
	void *tag;
	int res;

	while (dest_ring_reap(x->dst, &tag, &res) == 0)
		((struct pipe_slot *)tag)->pending = false;
}

/* In order, one thread: the map (a block is claimed once written, and
 * saved as verified only after the checkpointer's flush), the counters,
 * the checkpoints and the progress. */
static int recv_commit(struct pipe_slot *s, void *arg)
{
	struct receiver *x = arg;
	struct stream_report *rep = x->rep;
	int r;

	r = recv_reap(x, s);
	if (r < 0) {
		snprintf(rep->message, sizeof(rep->message), "write %s: io_uring: %s", x->dst->path,
			 strerror(-r));
		return r;
	}
	r = s->err;
	switch (s->kind) {
	case SLOT_END:
		return 0;
	case SLOT_DATA:
		rep->data_bytes += s->len;
		break;
	case SLOT_ZERO:
		rep->zero_bytes += s->len;
		break;
	case SLOT_UNCHANGED:
		rep->unchanged_bytes += s->len;
		break;
	case SLOT_BAD:
		smap_clear(x->map, s->index);
		rep_bad(rep, s->offset);
		break;
	default:
		return -EPROTO;
	}
	if (r < 0) {
		snprintf(rep->message, sizeof(rep->message), "write %s at offset %llu: %s",
			 x->dst->path, (unsigned long long)(x->dst->o.offset + s->offset), strerror(-r));
		return r;
	}
	if (s->kind != SLOT_BAD) {
		for (uint64_t i = s->index; i < slot_end(x->bs, s); i++)
			smap_set(x->map, i, slot_hash(&x->zh, x->length, s, i));
		x->since_ckpt += s->kind == SLOT_DATA ? CKPT_LIGHT : (unsigned)(slot_end(x->bs, s) - s->index);
	}
	rep->bytes_done += s->len;
	rep->bytes_sent = x->wire_base + chan_bytes_in(x->ch);
	if (x->since_ckpt >= x->ckpt_every * CKPT_LIGHT ||
	    (x->since_ckpt && now_s() - x->last_ckpt >= 1.0)) {
		r = recv_checkpoint_async(x);
		if (r < 0)
			return r;
	}
	progress_tick(x->o, rep, x->t0, &x->last_progress);
	return 0;
}

static void recv_abort(int err, void *arg)
{
	struct receiver *x = arg;

	/* Wake the receive stage if it sleeps in read(); sending stays
	 * possible, for the RESULT that says why. */
	(void)err;
	if (!x->recv_failed)
		shutdown(x->fd, SHUT_RD);
	/* The commit stage (the reaper) may be the one that failed. */
	dest_ring_cancel(x->dst, true);
}

static void recv_drain(int fd, int timeout_ms)
{
	uint8_t sink[16384];
	double end = now_s() + timeout_ms / 1000.0;

	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = end - now_s();

		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			break;
		if (read(fd, sink, sizeof(sink)) <= 0)
			break;
	}
}

static int recv_refuse(struct receiver *x, int code, const char *text)
{
	uint8_t msg[SMSG_REFUSE_HDR + SMSG_TEXT_MAX];

	x->rep->result = STREAM_RESULT_REFUSED;
	if (text != x->rep->message)
		snprintf(x->rep->message, sizeof(x->rep->message), "%s", text);
	chan_send(x->ch, x->fd, msg, smsg_encode_refuse(msg, (uint16_t)code, text), NULL, 0);
	return -EPERM;
}

static int recv_advertise(struct receiver *x)
{
	uint8_t *buf = malloc(smsg_hashes_size(SMSG_HASHES_PER_MSG));
	uint64_t i = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	do {
		uint32_t n = x->nblocks - i < SMSG_HASHES_PER_MSG ? (uint32_t)(x->nblocks - i) :
			     SMSG_HASHES_PER_MSG;

		r = chan_send(x->ch, x->fd, buf,
			      smsg_encode_hashes(buf, (uint32_t)i, n, x->adv + i * SMAP_ENTRY), NULL, 0);
		i += n;
	} while (r == 0 && i < x->nblocks);
	free(buf);
	return r;
}

/* Delta without a map: hash what the destination holds now (bdsync style),
 * so that only the blocks that differ travel. Not recorded in the map: only
 * blocks confirmed by the sender (SAME) become verified. */
static int recv_hash_destination(struct receiver *x)
{
	uint8_t *buf = malloc(x->bs);
	uint64_t i;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < x->nblocks; i++) {
		uint64_t off = i * x->bs;
		uint32_t len = (uint32_t)(x->length - off < x->bs ? x->length - off : x->bs);
		uint8_t *e = x->adv + i * SMAP_ENTRY;

		if (e[0])
			continue;
		if (cancelled(x->o)) {
			r = -EINTR;
			break;
		}
		r = dest_read(x->dst, buf, len, off);
		if (r < 0)
			break;
		e[0] = 1;
		block_hash(e + 1, buf, len);
		x->rep->readback_bytes += len;
	}
	free(buf);
	return r;
}

static int recv_readback(struct receiver *x)
{
	uint8_t *buf = malloc(x->bs), h[STREAM_HASH_LEN];
	uint64_t i;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	dest_drop_cache(x->dst, x->length);
	for (i = 0; i < x->nblocks; i++) {
		uint64_t off = i * x->bs;
		uint32_t len = (uint32_t)(x->length - off < x->bs ? x->length - off : x->bs);

		if (!smap_valid(x->map, i))
			continue;
		if (cancelled(x->o)) {
			r = -EINTR;
			break;
		}
		r = dest_read(x->dst, buf, len, off);
		if (r < 0) {
			snprintf(x->rep->message, sizeof(x->rep->message), "read back %s at offset %llu: %s",
				 x->dst->path, (unsigned long long)(x->dst->o.offset + off), strerror(-r));
			break;
		}
		block_hash(h, buf, len);
		x->rep->readback_bytes += len;
		if (memcmp(h, smap_hash(x->map, i), STREAM_HASH_LEN) != 0) {
			/* Differs at rest: resend it next time. */
			smap_clear(x->map, i);
			rep_bad(x->rep, off);
		}
		progress_tick(x->o, x->rep, x->t0, &x->last_progress);
	}
	free(buf);
	return r;
}

/* After END: read back, name every block not verified, compare the image
 * hashes, and send the verdict. */
static int recv_finish(struct receiver *x)
{
	struct stream_report *rep = x->rep;
	static const uint8_t none[STREAM_HASH_LEN];
	crypto_generichash_state img;
	uint64_t offs[STREAM_BAD_MAX];
	uint8_t *msg;
	uint32_t listed;
	double t = now_s();
	int r;

	r = recv_checkpoint(x);
	rep->flush_duration = now_s() - t;
	if (r < 0)
		return r;
	if (x->o->verify_readback) {
		r = recv_readback(x);
		if (r < 0)
			return r;
	}
	/* Every block that is not verified now (failed its hash, differed at
	 * read-back, never arrived) is in the list, in order. */
	rep->nbad = 0;
	image_hash_init(&img, x->length, x->bs);
	for (uint64_t b = 0; b < x->nblocks; b++) {
		bool valid = smap_valid(x->map, b);

		crypto_generichash_update(&img, valid ? smap_hash(x->map, b) : none, STREAM_HASH_LEN);
		if (!valid)
			rep_bad(rep, b * x->bs);
	}
	crypto_generichash_final(&img, rep->image_hash, STREAM_HASH_LEN);
	rep->have_hash = true;
	memcpy(rep->peer_image_hash, x->end.image_hash, STREAM_HASH_LEN);
	rep->have_peer_hash = true;
	if (rep->nbad == 0 && sodium_memcmp(rep->image_hash, x->end.image_hash, STREAM_HASH_LEN) == 0 &&
	    x->end.blocks == x->nblocks) {
		rep->result = STREAM_RESULT_VERIFIED;
	} else {
		rep->result = STREAM_RESULT_MISMATCH;
		if (!rep->message[0])
			snprintf(rep->message, sizeof(rep->message), "%u block(s) differ", rep->nbad);
	}
	r = smap_save(x->map, x->dst->state_path);
	if (r < 0)
		return r;
	listed = rep->nbad < STREAM_BAD_MAX ? rep->nbad : STREAM_BAD_MAX;
	memcpy(offs, rep->bad, listed * sizeof(offs[0]));
	msg = malloc(smsg_result_size(listed));
	if (!msg)
		return -ENOMEM;
	r = chan_send(x->ch, x->fd, msg, smsg_encode_result(msg, (uint8_t)rep->result, rep->nbad, listed,
							    offs, rep->image_hash), NULL, 0);
	free(msg);
	return r;
}

static int recv_setup(struct receiver *x)
{
	struct stream_report *rep = x->rep;
	uint8_t buf[SMSG_INFO_LEN + 64];
	char why[sizeof(rep->message)];
	struct smsg m;
	size_t len;
	int r;

	r = chan_recv(x->ch, x->fd, buf, sizeof(buf), &len);
	if (r == -EBADMSG) {
		rep->result = STREAM_RESULT_REFUSED;
		snprintf(rep->message, sizeof(rep->message), "peer not authenticated: its first record does not decrypt");
		return -EACCES;
	}
	if (r < 0)
		return r;
	if (smsg_decode(buf, len, &m) < 0 || m.type != SMSG_INFO) {
		snprintf(rep->message, sizeof(rep->message), "protocol error: expected an info record");
		return -EPROTO;
	}
	if (x->bound && (m.info.length != x->bound_length || m.info.block_size != x->bound_bs ||
			 sodium_memcmp(m.info.source_id, x->bound_id, STREAM_HASH_LEN) != 0)) {
		/* Not the copy this run is resuming: its map and what it
		 * wrote belong to the first connection's source. */
		x->refused_other = true;
		snprintf(why, sizeof(why), "another image than the one this receive is copying "
			 "(%llu bytes, block size %u, other source or length)",
			 (unsigned long long)m.info.length, m.info.block_size);
		return recv_refuse(x, EEXIST, why);
	}
	x->length = m.info.length;
	x->bs = m.info.block_size;
	x->delta = m.info.flags & SMSG_INFO_DELTA;
	x->nblocks = smap_nblocks(x->length, x->bs);
	rep->length = x->length;
	rep->block_size = x->bs;
	if (x->dst->o.length && x->dst->o.length != x->length) {
		snprintf(why, sizeof(why), "source is %llu bytes, --length says %llu",
			 (unsigned long long)x->length, (unsigned long long)x->dst->o.length);
		return recv_refuse(x, EINVAL, why);
	}
	r = dest_prepare(x->dst, x->length, why, sizeof(why));
	if (r < 0)
		return recv_refuse(x, -r, why);
	r = zero_hashes_init(&x->zh, x->length, x->bs);
	if (r < 0)
		return r;
	r = smap_load(x->dst->state_path, x->bs, x->dst->o.offset, x->length, m.info.source_id, &x->map);
	if (r < 0)
		r = smap_new(x->bs, x->dst->o.offset, x->length, m.info.source_id, &x->map);
	if (r < 0)
		return r;
	if (!x->bound) {
		x->bound = true;
		x->bound_length = x->length;
		x->bound_bs = x->bs;
		memcpy(x->bound_id, m.info.source_id, STREAM_HASH_LEN);
	}
	x->adv = malloc(x->nblocks ? x->nblocks * SMAP_ENTRY : 1);
	if (!x->adv)
		return -ENOMEM;
	memcpy(x->adv, x->map->entries, x->nblocks * SMAP_ENTRY);
	rep->resumed_bytes = 0;
	if (!x->delta) {
		for (uint64_t i = 0; i < x->nblocks; i++)
			if (smap_valid(x->map, i)) {
				uint64_t off = i * x->bs;

				rep->resumed_bytes += x->length - off < x->bs ? x->length - off : x->bs;
			}
		rep->bytes_done = rep->resumed_bytes;
	} else {
		r = recv_hash_destination(x);
		if (r < 0)
			return r;
	}
	return recv_advertise(x);
}

/* One connection: INFO, HASHES, the blocks, the verdict; or, when it
 * breaks, a checkpoint of everything written. */
static int recv_session(struct receiver *x, const struct pipe_stage *stages, struct pipe_stats *tot,
			unsigned *window)
{
	struct stream_report *rep = x->rep;
	struct pipe_stats stats[4];
	int r;

	x->any_block = x->recv_failed = x->refused_other = false;
	x->last_offset = 0;
	memset(&x->end, 0, sizeof(x->end));
	x->since_ckpt = 0;
	x->last_ckpt = now_s();
	x->ckpt_busy = x->ckpt_stop = false;
	x->ckpt_err = 0;
	x->pa_end = x->run_end = x->run_len = 0;
	dest_ring_cancel(x->dst, false);
	smap_free(x->map);
	smap_free(x->snap);
	free(x->adv);
	x->map = x->snap = NULL;
	x->adv = NULL;
	r = recv_setup(x);
	if (r < 0)
		return r;
	if (x->sessions++ == 0)
		x->first_resumed = rep->resumed_bytes;
	r = ckpt_start(x);
	if (r < 0)
		return r;
	*window = window_slots(x->o, x->bs);
	memset(stats, 0, sizeof(stats));
	/* Room for a record's tag behind each block (chan_recv_inplace). */
	r = pipe_run(*window, x->bs + CHAN_FRAME_OVERHEAD, 4, stages, recv_abort, x, stats);
	stats_add(tot, stats, 4);
	ckpt_stop(x);
	rep->bytes_sent = x->wire_base + chan_bytes_in(x->ch);
	if (r == 0) {
		r = recv_finish(x);
	} else {
		/* Keep what was written: the rerun resumes from here. */
		int rr = recv_checkpoint(x);
		uint8_t msg[SMSG_RESULT_HDR + 8];
		static const uint8_t none[STREAM_HASH_LEN];

		(void)rr;
		rep->result = rep->nbad ? STREAM_RESULT_MISMATCH :
			      r == -EINTR || r == -ECONNRESET || r == -EPIPE || r == -ETIMEDOUT ||
			      r == -ECANCELED ? STREAM_RESULT_INTERRUPTED : STREAM_RESULT_FAILED;
		/* Tell the sender, if it still listens (best effort), then
		 * read until it hangs up (5 s at most): closing with unread
		 * data would reset the connection and lose the verdict. */
		chan_send(x->ch, x->fd, msg, smsg_encode_result(msg, (uint8_t)rep->result, rep->nbad,
								rep->nbad ? 1 : 0, rep->bad, none), NULL, 0);
		if (x->recv_failed && !conn_broken(r))
			recv_drain(x->fd, 5000);
	}
	return r;
}

int stream_receive(struct stream_chan *ch, int fd, struct stream_dest *dst,
		   const struct stream_opts *o, struct stream_report *rep)
{
	static const struct pipe_stage stages_threads[] = {
		{ "receive", recv_stage, 1, NULL }, { "hash", recv_hash, 1, NULL },
		{ "write", recv_write, WRITERS, NULL }, { "commit", recv_commit, 1, NULL },
	};
	static const struct pipe_stage stages_ring[] = {
		{ "receive", recv_stage, 1, NULL }, { "hash", recv_hash, 1, NULL },
		{ "write", recv_submit, 1, NULL }, { "commit", recv_commit, 1, recv_drain_ring },
	};
	const struct pipe_stage *stages = stages_threads;
	struct receiver x = { .ch = ch, .fd = fd, .dst = dst, .o = o, .rep = rep };
	struct pipe_stats tot[4];
	unsigned window = 0, depth;
	const char *ev;
	int r;

	memset(rep, 0, sizeof(*rep));
	/* io_uring unless it is not there (old kernel, seccomp, sysctl
	 * kernel.io_uring_disabled) or BRIDGED_STREAM_WRITER=threads asks for
	 * the fallback; BRIDGED_STREAM_RING_DEPTH: writes in flight (1-64);
	 * BRIDGED_STREAM_PREALLOC=0: no allocation ahead (all three for tests
	 * and comparisons, docs/STREAM.md). */
	ev = getenv("BRIDGED_STREAM_RING_DEPTH");
	depth = ev ? (unsigned)strtoul(ev, NULL, 10) : RING_DEPTH;
	if (depth < 1 || depth > WINDOW_MAX)
		depth = RING_DEPTH;
	ev = getenv("BRIDGED_STREAM_WRITER");
	if ((!ev || strcmp(ev, "threads") != 0) && dest_ring_start(dst, depth) == 0) {
		stages = stages_ring;
		x.ring = true;
	}
	snprintf(rep->writer, sizeof(rep->writer), "%s", x.ring ? "io_uring" : "threads");
	rep->writes_inflight = x.ring ? depth : WRITERS;
	if (stream_knob_off("BRIDGED_STREAM_PREALLOC"))
		dst->no_prealloc = true;
	memset(tot, 0, sizeof(tot));
	x.t0 = x.last_progress = x.last_ckpt = now_s();
	x.ckpt_every = o->checkpoint_blocks ? o->checkpoint_blocks : CHECKPOINT_DEFAULT;
	if (x.ckpt_every > CHECKPOINT_MAX)
		x.ckpt_every = CHECKPOINT_MAX;
	struct stream_cut *cut = NULL;
	double cut_t = 0;

	for (;;) {
		bool other;
		int rr;

		r = recv_session(&x, stages, tot, &window);
		/* --retry: a connection that broke, or a later one that
		 * announced another image, is replaced by the next one. */
		if (r >= 0 || !o->reconnect || cancelled(o) || !x.bound ||
		    !(x.refused_other || (conn_broken(r) && rep->result == STREAM_RESULT_INTERRUPTED)))
			break;
		x.wire_base += chan_bytes_in(x.ch);
		x.open_base += chan_open_time(x.ch);
		/* A connection refused for another image is no cut: the
		 * outage of the cut before it goes on. */
		other = x.refused_other;
		if (!other) {
			cut = cut_begin(rep, x.t0, r);
			cut_t = now_s();
		}
		rr = o->reconnect(o->reconnect_arg, other ? -EPERM : r, rep, &x.ch, &x.fd);
		if (rr < 0) {
			rep->result = rr == -EACCES || rr == -EPERM ? STREAM_RESULT_REFUSED :
				      STREAM_RESULT_INTERRUPTED;
			snprintf(rep->message, sizeof(rep->message),
				 "the connection broke (%s); no new one: %s", strerror(-r), strerror(-rr));
			if (!conn_broken(r))
				r = -ECONNRESET;
			break;
		}
		if (cut)
			cut->outage = now_s() - cut_t;
		if (!other)
			rep->reconnects++;
		rep->result = STREAM_RESULT_NONE;
		rep->message[0] = '\0';
	}
	if (window) {
		report_stages(rep, stages, 4, tot, window);
		rep->resumed_bytes = x.first_resumed;
	}
	if (x.ch) {
		rep->open_busy = x.open_base + chan_open_time(x.ch);
		rep->bytes_sent = x.wire_base + chan_bytes_in(x.ch);
	}
	rep->duration = now_s() - x.t0;
	if (r < 0 && rep->result == STREAM_RESULT_NONE)
		rep->result = r == -EINTR || r == -ECONNRESET || r == -EPIPE ?
			      STREAM_RESULT_INTERRUPTED : STREAM_RESULT_FAILED;
	if (r < 0 && !rep->message[0])
		snprintf(rep->message, sizeof(rep->message), "%s", strerror(-r));
	if (r == 0 && rep->result != STREAM_RESULT_VERIFIED)
		r = -EBADMSG;
	if (r < 0 && rep->result == STREAM_RESULT_MISMATCH)
		r = -EBADMSG;
	ckpt_stop(&x);
	dest_ring_stop(dst);
	smap_free(x.map);
	smap_free(x.snap);
	free(x.adv);
	return r;
}
