/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * migrate: the library that moves one VM, behind this one header. No
 * getopt, no stdout: the command line is bridgectl's (bridged/cli/), the
 * daemon serves the source side (bridged/migsrv.c). One folder per concern,
 * each the only includer of its outside library (docs/ARCHITECTURE.md):
 *
 *   xen/     the Xen config grammar (xl and xm): parse, JSON
 *   disk/    the disk plan, source probing (libblkid), partitions
 *            (libparted), swap
 *   virt/    libvirt: pools and volumes, the domain (spec, XML with
 *            libxml2, definition), stage 1's boot files; the source's
 *            domains (domsrc, libvirt loaded at run time)
 *   stream/  the disk stream: authenticated, verified, resumable copy
 *   source/  what the old host's daemon serves: the request codec, the
 *            old hypervisor's backends (xl, xm, libvirt), the replies,
 *            the autostart switch, a listed disk's swap signature
 *   guest/   read-only guest inspection (preflight): libext2fs, initramfs;
 *            stage 1's kernel from the guest's own /boot
 *
 * Code outside migrate/ includes this header only; the tests may include
 * a folder's internal headers to test them.
 */
#ifndef BRIDGED_MIGRATE_MIGRATE_H
#define BRIDGED_MIGRATE_MIGRATE_H

#include "migrate/xen/xencfg.h"
#include "migrate/xen/xenjson.h"
#include "migrate/disk/plan.h"
#include "migrate/disk/probe.h"
#include "migrate/disk/partition.h"
#include "migrate/disk/swap.h"
#include "migrate/virt/volume.h"
#include "migrate/virt/domain.h"
#include "migrate/virt/domain_map.h"
#include "migrate/virt/define.h"
#include "migrate/virt/lifecycle.h"
#include "migrate/virt/bootfiles.h"
#include "migrate/virt/domsrc.h"
#include "migrate/stream/stream.h"
#include "migrate/source/fetch.h"
#include "migrate/source/backend.h"
#include "migrate/source/serve.h"
#include "migrate/source/autostart.h"
#include "migrate/source/swapsig.h"
#include "migrate/guest/parse.h"
#include "migrate/guest/preflight.h"
#include "migrate/guest/boot.h"
#include "migrate/cutover/journal.h"

#endif
