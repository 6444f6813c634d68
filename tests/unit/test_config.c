/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the configuration parser (netcfg/config.c): valid files,
 * defaults, every error with its exact "file:line: ..." text, the canonical
 * printer's round trip, peer_cfg_equal, and the golden files in
 * tests/golden/config/ (NAME.conf -> NAME.canon or NAME.err). Set
 * BRIDGED_GOLDEN_UPDATE=1 to rewrite the golden outputs from the parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netcfg/config.h"

/* base64 of "newhost-public-key-placeholder01" etc.: valid 32-byte keys. */
#define KEY_A "bmV3aG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMDE="
#define KEY_B "b2xkaG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMDI="
#define KEY_C "dGhpcmRob3N0LXB1YmxpYy1rZXktcGxhY2Vob2xkcjM="

#define NODE "[Node]\nPrivateKeyFile = /etc/bridged/private.key\n"  /* lines 1-2 */

static int parse(const char *text, struct config **ret, struct config_errors *errs)
{
	return config_parse_buffer("t.conf", text, strlen(text), ret, errs);
}

static struct config *parse_ok(const char *text)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	int r = parse(text, &c, &errs);
	size_t i;

	for (i = 0; i < errs.n; i++)
		print_error("unexpected: %s\n", errs.msgs[i]);
	assert_int_equal(r, 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(c);
	config_errors_clear(&errs);
	return c;
}

/* The config must fail with exactly these messages, in this order. */
static void expect_errors(const char *text, size_t n, ...)
{
	struct config_errors errs = { 0 };
	struct config *c = (struct config *)(uintptr_t)0x1;
	va_list ap;
	size_t i;
	int r;

	r = parse(text, &c, &errs);
	for (i = 0; i < errs.n; i++)
		print_message("got: %s\n", errs.msgs[i]);
	assert_int_equal(r, -EINVAL);
	assert_ptr_equal(c, (struct config *)(uintptr_t)0x1);  /* untouched */
	assert_int_equal(errs.n, n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(errs.msgs[i], va_arg(ap, const char *));
	va_end(ap);
	config_errors_clear(&errs);
	assert_int_equal(errs.n, 0);
	assert_null(errs.msgs);
}

#define expect_error(text, msg) expect_errors(text, 1, msg)

static char *print_to_string(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	config_print(c, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* ---- valid configurations ---------------------------------------------------- */

static void test_node_defaults(void **state)
{
	struct config *c = parse_ok(NODE);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&c->node.listen;

	assert_string_equal(c->path, "t.conf");
	assert_string_equal(c->node.private_key_file, "/etc/bridged/private.key");
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_ANY);
	assert_int_equal(ntohs(sin->sin_port), 5880);
	assert_int_equal(c->node.listen_len, sizeof(struct sockaddr_in));
	assert_string_equal(c->node.control_socket, "/run/bridged.sock");
	assert_int_equal(c->n_bridges, 0);
	assert_int_equal(c->n_peers, 0);
	config_free(c);
}

static void test_bridge_peer_defaults(void **state)
{
	struct config *c = parse_ok(NODE
		"[Bridge br-dmz]\n"
		"[Peer newhost]\n"
		"PublicKey = " KEY_A "\n"
		"Segments = br-dmz\n");
	const struct bridge_cfg *b = &c->bridges[0];
	const struct peer_cfg *p = &c->peers[0];

	assert_int_equal(c->n_bridges, 1);
	assert_string_equal(b->name, "br-dmz");
	assert_string_equal(b->segment, "br-dmz");
	assert_false(b->stp);
	assert_int_equal(b->forward_delay, 0);
	assert_string_equal(b->address, "");
	assert_int_equal(b->mtu, 0);
	assert_int_equal(b->line, 3);

	assert_int_equal(c->n_peers, 1);
	assert_string_equal(p->name, "newhost");
	assert_memory_equal(p->public_key, "newhost-public-key-placeholder01", 32);
	assert_false(p->has_endpoint);
	assert_int_equal(p->n_segments, 1);
	assert_string_equal(p->segments[0], "br-dmz");
	assert_int_equal(p->encryption, ENCRYPTION_AEAD);
	assert_int_equal(p->keepalive_ms, 250);
	assert_int_equal(p->line, 4);
	config_free(c);
}

static void test_full(void **state)
{
	struct config *c = parse_ok(
		"# the old host\n"
		"[node]\n"
		"privatekeyfile = /etc/bridged/old.key\n"
		"ListenAddress = 198.18.0.1\n"
		"ListenPort = 5999\n"
		"ControlSocket = /run/b.sock ; inline comment\n"
		"\n"
		"[Bridge br-dmz]\n"
		"Segment = dmz\n"
		"STP = yes\n"
		"ForwardDelay = 15\n"
		"Address = 198.18.5.1/24\n"
		"MTU = 1500\n"
		"[Bridge br-sv]\n"
		"  Address = 2001:db8:0:0::1/64\n"
		"[Peer newhost]\n"
		"PublicKey = " KEY_A "\n"
		"Endpoint = 198.18.0.2:5880\n"
		"Segments = dmz,br-sv\n"
		"Encryption = NONE\n"
		"Keepalive = 1s\n"
		"[Peer v6host]\n"
		"PublicKey = " KEY_B "\n"
		"Endpoint = [2001:DB8::2]:6000\n"
		"Segments = br-sv\n"
		"Keepalive = 0\n");
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&c->node.listen;
	const struct sockaddr_in6 *sin6;
	const struct peer_cfg *p;
	char buf[64];

	assert_string_equal(c->node.private_key_file, "/etc/bridged/old.key");
	assert_string_equal(inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)), "198.18.0.1");
	assert_int_equal(ntohs(sin->sin_port), 5999);
	assert_string_equal(c->node.control_socket, "/run/b.sock");

	assert_int_equal(c->n_bridges, 2);
	assert_string_equal(c->bridges[0].segment, "dmz");
	assert_true(c->bridges[0].stp);
	assert_int_equal(c->bridges[0].forward_delay, 15);
	assert_string_equal(c->bridges[0].address, "198.18.5.1/24");
	assert_int_equal(c->bridges[0].mtu, 1500);
	assert_string_equal(c->bridges[1].address, "2001:db8::1/64");

	assert_int_equal(c->n_peers, 2);
	p = config_peer_by_name(c, "newhost");
	assert_ptr_equal(p, &c->peers[0]);
	assert_true(p->has_endpoint);
	assert_string_equal(sockaddr_to_string(&p->endpoint, buf, sizeof(buf)), "198.18.0.2:5880");
	assert_int_equal(p->endpoint_len, sizeof(struct sockaddr_in));
	assert_int_equal(p->n_segments, 2);
	assert_string_equal(p->segments[0], "dmz");
	assert_string_equal(p->segments[1], "br-sv");
	assert_int_equal(p->encryption, ENCRYPTION_NONE);
	assert_int_equal(p->keepalive_ms, 1000);

	p = config_peer_by_name(c, "v6host");
	assert_ptr_equal(p, &c->peers[1]);
	sin6 = (const struct sockaddr_in6 *)&p->endpoint;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(p->endpoint_len, sizeof(struct sockaddr_in6));
	assert_string_equal(sockaddr_to_string(&p->endpoint, buf, sizeof(buf)), "[2001:db8::2]:6000");
	assert_int_equal(p->keepalive_ms, 0);
	assert_null(config_peer_by_name(c, "nobody"));
	assert_null(config_peer_by_name(c, "NewHost"));

	assert_ptr_equal(config_bridge_by_segment(c, "dmz"), &c->bridges[0]);
	assert_ptr_equal(config_bridge_by_segment(c, "br-sv"), &c->bridges[1]);
	assert_null(config_bridge_by_segment(c, "br-dmz"));
	config_free(c);
}

