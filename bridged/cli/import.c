/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bridgectl import vtund FILE: a vtund.conf (netcfg/vtund.c reads it)
 * printed as the bridged.conf sections that do the same, each thing that
 * does not carry over said in an "# import:" comment line above its
 * section.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bridged/cli/cli.h"
#include "netcfg/config.h"
#include "netcfg/vtund.h"

static const char import_help[] =
"Usage: bridgectl import vtund FILE\n"
"\n"
"Reads a vtund.conf (vtund.conf(5): sessions with type, proto, encrypt,\n"
"keepalive, compress, passwd and an up { } block) and prints the\n"
"bridged.conf sections that carry the same Ethernet segments: one\n"
"[Bridge] per bridge an up block enslaves the tunnel to ('brctl addif BR %%',\n"
"'ip link set %% master BR'), one [Peer] per 'type ether' session. What does\n"
"not carry over is said on an '# import:' line above the section: vtun's\n"
"shared passwd (bridged uses key pairs: the lines say what to run), TCP,\n"
"compression, vtun's ciphers, the server address of vtund's command line,\n"
"sessions that are not Ethernet. PublicKey is left for you to fill in.\n"
"\n"
"Options:\n"
"  -h, --help   this text\n"
"\n"
"Exit status: 0 printed; 1 the file cannot be read or has a syntax error\n"
"(FILE:LINE: what); 2 usage error.\n";

static void __attribute__((format(printf, 4, 5)))
note(FILE *f, const char *sess, unsigned line, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "# import: session %s (line %u): ", sess, line);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* bridged.conf's names: 1..max characters of A-Z a-z 0-9 . _ - */
static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static bool word_is(const char *v, const char *w)
{
	return !strcasecmp(v, w);
}

/* vtund's keepalive: yes | no | INTERVAL:COUNT (seconds). */
static void print_keepalive(FILE *f, const struct vtund_session *s)
{
	unsigned iv = 0, cnt = 0;

	if (!s->keepalive[0] || word_is(s->keepalive, "yes"))
		fprintf(f, "Keepalive = 250ms\n");
	else if (word_is(s->keepalive, "no"))
		fprintf(f, "Keepalive = 0\n");
	else if (sscanf(s->keepalive, "%u:%u", &iv, &cnt) == 2 && iv > 0 && iv <= 3600)
		fprintf(f, "Keepalive = %us\n", iv);
	else
		fprintf(f, "Keepalive = 250ms\n");
}

/* The whole file (at most max bytes) in a malloc'd buffer; -errno. */
static int slurp(const char *path, size_t max, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return -errno;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		int r = ferror(f) ? -EIO : -EFBIG;

		fclose(f);
		free(buf);
		return r;
	}
	fclose(f);
	buf[n] = 0;
	*ret = buf;
	*ret_len = n;
	return 0;
}

