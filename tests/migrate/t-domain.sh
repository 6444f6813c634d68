#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# suite: unit (no root, no network)
# `bridgectl migrate domain`, golden: for each case of tests/migrate/domain/cases
# (a config of the Xen corpus and an option set: buses, cdroms, two and three
# NICs, bridge maps, stage 1 and 2), `--offline --xml` must print exactly
# NAME.xml and warn exactly NAME.stderr; every XML must pass virt-xml-validate
# (libvirt's schema). Then the bad inputs: each refused with exit 1 (2 for a
# usage error), naming its cause, printing no XML. Needs no libvirtd: the
# libvirt definition of the same files is t-domain-libvirt.sh.
# UPDATE=1 rewrites the expected files (review the diff).
set -u
. "$(dirname "$0")/lib.sh"
M=$(migrate_cmd) || die "cannot build bridgectl-migrate"
D=$TOP/tests/migrate/domain
X=$TOP/tests/migrate/xen/good
W=$(mktemp -d /tmp/bridged-domain.XXXXXX)
trap 'rm -rf "$W"' EXIT
OFFLINE=(--offline --domain-type qemu --machine pc-i440fx-7.2 --arch x86_64)
VALIDATE=$(command -v virt-xml-validate)
[ -n "$VALIDATE" ] && ! command -v xmllint >/dev/null && VALIDATE=
fails=0 n=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

