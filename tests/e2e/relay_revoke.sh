#!/usr/bin/env bash
# End to end: revoking a token and untrusting a control-plane key on a relay
# under traffic (protocol.md §6.3, control.md tokens.revoke / keys.untrust).
# Two agents with different grant tokens flow through one relay. `posternctl
# tokens revoke ID` of agent 1's token id: within a second its session is gone
# (the relay holds the gateway's and agent 2's only); agent 1 hears nothing
# back, handshakes again and is refused, counted as token_revoked in the stats
# and on /metrics; agent 2 loses nothing. Then `posternctl keys untrust` of a
# trusted key that signed nothing in use: sessions and traffic are untouched,
# and a token it signed is refused from then on (token_unknown_signer).
#
#   pst-gw-PID                pst-relay-PID                      pst-ag-PID
#   hop_peer gateway 10.77.1.2 ── 10.77.1.1 postern-relay 10.77.2.1 ── 10.77.2.2 hop_peer agent:
#   (tenant acme,                           2 workers, :51820                    victim (token 1)
#    tunnel crm)                            $T/relay.sock ◀── posternctl         bystander (token 2)
#                                           127.0.0.1:9180 ◀── /metrics          then one with a
#                                                                                token of the key
#                                                                                that was untrusted
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

star gw ag

pki_init
pki_signer control2			# trusted at run time, untrusted later; signs nothing in use
pki_endpoint gw gateway acme crm
pki_endpoint victim agent acme crm
pki_endpoint bystander agent acme crm
pki_endpoint_signed control2 late agent acme crm

sock=$T/relay.sock
ctl() { "$B/relay/posternctl" --socket "$sock" "$@"; }
token_id() { "$B/relay/posternctl" token inspect --json "@$P/$1.token" | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["id"])'; }
id_victim=$(token_id victim)
id_bystander=$(token_id bystander)
[[ $id_victim != "$id_bystander" ]] || fail "the two agents' tokens share an id"

bg relay ip netns exec "$(ns relay)" "$B/postern-relay" --listen 0.0.0.0:51820 --workers 2 \
	--private-key "$P/relay.key" --trust "@$P/control.pub" --eal-memory-mb 64 \
	--stats-file "$T/stats.json" --control-socket "$sock" \
	--metrics-listen 127.0.0.1:9180 --log-level info
wait_for 20 ctl status || fail "relay did not start (no answer on $sock)"

ctl keys trust "@$P/control2.pub" >"$T/trust.out" || fail "posternctl keys trust failed"
grep -q 'trusted' "$T/trust.out" || fail "keys trust said: $(cat "$T/trust.out")"

# stats_is EXPR: EXPR holds over `posternctl stats --json` (as j; t = its total).
stats_is() {
	ctl stats --json | python3 -c '
import json, sys
j = json.load(sys.stdin); t = j["total"]
sys.exit(not eval(sys.argv[1]))' "$1"
}

peer_bg gw gw gateway gw --duration 90
wait_for 10 stats_is 't["sessions"] >= 1' || fail "the gateway did not connect"
# The bystander flows for 15 s, past every step below; the victim would flow for
# much longer, and goes silent when revoked: after 300 ms without an answer it
# handshakes again (the relay never says a session has ended, protocol.md §3.4).
peer_bg by ag agent bystander --tunnel crm --channels 2 --count 3000 --rate 200 --window 8 \
	--size 300 --loss-timeout 3000 --timeout 60 -v
peer_bg vic ag agent victim --tunnel crm --channels 1 --count 100000 --rate 200 --window 8 \
	--loss-timeout 1000 --reconnect-after 300 --timeout 8 -v
wait_for 10 stats_is 't["channels"] >= 3 and t["sessions"] == 3' ||
	fail "victim and bystander channels not all open: $(ctl status --json)"
sleep 1
stats_is 't["drops"]["token_revoked"] == 0 and t["forwarded"] > 500' ||
	fail "before the revocation: $(ctl stats --json)"
pass "victim (token $id_victim) and bystander (token $id_bystander) flowing"

# --- tokens revoke ---------------------------------------------------------------
ctl tokens revoke "$id_victim" >"$T/revoke.out" || fail "posternctl tokens revoke failed"
# Poll the relay for one second from the moment it answered.
python3 - "$B/relay/posternctl" "$sock" <<'PY' ||
import json, subprocess, sys, time
t0 = time.monotonic()
while True:
    out = subprocess.run([sys.argv[1], "--socket", sys.argv[2], "status", "--json"],
                         capture_output=True, text=True, check=True).stdout
    j, took = json.loads(out), time.monotonic() - t0
    if j["sessions"] == 2:
        print(f"ok: the victim's session ended {took * 1000:.0f} ms after the revocation")
        break
    if took > 1.0:
        sys.exit(f"after {took:.2f} s: {j['sessions']} sessions, want 2 (gateway, bystander)")
    time.sleep(0.02)
PY
	fail "the victim's session outlived the revocation by 1 s"
grep -q "token $id_victim revoked" "$T/revoke.out" || fail "revoke said: $(cat "$T/revoke.out")"
grep -q "event=token_revoked id=$id_victim" "$T/relay.log" || fail "no event=token_revoked"
grep -q 'event=control_cmd cmd=tokens.revoke' "$T/relay.log" || fail "revoke not in the audit log"

