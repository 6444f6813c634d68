/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Clocks, in nanoseconds: CLOCK_MONOTONIC for deadlines and intervals,
 * CLOCK_REALTIME only for what is shown to people. */
#ifndef BRIDGED_COMMON_CLOCK_H
#define BRIDGED_COMMON_CLOCK_H

#include <stdint.h>

uint64_t now_ns(void);
uint64_t realtime_ns(void);

#endif
