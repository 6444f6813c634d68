#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The site-scale case of issue 14 ("Scale", docs/RELIABILITY.md): a full
# mesh of hosts whose peers all carry TWO segments (dmz and lan, a VM per
# host per segment, 198.19.1.<i> and 198.19.2.<i>), so that two independent
# loop-guard trees form over the same tunnels. It is t-ring.sh with
# TOPOLOGIES=mesh$SITE_HOSTS SEGMENTS=2 FORMATIONS=2 (one simultaneous start,
# one staggered) and the kill: after each formation, on EACH segment,
# E - (N - 1) tunnels blocked at both ends, the forwarding tunnels a spanning
# tree, a broadcast ping from every VM answered exactly once by every other
# VM of its segment; then kill -9 of the host the trees need most, and the
# same checks on the rest within IdleKeepalive + DeadAfter + LoopRetryMax +
# 2 s. It prints the convergence time of each formation, the blocked
# tunnels and ports per segment, and the re-convergence after the kill.
#
# About 45 s under ASan on 2 CPUs with the default.
#
# Env: SITE_HOSTS (default 6: what converges reliably under ASan on two
# CPUs; 12 is the issue's size: it passes on a plain build, about 85 s, but
# under ASan on two CPUs 8 hosts fail one run in two and 10 or 12 do not
# converge: the probe round is shorter than a probe's trip round a loop of
# starved daemons, docs/RELIABILITY.md "Scale"), FORMATIONS (default 2),
# CONVERGE_S (default 30), SEED, KEEP_LOGS=DIR (as t-ring.sh).
SITE_HOSTS=${SITE_HOSTS:-6}
[[ $SITE_HOSTS =~ ^([3-9]|1[0-2])$ ]] || { echo "FAIL: SITE_HOSTS=$SITE_HOSTS: 3..12"; exit 1; }
export TOPOLOGIES=mesh$SITE_HOSTS SEGMENTS=2 PARALLEL=0
export FORMATIONS=${FORMATIONS:-2} CONVERGE_S=${CONVERGE_S:-30}
exec bash "$(dirname "$0")/t-ring.sh"
