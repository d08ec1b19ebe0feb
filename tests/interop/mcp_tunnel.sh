#!/usr/bin/env bash
# MCP through the tunnel, with software nobody here wrote: the official MCP
# TypeScript SDK's client and the reference server-everything (pinned in
# tests/interop/package-lock.json), through postern-relay + postern-gateway +
# postern-connect in network namespaces.
#
#   agent ns: SDK client → postern-connect ══UDP══▶ relay ns: postern-relay
#   gw ns:    postern-gateway → server-everything / the probe server (loopback)
#
# Scenarios (tests/interop/mcp_client.mjs says what each one asserts):
#   http      Streamable HTTP: initialize, tools/list, echo, get-sum, a long tool
#             with progress, resources/list and read
#   stdio     the same with the gateway launching server-everything over stdio
#             and the client launching `postern-connect --stdio`
#   many      50 concurrent SDK clients
#   large     a 10 MB tool result, over HTTP and over stdio
#   cancel    a client cancels mid-call and the server sees it (HTTP and stdio)
#   failover  the relay is SIGKILLed during a long call and restarted: the call
#             still completes, and was run once
#
# Usage: mcp_tunnel.sh BUILD_DIR [BACKEND]   BACKEND: socket (default) or dpdk
source "$(dirname "$0")/../e2e/lib.sh"
e2e_init "$@"
backend=${2:-socket}
here=$(cd "$(dirname "$0")" && pwd)
modules=$here/node_modules
everything=$modules/@modelcontextprotocol/server-everything/dist/index.js
[[ -f $everything ]] || { echo "mcp_tunnel: npm packages missing: run ./lab test interop"; exit 77; }
node=$(command -v node)

case $backend in
socket) star gw agent ;;
dpdk) dpdk_net gw agent ;;
*) fail "backend '$backend': socket or dpdk" ;;
esac
pki_init
pki_endpoint gateway gateway acme crm
pki_endpoint agent agent acme crm
# The relay keeps one session per endpoint key (protocol.md §3.5): the stdio
# connectors the client launches get a key and grant of their own, so they do
# not take the listening connector's session away.
pki_endpoint agent-stdio agent acme crm
relay_ip=${RELAY_IP[gw]}
agent_relay=${RELAY_IP[agent]}

# E2E identities: self-signed Ed25519 certificates; the pin is the SHA-256 of
# the DER SubjectPublicKeyInfo (docs/protocol.md §10).
cert() {
	openssl req -x509 -newkey ed25519 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$P/$1-cert.key" -out "$P/$1.crt" 2>/dev/null
	chmod 600 "$P/$1-cert.key"
}
fingerprint() {
	openssl x509 -in "$P/$1.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
		sha256sum | cut -d' ' -f1
}
cert gateway
cert agent

# --- the relay ---------------------------------------------------------------------
dpdk_conf=""
[[ $backend == dpdk ]] && dpdk_conf="dpdk = { idle = \"sleep\"; ports = ( $DPDK_PORT ); };"
cat >"$T/relay.conf" <<EOF
listen = [ "0.0.0.0:51820" ];
workers = 2;
backend = "$backend";
private_key = "$P/relay.key";
trusted_keys = [ "@$P/control.pub" ];
control_socket = "$T/relay.sock";
metrics_listen = "off";
eal = { memory_mb = 256; args = [ "--file-prefix=pst-interop-$$" ]; };
$dpdk_conf
log_level = "info";
EOF
start_relay() {
	ip netns exec "$(ns relay)" "$B/postern-relay" -c "$T/relay.conf" >>"$T/relay.log" 2>&1 &
	E2E_PIDS+=($!)
	PID_relay=$!
	wait_for 20 "$B/relay/posternctl" --socket "$T/relay.sock" status ||
		fail "the relay did not start"
}
start_relay
pass "relay up ($backend backend)"

# --- servers and the gateway, in gw's namespace ------------------------------------
ip netns exec "$(ns gw)" env PORT=3001 "$node" "$everything" streamableHttp >"$T/everything.log" 2>&1 &
E2E_PIDS+=($!)
ip netns exec "$(ns gw)" "$node" "$here/probe_server.mjs" http 3002 >"$T/probe.log" 2>&1 &
E2E_PIDS+=($!)

cat >"$T/gateway.conf" <<EOF
relays = ( { address = "$relay_ip:51820"; public_key = "@$P/relay.pub"; } );
private_key = "$P/gateway.key";
token = "$P/gateway.token";
certificate = "$P/gateway.crt";
certificate_key = "$P/gateway-cert.key";
agents = [ "$(fingerprint agent)" ];
routes = (
  { name = "everything"; upstream = "tcp://127.0.0.1:3001"; },
  { name = "probe"; upstream = "tcp://127.0.0.1:3002"; },
  { name = "everything-stdio"; command = [ "$node", "$everything", "stdio" ];
    env = [ "PATH=/usr/bin:/bin" ]; },
  { name = "probe-stdio"; command = [ "$node", "$here/probe_server.mjs", "stdio" ];
    env = [ "PATH=/usr/bin:/bin" ]; }
);
shutdown_timeout = 5;
audit_log = "$T/audit.jsonl";
log_level = "info";
EOF
chmod 600 "$T/gateway.conf"
bg gateway ip netns exec "$(ns gw)" "$B/endpoint/postern-gateway" -c "$T/gateway.conf"

