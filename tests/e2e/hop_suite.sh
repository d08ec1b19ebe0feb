#!/usr/bin/env bash
# End to end: the hop cipher suite (protocol.md §3.1) as the endpoints and the relay
# choose it. Relay A accepts only aesgcm (`--suite aesgcm`), relay B both; one gateway
# with hop_suite = "aesgcm" holds a session with each.
#   1. postern-connect --hop-suite aesgcm through relay A: 1 MiB of random bytes over a
#      TCP route comes back with the same SHA-256 (both ways through AES-256-GCM hops).
#   2. postern-connect at the default (chachapoly) against relay A: the relay drops its
#      handshakes unanswered, so the connector never sees relay_up and its --stdio
#      stream is refused ("no relay answered a handshake: check ..."), exit 1, within the 30 s
#      open bound; relay A's bad_header drop count rises, in `posternctl stats --json`
#      and on /metrics alike.
#   3. Meanwhile (POSTERN_HOP_SUITE=chachapoly) through relay B, whose gateway hop is
#      aesgcm: 1 MiB intact; suites are per hop, and relay B dropped no bad_header.
#   4. Started first and running throughout, two more chachapoly endpoints that list
#      relay A then relay B: a listening connector (one relay at a time) and a second
#      gateway (tunnel crm2, every relay at once). When their 90 s handshake series
#      with relay A is given up, each logs one warning, event=relay_unanswered naming
#      relay A, hop_suite=chachapoly and what to check; the connector then comes up on
#      relay B, the gateway is up there already. No endpoint that came up on a relay
#      logs relay_unanswered for it.
#
#   hs-ag-PID                    hs-relay-PID                         hs-gw-PID
#   postern-connect ─ 10.77.50.6 ─ 10.77.50.5  A :51820 (aesgcm)  10.77.50.1 ─ 10.77.50.2
#   (--stdio echo;                              B :51821 (both)                postern-gateway
#    4: --listen)                                                              (4: gateway 2)
#                                                                              └─ echo :7000
# Usage: hop_suite.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
E2E_NS_PREFIX=hs

# Two /30 links inside 10.77.50.0/24: relay–gw and relay–ag.
ns_add relay
ns_add gw
ns_add ag
veth relay 10.77.50.1/30 gw 10.77.50.2/30
veth relay 10.77.50.5/30 ag 10.77.50.6/30
RELAY_IP[gw]=10.77.50.1
RELAY_IP[ag]=10.77.50.5

pki_init
"$B/relay/posternctl" genkey -o "$P/relay-b.key"
"$B/relay/posternctl" pubkey "$P/relay-b.key" >"$P/relay-b.pub"
pki_endpoint gw gateway acme crm
pki_endpoint ag agent acme crm
pki_endpoint ag2 agent acme crm
pki_endpoint ag3 agent acme crm
pki_endpoint gw2 gateway acme crm2

C=$T/certs
mkdir -p "$C"
for id in gateway agent; do
	openssl req -x509 -newkey ed25519 -nodes -days 2 -subj "/CN=$id" \
		-keyout "$C/$id.key" -out "$C/$id.crt" 2>/dev/null
	chmod 600 "$C/$id.key"
done
fp() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum |
		cut -c1-64
}
GW_FP=$(fp "$C/gateway.crt")

cat >"$T/echo.py" <<'PY'
import socket, sys, threading
def serve(c):
    with c:
        while True:
            b = c.recv(65536)
            if not b:
                c.shutdown(socket.SHUT_WR)
                return
            c.sendall(b)
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[2], int(sys.argv[1])))
l.listen(16)
open(sys.argv[3], "w").close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
bg echo ip netns exec "$(ns gw)" python3 "$T/echo.py" 7000 10.77.50.2 "$T/echo.ready"

# relay NAME PORT KEY METRICS SUITE...: a postern-relay (socket backend) in the relay
# namespace accepting the suites named.
relay() {
	local name=$1 port=$2 key=$3 metrics=$4 s args=()
	shift 4
	for s in "$@"; do args+=(--suite "$s"); done
	bg "relay_$name" ip netns exec "$(ns relay)" "$B/postern-relay" --listen "0.0.0.0:$port" \
		--workers 1 --private-key "$key" --trust "@$P/control.pub" "${args[@]}" \
		--eal-memory-mb 64 --control-socket "$T/$name.sock" --metrics-listen "$metrics" \
		--log-level info
}
ctl() { "$B/relay/posternctl" --socket "$T/$1.sock" "${@:2}"; }
relay a 51820 "$P/relay.key" 127.0.0.1:9180 aesgcm
relay b 51821 "$P/relay-b.key" off chachapoly aesgcm
wait_for 20 ctl a status || fail "relay A did not start"
wait_for 20 ctl b status || fail "relay B did not start"
wait_for 10 test -e "$T/echo.ready" || fail "echo server did not start"