static void test_listen_v6_port_before_address(void **state)
{
	struct config *c = parse_ok("[Node]\n"
				    "ListenPort = 7000\n"
				    "ListenAddress = ::\n"
				    "PrivateKeyFile = /k\n");
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&c->node.listen;
	char *out;

	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 7000);
	assert_int_equal(c->node.listen_len, sizeof(*sin6));
	out = print_to_string(c);
	assert_non_null(strstr(out, "ListenAddress = ::\nListenPort = 7000\n"));
	free(out);
	config_free(c);
}

static void test_keepalive_forms(void **state)
{
	static const struct { const char *v; unsigned ms; } ok[] = {
		{ "250ms", 250 }, { "1s", 1000 }, { "0.5", 500 }, { "0", 0 },
		{ "2", 2000 }, { "1.25s", 1250 }, { "0.001", 1 }, { "10MS", 10 },
		{ "3600s", 3600000 }, { "0ms", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[512];
		struct config *c;

		snprintf(text, sizeof(text), NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A
			 "\nSegments = b\nKeepalive = %s\n", ok[i].v);
		c = parse_ok(text);
		assert_int_equal(c->peers[0].keepalive_ms, ok[i].ms);
		config_free(c);
	}
}

static void test_stp_forms(void **state)
{
	static const struct { const char *v; bool on; } ok[] = {
		{ "on", true }, { "off", false }, { "yes", true }, { "no", false },
		{ "true", true }, { "false", false }, { "1", true }, { "0", false },
		{ "ON", true }, { "False", false },
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[256];
		struct config *c;

		snprintf(text, sizeof(text), NODE "[Bridge b]\nSTP = %s\nForwardDelay = 4\n", ok[i].v);
		c = parse_ok(text);
		assert_int_equal(c->bridges[0].stp, ok[i].on);
		config_free(c);
	}
}

static void test_crlf_bom_and_comments(void **state)
{
	struct config *c = parse_ok("\xef\xbb\xbf; comment\r\n"
				    "[Node]\r\n"
				    "\tPrivateKeyFile = /k\r\n"
				    "# another\r\n");

	assert_string_equal(c->node.private_key_file, "/k");
	config_free(c);
}

/* ---- errors -------------------------------------------------------------------- */

static void test_err_unknown_key(void **state)
{
	expect_error(NODE "Foo = bar\n", "t.conf:3: [Node] Foo: unknown key");
	/* A peer key in a bridge section is unknown there. */
	expect_error(NODE "[Bridge b]\nPublicKey = " KEY_A "\n",
		     "t.conf:4: [Bridge b] PublicKey: unknown key");
}

static void test_err_duplicate_key(void **state)
{
	expect_error(NODE "privatekeyfile = /other\n",
		     "t.conf:3: [Node] PrivateKeyFile: duplicate key (first at line 2)");
	expect_error(NODE "[Bridge b]\nMTU = 1500\nMTU = 1400\n",
		     "t.conf:5: [Bridge b] MTU: duplicate key (first at line 4)");
}

static void test_err_duplicate_sections(void **state)
{
	expect_error(NODE "[Bridge b]\n[Bridge b]\nSegment = x\n",
		     "t.conf:4: [Bridge b] duplicate bridge name (first at line 3)");
	expect_error(NODE "[Bridge b]\n"
		     "[Peer p]\nPublicKey = " KEY_A "\nSegments = b\n"
		     "[Peer p]\nPublicKey = " KEY_B "\nSegments = b\n",
		     "t.conf:7: [Peer p] duplicate peer name (first at line 4)");
	expect_error(NODE "[Node]\nPrivateKeyFile = /x\n",
		     "t.conf:3: [Node] duplicate [Node] section (first at line 1)");
}

static void test_err_duplicate_public_key(void **state)
{
	expect_error(NODE "[Bridge b]\n"
		     "[Peer p]\nPublicKey = " KEY_A "\nSegments = b\n"
		     "[Peer q]\nSegments = b\nPublicKey = " KEY_A "\n",
		     "t.conf:9: [Peer q] PublicKey: same key as [Peer p] (line 4)");
}

static void test_err_segments(void **state)
{
	expect_error(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A "\nSegments = b, nowhere\n",
		     "t.conf:6: [Peer p] Segments: segment \"nowhere\" is not defined by any [Bridge]");
	/* The bridge's segment, not its name, is what peers refer to. */
	expect_error(NODE "[Bridge b]\nSegment = dmz\n[Peer p]\nPublicKey = " KEY_A "\nSegments = b\n",
		     "t.conf:7: [Peer p] Segments: segment \"b\" is not defined by any [Bridge]");
	expect_error(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A "\n",
		     "t.conf:4: [Peer p] Segments: missing");
	expect_error(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A "\nSegments = , ,\n",
		     "t.conf:6: [Peer p] Segments: no segment named");
	expect_error(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A "\nSegments = b b\n",
		     "t.conf:6: [Peer p] Segments: segment \"b\" listed twice");
	expect_error(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A "\nSegments = b, s/x\n",
		     "t.conf:6: [Peer p] Segments: invalid character in name (allowed: A-Z a-z 0-9 . _ -): \"s/x\"");
	expect_error(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A "\nSegments =\n",
		     "t.conf:6: [Peer p] Segments: empty value");
}

static void test_err_bridge_segment(void **state)
{
	expect_error(NODE "[Bridge a]\nSegment = lan\n[Bridge b]\nSegment = lan\n",
		     "t.conf:6: [Bridge b] Segment: segment \"lan\" already carried by [Bridge a] (line 3)");
	/* A default segment (the bridge name) collides too: reported on the header. */
	expect_error(NODE "[Bridge a]\nSegment = b\n[Bridge b]\n",
		     "t.conf:5: [Bridge b] Segment: segment \"b\" already carried by [Bridge a] (line 3)");
	expect_error(NODE "[Bridge a]\nSegment = 0123456789012345678901234567890x\n",
		     "t.conf:4: [Bridge a] Segment: name too long: \"0123456789012345678901234567890x\"");
	expect_error(NODE "[Bridge a]\nSegment = a b\n",
		     "t.conf:4: [Bridge a] Segment: invalid character in name (allowed: A-Z a-z 0-9 . _ -): \"a b\"");
	/* 31 characters is the limit. */
	{
		struct config *c = parse_ok(NODE "[Bridge a]\nSegment = 0123456789012345678901234567890\n");

		assert_string_equal(c->bridges[0].segment, "0123456789012345678901234567890");
		config_free(c);
	}
}

static void test_err_endpoint(void **state)
{
	static const char *const bad[] = {
		"198.18.0.2", "198.18.0.2:0", "198.18.0.2:65536", "198.18.0.2:",
		"host.example:5880", "[::1]5880", "2001:db8::1:5880", "[fe80::1%eth0]:5880",
		"198.18.0.256:1", "1.2.3:5", "[198.18.0.2]:5880", "198.18.0.2:+80",
		"198.18.0.2:80x", "[]:1", ":5880", "nonE5",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512], msg[256];

		snprintf(text, sizeof(text), NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A
			 "\nSegments = b\nEndpoint = %s\n", bad[i]);
		snprintf(msg, sizeof(msg), "t.conf:7: [Peer p] Endpoint: not an endpoint "
			 "(a.b.c.d:port, [x:y::z]:port or none): \"%s\"", bad[i]);
		expect_error(text, msg);
	}
	{
		struct config *c = parse_ok(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A
					    "\nSegments = b\nEndpoint = None\n");

		assert_false(c->peers[0].has_endpoint);
		config_free(c);
	}
}

