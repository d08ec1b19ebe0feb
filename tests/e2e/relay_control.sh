#!/usr/bin/env bash
# End to end: postern-relay's control plane (docs/control.md) while real
# traffic flows. posternctl on the control socket reports the sessions and the
# forwarded packets; /metrics (HTTP on loopback inside the relay's namespace)
# passes tests/metrics_check.py and counts them too; `posternctl drain` turns
# /ready to 503, and the relay exits 0 on its own once the last channel is gone.
# `posternctl tokens revoke` under traffic ends the revoked agent's flow while a
# second agent's concurrent flow completes with every payload intact.
#
#   pst-gw-PID                 pst-relay-PID                          pst-ag-PID
#   hop_peer gateway  10.77.1.2 ── 10.77.1.1  postern-relay  10.77.2.1 ── 10.77.2.2  hop_peer agent
#   (tenant acme,                             │  2 workers, :51820                      (grant: crm)
#    tunnel crm)                              ├─ $T/relay.sock ◀── posternctl
#                                             └─ 127.0.0.1:9180 ◀── python3 urllib
#                                                (the relay's own loopback)
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

star gw ag

pki_init
pki_endpoint gw gateway acme crm
pki_endpoint ag agent acme crm
pki_endpoint victim agent acme crm	# runs in namespace ag too; its token gets revoked

sock=$T/relay.sock
ctl() { "$B/relay/posternctl" --socket "$sock" "$@"; }

# http PATH OUT: GET http://127.0.0.1:9180PATH inside the relay's namespace; the
# body goes to OUT, the status code to stdout.
http() {
	ip netns exec "$(ns relay)" python3 - "$1" "$2" <<'PY'
import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen("http://127.0.0.1:9180" + sys.argv[1], timeout=5)
    code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
open(sys.argv[2], "wb").write(body)
print(code)
PY
}

bg relay ip netns exec "$(ns relay)" "$B/postern-relay" --listen 0.0.0.0:51820 --workers 2 \
	--private-key "$P/relay.key" --trust "@$P/control.pub" --drain-ms 5000 \
	--control-socket "$sock" --metrics-listen 127.0.0.1:9180 --log-level info
wait_for 20 ctl status || fail "relay did not start (no answer on $sock)"
[[ $(stat -c %a "$sock") == 600 ]] || fail "control socket mode $(stat -c %a "$sock"), want 600"
pass "control socket $sock answers, mode 0600"

peer_bg gw gw gateway gw --duration 120
sleep 1
peer ag agent ag --tunnel crm --channels 2 --count 300 --size 200 --timeout 30 \
	>"$T/ag1.json" 2>"$T/ag1.log" || fail "agent: $(tail -n 1 "$T/ag1.log")"
[[ $(json "$T/ag1.json" 'j["received"] == j["sent"] == 600') == True ]] ||
	fail "agent: not every payload came back: $(cat "$T/ag1.json")"
pass "an agent's 2 × 300 payloads echoed through the relay"

# --- posternctl -------------------------------------------------------------
ctl status --json >"$T/status.json" || fail "posternctl status --json failed"
want='j["ok"] and j["ready"] and not j["draining"] and j["workers"] == 2 and j["sessions"] >= 2'
[[ $(json "$T/status.json" "$want") == True ]] ||
	fail "status: $(cat "$T/status.json")"
ctl status >"$T/status.txt" || fail "posternctl status failed"
grep -qi 'session' "$T/status.txt" || fail "status for people: $(cat "$T/status.txt")"
pass "posternctl status: ready, 2 workers, $(json "$T/status.json" 'j["sessions"]') sessions"

ctl stats --json >"$T/stats.json" || fail "posternctl stats --json failed"
python3 - "$T/stats.json" <<'PY' || fail "posternctl stats: see above"
import json, sys
j = json.load(open(sys.argv[1]))
t, ws = j["total"], j["workers"]
assert j["ok"] and len(ws) == 2, j
# Each payload crosses the relay twice (agent → gateway, echo → agent).
assert t["forwarded"] >= 2 * 600, t["forwarded"]
assert t["rx_packets"] == t["forwarded"] + t["handled"] + t["dropped"], t
for k in ("forwarded", "rx_packets", "handshakes", "sessions"):
    assert t[k] == sum(w[k] for w in ws), (k, t[k], [w[k] for w in ws])
