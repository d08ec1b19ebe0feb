#!/usr/bin/env bash
# End to end: postern-relay's control plane (docs/control.md) while real
# traffic flows. posternctl on the control socket reports the sessions and the
# forwarded packets; /metrics (HTTP on loopback inside the relay's namespace)
# passes tests/metrics_check.py and counts them too, the kick below and each
# worker socket's kernel drops included; `posternctl drain` turns
# /ready to 503, and the relay exits 0 on its own once the last channel is gone.
# `posternctl tokens revoke` under traffic ends the revoked agent's flow while a
# second agent's concurrent flow completes with every payload intact.
# `posternctl sessions list` and `channels list` show the sessions and the
# channels carrying traffic; `sessions kick` ends one agent's session while
# another's flow loses nothing. `posternctl reload` and SIGHUP under traffic
# apply a new trusted key and log level at once, name `workers` as needing a
# restart, keep the old configuration when the file is broken, and drop no
# payload; then a token signed by the new key is admitted.
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
pki_endpoint kicked agent acme crm	# runs in namespace ag too; its session gets kicked
# A second control-plane key, trusted only once a reload reads it from the file.
"$B/relay/posternctl" genkey -o "$P/control2.key"
"$B/relay/posternctl" pubkey --signing "$P/control2.key" >"$P/control2.pub"
"$B/relay/posternctl" genkey -o "$P/late.key"
"$B/relay/posternctl" pubkey "$P/late.key" >"$P/late.pub"
"$B/relay/posternctl" token issue --signing-key "$P/control2.key" --tenant acme --role agent \
	--tunnel crm --endpoint-key "@$P/late.pub" --valid-for 1h -o "$P/late.token"

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

# conf TRUSTED LOG_LEVEL WORKERS: the relay's configuration file (what a reload reads).
conf=$T/relay.conf
conf() {
	cat >"$conf.tmp" <<EOF
listen = [ "0.0.0.0:51820" ];
workers = $3;
private_key = "$P/relay.key";
trusted_keys = [ $1 ];
drain_ms = 5000;
control_socket = "$sock";
metrics_listen = "127.0.0.1:9180";
log_level = "$2";
EOF
	mv "$conf.tmp" "$conf"
}
conf "\"@$P/control.pub\"" info 2
bg relay ip netns exec "$(ns relay)" "$B/postern-relay" -c "$conf"
wait_for 20 ctl status || fail "relay did not start (no answer on $sock)"
[[ $(stat -c %a "$sock") == 600 ]] || fail "control socket mode $(stat -c %a "$sock"), want 600"
pass "control socket $sock answers, mode 0600"

peer_bg gw gw gateway gw --duration 600
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

# --- sessions and channels ---------------------------------------------------------
# token_id NAME: the id of NAME's token, as sessions.list shows it.
token_id() {
	"$B/relay/posternctl" token inspect --json "@$P/$1.token" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
# session_of NAME: the id of the live session admitted with NAME's token ("" if none).
session_of() {
	ctl sessions list --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
ids = [s["id"] for s in j["sessions"] if s["token_id"] == sys.argv[1]]
print(ids[0] if ids else "")' "$(token_id "$1")"
}
# carried SESSION: bytes the channels of agent session SESSION carried, both ways.
carried() {
	ctl channels list --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(sum(c["bytes_to_gateway"] + c["bytes_to_agent"] for c in j["channels"]
          if c["agent_session"] == sys.argv[1]))' "$1"
}
no_channels() {
	ctl status --json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["channels"] != 0)'
}
channels_at_least() {
	ctl status --json |
		python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["channels"] < int(sys.argv[1]))' \
			"$1"
}
# stop_flow LOG: end a hop_peer agent started with peer_bg LOG (it was meant to run
# until stopped) and wait for its summary in $T/LOG.json.
stop_flow() {
	local pid
	eval "pid=\$PID_$1"
	kill -0 "$pid" 2>/dev/null || fail "$1 ended before it was stopped: $(tail -n 1 "$T/$1.log")"
	kill -TERM "$pid"
	wait "$pid" || true
}
# intact LOG CHANNELS: the stopped flow LOG lost nothing and broke nothing: every
# payload came back but the one per channel in flight when it was stopped.
intact() {
	python3 - "$T/$1.json" "$2" <<'PY'
import json, sys
j, n = json.load(open(sys.argv[1])), int(sys.argv[2])
assert j["lost"] == 0 and j["corrupt"] == 0 and j["closed_by_peer"] == 0, j
assert j["sent"] - n <= j["received"] <= j["sent"] and j["received"] > 0, j
print(f"ok: {j['received']} of {j['sent']} payloads back, none lost or corrupt")
PY
}

