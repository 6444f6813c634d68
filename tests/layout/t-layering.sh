#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# suite: unit (no root, no network)
# Who may include whom (docs/ARCHITECTURE.md), checked on the sources:
# - common/ includes no other part; netcfg/ and tunnel/ include no
#   bridged/ or migrate/ header;
# - outside migrate/, only migrate/migrate.h (the facade) is included (the
#   tests may include a folder's internals to test them);
# - within migrate/, no folder includes another folder's internal headers
#   (those the facade does not list), but source/ builds on stream/'s
#   channel; no folder includes bridged/;
# - each outside library is included by its one owner: libnl by netcfg/nl.c,
#   libvirt and libxml2 by migrate/virt/, libparted and libblkid by
#   migrate/disk/, libext2fs by migrate/guest/ (fs.c), zlib, liblzma and
#   libzstd by migrate/guest/initramfs.c;
# - no include cycle between files.
set -u
cd "$(dirname "$0")/../.."
fail=0
bad() { echo "FAIL: $*"; fail=1; }

incs() { # FILE: the project headers it includes
	sed -n 's/^#include "\([^"]*\)".*/\1/p' "$1"
}

srcs=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' | sed 's|^\./||')

for f in $srcs; do
	part=${f%%/*}
	for h in $(incs "$f"); do
		hp=${h%%/*}
		case "$part" in
		common)
			[ "$hp" = common ] || bad "$f includes $h (common/ depends on nothing)" ;;
		netcfg|tunnel)
			case "$hp" in bridged|migrate) bad "$f includes $h ($part/ must not know the daemon or migrate)" ;; esac ;;
		bridged)
			case "$h" in migrate/*) [ "$h" = migrate/migrate.h ] || bad "$f includes $h (outside migrate/, only the facade migrate/migrate.h)" ;; esac ;;
		migrate)
			[ "$hp" = bridged ] && bad "$f includes $h (the library must not know its users)"
			case "$h" in
			migrate/*/*)
				own=$(echo "$f" | cut -d/ -f2); other=$(echo "$h" | cut -d/ -f2)
				if [ "$own" != "$other" ] && [ "$f" != migrate/migrate.h ] &&
				   [ "$own:$other" != source:stream ]; then
					grep -q "^#include \"$h\"" migrate/migrate.h ||
						bad "$f includes $h (another folder's internal header)"
				fi ;;
			esac ;;
		esac
	done
done

# outside libraries, each in one place
owner() { # PATTERN ALLOWED-PREFIX
	local f
	for f in $(grep -l "^#include <$1" $srcs 2>/dev/null); do
		case "$f" in $2*|tests/*) ;; *) bad "$f includes <$1...> (only $2 may)" ;; esac
	done
}
owner 'netlink/' netcfg/nl.c
owner 'libvirt/' migrate/virt/
owner 'libxml/' migrate/virt/
owner 'parted/' migrate/disk/
owner 'blkid/' migrate/disk/
owner 'ext2fs/' migrate/guest/
owner 'zlib.h' migrate/guest/initramfs.c
owner 'lzma.h' migrate/guest/initramfs.c
owner 'zstd.h' migrate/guest/initramfs.c

# include cycles (depth-first over the include graph of project headers)
python3 - $srcs <<'PY' || fail=1
import re, sys
files = sys.argv[1:]
graph = {}
for f in files:
    try:
        graph[f] = [h for h in re.findall(r'^#include "([^"]+)"', open(f).read(), re.M)]
    except OSError:
        pass
state, bad = {}, []
def visit(n, path):
    state[n] = 1
    for m in graph.get(n, []):
        if state.get(m) == 1:
            bad.append(' -> '.join(path[path.index(m):] + [m]) if m in path else n + ' -> ' + m)
        elif m not in state:
            visit(m, path + [m])
    state[n] = 2
for f in files:
    if f not in state:
        visit(f, [f])
for b in bad:
    print("FAIL: include cycle: " + b)
sys.exit(1 if bad else 0)
PY

[ $fail -eq 0 ] && echo ok
exit $fail
