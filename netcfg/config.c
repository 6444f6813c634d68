/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration parser and printer (the model is in config.h, the file
 * format in docs/CONFIG.md).
 *
 * Shaped like wireguard-tools src/config.c: init, one call per line, finish.
 * config_parse_buffer() does no I/O, so it can be fuzzed. The reader is our
 * own (about sixty lines): an INI library (inih was used before) splits
 * "Key = value" but hands its handler no line number, reports only its first
 * syntax error, silently truncates long lines and section names and cannot
 * tell an empty section; every problem here is collected with its file:line,
 * so the reading had to be ours anyway, and what was left to the library
 * was one strchr.
 */
#include "netcfg/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/escape.h"

#define CONFIG_FILE_MAX        (1024 * 1024)
#define CONFIG_LINE_MAX        198          /* characters, without the line end */
#define CONFIG_KEEPALIVE_MAX_MS (3600U * 1000U)
#define CONFIG_FORWARD_DELAY_MAX 30      /* BR_MAX_FORWARD_DELAY */
#define CONFIG_FORWARD_DELAY_MIN_STP 2   /* BR_MIN_FORWARD_DELAY */
#define CONFIG_MTU_MIN         68
#define CONFIG_MTU_MAX         65535

static const char *const encryption_table[_ENCRYPTION_MAX] = {
	[ENCRYPTION_AEAD] = "aead",
	[ENCRYPTION_NONE] = "none",
};

const char *encryption_to_string(enum encryption e)
{
	if ((unsigned)e >= _ENCRYPTION_MAX)
		return NULL;
	return encryption_table[e];
}

enum sect_kind {
	SECT_NONE,       /* before the first section header */
	SECT_NODE,
	SECT_BRIDGE,
	SECT_PEER,
	SECT_IGNORE,     /* unknown or malformed header, already reported */
};

enum key_id {
	KEY_PRIVATE_KEY_FILE,
	KEY_LISTEN_ADDRESS,
	KEY_LISTEN_PORT,
	KEY_CONTROL_SOCKET,
	KEY_SEGMENT,
	KEY_STP,
	KEY_FORWARD_DELAY,
	KEY_ADDRESS,
	KEY_MTU,
	KEY_PUBLIC_KEY,
	KEY_ENDPOINT,
	KEY_SEGMENTS,
	KEY_ENCRYPTION,
	KEY_KEEPALIVE,
	KEY_DEAD_AFTER,
	KEY_PROBE_INTERVAL,
	KEY_LOOP_RETRY_MIN,
	KEY_LOOP_RETRY_MAX,
	KEY_MAC_FLAP_MOVES,
	KEY_MAC_FLAP_WINDOW,
	KEY_STORM_LIMIT,
	KEY_METRICS_LISTEN,
	KEY_METRICS_FILE,
	KEY_MIGRATE_LISTEN,
	KEY_XEN_CONFIG_DIR,
	KEY_STATE_FILE,
	_KEY_MAX,
};

struct section {
	enum sect_kind kind;
	size_t idx;                      /* into bridges[] or peers[] */
	unsigned line;
	bool invalid;                    /* reported; left out of cross checks */
	char label[48];                  /* "Bridge br-dmz", for messages */
	unsigned key_line[_KEY_MAX];     /* 0: key not given */
	uint32_t key_bad;                /* 1 << key_id: value reported bad */
};

struct error;

struct parser {
	const char *name;
	const char *buf;
	size_t len;
	size_t pos;
	unsigned lineno;
	struct config *c;
	struct config_errors *errs;
	size_t n_errors;
	struct error *found;             /* messages, sorted at the end */
	size_t n_found;
	bool oom;
	struct section *sects;
	size_t n_sects;
	struct section *cur;             /* NULL before the first header */
	const char *key;                 /* canonical name of the key at hand */
	struct node_cfg dup_node;        /* target of a second [Node] */
};

typedef int (*key_parse_fn)(struct parser *p, void *obj, const char *value);

struct key_def {
	enum sect_kind kind;
	const char *name;
	key_parse_fn parse;
};

/* ---- error collection ---------------------------------------------------- */

struct error {
	unsigned line;
	size_t seq;                      /* keeps equal lines in finding order */
	char *msg;
};

static void errors_push(struct parser *p, unsigned line, char *msg)
{
	struct error *n;

	p->n_errors++;
	if (!p->errs) {
		free(msg);
		return;
	}
	n = realloc(p->found, (p->n_found + 1) * sizeof(*n));
	if (!n) {
		free(msg);
		p->oom = true;
		return;
	}
	p->found = n;
	p->found[p->n_found] = (struct error){ .line = line, .seq = p->n_found, .msg = msg };
	p->n_found++;
}

static int error_cmp(const void *a, const void *b)
{
	const struct error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands the messages to the caller sorted by line, or frees them. */
static void errors_flush(struct parser *p)
{
	struct config_errors *e = p->errs;
	size_t i;

	if (p->n_found)
		qsort(p->found, p->n_found, sizeof(*p->found), error_cmp);
	for (i = 0; i < p->n_found; i++) {
		char **n = e && !p->oom ? realloc(e->msgs, (e->n + 1) * sizeof(*n)) : NULL;

		if (!n) {
			if (e)
				p->oom = true;
			free(p->found[i].msg);
			continue;
		}
		e->msgs = n;
		e->msgs[e->n++] = p->found[i].msg;
	}
	free(p->found);
	p->found = NULL;
	p->n_found = 0;
}

/* "file:line: [label] key: message"; label and key may be NULL. */
static void __attribute__((format(printf, 5, 0)))
verror_at(struct parser *p, unsigned line, const char *label, const char *key,
	  const char *fmt, va_list ap)
{
	char what[512], *msg;
	int r;

	vsnprintf(what, sizeof(what), fmt, ap);
	r = asprintf(&msg, "%s:%u: %s%s%s%s%s%s", p->name, line,
		     label ? "[" : "", label ? label : "", label ? "] " : "",
		     key ? key : "", key ? ": " : "", what);
	if (r < 0) {
		p->n_errors++;
		p->oom = true;
		return;
	}
	errors_push(p, line, msg);
}

static void __attribute__((format(printf, 5, 6)))
error_at(struct parser *p, unsigned line, const char *label, const char *key,
	 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(p, line, label, key, fmt, ap);
	va_end(ap);
}

/* An error about the key being parsed, on the current line. */
static int __attribute__((format(printf, 2, 3)))
key_error(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(p, p->lineno, p->cur ? p->cur->label : NULL, p->key, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- value parsers (pure) ------------------------------------------------- */

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*ret = v;
	return 0;
}

static bool name_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/* Segment and peer names: [A-Za-z0-9._-], 1..CONFIG_NAME_MAX-1. */
static const char *check_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0)
		return "empty name";
	if (n > max)
		return "name too long";
	for (; *s; s++)
		if (!name_char_ok(*s))
			return "invalid character in name (allowed: A-Z a-z 0-9 . _ -)";
	return NULL;
}

