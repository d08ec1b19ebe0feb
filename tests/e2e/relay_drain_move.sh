#!/usr/bin/env bash
# End to end: draining a relay under traffic moves its agents to another relay
# with no request lost and none answered twice (protocol.md §7 GOAWAY, relay.md
# "Shutdown"). One gateway holds a hop session to both relays; three agents
# flow through relay A. `posternctl drain` on A: every agent gets GOAWAY, moves
# to relay B (handshake, channels re-opened with RESUME) while the payloads in
# flight on A still come back through A; A exits 0 by itself once its last
# channel is closed; B carries the rest. Every payload is echoed exactly once,
# the gateway saw each request once, and both relays' counters balance.
#
#   pst-gw-PID                 pst-relay-PID                    pst-ag-PID
#   hop_peer gateway 10.77.1.2 ── 10.77.1.1  relay A :51820 10.77.2.1 ── 10.77.2.2 hop_peer agent ×3
#   (sessions to A and B,                    $T/a.sock, :9180                    (--relay A
#    echoes held 40 ms)                      relay B :51821                       --relay B)
#                                            $T/b.sock, :9181
#
# The gateway holds each echo back 40 ms, so at 250 payloads/s per channel
# about ten are in flight on every channel at the moment A starts draining.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

# Each relay gets its own EAL file prefix; postern-relay removes only the runtime
# directory of its default prefix, so these are removed here, whatever happens.
PREFIX_A=pst-dm-a-$$
PREFIX_B=pst-dm-b-$$
drain_move_cleanup() {
	local rc=$?
	set +e		# hand e2e_cleanup the test's status in $?
	rm -rf "/var/run/dpdk/$PREFIX_A" "/var/run/dpdk/$PREFIX_B"
	(exit $rc)
	e2e_cleanup
}
trap drain_move_cleanup EXIT

star gw ag
relay_ip=${RELAY_IP[ag]}	# the agents' side; the gateway's is ${RELAY_IP[gw]}

pki_init
"$B/relay/posternctl" genkey -o "$P/relay-b.key"
"$B/relay/posternctl" pubkey "$P/relay-b.key" >"$P/relay-b.pub"
pki_endpoint gw gateway acme crm
AGENTS=(ag1 ag2 ag3)
for a in "${AGENTS[@]}"; do pki_endpoint "$a" agent acme crm; done

