#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# `bridgectl migrate domain` against the real libvirtd (qemu:///system):
#  1. every golden XML of tests/migrate/domain/ is defined with
#     `virsh define --validate` (under a per-run name) and undefined again;
#  2. the command itself, on a per-run `dir` pool whose volumes
#     `migrate create` made and two per-run bridges: bad inputs (a missing
#     pool, a missing volume, a missing bridge) define nothing; stage 1 is
#     defined (kernel and initrd copied 0644, root= translated, file disks on
#     virtio-scsi, both NICs with their MACs on the mapped bridges); the same
#     again is "unchanged"; a changed config is refused with the differing
#     lines and the definition and its kernel are untouched; --replace
#     overwrites it (uuid kept); --stage 2 updates it in place (no kernel,
#     boot from hd, libvirt's additions kept) and says a guest reboot does
#     not apply it;
#     --xml defines nothing; without --domain-type the capabilities choose
#     (kvm, or qemu with a warning) and name the versioned machine.
# Starts libvirtd when it is not running (stops only what it started);
# removes every domain, volume, pool, bridge and file it made. Skips when
# libvirtd cannot be started here.
set -u
. "$(dirname "$0")/lib.sh"
M=$(migrate_cmd) || die "cannot build bridgectl-migrate"
command -v ip >/dev/null || skip "iproute2 is not installed"
[ "$(id -u)" = 0 ] || skip "needs root (libvirt's system instance, bridges)"
URI=$LIBVIRT_URI
P=bdt$$
POOL=bridged-dt-$$-$RANDOM
VM=bridged-dt-$$
BR1=$P-a BR2=$P-b
W=$(mktemp -d /tmp/bridged-dom.XXXXXX)
chmod 755 "$W"
DEFINED=()
cleanup() {
	for d in "${DEFINED[@]}" "$VM"; do
		virsh -c "$URI" undefine "$d" >/dev/null 2>&1
	done
	for v in "$VM-xvda" "$VM-xvdb"; do
		virsh -c "$URI" vol-delete --pool "$POOL" "$v" >/dev/null 2>&1
	done
	virsh -c "$URI" pool-destroy "$POOL" >/dev/null 2>&1
	virsh -c "$URI" pool-undefine "$POOL" >/dev/null 2>&1
	ip link del "$BR1" 2>/dev/null
	ip link del "$BR2" 2>/dev/null
	libvirtd_stop
	rm -rf "$W"
}
trap cleanup EXIT
libvirtd_start || skip "$LIBVIRT_ERR"
defined() { virsh -c "$URI" dominfo "$1" >/dev/null 2>&1; }