/* Interface names: the segment charset, at most IFNAMSIZ-1, not "." or "..". */
static const char *check_ifname(const char *s)
{
	const char *why = check_name(s, IFNAMSIZ - 1);

	if (why)
		return why;
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "invalid interface name";
	return NULL;
}

/* An absolute path of printable characters that fits in max bytes. */
static const char *check_path(const char *s, size_t max)
{
	const char *q;

	if (!*s)
		return "empty path";
	if (*s != '/')
		return "not an absolute path";
	if (strlen(s) >= max)
		return "path too long";
	for (q = s; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return "control character in path";
	return NULL;
}

static int parse_port(const char *s, uint16_t *ret)
{
	unsigned long v;

	if (parse_uint(s, 65535, &v) < 0 || v == 0)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* "a.b.c.d:port", "[v6]:port"; no names, no scope ids. */
static int parse_endpoint(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h, *he;
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		h = s + 1;
		he = strchr(h, ']');
		if (!he || he[1] != ':')
			return -EINVAL;
		colon = he + 1;
	} else {
		h = s;
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		he = colon;
	}
	if ((size_t)(he - h) >= sizeof(host) || he == h)
		return -EINVAL;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	if (parse_port(colon + 1, &port) < 0)
		return -EINVAL;

	if (*s == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	}
	return 0;
}

/* "250ms", "1s", "0.5" (seconds), "0"; whole milliseconds only. */
static int parse_interval_ms(const char *s, unsigned *ret)
{
	unsigned long whole = 0, frac = 0, scale = 1, ms;
	const char *q = s;
	bool unit_ms = false;
	int nd = 0, nf = 0;

	for (; *q >= '0' && *q <= '9'; q++, nd++) {
		if (whole > CONFIG_KEEPALIVE_MAX_MS)
			return -ERANGE;
		whole = whole * 10 + (unsigned long)(*q - '0');
	}
	if (*q == '.') {
		for (q++; *q >= '0' && *q <= '9'; q++, nf++) {
			if (nf >= 9)
				return -EINVAL;
			frac = frac * 10 + (unsigned long)(*q - '0');
			scale *= 10;
		}
		if (nf == 0)
			return -EINVAL;
	}
	if (nd == 0)
		return -EINVAL;
	if (!strcasecmp(q, "ms"))
		unit_ms = true;
	else if (*q && strcasecmp(q, "s"))
		return -EINVAL;
	if (whole > CONFIG_KEEPALIVE_MAX_MS)
		return -ERANGE;

	if (unit_ms) {
		if (frac)
			return -EDOM;
		ms = whole;
	} else {
		if ((frac * 1000) % scale)
			return -EDOM;
		ms = whole * 1000 + frac * 1000 / scale;
	}
	if (ms > CONFIG_KEEPALIVE_MAX_MS)
		return -ERANGE;
	*ret = (unsigned)ms;
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- key handlers ---------------------------------------------------------- */

static int key_private_key_file(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *why = check_path(v, sizeof(n->private_key_file));

	if (why)
		return key_error(p, "%s", why);
	strcpy(n->private_key_file, v);
	return 0;
}

static int key_listen_address(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	uint16_t port = ntohs(((struct sockaddr_in *)&n->listen)->sin_port);
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sin = { .sin_family = AF_INET };

	/* The port may already be set by ListenPort; sin_port and sin6_port
	 * sit at the same offset. */
	if (inet_pton(AF_INET, v, &sin.sin_addr) == 1) {
		sin.sin_port = htons(port);
		memset(&n->listen, 0, sizeof(n->listen));
		memcpy(&n->listen, &sin, sizeof(sin));
		n->listen_len = sizeof(sin);
	} else if (inet_pton(AF_INET6, v, &sin6.sin6_addr) == 1) {
		sin6.sin6_port = htons(port);
		memset(&n->listen, 0, sizeof(n->listen));
		memcpy(&n->listen, &sin6, sizeof(sin6));
		n->listen_len = sizeof(sin6);
	} else {
		return key_error(p, "not an IPv4 or IPv6 address: \"%s\"", STR_ESCAPED(v));
	}
	return 0;
}

static int key_listen_port(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	uint16_t port;

	if (parse_port(v, &port) < 0)
		return key_error(p, "not a port number (1..65535): \"%s\"", STR_ESCAPED(v));
	((struct sockaddr_in *)&n->listen)->sin_port = htons(port);
	return 0;
}

static int key_control_socket(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *why = check_path(v, sizeof(n->control_socket));

	if (why)
		return key_error(p, "%s", why);
	strcpy(n->control_socket, v);
	return 0;
}

static int key_segment(struct parser *p, void *obj, const char *v)
{
	struct bridge_cfg *b = obj;
	const char *why = check_name(v, CONFIG_NAME_MAX - 1);

	if (why)
		return key_error(p, "%s: \"%s\"", why, STR_ESCAPED(v));
	strcpy(b->segment, v);
	return 0;
}

static int key_stp(struct parser *p, void *obj, const char *v)
{
	struct bridge_cfg *b = obj;

	if (parse_bool(v, &b->stp) < 0)
		return key_error(p, "not a boolean (on/off, yes/no, true/false, 1/0): \"%s\"",
				 STR_ESCAPED(v));
	return 0;
}

static int key_forward_delay(struct parser *p, void *obj, const char *v)
{
	struct bridge_cfg *b = obj;
	unsigned long d;

	if (parse_uint(v, CONFIG_FORWARD_DELAY_MAX, &d) < 0)
		return key_error(p, "not a number of seconds (0..%d): \"%s\"",
				 CONFIG_FORWARD_DELAY_MAX, STR_ESCAPED(v));
	b->forward_delay = (unsigned)d;
	return 0;
}

static int key_address(struct parser *p, void *obj, const char *v)
{
	struct bridge_cfg *b = obj;
	char host[INET6_ADDRSTRLEN + 1], out[INET6_ADDRSTRLEN];
	unsigned char addr[sizeof(struct in6_addr)];
	const char *slash = strchr(v, '/');
	unsigned long plen;
	int af;

	if (!strcasecmp(v, "none")) {
		b->address[0] = '\0';
		return 0;
	}
	if (!slash || (size_t)(slash - v) >= sizeof(host))
		return key_error(p, "not an address with prefix length (a.b.c.d/n, x:y::z/n or none): \"%s\"",
				 STR_ESCAPED(v));
	memcpy(host, v, (size_t)(slash - v));
	host[slash - v] = '\0';
	if (inet_pton(AF_INET, host, addr) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		af = AF_INET6;
	else
		return key_error(p, "not an address with prefix length (a.b.c.d/n, x:y::z/n or none): \"%s\"",
				 STR_ESCAPED(v));
	if (parse_uint(slash + 1, af == AF_INET ? 32 : 128, &plen) < 0 || plen == 0)
		return key_error(p, "bad prefix length (1..%d): \"%s\"",
				 af == AF_INET ? 32 : 128, STR_ESCAPED(v));
	inet_ntop(af, addr, out, sizeof(out));
	snprintf(b->address, sizeof(b->address), "%s/%lu", out, plen);
	return 0;
}

static int key_mtu(struct parser *p, void *obj, const char *v)
{
	struct bridge_cfg *b = obj;
	unsigned long mtu;

	if (parse_uint(v, CONFIG_MTU_MAX, &mtu) < 0 ||
	    (mtu != 0 && mtu < CONFIG_MTU_MIN))
		return key_error(p, "not an MTU (0 or %d..%d): \"%s\"",
				 CONFIG_MTU_MIN, CONFIG_MTU_MAX, STR_ESCAPED(v));
	b->mtu = (unsigned)mtu;
	return 0;
}

static int key_public_key(struct parser *p, void *obj, const char *v)
{
	static const uint8_t zero[KEY_LEN];
	struct peer_cfg *pc = obj;
	uint8_t key[KEY_LEN];

	if (key_from_base64(v, key) < 0)
		return key_error(p, "not a base64 key of %d bytes (44 characters)",
				 KEY_LEN);
	if (!memcmp(key, zero, sizeof(key)))
		return key_error(p, "all-zero key");
	memcpy(pc->public_key, key, sizeof(key));
	return 0;
}

static int key_endpoint(struct parser *p, void *obj, const char *v)
{
	struct peer_cfg *pc = obj;

	if (!strcasecmp(v, "none")) {
		pc->has_endpoint = false;
		memset(&pc->endpoint, 0, sizeof(pc->endpoint));
		pc->endpoint_len = 0;
		return 0;
	}
	if (parse_endpoint(v, &pc->endpoint, &pc->endpoint_len) < 0) {
		memset(&pc->endpoint, 0, sizeof(pc->endpoint));
		pc->endpoint_len = 0;
		return key_error(p, "not an endpoint (a.b.c.d:port, [x:y::z]:port or none): \"%s\"",
				 STR_ESCAPED(v));
	}
	pc->has_endpoint = true;
	return 0;
}

static int key_segments(struct parser *p, void *obj, const char *v)
{
	struct peer_cfg *pc = obj;
	const char *s = v;
	int r = 0;

	while (*s) {
		char name[CONFIG_NAME_MAX + 1];
		const char *why;
		size_t n, i;

		s += strspn(s, ", \t");
		n = strcspn(s, ", \t");
		if (n == 0)
			break;
		if (n >= sizeof(name)) {
			char e[STR_ESCAPE_MAX];

			r = key_error(p, "segment name too long: \"%s\"", str_escape(s, n, e, sizeof(e)));
			s += n;
			continue;
		}
		memcpy(name, s, n);
		name[n] = '\0';
		s += n;
		why = check_name(name, CONFIG_NAME_MAX - 1);
		if (why) {
			r = key_error(p, "%s: \"%s\"", why, STR_ESCAPED(name));
			continue;
		}
		for (i = 0; i < pc->n_segments; i++)
			if (!strcmp(pc->segments[i], name))
				break;
		if (i < pc->n_segments) {
			r = key_error(p, "segment \"%s\" listed twice", name);
			continue;
		}
		{
			char (*seg)[CONFIG_NAME_MAX] =
				realloc(pc->segments, (pc->n_segments + 1) * sizeof(*seg));

			if (!seg) {
				p->oom = true;
				return -ENOMEM;
			}
			pc->segments = seg;
			strcpy(pc->segments[pc->n_segments++], name);
		}
	}
	if (pc->n_segments == 0 && r == 0)
		return key_error(p, "no segment named");
	return r;
}

static int key_encryption(struct parser *p, void *obj, const char *v)
{
	struct peer_cfg *pc = obj;
	int e;

	for (e = 0; e < _ENCRYPTION_MAX; e++)
		if (!strcasecmp(v, encryption_table[e])) {
			pc->encryption = (enum encryption)e;
			return 0;
		}
	return key_error(p, "not aead or none: \"%s\"", STR_ESCAPED(v));
}

static int key_keepalive(struct parser *p, void *obj, const char *v)
{
	struct peer_cfg *pc = obj;
	unsigned ms;
	int r = parse_interval_ms(v, &ms);

	if (r == -EDOM)
		return key_error(p, "not a whole number of milliseconds: \"%s\"", STR_ESCAPED(v));
	if (r == -ERANGE)
		return key_error(p, "too long (at most %us): \"%s\"",
				 CONFIG_KEEPALIVE_MAX_MS / 1000, STR_ESCAPED(v));
	if (r < 0)
		return key_error(p, "not an interval (250ms, 1s, 0.5, 0): \"%s\"", STR_ESCAPED(v));
	pc->keepalive_ms = ms;
	return 0;
}

/* Intervals of [Node]: positive, at most an hour; "0" only where noted. */
static int node_interval(struct parser *p, const char *v, unsigned min_ms, unsigned *ret)
{
	unsigned ms;
	int r = parse_interval_ms(v, &ms);

	if (r == -EDOM)
		return key_error(p, "not a whole number of milliseconds: \"%s\"", STR_ESCAPED(v));
	if (r == -ERANGE)
		return key_error(p, "too long (at most %us): \"%s\"",
				 CONFIG_KEEPALIVE_MAX_MS / 1000, STR_ESCAPED(v));
	if (r < 0)
		return key_error(p, "not an interval (250ms, 1s, 0.5): \"%s\"", STR_ESCAPED(v));
	if (ms < min_ms)
		return key_error(p, "too short (at least %ums): \"%s\"", min_ms, STR_ESCAPED(v));
	*ret = ms;
	return 0;
}

static int key_dead_after(struct parser *p, void *obj, const char *v)
{
	return node_interval(p, v, 100, &((struct node_cfg *)obj)->dead_after_ms);
}

static int key_probe_interval(struct parser *p, void *obj, const char *v)
{
	return node_interval(p, v, 50, &((struct node_cfg *)obj)->probe_interval_ms);
}

static int key_loop_retry_min(struct parser *p, void *obj, const char *v)
{
	return node_interval(p, v, 100, &((struct node_cfg *)obj)->loop_retry_min_ms);
}

static int key_loop_retry_max(struct parser *p, void *obj, const char *v)
{
	return node_interval(p, v, 100, &((struct node_cfg *)obj)->loop_retry_max_ms);
}

static int key_mac_flap_window(struct parser *p, void *obj, const char *v)
{
	return node_interval(p, v, 100, &((struct node_cfg *)obj)->mac_flap_window_ms);
}

static int key_mac_flap_moves(struct parser *p, void *obj, const char *v)
{
	unsigned long n;

	if (parse_uint(v, 16, &n) < 0 || n < 2)
		return key_error(p, "not a number of moves from 2 to 16: \"%s\"", STR_ESCAPED(v));
	((struct node_cfg *)obj)->mac_flap_moves = (unsigned)n;
	return 0;
}

static int key_storm_limit(struct parser *p, void *obj, const char *v)
{
	unsigned long n;

	if (parse_uint(v, 10000000, &n) < 0)
		return key_error(p, "not a number of frames per second (0: no limit): \"%s\"",
				 STR_ESCAPED(v));
	((struct node_cfg *)obj)->storm_limit = (unsigned)n;
	return 0;
}

static int key_metrics_listen(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;

	if (!strcasecmp(v, "none")) {
		n->has_metrics_listen = false;
		return 0;
	}
	if (parse_endpoint(v, &n->metrics_listen, &n->metrics_listen_len) < 0)
		return key_error(p, "not address:port or none: \"%s\"", STR_ESCAPED(v));
	n->has_metrics_listen = true;
	return 0;
}

static int key_metrics_file(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *why;

	if (!strcasecmp(v, "none")) {
		n->metrics_file[0] = '\0';
		return 0;
	}
	why = check_path(v, sizeof(n->metrics_file));
	if (why)
		return key_error(p, "%s", why);
	strcpy(n->metrics_file, v);
	return 0;
}

static int key_migrate_listen(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;

	if (!strcasecmp(v, "none")) {
		n->has_migrate_listen = false;
		return 0;
	}
	if (parse_endpoint(v, &n->migrate_listen, &n->migrate_listen_len) < 0)
		return key_error(p, "not address:port or none: \"%s\"", STR_ESCAPED(v));
	n->has_migrate_listen = true;
	return 0;
}

static int key_xen_config_dir(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *why = check_path(v, sizeof(n->xen_config_dir));

	if (why)
		return key_error(p, "%s", why);
	strcpy(n->xen_config_dir, v);
	return 0;
}

static int key_state_file(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *why;

	if (!strcasecmp(v, "none")) {
		n->state_file[0] = '\0';
		return 0;
	}
	why = check_path(v, sizeof(n->state_file));
	if (why)
		return key_error(p, "%s", why);
	strcpy(n->state_file, v);
	return 0;
}

static const struct key_def key_table[_KEY_MAX] = {
	[KEY_PRIVATE_KEY_FILE] = { SECT_NODE,   "PrivateKeyFile", key_private_key_file },
	[KEY_LISTEN_ADDRESS]   = { SECT_NODE,   "ListenAddress",  key_listen_address },
	[KEY_LISTEN_PORT]      = { SECT_NODE,   "ListenPort",     key_listen_port },
	[KEY_CONTROL_SOCKET]   = { SECT_NODE,   "ControlSocket",  key_control_socket },
	[KEY_SEGMENT]          = { SECT_BRIDGE, "Segment",        key_segment },
	[KEY_STP]              = { SECT_BRIDGE, "STP",            key_stp },
	[KEY_FORWARD_DELAY]    = { SECT_BRIDGE, "ForwardDelay",   key_forward_delay },
	[KEY_ADDRESS]          = { SECT_BRIDGE, "Address",        key_address },
	[KEY_MTU]              = { SECT_BRIDGE, "MTU",            key_mtu },
	[KEY_PUBLIC_KEY]       = { SECT_PEER,   "PublicKey",      key_public_key },
	[KEY_ENDPOINT]         = { SECT_PEER,   "Endpoint",       key_endpoint },
	[KEY_SEGMENTS]         = { SECT_PEER,   "Segments",       key_segments },
	[KEY_ENCRYPTION]       = { SECT_PEER,   "Encryption",     key_encryption },
	[KEY_KEEPALIVE]        = { SECT_PEER,   "Keepalive",      key_keepalive },
	[KEY_DEAD_AFTER]       = { SECT_NODE,   "DeadAfter",      key_dead_after },
	[KEY_PROBE_INTERVAL]   = { SECT_NODE,   "ProbeInterval",  key_probe_interval },
	[KEY_LOOP_RETRY_MIN]   = { SECT_NODE,   "LoopRetryMin",   key_loop_retry_min },
	[KEY_LOOP_RETRY_MAX]   = { SECT_NODE,   "LoopRetryMax",   key_loop_retry_max },
	[KEY_MAC_FLAP_MOVES]   = { SECT_NODE,   "MacFlapMoves",   key_mac_flap_moves },
	[KEY_MAC_FLAP_WINDOW]  = { SECT_NODE,   "MacFlapWindow",  key_mac_flap_window },
	[KEY_STORM_LIMIT]      = { SECT_NODE,   "StormLimit",     key_storm_limit },
	[KEY_METRICS_LISTEN]   = { SECT_NODE,   "MetricsListen",  key_metrics_listen },
	[KEY_METRICS_FILE]     = { SECT_NODE,   "MetricsFile",    key_metrics_file },
	[KEY_MIGRATE_LISTEN]   = { SECT_NODE,   "MigrateListen",  key_migrate_listen },
	[KEY_XEN_CONFIG_DIR]   = { SECT_NODE,   "XenConfigDir",   key_xen_config_dir },
	[KEY_STATE_FILE]       = { SECT_NODE,   "StateFile",      key_state_file },
};

/* ---- sections --------------------------------------------------------------- */

static void node_defaults(struct node_cfg *n)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&n->listen;

	memset(n, 0, sizeof(*n));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_ANY);
	sin->sin_port = htons(CONFIG_DEFAULT_PORT);
	n->listen_len = sizeof(*sin);
	strcpy(n->control_socket, CONFIG_DEFAULT_SOCKET);
	n->dead_after_ms = 800;
	n->probe_interval_ms = 300;
	n->loop_retry_min_ms = 2000;
	n->loop_retry_max_ms = 60000;
	n->mac_flap_moves = 5;
	n->mac_flap_window_ms = 10000;
	n->storm_limit = 2000;
	strcpy(n->xen_config_dir, CONFIG_DEFAULT_XEN_DIR);
	strcpy(n->state_file, CONFIG_DEFAULT_STATE_FILE);
}

static struct section *section_new(struct parser *p, enum sect_kind kind,
				   const char *label)
{
	struct section *s = realloc(p->sects, (p->n_sects + 1) * sizeof(*s));

	if (!s) {
		p->oom = true;
		return NULL;
	}
	p->sects = s;
	s = &p->sects[p->n_sects++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->line = p->lineno;
	snprintf(s->label, sizeof(s->label), "%s", label);
	return s;
}

static struct section *section_find(struct parser *p, enum sect_kind kind,
				    const char *name, struct section *except)
{
	size_t i;

	for (i = 0; i < p->n_sects; i++) {
		struct section *s = &p->sects[i];
		const char *n;

		if (s == except || s->kind != kind || s->invalid)
			continue;
		if (kind == SECT_NODE)
			return s;
		n = kind == SECT_BRIDGE ? p->c->bridges[s->idx].name
					: p->c->peers[s->idx].name;
		if (!strcmp(n, name))
			return s;
	}
	return NULL;
}

static void *section_obj(struct parser *p, struct section *s)
{
	switch (s->kind) {
	case SECT_NODE:
		return s->invalid ? (void *)&p->dup_node : (void *)&p->c->node;
	case SECT_BRIDGE:
		return &p->c->bridges[s->idx];
	case SECT_PEER:
		return &p->c->peers[s->idx];
	default:
		return NULL;
	}
}

/* "Type name" for messages, the name escaped and cut to fit. */
static void label_escape(char *label, size_t len, const char *type, const char *name)
{
	size_t tl = strlen(type) + (*type && *name ? 1 : 0);

	snprintf(label, len, "%s%s", type, *type && *name ? " " : "");
	if (tl < len)
		str_escape(name, SIZE_MAX, label + tl, len - tl);
}

/* Handles "[Type name]" (already without brackets and trimmed). */
static void section_start(struct parser *p, const char *hdr)
{
	char type[16], label[48];
	const char *name;
	size_t tl = strcspn(hdr, " \t");
	struct section *s, *first;

	name = hdr + tl;
	name += strspn(name, " \t");
	snprintf(type, sizeof(type), "%.*s", (int)(tl < sizeof(type) ? tl : sizeof(type) - 1), hdr);
	p->cur = NULL;

	if (!strcasecmp(type, "Node") && tl == 4) {
		s = section_new(p, SECT_NODE, "Node");
		if (!s)
			return;
		p->cur = s;
		if (*name) {
			error_at(p, p->lineno, "Node", NULL, "the [Node] section takes no name");
		}
		first = section_find(p, SECT_NODE, NULL, s);
		if (first) {
			error_at(p, p->lineno, "Node", NULL,
				 "duplicate [Node] section (first at line %u)", first->line);
			s->invalid = true;
			node_defaults(&p->dup_node);
		}
		return;
	}

	if ((!strcasecmp(type, "Bridge") && tl == 6) || (!strcasecmp(type, "Peer") && tl == 4)) {
		bool bridge = tl == 6;
		enum sect_kind kind = bridge ? SECT_BRIDGE : SECT_PEER;
		const char *why;

		label_escape(label, sizeof(label), bridge ? "Bridge" : "Peer", name);
		if (!*name) {
			error_at(p, p->lineno, NULL, NULL,
				 "[%s] needs a name: [%s NAME]", type, bridge ? "Bridge" : "Peer");
			why = "";
		} else if (strpbrk(name, " \t")) {
			why = "name must be one word";
		} else {
			why = bridge ? check_ifname(name) : check_name(name, CONFIG_NAME_MAX - 1);
			if (why && bridge && !strcmp(why, "name too long"))
				why = "interface name too long (at most 15 characters)";
		}
		if (why && *why)
			error_at(p, p->lineno, label, NULL, "%s", why);

		if (bridge) {
			struct bridge_cfg *b = realloc(p->c->bridges,
						       (p->c->n_bridges + 1) * sizeof(*b));
			if (!b) {
				p->oom = true;
				return;
			}
			p->c->bridges = b;
			b = &b[p->c->n_bridges];
			memset(b, 0, sizeof(*b));
			snprintf(b->name, sizeof(b->name), "%s", name);
			snprintf(b->segment, sizeof(b->segment), "%s", b->name);
			b->line = p->lineno;
		} else {
			struct peer_cfg *pc = realloc(p->c->peers,
						      (p->c->n_peers + 1) * sizeof(*pc));
			if (!pc) {
				p->oom = true;
				return;
			}
			p->c->peers = pc;
			pc = &pc[p->c->n_peers];
			memset(pc, 0, sizeof(*pc));
			snprintf(pc->name, sizeof(pc->name), "%s", name);
			pc->encryption = ENCRYPTION_AEAD;
			pc->keepalive_ms = CONFIG_DEFAULT_KEEPALIVE_MS;
			pc->line = p->lineno;
		}
		s = section_new(p, kind, label);
		if (!s) {
			/* The object is counted so config_free() sees it. */
			if (bridge)
				p->c->n_bridges++;
			else
				p->c->n_peers++;
			return;
		}
		s->idx = bridge ? p->c->n_bridges++ : p->c->n_peers++;
		s->invalid = why != NULL;
		p->cur = s;
		if (!s->invalid) {
			first = section_find(p, kind, name, s);
			if (first) {
				error_at(p, p->lineno, label, NULL,
					 "duplicate %s name (first at line %u)",
					 bridge ? "bridge" : "peer", first->line);
				s->invalid = true;
			}
		}
		return;
	}

	error_at(p, p->lineno, NULL, NULL,
		 "unknown section [%s] (expected [Node], [Bridge NAME] or [Peer NAME])",
		 STR_ESCAPED(hdr));
	label_escape(label, sizeof(label), "", hdr);
	s = section_new(p, SECT_IGNORE, label);
	p->cur = s;
}

/* ---- line handling ------------------------------------------------------------ */

/* The first of chars, or an inline ';' comment (a ';' after a blank). */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static void key_value(struct parser *p, const char *name, const char *value);

/*
 * Handles one line (NUL-terminated, leading blanks and the line end already
 * stripped): a comment, a section header or a "Key = value" (or "Key:
 * value") line, whose key ends before the first '=' or ':' and whose value
 * loses an inline ';' comment (a ';' after a blank) and surrounding blanks.
 */
static void line_handle(struct parser *p, char *line)
{
	size_t n = strlen(line);
	const char *end;
	char *value;

	while (n && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	if (!*line || *line == ';' || *line == '#')
		return;
	if (*line == '[') {
		char *hdr = line + 1, *close;
		const char *rest;

		close = (char *)find_chars_or_comment(hdr, "]");
		if (*close != ']') {
			error_at(p, p->lineno, NULL, NULL, "section header without ']'");
			p->cur = section_new(p, SECT_IGNORE, "?");
			return;
		}
		*close = '\0';
		rest = close + 1;
		rest += strspn(rest, " \t");
		if (*rest && *rest != ';' && *rest != '#') {
			error_at(p, p->lineno, NULL, NULL, "text after section header: \"%s\"",
				 STR_ESCAPED(rest));
		}
		hdr += strspn(hdr, " \t");
		n = strlen(hdr);
		while (n && isspace((unsigned char)hdr[n - 1]))
			hdr[--n] = '\0';
		section_start(p, hdr);
		return;
	}
	end = find_chars_or_comment(line, "=:");
	if (*end != '=' && *end != ':') {
		error_at(p, p->lineno, p->cur ? p->cur->label : NULL, NULL,
			 "syntax error: expected \"Key = value\"");
		return;
	}
	value = (char *)end + 1;
	*(char *)end = '\0';
	n = strlen(line);
	while (n && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	value += strspn(value, " \t\v\f");
	*(char *)find_chars_or_comment(value, "") = '\0';
	n = strlen(value);
	while (n && isspace((unsigned char)value[n - 1]))
		value[--n] = '\0';
	key_value(p, line, value);
}

/* Reads the next line into str (num bytes) and handles it; false at the end. */
static bool read_line(struct parser *p, char *str, size_t num)
{
	const char *line, *nl;
	size_t n, room;

	if (p->pos >= p->len)
		return false;
	line = p->buf + p->pos;
	nl = memchr(line, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - line) : p->len - p->pos;
	p->pos += n + (nl ? 1 : 0);
	p->lineno++;
	/* A CRLF line end is a line end: not counted against the limit. */
	if (n && line[n - 1] == '\r')
		n--;

	if (p->lineno == 1 && n >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
		line += 3;
		n -= 3;
	}
	/* leading blanks: indentation, never a continuation */
	while (n && (*line == ' ' || *line == '\t' || *line == '\r' ||
		     *line == '\v' || *line == '\f')) {
		line++;
		n--;
	}

	room = num - 2;  /* what a line may hold (the limit is documented) */
	if (memchr(line, '\0', n)) {
		error_at(p, p->lineno, p->cur ? p->cur->label : NULL, NULL, "NUL byte in line");
	} else if (n > room) {
		error_at(p, p->lineno, p->cur ? p->cur->label : NULL, NULL,
			 "line too long (at most %zu characters)", room);
	} else {
		memcpy(str, line, n);
		str[n] = '\0';
		line_handle(p, str);
	}
	return true;
}

static void key_value(struct parser *p, const char *name, const char *value)
{
	struct section *s = p->cur;
	size_t k;

	p->key = NULL;
	if (!s) {
		error_at(p, p->lineno, NULL, STR_ESCAPED(name), "key outside of any section");
		return;
	}
	if (s->kind == SECT_IGNORE)
		return;
	for (k = 0; k < _KEY_MAX; k++)
		if (key_table[k].kind == s->kind && !strcasecmp(name, key_table[k].name))
			break;
	if (k == _KEY_MAX) {
		error_at(p, p->lineno, s->label, STR_ESCAPED(name), "unknown key");
		return;
	}
	p->key = key_table[k].name;
	if (s->key_line[k]) {
		key_error(p, "duplicate key (first at line %u)", s->key_line[k]);
		p->key = NULL;
		return;
	}
	s->key_line[k] = p->lineno;
	if (!*value) {
		key_error(p, "empty value");
		s->key_bad |= 1U << k;
	} else if (key_table[k].parse(p, section_obj(p, s), value) < 0) {
		s->key_bad |= 1U << k;
	}
	p->key = NULL;
}

/* ---- finish: whole-config checks ------------------------------------------- */

static unsigned key_or_section_line(const struct section *s, enum key_id k)
{
	return s->key_line[k] ? s->key_line[k] : s->line;
}

static void config_finish(struct parser *p)
{
	struct config *c = p->c;
	struct section *node = NULL;
	size_t i, j, k;

	for (i = 0; i < p->n_sects; i++)
		if (p->sects[i].kind == SECT_NODE && !p->sects[i].invalid) {
			node = &p->sects[i];
			break;
		}
	if (!node)
		error_at(p, p->lineno ? p->lineno : 1, "Node", "PrivateKeyFile",
			 "missing (no [Node] section)");
	else if (!node->key_line[KEY_PRIVATE_KEY_FILE])
		error_at(p, node->line, "Node", "PrivateKeyFile", "missing");

	for (i = 0; i < p->n_sects; i++) {
		struct section *s = &p->sects[i];

		if (s->kind == SECT_BRIDGE) {
			const struct bridge_cfg *b = &c->bridges[s->idx];

			if (b->stp && b->forward_delay < CONFIG_FORWARD_DELAY_MIN_STP &&
			    !(s->key_bad & (1U << KEY_FORWARD_DELAY)))
				error_at(p, key_or_section_line(s, KEY_FORWARD_DELAY), s->label,
					 "ForwardDelay", "must be %d..%d with STP on",
					 CONFIG_FORWARD_DELAY_MIN_STP, CONFIG_FORWARD_DELAY_MAX);
			if (s->invalid || (s->key_bad & (1U << KEY_SEGMENT)))
				continue;
			for (j = 0; j < i; j++) {
				struct section *t = &p->sects[j];

				if (t->kind != SECT_BRIDGE || t->invalid ||
				    (t->key_bad & (1U << KEY_SEGMENT)))
					continue;
				if (!strcmp(c->bridges[t->idx].segment, b->segment)) {
					error_at(p, key_or_section_line(s, KEY_SEGMENT), s->label,
						 "Segment", "segment \"%s\" already carried by [%s] (line %u)",
						 b->segment, t->label, t->line);
					break;
				}
			}
		} else if (s->kind == SECT_PEER) {
			const struct peer_cfg *pc = &c->peers[s->idx];

			/* A bad header is reported already; its body may be empty. */
			if (!s->key_line[KEY_PUBLIC_KEY] && !s->invalid)
				error_at(p, s->line, s->label, "PublicKey", "missing");
			if (!s->key_line[KEY_SEGMENTS] && !s->invalid)
				error_at(p, s->line, s->label, "Segments", "missing");
			for (k = 0; k < pc->n_segments; k++) {
				bool found = false;

				for (j = 0; j < c->n_bridges && !found; j++)
					found = !strcmp(c->bridges[j].segment, pc->segments[k]);
				if (!found)
					error_at(p, s->key_line[KEY_SEGMENTS], s->label, "Segments",
						 "segment \"%s\" is not defined by any [Bridge]",
						 pc->segments[k]);
			}
			if (s->invalid || !s->key_line[KEY_PUBLIC_KEY])
				continue;
			for (j = 0; j < i; j++) {
				struct section *t = &p->sects[j];

				if (t->kind != SECT_PEER || t->invalid || !t->key_line[KEY_PUBLIC_KEY])
					continue;
				/* A key that failed to parse is all-zero: no match. */
				if (!memcmp(c->peers[t->idx].public_key, pc->public_key, KEY_LEN) &&
				    !sodium_is_zero(pc->public_key, KEY_LEN)) {
					error_at(p, s->key_line[KEY_PUBLIC_KEY], s->label, "PublicKey",
						 "same key as [%s] (line %u)", t->label, t->line);
					break;
				}
			}
		}
	}
}

/* ---- public entry points ------------------------------------------------------ */

int config_parse_buffer(const char *name, const char *buf, size_t len,
			struct config **ret, struct config_errors *errs)
{
	struct parser p = {
		.name = name ? name : "(config)",
		.buf = buf,
		.len = buf ? len : 0,
		.errs = errs,
	};

	p.c = calloc(1, sizeof(*p.c));
	if (!p.c)
		return -ENOMEM;
	p.c->path = strdup(p.name);
	if (!p.c->path) {
		free(p.c);
		return -ENOMEM;
	}
	node_defaults(&p.c->node);

	{
		/* the longest line the format allows, its '\n' and NUL */
		char line[CONFIG_LINE_MAX + 2];

		while (!p.oom && read_line(&p, line, sizeof(line)))
			;
	}
	if (!p.oom)
		config_finish(&p);

	free(p.sects);
	errors_flush(&p);
	if (p.oom) {
		config_free(p.c);
		return -ENOMEM;
	}
	if (p.n_errors) {
		config_free(p.c);
		return -EINVAL;
	}
	*ret = p.c;
	return 0;
}

static int push_plain_error(struct config_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int push_plain_error(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;
	char *msg, **n;
	int r;

	if (!errs)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	n = realloc(errs->msgs, (errs->n + 1) * sizeof(*n));
	if (!n) {
		free(msg);
		return -ENOMEM;
	}
	errs->msgs = n;
	errs->msgs[errs->n++] = msg;
	return 0;
}

int config_parse_file(const char *path, struct config **ret,
		      struct config_errors *errs)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		push_plain_error(errs, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			if (cap >= CONFIG_FILE_MAX) {
				push_plain_error(errs, "%s: larger than %d bytes", path,
						 CONFIG_FILE_MAX);
				r = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		r = -EIO;
		push_plain_error(errs, "%s: read error", path);
		goto out;
	}
	r = config_parse_buffer(path, buf, len, ret, errs);
out:
	free(buf);
	fclose(f);
	return r;
}

void config_free(struct config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_peers; i++)
		free(c->peers[i].segments);
	free(c->peers);
	free(c->bridges);
	free(c->path);
	free(c);
}

void config_errors_clear(struct config_errors *errs)
{
	size_t i;

	if (!errs)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* ---- printing and lookups ---------------------------------------------------- */

int sockaddr_from_string(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (parse_endpoint(s, &ss, &len) < 0)
		return -EINVAL;
	*ret = ss;
	*ret_len = len;
	return 0;
}

const char *sockaddr_to_string(const struct sockaddr_storage *ss, char *buf,
			       size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (!buf || len == 0)
		return buf;
	if (ss && ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss && ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "none");
	}
	return buf;
}

void config_print(const struct config *c, FILE *f)
{
	char host[INET6_ADDRSTRLEN], addr[INET6_ADDRSTRLEN + 8];
	char b64[sodium_base64_ENCODED_LEN(KEY_LEN, sodium_base64_VARIANT_ORIGINAL)];
	const struct node_cfg *n = &c->node;
	uint16_t port;
	size_t i, k;

	if (n->listen.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&n->listen;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&n->listen;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	}
	fprintf(f, "[Node]\n");
	fprintf(f, "PrivateKeyFile = %s\n", n->private_key_file);
	fprintf(f, "ListenAddress = %s\n", host);
	fprintf(f, "ListenPort = %u\n", port);
	fprintf(f, "ControlSocket = %s\n", n->control_socket);
	fprintf(f, "DeadAfter = %ums\n", n->dead_after_ms);
	fprintf(f, "ProbeInterval = %ums\n", n->probe_interval_ms);
	fprintf(f, "LoopRetryMin = %ums\n", n->loop_retry_min_ms);
	fprintf(f, "LoopRetryMax = %ums\n", n->loop_retry_max_ms);
	fprintf(f, "MacFlapMoves = %u\n", n->mac_flap_moves);
	fprintf(f, "MacFlapWindow = %ums\n", n->mac_flap_window_ms);
	fprintf(f, "StormLimit = %u\n", n->storm_limit);
	fprintf(f, "MetricsListen = %s\n", n->has_metrics_listen
		? sockaddr_to_string(&n->metrics_listen, addr, sizeof(addr)) : "none");
	fprintf(f, "MetricsFile = %s\n", n->metrics_file[0] ? n->metrics_file : "none");
	fprintf(f, "MigrateListen = %s\n", n->has_migrate_listen
		? sockaddr_to_string(&n->migrate_listen, addr, sizeof(addr)) : "none");
	fprintf(f, "XenConfigDir = %s\n", n->xen_config_dir);
	fprintf(f, "StateFile = %s\n", n->state_file[0] ? n->state_file : "none");

	for (i = 0; i < c->n_bridges; i++) {
		const struct bridge_cfg *b = &c->bridges[i];

		fprintf(f, "\n[Bridge %s]\n", b->name);
		fprintf(f, "Segment = %s\n", b->segment);
		fprintf(f, "STP = %s\n", b->stp ? "on" : "off");
		fprintf(f, "ForwardDelay = %u\n", b->forward_delay);
		fprintf(f, "Address = %s\n", b->address[0] ? b->address : "none");
		fprintf(f, "MTU = %u\n", b->mtu);
	}

	for (i = 0; i < c->n_peers; i++) {
		const struct peer_cfg *pc = &c->peers[i];
		const char *enc = encryption_to_string(pc->encryption);

		sodium_bin2base64(b64, sizeof(b64), pc->public_key, KEY_LEN,
				  sodium_base64_VARIANT_ORIGINAL);
		fprintf(f, "\n[Peer %s]\n", pc->name);
		fprintf(f, "PublicKey = %s\n", b64);
		fprintf(f, "Endpoint = %s\n", pc->has_endpoint
			? sockaddr_to_string(&pc->endpoint, addr, sizeof(addr)) : "none");
		fprintf(f, "Segments = ");
		for (k = 0; k < pc->n_segments; k++)
			fprintf(f, "%s%s", k ? ", " : "", pc->segments[k]);
		fprintf(f, "\n");
		fprintf(f, "Encryption = %s\n", enc ? enc : "?");
		fprintf(f, "Keepalive = %ums\n", pc->keepalive_ms);
	}
}

const struct bridge_cfg *config_bridge_by_segment(const struct config *c,
						  const char *segment)
{
	size_t i;

	if (!c || !segment)
		return NULL;
	for (i = 0; i < c->n_bridges; i++)
		if (!strcmp(c->bridges[i].segment, segment))
			return &c->bridges[i];
	return NULL;
}

const struct peer_cfg *config_peer_by_name(const struct config *c,
					   const char *name)
{
	size_t i;

	if (!c || !name)
		return NULL;
	for (i = 0; i < c->n_peers; i++)
		if (!strcmp(c->peers[i].name, name))
			return &c->peers[i];
	return NULL;
}

static bool sockaddr_equal(const struct sockaddr_storage *a,
			   const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return true;
}

bool peer_cfg_equal(const struct peer_cfg *a, const struct peer_cfg *b)
{
	size_t i, j;

	if (a == b)
		return true;
	if (!a || !b)
		return false;
	if (sodium_memcmp(a->public_key, b->public_key, KEY_LEN) != 0)
		return false;
	if (a->has_endpoint != b->has_endpoint)
		return false;
	if (a->has_endpoint && !sockaddr_equal(&a->endpoint, &b->endpoint))
		return false;
	if (a->encryption != b->encryption || a->keepalive_ms != b->keepalive_ms)
		return false;
	/* Segments as a set: order in the file does not change the tunnel. */
	if (a->n_segments != b->n_segments)
		return false;
	for (i = 0; i < a->n_segments; i++) {
		for (j = 0; j < b->n_segments; j++)
			if (!strcmp(a->segments[i], b->segments[j]))
				break;
		if (j == b->n_segments)
			return false;
	}
	return true;
}
