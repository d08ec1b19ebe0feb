#!/usr/bin/env bash
# Bad input: while a legitimate channel flows, spray the relay (bounded) with
# garbage, truncated, wrong-version, forged, oversize and bad-mac1 packets from
# another namespace, and replay real packets from the agent's own address. The
# channel keeps flowing intact, no sprayed packet gets a single byte back, each
# is counted under its drop reason, and the relay serves a new agent afterwards.
#
#   pst-gw-PID                pst-relay-PID                 pst-ag-PID
#   hop_peer gateway ── 10.77.1.1  postern-relay  10.77.2.1 ── hop_peer agent (long flow)
#                                                  10.77.3.1     + spray.py --replay
#                                                      │
#                                                  pst-evil-PID: spray.py (7 kinds)
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
here=$(cd "$(dirname "$0")" && pwd)

star gw ag evil

pki_init
pki_endpoint gw gateway acme crm
pki_endpoint ag agent acme crm

stats=$T/stats.json
bg relay ip netns exec "$(ns relay)" "$B/postern-relay" --listen 0.0.0.0:51820 --workers 2 \
	--private-key "$P/relay.key" --trust "@$P/control.pub" --stats-file "$stats" \
		--control-socket "$T/relay.sock" --metrics-listen off
wait_for 10 test -s "$stats" || fail "relay did not start"

peer_bg gw gw gateway gw --duration 120
sleep 1

# Real packets to replay later: a short agent run, every packet it sent dumped.
peer ag agent ag --tunnel crm --count 50 --size 200 --dump "$T/replay.bin" >"$T/first.json" \
	2>"$T/first.log" || fail "first agent run failed: $(tail -n 1 "$T/first.log")"

# Both sprays run in the background; legitimate agent runs repeat until they
# finish, so the legitimate traffic overlaps the whole spray.
ip netns exec "$(ns evil)" python3 "$here/spray.py" --target 10.77.3.1:51820 --count 2000 \
	--rate 20000 --seconds 60 >"$T/spray-evil.json" &
evil=$!
E2E_PIDS+=($evil)
ip netns exec "$(ns ag)" python3 "$here/spray.py" --target 10.77.2.1:51820 --count 2000 \
	--rate 5000 --seconds 60 --kinds "" --replay "$T/replay.bin" >"$T/spray-replay.json" &
rep=$!
E2E_PIDS+=($rep)
rounds=0
while kill -0 "$evil" 2>/dev/null || kill -0 "$rep" 2>/dev/null; do
	peer ag agent ag --tunnel crm --channels 2 --count 500 --size 512 --window 8 --timeout 30 \
		>"$T/flow.json" 2>"$T/flow.log" ||
		fail "legitimate flow broke under spray (round $rounds): $(tail -n 1 "$T/flow.log")"
	[[ $(json "$T/flow.json" 'j["received"] == j["sent"] == 1000 and j["corrupt"] == 0') == True ]] ||
		fail "legitimate flow lost or corrupted payloads: $(cat "$T/flow.json")"
	rounds=$((rounds + 1))
	((rounds < 200)) || fail "spray did not end"
done
wait "$evil" || fail "spray failed"
wait "$rep" || fail "replay spray failed"
((rounds >= 2)) || fail "only $rounds legitimate rounds overlapped the spray"
pass "legitimate channel: $rounds rounds of 1000 payloads intact while sprayed"

for f in spray-evil spray-replay; do
	python3 - "$T/$f.json" <<'PY' || fail "$f: the relay answered unauthenticated packets"
import json, sys
s = json.load(open(sys.argv[1]))
for kind, k in s.items():
    assert k["sent_packets"] > 0, f"{kind}: nothing sent"
    assert k["recv_bytes"] == 0, f"{kind}: {k['recv_bytes']} bytes came back for {k['sent_bytes']} sent"
print("ok: " + ", ".join(f"{kind} {k['sent_packets']} sent/0 answered" for kind, k in s.items()))
PY
done

# The relay still admits and serves a new agent.
peer ag agent ag --tunnel crm --count 100 --size 300 >"$T/after.json" 2>"$T/after.log" ||
	fail "relay unhealthy after the spray: $(tail -n 1 "$T/after.log")"
pass "relay healthy after the spray"

kill -TERM "$PID_relay"
wait "$PID_relay" || fail "relay exited non-zero"
python3 - "$stats" "$T/spray-evil.json" "$T/spray-replay.json" <<'PY' || fail "drop accounting wrong"
import json, sys
t = json.load(open(sys.argv[1]))["total"]
evil = json.load(open(sys.argv[2]))
replay = json.load(open(sys.argv[3]))
d = t["drops"]
drops = t["dropped"]
assert t["rx_packets"] == t["forwarded"] + t["handled"] + drops, "rx != forwarded + handled + dropped"
sent = sum(k["sent_packets"] for k in evil.values()) + replay["replay"]["sent_packets"]
# Every sprayed packet that reached the relay is a drop; a few may be lost in the
# kernel before the relay sees them, none may be accepted.
assert 0.98 * sent <= drops <= sent + 5, f"{drops} drops for {sent} sprayed packets: {d}"
def at_least(reason, n):
    assert d.get(reason, 0) >= 0.98 * n, f"{reason}: {d.get(reason, 0)} < {n}"
at_least("bad_version", evil["version"]["sent_packets"])
at_least("bad_mac1", evil["bad_mac1"]["sent_packets"])
at_least("unknown_index", evil["forged_data"]["sent_packets"])
at_least("bad_header", evil["oversize"]["sent_packets"] + evil["truncated"]["sent_packets"] + evil["reserved"]["sent_packets"])
assert d.get("replayed", 0) + d.get("replayed_handshake", 0) + d.get("unknown_index", 0) - evil["forged_data"]["sent_packets"] >= 0.98 * replay["replay"]["sent_packets"] - 5
print(f"ok: {drops} drops for {sent} sprayed packets, by reason: " + ", ".join(f"{k}={v}" for k, v in sorted(d.items()) if v))
PY
