# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the migrate test scripts (sourced, not run).
TOP=${BRIDGED_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# The `bridgectl migrate` command: $BRIDGECTL_MIGRATE when set, else the
# stand-alone tests/migrate/bridgectl-migrate (`bridgectl migrate` without
# the daemon's parts; built by `make tests`, rebuilt here when stale).
migrate_cmd() {
	if [ -n "${BRIDGECTL_MIGRATE:-}" ]; then
		echo "$BRIDGECTL_MIGRATE"
		return
	fi
	make -s -C "$TOP" tests/migrate/bridgectl-migrate >&2 || return 1
	echo "$TOP/tests/migrate/bridgectl-migrate"
}

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*" >&2; exit 1; }
