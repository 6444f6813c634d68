/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bridgectl export ifupdown|networkd: the bridges of bridged.conf as the
 * host's own network configuration (/etc/network/interfaces stanzas, or
 * systemd-networkd .netdev/.network files), so that they exist at boot
 * and across a stop of bridged, with the settings bridged gives them.
 */
#include <stdio.h>
#include <string.h>

#include "bridged/cli/cli.h"
#include "netcfg/config.h"

static const char export_help[] =
"Usage: bridgectl export ifupdown|networkd [--config FILE]\n"
"\n"
"Prints the bridges of bridged.conf ([Bridge] sections) as the host's own\n"
"network configuration, so that they exist at boot and while bridged is\n"
"stopped (the tunnel ports are bridged's and are not listed):\n"
"  ifupdown   stanzas for /etc/network/interfaces (bridge-utils):\n"
"             auto, iface ... inet manual (or static with the bridge's\n"
"             Address), bridge_ports none, bridge_stp off, bridge_fd 0, mtu\n"
"  networkd   for each bridge a NAME.netdev (Kind=bridge, STP=no,\n"
"             ForwardDelaySec=0, MTUBytes) and a NAME.network (Address,\n"
"             ConfigureWithoutCarrier=yes), each after a '# file:' line\n"
"             naming where it goes (/etc/systemd/network/25-bridged-NAME.*)\n"
"STP and ForwardDelay follow bridged.conf (off and 0 unless it says so).\n"
"\n"
"Options:\n"
"  --config FILE   the configuration (default " CONFIG_DEFAULT_PATH ")\n"
"  -h, --help      this text\n"
"\n"
"Exit status: 0 printed; 1 the configuration cannot be read or has errors;\n"
"2 usage error (an unknown format too).\n";

static bool is_v6(const char *addr)
{
	return strchr(addr, ':') != NULL;
}

static void export_ifupdown(const struct config *c)
{
	printf("# bridges of %s (bridgectl export ifupdown), for /etc/network/interfaces\n", c->path);
	for (size_t i = 0; i < c->n_bridges; i++) {
		const struct bridge_cfg *b = &c->bridges[i];

		printf("\nauto %s\n", b->name);
		if (b->address[0])
			printf("iface %s %s static\n    address %s\n", b->name, is_v6(b->address) ? "inet6" : "inet",
			       b->address);
		else
			printf("iface %s inet manual\n", b->name);
		printf("    bridge_ports none\n    bridge_stp %s\n    bridge_fd %u\n", b->stp ? "on" : "off",
		       b->forward_delay);
		if (b->mtu)
			printf("    mtu %u\n", b->mtu);
	}
}

static void export_networkd(const struct config *c)
{
	printf("# bridges of %s (bridgectl export networkd)\n", c->path);
	for (size_t i = 0; i < c->n_bridges; i++) {
		const struct bridge_cfg *b = &c->bridges[i];

		printf("\n# file: /etc/systemd/network/25-bridged-%s.netdev\n", b->name);
		printf("[NetDev]\nName=%s\nKind=bridge\n", b->name);
		if (b->mtu)
			printf("MTUBytes=%u\n", b->mtu);
		printf("\n[Bridge]\nSTP=%s\nForwardDelaySec=%u\n", b->stp ? "yes" : "no", b->forward_delay);
		printf("\n# file: /etc/systemd/network/25-bridged-%s.network\n", b->name);
		printf("[Match]\nName=%s\n\n[Network]\n", b->name);
		if (b->address[0])
			printf("Address=%s\n", b->address);
		printf("LinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n");
	}
}

int export_main(int argc, char **argv)
{
	struct config_errors errs = { 0 };
	const char *cfg = CONFIG_DEFAULT_PATH, *fmt = NULL;
	struct config *c = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(export_help, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			cfg = argv[++i];
		} else if (argv[i][0] != '-' && !fmt) {
			fmt = argv[i];
		} else {
			fprintf(stderr, "bridgectl export: unexpected argument '%s'\n%s", argv[i], export_help);
			return 2;
		}
	}
	if (!fmt || (strcmp(fmt, "ifupdown") && strcmp(fmt, "networkd"))) {
		if (fmt)
			fprintf(stderr, "bridgectl export: unknown format '%s' (known: ifupdown, networkd)\n", fmt);
		else
			fputs(export_help, stderr);
		return 2;
	}
	if (config_parse_file(cfg, &c, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		config_errors_clear(&errs);
		return 1;
	}
	config_errors_clear(&errs);
	if (!strcmp(fmt, "ifupdown"))
		export_ifupdown(c);
	else
		export_networkd(c);
	config_free(c);
	return 0;
}
