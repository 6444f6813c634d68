#!/usr/bin/env bash
# suite: unit
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package: `make deb` (dpkg-buildpackage -us -uc -b on a copy,
# then lintian) builds bridged_*.deb with no lintian error, and its file
# list is what an operator expects: the two binaries in /usr/sbin, the
# unit (with /usr/sbin paths), the three man pages (gzipped), the bash
# completion, the example config, the copyright; the unit is enabled by
# the maintainer scripts.
set -u
TOP=${BRIDGED_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
for t in dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh)"; exit 77; }
done
W=$(mktemp -d /tmp/t-deb.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

deb=$(OUT=$W make -s -C "$TOP" --no-print-directory deb 2>"$W/err" | tail -n1) || { cat "$W/err"; fail "make deb"; }
[ -f "$deb" ] || { cat "$W/err"; fail "make deb made no .deb ($deb)"; }
echo "# $(basename "$deb"): $(tail -n1 "$W/err")"
grep '^[EW]: ' "$W/lintian.txt" | sed 's/^/# lintian /'
grep -q '^E: ' "$W/lintian.txt" && fail "lintian errors"

dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' | sort > "$W/files"
for f in /usr/sbin/bridged /usr/sbin/bridgectl /lib/systemd/system/bridged.service \
	 /usr/share/man/man8/bridged.8.gz /usr/share/man/man8/bridgectl.8.gz \
	 /usr/share/man/man5/bridged.conf.5.gz /usr/share/bash-completion/completions/bridgectl \
	 /usr/share/doc/bridged/examples/bridged.conf /usr/share/doc/bridged/copyright; do
	grep -qxF "$f" "$W/files" || fail "$f not in the package"
done
grep -q '^/usr/local' "$W/files" && fail "files under /usr/local: $(grep '^/usr/local' "$W/files")"
grep -q '^/etc/' "$W/files" && fail "files in /etc (the config is the operator's): $(grep '^/etc/' "$W/files")"
echo "# $(grep -vc '/$' "$W/files") entries"

dpkg-deb -x "$deb" "$W/root"
grep -qx 'ExecStart=/usr/sbin/bridged -f -c /etc/bridged/bridged.conf' "$W/root/lib/systemd/system/bridged.service" ||
	fail "the packaged unit does not run /usr/sbin/bridged"
"$W/root/usr/sbin/bridgectl" --help | grep -q '^  doctor' || fail "the packaged bridgectl lacks doctor"
dpkg-deb -e "$deb" "$W/ctl"
grep -q 'deb-systemd-helper' "$W/ctl/postinst" || fail "postinst does not enable the unit"
grep -q 'adduser --system .* bridged' "$W/ctl/postinst" || fail "postinst does not create the user bridged"
dpkg-deb -f "$deb" Depends | grep -q 'adduser' || fail "Depends lacks adduser (postinst runs it)"
dpkg-deb -f "$deb" Depends | grep -q 'libsystemd0' || fail "Depends lacks libsystemd0: $(dpkg-deb -f "$deb" Depends)"
echo ok