static void test_err_public_key(void **state)
{
	static const char *const bad[] = {
		"bmV3aG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMDE",        /* no padding */
		"bmV3aG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMA==",      /* 31 bytes */
		"bmV3aG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMDEx",      /* 33 bytes */
		"bmV3aG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMD!=",      /* bad char */
		"bmV3aG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMDE=x",     /* trailing */
		"bmV3aG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMD_=",      /* URL variant */
		"bmV3aG9zdC1wdWJsaWMta2V5LXBsYWNlaG9sZGVyMDF=",      /* non-zero pad bits */
		"not a key",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];

		snprintf(text, sizeof(text), NODE "[Bridge b]\n[Peer p]\nSegments = b\nPublicKey = %s\n",
			 bad[i]);
		expect_error(text, "t.conf:6: [Peer p] PublicKey: not a base64 key of 32 bytes (44 characters)");
	}
	expect_error(NODE "[Bridge b]\n[Peer p]\nSegments = b\n"
		     "PublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		     "t.conf:6: [Peer p] PublicKey: all-zero key");
	expect_error(NODE "[Bridge b]\n[Peer p]\nSegments = b\n",
		     "t.conf:4: [Peer p] PublicKey: missing");
}

static void test_err_names(void **state)
{
	expect_error(NODE "[Bridge br-0123456789abc]\n",
		     "t.conf:3: [Bridge br-0123456789abc] interface name too long (at most 15 characters)");
	expect_error(NODE "[Bridge br/0]\n",
		     "t.conf:3: [Bridge br/0] invalid character in name (allowed: A-Z a-z 0-9 . _ -)");
	expect_error(NODE "[Bridge ..]\n", "t.conf:3: [Bridge ..] invalid interface name");
	expect_error(NODE "[Bridge br 0]\n", "t.conf:3: [Bridge br 0] name must be one word");
	expect_error(NODE "[Bridge]\n", "t.conf:3: [Bridge] needs a name: [Bridge NAME]");
	expect_error(NODE "[Peer 0123456789012345678901234567890x]\n",
		     "t.conf:3: [Peer 0123456789012345678901234567890x] name too long");
	expect_error(NODE "[Peer new:host]\n",
		     "t.conf:3: [Peer new:host] invalid character in name (allowed: A-Z a-z 0-9 . _ -)");
	expect_error("[Node x]\nPrivateKeyFile = /k\n",
		     "t.conf:1: [Node] the [Node] section takes no name");
	{
		/* 15-character interface names are fine. */
		struct config *c = parse_ok(NODE "[Bridge br-0123456789ab]\n");

		assert_string_equal(c->bridges[0].name, "br-0123456789ab");
		config_free(c);
	}
}

static void test_err_node(void **state)
{
	expect_error("[Node]\nListenPort = 5880\n",
		     "t.conf:1: [Node] PrivateKeyFile: missing");
	expect_error("[Bridge b]\n\n",
		     "t.conf:2: [Node] PrivateKeyFile: missing (no [Node] section)");
	expect_error("", "t.conf:1: [Node] PrivateKeyFile: missing (no [Node] section)");
	expect_error(NODE "ListenPort = 0\n",
		     "t.conf:3: [Node] ListenPort: not a port number (1..65535): \"0\"");
	expect_error(NODE "ListenPort = 65536\n",
		     "t.conf:3: [Node] ListenPort: not a port number (1..65535): \"65536\"");
	expect_error(NODE "ListenPort = 99999999999999999999999\n",
		     "t.conf:3: [Node] ListenPort: not a port number (1..65535): \"99999999999999999999999\"");
	expect_error(NODE "ListenPort = -1\n",
		     "t.conf:3: [Node] ListenPort: not a port number (1..65535): \"-1\"");
	expect_error(NODE "ListenAddress = localhost\n",
		     "t.conf:3: [Node] ListenAddress: not an IPv4 or IPv6 address: \"localhost\"");
	expect_error("[Node]\nPrivateKeyFile = etc/key\n",
		     "t.conf:2: [Node] PrivateKeyFile: not an absolute path");
	expect_error(NODE "ControlSocket = /run/0123456789012345678901234567890123456789"
		     "01234567890123456789012345678901234567890123456789012345678.sock\n",
		     "t.conf:3: [Node] ControlSocket: path too long");
}

static void test_err_bridge_values(void **state)
{
	expect_error(NODE "[Bridge b]\nSTP = maybe\n",
		     "t.conf:4: [Bridge b] STP: not a boolean (on/off, yes/no, true/false, 1/0): \"maybe\"");
	expect_error(NODE "[Bridge b]\nSTP = on\n",
		     "t.conf:3: [Bridge b] ForwardDelay: must be 2..30 with STP on");
	expect_error(NODE "[Bridge b]\nForwardDelay = 1\nSTP = on\n",
		     "t.conf:4: [Bridge b] ForwardDelay: must be 2..30 with STP on");
	expect_error(NODE "[Bridge b]\nForwardDelay = 31\n",
		     "t.conf:4: [Bridge b] ForwardDelay: not a number of seconds (0..30): \"31\"");
	expect_error(NODE "[Bridge b]\nMTU = 67\n",
		     "t.conf:4: [Bridge b] MTU: not an MTU (0 or 68..65535): \"67\"");
	expect_error(NODE "[Bridge b]\nAddress = 198.18.5.1\n",
		     "t.conf:4: [Bridge b] Address: not an address with prefix length (a.b.c.d/n, x:y::z/n or none): \"198.18.5.1\"");
	expect_error(NODE "[Bridge b]\nAddress = 198.18.5.1/33\n",
		     "t.conf:4: [Bridge b] Address: bad prefix length (1..32): \"198.18.5.1/33\"");
}

static void test_err_peer_values(void **state)
{
	static const char *const bad_keepalive[] = {
		"abc", "-1", "5m", "1.5ms", "0.0005", "1.", ".5", "", "3601s", "99999999999999999999ms",
	};
	size_t i;

	expect_error(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A "\nSegments = b\nEncryption = chacha\n",
		     "t.conf:7: [Peer p] Encryption: not aead or none: \"chacha\"");
	for (i = 0; i < sizeof(bad_keepalive) / sizeof(bad_keepalive[0]); i++) {
		char text[512];
		struct config_errors errs = { 0 };
		struct config *c = NULL;

		snprintf(text, sizeof(text), NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A
			 "\nSegments = b\nKeepalive = %s\n", bad_keepalive[i]);
		assert_int_equal(parse(text, &c, &errs), -EINVAL);
		assert_null(c);
		assert_int_equal(errs.n, 1);
		assert_true(!strncmp(errs.msgs[0], "t.conf:7: [Peer p] Keepalive: ", 30));
		config_errors_clear(&errs);
	}
	expect_error(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A "\nSegments = b\nKeepalive = 0.0005\n",
		     "t.conf:7: [Peer p] Keepalive: not a whole number of milliseconds: \"0.0005\"");
	expect_error(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A "\nSegments = b\nKeepalive = 2h\n",
		     "t.conf:7: [Peer p] Keepalive: not an interval (250ms, 1s, 0.5, 0): \"2h\"");
}

