# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the migrate test scripts (sourced, not run).
TOP=${BRIDGED_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# The `bridgectl migrate` command: bridgectl itself when it links, else the
# stand-alone bridgectl-migrate of migrate/part.mk (built on demand).
migrate_cmd() {
	if [ -n "${BRIDGECTL_MIGRATE:-}" ]; then
		echo "$BRIDGECTL_MIGRATE"
		return
	fi
	if [ ! -x "$TOP/migrate/bridgectl-migrate" ] ||
	   [ -n "$(find "$TOP/migrate" -newer "$TOP/migrate/bridgectl-migrate" -name '*.[ch]' | head -1)" ]; then
		make -s -C "$TOP" migrate/bridgectl-migrate >&2 || return 1
	fi
	echo "$TOP/migrate/bridgectl-migrate"
}

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*" >&2; exit 1; }
