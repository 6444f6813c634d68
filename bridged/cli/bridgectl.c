/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bridgectl: the operator's command, one table of commands (cli.h): keys
 * (genkey, pubkey), the daemon's state over its control socket (status,
 * events, fdb), and the migration commands (migrate.c, the migrate library).
 */
#include <errno.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bridged/cli/cli.h"
#include "bridged/cli/ctl_client.h"
#include "bridged/cli/ctl_print.h"
#include "bridged/cli/migrate_cli.h"
#include "common/escape.h"
#include "common/keys.h"
#include "netcfg/config.h"
#include "netcfg/netcfg.h"

/*
 * libparted's constructor (ped_disk_gpt_init) trips ASan's strchr
 * interceptor on a getdelim() buffer before main(); not our bug.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "intercept_strchr=0";
}

const char *cli_socket = CONFIG_DEFAULT_SOCKET;

static const char usage_head[] =
"Usage: bridgectl [--socket PATH] COMMAND [ARGS]\n"
"\n"
"Commands (COMMAND --help for details):\n";

static const char usage_tail[] =
"\n"
"Options:\n"
"  --socket PATH                     the daemon's control socket (default:\n"
"                                    $BRIDGED_SOCKET, else " CONFIG_DEFAULT_SOCKET ")\n"
"  -h, --help                        this help\n"
"\n"
"Exit status: 0 success, 1 failure (message on stderr), 2 usage error.\n";

static void usage(FILE *f)
{
	fputs(usage_head, f);
	cli_print_commands(f, "", cli_commands);
	fputs(usage_tail, f);
}

/* genkey and pubkey take no argument but --help: -1 to go on, else the
 * exit status (a key must never be printed for a mistyped option). */
static int key_cmd_args(int argc, char **argv, const char *help)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(help, stdout);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "bridgectl %s: unexpected argument '%s'\n%s", argv[0], argv[1], help);
		return 2;
	}
	return -1;
}

static int cmd_genkey(int argc, char **argv)
{
	uint8_t *priv;
	char b64[KEY_B64_LEN];
	int r = key_cmd_args(argc, argv,
		"Usage: bridgectl genkey\n"
		"Prints a new X25519 private key (base64) on stdout. Store it with mode 0600:\n"
		"  umask 077; bridgectl genkey > /etc/bridged/private.key\n");

	if (r >= 0)
		return r;
	priv = sodium_malloc(KEY_LEN);
	if (!priv || key_generate_private(priv) < 0) {
		fprintf(stderr, "bridgectl genkey: cannot generate a key\n");
		return 1;
	}
	if (isatty(STDOUT_FILENO))
		fprintf(stderr, "bridgectl genkey: warning: writing a private key to a terminal\n");
	key_to_base64(priv, b64);
	puts(b64);
	sodium_memzero(b64, sizeof(b64));
	sodium_free(priv);
	return 0;
}

static int cmd_pubkey(int argc, char **argv)
{
	char line[256];
	uint8_t *priv;
	uint8_t pub[KEY_LEN];
	char b64[KEY_B64_LEN];
	int rc = key_cmd_args(argc, argv,
		"Usage: bridgectl pubkey < PRIVATE-KEY-FILE\n"
		"Reads a private key (base64) on stdin and prints its public key, the\n"
		"PublicKey of this host in the other host's [Peer] section.\n");

	if (rc >= 0)
		return rc;
	rc = 1;
	priv = sodium_malloc(KEY_LEN);
	if (!priv)
		return 1;
	if (!fgets(line, sizeof(line), stdin) || key_from_base64(line, priv) < 0) {
		fprintf(stderr, "bridgectl pubkey: stdin: not a base64 private key (44 characters)\n");
		goto out;
	}
	key_public_from_private(priv, pub);
	key_to_base64(pub, b64);
	puts(b64);
	rc = 0;
out:
	sodium_memzero(line, sizeof(line));
	sodium_free(priv);
	return rc;
}

static int cmd_status(int argc, char **argv)
{
	bool json = false;
	json_object *st;
	char *ans;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("Usage: bridgectl status [--json]\n");
			return 0;
		} else {
			fprintf(stderr, "bridgectl status: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	ans = ctl_request(cli_socket, "status");
	if (!ans)
		return 1;
	st = json_tokener_parse(ans);
	if (!st) {
		fprintf(stderr, "bridgectl: the daemon's answer is not JSON\n");
		free(ans);
		return 1;
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_SPACED));
	else
		ctl_print_status(stdout, st);
	json_object_put(st);
	free(ans);
	return 0;
}

