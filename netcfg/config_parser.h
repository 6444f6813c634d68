/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration parser's internals, shared by its files (the public
 * header is config.h): config.c (the reader: lines, sections, errors,
 * whole-config checks, entry points), config_keys.c (the key table and the
 * value parsers), config_print.c (the canonical print, lookups).
 */
#ifndef BRIDGED_NETCFG_CONFIG_PARSER_H
#define BRIDGED_NETCFG_CONFIG_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcfg/config.h"

#define CONFIG_FILE_MAX        (1024 * 1024)
#define CONFIG_LINE_MAX        198          /* characters, without the line end */
#define CONFIG_KEEPALIVE_MAX_MS (3600U * 1000U)
#define CONFIG_FORWARD_DELAY_MAX 30      /* BR_MAX_FORWARD_DELAY */
#define CONFIG_FORWARD_DELAY_MIN_STP 2   /* BR_MIN_FORWARD_DELAY */
#define CONFIG_MTU_MIN         68
#define CONFIG_MTU_MAX         65535

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
	KEY_USER,
	KEY_MIGRATE_SOURCE,
	KEY_MIGRATE_SOURCE_TOOL,
	KEY_XEN_AUTO_DIR,
	KEY_XEN_SAVE_DIR,
	KEY_MIGRATE_STATE_DIR,
	KEY_OFFLOAD,
	KEY_SUPERFRAMES,
	KEY_STEERING,
	KEY_WORKERS,
	KEY_IDLE_KEEPALIVE,
	KEY_CONTROL_GROUP,
	_KEY_MAX,
};

struct section {
	enum sect_kind kind;
	size_t idx;                      /* into bridges[] or peers[] */
	unsigned line;
	bool invalid;                    /* reported; left out of cross checks */
	char label[48];                  /* "Bridge br-dmz", for messages */
	unsigned key_line[_KEY_MAX];     /* 0: key not given */
	uint64_t key_bad;                /* 1 << key_id: value reported bad */
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

extern const struct key_def key_table[_KEY_MAX];

/* An error at a line of the file: "FILE:LINE: [LABEL] KEY: message". */
void __attribute__((format(printf, 5, 6)))
config_error_at(struct parser *p, unsigned line, const char *label, const char *key,
		const char *fmt, ...);
/* An error about the value of the key at hand; returns -EINVAL. */
int __attribute__((format(printf, 2, 3)))
config_key_error(struct parser *p, const char *fmt, ...);
void config_node_defaults(struct node_cfg *n);
/* NULL when s is a valid name (section names, segments), else why not. */
const char *config_check_name(const char *s, size_t max);
const char *config_check_ifname(const char *s);

#endif
