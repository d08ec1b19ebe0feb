#!/usr/bin/env bash
# The lab demo: what a Postern operator does first, on this machine, with the
# binaries just built. Today that is the credential chain every tunnel starts
# from — keys, a control-plane key, signed tokens and their verification — and
# the per-packet crypto cost the relay pays. The relay, gateway and connector
# join this demo as they land (see docs/).
set -euo pipefail

build=${1:?usage: demo.sh BUILD_DIR}
ctl=$build/relay/posternctl
work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

cd "$work"
step "1. Keys: the relay's static key, a gateway's, an agent's, and the control-plane signing key"
run "$ctl" genkey -o relay.key
run "$ctl" genkey -o gateway.key
run "$ctl" genkey -o agent.key
run "$ctl" genkey -o control.key
printf 'relay public key (every endpoint pins it): %s\n' "$("$ctl" pubkey relay.key)"
"$ctl" pubkey --signing control.key >control.pub
printf 'control-plane public key (every relay trusts it): %s\n' "$(cat control.pub)"

step "2. A gateway token for tenant 'acme', tunnel 'crm', valid for 30 days"
run "$ctl" token issue --signing-key control.key --tenant acme --role gateway \
	--tunnel crm --endpoint-key "$("$ctl" pubkey gateway.key)" --valid-for 30d -o gateway.token
printf 'token: %.60s...\n' "$(cat gateway.token)"

step "3. An agent grant for the same tenant, limited to tunnel 'crm', valid for 12 hours"
run "$ctl" token issue --signing-key control.key --tenant acme --role agent \
	--tunnel crm --endpoint-key "$("$ctl" pubkey agent.key)" --valid-for 12h -o agent.token

step "4. What a relay checks: the gateway token against the trusted control-plane key"
run "$ctl" token inspect --trust @control.pub --endpoint-key "$("$ctl" pubkey gateway.key)" @gateway.token

step "5. The same token, revoked: the relay refuses it"
id=$("$ctl" token inspect --json @gateway.token | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$ctl" token inspect --trust @control.pub --revoked "$id" @gateway.token || true

step "6. A forged token (one character changed): refused"
tok=$(cat gateway.token)
mid=$((${#tok} / 2))
c=${tok:mid:1}; [[ $c == A ]] && r=B || r=A
printf '%s%s%s\n' "${tok:0:mid}" "$r" "${tok:mid+1}" >forged.token
"$ctl" token inspect --trust @control.pub @forged.token || true

step "7. Per-packet cost: the relay opens and seals every DATA packet (5 runs of 0.2 s per case)"
"$build/bench/aead_bench" --seconds 0.2

cat <<'TXT'

That is the credential and crypto core. The relay (postern-relay), gateway and
connector build on it; when they land, this demo brings up a tunnel and runs an
MCP session through it. See README.md and docs/.
TXT