static void test_err_syntax(void **state)
{
	expect_error(NODE "just words\n",
		     "t.conf:3: [Node] syntax error: expected \"Key = value\"");
	expect_error(NODE "[Bridge b\n",
		     "t.conf:3: section header without ']'");
	expect_error(NODE "[Switch s]\nFoo = bar\n",
		     "t.conf:3: unknown section [Switch s] (expected [Node], [Bridge NAME] or [Peer NAME])");
	expect_error("PrivateKeyFile = /k\n" NODE,
		     "t.conf:1: PrivateKeyFile: key outside of any section");
	expect_error(NODE "[Bridge b] junk\n", "t.conf:3: text after section header: \"junk\"");
	{
		static const char text[] = "[Node]\nPrivateKeyFile = /k\x00x\n";

		struct config_errors errs = { 0 };
		struct config *c = NULL;

		assert_int_equal(config_parse_buffer("t.conf", text, sizeof(text) - 1, &c, &errs), -EINVAL);
		assert_int_equal(errs.n, 2);
		/* Sorted by line: the skipped line 2 held the key. */
		assert_string_equal(errs.msgs[0], "t.conf:1: [Node] PrivateKeyFile: missing");
		assert_string_equal(errs.msgs[1], "t.conf:2: [Node] NUL byte in line");
		config_errors_clear(&errs);
	}
	{
		char text[1024];

		snprintf(text, sizeof(text), NODE "[Bridge b]\nAddress = 198.18.5.1/24 ; %0300d\n", 0);
		expect_error(text, "t.conf:4: [Bridge b] line too long (at most 198 characters)");
	}
}

/* Bytes from the file are quoted escaped: no terminal control gets out. */
static void test_err_escaped(void **state)
{
	expect_error(NODE "ListenAddress = \033[2Jx\n",
		     "t.conf:3: [Node] ListenAddress: not an IPv4 or IPv6 address: \"\\x1b[2Jx\"");
	expect_error(NODE "ListenPort = 1\t2\\\n",
		     "t.conf:3: [Node] ListenPort: not a port number (1..65535): \"1\\t2\\\\\"");
	expect_error(NODE "MTU\033 = 1\n", "t.conf:3: [Node] MTU\\x1b: unknown key");
	expect_error("X\r\033 = 1\n" NODE,
		     "t.conf:1: X\\r\\x1b: key outside of any section");
	expect_error(NODE "[Bridge b\033]\n",
		     "t.conf:3: [Bridge b\\x1b] invalid character in name (allowed: A-Z a-z 0-9 . _ -)");
	expect_error(NODE "[Peer caf\xc3\xa9]\n",
		     "t.conf:3: [Peer caf\\xc3\\xa9] invalid character in name (allowed: A-Z a-z 0-9 . _ -)");
	expect_error(NODE "[Sw\033itch]\nFoo = bar\n",
		     "t.conf:3: unknown section [Sw\\x1bitch] (expected [Node], [Bridge NAME] or [Peer NAME])");
	expect_error(NODE "[Bridge b] \033\n", "t.conf:3: text after section header: \"\\x1b\"");
	expect_error(NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A "\nSegments = b, \033c\n",
		     "t.conf:6: [Peer p] Segments: invalid character in name (allowed: A-Z a-z 0-9 . _ -): \"\\x1bc\"");
	{
		/* 40 ESC: too long for a segment name, quoted whole */
		char text[512], want[512];
		size_t k, o;

		o = (size_t)snprintf(text, sizeof(text), NODE "[Bridge b]\n[Peer p]\nPublicKey = " KEY_A
				     "\nSegments = b, ");
		memset(text + o, '\033', 40);
		strcpy(text + o + 40, "\n");
		o = (size_t)snprintf(want, sizeof(want),
				     "t.conf:6: [Peer p] Segments: segment name too long: \"");
		for (k = 0; k < 40; k++)
			o += (size_t)snprintf(want + o, sizeof(want) - o, "\\x1b");
		snprintf(want + o, sizeof(want) - o, "\"");
		expect_error(text, want);
	}
	{
		/* a long name is cut, visibly, in the section label */
		struct config_errors errs = { 0 };
		struct config *c = NULL;

		assert_int_equal(parse(NODE "[Peer \033\033\033\033\033\033\033\033\033\033\033\033]\n"
				       "Colour = blue\n", &c, &errs), -EINVAL);
		assert_int_equal(errs.n, 2);
		assert_string_equal(errs.msgs[1], "t.conf:4: [Peer \\x1b\\x1b\\x1b\\x1b\\x1b\\x1b"
				    "\\x1b\\x1b\\x1b...] Colour: unknown key");
		config_errors_clear(&errs);
	}
}

/* Every problem is reported, sorted by line, not just the first. */
static void test_err_collects_all(void **state)
{
	expect_errors(
		"[Node]\n"                               /* 1 */
		"ListenPort = 0\n"                       /* 2 */
		"Bogus = 1\n"                            /* 3 */
		"[Bridge br-dmz]\n"                      /* 4 */
		"STP = sometimes\n"                      /* 5 */
		"[Bridge br-dmz]\n"                      /* 6 */
		"[Peer newhost]\n"                       /* 7 */
		"PublicKey = nope\n"                     /* 8 */
		"Endpoint = example.org:5880\n"          /* 9 */
		"Segments = br-dmz, br-sv\n"             /* 10 */
		"no equals here\n",                      /* 11 */
		9,
		"t.conf:1: [Node] PrivateKeyFile: missing",
		"t.conf:2: [Node] ListenPort: not a port number (1..65535): \"0\"",
		"t.conf:3: [Node] Bogus: unknown key",
		"t.conf:5: [Bridge br-dmz] STP: not a boolean (on/off, yes/no, true/false, 1/0): \"sometimes\"",
		"t.conf:6: [Bridge br-dmz] duplicate bridge name (first at line 4)",
		"t.conf:8: [Peer newhost] PublicKey: not a base64 key of 32 bytes (44 characters)",
		"t.conf:9: [Peer newhost] Endpoint: not an endpoint (a.b.c.d:port, [x:y::z]:port or none): \"example.org:5880\"",
		"t.conf:10: [Peer newhost] Segments: segment \"br-sv\" is not defined by any [Bridge]",
		"t.conf:11: [Peer newhost] syntax error: expected \"Key = value\"");
}

static void test_errs_null_and_file(void **state)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;

	/* errs may be NULL: still -EINVAL. */
	assert_int_equal(config_parse_buffer("t.conf", "x", 1, &c, NULL), -EINVAL);
	assert_null(c);

	assert_int_equal(config_parse_file("/nonexistent/bridged.conf", &c, &errs), -ENOENT);
	assert_null(c);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msgs[0], "/nonexistent/bridged.conf: cannot open: No such file or directory");
	config_errors_clear(&errs);
}