echo "== 1. the golden XML, defined by libvirtd"
n=0
for x in "$TOP"/tests/migrate/domain/*.xml; do
	name=$P-$(basename "$x" .xml)
	sed "s|<name>[^<]*</name>|<name>$name</name>|" "$x" >"$W/g.xml"
	DEFINED+=("$name")
	out=$(virsh -c "$URI" define --validate "$W/g.xml" 2>&1) || die "$(basename "$x"): virsh define: $out"
	virsh -c "$URI" undefine "$name" >/dev/null || die "undefine $name"
	n=$((n + 1))
done
[ $n -ge 10 ] || die "only $n golden files"
echo "ok   $n golden domains defined and undefined"

echo "== 2. migrate domain on a dir pool"
mkdir -p "$W/pool" "$W/boot"
virsh -c "$URI" pool-define-as "$POOL" dir --target "$W/pool" >/dev/null || die "pool-define-as"
virsh -c "$URI" pool-start "$POOL" >/dev/null || die "pool-start"
truncate -s 6M "$W/root.img" "$W/data.img"
truncate -s 4M "$W/swap.img"
mkswap -q "$W/swap.img" || die mkswap
printf 'kernel' >"$W/vmlinuz"
printf 'initrd' >"$W/initrd"
cfg() { # MEMORY
	cat >"$W/vm.cfg" <<CFG
name = '$VM'
memory = $1
vcpus = 1
kernel = '/boot/vmlinuz-2.6.32-5-xen-amd64'
root = '/dev/xvda1 ro'
extra = 'quiet'
disk = [ 'phy:$W/root.img,xvda1,w', 'phy:$W/swap.img,xvda2,w', 'phy:$W/data.img,xvdb,w' ]
vif = [ 'mac=00:16:3e:dd:00:01,bridge=xenbr0', 'mac=00:16:3E:DD:00:02,bridge=br-other' ]
CFG
}
cfg 128
"$M" create --connect "$URI" --pool "$POOL" "$W/vm.cfg" >/dev/null || die "migrate create"
D=(domain --connect "$URI" --pool "$POOL" --domain-type qemu --boot-dir "$W/boot"
   --kernel "$W/vmlinuz" --initrd "$W/initrd")
MAP=(--bridge-map "xenbr0=$BR1,br-other=$BR2")

# expect_refusal PATTERN ARGS...: exit 1, the message says PATTERN, nothing defined
expect_refusal() {
	local pat=$1 out
	shift
	if out=$("$M" "$@" 2>&1); then die "accepted: $*: $out"; fi
	grep -q -- "$pat" <<<"$out" || die "refusal of $* does not say '$pat': $out"
	defined "$VM" && die "$VM was defined by a refused command: $*"
	echo "ok   refused: $(grep -m1 -- "$pat" <<<"$out")"
}
expect_refusal "vif0: bridge $BR1 (--bridge-map xenbr0=$BR1) does not exist on this host" \
	"${D[@]}" "${MAP[@]}" "$W/vm.cfg"
ip link add "$BR1" type bridge || die "bridge $BR1"
ip link add "$BR2" type bridge || die "bridge $BR2"
expect_refusal "storage pool 'nosuch-$P' is not there" "${D[@]}" "${MAP[@]}" --pool "nosuch-$P" "$W/vm.cfg"
sed "s/^name = .*/name = '$VM-other'/" "$W/vm.cfg" >"$W/other.cfg"
expect_refusal "volume $VM-other-xvda is not in storage pool '$POOL' (bridgectl migrate create makes it)" \
	"${D[@]}" "${MAP[@]}" "$W/other.cfg"
defined "$VM-other" && die "$VM-other defined"
sed "s/mac=00:16:3e:dd:00:01,//" "$W/vm.cfg" >"$W/nomac.cfg"
expect_refusal "vif0 has no MAC" "${D[@]}" "${MAP[@]}" "$W/nomac.cfg"

echo "== stage 1"
out=$("$M" "${D[@]}" "${MAP[@]}" --json "$W/vm.cfg") || die "stage 1: $out"
echo "$out"
[ "$(jq -r .result <<<"$out")" = defined ] || die "stage 1 result: $out"
uuid=$(jq -r .uuid <<<"$out")
xml=$(virsh -c "$URI" dumpxml --inactive "$VM") || die "dumpxml"
for want in "<kernel>$W/boot/$VM-vmlinuz</kernel>" "<initrd>$W/boot/$VM-initrd</initrd>" \
	    "<cmdline>root=/dev/sda1 ro quiet console=ttyS0,115200</cmdline>" \
	    "<source file='$W/pool/$VM-xvda'/>" "<target dev='sda' bus='scsi'/>" \
	    "<source file='$W/pool/$VM-xvdb'/>" "<target dev='sdb' bus='scsi'/>" \
	    "<controller type='scsi' index='0' model='virtio-scsi'>" \
	    "<mac address='00:16:3e:dd:00:01'/>" "<source bridge='$BR1'/>" \
	    "<mac address='00:16:3e:dd:00:02'/>" "<source bridge='$BR2'/>" "<type arch='x86_64' machine='pc-" \
	    "<domain type='qemu'>" "<acpi/>" "<serial type='pty'>"; do
	grep -qF -- "$want" <<<"$xml" || die "stage 1 definition lacks $want"
done
[ "$(stat -c %a "$W/boot/$VM-vmlinuz")" = 644 ] && cmp -s "$W/vmlinuz" "$W/boot/$VM-vmlinuz" &&
	cmp -s "$W/initrd" "$W/boot/$VM-initrd" || die "boot files not copied 0644"
echo "ok   stage 1 defined"

out=$("$M" "${D[@]}" "${MAP[@]}" --json "$W/vm.cfg") || die "re-run: $out"
[ "$(jq -r .result <<<"$out")" = unchanged ] || die "re-run result: $out"
[ "$(jq -r '.boot_files[0].placed' <<<"$out")" = unchanged ] || die "boot file re-copied: $out"
echo "ok   the same again: unchanged"