declare -A macro=()
while read -r name cfg rest; do
	case "$name" in ''|'#'*) continue ;; esac
	if [[ $name == ?=* ]]; then
		macro[${name%%=*}]=${name#*=}
		continue
	fi
	args=()
	for w in $rest; do
		if [[ $w == '$'? ]]; then args+=("${macro[${w#\$}]}"); else args+=("$w"); fi
	done
	n=$((n + 1))
	(cd "$X" && "$M" domain "${OFFLINE[@]}" "${args[@]}" "$cfg") >"$W/$name.xml" 2>"$W/$name.stderr"
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$name: exit $rc: $(cat "$W/$name.stderr")"; continue
	fi
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$W/$name.xml" "$D/$name.xml"
		if [ -s "$W/$name.stderr" ]; then cp "$W/$name.stderr" "$D/$name.stderr"; else rm -f "$D/$name.stderr"; fi
	fi
	if ! diff -u "$D/$name.xml" "$W/$name.xml"; then
		fail "$name: XML differs from $name.xml"; continue
	fi
	exp_err=/dev/null
	[ -f "$D/$name.stderr" ] && exp_err=$D/$name.stderr
	if ! diff -u "$exp_err" "$W/$name.stderr"; then
		fail "$name: warnings differ from $name.stderr"; continue
	fi
	if [ -n "$VALIDATE" ] && ! out=$("$VALIDATE" "$W/$name.xml" domain 2>&1); then
		fail "$name: virt-xml-validate: $out"; continue
	fi
	echo "ok   $name ($cfg)"
done <"$D/cases"
[ "$n" -ge 10 ] || fail "only $n golden cases"
[ -n "$VALIDATE" ] || echo "note: virt-xml-validate or xmllint missing: schema not checked (make deps)"

# --- bad inputs: refused, the cause named, no XML on stdout ---
# refuse RC PATTERN ARGS...: runs `domain ARGS` in the corpus folder
refuse() {
	local want=$1 pat=$2 out err rc
	shift 2
	n=$((n + 1))
	out=$(cd "$X" && "$M" domain "$@" 2>"$W/err")
	rc=$?
	err=$(cat "$W/err")
	if [ $rc -ne "$want" ]; then fail "domain $*: exit $rc, expected $want: $err"; return; fi
	if [ -n "$out" ]; then fail "domain $*: printed XML although refused"; return; fi
	if ! grep -q -- "$pat" <<<"$err"; then fail "domain $*: message '$err' does not say '$pat'"; return; fi
	echo "ok   refused: $(head -1 <<<"$err")"
}
T=(--target=/dev/r1/x)
refuse 1 "vif0 has no MAC in the Xen config.*--mac vif0=MAC" "${OFFLINE[@]}" --stage 2 "${T[@]}" no-mac-vifs.cfg
refuse 1 "vif1 has no MAC" "${OFFLINE[@]}" --stage 2 "${T[@]}" --mac vif0=00:16:3e:00:00:a0 no-mac-vifs.cfg
refuse 1 "vif0 has the MAC 00:16:3e:5a:0b:12 in the Xen config" "${OFFLINE[@]}" --stage 2 "${T[@]}" \
	--mac vif0=00:16:3e:00:00:01 xentools-fileserver.cfg
refuse 1 "not a unicast MAC" "${OFFLINE[@]}" --stage 2 "${T[@]}" --mac vif0=01:00:5e:00:00:01 no-mac-vifs.cfg
refuse 1 "the VM has 1 vif(s)" "${OFFLINE[@]}" --stage 2 "${T[@]}" --mac vif3=00:16:3e:00:00:01 xmexample1.cfg
refuse 2 "--disk-bus floppy: unknown bus (scsi, virtio, sata or ide)" "${OFFLINE[@]}" --disk-bus floppy \
	xentools-fileserver.cfg
refuse 2 "--stage 3: 1 or 2 expected" "${OFFLINE[@]}" --stage 3 xentools-fileserver.cfg
refuse 1 "stage 1 boots a kernel from outside the disk: give --kernel" "${OFFLINE[@]}" "${T[@]}" \
	xentools-fileserver.cfg
refuse 1 "--offline needs --target sda=PATH for disk sda" "${OFFLINE[@]}" --stage 2 xentools-fileserver.cfg
refuse 1 "only raw sources can be planned" "${OFFLINE[@]}" --stage 2 tap-prefixes.cfg
cat >"$W/ro.cfg" <<'CFG'
name = 'ro'
memory = 64
disk = [ 'phy:/dev/vg/ro-os,hda,w', 'phy:/dev/vg/ro-data,hdb,r', 'phy:/dev/vg/ro-c,hdc,w',
         'phy:/dev/vg/ro-d,hdd,w', ',hde:cdrom,r' ]
CFG
RO=(--stage 2 --target hda=/dev/r1/ro-hda --target hdb=/dev/r1/ro-hdb --target hdc=/dev/r1/ro-hdc
    --target hdd=/dev/r1/ro-hdd)
refuse 1 "disk hdb is read-only in the Xen config, and qemu has no read-only sata disks" "${OFFLINE[@]}" \
	"${RO[@]}" --disk-bus sata "$W/ro.cfg"
refuse 1 "the ide bus has 4 places, the VM has 4 disks and 1 cdroms" "${OFFLINE[@]}" "${RO[@]}" --disk-bus ide \
	"$W/ro.cfg"
refuse 1 "the VM has no disk hdx" "${OFFLINE[@]}" "${RO[@]}" --target hdx=/dev/null "$W/ro.cfg"
# a plan made for another config: a Xen disk it does not cover, and the reverse
(cd "$X" && "$M" plan --json --size /dev/vg/crlf=8388608 crlf.cfg) >"$W/crlf.plan" || die "plan crlf"
(cd "$X" && "$M" plan --json --size /dev/vg/c-root=8388608 --size /dev/vg/c-swap=8388608 comments-in-lists.cfg) \
	>"$W/commented.plan" || die "plan comments-in-lists"
refuse 1 "Xen disk xvda2 (/dev/vg/c-swap) is not in the disk plan" "${OFFLINE[@]}" --stage 2 "${T[@]}" \
	--plan "$W/crlf.plan" comments-in-lists.cfg
refuse 1 "plan partition xvda2 of commented-xvda is not a disk of the Xen config" "${OFFLINE[@]}" --stage 2 \
	"${T[@]}" --plan "$W/commented.plan" crlf.cfg
echo '{ "disks": [ { "name": 3 } ] }' >"$W/bad.plan"
refuse 1 "not a plan: disks\[0\].name: missing or not a string" "${OFFLINE[@]}" --stage 2 "${T[@]}" \
	--plan "$W/bad.plan" crlf.cfg
# the saved plan of the same config is as good as planning again
n=$((n + 1))
if out=$(cd "$X" && "$M" domain "${OFFLINE[@]}" --stage 2 --target=/dev/r1/fileserver-sda \
		--plan <("$M" plan --json --size /dev/r5/fileserver_root=8388608 --size /dev/r5/fileserver_swap=8388608 \
			 --size /dev/r5/fileserver_data=8388608 xentools-fileserver.cfg) xentools-fileserver.cfg 2>&1) &&
   [ "$out" = "$(cat "$D/fileserver-stage2.xml")" ]; then
	echo "ok   --plan FILE gives the same domain"
else
	fail "--plan FILE: $out"
fi
# a bridge that is not on this host (checked before libvirt is asked anything)
refuse 1 "vif0: bridge br-nonexistent-$$ (--bridge-map br-sv=br-nonexistent-$$) does not exist on this host" \
	--xml --stage 2 --target=sda=/dev/null --bridge-map br-sv=br-nonexistent-$$ xentools-fileserver.cfg
[ -e /sys/class/net/br-sv ] ||
	refuse 1 "vif0: bridge br-sv does not exist on this host (create it, or map it: --bridge-map br-sv=BRIDGE)" \
		--xml --stage 2 --target=sda=/dev/null xentools-fileserver.cfg
# XML escaping: a name with markup characters, a control character refused
cat >"$W/odd.cfg" <<'CFG'
name = "a&b<c>'q\""
memory = 64
kernel = '/k'
root = '/dev/xvda1 ro'
extra = 'x="a < b & c"  y=1'
disk = [ 'phy:/dev/vg/odd,xvda1,w' ]
CFG
n=$((n + 1))
if out=$("$M" domain "${OFFLINE[@]}" --kernel /k --target=/dev/vg/odd-xvda "$W/odd.cfg" 2>&1) &&
   grep -qF '<name>a&amp;b&lt;c&gt;'"'"'q&quot;</name>' <<<"$out" &&
   grep -qF '<cmdline>root=/dev/sda1 ro x=&quot;a &lt; b &amp; c&quot; y=1 console=ttyS0,115200</cmdline>' <<<"$out" &&
   printf '%s\n' "$out" >"$W/odd.xml" && { [ -z "$VALIDATE" ] || "$VALIDATE" "$W/odd.xml" domain >/dev/null 2>&1; }; then
	echo "ok   markup characters escaped by libxml2"
else
	fail "escaping: $out"
fi
printf 'name = "esc\\x1bname"\nmemory = 64\ndisk = [ "phy:/dev/vg/e,xvda,w" ]\n' >"$W/ctl.cfg"
refuse 1 "the domain name holds a control character" "${OFFLINE[@]}" --stage 2 --target=/dev/vg/e "$W/ctl.cfg"

echo "$n checks, $fails failures"
[ $fails -eq 0 ]