# gateway_conf FILE KEY TOKEN [LINE...]: a gateway on relays A and B with the echo route.
gateway_conf() {
	cat >"$1" <<EOF
relays = ( { address = "${RELAY_IP[gw]}:51820"; public_key = "@$P/relay.pub"; },
           { address = "${RELAY_IP[gw]}:51821"; public_key = "@$P/relay-b.pub"; } );
private_key = "$2";
token = "$3";
certificate = "$C/gateway.crt";
certificate_key = "$C/gateway.key";
agents = [ "$(fp "$C/agent.crt")" ];
routes = ( { name = "echo"; upstream = "tcp://10.77.50.2:7000"; } );
allowed_ips = [ "10.77.50.2/32" ];
EOF
	printf '%s\n' "${@:4}" >>"$1"
}

# 4 starts now: a series is given up after 90 s (protocol.md §8), so these two run
# alongside 1-3 and are checked last. hop_suite is chachapoly for both (the default).
gateway_conf "$T/gateway2.conf" "$P/gw2.key" "$P/gw2.token"
t_late=$(date +%s.%N)
bg gateway2 ip netns exec "$(ns gw)" "$B/endpoint/postern-gateway" -c "$T/gateway2.conf"
bg connect_ab ip netns exec "$(ns ag)" "$B/endpoint/postern-connect" \
	--relay "${RELAY_IP[ag]}:51820,$(cat "$P/relay.pub")" \
	--relay "${RELAY_IP[ag]}:51821,$(cat "$P/relay-b.pub")" --private-key "$P/ag3.key" \
	--grant "$P/ag3.token" --tunnel crm --gateway-fingerprint "$(fp "$C/gateway.crt")" \
	--certificate "$C/agent.crt" --certificate-key "$C/agent.key" --listen echo=127.0.0.1:17000

gateway_conf "$T/gateway.conf" "$P/gw.key" "$P/gw.token" 'hop_suite = "aesgcm";' \
	'log_level = "debug";'
"$B/endpoint/postern-gateway" -c "$T/gateway.conf" --check-config >"$T/gw-check.out" ||
	fail "gateway --check-config: $(cat "$T/gw-check.out")"
grep -q '^hop_suite = "aesgcm";' "$T/gw-check.out" ||
	fail "gateway --check-config does not show hop_suite = \"aesgcm\""
bg gateway ip netns exec "$(ns gw)" "$B/endpoint/postern-gateway" -c "$T/gateway.conf"
for port in 51820 51821; do
	wait_for 15 grep -q "event=relay_up relay=${RELAY_IP[gw]}:$port" "$T/gateway.log" ||
		fail "the aesgcm gateway never reached the relay on :$port"
done
pass "gateway (hop_suite aesgcm) up on relay A (aesgcm only) and relay B (both)"

# connect PORT RELAY_PUB HOP TIMEOUT [ARGS...]: postern-connect --stdio echo through the
# relay on PORT, hop key HOP (one per concurrent connector: a relay keeps one session
# per key), stdin → stdout, killed after TIMEOUT seconds.
connect() {
	local port=$1 pub=$2 hop=$3 limit=$4
	shift 4
	timeout "$limit" ip netns exec "$(ns ag)" "$B/endpoint/postern-connect" \
		--relay "${RELAY_IP[ag]}:$port,$(cat "$P/$pub")" --private-key "$P/$hop.key" \
		--grant "$P/$hop.token" --tunnel crm --gateway-fingerprint "$GW_FP" \
		--certificate "$C/agent.crt" --certificate-key "$C/agent.key" --log-level debug \
		"$@" --stdio echo
}
# The environment spelling reaches the effective configuration.
POSTERN_HOP_SUITE=aesgcm "$B/endpoint/postern-connect" --relay "${RELAY_IP[ag]}:51820,$(cat \
	"$P/relay.pub")" --private-key "$P/ag.key" --grant "$P/ag.token" --tunnel crm \
	--gateway-fingerprint "$GW_FP" --certificate "$C/agent.crt" \
	--certificate-key "$C/agent.key" --stdio echo --check-config >"$T/conn-check.out" ||
	fail "connector --check-config: $(cat "$T/conn-check.out")"