cfg 192
printf 'kernel 2' >"$W/vmlinuz"
if out=$("$M" "${D[@]}" "${MAP[@]}" "$W/vm.cfg" 2>&1); then die "a different definition was overwritten: $out"; fi
echo "$out"
grep -q "domain $VM exists and differs from the one the Xen config gives (--replace overwrites it)" <<<"$out" &&
	grep -qx -- "-  <memory_kib>131072</memory_kib>" <<<"$out" &&
	grep -qx -- "+  <memory_kib>196608</memory_kib>" <<<"$out" || die "refusal without the differing lines: $out"
virsh -c "$URI" dumpxml --inactive "$VM" | grep -q "<memory unit='KiB'>131072</memory>" ||
	die "the refused run changed the definition"
[ "$(cat "$W/boot/$VM-vmlinuz")" = kernel ] || die "the refused run replaced the defined domain's kernel"
echo "ok   a different definition refused, with the differing lines"

out=$("$M" "${D[@]}" "${MAP[@]}" --replace --json "$W/vm.cfg") || die "replace: $out"
[ "$(jq -r .result <<<"$out")" = replaced ] && [ "$(jq -r .uuid <<<"$out")" = "$uuid" ] ||
	die "replace result: $out"
[ "$(cat "$W/boot/$VM-vmlinuz")" = "kernel 2" ] && [ "$(jq -r '.boot_files[0].placed' <<<"$out")" = copied ] ||
	die "--replace did not place the new kernel: $out"
virsh -c "$URI" dumpxml --inactive "$VM" | grep -q "<memory unit='KiB'>196608</memory>" || die "not replaced"
echo "ok   --replace overwrites it, uuid kept"

echo "== stage 2"
out=$("$M" domain --connect "$URI" --pool "$POOL" --domain-type qemu "${MAP[@]}" --stage 2 "$W/vm.cfg") ||
	die "stage 2: $out"
echo "$out"
grep -q "^domain $VM: updated (stage 2" <<<"$out" || die "stage 2 did not update: $out"
grep -q "a reboot inside the guest does not apply it" <<<"$out" || die "stage 2 does not say a reboot keeps stage 1"
xml=$(virsh -c "$URI" dumpxml --inactive "$VM")
grep -q "<kernel>\|<initrd>\|<cmdline>" <<<"$xml" && die "stage 2 kept the kernel: $xml"
grep -qF "<boot dev='hd'/>" <<<"$xml" && grep -qF "<uuid>$uuid</uuid>" <<<"$xml" &&
	grep -qF "<source file='$W/pool/$VM-xvda'/>" <<<"$xml" || die "stage 2 definition: $xml"
out=$("$M" domain --connect "$URI" --pool "$POOL" --domain-type qemu "${MAP[@]}" --stage 2 --json "$W/vm.cfg") ||
	die "stage 2 again: $out"
[ "$(jq -r .result <<<"$out")" = unchanged ] || die "stage 2 again: $out"
echo "ok   stage 2 applied in place, then unchanged"

echo "== --xml defines nothing"
virsh -c "$URI" undefine "$VM" >/dev/null || die "undefine"
out=$("$M" "${D[@]}" "${MAP[@]}" --xml "$W/vm.cfg") || die "--xml: $out"
grep -q "<name>$VM</name>" <<<"$out" || die "--xml printed no domain"
defined "$VM" && die "--xml defined $VM"
echo "ok   --xml"
# no --domain-type: kvm when libvirt can use it, else qemu with a warning; the versioned default machine
out=$("$M" domain --connect "$URI" --pool "$POOL" "${MAP[@]}" --stage 2 --xml "$W/vm.cfg" 2>"$W/err") ||
	die "--xml without --domain-type: $(cat "$W/err")"
type=$(sed -n 's/^<domain type="\([a-z]*\)">$/\1/p' <<<"$out")
machine=$(sed -n 's/.* machine="\([^"]*\)".*/\1/p' <<<"$out")
case "$type" in
kvm) ;;
qemu) grep -q "warning: KVM is not usable here" "$W/err" || die "qemu chosen without a warning" ;;
*) die "domain type '$type'" ;;
esac
[[ $machine == pc-*-[0-9]* ]] || die "machine '$machine' is not a versioned name"
echo "ok   capabilities: type $type, machine $machine"
echo "all good"