ctl sessions list --json >"$T/sessions.json" || fail "posternctl sessions list --json failed"
python3 - "$T/sessions.json" "$(token_id gw)" "$(token_id ag)" <<'PY' || fail "sessions list: see above"
import json, sys
j = json.load(open(sys.argv[1]))
by_token = {s["token_id"]: s for s in j["sessions"]}
assert j["ok"] and j["total"] == 2 == len(j["sessions"]), j
gw, ag = by_token[sys.argv[2]], by_token[sys.argv[3]]
assert gw["role"] == "gateway" and ag["role"] == "agent", (gw, ag)
for s in (gw, ag):
    assert s["tenant"] == "acme" and s["tunnels"] == ["crm"], s
    assert s["worker"] in (0, 1) and len(s["id"]) == 16, s
assert gw["peer"].startswith("10.77.1.2:") and ag["peer"].startswith("10.77.2.2:"), (gw, ag)
assert gw["id"] != ag["id"]
# The agent sent 600 payloads and got 600 echoes, one DATA packet each.
for s in (gw, ag):
    assert s["rx_packets"] >= 600 and s["tx_packets"] >= 600, s
    assert s["rx_bytes"] > 600 * 200 and s["tx_bytes"] > 600 * 200, s
print(f"ok: sessions list --json: gateway {gw['id']} on worker {gw['worker']}, "
      f"agent {ag['id']} on worker {ag['worker']}, {ag['rx_packets']} packets from it")
PY
ctl sessions list >"$T/sessions.txt" || fail "posternctl sessions list failed"
for want in ID ROLE gateway agent acme crm 10.77.1.2 10.77.2.2 "$(session_of gw)"; do
	grep -q -- "$want" "$T/sessions.txt" || fail "sessions list: no '$want' in: $(cat "$T/sessions.txt")"
done
pass "posternctl sessions list: the gateway's and the agent's sessions, for people and as JSON"

# Two flows that run until stopped: the bystander (the agent's key, 2 channels)
# and the victim (1 channel), whose session gets kicked.
peer_bg by ag agent ag --tunnel crm --channels 2 --count 10000000 --window 1 --size 300 \
	--loss-timeout 5000 --timeout 300
peer_bg kicked ag agent kicked --tunnel crm --channels 1 --count 10000000 --window 4 \
	--loss-timeout 500 --timeout 300
wait_for 20 channels_at_least 3 || fail "bystander and victim channels not all open"
ctl channels list --json >"$T/channels.json" || fail "posternctl channels list --json failed"
python3 - "$T/channels.json" "$(session_of ag)" "$(session_of kicked)" "$(session_of gw)" <<'PY' ||
import json, sys
j = json.load(open(sys.argv[1]))
ag, kicked, gw = sys.argv[2:5]
ch = j["channels"]
assert j["ok"] and j["total"] == 3 == len(ch), j
assert sorted(c["agent_session"] for c in ch) == sorted([ag, ag, kicked]), ch
for c in ch:
    assert c["tunnel"] == "crm" and c["route"] == "" and c["gateway_session"] == gw, c
    assert c["agent_channel"] > 0 and c["gateway_channel"] > 0, c
    assert c["opened"] > 1700000000, c
assert len({c["gateway_channel"] for c in ch}) == 3, ch
print(f"ok: channels list --json: 3 channels to gateway {gw}, "
      f"{sum(c['bytes_to_gateway'] for c in ch)} bytes to it so far")
PY
	fail "channels list: see above"
ctl channels list >"$T/channels.txt" || fail "posternctl channels list failed"
grep -q 'TO GATEWAY' "$T/channels.txt" && grep -q "crm .*$(session_of kicked)" "$T/channels.txt" ||
	fail "channels list for people: $(cat "$T/channels.txt")"