grep -q '^hop_suite = "aesgcm";' "$T/conn-check.out" ||
	fail "POSTERN_HOP_SUITE=aesgcm: --check-config does not show hop_suite = \"aesgcm\""
bad_header() { ctl "$1" stats --json >"$T/stats-$1.json" && json "$T/stats-$1.json" \
	'j["total"]["drops"].get("bad_header", 0)'; }
head -c 1048576 /dev/urandom >"$T/big.in"
want=$(sha256sum <"$T/big.in" | cut -c1-64)

# 1. aesgcm end to end, relay A accepting nothing else.
connect 51820 relay.pub ag 30 --hop-suite aesgcm <"$T/big.in" >"$T/big.a" \
	2>"$T/connect-aesgcm.log" || fail "aesgcm via relay A: connect exited $? \
($(tail -n 3 "$T/connect-aesgcm.log"))"
[[ $(sha256sum <"$T/big.a" | cut -c1-64) == "$want" ]] ||
	fail "aesgcm via relay A: $(stat -c %s "$T/big.a") bytes back, SHA-256 differs"
grep -q "event=relay_up relay=${RELAY_IP[ag]}:51820" "$T/connect-aesgcm.log" ||
	fail "aesgcm connector: no relay_up in its log"
pass "connector --hop-suite aesgcm → relay A (aesgcm only) → gateway aesgcm:" \
	"1 MiB echoed, SHA-256 equal"

# 2. The default suite against relay A (in the background), 3. meanwhile chachapoly
#    through relay B.
before=$(bad_header a) || fail "posternctl stats --json (relay A) failed"
t0=$(date +%s.%N)
(rc=0
connect 51820 relay.pub ag2 45 <<<"hello" >"$T/default.out" 2>"$T/connect-default.log" ||
	rc=$?
echo "$rc $(date +%s.%N)" >"$T/default.rc") &
E2E_PIDS+=($!)

POSTERN_HOP_SUITE=chachapoly connect 51821 relay-b.pub ag 30 <"$T/big.in" >"$T/big.b" \
	2>"$T/connect-chacha.log" || fail "chachapoly via relay B: connect exited $? \
($(tail -n 3 "$T/connect-chacha.log"))"
[[ $(sha256sum <"$T/big.b" | cut -c1-64) == "$want" ]] ||
	fail "chachapoly via relay B: $(stat -c %s "$T/big.b") bytes back, SHA-256 differs"
pass "connector chachapoly (POSTERN_HOP_SUITE) → relay B (both) → gateway aesgcm:" \
	"1 MiB echoed, SHA-256 equal"

wait_for 50 test -s "$T/default.rc" || fail "the default-suite connector is still running"
read -r rc t1 <"$T/default.rc"
took=$(python3 -c "print(round($t1 - $t0, 1))")
((rc == 1)) || fail "default suite via relay A: connect exited $rc after $took s, want 1 \
($(tail -n 3 "$T/connect-default.log"))"
python3 -c "import sys; sys.exit(0 if $t1 - $t0 <= 40 else 1)" ||
	fail "default suite via relay A: exit took $took s"
[[ ! -s $T/default.out ]] || fail "default suite via relay A: bytes came back"
! grep -q "event=relay_up" "$T/connect-default.log" ||
	fail "default suite via relay A: relay_up although the relay accepts aesgcm only"
grep -q 'event=stream_refused .*why="no relay answered a handshake: check .*hop_suite' \
	"$T/connect-default.log" ||
	fail "default suite via relay A: no stream_refused: $(tail -n 3 "$T/connect-default.log")"
after=$(bad_header a) || fail "posternctl stats --json (relay A) failed"
((after >= before + 2)) ||
	fail "relay A's bad_header went from $before to $after, want the retried INITs counted"
