#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make deb`: builds bridged_VERSION_ARCH.deb with dpkg-buildpackage -us -uc -b
# from a copy of the tracked files (the work tree stays clean and nothing
# is written next to it), runs lintian on it, and copies the .deb and the
# lintian report to OUT (default dist/deb/). Prints the .deb's path last.
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/dist/deb}
ver=$(dpkg-parsechangelog -S Version)
work=$(mktemp -d /tmp/bridged-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/bridged-$ver"
mkdir -p "$src" "$OUT"
git ls-files -z | tar cf - --null -T - | tar xf - -C "$src"
(cd "$src" && dpkg-buildpackage -us -uc -b -J"$(nproc)") > "$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	echo "make deb: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
deb=$(ls "$work"/bridged_"$ver"_*.deb)
lintian --tag-display-limit 0 "$deb" > "$work/lintian.txt" 2>&1 || true
cp "$deb" "$work/lintian.txt" "$OUT/"
if grep -q '^E: ' "$work/lintian.txt"; then
	grep '^E: ' "$work/lintian.txt" >&2
	echo "make deb: lintian reports errors" >&2
	exit 1
fi
echo "lintian: $(grep -c '^W: ' "$work/lintian.txt" || true) warning(s), no error" >&2
echo "$OUT/$(basename "$deb")"
