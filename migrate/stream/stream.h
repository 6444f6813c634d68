/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The disk stream: copies a block device or file (the source) into a block
 * device, a file or a byte range of one (the destination) over one TCP
 * connection, authenticated and encrypted with the node identity keys,
 * verified block by block (XXH3-128, under an image hash with BLAKE2b) and
 * resumable. docs/STREAM.md has the
 * protocol.
 *
 * The engine is a library that works on a connected socket, so that the same
 * code serves `bridgectl migrate send|receive` (which connect and listen
 * themselves) and the daemon's source side of a cutover (which accepts the
 * connection and picks the disk):
 *
 *   stream_source_open() / stream_dest_open()  open, size, refuse early
 *   stream_handshake()                         authenticate the peer
 *   stream_send() / stream_receive()           copy, verify, report
 *
 * Nothing here exits or logs a key. Errors are -errno; the reason of a
 * refusal is also left in the report's message.
 */
#ifndef BRIDGED_MIGRATE_STREAM_H
#define BRIDGED_MIGRATE_STREAM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/keys.h"

#define STREAM_HASH_LEN 32
#define STREAM_BLOCK_MIN (64u * 1024)
#define STREAM_BLOCK_MAX (16u * 1024 * 1024)
/* A ZERO record covers a run of blocks of zeros up to this many bytes (or
 * one block, when blocks are larger): 32 slots of runs on a receiver whose
 * device writes zeros by hand are 2 GiB of writes to finish, not 32 GiB. */
#define STREAM_ZERO_RUN_MAX (64u << 20)
#define STREAM_BLOCK_DEFAULT (1u * 1024 * 1024)
#define STREAM_BLOCK_DEFAULT_BIG (4u * 1024 * 1024)	/* images above STREAM_BIG_IMAGE */
#define STREAM_BIG_IMAGE (256ull << 30)
/* Stages of a pipeline, at most (reported in stream_report). */
#define STREAM_STAGES_MAX 4
/* Bad block offsets carried in a result message, at most. */
#define STREAM_BAD_MAX 1024
/* Broken connections described one by one in a report, at most (the
 * counters go on beyond). */
#define STREAM_CUTS_MAX 64

struct stream_chan;
struct stream_source;
struct stream_dest;

enum stream_role {
	STREAM_INITIATOR,	/* connected: speaks first */
	STREAM_RESPONDER,	/* accepted */
	STREAM_ROLE_MAX,
};

enum stream_result {
	STREAM_RESULT_NONE,
	STREAM_RESULT_VERIFIED,		/* every block and the image hash match */
	STREAM_RESULT_MISMATCH,		/* some blocks differ: see bad[] */
	STREAM_RESULT_INTERRUPTED,	/* connection or process stopped early */
	STREAM_RESULT_REFUSED,		/* refused before any write */
	STREAM_RESULT_FAILED,		/* local I/O or protocol error */
	STREAM_RESULT_MAX,
};

const char *stream_result_to_string(enum stream_result r);

/* Handshake parameters. With plain set, there is no key, no authentication
 * and no encryption (a trusted LAN only); both sides must agree on it, a
 * mismatch is refused loudly. Otherwise local_priv is our static private key
 * and the peer must prove it holds the private key of one of peers[]. */
struct stream_auth {
	bool plain;
	bool no_aesgcm;		/* use XChaCha20-Poly1305 even with AES-NI on both ends */
	const uint8_t *local_priv;		/* KEY_LEN bytes */
	const uint8_t (*peers)[KEY_LEN];	/* allowed peer public keys */
	unsigned n_peers;
};

/* Runs the handshake on a connected stream socket fd (blocking, bounded by
 * timeout_ms). On success *ret_chan owns nothing but the crypto state (the
 * fd stays the caller's) and *ret_peer is the index of the peer in peers[]
 * (0 in plain mode). -EACCES: the peer is not authenticated; -EPROTO: not a
 * stream peer or modes differ (the message says which); -ETIMEDOUT. */
