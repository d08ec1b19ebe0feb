#!/usr/bin/env bash
# The lab demo: what a Postern operator does first, on this machine, with the
# binaries just built: the credential chain every tunnel starts from (keys, a
# control-plane key, signed tokens and their verification), the per-packet
# crypto cost, then a relay on loopback splicing channels between a test
# gateway and a test agent. The gateway and connector join as they land.
set -euo pipefail

build=${1:?usage: demo.sh BUILD_DIR}
ctl=$build/relay/posternctl
work=$(mktemp -d)
cleanup() {
	local p
	for p in $(jobs -p); do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
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

step "8. A relay on loopback splicing a channel between a test gateway and a test agent"
port=$((20000 + RANDOM % 20000))
"$build/postern-relay" --listen "127.0.0.1:$port" --workers 2 --private-key relay.key \
	--trust @control.pub --stats-file stats.json --control-socket "$work/relay.sock" \
	--metrics-listen off --log-level warn &
relay=$!
for _ in $(seq 100); do [[ -s stats.json ]] && break; sleep 0.1; done
peer=$build/tests/e2e/hop_peer
"$peer" gateway --relay "127.0.0.1:$port" --relay-key "$("$ctl" pubkey relay.key)" \
	--key gateway.key --token gateway.token --duration 30 >gateway.json &
gw=$!
sleep 0.5
printf '$ hop_peer agent --tunnel crm --channels 2 --count 1000 --size 512\n'
"$peer" agent --relay "127.0.0.1:$port" --relay-key "$("$ctl" pubkey relay.key)" \
	--key agent.key --token agent.token --tunnel crm --channels 2 --count 1000 --size 512 \
	--window 16 >agent.json || true
python3 - agent.json <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
print(f"agent: {a['received']}/{a['sent']} payloads echoed back intact, {a['corrupt']} corrupt, "
      f"rtt p50 {a['rtt_us']['p50']} us, p99 {a['rtt_us']['p99']} us")
PY
"$build/relay/posternctl" --socket "$work/relay.sock" stats || true
kill -TERM "$gw" "$relay" 2>/dev/null || true
wait "$relay" 2>/dev/null || true
wait "$gw" 2>/dev/null || true

cat <<'TXT'

That is the hop layer working end to end: keys, tokens, admission, and a relay
splicing encrypted channels between workers. The gateway and connector (MCP
servers reachable through the tunnel over end-to-end QUIC) build on it; when they
land, this demo runs an MCP session through it. See README.md and docs/.
TXT
