/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration keys: the key table, one handler per key, the value
 * parsers (pure), the defaults (config_parser.h). */
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

#include "netcfg/config_parser.h"

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
const char *config_check_name(const char *s, size_t max)
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
const char *config_check_ifname(const char *s)
{
	const char *why = config_check_name(s, IFNAMSIZ - 1);

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

/* ---- key handlers ---------------------------------------------------------- */

static int key_private_key_file(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *why = check_path(v, sizeof(n->private_key_file));

	if (why)
		return config_key_error(p, "%s", why);
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
		return config_key_error(p, "not an IPv4 or IPv6 address: \"%s\"", STR_ESCAPED(v));
	}
	return 0;
}

static int key_listen_port(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	uint16_t port;

	if (parse_port(v, &port) < 0)
		return config_key_error(p, "not a port number (1..65535): \"%s\"", STR_ESCAPED(v));
	((struct sockaddr_in *)&n->listen)->sin_port = htons(port);
	return 0;
}

static int key_control_socket(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *why = check_path(v, sizeof(n->control_socket));

	if (why)
		return config_key_error(p, "%s", why);
	strcpy(n->control_socket, v);
	return 0;
}

/* A group name as useradd/groupadd take it (or a number): the daemon
 * looks it up when it opens the socket. */
static int key_control_group(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	size_t len = strlen(v);

	if (!strcasecmp(v, "none")) {
		n->control_group[0] = '\0';
		return 0;
	}
	if (len == 0 || len >= sizeof(n->control_group))
		return config_key_error(p, "not a group name (1..%zu characters) or none: \"%s\"",
					sizeof(n->control_group) - 1, STR_ESCAPED(v));
	for (const char *q = v; *q; q++)
		if (!name_char_ok(*q) || (q == v && *q == '-'))
			return config_key_error(p, "not a group name (A-Z a-z 0-9 . _ -, not starting "
						"with -) or none: \"%s\"", STR_ESCAPED(v));
	strcpy(n->control_group, v);
	return 0;
}

static int key_segment(struct parser *p, void *obj, const char *v)
{
	struct bridge_cfg *b = obj;
	const char *why = config_check_name(v, CONFIG_NAME_MAX - 1);

	if (why)
		return config_key_error(p, "%s: \"%s\"", why, STR_ESCAPED(v));
	strcpy(b->segment, v);
	return 0;
}

static int key_stp(struct parser *p, void *obj, const char *v)
{
	struct bridge_cfg *b = obj;

	if (parse_bool(v, &b->stp) < 0)
		return config_key_error(p, "not a boolean (on/off, yes/no, true/false, 1/0): \"%s\"",
				 STR_ESCAPED(v));
	return 0;
}

