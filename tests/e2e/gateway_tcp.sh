#!/usr/bin/env bash
# End to end: postern-connect (stdio) → postern-relay → postern-gateway → a TCP
# echo server and a command (cat), each side in its own namespace. Bytes come
# back intact; allowed_ips, unknown routes and unknown agents are refused with
# their reasons logged; every stream has its audit line; SIGTERM ends the
# gateway cleanly (exit 0). A packet sniffer in the relay's namespace sees every
# frame the relay sends and receives, and never the marker the agent sent in
# clear (the relay cannot read E2E bytes), while the same sniffer on the
# gateway's loopback, where the upstream gets it in clear, does see it.
#
#   pst-ag-PID                       pst-relay-PID                pst-gw-PID
#   postern-connect ── 10.77.2.2 ── 10.77.2.1  postern-relay  10.77.1.1 ── 10.77.1.2  postern-gateway
#   --stdio ROUTE                   :51820 + sniffer (all ifaces)                    │ lo + sniffer
#                                                                                    ├─ echo 10.77.1.2:7000
#                                                                                    └─ /bin/cat (route cat)
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

star gw ag
pki_init
pki_endpoint gw gateway acme crm
pki_endpoint ag agent acme crm
pki_endpoint ag2 agent acme crm

# E2E identities: the gateway's, an admitted agent's, and a stranger's.
C=$T/certs
mkdir -p "$C"
for id in gateway agent stranger; do
	openssl req -x509 -newkey ed25519 -nodes -days 2 -subj "/CN=$id" \
		-keyout "$C/$id.key" -out "$C/$id.crt" 2>/dev/null
	chmod 600 "$C/$id.key"
done
fp() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64; }
GW_FP=$(fp "$C/gateway.crt")
AGENT_FP=$(fp "$C/agent.crt")

# The upstream: a TCP echo server that half-closes after the client does.
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
l.bind((sys.argv[3], int(sys.argv[1])))
l.listen(16)
open(sys.argv[2], "w").close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# A sniffer: every frame on every interface of its namespace (AF_PACKET), counted
# and searched for the marker; a summary in JSON on SIGTERM.
cat >"$T/sniff.py" <<'PY'
import json, signal, socket, struct, sys
marker, ready, out = sys.argv[1].encode(), sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.settimeout(0.2)
st = {"frames": 0, "udp_51820": 0, "bytes": 0, "marker_hits": 0}
done = False
def stop(*_):
    global done
    done = True
signal.signal(signal.SIGTERM, stop)
open(ready, "w").close()
while not done:
    try:
        f = s.recv(65535)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    st["frames"] += 1
    st["bytes"] += len(f)
    if f[12:14] == b"\x08\x00" and f[23] == 17:          # IPv4, UDP
        ihl = (f[14] & 15) * 4
        sport, dport = struct.unpack("!HH", f[14 + ihl:18 + ihl])
        if 51820 in (sport, dport):
            st["udp_51820"] += 1
    if marker in f:
        st["marker_hits"] += 1
json.dump(st, open(out, "w"))
PY