print(f"ok: posternctl stats: forwarded {t['forwarded']}, handshakes {t['handshakes']}, "
      f"sessions {t['sessions']}, per-worker sums match")
PY

ctl log-level debug >/dev/null || fail "posternctl log-level debug failed"
ctl status --json >"$T/status.json"
[[ $(json "$T/status.json" 'j["log_level"]') == debug ]] || fail "log level not changed"
ctl log-level info >/dev/null
grep -q 'event=control_cmd cmd=log-level' "$T/relay.log" || fail "log-level not in the audit log"
pass "posternctl log-level: applied and audited"

rc=0
ctl sessions list >/dev/null 2>"$T/unsupported.err" || rc=$?
((rc == 1)) && grep -q unsupported "$T/unsupported.err" ||
	fail "sessions list: exit $rc, want 1 and 'unsupported': $(cat "$T/unsupported.err")"
pass "an operation the relay does not offer yet answers 'unsupported' (exit 1)"

# --- HTTP ---------------------------------------------------------------------
[[ $(http /metrics "$T/metrics.txt") == 200 ]] || fail "/metrics: not 200"
python3 "$(dirname "$0")/../metrics_check.py" "$T/metrics.txt" ||
	fail "/metrics is not valid exposition format (tests/metrics_check.py)"
python3 - "$T/metrics.txt" "$T/stats.json" <<'PY' || fail "/metrics counters: see above"
import json, re, sys
fwd = 0
for line in open(sys.argv[1]):
    m = re.match(r'postern_relay_forwarded_packets_total\{worker="\d+"\} (\S+)$', line)
    if m:
        fwd += float(m.group(1))
before = json.load(open(sys.argv[2]))["total"]["forwarded"]
assert fwd > 0 and fwd >= before, (fwd, before)
print(f"ok: /metrics: postern_relay_forwarded_packets_total sums to {fwd:.0f} (stats said {before})")
PY
[[ $(http /live "$T/live") == 200 ]] || fail "/live: not 200"
[[ $(http /ready "$T/ready") == 200 && $(cat "$T/ready") == ready* ]] ||
	fail "/ready: not 200 ready: $(cat "$T/ready")"
pass "/metrics valid, /live 200, /ready 200"

# --- tokens revoke under traffic -------------------------------------------------
# Both agents run from namespace ag. The victim's session ends within a second of
# the revocation: the gateway sees its channel closed, its own payloads go
# unanswered (its re-handshakes are refused as token_revoked) and it exits 1;
# the bystander, flowing all along, gets back every payload intact.
channels_at_least() {
	ctl status --json |
		python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["channels"] < int(sys.argv[1]))' \
			"$1"
}
peer_bg by ag agent ag --tunnel crm --channels 2 --count 20000 --window 1 --size 300 \
	--loss-timeout 5000 --timeout 90
peer_bg vic ag agent victim --tunnel crm --channels 1 --count 1000000 --window 4 \
	--loss-timeout 500 --timeout 10
wait_for 10 channels_at_least 3 || fail "victim and bystander channels not all open"
sleep 0.5
ctl tokens revoke "@$P/victim.token" >"$T/revoke.out" || fail "posternctl tokens revoke failed"
kill -0 "$PID_by" 2>/dev/null || fail "the bystander finished before the revocation: test too short"
rc=0
wait "$PID_vic" || rc=$?
((rc == 1)) || fail "revoked agent: exit $rc, want 1: $(cat "$T/vic.json")"
want='j["lost"] + j["closed_by_peer"] > 0 and j["received"] < j["sent"]'
[[ $(json "$T/vic.json" "$want") == True ]] ||
	fail "revoked agent kept being served: $(cat "$T/vic.json")"