static int key_forward_delay(struct parser *p, void *obj, const char *v)
{
	struct bridge_cfg *b = obj;
	unsigned long d;

	if (parse_uint(v, CONFIG_FORWARD_DELAY_MAX, &d) < 0)
		return config_key_error(p, "not a number of seconds (0..%d): \"%s\"",
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
		return config_key_error(p, "not an address with prefix length (a.b.c.d/n, x:y::z/n or none): \"%s\"",
				 STR_ESCAPED(v));
	memcpy(host, v, (size_t)(slash - v));
	host[slash - v] = '\0';
	if (inet_pton(AF_INET, host, addr) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		af = AF_INET6;
	else
		return config_key_error(p, "not an address with prefix length (a.b.c.d/n, x:y::z/n or none): \"%s\"",
				 STR_ESCAPED(v));
	if (parse_uint(slash + 1, af == AF_INET ? 32 : 128, &plen) < 0 || plen == 0)
		return config_key_error(p, "bad prefix length (1..%d): \"%s\"",
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
		return config_key_error(p, "not an MTU (0 or %d..%d): \"%s\"",
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
		return config_key_error(p, "not a base64 key of %d bytes (44 characters)",
				 KEY_LEN);
	if (!memcmp(key, zero, sizeof(key)))
		return config_key_error(p, "all-zero key");
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
		return config_key_error(p, "not an endpoint (a.b.c.d:port, [x:y::z]:port or none): \"%s\"",
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

			r = config_key_error(p, "segment name too long: \"%s\"", str_escape(s, n, e, sizeof(e)));
			s += n;
			continue;
		}
		memcpy(name, s, n);
		name[n] = '\0';
		s += n;
		why = config_check_name(name, CONFIG_NAME_MAX - 1);
		if (why) {
			r = config_key_error(p, "%s: \"%s\"", why, STR_ESCAPED(name));
			continue;
		}
		for (i = 0; i < pc->n_segments; i++)
			if (!strcmp(pc->segments[i], name))
				break;
		if (i < pc->n_segments) {
			r = config_key_error(p, "segment \"%s\" listed twice", name);
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
		return config_key_error(p, "no segment named");
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
	return config_key_error(p, "not aead or none: \"%s\"", STR_ESCAPED(v));
}

static int key_keepalive(struct parser *p, void *obj, const char *v)
{
	struct peer_cfg *pc = obj;
	unsigned ms;
	int r = parse_interval_ms(v, &ms);

	if (r == -EDOM)
		return config_key_error(p, "not a whole number of milliseconds: \"%s\"", STR_ESCAPED(v));
	if (r == -ERANGE)
		return config_key_error(p, "too long (at most %us): \"%s\"",
				 CONFIG_KEEPALIVE_MAX_MS / 1000, STR_ESCAPED(v));
	if (r < 0)
		return config_key_error(p, "not an interval (250ms, 1s, 0.5, 0): \"%s\"", STR_ESCAPED(v));
	pc->keepalive_ms = ms;
	return 0;
}

/* Intervals of [Node]: positive, at most an hour; "0" only where noted. */
static int node_interval(struct parser *p, const char *v, unsigned min_ms, unsigned *ret)
{
	unsigned ms;
	int r = parse_interval_ms(v, &ms);

	if (r == -EDOM)
		return config_key_error(p, "not a whole number of milliseconds: \"%s\"", STR_ESCAPED(v));
	if (r == -ERANGE)
		return config_key_error(p, "too long (at most %us): \"%s\"",
				 CONFIG_KEEPALIVE_MAX_MS / 1000, STR_ESCAPED(v));
	if (r < 0)
		return config_key_error(p, "not an interval (250ms, 1s, 0.5): \"%s\"", STR_ESCAPED(v));
	if (ms < min_ms)
		return config_key_error(p, "too short (at least %ums): \"%s\"", min_ms, STR_ESCAPED(v));
	*ret = ms;
	return 0;
}

static int key_dead_after(struct parser *p, void *obj, const char *v)
{
	return node_interval(p, v, 100, &((struct node_cfg *)obj)->dead_after_ms);
}

/* 0 (idle mode off) or at least 100 ms */
static int key_idle_keepalive(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;

	if (!strcmp(v, "0")) {
		n->idle_keepalive_ms = 0;
		return 0;
	}
	return node_interval(p, v, 100, &n->idle_keepalive_ms);
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
		return config_key_error(p, "not a number of moves from 2 to 16: \"%s\"", STR_ESCAPED(v));
	((struct node_cfg *)obj)->mac_flap_moves = (unsigned)n;
	return 0;
}

static int key_storm_limit(struct parser *p, void *obj, const char *v)
{
	unsigned long n;

	if (parse_uint(v, 10000000, &n) < 0)
		return config_key_error(p, "not a number of frames per second (0: no limit): \"%s\"",
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
	/* a port alone: on localhost (another address is said explicitly) */
	if (v[0] >= '0' && v[0] <= '9' && !strchr(v, ':') && !strchr(v, '.')) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&n->metrics_listen;
		uint16_t port;

		if (parse_port(v, &port) < 0)
			return config_key_error(p, "not a port number (1..65535): \"%s\"", STR_ESCAPED(v));
		memset(&n->metrics_listen, 0, sizeof(n->metrics_listen));
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		n->metrics_listen_len = sizeof(*sin);
		n->has_metrics_listen = true;
		return 0;
	}
	if (parse_endpoint(v, &n->metrics_listen, &n->metrics_listen_len) < 0)
		return config_key_error(p, "not port, address:port or none: \"%s\"", STR_ESCAPED(v));
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
		return config_key_error(p, "%s", why);
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
		return config_key_error(p, "not address:port or none: \"%s\"", STR_ESCAPED(v));
	n->has_migrate_listen = true;
	return 0;
}

static int key_xen_config_dir(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *why = check_path(v, sizeof(n->xen_config_dir));

	if (why)
		return config_key_error(p, "%s", why);
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
		return config_key_error(p, "%s", why);
	strcpy(n->state_file, v);
	return 0;
}

/* MigrateSource: "xl", "xm" or "libvirt:URI" (a URI without blanks or
 * control characters); migrate/source/backend.c reads it. */
static int key_migrate_source(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *q;

	if (!strcmp(v, "xl") || !strcmp(v, "xm")) {
		strcpy(n->migrate_source, v);
		return 0;
	}
	if (strncmp(v, "libvirt:", 8) || !v[8])
		return config_key_error(p, "not xl, xm or libvirt:URI (e.g. libvirt:xen:///system): \"%s\"",
					STR_ESCAPED(v));
	if (strlen(v) >= sizeof(n->migrate_source))
		return config_key_error(p, "URI too long");
	for (q = v; *q; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f)
			return config_key_error(p, "blank or control character in the URI: \"%s\"",
						STR_ESCAPED(v));
	strcpy(n->migrate_source, v);
	return 0;
}

/* An account name (letters, digits, '_', '-', '.'; not leading '-'), or
 * "default". */
static int key_user(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;

	if (!strcasecmp(v, "default")) {
		n->user[0] = '\0';
		return 0;
	}
	if (!*v || *v == '-' || strlen(v) >= sizeof(n->user))
		return config_key_error(p, "not a user name: \"%s\"", STR_ESCAPED(v));
	for (const char *q = v; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-' && *q != '.')
			return config_key_error(p, "not a user name: \"%s\"", STR_ESCAPED(v));
	strcpy(n->user, v);
	return 0;
}

/* PATH, or "default" (xl or xm as found in PATH). */
static int key_migrate_source_tool(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *why;

	if (!strcasecmp(v, "default")) {
		n->migrate_source_tool[0] = '\0';
		return 0;
	}
	why = check_path(v, sizeof(n->migrate_source_tool));
	if (why)
		return config_key_error(p, "%s", why);
	strcpy(n->migrate_source_tool, v);
	return 0;
}

/* A folder, or none: XenAutoDir, XenSaveDir. */
static int dir_or_none(struct parser *p, const char *v, char *dst, size_t len)
{
	const char *why;

	if (!strcasecmp(v, "none")) {
		dst[0] = '\0';
		return 0;
	}
	why = check_path(v, len);
	if (why)
		return config_key_error(p, "%s", why);
	strcpy(dst, v);
	return 0;
}

static int key_xen_auto_dir(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;

	return dir_or_none(p, v, n->xen_auto_dir, sizeof(n->xen_auto_dir));
}

static int key_xen_save_dir(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;

	return dir_or_none(p, v, n->xen_save_dir, sizeof(n->xen_save_dir));
}

static int key_migrate_state_dir(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	const char *why = check_path(v, sizeof(n->migrate_state_dir));

	if (why)
		return config_key_error(p, "%s", why);
	strcpy(n->migrate_state_dir, v);
	return 0;
}

/* A key of two words: *out is false for the first (the default), true
 * for the second. */
static int key_two(struct parser *p, const char *v, const char *no, const char *yes, bool *out)
{
	if (!strcasecmp(v, no))
		*out = false;
	else if (!strcasecmp(v, yes))
		*out = true;
	else
		return config_key_error(p, "not %s or %s: \"%s\"", no, yes, STR_ESCAPED(v));
	return 0;
}

static int key_offload(struct parser *p, void *obj, const char *v)
{
	return key_two(p, v, "auto", "off", &((struct node_cfg *)obj)->offload_off);
}

static int key_superframes(struct parser *p, void *obj, const char *v)
{
	return key_two(p, v, "segments", "whole", &((struct node_cfg *)obj)->superframes_whole);
}

static int key_steering(struct parser *p, void *obj, const char *v)
{
	return key_two(p, v, "hash", "cpu", &((struct node_cfg *)obj)->steering_cpu);
}

static int key_workers(struct parser *p, void *obj, const char *v)
{
	struct node_cfg *n = obj;
	char *end;
	unsigned long w;

	if (!strcasecmp(v, "auto")) {
		n->workers = 0;
		return 0;
	}
	errno = 0;
	w = strtoul(v, &end, 10);
	if (errno || end == v || *end || w < 1 || w > CONFIG_WORKERS_MAX || v[0] == '-' || v[0] == '+')
		return config_key_error(p, "not auto or a number of threads from 1 to %d: \"%s\"",
					CONFIG_WORKERS_MAX, STR_ESCAPED(v));
	n->workers = (unsigned)w;
	return 0;
}

const struct key_def key_table[_KEY_MAX] = {
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
	[KEY_USER]             = { SECT_NODE,   "User",           key_user },
	[KEY_MIGRATE_SOURCE]   = { SECT_NODE,   "MigrateSource",  key_migrate_source },
	[KEY_MIGRATE_SOURCE_TOOL] = { SECT_NODE, "MigrateSourceTool", key_migrate_source_tool },
	[KEY_XEN_AUTO_DIR]     = { SECT_NODE,   "XenAutoDir",     key_xen_auto_dir },
	[KEY_XEN_SAVE_DIR]     = { SECT_NODE,   "XenSaveDir",     key_xen_save_dir },
	[KEY_MIGRATE_STATE_DIR] = { SECT_NODE,  "MigrateStateDir", key_migrate_state_dir },
	[KEY_OFFLOAD]          = { SECT_NODE,   "Offload",        key_offload },
	[KEY_SUPERFRAMES]      = { SECT_NODE,   "SuperFrames",    key_superframes },
	[KEY_STEERING]         = { SECT_NODE,   "Steering",       key_steering },
	[KEY_WORKERS]          = { SECT_NODE,   "Workers",        key_workers },
	[KEY_IDLE_KEEPALIVE]   = { SECT_NODE,   "IdleKeepalive",  key_idle_keepalive },
	[KEY_CONTROL_GROUP]    = { SECT_NODE,   "ControlGroup",   key_control_group },
};

void config_node_defaults(struct node_cfg *n)
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
	n->idle_keepalive_ms = 1000;
	n->loop_retry_min_ms = 2000;
	n->loop_retry_max_ms = 60000;
	n->mac_flap_moves = 5;
	n->mac_flap_window_ms = 10000;
	n->storm_limit = 2000;
	strcpy(n->xen_config_dir, CONFIG_DEFAULT_XEN_DIR);
	strcpy(n->state_file, CONFIG_DEFAULT_STATE_FILE);
	strcpy(n->migrate_source, CONFIG_DEFAULT_MIGRATE_SOURCE);
	strcpy(n->xen_auto_dir, CONFIG_DEFAULT_XEN_AUTO_DIR);
	strcpy(n->xen_save_dir, CONFIG_DEFAULT_XEN_SAVE_DIR);
	strcpy(n->migrate_state_dir, CONFIG_DEFAULT_MIGRATE_STATE_DIR);
}