int stream_handshake(int fd, enum stream_role role, const struct stream_auth *auth,
		     int timeout_ms, struct stream_chan **ret_chan, unsigned *ret_peer,
		     char *errbuf, size_t errlen);
void stream_chan_free(struct stream_chan *ch);
bool stream_chan_encrypted(const struct stream_chan *ch);
/* "aes256gcm", "xchacha20poly1305" or "none". */
const char *stream_chan_cipher(const struct stream_chan *ch);

/* Opens a source read-only and measures it. A block device that another
 * holder opened exclusively, or a regular file that some process has open
 * for writing, is refused (-EBUSY) unless warm is set: a running VM would
 * change it under the copy. */
int stream_source_open(const char *path, bool warm, struct stream_source **ret,
		       char *errbuf, size_t errlen);
void stream_source_free(struct stream_source *src);
uint64_t stream_source_size(const struct stream_source *src);
/* The open descriptor, for a look at the source's first bytes with pread
 * (the old host's daemon reads a listed disk's swap signature). */
int stream_source_fd(const struct stream_source *src);
/* The source's facts, to hand an opened source to another process (the
 * old host's daemon opens disks in its privileged part, docs/SECURITY.md):
 * its realpath, whether it is a block device, whether opened warm. */
const char *stream_source_real(const struct stream_source *src);
bool stream_source_is_blk(const struct stream_source *src);
bool stream_source_warm(const struct stream_source *src);
/* Wraps a descriptor that stream_source_open() opened in another process
 * (takes it over: closed by stream_source_free, or here on failure). */
int stream_source_adopt(int fd, const char *path, const char *real, bool is_blk, bool warm,
			uint64_t size, struct stream_source **ret);

struct stream_dest_opts {
	uint64_t offset;	/* where the image starts inside the destination */
	uint64_t length;	/* expected source length, 0: whatever comes */
	bool create;		/* create / grow a regular file */
	const char *state_dir;	/* NULL: next to a file, /var/lib/bridged/stream for devices */
};

/* Opens the destination read-write and claims it: O_EXCL on a block device
 * (-EBUSY when mounted or held), an exclusive flock on a file (-EBUSY when
 * another receive holds it). Writes nothing. */
int stream_dest_open(const char *path, const struct stream_dest_opts *o,
		     struct stream_dest **ret, char *errbuf, size_t errlen);
void stream_dest_free(struct stream_dest *dst);

/* Counters and the verdict of one run, filled by send and receive. */
struct stream_report {
	enum stream_result result;
	uint64_t length;		/* source length (bytes of the image) */
	uint32_t block_size;
	uint64_t bytes_done;		/* image bytes accounted for so far */
	uint64_t bytes_read;		/* sender: source bytes read */
	uint64_t bytes_sent;		/* sender: wire bytes sent; receiver: received */
	uint64_t data_bytes;		/* image bytes that travelled as data */
	uint64_t zero_bytes;		/* image bytes skipped as zeros */
	uint64_t resumed_bytes;		/* image bytes the receiver already had */
	uint64_t unchanged_bytes;	/* delta: image bytes whose hash matched */
	uint64_t readback_bytes;	/* receiver: bytes re-read for verification */
	double duration;		/* seconds */
	double flush_duration;		/* receiver: final flush before the verdict, s */
	unsigned checkpoints;		/* receiver: resume maps saved during the copy */
	bool have_hash, have_peer_hash;
	uint8_t image_hash[STREAM_HASH_LEN];
	uint8_t peer_image_hash[STREAM_HASH_LEN];
	/* Where the pipeline's time went (docs/STREAM.md, "Pipelines"): per
	 * stage, seconds busy and waiting for a slot, summed over its threads;
	 * seal / open: the AEAD's share of the send / receive stage. */
	unsigned nstages;
	struct stream_stage_stats {
		char name[12];
		unsigned threads;
		double busy, wait;
	} stages[STREAM_STAGES_MAX];
	double seal_busy, open_busy;
	unsigned window;		/* slots of the pipeline */
	char writer[12];		/* receiver: "io_uring" or "threads" (the fallback) */
	unsigned writes_inflight;	/* receiver: at most this many block writes at once */
	/* --retry: connections that broke and were replaced in this run,
	 * and (sender) the image bytes that travelled again because the
	 * connection that carried them broke before the receiver had them. */
	unsigned reconnects;
	uint64_t resent_bytes;
	unsigned ncuts;			/* entries in cuts[] */
	struct stream_cut {
		double at;		/* seconds into the run */
		double outage;		/* until the next connection was set up */
		uint64_t bytes_done;	/* image bytes accounted for when it broke */
		uint64_t resent_bytes;	/* sender: what this cut made travel again */
		int err;		/* why it broke (errno) */
	} cuts[STREAM_CUTS_MAX];
	uint32_t nbad;			/* blocks that differ (total) */
	uint64_t bad[STREAM_BAD_MAX];	/* their offsets in the image (first ones) */
	char message[256];		/* why, when not verified */
};