rc=0
wait "$PID_by" || rc=$?
((rc == 0)) || fail "bystander: exit $rc: $(tail -n 1 "$T/by.log")"
want='j["received"] == j["sent"] == 40000 and j["lost"] == 0 and j["corrupt"] == 0'
[[ $(json "$T/by.json" "$want") == True ]] ||
	fail "bystander lost or corrupt payloads: $(cat "$T/by.json")"
grep -q 'event=token_revoked id=' "$T/relay.log" || fail "no event=token_revoked in the log"
grep -q 'event=control_cmd cmd=tokens.revoke' "$T/relay.log" || fail "revoke not in the audit log"
ctl stats --json >"$T/stats.json"
[[ $(json "$T/stats.json" 'j["total"]["sessions"] == 2') == True ]] ||
	fail "sessions after the revocation: $(json "$T/stats.json" 'j["total"]["sessions"]'), want 2 (gateway, bystander)"
pass "tokens revoke: the victim's flow died ($(json "$T/vic.json" 'j["received"]') of" \
	"$(json "$T/vic.json" 'j["sent"]') answered), the bystander's 40000 payloads all intact"

# --- drain ----------------------------------------------------------------------
# Hold a channel open across the drain: once it is open the gateway is stopped,
# so the agent's payloads wait for their echoes (nothing is lost within 30 s);
# the relay must keep running until they come back and the agent closes.
peer ag agent ag --tunnel crm --channels 1 --count 20000 --window 1 --loss-timeout 30000 \
	--timeout 90 >"$T/ag2.json" 2>"$T/ag2.log" &
E2E_PIDS+=($!)
AG2=$!
has_channel() {
	ctl status --json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["channels"] < 1)'
}
wait_for 10 has_channel || fail "no channel open"
gw=$PID_gw
kill -STOP "$gw"

ctl drain --timeout 30 >"$T/drain.out" || { kill -CONT "$gw"; fail "posternctl drain failed"; }
code=$(http /ready "$T/ready")
[[ $code == 503 ]] || { kill -CONT "$gw"; fail "/ready while draining: $code, want 503"; }
ctl status --json >"$T/status.json"
[[ $(json "$T/status.json" 'not j["ready"] and j["draining"] and not j["drained"]') == True ]] ||
	{ kill -CONT "$gw"; fail "status while draining: $(cat "$T/status.json")"; }
kill -0 "$PID_relay" || fail "the relay exited with a channel still open"
grep -q 'event=control_cmd cmd=drain' "$T/relay.log" || fail "drain not in the audit log"
pass "posternctl drain: /ready 503, status draining, the relay waits for the open channel"

kill -CONT "$gw"
t0=$(date +%s)
wait "$AG2" || fail "agent across the drain: $(tail -n 1 "$T/ag2.log")"
[[ $(json "$T/ag2.json" 'j["received"] == j["sent"] == 20000') == True ]] ||
	fail "agent across the drain: not every payload came back: $(cat "$T/ag2.json")"
echo "(the agent finished $(($(date +%s) - t0)) s after the gateway resumed)"
for _ in $(seq 100); do kill -0 "$PID_relay" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID_relay" 2>/dev/null && fail "the relay still runs 10 s after its last channel closed"
rc=0
wait "$PID_relay" || rc=$?
((rc == 0)) || fail "relay exit status $rc after the drain, want 0"
grep -q 'event=drained' "$T/relay.log" || fail "no event=drained in the log"
grep -q 'event=drain_timeout' "$T/relay.log" && fail "the drain timed out"
grep -q 'event=mbuf_leak' "$T/relay.log" && fail "$(grep mbuf_leak "$T/relay.log")"
[[ ! -e $sock ]] || fail "control socket left behind"
pass "the relay exits 0 on its own once drained; socket removed, every mbuf back"

rc=0
ctl status >/dev/null 2>&1 || rc=$?
((rc == 3)) || fail "posternctl status with no relay: exit $rc, want 3"
pass "posternctl with no relay listening: exit 3"
