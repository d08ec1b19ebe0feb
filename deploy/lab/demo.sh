#!/usr/bin/env bash
# The lab demo: what a Postern operator does first, on this machine, with the
# binaries just built: the credential chain every tunnel starts from (keys, a
# control-plane key, signed tokens and their verification), the per-packet
# crypto cost, then the whole path on loopback: a relay, a gateway in front of
# the MCP reference server (server-everything, from npm), a connector, and an
# MCP session through them with the official SDK. Ctrl-C (or the end, when not
# run from a terminal) stops everything it started.
set -euo pipefail

build=${1:?usage: demo.sh BUILD_DIR}
interop=$(cd "$(dirname "$0")/../../tests/interop" && pwd)
everything=$interop/node_modules/@modelcontextprotocol/server-everything/dist/index.js
ctl=$build/relay/posternctl
work=$(mktemp -d)
cleanup() {
	local p
	trap - EXIT INT TERM
	for p in $(jobs -p); do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
	printf '\nlab demo: stopped the relay, gateway, connector and server; removed %s\n' "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

step "8. The relay, on loopback: two workers, trusting the control-plane key"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
relay_port=$(free_port)
mcp_port=$(free_port)
local_port=$(free_port)
relay_args=(--listen "127.0.0.1:$relay_port" --workers 2 --private-key relay.key --trust @control.pub
	--control-socket "$work/relay.sock" --metrics-listen off --log-level warn)
printf '$ postern-relay %s\n' "${relay_args[*]}"
"$build/postern-relay" "${relay_args[@]}" &
for _ in $(seq 100); do "$ctl" --socket "$work/relay.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
"$ctl" pubkey relay.key >relay.pub

step "9. The gateway, inside the 'customer network': it dials out to the relay (no inbound port)"
openssl req -x509 -newkey ed25519 -nodes -days 2 -subj /CN=gateway -keyout gateway-cert.key \
	-out gateway.crt 2>/dev/null
openssl req -x509 -newkey ed25519 -nodes -days 2 -subj /CN=agent -keyout agent-cert.key \
	-out agent.crt 2>/dev/null
fp() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
PORT=$mcp_port node "$everything" streamableHttp >everything.log 2>&1 &
cat >gateway.conf <<EOF
relays = ( { address = "127.0.0.1:$relay_port"; public_key = "@$work/relay.pub"; } );
private_key = "$work/gateway.key";
token = "$work/gateway.token";
certificate = "$work/gateway.crt";
certificate_key = "$work/gateway-cert.key";
agents = [ "$(fp agent.crt)" ];
routes = ( { name = "everything"; upstream = "tcp://127.0.0.1:$mcp_port"; } );
audit_log = "$work/audit.jsonl";
log_level = "warn";
EOF
chmod 600 gateway.conf gateway-cert.key agent-cert.key
sed -n '/^routes/p' gateway.conf
"$build/endpoint/postern-gateway" -c gateway.conf 2>gateway.log &

step "10. The connector, on the agent's side: the route 'everything' as a local port"
cat >connect.conf <<EOF
relays = ( { address = "127.0.0.1:$relay_port"; public_key = "@$work/relay.pub"; } );
private_key = "$work/agent.key";
grant = "$work/agent.token";
tunnel = "crm";
gateway_fingerprint = "$(fp gateway.crt)";
certificate = "$work/agent.crt";
certificate_key = "$work/agent-cert.key";
listen = ( { route = "everything"; address = "127.0.0.1:$local_port"; } );
log_level = "warn";
EOF
chmod 600 connect.conf
sed -n '/^listen/p' connect.conf
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$mcp_port") 2>/dev/null && break
	sleep 0.1
done
"$build/endpoint/postern-connect" -c connect.conf 2>connect.log &
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$local_port") 2>/dev/null && break
	sleep 0.1
done

step "11. An MCP session through the tunnel (the official TypeScript SDK)"
printf '$ node mcp_client.mjs --url http://127.0.0.1:%s/mcp basic\n' "$local_port"
node "$interop/mcp_client.mjs" --verbose --url "http://127.0.0.1:$local_port/mcp" basic >session.json
printf 'the relay carried it without a key to read it; what it saw:\n'
"$ctl" --socket "$work/relay.sock" stats | sed -n '1,12p'
printf '\nthe gateway wrote one audit line per stream; the busiest:\n'
python3 -c 'import json,sys; print(json.dumps(max((json.loads(l) for l in open(sys.argv[1])), key=lambda a: a["bytes_down"])))' audit.jsonl

cat <<TXT

Point your own MCP client at the connector while this runs:
  Streamable HTTP URL   http://127.0.0.1:$local_port/mcp
  e.g. npx @modelcontextprotocol/inspector  (transport "Streamable HTTP", that URL)
Configuration used: $work/gateway.conf and $work/connect.conf (docs/gateway.md,
docs/connector.md explain every setting).
TXT
if [[ -t 0 ]]; then
	printf '\nPress Ctrl-C to stop the relay, gateway, connector and server.\n'
	while :; do sleep 3600; done
fi