static void test_parse_file(void **state)
{
	char path[] = "/tmp/test_config.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct config *c = NULL;
	struct config_errors errs = { 0 };

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(NODE "[Bridge b]\nMTU = 9000\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_parse_file(path, &c, &errs), 0);
	assert_string_equal(c->path, path);
	assert_int_equal(c->bridges[0].mtu, 9000);
	config_free(c);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs(NODE "[Bridge b]\nMTU = 9\n", f);
	assert_int_equal(fclose(f), 0);
	c = NULL;
	assert_int_equal(config_parse_file(path, &c, &errs), -EINVAL);
	assert_null(c);
	assert_int_equal(errs.n, 1);
	assert_true(!strncmp(errs.msgs[0], path, strlen(path)));
	assert_string_equal(errs.msgs[0] + strlen(path), ":4: [Bridge b] MTU: not an MTU (0 or 68..65535): \"9\"");
	config_errors_clear(&errs);
	unlink(path);
}

/* ---- printing ----------------------------------------------------------------------- */

static const char classic[] =
	"[Node]\n"
	"PrivateKeyFile = /etc/bridged/private.key\n"
	"ListenAddress = 198.18.0.1\n"
	"[Bridge br-dmz]\n"
	"[Bridge br-sv]\n"
	"Segment = sv\n"
	"Address = 198.18.7.1/24\n"
	"[Peer newhost]\n"
	"PublicKey = " KEY_A "\n"
	"Endpoint = 198.18.0.2:5880\n"
	"Segments = sv br-dmz\n";

static const char classic_canon[] =
	"[Node]\n"
	"PrivateKeyFile = /etc/bridged/private.key\n"
	"ListenAddress = 198.18.0.1\n"
	"ListenPort = 5880\n"
	"ControlSocket = /run/bridged.sock\n"
	"ControlGroup = none\n"
	"DeadAfter = 800ms\n"
	"ProbeInterval = 300ms\n"
	"IdleKeepalive = 1000ms\n"
	"LoopRetryMin = 2000ms\n"
	"LoopRetryMax = 60000ms\n"
	"MacFlapMoves = 5\n"
	"MacFlapWindow = 10000ms\n"
	"StormLimit = 2000\n"
	"Offload = auto\n"
	"SuperFrames = segments\n"
	"Steering = hash\n"
	"Workers = auto\n"
	"MetricsListen = none\n"
	"MetricsFile = none\n"
	"MigrateListen = none\n"
	"XenConfigDir = /etc/xen\n"
	"MigrateSource = xl\n"
	"MigrateSourceTool = default\n"
	"XenAutoDir = /etc/xen/auto\n"
	"XenSaveDir = /var/lib/xen/save\n"
	"MigrateStateDir = /var/lib/bridged/source\n"
	"StateFile = /var/lib/bridged/endpoints\n"
	"User = default\n"
	"\n"
	"[Bridge br-dmz]\n"
	"Segment = br-dmz\n"
	"STP = off\n"
	"ForwardDelay = 0\n"
	"Address = none\n"
	"MTU = 0\n"
	"\n"
	"[Bridge br-sv]\n"
	"Segment = sv\n"
	"STP = off\n"
	"ForwardDelay = 0\n"
	"Address = 198.18.7.1/24\n"
	"MTU = 0\n"
	"\n"
	"[Peer newhost]\n"
	"PublicKey = " KEY_A "\n"
	"Endpoint = 198.18.0.2:5880\n"
	"Segments = sv, br-dmz\n"
	"Encryption = aead\n"
	"Keepalive = 250ms\n";

/* The 198-character limit is on the content: CRLF does not count. */
static void line_of(char *buf, size_t len, size_t content, const char *eol)
{
	static const char head[] = "Address = 198.18.5.1/24 ; ";

	assert_true(content >= sizeof(head) - 1 && content + strlen(eol) < len);
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, 'c', content - (sizeof(head) - 1));
	strcpy(buf + content, eol);
}

static void test_crlf_line_limit(void **state)
{
	static const char *const eols[] = { "\n", "\r\n" };
	size_t i;

	for (i = 0; i < 2; i++) {
		const char *e = eols[i];
		char line[256], text[512];
		struct config *c;

		line_of(line, sizeof(line), 198, e);
		snprintf(text, sizeof(text), "[Node]%sPrivateKeyFile = /k%s[Bridge b]%s%s", e, e, e, line);
		c = parse_ok(text);
		assert_string_equal(c->bridges[0].address, "198.18.5.1/24");
		config_free(c);
		/* the last line without a line end at all */
		text[strlen(text) - strlen(e)] = '\0';
		c = parse_ok(text);
		assert_string_equal(c->bridges[0].address, "198.18.5.1/24");
		config_free(c);

		line_of(line, sizeof(line), 199, e);
		snprintf(text, sizeof(text), "[Node]%sPrivateKeyFile = /k%s[Bridge b]%s%s", e, e, e, line);
		expect_error(text, "t.conf:4: [Bridge b] line too long (at most 198 characters)");
		text[strlen(text) - strlen(e)] = '\0';
		expect_error(text, "t.conf:4: [Bridge b] line too long (at most 198 characters)");
	}
}

/* A CRLF file means what its LF twin means, errors included. */
static void test_crlf_same_as_lf(void **state)
{
	static const char bad[] =
		"[Node]\nPrivateKeyFile = /k\nListenPort = 0 \n[Bridge b]\nSTP = maybe\n"
		"[Peer p]\nSegments = b, nowhere\nColour = blue\n";
	const char *const lf[] = { classic, bad };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct config_errors e1 = { 0 }, e2 = { 0 };
		struct config *c1 = NULL, *c2 = NULL;
		char crlf[2048];
		size_t k, o = 0;
		int r1, r2;

		for (k = 0; lf[i][k]; k++) {
			if (lf[i][k] == '\n')
				crlf[o++] = '\r';
			crlf[o++] = lf[i][k];
			assert_true(o < sizeof(crlf) - 1);
		}
		crlf[o] = '\0';
		r1 = parse(lf[i], &c1, &e1);
		r2 = parse(crlf, &c2, &e2);
		assert_int_equal(r1, r2);
		assert_int_equal(e1.n, e2.n);
		for (k = 0; k < e1.n; k++)
			assert_string_equal(e1.msgs[k], e2.msgs[k]);
		if (r1 == 0) {
			char *o1 = print_to_string(c1), *o2 = print_to_string(c2);

			assert_string_equal(o1, o2);
			assert_string_equal(o1, classic_canon);
			free(o1);
			free(o2);
		} else {
			assert_true(e1.n >= 4);
		}
		config_free(c1);
		config_free(c2);
		config_errors_clear(&e1);
		config_errors_clear(&e2);
	}
}

static void test_guard_keys(void **state)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	static const char good[] =
		"[Node]\nPrivateKeyFile = /k\nDeadAfter = 0.5\nProbeInterval = 100ms\n"
		"LoopRetryMin = 1s\nLoopRetryMax = 4s\nMacFlapMoves = 3\nMacFlapWindow = 5s\n"
		"StormLimit = 0\nMetricsListen = 127.0.0.1:9587\nMetricsFile = /tmp/m.prom\nOffload = off\n"
		"SuperFrames = whole\nSteering = cpu\n";
	static const char bad[] =
		"[Node]\nPrivateKeyFile = /k\nDeadAfter = 10ms\nMacFlapMoves = 1\n"
		"StormLimit = -1\nMetricsListen = localhost\nProbeInterval = 1h\nOffload = maybe\n"
		"SuperFrames = halves\nSteering = rss\n";
	static const char plain[] = "[Node]\nPrivateKeyFile = /k\n";
	char addr[64];

	assert_int_equal(config_parse_buffer("g.conf", good, strlen(good), &c, &errs), 0);
	assert_int_equal(c->node.dead_after_ms, 500);
	assert_int_equal(c->node.probe_interval_ms, 100);
	assert_int_equal(c->node.loop_retry_min_ms, 1000);
	assert_int_equal(c->node.loop_retry_max_ms, 4000);
	assert_int_equal(c->node.mac_flap_moves, 3);
	assert_int_equal(c->node.mac_flap_window_ms, 5000);
	assert_int_equal(c->node.storm_limit, 0);
	assert_true(c->node.has_metrics_listen);
	assert_string_equal(sockaddr_to_string(&c->node.metrics_listen, addr, sizeof(addr)), "127.0.0.1:9587");
	assert_string_equal(c->node.metrics_file, "/tmp/m.prom");
	assert_true(c->node.offload_off);
	assert_true(c->node.superframes_whole);
	assert_true(c->node.steering_cpu);
	config_free(c);
	c = NULL;
	/* the default steering is hash */
	assert_int_equal(config_parse_buffer("p.conf", plain, strlen(plain), &c, &errs), 0);
	assert_false(c->node.steering_cpu);
	config_free(c);
	c = NULL;
	assert_int_equal(config_parse_buffer("b.conf", bad, strlen(bad), &c, &errs), -EINVAL);
	assert_null(c);
	assert_int_equal(errs.n, 8);
	assert_non_null(strstr(errs.msgs[0], "b.conf:3: [Node] DeadAfter: too short"));
	assert_non_null(strstr(errs.msgs[1], "b.conf:4: [Node] MacFlapMoves"));
	assert_non_null(strstr(errs.msgs[2], "b.conf:5: [Node] StormLimit"));
	assert_non_null(strstr(errs.msgs[3], "b.conf:6: [Node] MetricsListen"));
	assert_non_null(strstr(errs.msgs[4], "b.conf:7: [Node] ProbeInterval"));
	assert_non_null(strstr(errs.msgs[5], "b.conf:8: [Node] Offload: not auto or off: \"maybe\""));
	assert_non_null(strstr(errs.msgs[6], "b.conf:9: [Node] SuperFrames: not segments or whole: \"halves\""));
	assert_non_null(strstr(errs.msgs[7], "b.conf:10: [Node] Steering: not hash or cpu: \"rss\""));
	config_errors_clear(&errs);
}