[[ $(http_get relay 9180 /metrics "$T/metrics-a.txt") == 200 ]] || fail "relay A /metrics"
m=$(metric_sum "$T/metrics-a.txt" postern_relay_dropped_packets_total reason=bad_header)
# 4's endpoints keep sending relay A INITs: /metrics lies between two stats reads.
after2=$(bad_header a) || fail "posternctl stats --json (relay A) failed"
((after <= m && m <= after2)) ||
	fail "relay A /metrics has bad_header $m, posternctl stats $after then $after2"
why=$(grep -o 'why="[^"]*"' "$T/connect-default.log" | tail -1)
pass "default suite (chachapoly) vs relay A: exit 1 in $took s, stream_refused $why;" \
	"relay A bad_header $before → $after (/metrics: $m)"

b=$(bad_header b) || fail "posternctl stats --json (relay B) failed"
((b == 0)) || fail "relay B dropped $b packets as bad_header"
pass "relay B (both suites) dropped nothing as bad_header"

# 4. The endpoints refused by relay A since the start: one warning each, naming relay A.
# unanswered LOG ADDR CREDENTIAL: LOG has one relay_unanswered line for relay ADDR, the
# warning with the suite, the INITs its series sent and the hint naming CREDENTIAL.
# Prints the attempts.
unanswered() {
	local log=$1 addr=$2 cred=$3 lines n
	lines=$(grep -c "event=relay_unanswered relay=$addr " "$log") || true
	((lines == 1)) || fail "$(basename "$log"): $lines relay_unanswered lines for $addr, want 1"
	grep -q "^warn: event=relay_unanswered relay=$addr attempts=[0-9]* hop_suite=chachapoly \
hint=\"no handshake answered in 90 s: check that the relay runs and is reachable over UDP, \
that its public_key is the one pinned here, that it accepts hop_suite chachapoly and this \
$cred\"$" "$log" || fail "$(basename "$log"): not the warning wanted: \
$(grep "event=relay_unanswered" "$log")"
	n=$(grep -o "event=relay_unanswered relay=$addr attempts=[0-9]*" "$log" | cut -d= -f4)
	# 90 s of INITs every 5 s + 0..333 ms: 17 or 18 (fewer if the loop ran late).
	((n >= 2 && n <= 19)) || fail "$(basename "$log"): attempts=$n for a 90 s series"
	echo "$n"
}
wait_for 80 grep -q "event=relay_up relay=${RELAY_IP[ag]}:51821" "$T/connect_ab.log" ||
	fail "the connector refused by relay A never moved to relay B: \
$(tail -n 3 "$T/connect_ab.log")"
wait_for 10 grep -q "event=relay_unanswered" "$T/gateway2.log" ||
	fail "gateway 2: no relay_unanswered for relay A: $(tail -n 3 "$T/gateway2.log")"
took=$(python3 -c "print(round($(date +%s.%N) - $t_late, 1))")
n_conn=$(unanswered "$T/connect_ab.log" "${RELAY_IP[ag]}:51820" "connector's grant")
n_gw=$(unanswered "$T/gateway2.log" "${RELAY_IP[gw]}:51820" "gateway's token")
# The warning comes before the move; relay A was never up for either.
grep "event=relay_" "$T/connect_ab.log" | head -n 2 | tr '\n' ' ' | grep -q \
	"relay_unanswered relay=${RELAY_IP[ag]}:51820 .*relay_up relay=${RELAY_IP[ag]}:51821" ||
	fail "connector: want relay_unanswered (A), then relay_up (B): \
$(grep "event=relay_" "$T/connect_ab.log")"
grep -q "event=relay_up relay=${RELAY_IP[gw]}:51821" "$T/gateway2.log" ||
	fail "gateway 2: not up on relay B"
! grep -q "event=relay_up relay=${RELAY_IP[gw]}:51820" "$T/gateway2.log" ||
	fail "gateway 2: relay_up on relay A, which takes aesgcm only"
pass "chachapoly endpoints vs relay A: one relay_unanswered warning each after $took s" \
	"(connector attempts=$n_conn, then up on relay B; gateway attempts=$n_gw, up on B)"

for log in connect-aesgcm connect-chacha gateway; do
	! grep -q "event=relay_unanswered" "$T/$log.log" ||
		fail "$log came up, yet logged: $(grep "event=relay_unanswered" "$T/$log.log")"
done
pass "no relay_unanswered from the endpoints that came up (connectors 1 and 3, gateway)"