by_id=$(session_of ag)
b0=$(carried "$by_id")
sleep 1
b1=$(carried "$by_id")
((b1 > b0)) || fail "channels list: the bystander's bytes did not grow ($b0, then $b1)"
pass "posternctl channels list: each open channel once, both sides, bytes growing ($b0 → $b1)"

# Kick the victim's session: its flow dies, the bystander's goes on without a loss.
victim=$(session_of kicked)
[[ -n $victim ]] || fail "no session for the victim"
sessions_before=$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"])')
ctl stats --json >"$T/stats-before.json"
ctl sessions kick "$victim" >"$T/kick.out" || fail "posternctl sessions kick failed"
grep -q "session $victim ended" "$T/kick.out" || fail "kick said: $(cat "$T/kick.out")"
[[ -z $(session_of kicked) ]] || fail "the kicked session is still listed"
ctl status --json >"$T/status.json"
[[ $(json "$T/status.json" 'j["sessions"]') == $((sessions_before - 1)) ]] ||
	fail "sessions after the kick: $(json "$T/status.json" 'j["sessions"]'), want $((sessions_before - 1))"
grep -q "event=session_kicked id=$victim kicked_total=1" "$T/relay.log" ||
	fail "no event=session_kicked in the log"
grep -q "event=control_cmd cmd=sessions.kick" "$T/relay.log" || fail "kick not in the audit log"
rc=0
ctl sessions kick "$victim" >/dev/null 2>"$T/kick2.err" || rc=$?
((rc == 1)) && grep -q not_found "$T/kick2.err" ||
	fail "kicking it again: exit $rc, want 1 and not_found: $(cat "$T/kick2.err")"
# /metrics counts the kick once, on the worker that owned the session; not the refused one.
[[ $(http /metrics "$T/metrics-kick.txt") == 200 ]] || fail "/metrics after the kick: not 200"
python3 - "$T/metrics-kick.txt" <<'PY' || fail "/metrics after the kick: see above"
import re, sys
kicked = {}
for line in open(sys.argv[1]):
    m = re.match(r'postern_relay_sessions_kicked_total\{worker="(\d+)"\} (\d+)$', line)
    if m:
        kicked[m.group(1)] = int(m.group(2))
assert sorted(kicked) == ["0", "1"] and sum(kicked.values()) == 1, kicked
print(f"ok: /metrics: postern_relay_sessions_kicked_total per worker {kicked}")
PY
b0=$(carried "$by_id")
sleep 1.5
b1=$(carried "$by_id")
((b1 > b0)) || fail "the bystander stalled after the kick ($b0, then $b1)"
ctl stats --json >"$T/stats-after.json"
python3 - "$T/stats-before.json" "$T/stats-after.json" <<'PY' || fail "stats after the kick: see above"
import json, sys
before, after = (json.load(open(p))["total"] for p in sys.argv[1:3])
# What the victim still sends meets no keys: counted, not forwarded.
grew = after["drops"]["unknown_index"] - before["drops"]["unknown_index"]
assert grew > 0, (before["drops"], after["drops"])
assert after["channels"] == 2 and after["sessions"] == before["sessions"] - 1, after
assert after["sessions_kicked"] == before["sessions_kicked"] + 1 == 1, after
print(f"ok: stats: {grew} packets of the kicked session dropped as unknown_index")
PY
stop_flow kicked
[[ $(json "$T/kicked.json" 'j["lost"] > 0 and j["received"] < j["sent"]') == True ]] ||
	fail "the kicked agent kept being served: $(cat "$T/kicked.json")"
stop_flow by
intact by 2 || fail "bystander across the kick: see above"
wait_for 10 no_channels || fail "channels still open after both flows ended"
pass "sessions kick: the victim's flow ended ($(json "$T/kicked.json" 'j["lost"]') payloads" \
	"unanswered), the bystander's $(json "$T/by.json" 'j["received"]') all intact"

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
# The socket backend's kernel drops: one series per worker socket, none for DPDK ports.
python3 - "$T/metrics.txt" <<'PY' || fail "/metrics socket drops: see above"
import re, sys
drops = {}
for line in open(sys.argv[1]):
    m = re.match(r'postern_socket_rx_drops_total\{worker="(\d+)",listen="([^"]+)"\} (\d+)$', line)
    if m:
        drops[(m.group(1), m.group(2))] = int(m.group(3))
    assert not line.startswith("postern_port_"), line