/* ControlGroup: a group name or none; MetricsListen: a port alone is
 * localhost, a wider address is said in full. */
static void test_control_group_metrics_port(void **state)
{
	struct config *c;
	char addr[64];
	struct sockaddr_storage ss = { 0 };

	c = parse_ok("[Node]\nPrivateKeyFile = /k\nControlGroup = bridged-ctl\nMetricsListen = 9587\n");
	assert_string_equal(c->node.control_group, "bridged-ctl");
	assert_true(c->node.has_metrics_listen);
	assert_string_equal(sockaddr_to_string(&c->node.metrics_listen, addr, sizeof(addr)), "127.0.0.1:9587");
	assert_true(sockaddr_is_loopback(&c->node.metrics_listen));
	config_free(c);
	c = parse_ok("[Node]\nPrivateKeyFile = /k\nControlGroup = none\nMetricsListen = 198.18.0.1:9587\n");
	assert_string_equal(c->node.control_group, "");
	assert_false(sockaddr_is_loopback(&c->node.metrics_listen));
	config_free(c);
	c = parse_ok("[Node]\nPrivateKeyFile = /k\n");
	assert_string_equal(c->node.control_group, "");
	assert_false(c->node.has_metrics_listen);          /* no listener unless asked */
	config_free(c);
	assert_int_equal(sockaddr_from_string("[::1]:1", &ss, &(socklen_t){ 0 }), 0);
	assert_true(sockaddr_is_loopback(&ss));
	assert_int_equal(sockaddr_from_string("[::]:1", &ss, &(socklen_t){ 0 }), 0);
	assert_false(sockaddr_is_loopback(&ss));
	expect_error("[Node]\nPrivateKeyFile = /k\nControlGroup = a:b\n",
		     "t.conf:3: [Node] ControlGroup: not a group name (A-Z a-z 0-9 . _ -, not starting with -) "
		     "or none: \"a:b\"");
	expect_error("[Node]\nPrivateKeyFile = /k\nControlGroup = 0123456789012345678901234567890123\n",
		     "t.conf:3: [Node] ControlGroup: not a group name (1..32 characters) or none: "
		     "\"0123456789012345678901234567890123\"");
	expect_error("[Node]\nPrivateKeyFile = /k\nMetricsListen = 70000\n",
		     "t.conf:3: [Node] MetricsListen: not a port number (1..65535): \"70000\"");
}

static void test_migrate_keys(void **state)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	static const char dflt[] = "[Node]\nPrivateKeyFile = /k\n";
	static const char good[] =
		"[Node]\nPrivateKeyFile = /k\nMigrateListen = 198.18.0.1:5881\n"
		"XenConfigDir = /srv/xen\n";
	static const char none[] =
		"[Node]\nPrivateKeyFile = /k\nMigrateListen = none\n";
	static const char bad[] =
		"[Node]\nPrivateKeyFile = /k\nMigrateListen = 198.18.0.1\n"
		"XenConfigDir = etc/xen\n";
	char addr[64];
	char *out;

	assert_int_equal(config_parse_buffer("d.conf", dflt, strlen(dflt), &c, &errs), 0);
	assert_false(c->node.has_migrate_listen);
	assert_string_equal(c->node.xen_config_dir, "/etc/xen");
	config_free(c);
	c = NULL;
	assert_int_equal(config_parse_buffer("g.conf", good, strlen(good), &c, &errs), 0);
	assert_true(c->node.has_migrate_listen);
	assert_string_equal(sockaddr_to_string(&c->node.migrate_listen, addr, sizeof(addr)),
			    "198.18.0.1:5881");
	assert_string_equal(c->node.xen_config_dir, "/srv/xen");
	out = print_to_string(c);
	assert_non_null(strstr(out, "MigrateListen = 198.18.0.1:5881\n"));
	assert_non_null(strstr(out, "XenConfigDir = /srv/xen\n"));
	free(out);
	config_free(c);
	c = NULL;
	assert_int_equal(config_parse_buffer("n.conf", none, strlen(none), &c, &errs), 0);
	assert_false(c->node.has_migrate_listen);
	config_free(c);
	c = NULL;
	assert_int_equal(config_parse_buffer("b.conf", bad, strlen(bad), &c, &errs), -EINVAL);
	assert_null(c);
	assert_int_equal(errs.n, 2);
	assert_non_null(strstr(errs.msgs[0], "b.conf:3: [Node] MigrateListen: not address:port or none"));
	assert_non_null(strstr(errs.msgs[1], "b.conf:4: [Node] XenConfigDir: not an absolute path"));
	config_errors_clear(&errs);
}

static void test_migrate_source_keys(void **state)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	static const char dflt[] = "[Node]\nPrivateKeyFile = /k\n";
	static const char good[] =
		"[Node]\nPrivateKeyFile = /k\nMigrateSource = libvirt:xen:///system\n"
		"MigrateSourceTool = /opt/xl\nXenAutoDir = none\nXenSaveDir = /srv/save\n"
		"MigrateStateDir = /srv/state\n";
	static const char xm[] = "[Node]\nPrivateKeyFile = /k\nMigrateSource = xm\n";
	static const char bad[] =
		"[Node]\nPrivateKeyFile = /k\nMigrateSource = libvirt:\n"
		"MigrateSourceTool = xl\nXenAutoDir = auto\nXenSaveDir = \n"
		"MigrateStateDir = none\n";
	static const char bad2[] = "[Node]\nPrivateKeyFile = /k\nMigrateSource = virsh\n";
	char *out;

	(void)state;
	assert_int_equal(config_parse_buffer("d.conf", dflt, strlen(dflt), &c, &errs), 0);
	assert_string_equal(c->node.migrate_source, "xl");
	assert_string_equal(c->node.migrate_source_tool, "");
	assert_string_equal(c->node.xen_auto_dir, "/etc/xen/auto");
	assert_string_equal(c->node.xen_save_dir, "/var/lib/xen/save");
	assert_string_equal(c->node.migrate_state_dir, "/var/lib/bridged/source");
	config_free(c);
	c = NULL;
	assert_int_equal(config_parse_buffer("g.conf", good, strlen(good), &c, &errs), 0);
	assert_string_equal(c->node.migrate_source, "libvirt:xen:///system");
	assert_string_equal(c->node.migrate_source_tool, "/opt/xl");
	assert_string_equal(c->node.xen_auto_dir, "");
	assert_string_equal(c->node.xen_save_dir, "/srv/save");
	assert_string_equal(c->node.migrate_state_dir, "/srv/state");
	out = print_to_string(c);
	assert_non_null(strstr(out, "MigrateSource = libvirt:xen:///system\nMigrateSourceTool = /opt/xl\n"
				    "XenAutoDir = none\nXenSaveDir = /srv/save\n"
				    "MigrateStateDir = /srv/state\n"));
	free(out);
	config_free(c);
	c = NULL;
	assert_int_equal(config_parse_buffer("x.conf", xm, strlen(xm), &c, &errs), 0);
	assert_string_equal(c->node.migrate_source, "xm");
	config_free(c);
	c = NULL;
	assert_int_equal(config_parse_buffer("b.conf", bad, strlen(bad), &c, &errs), -EINVAL);
	assert_null(c);
	assert_int_equal(errs.n, 5);
	assert_non_null(strstr(errs.msgs[0], "b.conf:3: [Node] MigrateSource: not xl, xm or libvirt:URI"));
	assert_non_null(strstr(errs.msgs[1], "b.conf:4: [Node] MigrateSourceTool: not an absolute path"));
	assert_non_null(strstr(errs.msgs[2], "b.conf:5: [Node] XenAutoDir: not an absolute path"));
	assert_non_null(strstr(errs.msgs[3], "b.conf:6: [Node] XenSaveDir:"));
	assert_non_null(strstr(errs.msgs[4], "b.conf:7: [Node] MigrateStateDir: not an absolute path"));
	config_errors_clear(&errs);
	assert_int_equal(config_parse_buffer("b2.conf", bad2, strlen(bad2), &c, &errs), -EINVAL);
	assert_non_null(strstr(errs.msgs[0], "MigrateSource: not xl, xm or libvirt:URI"));
	config_errors_clear(&errs);
}