typedef void (*stream_progress_fn)(const struct stream_report *rep, bool final, void *arg);
/* --retry: called when the connection broke (err: -ECONNRESET, -EPIPE,
 * -ETIMEDOUT, ...) after what it carried is accounted for (the receiver has
 * flushed and saved its map). Returns 0 with a new authenticated connection
 * in *ch and *fd (the callback closes the old ones; NULL and -1 when it
 * fails), or -errno: the run ends interrupted (-EACCES, -EPERM: refused).
 * rep->cuts[rep->ncuts - 1] describes the cut (while ncuts < STREAM_CUTS_MAX).
 * Receiver: err -EPERM when the last connection was refused for announcing
 * another image (rep->message says so): no cut, wait for the next one. */
typedef int (*stream_reconnect_fn)(void *arg, int err, const struct stream_report *rep,
				   struct stream_chan **ch, int *fd);

struct stream_opts {
	uint32_t block_size;		/* sender: 0 = 1 MiB (4 MiB above 256 GiB) */
	uint64_t length;		/* sender: bytes of the source, 0 = all */
	bool delta;			/* sender: compare hashes, send changed blocks */
	bool verify_readback;		/* receiver: re-read the destination at the end */
	uint64_t max_rate;		/* sender: bytes/s on the wire, 0 = unlimited */
	unsigned window;		/* slots of the pipeline (a block, or a run of zero blocks), 0 = 32 MiB worth */
	unsigned checkpoint_blocks;	/* receiver: save the map every N data blocks (and 1 s) */
	stream_progress_fn progress;	/* called about once a second, and at the end */
	void *progress_arg;
	volatile sig_atomic_t *cancel;	/* set non-zero to stop (checked per slot) */
	stream_reconnect_fn reconnect;	/* NULL: a broken connection ends the run */
	void *reconnect_arg;
};

/* Sends src over ch (fd: its socket). Returns 0 when the receiver reported
 * "verified", -EBADMSG on a mismatch, -EINTR/-ECONNRESET/... when
 * interrupted, -EPERM when refused; rep is filled in every case. */
int stream_send(struct stream_chan *ch, int fd, struct stream_source *src,
		const struct stream_opts *o, struct stream_report *rep);
/* Receives into dst; same return values as stream_send(). With
 * o->reconnect, every connection after the first must announce the same
 * image (length, block size, source id) or is refused. */
int stream_receive(struct stream_chan *ch, int fd, struct stream_dest *dst,
		   const struct stream_opts *o, struct stream_report *rep);

/* A comparison knob of the environment (BRIDGED_STREAM_PREALLOC,
 * _HUGEPAGES, _RCVLOWAT) set to "0": what it names is turned off (docs/STREAM.md). */
static inline bool stream_knob_off(const char *name)
{
	const char *ev = getenv(name);

	return ev && ev[0] == '0' && ev[1] == '\0';
}

#endif