static int cmd_events(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	bool json = false;
	long count = -1, seen = 0;
	double timeout = -1;
	struct ctl_events *ev;
	int fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = true;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout = atof(argv[++i]);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("Usage: bridgectl events [--json] [--count N] [--timeout SECONDS]\n");
			return 0;
		} else {
			fprintf(stderr, "bridgectl events: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (strlen(cli_socket) >= sizeof(sun.sun_path))
		return 1;
	strcpy(sun.sun_path, cli_socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    write(fd, "events\n", 7) != 7) {
		fprintf(stderr, "bridgectl: cannot reach bridged at %s: %s\n", cli_socket, strerror(errno));
		return 1;
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev) {
		close(fd);
		return 1;
	}
	if (timeout >= 0) {
		struct timeval tv = { .tv_sec = (time_t)timeout,
				      .tv_usec = (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6) };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ev->out = stdout;
	ev->sock = cli_socket;
	ev->json = json;
	ev->count = count;
	while (count != 0) {
		ssize_t r = read(fd, ev->buf + ev->have, sizeof(ev->buf) - 1 - ev->have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || !ctl_events_feed(ev, (size_t)r))
			break;
	}
	seen = ev->seen;
	if (ev->refused) {
		close(fd);
		free(ev);
		return 1;
	}
	free(ev);
	close(fd);
	if (count > 0 && seen < count) {
		fprintf(stderr, "bridgectl events: %ld of %ld events before the %s\n", seen, count,
			timeout >= 0 ? "timeout" : "daemon closed the stream");
		return 1;
	}
	return 0;
}

static const char fdb_usage[] =
"Usage: bridgectl fdb [--json] [--segment NAME] [MAC...]\n"
"\n"
"Where each MAC is on this host: the daemon reads the live forwarding\n"
"database of every segment bridge it manages and names, for each MAC the\n"
"bridge has learned, the port it was last seen on. A port is a tunnel\n"
"(one of the daemon's TAP ports: the MAC lives behind that peer) or local\n"
"(any other port: a VM's interface, an uplink). The ports' own addresses,\n"
"the bridge's, static entries and the loop guard's probe sources\n"
"(02:62:64:...) are never listed. Before a VM is started here, none of its\n"
"MACs may be local (it would run twice); once it runs here, its MACs are\n"
"local on its own port.\n"
"\n"
"Arguments:\n"
"  MAC               list only these MACs (at most 16; any case, written\n"
"                    52:54:00:ab:cd:ef); one that no bridge has learned is\n"
"                    reported as not seen\n"
"\n"
"Options:\n"
"  --segment NAME    only the bridge of this segment\n"
"  --json            the daemon's answer as it is (docs/CONTROL.md):\n"
"                    {\"entries\": [{\"mac\", \"segment\", \"bridge\", \"port\",\n"
"                    \"kind\": \"tunnel\"|\"local\", \"peer\", \"vlan\", \"age_ms\"}],\n"
"                    \"truncated\": bool, \"missing\": [MAC...]} (\"missing\"\n"
"                    when MACs were given)\n"
"  -h, --help        this text\n"
"\n"
"Columns: MAC, SEGMENT, BRIDGE, PORT, KIND (local, or tunnel and the peer),\n"
"VLAN (- for none), AGE (since the bridge last saw the MAC as a source;\n"
"it forgets a MAC after its ageing time, 300 s by default).\n"
"\n"
"Exit status: 0 when the daemon answered (also when nothing, or not every\n"
"MAC, was found), 1 when it could not be asked or refused (an unknown\n"
"segment), 2 on a usage error (a malformed MAC).\n";

/* The request line: "fdb [segment NAME] [MAC...]", MACs in lower case. */
static int fdb_request(int argc, char **argv, bool *json, char *req, size_t len)
{
	const char *segment = NULL;
	uint8_t macs[16][6];
	size_t n_macs = 0, at;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			*json = true;
		} else if (!strcmp(argv[i], "--segment") && i + 1 < argc) {
			segment = argv[++i];
		} else if (!strncmp(argv[i], "--segment=", 10)) {
			segment = argv[i] + 10;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "bridgectl fdb: unknown option '%s' (see bridgectl fdb --help)\n",
				STR_ESCAPED(argv[i]));
			return 2;
		} else if (n_macs == 16) {
			fprintf(stderr, "bridgectl fdb: at most 16 MAC addresses\n");
			return 2;
		} else if (netcfg_mac_parse(argv[i], macs[n_macs++]) < 0) {
			fprintf(stderr, "bridgectl fdb: '%s' is not a MAC address (six pairs of hex digits "
				"separated by ':', e.g. 52:54:00:ab:cd:ef)\n", STR_ESCAPED(argv[i]));
			return 2;
		}
	}
	if (segment && (!*segment || strlen(segment) >= CONFIG_NAME_MAX || strpbrk(segment, " \t\r\n"))) {
		fprintf(stderr, "bridgectl fdb: '%s' is not a segment name\n", STR_ESCAPED(segment));
		return 2;
	}
	/* at most 16 + 32 + 16 * 18 bytes: fits */
	at = (size_t)snprintf(req, len, "fdb%s%s", segment ? " segment " : "", segment ? segment : "");
	for (size_t k = 0; k < n_macs && at < len; k++) {
		char m[NETCFG_MAC_STRLEN];

		at += (size_t)snprintf(req + at, len - at, " %s", netcfg_mac_format(macs[k], m));
	}
	return 0;
}

