#!/usr/bin/env bash
# End to end: postern-connect reaches a TCP echo service behind postern-gateway
# through postern-relay, over one E2E QUIC connection that survives the relay
# (docs/connector.md, protocol.md §10.5).
#   (a) 20 concurrent TCP clients through the connector's listener, 1 MB each,
#       echoed intact;
#   (b) --stdio: stdin to the route, the echo on stdout, exit 0 at the end;
#   (c) relay A killed (SIGKILL) under a stream of numbered request lines at
#       ~200/s and started again 2 s later: every request answered exactly
#       once and in order, the connection resumed (RESUME) on the new relay;
#   (e) a wrong gateway fingerprint, a tunnel outside the grant (at start) and
#       a tunnel no gateway serves (at run time) end with exit 1 and a clear
#       message;
#   (d) `posternctl drain` on relay A while a second connector (relays A, B)
#       streams requests: it moves to B, nothing is lost;
#   (f) the gateway restarted: RESUME_UNKNOWN, a new connection, service again;
#   then SIGTERM: the connectors exit 0, one log line per stream.
#
#   pst-gw-PID                 pst-relay-PID                pst-ag-PID
#   postern-gateway 10.77.1.2 ── 10.77.1.1 relay A :51820 ── 10.77.2.2 postern-connect ×2
#   (relays A, B;                10.77.2.1 relay B :51821              (:15000 echo, :15001
#    routes echo, refused)                                               refused; :15200 echo)
#   python3 echo :7000                                                 python3 test clients
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