cat >"$T/connect.conf" <<EOF
relays = ( { address = "$agent_relay:51820"; public_key = "@$P/relay.pub"; } );
private_key = "$P/agent.key";
grant = "$P/agent.token";
tunnel = "crm";
gateway_fingerprint = "$(fingerprint gateway)";
certificate = "$P/agent.crt";
certificate_key = "$P/agent-cert.key";
listen = (
  { route = "everything"; address = "127.0.0.1:13001"; },
  { route = "probe"; address = "127.0.0.1:13002"; }
);
log_level = "info";
EOF
chmod 600 "$T/connect.conf"
bg connect ip netns exec "$(ns agent)" "$B/endpoint/postern-connect" -c "$T/connect.conf"

wait_for 30 ip netns exec "$(ns gw)" bash -c 'exec 3<>/dev/tcp/127.0.0.1/3001' ||
	fail "server-everything did not start"
wait_for 30 ip netns exec "$(ns agent)" bash -c 'exec 3<>/dev/tcp/127.0.0.1/13001' ||
	fail "postern-connect is not listening"

client() {	# NAME ARGS...: run mcp_client.mjs in the agent's namespace, JSON to $T/NAME.json
	local name=$1
	shift
	ip netns exec "$(ns agent)" "$node" "$here/mcp_client.mjs" "$@" >"$T/$name.json" \
		2>"$T/$name.log" || fail "$name: $(tail -n 3 "$T/$name.log")"
}
sed -e "s|$P/agent.key|$P/agent-stdio.key|" -e "s|$P/agent.token|$P/agent-stdio.token|" \
	-e '/^listen = (/,/^);/d' "$T/connect.conf" >"$T/connect-stdio.conf"
chmod 600 "$T/connect-stdio.conf"
connect_stdio=("$B/endpoint/postern-connect" -c "$T/connect-stdio.conf" --stdio)

client http --url http://127.0.0.1:13001/mcp basic
pass "http: $(json "$T/http.json" '"%d tools, %s / %s, %d progress notifications, %d resources" % (j["basic"]["tools"], j["basic"]["echo"], j["basic"]["sum"], j["basic"]["progress"], j["basic"]["resources"])')"

client stdio --stdio -- "${connect_stdio[@]}" everything-stdio ';;' basic
pass "stdio: $(json "$T/stdio.json" '"%d tools, %s, %d progress notifications" % (j["basic"]["tools"], j["basic"]["sum"], j["basic"]["progress"])')"

client many --url http://127.0.0.1:13001/mcp --clients 50 many
pass "many: $(json "$T/many.json" '"%d of %d clients answered, p50 %d ms, max %d ms" % (j["many"]["ok"], j["many"]["clients"], j["many"]["p50_ms"], j["many"]["max_ms"])')"

client large-http --url http://127.0.0.1:13002/mcp large
client large-stdio --stdio -- "${connect_stdio[@]}" probe-stdio ';;' large
pass "large: 10 MB results intact over HTTP ($(json "$T/large-http.json" 'j["large"]["ms"]') ms) and stdio ($(json "$T/large-stdio.json" 'j["large"]["ms"]') ms)"

client cancel-http --url http://127.0.0.1:13002/mcp cancel
client cancel-stdio --stdio -- "${connect_stdio[@]}" probe-stdio ';;' cancel
grep -q "cancelled" "$T/probe.log" || fail "the HTTP probe server logged no cancellation"
pass "cancel: the server saw the client's cancellation (HTTP and stdio)"

# --- failover: SIGKILL the relay during a long call, restart it --------------------
ip netns exec "$(ns agent)" "$node" "$here/mcp_client.mjs" --url http://127.0.0.1:13002/mcp \
	--seconds 25 --id failover-$$ long >"$T/long.json" 2>"$T/long.log" &
long=$!
sleep 5
kill -KILL "$PID_relay"
wait "$PID_relay" 2>/dev/null || true
sleep 2
start_relay
rc=0
wait "$long" || rc=$?
((rc == 0)) || fail "the long call failed across the relay restart: $(tail -n 3 "$T/long.log")"
grep -q 'event=channel_open .*resume=1' "$T/connect.log" ||
	fail "the connector never resumed its QUIC connection: was the relay really lost?"
gap=$(grep -o 'resume=1 gap_ms=[0-9]*' "$T/connect.log" | tail -1 | cut -d= -f3)
runs=$(grep -c "slow failover-$$ started" "$T/probe.log" || true)
((runs == 1)) || fail "the long call ran $runs times on the server"
pass "failover: the 25 s call completed once across a relay SIGKILL and restart (carrier gap ${gap} ms, $(json "$T/long.json" 'j["long"]["progress"]') progress notifications, $(json "$T/long.json" 'j["long"]["ms"]') ms)"

# --- the audit log: one line per stream ----------------------------------------------
python3 - "$T/audit.jsonl" <<'PY' || fail "audit log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
routes = {l["route"] for l in lines}
assert {"everything", "probe", "everything-stdio", "probe-stdio"} <= routes, routes
assert all(l["bytes_up"] > 0 and l["bytes_down"] > 0 for l in lines if l["route"] == "probe-stdio")
print(f"ok: audit: {len(lines)} stream lines over routes {sorted(routes)}")
PY

kill -TERM "$PID_connect" "$PID_gateway"
wait "$PID_gateway" || fail "gateway exit status $? after SIGTERM"
pass "gateway stopped cleanly"