# The victim's next handshake is refused for its token.
wait_for 5 stats_is 't["drops"]["token_revoked"] >= 1' ||
	fail "no handshake refused as token_revoked: $(ctl stats --json)"
[[ $(http_get relay 9180 /metrics "$T/metrics.txt") == 200 ]] || fail "/metrics: not 200"
n=$(metric_sum "$T/metrics.txt" postern_relay_dropped_packets_total reason=token_revoked)
((n >= 1)) || fail "/metrics: postern_relay_dropped_packets_total{reason=\"token_revoked\"} = $n"
pass "the victim's re-handshake is refused: token_revoked = $n in stats and /metrics"

rc=0
wait "$PID_vic" || rc=$?
((rc == 1)) || fail "revoked agent: exit $rc, want 1: $(cat "$T/vic.json")"
# Its only completed handshake is the first; each INIT after it was refused.
python3 - "$T/vic.json" <<'PY' || fail "the revoked agent: see above"
import json, sys
j = json.load(open(sys.argv[1]))
h = j["hop"]
assert j["received"] < j["sent"] and j["lost"] > 0, ("kept being served", j)
assert j["rehandshakes"] >= 1 and h["inits"] >= 2 and h["handshakes"] == 1, (j["rehandshakes"], h)
print(f"ok: the revoked agent: {j['received']} of {j['sent']} answered; "
      f"INITs after the revocation: {h['inits'] - 1}, none answered")
PY
kill -0 "$PID_by" 2>/dev/null || fail "the bystander finished before the key steps: test too short"

# --- keys untrust ------------------------------------------------------------------
ctl stats --json >"$T/before-untrust.json"
ctl keys untrust "@$P/control2.pub" >"$T/untrust.out" || fail "posternctl keys untrust failed"
grep -q 'no longer trusted' "$T/untrust.out" || fail "untrust said: $(cat "$T/untrust.out")"
grep -q 'event=key_untrusted' "$T/relay.log" || fail "no event=key_untrusted in the log"
sleep 1
ctl stats --json >"$T/after-untrust.json"
python3 - "$T/before-untrust.json" "$T/after-untrust.json" <<'PY' ||
import json, sys
b, a = (json.load(open(f))["total"] for f in sys.argv[1:])
assert a["sessions"] == b["sessions"] == 2 and a["channels"] == b["channels"], (b, a)
assert a["forwarded"] > b["forwarded"], ("traffic stopped", b["forwarded"], a["forwarded"])
for k, v in a["drops"].items():
    if k not in ("token_revoked", "unknown_index", "replayed"):
        assert v == b["drops"][k], ("new drops", k, b["drops"][k], v)
print(f"ok: keys untrust: still {a['sessions']} sessions and {a['channels']} channels, "
      f"{a['forwarded'] - b['forwarded']} packets forwarded in the second after it")
PY
	fail "the untrust changed traffic"
# The untrusted key's token is now refused.
rc=0
peer ag agent late --tunnel crm --count 1 --timeout 3 >"$T/late.json" 2>"$T/late.log" || rc=$?
((rc == 1)) || fail "agent with a token of the untrusted key: exit $rc, want 1"
stats_is 't["drops"]["token_unknown_signer"] >= 1' ||
	fail "no handshake refused as token_unknown_signer: $(ctl stats --json)"
pass "a token signed by the untrusted key is refused (token_unknown_signer)"

# --- the bystander -------------------------------------------------------------------
rc=0
wait "$PID_by" || rc=$?
((rc == 0)) || fail "bystander: exit $rc: $(tail -n 1 "$T/by.log")"
want='j["received"] == j["sent"] == 6000 and j["lost"] == j["duplicate"] == j["corrupt"] == 0'
[[ $(json "$T/by.json" "$want") == True ]] || fail "bystander lost payloads: $(cat "$T/by.json")"
[[ $(json "$T/by.json" 'j["hop"]["handshakes"] == 1 and j["rehandshakes"] == 0') == True ]] ||
	fail "the bystander's session was disturbed: $(json "$T/by.json" 'j["hop"]')"
pass "the bystander's 6000 payloads all came back, on its one session"

kill -TERM "$PID_gw"
wait "$PID_gw" || fail "gateway: $(tail -n 1 "$T/gw.log")"
[[ $(json "$T/gw.json" 'j["hop"]["handshakes"] == 1 and j["channels_closed"] >= 1') == True ]] ||
	fail "gateway: $(cat "$T/gw.json")"
pass "the gateway kept its session; the victim's channel was closed toward it"

kill -TERM "$PID_relay"
rc=0
wait "$PID_relay" || rc=$?
((rc == 0)) || fail "relay exit status $rc after SIGTERM"
grep -q 'event=mbuf_leak' "$T/relay.log" && fail "$(grep mbuf_leak "$T/relay.log")"
out=$(counters_balance "$T/stats.json") || fail "relay counters do not balance"
pass "relay counters balance: $out"
python3 - "$T/stats.json" "$T/vic.json" <<'PY' || fail "refusals and the victim's INITs disagree"
import json, sys
t, v = json.load(open(sys.argv[1]))["total"], json.load(open(sys.argv[2]))
refused = t["drops"]["token_revoked"]
inits = v["hop"]["inits"]
assert refused == inits - 1, ("token_revoked", refused, "victim INITs", inits)
print(f"ok: each of the victim's {refused} INITs after the revocation: token_revoked")
PY