CHANNELS=2
COUNT=4000	# 16 s per agent at RATE: the drain comes a few seconds in
RATE=250
TOTAL=$((${#AGENTS[@]} * CHANNELS * COUNT))

ctl_a() { "$B/relay/posternctl" --socket "$T/a.sock" "$@"; }
ctl_b() { "$B/relay/posternctl" --socket "$T/b.sock" "$@"; }

# relay NAME PORT KEY PREFIX METRICS_PORT: one postern-relay in the relay namespace.
relay() {
	bg "relay_$1" ip netns exec "$(ns relay)" "$B/postern-relay" --listen "0.0.0.0:$2" \
		--workers 2 --private-key "$3" --trust "@$P/control.pub" --eal-memory-mb 64 \
		--eal-arg "--file-prefix=$4" --stats-file "$T/$1-stats.json" \
		--control-socket "$T/$1.sock" --metrics-listen "127.0.0.1:$5" --drain-ms 20000 \
		--log-level info
}
relay a 51820 "$P/relay.key" "$PREFIX_A" 9180
relay b 51821 "$P/relay-b.key" "$PREFIX_B" 9181
wait_for 20 ctl_a status || fail "relay A did not start (no answer on $T/a.sock)"
wait_for 20 ctl_b status || fail "relay B did not start (no answer on $T/b.sock)"

# status_is SOCK EXPR: EXPR holds over `posternctl status --json` of that relay.
status_is() {
	"$B/relay/posternctl" --socket "$1" status --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
sys.exit(not eval(sys.argv[1]))' "$2"
}

hop_peer_bg gw gw gateway gw --relay "${RELAY_IP[gw]}:51820" --relay-key "@$P/relay.pub" \
	--relay "${RELAY_IP[gw]}:51821" --relay-key "@$P/relay-b.pub" --echo-delay 40 \
	--duration 100 -v
wait_for 10 status_is "$T/a.sock" 'j["sessions"] >= 1' || fail "the gateway did not reach A"
wait_for 10 status_is "$T/b.sock" 'j["sessions"] >= 1' || fail "the gateway did not reach B"
pass "one gateway with a hop session to each of relays A and B"

for a in "${AGENTS[@]}"; do
	hop_peer_bg "$a" ag agent "$a" --relay "$relay_ip:51820" --relay-key "@$P/relay.pub" \
		--relay "$relay_ip:51821" --relay-key "@$P/relay-b.pub" --tunnel crm \
		--channels "$CHANNELS" --count "$COUNT" --rate "$RATE" --window 32 --size 200 \
		--loss-timeout 5000 --timeout 60 -v
done
n_ch=$((${#AGENTS[@]} * CHANNELS))
wait_for 10 status_is "$T/a.sock" "j['channels'] >= $n_ch" ||
	fail "the agents' $n_ch channels did not all open on A"
sleep 1.5
ctl_a stats --json >"$T/a-before.json"
for a in "${AGENTS[@]}"; do
	kill -0 "$(eval echo "\$PID_$a")" 2>/dev/null || fail "$a finished before the drain"
done

# --- drain A ---------------------------------------------------------------------
t0=$(date +%s.%N)
ctl_a drain --timeout 20 >"$T/drain.out" || fail "posternctl drain on A failed"
for _ in $(seq 150); do kill -0 "$PID_relay_a" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID_relay_a" 2>/dev/null && fail "relay A still runs 15 s after the drain began"
took=$(python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$t0")
rc=0
wait "$PID_relay_a" || rc=$?
((rc == 0)) || fail "relay A exit status $rc after the drain, want 0"
grep -q 'event=drained' "$T/relay_a.log" || fail "relay A: no event=drained"
grep -q 'event=drain_timeout' "$T/relay_a.log" && fail "relay A waited for its drain timeout"
grep -q 'event=mbuf_leak' "$T/relay_a.log" && fail "relay A: $(grep mbuf_leak "$T/relay_a.log")"
[[ ! -e $T/a.sock ]] || fail "relay A left its control socket behind"
[[ $(json "$T/a-before.json" 'j["total"]["forwarded"] > 1000') == True ]] ||
	fail "no traffic through A before the drain: $(json "$T/a-before.json" 'j["total"]')"
pass "$n_ch channels were flowing through A" \
	"($(json "$T/a-before.json" 'j["total"]["forwarded"]') packets forwarded) when it drained"
pass "relay A drained and exited 0 by itself ${took} s after 'posternctl drain' (limit 20 s)"

# While the agents still run, their channels are on B.
status_is "$T/b.sock" "j['channels'] >= $n_ch and j['sessions'] >= 1 + ${#AGENTS[@]}" ||
	fail "B does not hold the moved channels: $(ctl_b status --json)"
for a in "${AGENTS[@]}"; do
	kill -0 "$(eval echo "\$PID_$a")" 2>/dev/null || fail "$a finished before A was gone"
done
pass "every agent's channels are open on B while A is gone"

for a in "${AGENTS[@]}"; do
	rc=0
	wait "$(eval echo "\$PID_$a")" || rc=$?
	((rc == 0)) || fail "$a: exit $rc: $(tail -n 1 "$T/$a.log")"
done

# Every agent: every request echoed exactly once; the ones sent through A (those in
# flight at GOAWAY included) came back through A, the rest went through B.
python3 - "$CHANNELS" "$COUNT" "${AGENTS[@]/#/$T/}" <<'PY' || fail "agents: see above"
import json, sys
channels, count, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
inflight = 0
for f in files:
    j = json.load(open(f + ".json"))
    a, b = j["relays"]
    name = f.rsplit("/", 1)[1]
    assert j["ok"] and j["sent"] == j["received"] == channels * count, (name, j)
    for k in ("lost", "late", "duplicate", "corrupt", "closed_by_peer", "refused"):
        assert j[k] == 0, (name, k, j[k])
    assert j["moves"] == 1, (name, j["moves"])
    assert a["hop"]["goaways"] >= 1 and a["goaway_at"] is not None, (name, "no GOAWAY from A", a)
    assert a["moved_at"] is not None and b["moved_at"] is None, (name, a["moved_at"], b["moved_at"])
    assert b["connected"] and b["connected_at"] >= a["moved_at"], (name, b)
    for r in (a, b):
        assert r["sent"] > 0 and r["echoed"] == r["sent"], (name, r["relay"], r["echoed"], r)
        assert r["lost"] == r["duplicates"] == r["corrupt"] == r["late"] == 0, (name, r)
    assert b["opened"] == channels and b["resumes"] == channels, (name, "reopen on B", b)
    inflight += a["inflight_at_move"]
    print(f"ok: {name}: {a['sent']} requests through A (GOAWAY at {a['goaway_at']:.2f} s, "
          f"{a['inflight_at_move']} in flight then), {b['sent']} through B; "
          f"0 lost, 0 duplicated")
assert inflight > 0, "no payload was in flight on A when the agents moved: the test proves nothing"
print(f"ok: {inflight} requests in flight on A at GOAWAY all came back through A")
PY

kill -TERM "$PID_gw"
rc=0
wait "$PID_gw" || rc=$?
((rc == 0)) || fail "gateway: exit $rc: $(tail -n 1 "$T/gw.log")"
python3 - "$TOTAL" "$n_ch" "$T/gw.json" "${AGENTS[@]/#/$T/}" <<'PY' || fail "gateway: see above"
import json, sys
total, n_ch, g = int(sys.argv[1]), int(sys.argv[2]), json.load(open(sys.argv[3]))
agents = [json.load(open(f + ".json")) for f in sys.argv[4:]]
ga, gb = g["relays"]
via_a = sum(j["relays"][0]["sent"] for j in agents)
via_b = sum(j["relays"][1]["sent"] for j in agents)
# Each request reached the gateway once: as many echoes as requests, relay by relay.
assert g["echoed"] == total, ("gateway echoed", g["echoed"], "requests", total)
assert ga["echoed"] == via_a and gb["echoed"] == via_b, (ga["echoed"], via_a, gb["echoed"], via_b)
assert g["echo_errors"] == g["echo_dropped"] == g["echo_delay_overflow"] == 0, g
assert ga["goaway_at"] is not None and gb["goaway_at"] is None, (ga["goaway_at"], gb["goaway_at"])
assert gb["resumed"] == n_ch and gb["channels_opened"] == n_ch, gb
print(f"ok: gateway echoed {ga['echoed']} requests through A and {gb['echoed']} through B: "
      f"{total} requests, each once; {gb['resumed']} channels resumed on B")
PY

# --- counters ----------------------------------------------------------------------
# A's last stats file (written at exit) and B's answer: every packet received is
# forwarded, handled or dropped; each relay forwarded at least both ways of its requests.
out=$(counters_balance "$T/a-stats.json") || fail "relay A's final counters do not balance"
pass "relay A's final counters balance: $out"
# (B is still running: its balance is checked on its final stats file below,
# since a live snapshot can catch a keepalive between two counters.)
ctl_b stats --json >"$T/b-stats-live.json" || fail "posternctl stats on B failed"
python3 - "$T/a-stats.json" "$T/b-stats-live.json" "${AGENTS[@]/#/$T/}" <<'PY' ||
import json, sys
a, b = (json.load(open(f))["total"] for f in sys.argv[1:3])
agents = [json.load(open(f + ".json")) for f in sys.argv[3:]]
via_a = sum(j["relays"][0]["sent"] for j in agents)
via_b = sum(j["relays"][1]["sent"] for j in agents)
assert a["forwarded"] >= 2 * via_a, ("A forwarded", a["forwarded"], "requests via A", via_a)
assert b["forwarded"] >= 2 * via_b, ("B forwarded", b["forwarded"], "requests via B", via_b)
assert a["drops"]["shutting_down"] == 0, ("A refused handshakes while draining", a["drops"])
print(f"ok: A forwarded {a['forwarded']} packets for {via_a} requests, "
      f"B {b['forwarded']} for {via_b}")
PY
	fail "relay counters and requests disagree"

kill -TERM "$PID_relay_b"
rc=0
wait "$PID_relay_b" || rc=$?
((rc == 0)) || fail "relay B exit status $rc after SIGTERM"
grep -q 'event=mbuf_leak' "$T/relay_b.log" && fail "relay B: $(grep mbuf_leak "$T/relay_b.log")"
out=$(counters_balance "$T/b-stats.json") || fail "relay B's final counters do not balance"
pass "relay B stopped with exit 0; its final counters balance: $out"
