# SPDX-License-Identifier: GPL-2.0-or-later
# bridged as candidates of ../shared/bench/anchors.sh (sourced by it through
# HOOKS=...). Two rows: bridged-none (Encryption = none) and bridged-aead.
#
#   OUT_DIR=/tmp/bench-$(date +%s) HOOKS=$PWD/tests/bench/anchors-hooks.sh \
#   CANDIDATES="kernel-vxlan vtun-ether-udp openvpn-tap-none openvpn-tap-aesgcm bridged-none bridged-aead" \
#   ../shared/bench/anchors.sh
#
# The harness has made the bridge ab-br on both hosts; bridged adopts it and
# enslaves its own TAP. Keys of both sides are made on the h1 call.
#
# Two more rows compare a change with what it started from, in the same run:
# bridged-base-none and bridged-base-aead run the binaries of another
# checkout, BASE_TOP=/path/to/it (built with make), with no key it may not
# know (StateFile).
# bridged-w1-none and bridged-w1-aead run this checkout with Workers = 1,
# bridged-hash-none and bridged-hash-aead with Steering = hash.
BRIDGED_TOP=${BRIDGED_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

_bridged_start() { # SIDE ENCRYPTION
	local s=$1 enc=$2 other peer ep
	if [ "$s" = h1 ]; then
		(umask 077
		 "$BRIDGED_TOP/bridged/bridgectl" genkey > "$AB_DIR/bd-h1.key"
		 "$BRIDGED_TOP/bridged/bridgectl" genkey > "$AB_DIR/bd-h2.key")
	fi
	other=h2; [ "$s" = h2 ] && other=h1
	peer=$("$BRIDGED_TOP/bridged/bridgectl" pubkey < "$AB_DIR/bd-$other.key")
	ep="$AB_PEER:5880"; [ "$s" = h2 ] && ep=none
	cat > "$AB_DIR/bd-$s.conf" <<EOC
[Node]
PrivateKeyFile = $AB_DIR/bd-$s.key
ListenAddress = $AB_LOCAL
ControlSocket = $AB_DIR/bd-$s.sock
${BD_NO_STATE:-StateFile = $AB_DIR/bd-$s.state}
${BD_WORKERS:+Workers = $BD_WORKERS}
${BD_SUPERFRAMES:+SuperFrames = $BD_SUPERFRAMES}
${BD_STEERING:+Steering = $BD_STEERING}

[Bridge $AB_BR]

[Peer $other]
PublicKey = $peer
Endpoint = $ep
Segments = $AB_BR
Encryption = $enc
EOC
	spawn "$s" bridged "$BRIDGED_TOP/bridged/bridged" -f -c "$AB_DIR/bd-$s.conf"
	local i
	for ((i = 0; i < 50; i++)); do
		[ -S "$AB_DIR/bd-$s.sock" ] && return 0
		sleep 0.1
	done
	fail_note "bridged did not start on $s (see $AB_DIR/bridged-$s.log)"
	return 1
}

start_bridged_none() { _bridged_start "$1" none; }
start_bridged_aead() { _bridged_start "$1" aead; }
# bridged-w1-none, bridged-w1-aead: Workers = 1 (the data path on the main
# loop), against the default (auto: one worker per CPU) in the same run
start_bridged_w1_none() { BD_WORKERS=1 _bridged_start "$1" none; }
start_bridged_w1_aead() { BD_WORKERS=1 _bridged_start "$1" aead; }
# bridged-whole-none, bridged-whole-aead: SuperFrames = whole (super-frames
# as fragments of the whole, the way before segments), in the same run
start_bridged_whole_none() { BD_SUPERFRAMES=whole _bridged_start "$1" none; }
start_bridged_whole_aead() { BD_SUPERFRAMES=whole _bridged_start "$1" aead; }
# bridged-hash-none, bridged-hash-aead: Steering = hash (workers by the
# 4-tuple's hash, on any CPU), against the default (cpu) in the same run
start_bridged_hash_none() { BD_STEERING=hash _bridged_start "$1" none; }
start_bridged_hash_aead() { BD_STEERING=hash _bridged_start "$1" aead; }
start_bridged_base_none() { BRIDGED_TOP=${BASE_TOP:?BASE_TOP} BD_NO_STATE="#" _bridged_start "$1" none; }
start_bridged_base_aead() { BRIDGED_TOP=${BASE_TOP:?BASE_TOP} BD_NO_STATE="#" _bridged_start "$1" aead; }

# Loss rows (issue 12: "under 1 % random loss, single-flow TCP through
# bridged at least that of vtun"): NAME-loss is candidate NAME with each
# datagram arriving on the underlay of either host dropped with LOSS_PCT %
# probability (default 1; an iptables statistic match: this kernel has no
# sch_netem). So that datagrams are lost, not UDP GSO trains, the underlay
# veths cut trains into datagrams on the way out (no tx-udp-segmentation,
# as a NIC puts them on a wire), for every candidate alike. Run them with
#   CANDIDATES="vtun-ether-udp-loss bridged-none-loss ..." TESTS=tcp1 MTU_PROBE=0
_with_loss() { # SIDE START_FUNCTION
	local s=$1 fn=$2 p
	p=$(awk -v l="${LOSS_PCT:-1}" 'BEGIN { printf "%.6f", l / 100 }')
	"$fn" "$s" || return 1
	ip netns exec "ab-$s" ethtool -K "$AB_UL" tx-udp-segmentation off >/dev/null 2>&1 ||
		{ fail_note "ethtool -K $AB_UL tx-udp-segmentation off on $s"; return 1; }
	ip netns exec "ab-$s" iptables -A INPUT -i "$AB_UL" -p udp -m statistic --mode random \
		--probability "$p" -j DROP ||
		{ fail_note "iptables statistic match on $s (package iptables)"; return 1; }
}
start_kernel_vxlan_loss() { _with_loss "$1" start_kernel_vxlan; }
start_vtun_ether_udp_loss() { _with_loss "$1" start_vtun_ether_udp; }
start_openvpn_tap_aesgcm_loss() { _with_loss "$1" start_openvpn_tap_aesgcm; }
start_bridged_none_loss() { _with_loss "$1" start_bridged_none; }
start_bridged_aead_loss() { _with_loss "$1" start_bridged_aead; }
start_bridged_whole_none_loss() { _with_loss "$1" start_bridged_whole_none; }