static void test_print_canonical_round_trip(void **state)
{
	struct config *c = parse_ok(classic), *c2;
	char *out = print_to_string(c), *out2;

	assert_string_equal(out, classic_canon);
	c2 = parse_ok(out);
	out2 = print_to_string(c2);
	assert_string_equal(out2, out);
	assert_int_equal(c2->n_bridges, c->n_bridges);
	assert_int_equal(c2->n_peers, c->n_peers);
	assert_true(peer_cfg_equal(&c->peers[0], &c2->peers[0]));
	assert_memory_equal(&c->bridges[1], &c2->bridges[1], offsetof(struct bridge_cfg, line));
	free(out);
	free(out2);
	config_free(c);
	config_free(c2);
}

/* StateFile: a path, none, or the default; and the endpoint syntax its
 * entries share with Endpoint (sockaddr_from_string). */
static void test_state_file_key(void **state)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	static const char dflt[] = "[Node]\nPrivateKeyFile = /k\n";
	static const char path[] = "[Node]\nPrivateKeyFile = /k\nStateFile = /srv/b/ep\n";
	static const char none[] = "[Node]\nPrivateKeyFile = /k\nstatefile = None\n";
	static const char bad[] = "[Node]\nPrivateKeyFile = /k\nStateFile = var/lib/x\n";
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char addr[64], *out;

	assert_int_equal(config_parse_buffer("d.conf", dflt, strlen(dflt), &c, &errs), 0);
	assert_string_equal(c->node.state_file, CONFIG_DEFAULT_STATE_FILE);
	config_free(c);
	c = NULL;
	assert_int_equal(config_parse_buffer("p.conf", path, strlen(path), &c, &errs), 0);
	assert_string_equal(c->node.state_file, "/srv/b/ep");
	config_free(c);
	c = NULL;
	assert_int_equal(config_parse_buffer("n.conf", none, strlen(none), &c, &errs), 0);
	assert_string_equal(c->node.state_file, "");
	out = print_to_string(c);
	assert_non_null(strstr(out, "\nStateFile = none\n"));
	free(out);
	config_free(c);
	c = NULL;
	assert_int_equal(config_parse_buffer("b.conf", bad, strlen(bad), &c, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msgs[0], "b.conf:3: [Node] StateFile: not an absolute path");
	config_errors_clear(&errs);

	assert_int_equal(sockaddr_from_string("198.18.0.2:5880", &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_string_equal(sockaddr_to_string(&ss, addr, sizeof(addr)), "198.18.0.2:5880");
	assert_int_equal(sockaddr_from_string("[2001:db8::1]:1", &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_string_equal(sockaddr_to_string(&ss, addr, sizeof(addr)), "[2001:db8::1]:1");
	len = 7;
	assert_int_equal(sockaddr_from_string("198.18.0.2", &ss, &len), -EINVAL);
	assert_int_equal(sockaddr_from_string("198.18.0.2:0", &ss, &len), -EINVAL);
	assert_int_equal(sockaddr_from_string("host:5880", &ss, &len), -EINVAL);
	assert_int_equal(sockaddr_from_string("[198.18.0.2]:5880", &ss, &len), -EINVAL);
	assert_int_equal(len, 7);
}

/* ---- helpers ---------------------------------------------------------------------------- */

static void test_peer_cfg_equal_cases(void **state)
{
	static const char *const variants[] = {
		/* 0: the reference */
		"PublicKey = " KEY_A "\nEndpoint = 198.18.0.2:5880\nSegments = a, b\n",
		/* 1: same tunnel, segments reordered, defaults spelled out */
		"Segments = b a\nEndpoint = 198.18.0.2:5880\nPublicKey = " KEY_A "\n"
		"Encryption = aead\nKeepalive = 0.25\n",
		/* 2..: each differs in one thing */
		"PublicKey = " KEY_B "\nEndpoint = 198.18.0.2:5880\nSegments = a, b\n",
		"PublicKey = " KEY_A "\nEndpoint = 198.18.0.3:5880\nSegments = a, b\n",
		"PublicKey = " KEY_A "\nEndpoint = 198.18.0.2:5881\nSegments = a, b\n",
		"PublicKey = " KEY_A "\nEndpoint = none\nSegments = a, b\n",
		"PublicKey = " KEY_A "\nEndpoint = [::ffff:198.18.0.2]:5880\nSegments = a, b\n",
		"PublicKey = " KEY_A "\nEndpoint = 198.18.0.2:5880\nSegments = a\n",
		"PublicKey = " KEY_A "\nEndpoint = 198.18.0.2:5880\nSegments = a, c\n",
		"PublicKey = " KEY_A "\nEndpoint = 198.18.0.2:5880\nSegments = a, b, c\n",
		"PublicKey = " KEY_A "\nEndpoint = 198.18.0.2:5880\nSegments = a, b\nEncryption = none\n",
		"PublicKey = " KEY_A "\nEndpoint = 198.18.0.2:5880\nSegments = a, b\nKeepalive = 1s\n",
	};
	struct config *cs[sizeof(variants) / sizeof(variants[0])];
	size_t i, j;

	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		char text[1024];

		snprintf(text, sizeof(text), NODE "[Bridge a]\n[Bridge b]\n[Bridge c]\n[Peer p%zu]\n%s",
			 i, variants[i]);
		cs[i] = parse_ok(text);
	}
	assert_true(peer_cfg_equal(&cs[0]->peers[0], &cs[0]->peers[0]));
	assert_true(peer_cfg_equal(&cs[0]->peers[0], &cs[1]->peers[0]));
	assert_true(peer_cfg_equal(&cs[1]->peers[0], &cs[0]->peers[0]));
	for (i = 2; i < sizeof(variants) / sizeof(variants[0]); i++) {
		for (j = 0; j < 2; j++) {
			if (peer_cfg_equal(&cs[j]->peers[0], &cs[i]->peers[0]) ||
			    peer_cfg_equal(&cs[i]->peers[0], &cs[j]->peers[0]))
				fail_msg("variant %zu equals variant %zu", i, j);
		}
	}
	assert_false(peer_cfg_equal(&cs[0]->peers[0], NULL));
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		config_free(cs[i]);
}

static void test_to_string(void **state)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char buf[64];

	assert_string_equal(encryption_to_string(ENCRYPTION_AEAD), "aead");
	assert_string_equal(encryption_to_string(ENCRYPTION_NONE), "none");
	assert_null(encryption_to_string(_ENCRYPTION_MAX));
	assert_null(encryption_to_string((enum encryption)-1));

	sin->sin_family = AF_INET;
	sin->sin_port = htons(5880);
	inet_pton(AF_INET, "198.18.0.2", &sin->sin_addr);
	assert_string_equal(sockaddr_to_string(&ss, buf, sizeof(buf)), "198.18.0.2:5880");
	assert_ptr_equal(sockaddr_to_string(&ss, buf, sizeof(buf)), buf);
	/* Truncates, never overflows. */
	assert_string_equal(sockaddr_to_string(&ss, buf, 5), "198.");

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(1);
	inet_pton(AF_INET6, "2001:db8::1", &sin6->sin6_addr);
	assert_string_equal(sockaddr_to_string(&ss, buf, sizeof(buf)), "[2001:db8::1]:1");
}

/* ---- golden files --------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	assert_non_null(m);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	assert_int_equal(fclose(m), 0);
	if (ret_len)
		*ret_len = len;
	return buf;
}

static void spew(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static bool golden_compare(const char *what, const char *expected, const char *got)
{
	if (!strcmp(expected, got))
		return true;
	print_error("%s: mismatch\n--- expected\n%s--- got\n%s---\n", what, expected, got);
	return false;
}

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && !strcmp(d->d_name + n - 5, ".conf");
}

static void test_golden(void **state)
{
	const char *top = getenv("BRIDGED_TOP");
	bool update = getenv("BRIDGED_GOLDEN_UPDATE") != NULL;
	char dir[1024];
	struct dirent **ents;
	int n, i, good = 0, bad = 0;
	bool ok = true;

	snprintf(dir, sizeof(dir), "%s/tests/golden/config", top && *top ? top : ".");
	n = scandir(dir, &ents, conf_filter, alphasort);
	if (n < 0)
		fail_msg("cannot read %s (run from the repository root or set BRIDGED_TOP)", dir);

	for (i = 0; i < n; i++) {
		char path[1600], canon_path[1600], err_path[1600], stem[256];
		char *text, *canon, *err, *got = NULL;
		struct config_errors errs = { 0 };
		struct config *c = NULL;
		size_t len, k;
		int r;

		snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(ents[i]->d_name) - 5), ents[i]->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		snprintf(canon_path, sizeof(canon_path), "%s/%s.canon", dir, stem);
		snprintf(err_path, sizeof(err_path), "%s/%s.err", dir, stem);
		text = slurp(path, &len);
		assert_non_null(text);
		canon = slurp(canon_path, NULL);
		err = slurp(err_path, NULL);

		r = config_parse_buffer(ents[i]->d_name, text, len, &c, &errs);
		if (r == 0) {
			got = print_to_string(c);
		} else {
			FILE *m = open_memstream(&got, &len);

			assert_non_null(m);
			for (k = 0; k < errs.n; k++)
				fprintf(m, "%s\n", errs.msgs[k]);
			assert_int_equal(fclose(m), 0);
		}

		if (update) {
			if (canon)
				unlink(canon_path);
			if (err)
				unlink(err_path);
			spew(r == 0 ? canon_path : err_path, got);
		} else if (canon && err) {
			print_error("%s: both .canon and .err exist\n", ents[i]->d_name);
			ok = false;
		} else if (!canon && !err) {
			print_error("%s: neither .canon nor .err exists\n", ents[i]->d_name);
			ok = false;
		} else if (canon) {
			if (r != 0) {
				print_error("%s: expected to parse, got:\n%s", ents[i]->d_name, got);
				ok = false;
			} else {
				ok &= golden_compare(ents[i]->d_name, canon, got);
			}
		} else {
			if (r != -EINVAL) {
				print_error("%s: expected errors, parsed (r=%d)\n", ents[i]->d_name, r);
				ok = false;
			} else {
				ok &= golden_compare(ents[i]->d_name, err, got);
			}
		}

		if (r == 0) {
			/* The canonical output parses again and prints identically. */
			struct config *c2 = NULL;
			char *again;

			r = config_parse_buffer(ents[i]->d_name, got, strlen(got), &c2, &errs);
			for (k = 0; k < errs.n; k++)
				print_error("%s: reparse: %s\n", ents[i]->d_name, errs.msgs[k]);
			if (r != 0) {
				ok = false;
			} else {
				again = print_to_string(c2);
				ok &= golden_compare("reparsed canonical output", got, again);
				free(again);
				config_free(c2);
			}
			good++;
		} else {
			bad++;
		}
		config_errors_clear(&errs);
		config_free(c);
		free(got);
		free(text);
		free(canon);
		free(err);
		free(ents[i]);
	}
	free(ents);
	print_message("golden: %d valid, %d invalid configs\n", good, bad);
	assert_true(ok);
	/* An empty or half-missing golden folder must not pass silently. */
	assert_true(good >= 3);
	assert_true(bad >= 3);
}

