/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libvirt connection behind struct virt_conn (migrate/virt/ only). */
#ifndef BRIDGED_MIGRATE_VIRT_CONN_PRIV_H
#define BRIDGED_MIGRATE_VIRT_CONN_PRIV_H

#include <libvirt/libvirt.h>

struct virt_conn {
	virConnectPtr conn;
};

#endif
