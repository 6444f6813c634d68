#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# bridgectl doctor, each condition provoked in a namespace and undone:
# bad config, no daemon, key file mode, bridge-nf-call-*, STP and forward
# delay on a segment bridge, strict rp_filter and small MTU on the
# underlay, the UDP port dropped by an iptables rule or policy, and (in a
# private mount namespace) a missing /dev/net/tun and libvirt's default
# network active and autostarted. A clean host says no error (exit 0).
# Topology:
#   a [br-dmz]   ul0 198.18.0.1/24 ==veth== 198.18.0.2/24 ul0   b
. "$(dirname "$0")/../lib/netns.sh"
add_ns a; add_ns b
underlay a b
genkey a; genkey b
{ node_conf a 198.18.0.1; printf '\n[Bridge br-dmz]\nSegment = dmz\n\n[Peer b]\nPublicKey = %s\nEndpoint = 198.18.0.2:5880\nSegments = dmz\n' "$b_PUB"; } > "$WORK/a.conf"

doc() { nsx "$P-a" "$BRIDGECTL" doctor --json --config "$WORK/a.conf" "$@"; }
# st ID: the status of check ID (several: one line each)
st() { doc | jq -r --arg id "$1" '.checks[] | select(.id == $id) | .status'; }
field() { doc | jq -r --arg id "$1" --arg f "$2" '.checks[] | select(.id == $id) | .[$f]'; }
expect() { # ID STATUS WHAT
	local got; got=$(st "$1" | sort -u | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$2" ] || { doc | jq -c '.checks[]' >&2; fail "$3: check $1 says '$got', expected $2"; }
	log "$3: $1 $2: $(field "$1" message | head -1)"
}
nf() { nsx "$P-a" sysctl -qw net.bridge.bridge-nf-call-iptables="$1" net.bridge.bridge-nf-call-ip6tables="$1" \
	net.bridge.bridge-nf-call-arptables="$1"; }

# usage errors
"$BRIDGECTL" doctor --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "doctor --bogus: exit not 2"
"$BRIDGECTL" doctor --config 2>&1 | grep -q "missing FILE after '--config'" || fail "doctor --config without FILE: no clear error"

# no daemon: an error, exit 1, with a fix
doc > "$WORK/d.json"; rc=$?
[ $rc -eq 1 ] || fail "doctor without a daemon exits $rc, expected 1"
expect daemon error "no daemon"
field daemon fix | grep -q 'systemctl start bridged' || fail "no fix for the daemon check"
nsx "$P-a" "$BRIDGECTL" doctor --config "$WORK/a.conf" | grep -q '^error  daemon .*no bridged answers' || fail "text output lacks the daemon error"
expect bridge:br-dmz ok "bridge not made yet"

# config errors name the place
cp "$WORK/a.conf" "$WORK/good.conf"
printf 'Bogus = 1\n' >> "$WORK/a.conf"
expect config error "bad config"
field config message | grep -q "a.conf:[0-9]*: \[Peer b\] Bogus" || fail "config error without file:line: $(field config message)"
cp "$WORK/good.conf" "$WORK/a.conf"
expect config ok "good config"

# the key file
chmod 644 "$WORK/a.key"; expect key-file error "key mode 0644"
field key-file fix | grep -q "chmod 600" || fail "no chmod fix"
chmod 600 "$WORK/a.key"; expect key-file ok "key mode 0600"

# bridge-nf-call-*
nf 1
for t in iptables ip6tables arptables; do expect bridge-nf-call-$t warn "bridge-nf-call-$t = 1"; done
nf 0
for t in iptables ip6tables arptables; do expect bridge-nf-call-$t ok "bridge-nf-call-$t = 0"; done

# a hand-made bridge with STP and a forward delay
nsx "$P-a" ip link add br-dmz type bridge stp_state 1 forward_delay 1500
expect bridge:br-dmz warn "STP on, forward delay 15 s"
nsx "$P-a" ip link set br-dmz type bridge stp_state 0
nsx "$P-a" ip link set br-dmz type bridge forward_delay 0
expect bridge:br-dmz ok "STP off, forward delay 0"
nsx "$P-a" ip link set br-dmz type bridge forward_delay 400
expect bridge:br-dmz warn "forward delay 4 s"
nsx "$P-a" ip link set br-dmz type bridge forward_delay 0

# rp_filter on the underlay (the kernel takes the larger of all and ul0)
nsx "$P-a" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.ul0.rp_filter=0
expect rp-filter warn "all.rp_filter = 1"
field rp-filter message | grep -q "underlay ul0" || fail "rp-filter does not name ul0"
nsx "$P-a" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.ul0.rp_filter=1
expect rp-filter warn "ul0.rp_filter = 1"
nsx "$P-a" sysctl -qw net.ipv4.conf.ul0.rp_filter=2
expect rp-filter ok "loose rp_filter"

# the underlay MTU
nsx "$P-a" ip link set ul0 mtu 1000; expect underlay-mtu warn "MTU 1000"
nsx "$P-a" ip link set ul0 mtu 1500; expect underlay-mtu ok "MTU 1500"
field underlay-mtu message | grep -q "split by bridged in two" || fail "MTU 1500 not said to split frames"
nsx "$P-a" ip link set ul0 mtu 1600; expect underlay-mtu ok "MTU 1600"
field underlay-mtu message | grep -q "travel whole" || fail "MTU 1600 not said to carry frames whole"

# the UDP port against iptables
expect udp-port ok "no rules"
nsx "$P-a" iptables -A INPUT -p udp --dport 5880 -j DROP
expect udp-port error "a DROP rule for udp 5880"
field udp-port message | grep -q -- "--dport 5880 -j DROP" || fail "the dropping rule is not named"
nsx "$P-a" iptables -I INPUT -p udp --dport 5880 -j ACCEPT
expect udp-port ok "an ACCEPT rule before it"
nsx "$P-a" iptables -F INPUT
nsx "$P-a" iptables -A INPUT -p udp --dport 9999 -j ACCEPT
nsx "$P-a" iptables -P INPUT DROP
expect udp-port error "policy DROP, another port accepted"
field udp-port fix | grep -q "iptables -I INPUT -p udp --dport 5880 -j ACCEPT" || fail "no iptables fix"
nsx "$P-a" iptables -A INPUT -p udp --dport 5880 -j ACCEPT
expect udp-port ok "policy DROP, 5880 accepted"

# the daemon up: no error left, exit 0
start_bridged a
expect daemon ok "daemon running"
doc > "$WORK/clean.json" || { jq -c '.checks[] | select(.status == "error")' "$WORK/clean.json"; fail "doctor exits non-zero on a ready host"; }
jq -e '.errors == 0' "$WORK/clean.json" >/dev/null || fail "errors on a ready host"
for id in tun-device offloads clock libvirt-default-network; do
	jq -e --arg id "$id" 'any(.checks[]; .id == $id)' "$WORK/clean.json" >/dev/null || fail "no $id check"
done
log "ready host: $(jq -c '{errors, warnings}' "$WORK/clean.json"); clock: $(jq -r '.checks[] | select(.id=="clock") | .status' "$WORK/clean.json")"

# in a private mount namespace: no /dev/net/tun; libvirt's default network
mkdir -p "$WORK/empty" "$WORK/lv-auto" "$WORK/lv-run"
ln -s /etc/libvirt/qemu/networks/default.xml "$WORK/lv-auto/default.xml"
echo '<network><name>default</name></network>' > "$WORK/lv-run/default.xml"
priv() { # SCRIPT: runs in $P-a with a private mount namespace
	nsx "$P-a" unshare -m --propagation private sh -c "$1"
}
priv "mount --bind '$WORK/empty' /dev/net && '$BRIDGECTL' doctor --json --config '$WORK/a.conf'" > "$WORK/notun.json"
[ "$(jq -r '.checks[] | select(.id=="tun-device") | .status' "$WORK/notun.json")" = error ] || fail "no error without /dev/net/tun"
log "no /dev/net/tun: $(jq -r '.checks[] | select(.id=="tun-device") | .message' "$WORK/notun.json")"
# (only where libvirt made those folders: nothing is created outside $WORK)
if [ -d /etc/libvirt/qemu/networks/autostart ] && [ -d /run/libvirt/network ]; then
	priv "mount --bind '$WORK/lv-auto' /etc/libvirt/qemu/networks/autostart && mount --bind '$WORK/lv-run' /run/libvirt/network && '$BRIDGECTL' doctor --json --config '$WORK/a.conf'" > "$WORK/lv.json"
	lv=$(jq -c '.checks[] | select(.id=="libvirt-default-network")' "$WORK/lv.json")
	jq -e '.status == "warn" and (.message | test("active and autostarted")) and (.fix | test("net-autostart default --disable"))' <<<"$lv" >/dev/null ||
		fail "libvirt default network active and autostarted not reported: $lv"
	log "libvirt default network: $(jq -r .message <<<"$lv")"
	priv "mount --bind '$WORK/empty' /etc/libvirt/qemu/networks/autostart && mount --bind '$WORK/empty' /run/libvirt/network && '$BRIDGECTL' doctor --json --config '$WORK/a.conf'" > "$WORK/lv0.json"
	[ "$(jq -r '.checks[] | select(.id=="libvirt-default-network") | .status' "$WORK/lv0.json")" = ok ] || fail "libvirt check not ok without the network"
else
	log "libvirt's folders missing here: the libvirt check was not provoked"
fi
echo ok
