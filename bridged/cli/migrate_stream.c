/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bridgectl migrate send|receive`: the command line of the disk stream.
 * Parses options, loads the keys, connects or listens, runs the engine
 * (stream_engine.c) and prints progress and the final report, as text or
 * JSON lines (json-c).
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "bridged/cli/migrate_cli.h"
#include "bridged/cli/migrate_conn.h"
#include "common/escape.h"
#include "migrate/migrate.h"
#include "common/keys.h"

#define DEFAULT_KEY MIG_DEFAULT_KEY
#define HANDSHAKE_TIMEOUT_MS MIG_HANDSHAKE_TIMEOUT_MS

static const char send_help[] =
"Usage: bridgectl migrate send SRC --to ADDR:PORT [OPTIONS]\n"
"\n"
"Streams SRC, a block device or a regular file opened read-only, to a\n"
"'bridgectl migrate receive' listening on ADDR:PORT. Blocks of zeros do\n"
"not travel; every block is checked on both sides (XXH3-128), the whole\n"
"image hashed (BLAKE2b-256), every record authenticated (unless --plain), and\n"
"the receiver's verdict ends the run: \"verified\", or the offsets of the blocks\n"
"that differ. Rerunning the same command after an interruption resumes:\n"
"blocks the receiver already verified are not sent again. With --retry on\n"
"both sides a broken connection is replaced and the copy resumes by itself.\n"
"\n"
"SRC is refused when it is in use for writing (a block device another\n"
"holder opened exclusively, such as a running Xen domain or a mount; a file\n"
"some process has open for writing) unless --warm is given.\n"
"\n"
"Options:\n"
"  --to ADDR:PORT        the receiver (IPv4, [IPv6] or a host name)\n"
"  --key FILE            our private key (default " DEFAULT_KEY ")\n"
"  --peer-key BASE64     the receiver's public key; any other is refused\n"
"  --plain               no authentication and no encryption (trusted LAN\n"
"                        only; the receiver must use --plain too). Blocks\n"
"                        are still hashed and verified.\n"
"  --warm                copy while the source is in use; follow with a\n"
"                        --delta pass once the VM is stopped\n"
"  --delta               hash every block of the source and send only those\n"
"                        whose hash differs from the receiver's\n"
"  --length BYTES        send only the first BYTES of SRC (default: all)\n"
"  --block-size BYTES    block size, a power of two from 64K to 16M\n"
"                        (default 1M, 4M for images above 256 GiB)\n"
"  --max-rate BYTES      limit to BYTES per second on the wire (e.g. 100M)\n"
"  --window N            blocks in flight in the pipeline (default: 32 MiB of blocks;\n"
"                        a run of zero blocks, up to 64 MiB, counts as one)\n"
"  --connect-timeout S   keep trying to connect for S seconds (default 30)\n"
"  --retry S             when the connection breaks, reconnect (backoff 0.1 s\n"
"                        doubling to 5 s) and resume, giving up when no new\n"
"                        connection is set up within S seconds of a cut\n"
"                        (default 0: a cut ends the run, exit 4; the receiver\n"
"                        needs --retry too)\n"
"  --json                progress and the final report as JSON lines on stdout\n"
"  -q, --quiet           no progress, only the final report\n"
"  -h, --help            this text\n"
"\n"
"Progress goes to stderr once a second on a terminal (every 10 s otherwise).\n"
"\n"
"Exit status: 0 verified, 1 mismatch or error, 2 usage, 3 refused (too\n"
"small, in use, not authenticated), 4 interrupted.\n"
"\n"
"Example:\n"
"  new# bridgectl migrate receive --listen 0.0.0.0:5000 --peer-key OLDPUB= \\\n"
"           --offset 1048576 /dev/vg0/web1\n"
"  old# bridgectl migrate send /dev/vg/web1-root --to new:5000 --peer-key NEWPUB=\n";

static const char receive_help[] =
"Usage: bridgectl migrate receive --listen ADDR:PORT DEST [OPTIONS]\n"
"       bridgectl migrate receive --from ADDR:PORT --vm VM --disk VDEV DEST [OPTIONS]\n"
"       bridgectl migrate receive --from ADDR:PORT --vm VM --list\n"
"\n"
"Accepts one 'bridgectl migrate send' on ADDR:PORT (with --retry, its next\n"
"connections too, after a cut) and writes the stream\n"
"into DEST, a block device or a regular file, starting at --offset (a\n"
"partition written at its place inside a whole-disk volume). Zeros are\n"
"written as zeros (BLKZEROOUT on devices, holes in files): a new volume is\n"
"never assumed to be empty. Every block is verified against the sender's\n"
"hash before it counts; the verdict is sent back and printed.\n"
"\n"
"Before anything is written DEST is refused when it is smaller than\n"
"--offset plus the source, when it is in use (a block device opened\n"
"exclusively by another holder, a file locked by another receive) or when\n"
"the peer does not authenticate.\n"
"\n"
"Resume: a map of verified blocks is kept in a state file (next to a file\n"
"DEST as .NAME@OFFSET.stream-state, in /var/lib/bridged/stream for a\n"
"device, or in --state DIR), checkpointed every 16 blocks of data (a block\n"
"of zeros counts 1/16) or every second, after the written data is flushed.\n"
"Rerun the same two commands after an interruption and only what is\n"
"missing travels.\n"
"\n"
"Options:\n"
"  --listen ADDR:PORT    where to listen (e.g. 0.0.0.0:5000, [::]:5000)\n"
"  --offset BYTES        where the image starts inside DEST (default 0)\n"
"  --length BYTES        refuse a source of any other length\n"
"  --create              create DEST as a sparse file, or grow it, if needed\n"
"  --state DIR           keep the resume map in DIR\n"
"  --verify-readback     at the end, re-read every block from DEST and\n"
"                        compare it with the sender's hash\n"
"  --checkpoint N        save the map at least every N blocks of data\n"
"                        (default 16; a block of zeros or an unchanged one\n"
"                        counts 1/16: it costs a record to resend)\n"
"  --key FILE            our private key (default " DEFAULT_KEY ")\n"
"  --peer-key BASE64     the sender's public key; any other is refused\n"
"  --plain               no authentication and no encryption (see send)\n"
"  --accept-timeout S    give up when nobody connects within S seconds\n"
"  --retry S             keep listening when the connection breaks: accept\n"
"                        the sender's next connection (same key, same image)\n"
"                        within S seconds and resume (default 0: one\n"
"                        connection, then exit)\n"
"  --json                progress and the final report as JSON lines on stdout\n"
"  -q, --quiet           no progress, only the final report\n"
"  -h, --help            this text\n"
"\n"
"\n"
"From the old host's daemon (its [Node] MigrateListen): instead of\n"
"listening, connect to it and name the VM and the disk; the daemon copies\n"
"only the disks of that VM's Xen config, read-only, to a [Peer] of its\n"
"configuration (--peer-key: the old host's public key; --key: ours, the\n"
"one its [Peer] section names):\n"
"  --from ADDR:PORT      the old host's MigrateListen\n"
"  --vm NAME             the VM (its config is XenConfigDir/NAME[.cfg])\n"
"  --disk VDEV           the disk to copy, as the config names it (xvda2)\n"
"  --list                print the VM's disks as JSON (size, in use, a swap\n"
"                        area's UUID and label), copy nothing (no DEST)\n"
"  --delta               the old host hashes every block and sends only\n"
"                        those that differ from DEST\n"
"  --warm                copy a disk in use (the VM runs); again with --delta\n"
"                        (without --warm) once the VM is shut down: the daemon\n"
"                        refuses that final pass while the disk is in use\n"
"  --connect-timeout S   keep trying to connect for S seconds (default 30)\n"
"A refusal (unknown VM or disk, not a peer, disk in use without --warm)\n"
"writes nothing.\n"
"\n"
"Exit status: as for send.\n"
"\n"
"Example:\n"
"  new# bridgectl migrate receive --from old:5881 --peer-key OLDPUB= \\\n"
"           --vm web1 --disk xvda2 --offset 1048576 /dev/vg0/web1\n";

void stream_usage(FILE *f)
{
	fprintf(f,
		"  migrate send SRC --to ADDR:PORT [--peer-key KEY] [--delta] [--warm] ...\n"
		"                                  stream a disk or partition image (see --help)\n"
		"  migrate receive --listen ADDR:PORT DEST [--offset N] [--peer-key KEY] ...\n"
		"                                  receive it, verified and resumable\n"
		"  migrate receive --from ADDR:PORT --vm VM --disk VDEV DEST [--list] ...\n"
		"                                  copy a VM's disk from the old host's bridged\n");
}

/* "1234", "4M", "1G": bytes. */
static int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end || (v && mul > UINT64_MAX / v))
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

static int listen_on(const char *addr)
{
	char host[256], port[32];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res, *ai;
	int fd = -1, one = 1, e;

	if (mig_split_addr(addr, host, sizeof(host), port, sizeof(port)) < 0) {
		fprintf(stderr, "receive: bad address '%s' (ADDR:PORT)\n", addr);
		return -EINVAL;
	}
	e = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (e) {
		fprintf(stderr, "receive: %s: %s\n", addr, gai_strerror(e));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "receive: listen on %s: %s\n", addr, strerror(errno));
	return fd < 0 ? -EADDRNOTAVAIL : fd;
}

/* Progress and report output. */
struct out {
	const char *role;
	const char *cipher;
	bool json, quiet, tty;
	double last_plain;
	bool bar_drawn;
};

static void human_bytes(char *buf, size_t len, double v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.2f %s" : "%.0f %s", v, units[u]);
}

static double run_rate(const struct stream_report *rep)
{
	uint64_t moved = rep->bytes_done - rep->resumed_bytes;

	return rep->duration > 0 ? (double)moved / rep->duration : 0;
}

static void hex(char *out, const uint8_t *h)
{
	sodium_bin2hex(out, 2 * STREAM_HASH_LEN + 1, h, STREAM_HASH_LEN);
}

static void on_progress(const struct stream_report *rep, bool final, void *arg)
{
	struct out *o = arg;
	double rate = run_rate(rep), eta;
	double frac = rep->length ? (double)rep->bytes_done / (double)rep->length : 1;
	char done[32], total[32], rs[32];

	if (o->quiet || final)
		return;
	eta = rate > 0 ? (double)(rep->length - rep->bytes_done) / rate : -1;
	if (o->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "event", json_object_new_string("progress"));
		json_object_object_add(j, "role", json_object_new_string(o->role));
		json_object_object_add(j, "bytes_done", json_object_new_int64((int64_t)rep->bytes_done));
		json_object_object_add(j, "length", json_object_new_int64((int64_t)rep->length));
		json_object_object_add(j, "bytes_sent", json_object_new_int64((int64_t)rep->bytes_sent));
		json_object_object_add(j, "data_bytes", json_object_new_int64((int64_t)rep->data_bytes));
		json_object_object_add(j, "zero_bytes", json_object_new_int64((int64_t)rep->zero_bytes));
		json_object_object_add(j, "rate", json_object_new_double(rate));
		json_object_object_add(j, "eta", json_object_new_double(eta));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		json_object_put(j);
		return;
	}
	human_bytes(done, sizeof(done), (double)rep->bytes_done);
	human_bytes(total, sizeof(total), (double)rep->length);
	human_bytes(rs, sizeof(rs), rate);
	if (o->tty) {
		char bar[31];
		int n = (int)(frac * 30), i;

		for (i = 0; i < 30; i++)
			bar[i] = i < n ? '#' : '-';
		bar[30] = '\0';
		if (eta >= 0)
			fprintf(stderr, "\r%s [%s] %5.1f%% %s / %s  %s/s  ETA %d:%02d:%02d   ", o->role, bar,
				frac * 100, done, total, rs, (int)eta / 3600, (int)eta / 60 % 60, (int)eta % 60);
		else
			fprintf(stderr, "\r%s [%s] %5.1f%% %s / %s  %s/s   ", o->role, bar, frac * 100,
				done, total, rs);
		o->bar_drawn = true;
	} else if (rep->duration - o->last_plain >= 10) {
		o->last_plain = rep->duration;
		fprintf(stderr, "%s: %5.1f%% %s / %s, %s/s\n", o->role, frac * 100, done, total, rs);
	}
}

static json_object *out_cipher(const struct out *o)
{
	return o->cipher ? json_object_new_string(o->cipher) : NULL;
}

static void report_print(struct out *o, const char *what, const struct stream_report *rep)
{
	char h[2 * STREAM_HASH_LEN + 1], ph[2 * STREAM_HASH_LEN + 1];
	uint32_t i, listed = rep->nbad < STREAM_BAD_MAX ? rep->nbad : STREAM_BAD_MAX;

	if (o->bar_drawn)
		fputc('\n', stderr);
	hex(h, rep->image_hash);
	hex(ph, rep->peer_image_hash);
	if (o->json) {
		json_object *j = json_object_new_object(), *bad = json_object_new_array();

		json_object_object_add(j, "event", json_object_new_string("result"));
		json_object_object_add(j, "role", json_object_new_string(o->role));
		json_object_object_add(j, "result", json_object_new_string(stream_result_to_string(rep->result)));
		json_object_object_add(j, "path", json_object_new_string(what));
		json_object_object_add(j, "cipher", out_cipher(o));
		json_object_object_add(j, "length", json_object_new_int64((int64_t)rep->length));
		json_object_object_add(j, "block_size", json_object_new_int64(rep->block_size));
		json_object_object_add(j, "bytes_done", json_object_new_int64((int64_t)rep->bytes_done));
		json_object_object_add(j, "bytes_read", json_object_new_int64((int64_t)rep->bytes_read));
		json_object_object_add(j, "bytes_sent", json_object_new_int64((int64_t)rep->bytes_sent));
		json_object_object_add(j, "data_bytes", json_object_new_int64((int64_t)rep->data_bytes));
		json_object_object_add(j, "zero_bytes", json_object_new_int64((int64_t)rep->zero_bytes));
		json_object_object_add(j, "resumed_bytes", json_object_new_int64((int64_t)rep->resumed_bytes));
		json_object_object_add(j, "unchanged_bytes", json_object_new_int64((int64_t)rep->unchanged_bytes));
		json_object_object_add(j, "readback_bytes", json_object_new_int64((int64_t)rep->readback_bytes));
		json_object_object_add(j, "duration", json_object_new_double(rep->duration));
		json_object_object_add(j, "flush_duration", json_object_new_double(rep->flush_duration));
		json_object_object_add(j, "rate", json_object_new_double(run_rate(rep)));
		if (rep->nstages) {
			json_object *st = json_object_new_array();

			for (i = 0; i < rep->nstages && i < STREAM_STAGES_MAX; i++) {
				json_object *e = json_object_new_object();

				json_object_object_add(e, "name", json_object_new_string(rep->stages[i].name));
				json_object_object_add(e, "threads", json_object_new_int(rep->stages[i].threads));
				json_object_object_add(e, "busy", json_object_new_double(rep->stages[i].busy));
				json_object_object_add(e, "wait", json_object_new_double(rep->stages[i].wait));
				json_object_array_add(st, e);
			}
			json_object_object_add(j, "window", json_object_new_int((int)rep->window));
			json_object_object_add(j, "stages", st);
			if (rep->writer[0]) {
				json_object_object_add(j, "writer", json_object_new_string(rep->writer));
				json_object_object_add(j, "writes_inflight",
						       json_object_new_int((int)rep->writes_inflight));
				json_object_object_add(j, "checkpoints",
						       json_object_new_int64(rep->checkpoints));
			}
			json_object_object_add(j, !strcmp(o->role, "send") ? "seal_busy" : "open_busy",
					       json_object_new_double(!strcmp(o->role, "send") ? rep->seal_busy :
								      rep->open_busy));
		}
		json_object_object_add(j, "image_hash", rep->have_hash ? json_object_new_string(h) : NULL);
		json_object_object_add(j, "peer_image_hash", rep->have_peer_hash ? json_object_new_string(ph) : NULL);
		json_object_object_add(j, "reconnects", json_object_new_int((int)rep->reconnects));
		if (!strcmp(o->role, "send"))
			json_object_object_add(j, "resent_bytes", json_object_new_int64((int64_t)rep->resent_bytes));
		if (rep->ncuts) {
			json_object *cuts = json_object_new_array();

			for (i = 0; i < rep->ncuts && i < STREAM_CUTS_MAX; i++) {
				const struct stream_cut *c = &rep->cuts[i];
				json_object *e = json_object_new_object();

				json_object_object_add(e, "at", json_object_new_double(c->at));
				json_object_object_add(e, "bytes_done", json_object_new_int64((int64_t)c->bytes_done));
				json_object_object_add(e, "cause", json_object_new_string(strerror(c->err)));
				json_object_object_add(e, "outage", json_object_new_double(c->outage));
				if (!strcmp(o->role, "send"))
					json_object_object_add(e, "resent_bytes",
							       json_object_new_int64((int64_t)c->resent_bytes));
				json_object_array_add(cuts, e);
			}
			json_object_object_add(j, "cuts", cuts);
		}
		json_object_object_add(j, "nbad", json_object_new_int64(rep->nbad));
		for (i = 0; i < listed; i++)
			json_object_array_add(bad, json_object_new_int64((int64_t)rep->bad[i]));
		json_object_object_add(j, "bad_blocks", bad);
		json_object_object_add(j, "message", rep->message[0] ? json_object_new_string(rep->message) : NULL);
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		json_object_put(j);
		return;
	}
	{
		char a[32], b[32], c[32], d[32], e[32], f[32];

		human_bytes(a, sizeof(a), (double)rep->length);
		human_bytes(b, sizeof(b), (double)rep->bytes_read);
		human_bytes(c, sizeof(c), (double)rep->bytes_sent);
		human_bytes(d, sizeof(d), (double)rep->zero_bytes);
		human_bytes(e, sizeof(e), (double)(rep->resumed_bytes + rep->unchanged_bytes));
		human_bytes(f, sizeof(f), run_rate(rep));
		printf("%s %s: %s%s%s\n", o->role, what, stream_result_to_string(rep->result),
		       rep->message[0] ? ": " : "", rep->message);
		printf("  image       %llu bytes (%s), block size %u\n", (unsigned long long)rep->length, a,
		       rep->block_size);
		if (o->cipher)
			printf("  cipher      %s\n", o->cipher);
		if (!strcmp(o->role, "send"))
			printf("  read        %s\n", b);
		printf("  %s %s (wire)\n", !strcmp(o->role, "send") ? "sent       " : "received   ", c);
		printf("  zeros       %s skipped\n", d);
		printf("  skipped     %s already on the receiver (resumed or unchanged)\n", e);
		if (rep->readback_bytes)
			printf("  read back   %llu bytes\n", (unsigned long long)rep->readback_bytes);
		if (rep->writer[0])
			printf("  writer      %s, up to %u block writes in flight\n", rep->writer,
			       rep->writes_inflight);
		printf("  duration    %.2f s, %s/s\n", rep->duration, f);
		if (rep->reconnects || rep->ncuts) {
			human_bytes(e, sizeof(e), (double)rep->resent_bytes);
			if (!strcmp(o->role, "send"))
				printf("  reconnects  %u (%s sent again)\n", rep->reconnects, e);
			else
				printf("  reconnects  %u\n", rep->reconnects);
		}
		if (rep->have_hash)
			printf("  image hash  blake2b:%s\n", h);
		if (rep->have_peer_hash)
			printf("  peer hash   blake2b:%s\n", ph);
		if (rep->nbad) {
			printf("  differing blocks (%u, offsets in the image):", rep->nbad);
			for (i = 0; i < listed; i++)
				printf(" %llu", (unsigned long long)rep->bad[i]);
			printf("%s\n", listed < rep->nbad ? " ..." : "");
		}
		fflush(stdout);
	}
}

static int exit_status(int r, const struct stream_report *rep)
{
	if (r == 0 && rep->result == STREAM_RESULT_VERIFIED)
		return EXIT_OK;
	switch (rep->result) {
	case STREAM_RESULT_REFUSED: return EXIT_REFUSED;
	case STREAM_RESULT_INTERRUPTED: return EXIT_INTERRUPTED;
	default: return EXIT_FAIL;
	}
}

/* The end both commands share: the report, the exit status, and on
 * failure one line on stderr (unless --json says it all). */
static int finish(struct out *o, const char *verb, const char *path, bool json, int r,
		  const struct stream_report *rep)
{
	int status;

	report_print(o, path, rep);
	status = exit_status(r, rep);
	if (!json && status != EXIT_OK)
		fprintf(stderr, "%s: %s: %s\n", verb, stream_result_to_string(rep->result),
			rep->message[0] ? rep->message : strerror(-r));
	return status;
}

/* Options both commands share. */
struct common {
	struct mig_keys k;
	bool json, quiet;
};

enum {
	OPT_TO = 256, OPT_LISTEN, OPT_KEY, OPT_PEER_KEY, OPT_PLAIN, OPT_WARM, OPT_DELTA,
	OPT_LENGTH, OPT_OFFSET, OPT_BLOCK, OPT_RATE, OPT_WINDOW, OPT_CTIMEOUT, OPT_JSON,
	OPT_CREATE, OPT_STATE, OPT_READBACK, OPT_CKPT, OPT_ATIMEOUT, OPT_FROM, OPT_VM, OPT_DISK,
	OPT_LIST, OPT_RETRY,
};

static const struct option long_opts[] = {
	{ "to", required_argument, NULL, OPT_TO },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "peer-key", required_argument, NULL, OPT_PEER_KEY },
	{ "plain", no_argument, NULL, OPT_PLAIN },
	{ "warm", no_argument, NULL, OPT_WARM },
	{ "delta", no_argument, NULL, OPT_DELTA },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "block-size", required_argument, NULL, OPT_BLOCK },
	{ "max-rate", required_argument, NULL, OPT_RATE },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "connect-timeout", required_argument, NULL, OPT_CTIMEOUT },
	{ "accept-timeout", required_argument, NULL, OPT_ATIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "create", no_argument, NULL, OPT_CREATE },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "verify-readback", no_argument, NULL, OPT_READBACK },
	{ "checkpoint", required_argument, NULL, OPT_CKPT },
	{ "retry", required_argument, NULL, OPT_RETRY },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "vm", required_argument, NULL, OPT_VM },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct args {
	struct common c;
	const char *addr, *path, *state_dir;
	const char *from, *vm, *disk;	/* receive from the old host's daemon */
	bool warm, delta, create, readback, list, ctimeout_given;
	uint64_t length, offset, block, rate, window, ctimeout, atimeout, ckpt, retry;
};

static int args_check_limits(const char *role, const struct args *a)
{
	if (a->window > 64 || a->ckpt > 1u << 20) {
		fprintf(stderr, "%s: --window at most 64, --checkpoint at most 1048576\n", role);
		return -1;
	}
	return 0;
}

/* receive --from: the rest of the command line (optind is past the options). */
static int args_check_from(struct args *a, int argc, char **argv)
{
	int rest = a->list ? 0 : 1;

	if (!a->from || !a->vm) {
		fprintf(stderr, "receive: --from ADDR:PORT and --vm NAME go together (see --help)\n");
		return -1;
	}
	if (a->addr) {
		fprintf(stderr, "receive: --listen and --from exclude each other\n");
		return -1;
	}
	if (a->atimeout || a->retry) {
		fprintf(stderr, "receive: --accept-timeout and --retry are for --listen; "
			"with --from, rerun the command to resume\n");
		return -1;
	}
	if (a->c.k.plain) {
		fprintf(stderr, "receive: the daemon serves authenticated peers only: no --plain with --from\n");
		return -1;
	}
	if (!a->list && !a->disk) {
		fprintf(stderr, "receive: --disk VDEV is required with --from (or --list)\n");
		return -1;
	}
	if (a->list && (a->disk || a->warm || a->delta)) {
		fprintf(stderr, "receive: --list takes no --disk, --warm or --delta\n");
		return -1;
	}
	if (strlen(a->vm) > FETCH_NAME_MAX || (a->disk && strlen(a->disk) > FETCH_NAME_MAX)) {
		fprintf(stderr, "receive: --vm or --disk longer than %d bytes\n", FETCH_NAME_MAX);
		return -1;
	}
	if (optind + rest != argc) {
		fprintf(stderr, "receive: %s (see --help)\n", optind + rest > argc ? "DEST is missing" :
			a->list ? "--list takes no DEST" : "too many arguments");
		return -1;
	}
	a->path = rest ? argv[optind] : NULL;
	return args_check_limits("receive", a);
}

/* Parses argv for role "send" or "receive"; returns -1 on a usage error,
 * 1 after --help. Options the role does not take are usage errors. */
static int args_parse(int argc, char **argv, bool send, struct args *a)
{
	const char *role = send ? "send" : "receive";
	int c;

	memset(a, 0, sizeof(*a));
	a->c.k.key_file = DEFAULT_KEY;
	a->ctimeout = 30;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", long_opts, NULL)) != -1) {
		uint64_t *num = NULL;
		bool ok = true;

		switch (c) {
		case 'h':
			fputs(send ? send_help : receive_help, stdout);
			return 1;
		case 'q': a->c.quiet = true; break;
		case OPT_JSON: a->c.json = true; break;
		case OPT_KEY: a->c.k.key_file = optarg; break;
		case OPT_PEER_KEY: a->c.k.peer_key = optarg; break;
		case OPT_PLAIN: a->c.k.plain = true; break;
		case OPT_LENGTH: num = &a->length; break;
		case OPT_TO: ok = send; a->addr = optarg; break;
		case OPT_WARM: a->warm = true; break;	/* receive: with --from only */
		case OPT_DELTA: a->delta = true; break;	/* receive: with --from only */
		case OPT_FROM: ok = !send; a->from = optarg; break;
		case OPT_VM: ok = !send; a->vm = optarg; break;
		case OPT_DISK: ok = !send; a->disk = optarg; break;
		case OPT_LIST: ok = !send; a->list = true; break;
		case OPT_BLOCK: ok = send; num = &a->block; break;
		case OPT_RATE: ok = send; num = &a->rate; break;
		case OPT_WINDOW: num = &a->window; break;
		case OPT_CTIMEOUT: num = &a->ctimeout; a->ctimeout_given = true; break;
		case OPT_LISTEN: ok = !send; a->addr = optarg; break;
		case OPT_OFFSET: ok = !send; num = &a->offset; break;
		case OPT_CREATE: ok = !send; a->create = true; break;
		case OPT_STATE: ok = !send; a->state_dir = optarg; break;
		case OPT_READBACK: ok = !send; a->readback = true; break;
		case OPT_CKPT: ok = !send; num = &a->ckpt; break;
		case OPT_ATIMEOUT: ok = !send; num = &a->atimeout; break;
		case OPT_RETRY: num = &a->retry; break;
		default:
			fprintf(stderr, "%s: unknown or incomplete option '%s' (see --help)\n", role,
				argv[optind - 1]);
			return -1;
		}
		if (!ok) {
			const char *name = "?";

			for (const struct option *lo = long_opts; lo->name; lo++)
				if (lo->val == c)
					name = lo->name;
			fprintf(stderr, "%s: option '--%s' belongs to %s (see --help)\n", role,
				name, send ? "receive" : "send");
			return -1;
		}
		if (num && parse_size(optarg, num) < 0) {
			fprintf(stderr, "%s: '%s' is not a size in bytes (suffixes K, M, G)\n", role, optarg);
			return -1;
		}
	}
	if (!send && (a->from || a->vm || a->disk || a->list))
		return args_check_from(a, argc, argv);
	if (!send && (a->warm || a->delta || a->ctimeout_given)) {
		fprintf(stderr, "receive: --warm, --delta and --connect-timeout belong to send "
			"(or to receive --from)\n");
		return -1;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "%s: %s (see --help)\n", role,
			optind >= argc ? (send ? "SRC is missing" : "DEST is missing") : "too many arguments");
		return -1;
	}
	a->path = argv[optind];
	if (!a->addr) {
		fprintf(stderr, "%s: %s is required\n", role, send ? "--to ADDR:PORT" : "--listen ADDR:PORT");
		return -1;
	}
	if (a->window > 64 || a->ckpt > 1u << 20) {
		fprintf(stderr, "%s: --window at most 64, --checkpoint at most 1048576\n", role);
		return -1;
	}
	if (a->retry > 86400) {
		fprintf(stderr, "%s: --retry at most 86400 seconds\n", role);
		return -1;
	}
	if (a->block && (a->block < STREAM_BLOCK_MIN || a->block > STREAM_BLOCK_MAX ||
			 (a->block & (a->block - 1)))) {
		fprintf(stderr, "%s: --block-size must be a power of two from 64K to 16M\n", role);
		return -1;
	}
	return 0;
}

static void args_free(struct args *a)
{
	mig_keys_free(&a->c.k);
}

/* --retry: replacing a broken connection (docs/STREAM.md, "Retry"). */
#define RETRY_DELAY_MIN 0.1
#define RETRY_DELAY_MAX 5.0

struct retry {
	struct out *out;
	const struct args *a;
	const struct stream_auth *auth;
	int lfd;			/* receive: the listening socket, kept open */
	struct stream_chan **ch;	/* the command's own handles, kept in step */
	int *fd;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A JSON event (--json) or a line on stderr (unless -q); fields after the
 * event's name: "key", json_object*, ..., NULL. */
static void retry_event(const struct out *o, const char *event, const char *line, ...)
{
	va_list ap;
	const char *k;

	if (o->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "event", json_object_new_string(event));
		json_object_object_add(j, "role", json_object_new_string(o->role));
		va_start(ap, line);
		while ((k = va_arg(ap, const char *)))
			json_object_object_add(j, k, va_arg(ap, json_object *));
		va_end(ap);
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		json_object_put(j);
	} else {
		va_start(ap, line);
		while ((k = va_arg(ap, const char *)))
			json_object_put(va_arg(ap, json_object *));
		va_end(ap);
	}
	if (!o->quiet)
		fprintf(stderr, "%s%s: %s\n", o->bar_drawn ? "\n" : "", o->role, line);
}

/* Closes the broken connection and says so. */
static void retry_drop(struct retry *rt, int err, const struct stream_report *rep,
		       struct stream_chan **ch, int *fd)
{
	const struct stream_cut *c = rep->ncuts ? &rep->cuts[rep->ncuts - 1] : NULL;
	char line[400], done[32];

	stream_cancel_fd = rt->lfd;
	if (*fd >= 0)
		close(*fd);
	stream_chan_free(*ch);
	*ch = NULL;
	*fd = -1;
	*rt->ch = NULL;
	*rt->fd = -1;
	if (err == -EPERM) {
		/* receive: the last connection announced another image */
		snprintf(line, sizeof(line), "refused a connection: %s; still waiting for the sender",
			 rep->message);
		retry_event(rt->out, "refused", line, "message", json_object_new_string(line), NULL);
		return;
	}
	human_bytes(done, sizeof(done), (double)(c ? c->bytes_done : rep->bytes_done));
	snprintf(line, sizeof(line), "connection lost after %s (%s): reconnect %u, for up to %llu s",
		 done, strerror(-err), rep->reconnects + 1, (unsigned long long)rt->a->retry);
	retry_event(rt->out, "cut", line, "cause", json_object_new_string(strerror(-err)),
		    "bytes_done", json_object_new_int64((int64_t)(c ? c->bytes_done : rep->bytes_done)),
		    "reconnect", json_object_new_int((int)rep->reconnects + 1), NULL);
}

static void retry_keep(struct retry *rt, struct stream_chan *nch, int nfd, struct stream_chan **ch,
		       int *fd, unsigned attempts, double t0)
{
	char line[128];

	*ch = *rt->ch = nch;
	*fd = *rt->fd = nfd;
	stream_cancel_fd = nfd;
	snprintf(line, sizeof(line), "reconnected after %.1f s (%u attempt%s)", mono_s() - t0,
		 attempts, attempts == 1 ? "" : "s");
	retry_event(rt->out, "reconnected", line, "attempts", json_object_new_int((int)attempts),
		    "outage", json_object_new_double(mono_s() - t0), NULL);
}

/* Sleeps d seconds unless a signal stops the run. */
static bool retry_sleep(double d)
{
	struct timespec ts = { .tv_sec = (time_t)d, .tv_nsec = (long)((d - (double)(time_t)d) * 1e9) };

	nanosleep(&ts, NULL);
	return !stream_cancel_flag;
}

/* Retry tuning of a connection: a dead peer is noticed within seconds
 * (keepalive probes answered by the peer's kernel, so a long pause of the
 * other side, a flush, a read-back, is no reason), and the sender's
 * unacknowledged data times out after 15 s instead of minutes. */
static void retry_tune(int fd, bool sender)
{
	int idle = 1, intvl = 1, cnt = 5;
	unsigned ut = 15000;

	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	if (sender)
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
}

/* The handshake on a new connection; keeps it (0) or closes it (-errno,
 * why in e). */
static int retry_handshake(struct retry *rt, int nfd, enum stream_role role, struct stream_chan **ch,
			   int *fd, unsigned attempt, double t0, char *e, size_t elen)
{
	struct stream_chan *nch = NULL;
	int r;

	retry_tune(nfd, role == STREAM_INITIATOR);
	stream_cancel_fd = nfd;
	e[0] = '\0';
	r = stream_handshake(nfd, role, rt->auth, HANDSHAKE_TIMEOUT_MS, &nch, NULL, e, elen);
	if (r == 0) {
		retry_keep(rt, nch, nfd, ch, fd, attempt, t0);
		return 0;
	}
	stream_cancel_fd = rt->lfd;
	close(nfd);
	if (!e[0])
		snprintf(e, elen, "%s", strerror(-r));
	return r;
}

/* send --retry: connect again with a growing delay and authenticate the
 * receiver again, until the deadline. A receiver that does not
 * authenticate ends the run (refused). */
static int send_reconnect(void *arg, int err, const struct stream_report *rep,
			  struct stream_chan **ch, int *fd)
{
	struct retry *rt = arg;
	double t0 = mono_s(), deadline = t0 + (double)rt->a->retry, delay = RETRY_DELAY_MIN;
	char e[256], line[400];
	unsigned attempt;

	retry_drop(rt, err, rep, ch, fd);
	for (attempt = 1;; attempt++) {
		double left;
		int nfd, r;

		if (!retry_sleep(delay))
			return -EINTR;
		left = deadline - mono_s();
		if (left <= 0)
			return -ETIMEDOUT;
		nfd = mig_connect("send", rt->a->addr, left < 1 ? 1 : (int)left, &stream_cancel_flag);
		if (nfd < 0) {
			if (stream_cancel_flag)
				return -EINTR;
			return -ETIMEDOUT;
		}
		r = retry_handshake(rt, nfd, STREAM_INITIATOR, ch, fd, attempt, t0, e, sizeof(e));
		if (r == 0)
			return 0;
		if (r == -EACCES || r == -EPROTO) {
			snprintf(line, sizeof(line), "refused: %s", e);
			retry_event(rt->out, "refused", line, "message", json_object_new_string(line), NULL);
			return -EACCES;
		}
		snprintf(line, sizeof(line), "reconnect attempt %u: %s; next in %.1f s", attempt, e,
			 delay * 2 < RETRY_DELAY_MAX ? delay * 2 : RETRY_DELAY_MAX);
		retry_event(rt->out, "retry", line, "attempt", json_object_new_int((int)attempt),
			    "error", json_object_new_string(e), NULL);
		delay = delay * 2 < RETRY_DELAY_MAX ? delay * 2 : RETRY_DELAY_MAX;
	}
}

int stream_send_main(int argc, char **argv)
{
	struct args a;
	struct stream_source *src = NULL;
	struct stream_chan *ch = NULL;
	struct stream_report *rep = calloc(1, sizeof(*rep));
	struct out out = { .role = "send" };
	struct stream_auth auth = { 0 };
	struct stream_opts o = { 0 };
	struct retry rt = { .out = &out, .a = &a, .auth = &auth, .lfd = -1 };
	char err[256] = "";
	int r, fd = -1, status;

	if (!rep)
		return EXIT_FAIL;
	r = args_parse(argc, argv, true, &a);
	if (r) {
		free(rep);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	signals_install();
	out.json = a.c.json;
	out.quiet = a.c.quiet;
	out.tty = isatty(STDERR_FILENO);
	status = EXIT_FAIL;
	if (sodium_init() < 0 || mig_load_keys(&a.c.k, "send") < 0)
		goto out;
	r = stream_source_open(a.path, a.warm, &src, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "send: %s%s\n", r == -EBUSY ? "refused: " : "", err);
		status = r == -EBUSY ? EXIT_REFUSED : EXIT_FAIL;
		goto out;
	}
	fd = mig_connect("send", a.addr, (int)a.ctimeout, &stream_cancel_flag);
	if (fd < 0) {
		status = stream_cancel_flag ? EXIT_INTERRUPTED : EXIT_FAIL;
		goto out;
	}
	stream_cancel_fd = fd;
	if (a.retry)
		retry_tune(fd, true);
	auth.plain = a.c.k.plain;
	auth.local_priv = a.c.k.priv;
	auth.peers = (const uint8_t (*)[KEY_LEN])a.c.k.peer;
	auth.n_peers = 1;
	r = stream_handshake(fd, STREAM_INITIATOR, &auth, HANDSHAKE_TIMEOUT_MS, &ch, NULL, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "send: %s\n", err[0] ? err : strerror(-r));
		status = r == -EACCES || r == -EPROTO ? EXIT_REFUSED : EXIT_FAIL;
		goto out;
	}
	out.cipher = stream_chan_cipher(ch);
	o.block_size = (uint32_t)a.block;
	o.length = a.length;
	o.delta = a.delta;
	o.max_rate = a.rate;
	o.window = (unsigned)a.window;
	o.progress = on_progress;
	o.progress_arg = &out;
	o.cancel = &stream_cancel_flag;
	if (a.retry) {
		rt.ch = &ch;
		rt.fd = &fd;
		o.reconnect = send_reconnect;
		o.reconnect_arg = &rt;
	}
	r = stream_send(ch, fd, src, &o, rep);
	status = finish(&out, "send", a.path, a.c.json, r, rep);
out:
	stream_cancel_fd = -1;
	if (fd >= 0)
		close(fd);
	stream_chan_free(ch);
	stream_source_free(src);
	args_free(&a);
	free(rep);
	return status;
}

static int accept_one(int lfd, int timeout_s);

/* receive --retry: accept the sender's next connection, until the
 * deadline. A peer that does not authenticate is refused as ever (and
 * named), and the receiver goes on waiting for the right one. */
static int recv_reconnect(void *arg, int err, const struct stream_report *rep,
			  struct stream_chan **ch, int *fd)
{
	struct retry *rt = arg;
	double t0 = mono_s(), deadline = t0 + (double)rt->a->retry;
	char e[256], line[400];
	unsigned attempt;

	retry_drop(rt, err, rep, ch, fd);
	for (attempt = 1;; attempt++) {
		double left = deadline - mono_s();
		int nfd, r;

		if (stream_cancel_flag)
			return -EINTR;
		if (left <= 0)
			return -ETIMEDOUT;
		nfd = accept_one(rt->lfd, left < 1 ? 1 : (int)left);
		if (nfd < 0)
			return stream_cancel_flag ? -EINTR : nfd;
		r = retry_handshake(rt, nfd, STREAM_RESPONDER, ch, fd, attempt, t0, e, sizeof(e));
		if (r == 0)
			return 0;
		snprintf(line, sizeof(line), "%s a connection: %s; still waiting for the sender",
			 r == -EACCES || r == -EPROTO ? "refused" : "dropped", e);
		retry_event(rt->out, "refused", line, "message", json_object_new_string(line), NULL);
	}
}

static int accept_one(int lfd, int timeout_s)
{
	time_t deadline = time(NULL) + timeout_s;
	int fd;

	for (;;) {
		if (timeout_s > 0) {
			struct timeval tv = { .tv_sec = deadline - time(NULL) };

			if (tv.tv_sec <= 0)
				return -ETIMEDOUT;
			setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -ETIMEDOUT;
		if (errno != EINTR || stream_cancel_flag)
			return -errno;
	}
	mig_tune_socket(fd);
	return fd;
}

/* receive --from: a refusal before anything was written. why may be the
 * daemon's text: printed escaped (what the daemon quotes from its files it
 * escapes already, so such a backslash shows doubled). */
static int fetch_refused(struct out *out, const struct args *a, struct stream_report *rep,
			 const char *why)
{
	char e[1024];

	rep->result = STREAM_RESULT_REFUSED;
	snprintf(rep->message, sizeof(rep->message), "%s", why);
	if (a->c.json)
		report_print(out, a->path ? a->path : a->vm, rep);
	fprintf(stderr, "receive: refused: %s\n", str_escape(why, SIZE_MAX, e, sizeof(e)));
	return EXIT_REFUSED;
}

/* receive --from: connect to the old host's daemon, ask for the disk (or
 * the list), then receive it as with --listen. The destination is opened
 * only once the daemon has accepted the request. */
static int fetch_main(struct args *a, struct out *out, struct stream_report *rep)
{
	struct stream_dest *dst = NULL;
	struct stream_chan *ch = NULL;
	struct stream_dest_opts dopts = { 0 };
	struct stream_opts o = { 0 };
	struct fetch_request req = { 0 };
	char err[256] = "", *text = NULL;
	json_object *j = NULL, *v;
	uint64_t size = 0;
	uint16_t st = 0;
	int r, fd = -1, status = EXIT_FAIL;

	if (sodium_init() < 0 || mig_load_keys(&a->c.k, "receive") < 0)
		goto out;
	text = malloc(FETCH_TEXT_MAX + 1);
	if (!text)
		goto out;
	fd = mig_connect("receive", a->from, (int)a->ctimeout, &stream_cancel_flag);
	if (fd < 0) {
		status = stream_cancel_flag ? EXIT_INTERRUPTED : EXIT_FAIL;
		goto out;
	}
	stream_cancel_fd = fd;
	r = mig_daemon_auth(&a->c.k, fd, a->from, &ch, text, FETCH_TEXT_MAX);
	if (r < 0) {
		if (r == -EACCES)
			status = fetch_refused(out, a, rep, text);
		else
			fprintf(stderr, "receive: %s\n", text);
		goto out;
	}
	out->cipher = stream_chan_cipher(ch);
	req.op = a->list ? FETCH_OP_LIST : FETCH_OP_DISK;
	req.flags = (a->warm ? FETCH_FLAG_WARM : 0) | (a->delta ? FETCH_FLAG_DELTA : 0);
	snprintf(req.vm, sizeof(req.vm), "%s", a->vm);
	snprintf(req.vdev, sizeof(req.vdev), "%s", a->disk ? a->disk : "");
	r = fetch_call(ch, fd, &req, HANDSHAKE_TIMEOUT_MS * 2, &st, text, FETCH_TEXT_MAX + 1);
	if (r < 0) {
		fprintf(stderr, "receive: %s: no answer to the request: %s%s\n", a->from, strerror(-r),
			r == -ECONNRESET ? " (the daemon closed the connection: not a peer there?)" : "");
		status = stream_cancel_flag ? EXIT_INTERRUPTED : EXIT_FAIL;
		goto out;
	}
	if (st) {
		status = fetch_refused(out, a, rep, text);
		goto out;
	}
	if (a->list) {
		printf("%s\n", text);
		fflush(stdout);
		status = EXIT_OK;
		goto out;
	}
	j = json_tokener_parse(text);
	if (!j || !json_object_object_get_ex(j, "size", &v) || json_object_get_int64(v) < 0) {
		fprintf(stderr, "receive: %s: a reply without the disk's size\n", a->from);
		goto out;
	}
	size = (uint64_t)json_object_get_int64(v);
	if (a->length && a->length != size) {
		snprintf(text, FETCH_TEXT_MAX, "VM %s disk %s is %llu bytes, not --length %llu", a->vm,
			 a->disk, (unsigned long long)size, (unsigned long long)a->length);
		status = fetch_refused(out, a, rep, text);
		goto out;
	}
	if (!a->c.json && !a->c.quiet)
		fprintf(stderr, "receive: VM %s disk %s: %s\n", a->vm, a->disk, text);
	dopts.offset = a->offset;
	dopts.length = size;
	dopts.create = a->create;
	dopts.state_dir = a->state_dir;
	r = stream_dest_open(a->path, &dopts, &dst, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "receive: %s%s\n", r == -EBUSY ? "refused: " : "", err);
		status = r == -EBUSY ? EXIT_REFUSED : EXIT_FAIL;
		goto out;
	}
	o.verify_readback = a->readback;
	o.window = (unsigned)a->window;
	o.checkpoint_blocks = (unsigned)a->ckpt;
	o.progress = on_progress;
	o.progress_arg = out;
	o.cancel = &stream_cancel_flag;
	r = stream_receive(ch, fd, dst, &o, rep);
	report_print(out, a->path, rep);
	status = exit_status(r, rep);
	if (!a->c.json && status != EXIT_OK)
		fprintf(stderr, "receive: %s: %s\n", stream_result_to_string(rep->result),
			rep->message[0] ? rep->message : strerror(-r));
out:
	stream_cancel_fd = -1;
	if (fd >= 0)
		close(fd);
	if (j)
		json_object_put(j);
	free(text);
	stream_chan_free(ch);
	stream_dest_free(dst);
	return status;
}

int stream_receive_main(int argc, char **argv)
{
	struct args a;
	struct stream_dest *dst = NULL;
	struct stream_chan *ch = NULL;
	struct stream_report *rep = calloc(1, sizeof(*rep));
	struct out out = { .role = "receive" };
	struct stream_auth auth = { 0 };
	struct stream_dest_opts dopts = { 0 };
	struct stream_opts o = { 0 };
	struct retry rt = { .out = &out, .a = &a, .auth = &auth, .lfd = -1 };
	char err[256] = "";
	int r, fd = -1, lfd = -1, status;

	if (!rep)
		return EXIT_FAIL;
	r = args_parse(argc, argv, false, &a);
	if (r) {
		free(rep);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	signals_install();
	out.json = a.c.json;
	out.quiet = a.c.quiet;
	out.tty = isatty(STDERR_FILENO);
	status = EXIT_FAIL;
	if (a.from) {
		status = fetch_main(&a, &out, rep);
		goto out;
	}
	if (sodium_init() < 0 || mig_load_keys(&a.c.k, "receive") < 0)
		goto out;
	dopts.offset = a.offset;
	dopts.length = a.length;
	dopts.create = a.create;
	dopts.state_dir = a.state_dir;
	r = stream_dest_open(a.path, &dopts, &dst, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "receive: %s%s\n", r == -EBUSY ? "refused: " : "", err);
		status = r == -EBUSY ? EXIT_REFUSED : EXIT_FAIL;
		goto out;
	}
	lfd = listen_on(a.addr);
	if (lfd < 0)
		goto out;
	stream_cancel_fd = lfd;
	fd = accept_one(lfd, (int)a.atimeout);
	if (fd < 0) {
		fprintf(stderr, "receive: accept: %s\n", strerror(-fd));
		status = stream_cancel_flag ? EXIT_INTERRUPTED : EXIT_FAIL;
		goto out;
	}
	if (a.retry) {
		/* Kept open: the sender comes back to it after a cut. */
		retry_tune(fd, false);
	} else {
		close(lfd);
		lfd = -1;
	}
	stream_cancel_fd = fd;
	auth.plain = a.c.k.plain;
	auth.local_priv = a.c.k.priv;
	auth.peers = (const uint8_t (*)[KEY_LEN])a.c.k.peer;
	auth.n_peers = 1;
	r = stream_handshake(fd, STREAM_RESPONDER, &auth, HANDSHAKE_TIMEOUT_MS, &ch, NULL, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "receive: refused: %s\n", err[0] ? err : strerror(-r));
		status = r == -EACCES || r == -EPROTO ? EXIT_REFUSED : EXIT_FAIL;
		goto out;
	}
	out.cipher = stream_chan_cipher(ch);
	o.verify_readback = a.readback;
	o.window = (unsigned)a.window;
	o.checkpoint_blocks = (unsigned)a.ckpt;
	o.progress = on_progress;
	o.progress_arg = &out;
	o.cancel = &stream_cancel_flag;
	if (a.retry) {
		rt.lfd = lfd;
		rt.ch = &ch;
		rt.fd = &fd;
		o.reconnect = recv_reconnect;
		o.reconnect_arg = &rt;
	}
	r = stream_receive(ch, fd, dst, &o, rep);
	status = finish(&out, "receive", a.path, a.c.json, r, rep);
out:
	stream_cancel_fd = -1;
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	stream_chan_free(ch);
	stream_dest_free(dst);
	args_free(&a);
	free(rep);
	return status;
}