# POSTERN_CONNECT: another build of the connector (e.g. with sanitizers) to test.
CONNECT=${POSTERN_CONNECT:-$B/endpoint/postern-connect}
GATEWAY=$B/endpoint/postern-gateway
PREFIX_A=pst-cf-a-$$
PREFIX_B=pst-cf-b-$$
connect_cleanup() {
	local rc=$?
	set +e		# hand e2e_cleanup the test's status in $?
	rm -rf "/var/run/dpdk/$PREFIX_A" "/var/run/dpdk/$PREFIX_B"
	# CONNECT_FAILOVER_LOGS=DIR keeps every log and summary, for a look afterwards.
	if [[ -n ${CONNECT_FAILOVER_LOGS:-} && -n ${T:-} ]]; then
		mkdir -p "$CONNECT_FAILOVER_LOGS" && cp "$T"/*.log "$T"/*.json "$CONNECT_FAILOVER_LOGS"
	fi
	(exit $rc)
	e2e_cleanup
}
trap connect_cleanup EXIT

star gw ag
relay_ip=${RELAY_IP[ag]}

pki_init
"$B/relay/posternctl" genkey -o "$P/relay-b.key"
"$B/relay/posternctl" pubkey "$P/relay-b.key" >"$P/relay-b.pub"
pki_endpoint gw gateway acme crm
# One hop key per connector that runs at the same time: the relay keeps one
# session per static key (protocol.md §3.5), so two processes sharing a key
# would take the session from each other.
for a in ag ag-stdio ag2 ag-fp; do pki_endpoint "$a" agent acme crm; done
pki_endpoint ag-narrow agent acme billing
pki_endpoint ag-star agent acme '*'

# E2E identities: self-signed Ed25519 certificates; a fingerprint is the SHA-256
# of the DER SubjectPublicKeyInfo (protocol.md §10.2).
cert() {
	openssl req -x509 -newkey ed25519 -nodes -days 30 -subj "/CN=$1" \
		-keyout "$P/$1-cert.key" -out "$P/$1.crt" 2>/dev/null
	chmod 600 "$P/$1-cert.key"
}
fp_of() {
	openssl x509 -in "$P/$1.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
		sha256sum | cut -c1-64
}
cert gateway
cert agent
cert stranger
GW_FP=$(fp_of gateway)
WRONG_FP=$(fp_of stranger)

# --- relays, gateway, echo upstream -------------------------------------------------
ctl_a() { "$B/relay/posternctl" --socket "$T/a.sock" "$@"; }
ctl_b() { "$B/relay/posternctl" --socket "$T/b.sock" "$@"; }
# relay NAME PORT KEY PREFIX: one postern-relay (socket backend) in the relay namespace.
relay() {
	rm -f "$T/$1.sock"
	bg "relay_$1" ip netns exec "$(ns relay)" "$B/postern-relay" --listen "0.0.0.0:$2" \
		--workers 1 --private-key "$3" --trust "@$P/control.pub" --eal-memory-mb 64 \
		--eal-arg "--file-prefix=$4" --control-socket "$T/$1.sock" --metrics-listen off \
		--drain-ms 20000 --log-level info
}
relay a 51820 "$P/relay.key" "$PREFIX_A"
relay b 51821 "$P/relay-b.key" "$PREFIX_B"
wait_for 20 ctl_a status || fail "relay A did not start"
wait_for 20 ctl_b status || fail "relay B did not start"

cat >"$T/echo.py" <<'PY'
import socket, socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            b = self.request.recv(65536)
            if not b:
                break
            self.request.sendall(b)
        self.request.shutdown(socket.SHUT_WR)
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
Server(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
PY
bg echo ip netns exec "$(ns gw)" python3 "$T/echo.py" 7000

# The agent's fingerprint as the connector itself reports it (--check-config).
conn_conf() {	# FILE RELAY_LINES NAME TUNNEL FINGERPRINT: NAME's key and grant
	cat >"$1" <<EOF
relays = ( $2 );
private_key = "$P/$3.key";
grant = "$P/$3.token";
tunnel = "$4";
gateway_fingerprint = "$5";
certificate = "$P/agent.crt";
certificate_key = "$P/agent-cert.key";
listen = (
  { route = "echo"; address = "127.0.0.1:15000"; },
  { route = "refused"; address = "127.0.0.1:15001"; }
);
EOF
}
RELAY_A="{ address = \"$relay_ip:51820\"; public_key = \"@$P/relay.pub\"; }"
RELAY_B="{ address = \"$relay_ip:51821\"; public_key = \"@$P/relay-b.pub\"; }"
conn_conf "$T/connect.conf" "$RELAY_A" ag crm "$GW_FP"
conn_conf "$T/stdio.conf" "$RELAY_A" ag-stdio crm "$GW_FP"
"$CONNECT" -c "$T/connect.conf" --check-config >"$T/check.out" ||
	fail "postern-connect --check-config: $(cat "$T/check.out")"
AG_FP=$(sed -n "s/^# this agent's fingerprint.*: \([0-9a-f]\{64\}\)$/\1/p" "$T/check.out")
[[ $AG_FP == "$(fp_of agent)" ]] ||
	fail "--check-config fingerprint '$AG_FP' is not the certificate's $(fp_of agent)"
pass "postern-connect --check-config prints the agent's fingerprint $AG_FP"

cat >"$T/gateway.conf" <<EOF
relays = (
  { address = "${RELAY_IP[gw]}:51820"; public_key = "@$P/relay.pub"; },
  { address = "${RELAY_IP[gw]}:51821"; public_key = "@$P/relay-b.pub"; }
);
private_key = "$P/gw.key";
token = "$P/gw.token";
certificate = "$P/gateway.crt";
certificate_key = "$P/gateway-cert.key";
agents = [ "$AG_FP" ];
routes = (
  { name = "echo"; upstream = "tcp://127.0.0.1:7000"; },
  { name = "refused"; upstream = "tcp://127.0.0.1:7009"; }
);
shutdown_timeout = 5;
log_level = "info";
EOF
bg gateway ip netns exec "$(ns gw)" "$GATEWAY" -c "$T/gateway.conf"
status_is() {	# SOCK EXPR: EXPR holds over `posternctl status --json`
	"$B/relay/posternctl" --socket "$1" status --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
sys.exit(not eval(sys.argv[1]))' "$2"
}
wait_for 15 status_is "$T/a.sock" 'j["sessions"] >= 1' || fail "the gateway did not reach A"
wait_for 15 status_is "$T/b.sock" 'j["sessions"] >= 1' || fail "the gateway did not reach B"
pass "postern-gateway has a hop session with relays A and B"

bg connect ip netns exec "$(ns ag)" "$CONNECT" -c "$T/connect.conf"
PID_c1=$PID_connect
wait_for 20 grep -q 'event=connected' "$T/connect.log" ||
	fail "the connector's QUIC connection did not come up"
pass "connector: channel accepted, QUIC handshake with the pinned gateway done"

# --- (a) 20 concurrent clients, 1 MB each ---------------------------------------------
cat >"$T/bulk.py" <<'PY'
import random, socket, sys, threading
port, n, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
res = [None] * n
def one(i):
    data = random.Random(i).randbytes(size)
    got = bytearray()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        def rd():
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got.extend(b)
        t = threading.Thread(target=rd)
        t.start()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        t.join(90)
        s.close()
        res[i] = "ok" if bytes(got) == data else f"got {len(got)} bytes, not the {size} sent"
    except Exception as e:
        res[i] = f"{type(e).__name__}: {e} after {len(got)} bytes"
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join(120)
bad = [(i, r) for i, r in enumerate(res) if r != "ok"]
for i, r in bad:
    print(f"client {i}: {r}")
sys.exit(1 if bad else 0)
PY
t0=$(date +%s.%N)
ip netns exec "$(ns ag)" timeout 150 python3 "$T/bulk.py" 15000 20 1048576 >"$T/bulk.out" 2>&1 ||
	fail "(a) concurrent clients: $(head -n 5 "$T/bulk.out")"
took=$(python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$t0")
pass "(a) 20 concurrent TCP clients × 1 MiB echoed intact through the connector in ${took} s"

# A route whose upstream refuses: the client's connection is closed, the reason logged.
ip netns exec "$(ns ag)" python3 - <<'PY' || fail "(a) refused route: the connection was not closed"
import socket
s = socket.create_connection(("127.0.0.1", 15001), timeout=20)
s.sendall(b"hello\n")
try:
    assert s.recv(100) == b""
except ConnectionResetError:
    pass
PY
wait_for 10 grep -q 'event=stream_end.*route=refused.*code=0x102 reason="upstream refused"' \
	"$T/connect.log" || fail "(a) no stream_end line with the upstream refused reason"
pass "(a) route with a refusing upstream: client closed, logged as 0x102 upstream refused"

# --- (b) --stdio -------------------------------------------------------------------------
head -c 300000 /dev/urandom >"$T/stdio.in"
ip netns exec "$(ns ag)" timeout 60 "$CONNECT" -c "$T/stdio.conf" --stdio echo \
	<"$T/stdio.in" >"$T/stdio.out" 2>"$T/stdio-file.log" ||
	fail "(b) --stdio with stdin from a file: exit $?: $(tail -n 3 "$T/stdio-file.log")"
cmp -s "$T/stdio.in" "$T/stdio.out" || fail "(b) --stdio (file): the echo differs from the input"
rc=0
cat "$T/stdio.in" | ip netns exec "$(ns ag)" timeout 60 "$CONNECT" -c "$T/stdio.conf" \
	--stdio echo 2>"$T/stdio-pipe.log" | cat >"$T/stdio.out2" || rc=$?
((rc == 0)) || fail "(b) --stdio through pipes: exit $rc: $(tail -n 3 "$T/stdio-pipe.log")"
cmp -s "$T/stdio.in" "$T/stdio.out2" || fail "(b) --stdio (pipes): the echo differs from the input"
grep -q 'event=stream_end.*end=fin bytes_up=300000 bytes_down=300000' "$T/stdio-pipe.log" ||
	fail "(b) --stdio: no stream_end line with the bytes: $(grep stream_end "$T/stdio-pipe.log")"
if grep -q . "$T/stdio.out2" && grep -aq 'event=' "$T/stdio.out2"; then
	fail "(b) --stdio: log lines on stdout"
fi
pass "(b) --stdio: 300 kB echoed byte for byte (stdin a file, then pipes), exit 0, logs on stderr"

# An idle connector sleeps: at most 0.3 s of CPU in 3 s (PINGs and QUIC keepalives only).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID_c1/stat"; }
c0=$(cpu_ticks)
sleep 3
idle_ms=$(( ($(cpu_ticks) - c0) * 1000 / $(getconf CLK_TCK) ))
((idle_ms <= 300)) || fail "the idle connector used ${idle_ms} ms of CPU in 3 s"
pass "an idle connector used ${idle_ms} ms of CPU in 3 s"

# --- (c) relay A killed and restarted under traffic ------------------------------------
cat >"$T/lines.py" <<'PY'
import json, socket, sys, threading, time
port, count, rate, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), 30.0
s = socket.create_connection(("127.0.0.1", port), timeout=timeout + 30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sent_at = [0.0] * count
st = {"received": 0, "error": None, "max_ms": 0.0, "slow": 0}
def reader():
    f = s.makefile("rb")
    want = 0
    try:
        for line in f:
            parts = line.split()
            n = int(parts[1]) if len(parts) == 3 and parts[0] == b"req" else -1
            if n != want:
                st["error"] = f"expected reply {want}, got {line[:40]!r}"
                return
            ms = (time.monotonic() - sent_at[n]) * 1000
            st["max_ms"] = max(st["max_ms"], ms)
            if ms > timeout * 1000:
                st["error"] = f"request {n} answered after {ms:.0f} ms"
                return
            want += 1
            st["received"] = want
    except Exception as e:
        st["error"] = f"{type(e).__name__}: {e}"
t = threading.Thread(target=reader, daemon=True)
t.start()
start = time.monotonic()
for i in range(count):
    delay = start + i / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    sent_at[i] = time.monotonic()
    s.sendall(b"req %d %s\n" % (i, b"x" * 40))
    if st["error"]:
        break
s.shutdown(socket.SHUT_WR)
t.join(timeout + 10)
st.update(sent=count, ok=st["error"] is None and st["received"] == count)
print(json.dumps(st))
PY
# lines_bg NAME PORT COUNT: the line client in the background, its summary in $T/NAME.json.
lines_bg() {
	ip netns exec "$(ns ag)" python3 "$T/lines.py" "$2" "$3" 200 >"$T/$1.json" 2>"$T/$1.log" &
	E2E_PIDS+=($!)
	eval "PID_$1=$!"
}
check_lines() {	# NAME WHAT
	local rc=0
	wait "$(eval echo "\$PID_$1")" || rc=$?
	((rc == 0)) || fail "$2: line client exit $rc: $(tail -n 3 "$T/$1.log")"
	[[ $(json "$T/$1.json" 'j["ok"]') == True ]] || fail "$2: $(cat "$T/$1.json")"
}
lines_bg fo 15000 5000		# 25 s at 200/s
sleep 4
kill -KILL "$PID_relay_a"
wait "$PID_relay_a" 2>/dev/null || true
t_kill=$(date +%s.%N)
sleep 2
relay a 51820 "$P/relay.key" "$PREFIX_A"
check_lines fo "(c) failover"
grep -q 'event=carrier_down' "$T/connect.log" || fail "(c) the connector never lost its carrier"
grep -q 'event=conn_restart' "$T/connect.log" &&
	fail "(c) the QUIC connection was replaced, not resumed: $(grep conn_restart "$T/connect.log")"
gap=$(sed -n 's/.*event=channel_open .*resume=1 gap_ms=\([0-9]*\).*/\1/p' "$T/connect.log" | tail -n 1)
[[ -n $gap ]] || fail "(c) the connection was not resumed: $(grep event= "$T/connect.log" | tail -n 5)"
pass "(c) relay A killed and restarted 2 s later: 5000 requests at 200/s answered once, in order;" \
	"carrier back (RESUME accepted) ${gap} ms after it was declared lost," \
	"slowest request $(json "$T/fo.json" 'round(j["max_ms"])') ms"

# --- (e) configuration errors -------------------------------------------------------------
conn_conf "$T/wrong-fp.conf" "$RELAY_B" ag-fp crm "$WRONG_FP"
rc=0
ip netns exec "$(ns ag)" timeout 40 "$CONNECT" -c "$T/wrong-fp.conf" --listen echo=127.0.0.1:15100 \
	>/dev/null 2>"$T/wrong-fp.log" || rc=$?
((rc == 1)) || fail "(e) wrong gateway fingerprint: exit $rc, want 1: $(tail -n 2 "$T/wrong-fp.log")"
grep -q "event=fatal error=pin_mismatch.*fingerprint is $GW_FP, not the pinned.* $WRONG_FP" \
	"$T/wrong-fp.log" || fail "(e) wrong fingerprint: unclear message: $(tail -n 1 "$T/wrong-fp.log")"
pass "(e) wrong gateway_fingerprint: exit 1, the message names both fingerprints"

rc=0
conn_conf "$T/narrow.conf" "$RELAY_A" ag-narrow crm "$GW_FP"
"$CONNECT" -c "$T/narrow.conf" >/dev/null 2>"$T/narrow.log" || rc=$?
((rc == 1)) || fail "(e) grant without the tunnel: exit $rc, want 1"
grep -q "does not grant tunnel 'crm'" "$T/narrow.log" ||
	fail "(e) grant without the tunnel: unclear message: $(cat "$T/narrow.log")"
pass "(e) a grant without the tunnel is refused at start: $(cat "$T/narrow.log")"

conn_conf "$T/nosuch.conf" "$RELAY_B" ag-star nosuch "$GW_FP"
rc=0
ip netns exec "$(ns ag)" timeout 40 "$CONNECT" -c "$T/nosuch.conf" --listen echo=127.0.0.1:15100 \
	>/dev/null 2>"$T/nosuch.log" || rc=$?
((rc == 1)) || fail "(e) tunnel nobody serves: exit $rc, want 1: $(tail -n 2 "$T/nosuch.log")"
grep -q 'the grant does not cover tunnel nosuch (or it does not exist)' "$T/nosuch.log" ||
	fail "(e) tunnel nobody serves: unclear message: $(tail -n 1 "$T/nosuch.log")"
pass "(e) a tunnel the relay refuses (NOT_PERMITTED): exit 1, 'the grant does not cover tunnel nosuch'"

# --- (d) drain the relay in use: the connector moves to the other ---------------------
wait_for 20 ctl_a status || fail "(d) relay A (restarted) does not answer"
wait_for 15 status_is "$T/a.sock" 'j["sessions"] >= 1' || fail "(d) the gateway is not back on A"
conn_conf "$T/two.conf" "$RELAY_A, $RELAY_B" ag2 crm "$GW_FP"
bg connect2 ip netns exec "$(ns ag)" "$CONNECT" -c "$T/two.conf" --listen echo=127.0.0.1:15200
wait_for 20 grep -q 'event=connected' "$T/connect2.log" || fail "(d) connector 2 did not connect"
grep -q "event=channel_open relay=$relay_ip:51820 .*resume=0" "$T/connect2.log" ||
	fail "(d) connector 2 did not start on relay A"
lines_bg dm 15200 3000		# 15 s at 200/s
sleep 4
ctl_a drain --timeout 20 >"$T/drain.out" || fail "(d) posternctl drain on A failed"
check_lines dm "(d) drain"
grep -q "event=relay_draining relay=$relay_ip:51820" "$T/connect2.log" ||
	fail "(d) connector 2 got no GOAWAY from A: $(grep event= "$T/connect2.log" | tail -n 5)"
grep -q "event=channel_open relay=$relay_ip:51821 .*resume=1" "$T/connect2.log" ||
	fail "(d) connector 2 did not resume on B: $(grep event= "$T/connect2.log" | tail -n 5)"
grep -q 'event=carrier_down\|event=conn_restart' "$T/connect2.log" &&
	fail "(d) connector 2 lost its carrier while moving: $(grep event= "$T/connect2.log" | tail -n 5)"
pass "(d) drain of A: connector moved to B (RESUME); 3000 requests answered once, in order," \
	"slowest $(json "$T/dm.json" 'round(j["max_ms"])') ms"

# --- (f) the gateway restarts: RESUME_UNKNOWN, a new connection ----------------------
kill -KILL "$PID_gateway"
wait "$PID_gateway" 2>/dev/null || true
bg gateway ip netns exec "$(ns gw)" "$GATEWAY" -c "$T/gateway.conf"
wait_for 30 grep -q 'event=conn_restart' "$T/connect2.log" ||
	fail "(f) connector 2 kept the dead connection: $(grep event= "$T/connect2.log" | tail -n 3)"
wait_for 30 test "$(grep -c 'event=connected' "$T/connect2.log")" -ge 2 ||
	fail "(f) no new connection: $(grep event= "$T/connect2.log" | tail -n 3)"
ip netns exec "$(ns ag)" timeout 60 python3 "$T/bulk.py" 15200 2 65536 >"$T/bulk2.out" 2>&1 ||
	fail "(f) after the gateway's restart: $(head -n 3 "$T/bulk2.out")"
pass "(f) gateway restarted: the connector's RESUME is refused (RESUME_UNKNOWN), it makes a" \
	"new connection, and new TCP connections are served again"

# --- shutdown ------------------------------------------------------------------------------
for c in c1 connect2; do
	pid=$(eval echo "\$PID_$c")
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	((rc == 0)) || fail "connector $c: exit $rc after SIGTERM"
done
n_end=$(grep -c 'event=stream_end' "$T/connect.log")
((n_end >= 22)) || fail "connector 1 logged $n_end stream_end lines, want >= 22"
grep -q 'event=stream_end .*route=echo .*end=fin bytes_up=1048576 bytes_down=1048576' \
	"$T/connect.log" || fail "no stream_end line with 1 MiB each way"
pass "SIGTERM: both connectors exit 0; one stream_end line per stream ($n_end), bytes each way"
