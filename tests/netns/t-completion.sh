#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# row: side
# Bash completion of bridgectl (dist/bash-completion/bridgectl), driven
# the way bash drives it (COMP_WORDS, COMP_CWORD, then the function that
# `complete -p bridgectl` names): commands, migrate subcommands, options
# from each command's --help, option values, VM names from the Xen config
# dir, peer and segment names from a real bridged's `status --json`.
# Topology: one host, no underlay needed:
#   [br-dmz] [br-sv]  bridged a, peers "oldhost" and "spare" (never up)
. "$(dirname "$0")/../lib/netns.sh"
COMP=$TOP/dist/bash-completion/bridgectl
command -v jq >/dev/null || fail "jq missing (scripts/deps.sh)"
add_ns a
genkey a; genkey o; genkey s
{ node_conf a 0.0.0.0; cat <<EOC

[Bridge br-dmz]
Segment = dmz

[Bridge br-sv]
Segment = sv

[Peer oldhost]
PublicKey = $o_PUB
Endpoint = none
Segments = dmz, sv

[Peer spare]
PublicKey = $s_PUB
Endpoint = none
Segments = sv
EOC
} > "$WORK/a.conf"
start_bridged a

mkdir -p "$WORK/xen/auto" "$WORK/xen/scripts" "$WORK/xen2"
touch "$WORK/xen/web1.cfg" "$WORK/xen/db2" "$WORK/xen/xl.conf" "$WORK/xen/xend-config.sxp" \
      "$WORK/xen/web1.cfg~" "$WORK/xen2/mail3.cfg"

# comp LINE: what completion offers for LINE (the cursor at its end; a
# trailing blank starts a new, empty word), sorted, one per line
comp() {
	(
		set +u
		# shellcheck disable=SC1090
		. "$COMP"
		spec=$(complete -p bridgectl) || exit 1
		fn=$(sed -n 's/.*-F \([^ ]*\).*/\1/p' <<<"$spec")
		read -r -a COMP_WORDS <<<"$1"
		COMP_WORDS[0]=$BRIDGECTL
		[ "${1: -1}" = " " ] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$1; COMP_POINT=${#1}
		"$fn" bridgectl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf '%s\n' "${COMPREPLY[@]}" | sort
	)
}
# expect LINE WORD...: completion offers exactly these words
expect() {
	local line=$1 got want; shift
	got=$(comp "$line" | tr '\n' ' ' | sed 's/ *$//')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ *$//')
	[ "$got" = "$want" ] || fail "completing '$line': got [$got], expected [$want]"
	log "'$line' -> $got"
}
# has LINE WORD...: completion offers at least these words
has() {
	local line=$1 got w; shift
	got=$(comp "$line")
	for w in "$@"; do grep -qxF -- "$w" <<<"$got" || fail "completing '$line': no '$w' in [$(echo $got)]"; done
	log "'$line' -> $(echo $got)"
}

bash -c ". '$COMP' && complete -p bridgectl" | grep -q -- '-F _bridgectl bridgectl' || fail "the file does not register a completion for bridgectl"

export BRIDGED_SOCKET=$WORK/a.sock BRIDGED_XEN_DIR=$WORK/xen
has "bridgectl " genkey pubkey status events fdb migrate cutover help --socket
comp "bridgectl " | grep -qx inspect && fail "a migrate subcommand offered at the top level"
expect "bridgectl st" status
expect "bridgectl migrate " inspect plan create preflight domain send receive source --help
expect "bridgectl migrate pl" plan
expect "bridgectl migrate plan --c" --commands --connect
expect "bridgectl status --" --json
has "bridgectl events --" --json --count --timeout
has "bridgectl cutover web1 --" --from --rollback --stage2 --dry-run --yes --list
expect "bridgectl migrate preflight --disk-bus v" virtio
expect "bridgectl migrate domain --stage " 1 2
expect "bridgectl migrate source --from 198.18.0.1:5881 --vm web1 s" shutdown start state

# peers and segments from the running daemon
expect "bridgectl cutover web1 --from " oldhost spare
expect "bridgectl cutover web1 --from o" oldhost
expect "bridgectl fdb --segment " dmz sv
# --socket on the line wins over $BRIDGED_SOCKET
expect "bridgectl --socket $WORK/a.sock cutover web1 --from s" spare
BRIDGED_SOCKET=$WORK/nothing.sock expect "bridgectl cutover web1 --from " 
BRIDGED_SOCKET=$WORK/nothing.sock expect "bridgectl --socket $WORK/a.sock fdb --segment d" dmz
# migrate source --from is an address: nothing to offer
expect "bridgectl migrate source --from " 

# VM names: the Xen config dir's files, not its folders or xl's own files
expect "bridgectl cutover " db2 web1
expect "bridgectl migrate source --from 198.18.0.1:5881 --vm w" web1
expect "bridgectl migrate plan --xen-dir $WORK/xen2 " mail3 $(cd . && compgen -f -- "")
BRIDGED_XEN_DIR=$WORK/xen2 expect "bridgectl cutover m" mail3
echo ok
