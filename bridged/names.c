/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Names for logs and events: the link names the daemon has seen (an ifindex
 * outlives its link in the FDB notifications that name it), and node ids
 * as peer names.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridged/daemon.h"
#include "netcfg/netcfg.h"

void names_note_links(struct daemon *d, const struct netcfg_link *links, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < d->n_names; k++)
			if (d->names[k].ifindex == links[i].ifindex)
				break;
		if (k == d->n_names) {
			if (d->n_names == d->cap_names) {
				size_t nc = d->cap_names ? d->cap_names * 2 : 64;
				struct link_name *nn;

				if (nc > 4096)
					return;
				nn = realloc(d->names, nc * sizeof(*nn));
				if (!nn)
					return;
				d->names = nn;
				d->cap_names = nc;
			}
			d->n_names++;
		}
		d->names[k].ifindex = links[i].ifindex;
		memcpy(d->names[k].name, links[i].name, IFNAMSIZ);
	}
}

const char *names_link(struct daemon *d, int ifindex, char buf[IFNAMSIZ + 16])
{
	struct netcfg_link l;

	if (netcfg_get_link_by_index(d->nc, ifindex, &l) >= 0) {
		names_note_links(d, &l, 1);
		snprintf(buf, IFNAMSIZ + 16, "%s", l.name);
		return buf;
	}
	for (size_t k = 0; k < d->n_names; k++)
		if (d->names[k].ifindex == ifindex) {
			snprintf(buf, IFNAMSIZ + 16, "%s", d->names[k].name);
			return buf;
		}
	snprintf(buf, IFNAMSIZ + 16, "ifindex %d", ifindex);
	return buf;
}

/* A node id as the peer's name where we know it, else hex. */
const char *names_node(struct daemon *d, const uint8_t id[NODE_ID_LEN], char *buf, size_t len)
{
	if (!memcmp(id, d->node_id, NODE_ID_LEN)) {
		snprintf(buf, len, "(this node)");
		return buf;
	}
	for (struct dpeer *p = d->peers; p; p = p->next)
		if (!memcmp(p->node_id, id, NODE_ID_LEN)) {
			snprintf(buf, len, "%s", p->cfg.name);
			return buf;
		}
	sodium_bin2hex(buf, len, id, len / 2 > NODE_ID_LEN ? NODE_ID_LEN : (len - 1) / 2);
	return buf;
}

