/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bridgectl migrate source`: asks the old host's daemon (its [Node]
 * MigrateListen) for a VM's Xen config or state, to shut it down, to
 * start it again, or to switch its autostart off and back
 * (migrate/source/fetch.h), and prints the answer as text or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "bridged/cli/migrate_cli.h"
#include "bridged/cli/migrate_conn.h"
#include "common/escape.h"
#include "migrate/migrate.h"

#define SOURCE_DEFAULT_TIMEOUT 120	/* shutdown: seconds the guest gets */
#define SOURCE_REPLY_MS 120000		/* beyond the shutdown's own timeout */

static const char source_help[] =
"Usage: bridgectl migrate source --from ADDR:PORT --vm VM [OPTIONS] ACTION\n"
"\n"
"Asks the old host's bridged (its [Node] MigrateListen) about one VM, over\n"
"the same authenticated channel as 'migrate receive --from': the old host\n"
"answers only a [Peer] of its configuration, and only about the VMs whose\n"
"Xen configs are in its XenConfigDir. It acts through its MigrateSource\n"
"backend (xl, xm, or libvirt:URI).\n"
"\n"
"Actions:\n"
"  config                print the VM's Xen config, byte for byte, as the\n"
"                        old host has it (checked against its SHA-256)\n"
"  state                 running, shut off or unknown, with the hypervisor's\n"
"                        own words (xl's state letters, libvirt's state)\n"
"  shutdown              shut the VM down gracefully and wait until it is\n"
"                        gone, at most --timeout seconds. When it is still\n"
"                        running then, nothing more happens and the command\n"
"                        is refused, unless --force: then it is destroyed.\n"
"                        A VM that is already shut off is left alone.\n"
"  start                 start the VM again (a rollback): xl/xm create it from\n"
"                        its config in XenConfigDir, libvirt starts its\n"
"                        definition; then wait (at most 30 s) until it runs.\n"
"                        A VM that runs is left alone (\"already running\").\n"
"  autostart-off         make the old host not start the VM when it boots:\n"
"                        links to its config in XenAutoDir (/etc/xen/auto) are\n"
"                        removed, a copy of its config there and an image that\n"
"                        xendomains saved (XenSaveDir/DOMAIN) are moved aside\n"
"                        (.NAME.bridged-off), a libvirt autostart flag is\n"
"                        cleared. Each change is recorded in a journal on the\n"
"                        old host first; running it again changes nothing\n"
"                        more. Entries that look related but are not the VM's\n"
"                        (a link named after it that points elsewhere) are\n"
"                        left alone and listed.\n"
"  autostart-restore     put back exactly what autostart-off changed (the\n"
"                        same link text, the same files), from the journal\n"
"\n"
"Options:\n"
"  --from ADDR:PORT      the old host's MigrateListen\n"
"  --vm NAME             the VM (its config is XenConfigDir/NAME[.cfg])\n"
"  --key FILE            our private key (default " MIG_DEFAULT_KEY "); the old\n"
"                        host must have its public key in a [Peer] section\n"
"  --peer-key BASE64     the old host's public key; any other is refused\n"
"  --timeout S           shutdown: seconds to wait for the guest (default 120,\n"
"                        at most 3600)\n"
"  --force               shutdown: destroy the VM when the timeout ran out\n"
"  --connect-timeout S   keep trying to connect for S seconds (default 30)\n"
"  --json                print the old host's answer as one JSON object\n"
"                        (refusals too: {\"result\": \"refused\", ...})\n"
"  -h, --help            this text\n"
"\n"
"Output: config prints the file itself; the others a few lines of text,\n"
"or the JSON of docs/STREAM.md (\"What else the old host serves\").\n"
"\n"
"Exit status: 0 done (state: running or shut off), 1 error (state:\n"
"unknown), 2 usage, 3 refused (not a peer there, no such VM there, a\n"
"shutdown that timed out without --force, a restore that could not put\n"
"everything back, a start that did not run within 30 s), 4 interrupted.\n"
"\n"
"Examples:\n"
"  new# bridgectl migrate source --from old:5881 --peer-key OLDPUB= --vm web1 state\n"
"  new# bridgectl migrate source --from old:5881 --peer-key OLDPUB= --vm web1 \\\n"
"           shutdown --timeout 300\n"
"  new# bridgectl migrate source --from old:5881 --peer-key OLDPUB= --vm web1 \\\n"
"           config >/etc/xen/web1.cfg.from-old\n";

void source_usage(FILE *f)
{
	fprintf(f,
		"  migrate source --from ADDR:PORT --vm VM config|state|shutdown|start|\n"
		"                 autostart-off|autostart-restore ...\n"
		"                                  ask the old host's bridged about a VM (see --help)\n");
}

struct source_args {
	struct mig_keys k;
	const char *from, *vm;
	uint8_t op;
	bool json, force, timeout_given;
	unsigned long timeout, ctimeout;
};

enum { OPT_FROM = 256, OPT_VM, OPT_KEY, OPT_PEER_KEY, OPT_TIMEOUT, OPT_FORCE, OPT_CTIMEOUT, OPT_JSON };

static const struct option source_opts[] = {
	{ "from", required_argument, NULL, OPT_FROM },
	{ "vm", required_argument, NULL, OPT_VM },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "peer-key", required_argument, NULL, OPT_PEER_KEY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "connect-timeout", required_argument, NULL, OPT_CTIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	const char *name;
	uint8_t op;
} actions[] = {
	{ "config", FETCH_OP_CONFIG },
	{ "state", FETCH_OP_STATE },
	{ "shutdown", FETCH_OP_SHUTDOWN },
	{ "start", FETCH_OP_START },
	{ "autostart-off", FETCH_OP_AUTOSTART_OFF },
	{ "autostart-restore", FETCH_OP_AUTOSTART_RESTORE },
};

static int parse_seconds(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* -1 usage, 1 --help, 0 fine. Options may come before or after ACTION. */
static int source_args_parse(int argc, char **argv, struct source_args *a)
{
	const char *action = NULL;
	int c;

	memset(a, 0, sizeof(*a));
	a->k.key_file = MIG_DEFAULT_KEY;
	a->timeout = SOURCE_DEFAULT_TIMEOUT;
	a->ctimeout = 30;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", source_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(source_help, stdout);
			return 1;
		case OPT_FROM: a->from = optarg; break;
		case OPT_VM: a->vm = optarg; break;
		case OPT_KEY: a->k.key_file = optarg; break;
		case OPT_PEER_KEY: a->k.peer_key = optarg; break;
		case OPT_FORCE: a->force = true; break;
		case OPT_JSON: a->json = true; break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, FETCH_TIMEOUT_MAX, &a->timeout) < 0 || !a->timeout) {
				fprintf(stderr, "source: --timeout: seconds from 1 to %d\n", FETCH_TIMEOUT_MAX);
				return -1;
			}
			a->timeout_given = true;
			break;
		case OPT_CTIMEOUT:
			if (parse_seconds(optarg, 86400, &a->ctimeout) < 0) {
				fprintf(stderr, "source: --connect-timeout: a number of seconds\n");
				return -1;
			}
			break;
		default:
			fprintf(stderr, "source: unknown or incomplete option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "source: %s (see --help)\n", optind >= argc ?
			"ACTION is missing (config, state, shutdown, start, autostart-off, "
			"autostart-restore)" :
			"one ACTION only");
		return -1;
	}
	action = argv[optind];
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(action, actions[i].name))
			a->op = actions[i].op;
	if (!a->op) {
		fprintf(stderr, "source: unknown ACTION '%s' (config, state, shutdown, start, "
			"autostart-off, autostart-restore)\n", action);
		return -1;
	}
	if (!a->from || !a->vm) {
		fprintf(stderr, "source: --from ADDR:PORT and --vm NAME are required\n");
		return -1;
	}
	if (!fetch_vm_name_ok(a->vm)) {
		fprintf(stderr, "source: --vm '%s' is not a VM name (no '/', no leading '.', no blanks)\n",
			a->vm);
		return -1;
	}
	if (a->op != FETCH_OP_SHUTDOWN && (a->force || a->timeout_given)) {
		fprintf(stderr, "source: --timeout and --force belong to shutdown\n");
		return -1;
	}
	return 0;
}

/* A refusal: exit 3, the daemon's reason on stderr (escaped), and with
 * --json as an object on stdout. */
static int print_refused(const struct source_args *a, uint16_t status, const char *why)
{
	char e[2048];

	if (a->json) {
		json_object *j = json_object_new_object();
		const char *name = strerrorname_np(status);

		json_object_object_add(j, "vm", json_object_new_string(a->vm));
		json_object_object_add(j, "action", json_object_new_string(fetch_op_to_string(a->op)));
		json_object_object_add(j, "result", json_object_new_string("refused"));
		json_object_object_add(j, "status", status ? json_object_new_string(name ? name : "?") : NULL);
		json_object_object_add(j, "message", json_object_new_string(why));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	}
	fprintf(stderr, "source: refused: %s\n", str_escape(why, SIZE_MAX, e, sizeof(e)));
	return EXIT_REFUSED;
}

static const char *jstr(json_object *j, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(j, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* config: the file's bytes on stdout, after checking them. */
static int print_config(json_object *j)
{
	const char *b64 = jstr(j, "base64"), *sum = jstr(j, "sha256");
	uint8_t hash[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	unsigned char *buf;
	size_t len = 0, cap;
	int status = EXIT_FAIL;

	if (!b64 || !sum) {
		fprintf(stderr, "source: the reply has no config\n");
		return EXIT_FAIL;
	}
	cap = strlen(b64) / 4 * 3 + 3;
	buf = malloc(cap);
	if (!buf)
		return EXIT_FAIL;
	if (sodium_base642bin(buf, cap, b64, strlen(b64), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) < 0) {
		fprintf(stderr, "source: the config in the reply is not base64\n");
		goto out;
	}
	crypto_hash_sha256(hash, buf, len);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	if (strcmp(hex, sum)) {
		fprintf(stderr, "source: the config does not match its SHA-256\n");
		goto out;
	}
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
		perror("source: stdout");
		goto out;
	}
	status = EXIT_OK;
out:
	free(buf);
	return status;
}

static void print_state_line(json_object *j)
{
	json_object *v;
	const char *flags = jstr(j, "flags"), *detail = jstr(j, "detail"), *msg = jstr(j, "message");

	printf("VM %s (domain %s): %s", jstr(j, "vm"), jstr(j, "domain"), jstr(j, "state"));
	if (json_object_object_get_ex(j, "domid", &v) && v)
		printf(", domid %lld", (long long)json_object_get_int64(v));
	if (flags)
		printf(", %s", flags);
	if (detail)
		printf(" (%s)", detail);
	printf(" [%s]\n", jstr(j, "backend"));
	if (msg)
		printf("  %s\n", msg);
}

static void print_changes(json_object *j)
{
	json_object *a, *v;

	if (json_object_object_get_ex(j, "changes", &a)) {
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *c = json_object_array_get_idx(a, i);
			const char *kind = jstr(c, "kind"), *path = jstr(c, "path");
			bool now = json_object_object_get_ex(c, "changed_now", &v) && json_object_get_boolean(v);

			printf("  %-11s %-8s %s", kind, jstr(c, "status"), path ? path : "(the hypervisor's flag)");
			if (jstr(c, "target"))
				printf(" -> %s", jstr(c, "target"));
			if (jstr(c, "aside"))
				printf(" (aside: %s)", jstr(c, "aside"));
			printf("%s\n", now ? "" : " (before)");
		}
	}
	if (json_object_object_get_ex(j, "left_alone", &a)) {
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *n = json_object_array_get_idx(a, i);

			printf("  left alone: %s: %s\n", jstr(n, "path") ? jstr(n, "path") : "(the hypervisor)",
			       jstr(n, "why"));
		}
	}
}

static int print_reply(const struct source_args *a, const char *text)
{
	json_object *j = json_tokener_parse(text), *v;
	int status = EXIT_OK;

	if (!j) {
		fprintf(stderr, "source: the reply is not JSON\n");
		return EXIT_FAIL;
	}
	if (a->op == FETCH_OP_CONFIG && !a->json) {
		status = print_config(j);
		json_object_put(j);
		return status;
	}
	if (a->op == FETCH_OP_STATE) {
		const char *st = jstr(j, "state");

		status = st && strcmp(st, "unknown") ? EXIT_OK : EXIT_FAIL;
	}
	if (a->json) {
		printf("%s\n", text);
		json_object_put(j);
		return status;
	}
	switch (a->op) {
	case FETCH_OP_STATE:
		print_state_line(j);
		break;
	case FETCH_OP_SHUTDOWN:
		json_object_object_get_ex(j, "seconds", &v);
		if (!strcmp(jstr(j, "result") ? jstr(j, "result") : "", "already shut off"))
			printf("VM %s: already shut off\n", a->vm);
		else
			printf("VM %s: %s after %.1f s\n", a->vm, jstr(j, "result"), json_object_get_double(v));
		break;
	case FETCH_OP_START:
		printf("VM %s: %s\n", a->vm, jstr(j, "result"));
		if (json_object_object_get_ex(j, "state", &v) && v) {
			printf("  ");
			print_state_line(v);
		}
		break;
	default:
		printf("VM %s: autostart %s (journal %s on the old host)\n", a->vm, jstr(j, "result"),
		       jstr(j, "journal"));
		print_changes(j);
		break;
	}
	json_object_put(j);
	return status;
}

int migrate_cmd_source(int argc, char **argv)
{
	struct source_args a;
	struct stream_chan *ch = NULL;
	struct fetch_request req = { 0 };
	char *text = NULL;
	uint16_t st = 0;
	int r, fd = -1, status = EXIT_FAIL, wait_ms;

	r = source_args_parse(argc, argv, &a);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	signals_install();
	if (sodium_init() < 0 || mig_load_keys(&a.k, "source") < 0)
		goto out;
	text = malloc(FETCH_TEXT_MAX + 1);
	if (!text)
		goto out;
	fd = mig_connect("source", a.from, (int)a.ctimeout, &stream_cancel_flag);
	if (fd < 0) {
		status = stream_cancel_flag ? EXIT_INTERRUPTED : EXIT_FAIL;
		goto out;
	}
	stream_cancel_fd = fd;
	r = mig_daemon_auth(&a.k, fd, a.from, &ch, text, FETCH_TEXT_MAX);
	if (r < 0) {
		if (r == -EACCES)
			status = print_refused(&a, EACCES, text);
		else
			fprintf(stderr, "source: %s\n", text);
		goto out;
	}
	req.op = a.op;
	snprintf(req.vm, sizeof(req.vm), "%s", a.vm);
	if (a.op == FETCH_OP_SHUTDOWN) {
		req.timeout_s = (uint32_t)a.timeout;
		req.flags = a.force ? FETCH_FLAG_FORCE : 0;
	}
	wait_ms = SOURCE_REPLY_MS + (int)req.timeout_s * 1000;
	r = fetch_call(ch, fd, &req, wait_ms, &st, text, FETCH_TEXT_MAX + 1);
	if (r < 0) {
		if (stream_cancel_flag) {
			fprintf(stderr, "source: interrupted\n");
			status = EXIT_INTERRUPTED;
		} else {
			fprintf(stderr, "source: %s: no answer: %s%s\n", a.from, strerror(-r),
				r == -ECONNRESET ? " (the daemon closed the connection: not a peer there?)" : "");
		}
		goto out;
	}
	status = st ? print_refused(&a, st, text) : print_reply(&a, text);
out:
	stream_cancel_fd = -1;
	if (fd >= 0)
		close(fd);
	stream_chan_free(ch);
	mig_keys_free(&a.k);
	free(text);
	return status;
}
