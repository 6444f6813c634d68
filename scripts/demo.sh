#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: two hosts in network namespaces ("oldhost" with Xen-era VMs,
# "newhost" with KVM), one bridged each, the classic two-bridge config (br-dmz
# and br-sv, one tunnel association carrying both), a VM namespace on each
# bridge of each host. Pings across both segments, shows bridgectl status
# from both sides, cleans up.
#
#  dmz-old 198.19.1.1  sv-old 198.19.2.1          dmz-new 198.19.1.2  sv-new 198.19.2.2
#        |                |                             |                 |
#     [br-dmz]         [br-sv]                       [br-dmz]          [br-sv]
#        \ tap  oldhost  / tap                          \ tap  newhost  / tap
#         bridged 198.18.0.1 ========= UDP 5880 ========= 198.18.0.2 bridged
set -u
export P=demo$(printf '%04x' $((RANDOM % 65536)))
. "$(dirname "$0")/../tests/lib/netns.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

add_ns oldhost; add_ns newhost
ip link add ul0 netns "$P-oldhost" type veth peer name ul0 netns "$P-newhost"
nsx "$P-oldhost" ip addr add 198.18.0.1/24 dev ul0; nsx "$P-oldhost" ip link set ul0 up
nsx "$P-newhost" ip addr add 198.18.0.2/24 dev ul0; nsx "$P-newhost" ip link set ul0 up
genkey oldhost; genkey newhost

for side in oldhost newhost; do
	if [ $side = oldhost ]; then me=198.18.0.1 peer=newhost pub=$newhost_PUB ep=198.18.0.2:5880
	else me=198.18.0.2 peer=oldhost pub=$oldhost_PUB ep=none; fi
	{ node_conf $side $me; cat <<EOC

[Bridge br-dmz]
[Bridge br-sv]

[Peer $peer]
PublicKey = $pub
Endpoint = $ep
Segments = br-dmz, br-sv
Encryption = aead
EOC
	} > "$WORK/$side.conf"
done
say "the configuration of oldhost (bridged -n prints it canonically)"
"$BRIDGED" -n -c "$WORK/oldhost.conf"

say "starting bridged on both hosts"
start_bridged oldhost
start_bridged newhost
vm oldhost dmz-old br-dmz 198.19.1.1/24; vm oldhost sv-old br-sv 198.19.2.1/24
vm newhost dmz-new br-dmz 198.19.1.2/24; vm newhost sv-new br-sv 198.19.2.2/24
wait_for 5 session_up oldhost newhost || fail "no session between the hosts"

say "dmz-old (on oldhost) pings dmz-new (on newhost) across br-dmz"
nsx "$P-dmz-old" ping -c 3 -i 0.2 198.19.1.2 || fail "dmz ping failed"
say "sv-new (on newhost) pings sv-old (on oldhost) across br-sv, 1472-byte DF"
nsx "$P-sv-new" ping -c 3 -i 0.2 -M do -s 1472 198.19.2.1 || fail "sv ping failed"
say "the segments stay apart: dmz-old cannot reach sv-new's address"
if nsx "$P-dmz-old" ping -c 1 -W 1 198.19.2.2 >/dev/null 2>&1; then fail "segments leak"; else echo "(no answer, as it should be)"; fi

say "bridgectl status on oldhost"
ctl oldhost status
say "bridgectl status on newhost"
ctl newhost status
say "done: cleaning up"