want = {("0", "0.0.0.0:51820"), ("1", "0.0.0.0:51820")}
assert set(drops) == want, drops
print(f"ok: /metrics: postern_socket_rx_drops_total for both worker sockets: {drops}")
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

# --- reload -----------------------------------------------------------------------
# Under traffic, the file gains a trusted key and changes the log level (both live)
# and the worker count (needs a restart). Not one payload of the flow is lost.
peer_bg by ag agent ag --tunnel crm --channels 2 --count 10000000 --window 1 --size 300 \
	--loss-timeout 5000 --timeout 300
wait_for 20 channels_at_least 2 || fail "the bystander's channels did not open"
by_id=$(session_of ag)
rc=0
peer ag agent late --tunnel crm --channels 1 --count 1 --timeout 4 >"$T/late0.json" \
	2>"$T/late0.log" || rc=$?
((rc == 1)) || fail "a token of the untrusted key got through before the reload"

# A broken file first: refused with its line, and nothing changes.
conf "\"@$P/control.pub\", \"@$P/control2.pub\"" debug 3
echo 'wokers = 3;' >>"$conf"
rc=0
ctl reload >"$T/reload-bad.out" 2>"$T/reload-bad.err" || rc=$?
((rc == 1)) && grep -q "relay.conf:9: unknown setting 'wokers'" "$T/reload-bad.err" ||
	fail "a broken file: exit $rc, $(cat "$T/reload-bad.err")"
ctl status --json >"$T/status.json"
[[ $(json "$T/status.json" 'j["log_level"]') == info ]] || fail "a broken file changed the log level"
grep -q 'event=reload source=control result=failed' "$T/relay.log" || fail "no failed reload in the log"
pass "reload of a broken file: refused naming relay.conf:9, nothing changed"

conf "\"@$P/control.pub\", \"@$P/control2.pub\"" debug 3
ctl reload >"$T/reload.out" || fail "posternctl reload failed: $(cat "$T/reload.out")"
grep -q 'applied: trusted_keys, log_level; needs restart: workers' "$T/reload.out" ||
	fail "reload said: $(cat "$T/reload.out")"
grep -q 'event=reload source=control result=ok applied=trusted_keys,log_level restart_needed=workers' \
	"$T/relay.log" || fail "no event=reload line: $(grep 'event=reload' "$T/relay.log")"
grep -q 'event=control_cmd cmd=reload' "$T/relay.log" || fail "reload not in the audit log"
ctl status --json >"$T/status.json"
[[ $(json "$T/status.json" 'j["log_level"] == "debug" and j["workers"] == 2') == True ]] ||
	fail "status after the reload: $(cat "$T/status.json")"
peer ag agent late --tunnel crm --channels 1 --count 100 --size 200 --timeout 20 \
	>"$T/late.json" 2>"$T/late.log" || fail "the new key's token: $(tail -n 1 "$T/late.log")"
[[ $(json "$T/late.json" 'j["received"] == j["sent"] == 100') == True ]] ||
	fail "the new key's agent: $(cat "$T/late.json")"
pass "posternctl reload: new key and log level applied, 'workers' needs a restart;" \
	"a token signed by the new key is admitted"

# SIGHUP reloads too.
conf "\"@$P/control.pub\", \"@$P/control2.pub\"" info 3
kill -HUP "$PID_relay"
wait_for 10 grep -q 'event=reload source=SIGHUP result=ok applied=log_level restart_needed=workers' \
	"$T/relay.log" || fail "SIGHUP: $(grep 'event=reload' "$T/relay.log" | tail -n 1)"
ctl status --json >"$T/status.json"
[[ $(json "$T/status.json" 'j["log_level"]') == info ]] || fail "SIGHUP: log level not applied"
b0=$(carried "$by_id")
sleep 1
b1=$(carried "$by_id")
((b1 > b0)) || fail "the flow stalled after the reloads ($b0, then $b1)"
stop_flow by
intact by 2 || fail "the flow across the reloads: see above"
wait_for 10 no_channels || fail "channels still open after the flow ended"
pass "SIGHUP reloads; the flow across three reloads lost nothing"

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
