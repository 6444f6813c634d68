/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtund.conf, read to be carried over to bridged.conf (bridgectl import
 * vtund). A pure parser: text in, sessions out, no I/O. The grammar of
 * vtund.conf(5): `NAME { KEY VALUE...; KEY { ... }; }` blocks, `#`
 * comments, quoted strings; `options` and `default` are the special
 * blocks. Only what bridged can use is kept: per session its type,
 * proto, encrypt, keepalive, compress, whether it has a passwd, and the
 * bridges its up block enslaves the tunnel device to (`brctl addif BR %%`,
 * `ip link set %% master BR`).
 */
#ifndef BRIDGED_NETCFG_VTUND_H
#define BRIDGED_NETCFG_VTUND_H

#include <stdbool.h>
#include <stddef.h>

#define VTUND_WORD_MAX 64
#define VTUND_BRIDGES_MAX 8

struct vtund_session {
	char name[VTUND_WORD_MAX];
	unsigned line;
	char type[VTUND_WORD_MAX];        /* "" if not given (vtund: tty) */
	char proto[VTUND_WORD_MAX];       /* "" if not given (vtund: tcp) */
	char encrypt[VTUND_WORD_MAX];
	char keepalive[VTUND_WORD_MAX];
	char compress[VTUND_WORD_MAX];
	bool has_passwd;
	char bridges[VTUND_BRIDGES_MAX][VTUND_WORD_MAX];
	size_t n_bridges;
	unsigned n_up_other;              /* up statements that name no bridge */
};

struct vtund_conf {
	struct vtund_session *sessions;
	size_t n_sessions;
	unsigned port;                    /* options { port N; }, 0: not given */
	struct vtund_session defaults;    /* the default { } block */
};

/* Parses text (len bytes). 0, or -EINVAL with "LINE: what" in err. */
int vtund_parse(const char *text, size_t len, struct vtund_conf *ret, char *err, size_t errlen);
void vtund_conf_clear(struct vtund_conf *c);

#endif
