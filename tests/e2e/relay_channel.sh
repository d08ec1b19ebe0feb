#!/usr/bin/env bash
# End to end: a gateway and agents, each in its own namespace, splice channels
# through postern-relay (socket backend, 2 workers) in a third. Every payload
# comes back byte for byte; a grant outside the agent's tunnels and another
# tenant's tunnel are refused; the relay's counters balance.
#
#   pst-gw-PID                 pst-relay-PID                  pst-ag-PID
#   hop_peer gateway  10.77.1.2 ── 10.77.1.1  postern-relay  10.77.2.1 ── 10.77.2.2  hop_peer agent ×4
#   (tenant acme,                             2 workers                              (acme grant: crm)
#    tunnel crm)                              :51820                                  + one of tenant
#                                                                                     beta, one outside
#                                                                                     its grant
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

star gw ag

pki_init
pki_endpoint gw gateway acme crm
pki_endpoint beta-gw gateway beta crm
for i in 1 2 3 4; do pki_endpoint "ag$i" agent acme crm; done
pki_endpoint ag-beta agent beta crm
pki_endpoint ag-narrow agent acme billing

stats=$T/stats.json
bg relay ip netns exec "$(ns relay)" "$B/postern-relay" --listen 0.0.0.0:51820 --workers 2 \
	--private-key "$P/relay.key" --trust "@$P/control.pub" --stats-file "$stats" \
		--control-socket "$T/relay.sock" --metrics-listen off --log-level info
wait_for 10 test -s "$stats" || fail "relay did not start (no stats file)"

peer_bg gw gw gateway gw --duration 60
peer_bg beta-gw gw gateway beta-gw --duration 60
sleep 1

# Four agents at once, two channels each, 1000 payloads of mixed sizes.
for i in 1 2 3 4; do
	size=$((i == 1 ? 64 : i == 2 ? 256 : i == 3 ? 1024 : 1300))
	peer_bg "ag$i" ag agent "ag$i" --tunnel crm --channels 2 --count 500 --size "$size" \
		--window 32 --timeout 30
done
for i in 1 2 3 4; do
	eval "pid=\$PID_ag$i"
	wait "$pid" || fail "agent $i: $(tail -n 1 "$T/ag$i.log")"
	[[ $(json "$T/ag$i.json" 'j["received"] == j["sent"] == 1000 and j["corrupt"] == 0') == True ]] ||
		fail "agent $i: not every payload came back intact: $(cat "$T/ag$i.json")"
done
pass "4 agents × 2 channels × 500 payloads (64..1300 B) echoed intact through the relay"

# Tenant beta's agent asks for tunnel crm: it must reach beta's gateway, never acme's.
peer ag agent ag-beta --tunnel crm --channels 1 --count 50 --size 200 --timeout 20 \
	>"$T/ag-beta.json" 2>"$T/ag-beta.log" || fail "beta agent: $(tail -n 1 "$T/ag-beta.log")"
pass "tenant beta reaches its own tunnel crm"

# An acme agent whose grant names only 'billing' asks for 'crm': refused, NOT_PERMITTED.
peer ag agent ag-narrow --tunnel crm --channels 1 --count 1 --timeout 10 \
	--expect-close NOT_PERMITTED >"$T/narrow.json" 2>"$T/narrow.log" ||
	fail "agent outside its grant was not refused with NOT_PERMITTED: $(tail -n 1 "$T/narrow.log")"
pass "grant enforced: a tunnel outside the grant → NOT_PERMITTED"

# Stop the relay and check its final counters.
kill -TERM "$PID_relay"
wait "$PID_relay" || fail "relay exited non-zero after SIGTERM"
python3 - "$stats" <<'PY' || fail "relay counters do not balance"
import json, sys
s = json.load(open(sys.argv[1]))
t = s["total"]
drops = t["dropped"]
assert t["rx_packets"] == t["forwarded"] + t["handled"] + drops, (t["rx_packets"], t["forwarded"], t["handled"], drops)
assert t["forwarded"] >= 2 * 8 * 500, t["forwarded"]
assert t["handshakes"] >= 8, t["handshakes"]
print(f"ok: counters balance: rx {t['rx_packets']} = forwarded {t['forwarded']} + handled {t['handled']} + dropped {drops}")
print(f"ok: handoffs between workers: {t['handoff_out']} out, {t['handoff_in']} in")
PY