static int import_vtund(const char *path)
{
	struct vtund_conf c;
	char err[300], *text = NULL;
	size_t len = 0;
	int r = slurp(path, 1 << 20, &text, &len);

	if (r < 0) {
		fprintf(stderr, "bridgectl import vtund: %s: %s\n", path, strerror(-r));
		return 1;
	}
	if (vtund_parse(text, len, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s:%s\n", path, err);
		free(text);
		return 1;
	}
	free(text);
	printf("# bridged.conf sections from %s (bridgectl import vtund)\n"
	       "# import: vtun's passwords do not carry over: bridged authenticates with key pairs.\n"
	       "# import: on each host run   umask 077; bridgectl genkey > /etc/bridged/private.key\n"
	       "# import: then               bridgectl pubkey < /etc/bridged/private.key\n"
	       "# import: and put each host's public key in PublicKey of the [Peer] on the other.\n\n"
	       "[Node]\nPrivateKeyFile = /etc/bridged/private.key\n", path);
	if (c.port) {
		printf("# import: options { port %u; }: vtund's port; bridged listens on UDP\n", c.port);
		printf("ListenPort = %u\n", c.port);
	}
	/* the bridges, each once, in order of appearance */
	for (size_t i = 0; i < c.n_sessions; i++) {
		const struct vtund_session *s = &c.sessions[i];

		if (strcasecmp(s->type, "ether"))
			continue;
		for (size_t b = 0; b < s->n_bridges; b++) {
			bool seen = false;

			for (size_t j = 0; j < i && !seen; j++)
				for (size_t k = 0; k < c.sessions[j].n_bridges; k++)
					if (!strcasecmp(c.sessions[j].type, "ether") &&
					    !strcmp(c.sessions[j].bridges[k], s->bridges[b]))
						seen = true;
			for (size_t k = 0; k < b; k++)
				if (!strcmp(s->bridges[k], s->bridges[b]))
					seen = true;
			if (seen)
				continue;
			if (!name_ok(s->bridges[b], 15))
				printf("\n# import: '%s' is not a bridge name bridged takes (1 to 15 of "
				       "A-Z a-z 0-9 . _ -): rename it\n", s->bridges[b]);
			printf("\n[Bridge %s]\n", s->bridges[b]);
		}
	}
	for (size_t i = 0; i < c.n_sessions; i++) {
		const struct vtund_session *s = &c.sessions[i];

		putchar('\n');
		if (strcasecmp(s->type, "ether")) {
			note(stdout, s->name, s->line,
			     "type %s is not an Ethernet tunnel (bridged carries only 'type ether'): not carried over",
			     s->type[0] ? s->type : "tty (the default)");
			continue;
		}
		if (!s->proto[0] || !strcasecmp(s->proto, "tcp"))
			note(stdout, s->name, s->line, "proto %s: bridged tunnels over UDP only",
			     s->proto[0] ? s->proto : "tcp (the default)");
		if (s->compress[0] && !word_is(s->compress, "no"))
			note(stdout, s->name, s->line, "compress %s: bridged does not compress", s->compress);
		if (s->encrypt[0] && !word_is(s->encrypt, "yes") && !word_is(s->encrypt, "no"))
			note(stdout, s->name, s->line,
			     "encrypt %s: bridged uses ChaCha20-Poly1305 or AES-256-GCM (Encryption = aead)", s->encrypt);
		if (strchr(s->keepalive, ':'))
			note(stdout, s->name, s->line,
			     "keepalive %s: the interval carries over; the count is [Node] DeadAfter, for all peers",
			     s->keepalive);
		if (s->has_passwd)
			note(stdout, s->name, s->line, "%s", "passwd: replaced by the key pair (PublicKey below)");
		note(stdout, s->name, s->line, "%s",
		     "vtund names the server on its command line (vtund SESSION SERVER): on that client "
		     "set Endpoint = SERVER:PORT, on the server keep none");
		if (!name_ok(s->name, CONFIG_NAME_MAX - 1))
			note(stdout, s->name, s->line, "%s",
			     "the name is not a peer name bridged takes (1 to 31 of A-Z a-z 0-9 . _ -): rename the [Peer]");
		if (!s->n_bridges)
			note(stdout, s->name, s->line, "%s",
			     "its up block enslaves the tunnel to no bridge ('brctl addif BR %%' or "
			     "'ip link set %% master BR'): name the bridges in Segments");
		printf("[Peer %s]\n", s->name);
		printf("PublicKey = <the public key of the other host of session %s>\n", s->name);
		printf("Endpoint = none\n");
		if (s->n_bridges) {
			printf("Segments = ");
			for (size_t b = 0; b < s->n_bridges; b++)
				printf("%s%s", b ? ", " : "", s->bridges[b]);
			putchar('\n');
		} else {
			printf("Segments = <bridge>\n");
		}
		printf("Encryption = %s\n", word_is(s->encrypt, "no") || !s->encrypt[0] ? "none" : "aead");
		print_keepalive(stdout, s);
	}
	vtund_conf_clear(&c);
	return 0;
}

int import_main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(import_help, stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "vtund")) {
		fprintf(stderr, "bridgectl import: unknown format '%s' (known: vtund)\n%s", argv[1], import_help);
		return 2;
	}
	if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		fputs(import_help, stdout);
		return 0;
	}
	if (argc != 3 || argv[2][0] == '-') {
		fprintf(stderr, "bridgectl import: expected: import vtund FILE\n%s", import_help);
		return 2;
	}
	return import_vtund(argv[2]);
}