static int cmd_fdb(int argc, char **argv)
{
	bool json = false;
	char req[512], *ans;
	json_object *o;
	int rc;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(fdb_usage, stdout);
			return 0;
		}
	rc = fdb_request(argc, argv, &json, req, sizeof(req));
	if (rc)
		return rc;
	ans = ctl_request(cli_socket, req);
	if (!ans)
		return 1;
	o = json_tokener_parse(ans);
	free(ans);
	if (!o) {
		fprintf(stderr, "bridgectl: the daemon's answer is not JSON\n");
		return 1;
	}
	if (ctl_jget(o, "error")) {
		fprintf(stderr, "bridgectl: %s\n", STR_ESCAPED(ctl_js(o, "error")));
		rc = 1;
	} else if (json) {
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_SPACED));
	} else {
		ctl_print_fdb(stdout, o);
	}
	json_object_put(o);
	return rc;
}

static int cmd_help(int argc, char **argv)
{
	usage(stdout);
	return 0;
}

const struct cli_command cli_commands[] = {
	{ .name = "genkey", .fn = cmd_genkey, .synopsis = "",
	  .summary = "print a new private key (base64) on stdout;\n"
		     "store it with mode 0600, e.g.\n"
		     "  umask 077; bridgectl genkey > /etc/bridged/private.key" },
	{ .name = "pubkey", .fn = cmd_pubkey, .synopsis = "",
	  .summary = "read a private key on stdin, print its public key\n"
		     "  bridgectl pubkey < /etc/bridged/private.key" },
	{ .name = "status", .fn = cmd_status, .synopsis = "[--json]",
	  .summary = "node, segments and bridges, peers: endpoint,\n"
		     "session state, health, last handshake, RTT\n"
		     "(min/avg/max/p99, jitter), loss, rx/tx frames\n"
		     "and bytes, drops by reason, loop-guard state of\n"
		     "every tunnel port (both ends)" },
	{ .name = "events", .fn = cmd_events, .synopsis = "[--json] [--count N] [--timeout S]",
	  .summary = "stream tunnel-state, port-state, loop, mac-move,\n"
		     "mac-flap and handshake-rejected events as they\n"
		     "happen (one JSON object per line with --json);\n"
		     "stops after N events or S seconds if given" },
	{ .name = "fdb", .fn = cmd_fdb, .synopsis = "[--json] [--segment NAME] [MAC...]",
	  .summary = "where each MAC is: the learned MACs of the\n"
		     "segment bridges, each on a local port or behind\n"
		     "a tunnel to a peer, and its age; MACs given:\n"
		     "only those (not seen ones said so)" },
	{ .name = "doctor", .fn = doctor_main, .synopsis = "[--json] [--config FILE]",
	  .summary = "is this host ready for bridged? each check ok,\n"
		     "warn or error, with a fix (see doctor --help)" },
	{ .name = "import", .fn = import_main, .synopsis = "vtund FILE",
	  .summary = "print a vtund.conf's Ethernet sessions as\n"
		     "bridged.conf sections, with a line per thing\n"
		     "that does not carry over" },
	{ .name = "export", .fn = export_main, .synopsis = "ifupdown|networkd [--config FILE]",
	  .summary = "print the configured bridges as\n"
		     "/etc/network/interfaces stanzas or networkd files,\n"
		     "so the host keeps them without bridged" },
	{ .name = "top", .fn = top_main, .synopsis = "",
	  .summary = "a live view: per peer state, health, rx/tx rate,\n"
		     "RTT, loss, drops, each tunnel's guard; q quits" },
	{ .name = "migrate", .fn = migrate_main, .synopsis = "SUBCOMMAND ...",
	  .summary = "move a VM (below)", .sub = migrate_commands },
	{ .name = "cutover", .fn = cutover_main, .synopsis = "VM --from PEER [--yes] [--warm-only] | --rollback | --stage2 | --list",
	  .summary = "move one VM here from the old host, journaled\n"
		     "and resumable: copy warm, shut it down there,\n"
		     "copy the changes, define, start, prove it on\n"
		     "the bridge, flip autostart (see cutover --help)" },
	{ .name = "help", .fn = cmd_help, .synopsis = "", .summary = "this help" },
	{ .name = NULL }
};

int main(int argc, char **argv)
{
	const char *env = getenv("BRIDGED_SOCKET");
	int i = 1;

	if (env && *env)
		cli_socket = env;
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			cli_socket = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			cli_socket = argv[i] + 9;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "bridgectl: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "bridgectl: libsodium initialisation failed\n");
		return 1;
	}
	return cli_dispatch("bridgectl", usage_head, cli_commands, argc - i, argv + i);
}
