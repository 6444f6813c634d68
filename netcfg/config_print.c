/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration printed canonically (`bridged -n`), and lookups. */
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

/* ---- printing and lookups ---------------------------------------------------- */

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

bool sockaddr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
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
	fprintf(f, "ControlGroup = %s\n", n->control_group[0] ? n->control_group : "none");
	fprintf(f, "DeadAfter = %ums\n", n->dead_after_ms);
	fprintf(f, "ProbeInterval = %ums\n", n->probe_interval_ms);
	fprintf(f, "IdleKeepalive = %ums\n", n->idle_keepalive_ms);
	fprintf(f, "LoopRetryMin = %ums\n", n->loop_retry_min_ms);
	fprintf(f, "LoopRetryMax = %ums\n", n->loop_retry_max_ms);
	fprintf(f, "MacFlapMoves = %u\n", n->mac_flap_moves);
	fprintf(f, "MacFlapWindow = %ums\n", n->mac_flap_window_ms);
	fprintf(f, "StormLimit = %u\n", n->storm_limit);
	fprintf(f, "Offload = %s\n", n->offload_off ? "off" : "auto");
	fprintf(f, "SuperFrames = %s\n", n->superframes_whole ? "whole" : "segments");
	fprintf(f, "Steering = %s\n", n->steering_cpu ? "cpu" : "hash");
	if (n->workers)
		fprintf(f, "Workers = %u\n", n->workers);
	else
		fprintf(f, "Workers = auto\n");
	fprintf(f, "MetricsListen = %s\n", n->has_metrics_listen
		? sockaddr_to_string(&n->metrics_listen, addr, sizeof(addr)) : "none");
	fprintf(f, "MetricsFile = %s\n", n->metrics_file[0] ? n->metrics_file : "none");
	fprintf(f, "MigrateListen = %s\n", n->has_migrate_listen
		? sockaddr_to_string(&n->migrate_listen, addr, sizeof(addr)) : "none");
	fprintf(f, "XenConfigDir = %s\n", n->xen_config_dir);
	fprintf(f, "MigrateSource = %s\n", n->migrate_source);
	fprintf(f, "MigrateSourceTool = %s\n", n->migrate_source_tool[0] ? n->migrate_source_tool : "default");
	fprintf(f, "XenAutoDir = %s\n", n->xen_auto_dir[0] ? n->xen_auto_dir : "none");
	fprintf(f, "XenSaveDir = %s\n", n->xen_save_dir[0] ? n->xen_save_dir : "none");
	fprintf(f, "MigrateStateDir = %s\n", n->migrate_state_dir);
	fprintf(f, "StateFile = %s\n", n->state_file[0] ? n->state_file : "none");
	fprintf(f, "User = %s\n", n->user[0] ? n->user : "default");

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