/* The documented example (docs/examples/bridged.conf) must stay valid. */
static void test_example(void **state)
{
	const char *top = getenv("BRIDGED_TOP");
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	char path[1024];
	size_t i;
	int r;

	snprintf(path, sizeof(path), "%s/docs/examples/bridged.conf", top && *top ? top : ".");
	r = config_parse_file(path, &c, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("%s\n", errs.msgs[i]);
	assert_int_equal(r, 0);
	assert_int_equal(c->n_bridges, 2);
	assert_string_equal(c->bridges[0].name, "br-dmz");
	assert_string_equal(c->bridges[1].name, "br-sv");
	assert_int_equal(c->n_peers, 1);
	assert_int_equal(c->peers[0].n_segments, 2);
	assert_ptr_equal(config_bridge_by_segment(c, c->peers[0].segments[0]), &c->bridges[0]);
	assert_ptr_equal(config_bridge_by_segment(c, c->peers[0].segments[1]), &c->bridges[1]);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_defaults),
		cmocka_unit_test(test_bridge_peer_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_listen_v6_port_before_address),
		cmocka_unit_test(test_keepalive_forms),
		cmocka_unit_test(test_stp_forms),
		cmocka_unit_test(test_crlf_bom_and_comments),
		cmocka_unit_test(test_crlf_line_limit),
		cmocka_unit_test(test_crlf_same_as_lf),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_duplicate_key),
		cmocka_unit_test(test_err_duplicate_sections),
		cmocka_unit_test(test_err_duplicate_public_key),
		cmocka_unit_test(test_err_segments),
		cmocka_unit_test(test_err_bridge_segment),
		cmocka_unit_test(test_err_endpoint),
		cmocka_unit_test(test_err_public_key),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_err_node),
		cmocka_unit_test(test_err_bridge_values),
		cmocka_unit_test(test_err_peer_values),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_err_escaped),
		cmocka_unit_test(test_err_collects_all),
		cmocka_unit_test(test_errs_null_and_file),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_print_canonical_round_trip),
		cmocka_unit_test(test_guard_keys),
		cmocka_unit_test(test_migrate_keys),
		cmocka_unit_test(test_state_file_key),
		cmocka_unit_test(test_peer_cfg_equal_cases),
		cmocka_unit_test(test_to_string),
		cmocka_unit_test(test_migrate_source_keys),
		cmocka_unit_test(test_control_group_metrics_port),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