MARKER="POSTERN-E2E-MARKER-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
MARKER=${MARKER:0:64}
((${#MARKER} == 64)) || fail "marker is ${#MARKER} bytes"

bg relay ip netns exec "$(ns relay)" "$B/postern-relay" --listen 0.0.0.0:51820 --workers 1 \
	--private-key "$P/relay.key" --trust "@$P/control.pub" --stats-file "$T/stats.json" \
	--control-socket "$T/relay.sock" --metrics-listen off --log-level info
wait_for 10 test -s "$T/stats.json" || fail "relay did not start"
bg sniff_relay ip netns exec "$(ns relay)" python3 "$T/sniff.py" "$MARKER" "$T/sniff_relay.ready" \
	"$T/sniff_relay.json"
bg sniff_gw ip netns exec "$(ns gw)" python3 "$T/sniff.py" "$MARKER" "$T/sniff_gw.ready" \
	"$T/sniff_gw.json"
bg echo ip netns exec "$(ns gw)" python3 "$T/echo.py" 7000 "$T/echo.ready" 10.77.1.2
wait_for 10 test -e "$T/echo.ready" -a -e "$T/sniff_relay.ready" -a -e "$T/sniff_gw.ready" ||
	fail "echo server or sniffers did not start"

# Only the gateway's own address is allowed; "localhost" is a name, checked
# when the stream opens against what it resolves to (127.0.0.1: refused).
cat >"$T/gateway.conf" <<EOF
relays = ( { address = "${RELAY_IP[gw]}:51820"; public_key = "@$P/relay.pub"; } );
private_key = "$P/gw.key";
token = "$P/gw.token";
certificate = "$C/gateway.crt";
certificate_key = "$C/gateway.key";
agents = [ "$AGENT_FP" ];
routes = (
  { name = "echo"; upstream = "tcp://10.77.1.2:7000"; },
  { name = "sneaky"; upstream = "tcp://localhost:7000"; },
  { name = "closed"; upstream = "tcp://10.77.1.2:7009"; },
  { name = "cat"; command = [ "/bin/cat" ]; env = [ "PATH=/usr/bin:/bin" ]; }
);
allowed_ips = [ "10.77.1.2/32" ];
shutdown_timeout = 5;
audit_log = "$T/audit.log";
log_level = "debug";
EOF
"$B/endpoint/postern-gateway" -c "$T/gateway.conf" --check-config >"$T/check.out" ||
	fail "--check-config: $(cat "$T/check.out")"
grep -q "$GW_FP" "$T/check.out" || fail "--check-config does not show the fingerprint $GW_FP"
bg gateway ip netns exec "$(ns gw)" "$B/endpoint/postern-gateway" -c "$T/gateway.conf"
wait_for 10 grep -q "event=relay_up" "$T/gateway.log" || fail "gateway never reached the relay"
pass "gateway up: --check-config shows its fingerprint, the relay session is up"

# connect ID ROUTE: postern-connect --stdio ROUTE as agent certificate ID (stdin → stdout),
# with the hop identity $HOP (default ag; two connectors at once need two: the relay keeps
# one session per key).
connect() {
	local id=$1 route=$2 hop=${HOP:-ag}
	timeout 30 ip netns exec "$(ns ag)" "$B/endpoint/postern-connect" \
		--relay "${RELAY_IP[ag]}:51820,$(cat "$P/relay.pub")" --private-key "$P/$hop.key" \
		--grant "$P/$hop.token" --tunnel crm --gateway-fingerprint "$GW_FP" \
		--certificate "$C/$id.crt" --certificate-key "$C/$id.key" --log-level debug \
		--stdio "$route"
}

# 1. The marker, alone, through the echo route.
printf '%s' "$MARKER" | connect agent echo >"$T/marker.out" 2>"$T/connect-marker.log" ||
	fail "echo of the marker: connect exited $? ($(tail -n 3 "$T/connect-marker.log"))"
[[ $(cat "$T/marker.out") == "$MARKER" ]] || fail "marker came back as '$(cat "$T/marker.out")'"
pass "64-byte marker echoed through relay and gateway"

# 2. One MiB of random bytes through TCP and through a command.
head -c 1048576 /dev/urandom >"$T/big.in"
for route in echo cat; do
	connect agent "$route" <"$T/big.in" >"$T/big.$route" 2>"$T/connect-big-$route.log" ||
		fail "1 MiB via $route: connect failed ($(tail -n 3 "$T/connect-big-$route.log"))"
	cmp -s "$T/big.in" "$T/big.$route" ||
		fail "1 MiB via $route: $(stat -c %s "$T/big.$route") bytes back, not identical"
done
pass "1 MiB echoed intact via tcp (echo) and stdio (cat) routes"

# 3. Refusals: allowed_ips, a refused connect, an unknown route, an unknown agent.
refused() {
	local id=$1 route=$2 what=$3
	if echo hi | connect "$id" "$route" >"$T/refused-$route-$id.out" \
		2>"$T/refused-$route-$id.log"; then
		fail "$what: the connector succeeded"
	fi
	[[ ! -s "$T/refused-$route-$id.out" ]] || fail "$what: bytes came back"
}
refused agent sneaky "route outside allowed_ips"
wait_for 5 grep -q 'event=stream_refused route=sneaky .*reason=not_allowed why="[^"]*127.0.0.1 is not in allowed_ips' \
	"$T/gateway.log" || fail "no not_allowed log line for localhost"
pass "route resolving outside allowed_ips refused: $(grep -o 'why="[^"]*"' "$T/gateway.log" | grep 127.0.0.1 | head -1)"
refused agent closed "upstream not listening"
wait_for 5 grep -q "event=stream_end route=closed .*reason=upstream_refused" "$T/gateway.log" ||
	fail "no upstream_refused for the closed port"
pass "upstream that refuses the connection → upstream_refused"
refused agent nosuch "unknown route"
wait_for 5 grep -Eq "route=nosuch.*reason=unknown_route|reason=unknown_route route=nosuch" \
	"$T/gateway.log" || fail "no unknown_route log line"
pass "unknown route refused"
refused stranger echo "agent certificate not in agents"
wait_for 5 grep -q "event=agent_refused agent=$(fp "$C/stranger.crt")" "$T/gateway.log" ||
	fail "the stranger's refusal is not logged with its fingerprint"
pass "agent certificate not in agents refused and logged by fingerprint"

# 4. Audit lines: one per stream, with byte counts.
python3 - "$T/audit.log" <<'PY' || fail "audit log: $(cat "$T/audit.log")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for l in lines:
    by.setdefault((l["route"], l["reason"]), []).append(l)
m = by[("echo", "fin")]
assert any(l["bytes_up"] == 64 and l["bytes_down"] == 64 for l in m), m
for r in ("echo", "cat"):
    assert any(l["bytes_up"] == 1048576 == l["bytes_down"] for l in by[(r, "fin")]), r
assert by[("sneaky", "not_allowed")][0]["detail"].find("127.0.0.1") >= 0
assert ("closed", "upstream_refused") in by
for l in lines:
    assert len(l["agent"]) == 64 and l["principal"].startswith("acme/"), l
    assert l["relay"].startswith("10.77.1.1:"), l
print(f"ok: {len(lines)} audit lines, reasons {sorted(set(k[1] for k in by))}")
PY

# SIGHUP reopens the audit log (after a rotation moved it): later lines go to a new file.
mv "$T/audit.log" "$T/audit.log.1"
kill -HUP "$PID_gateway"
wait_for 5 grep -q "event=audit_reopened" "$T/gateway.log" || fail "no audit_reopened after SIGHUP"
wait_for 5 test -e "$T/audit.log" || fail "SIGHUP did not create a new audit log"
pass "SIGHUP reopened the audit log"

# 5. The relay never saw the marker; the gateway's loopback did (the sniffer works).
kill -TERM "$PID_sniff_relay" "$PID_sniff_gw"
wait "$PID_sniff_relay" "$PID_sniff_gw" || true
python3 - "$T/sniff_relay.json" "$T/sniff_gw.json" <<'PY' || fail "sniffers: $(cat "$T"/sniff_*.json)"
import json, sys
r, g = (json.load(open(f)) for f in sys.argv[1:3])
assert r["udp_51820"] >= 1000, r     # 2 MiB each way passed through it
assert r["marker_hits"] == 0, r
assert g["marker_hits"] >= 1, g
print(f"ok: relay namespace: {r['frames']} frames ({r['bytes']} bytes), marker seen 0 times; "
      f"gateway loopback: marker seen {g['marker_hits']} times")
PY

# 6. SIGTERM with two streams open: A finishes within shutdown_timeout (5 s) and
#    ends "fin"; B is held open, cut at the timeout ("shutdown"); then exit 0.
for x in a b; do
	mkfifo "$T/$x.in"
	hop=ag
	[[ $x == b ]] && hop=ag2
	(if HOP=$hop connect agent echo <"$T/$x.in" >"$T/$x.out" 2>"$T/connect-$x.log"; then
		echo 0 >"$T/$x.rc"
	else
		echo $? >"$T/$x.rc"
	fi) &
	E2E_PIDS+=($!)
done
exec 4>"$T/a.in" 5>"$T/b.in"
printf 'a1\n' >&4
printf 'b1\n' >&5
wait_for 10 grep -q a1 "$T/a.out" || fail "stream A: no echo"
wait_for 10 grep -q b1 "$T/b.out" || fail "stream B: no echo"
t0=$(date +%s.%N)
kill -TERM "$PID_gateway"
wait_for 5 grep -q "event=shutdown signal=TERM streams=2" "$T/gateway.log" ||
	fail "no shutdown line with 2 streams"
printf 'a2\n' >&4
wait_for 4 grep -q a2 "$T/a.out" || fail "stream A stopped working after SIGTERM"
exec 4>&-
wait_for 4 test -s "$T/a.rc" || fail "stream A did not end after its FIN"
[[ $(cat "$T/a.rc") == 0 ]] || fail "connector A exited $(cat "$T/a.rc")"
pass "after SIGTERM an open stream still carries bytes and ends cleanly"
rc=0
wait "$PID_gateway" || rc=$?
t1=$(date +%s.%N)
exec 5>&-
((rc == 0)) || fail "gateway exited $rc after SIGTERM"
python3 -c "import sys; d = $t1 - $t0; sys.exit(0 if 4.5 <= d <= 9 else 1)" ||
	fail "gateway exited $(python3 -c "print(round($t1 - $t0, 1))") s after SIGTERM, want ~5 s"
grep -q "event=shutdown_timeout streams=1" "$T/gateway.log" || fail "no shutdown_timeout line"
grep -q "event=stopped" "$T/gateway.log" || fail "no event=stopped line"
python3 - "$T/audit.log" <<'PY' || fail "audit after shutdown: $(tail -n 2 "$T/audit.log")"
import json, sys
tail = [json.loads(l) for l in open(sys.argv[1])]
assert len(tail) == 2, tail          # the file SIGHUP opened holds exactly these two
by = {l["reason"]: l for l in tail}
assert by["fin"]["bytes_up"] == 6 and by["fin"]["bytes_down"] == 6, tail
assert by["shutdown"]["bytes_up"] == 3 and by["shutdown"]["duration_ms"] >= 4500, tail
PY
wait_for 10 test -s "$T/b.rc" || fail "connector B still running"
[[ $(cat "$T/b.rc") != 0 ]] || fail "connector B exited 0 although its stream was cut"
pass "SIGTERM: the held stream was cut at shutdown_timeout (audit: shutdown), gateway exited 0"
