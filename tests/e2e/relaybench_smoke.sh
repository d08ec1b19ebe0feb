#!/usr/bin/env bash
# End to end: relaybench against a real postern-relay on the loopback of a
# private namespace. A closed-loop run (50 gateways, 200 agents, 2 channels
# each) and a 2-second open-loop run must complete every handshake and
# channel, lose nothing, report ordered and plausible latency percentiles and
# a relay that dropped nothing; a two-step sweep finds its knee; bad command
# lines exit 2 naming the option; a relay that does not hold the pinned key
# makes relaybench exit 1 and says why.
#
#   pst-rb-PID (loopback only)
#   ┌──────────────────────────────────────────────────────────────────┐
#   │ relaybench ── 127.0.0.{1..4} ──▶ 127.0.0.1:51820 postern-relay    │
#   │ 50 gateways + 200 agents,          2 workers, /metrics :9180      │
#   │ one UDP socket each                trusts relaybench's key        │
#   └──────────────────────────────────────────────────────────────────┘
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

ns_add rb
pki_init
"$B/bench/relaybench" keygen -o "$P/bench.key" >"$P/bench.pub"
[[ $("$B/relay/posternctl" pubkey --signing "$P/bench.key") == "$(cat "$P/bench.pub")" ]] ||
	fail "relaybench keygen printed a public key posternctl does not derive from the key"
pass "relaybench keygen writes a signing key posternctl reads and prints its public key"

stats=$T/stats.json
metrics=http://127.0.0.1:9180/metrics
bg relay ip netns exec "$(ns rb)" "$B/postern-relay" --listen 127.0.0.1:51820 --workers 2 \
	--private-key "$P/relay.key" --trust "@$P/bench.pub" --stats-file "$stats" \
	--control-socket "$T/relay.sock" --metrics-listen 127.0.0.1:9180
wait_for 10 test -s "$stats" || fail "relay did not start (no stats file)"
wait_for 10 http_get rb 9180 /ready "$T/ready.txt" || fail "relay /ready did not answer"

# relaybench COMMAND [ARGS...] in the namespace, against the relay, from four addresses.
rbcmd() {
	local cmd=$1
	shift
	ip netns exec "$(ns rb)" "$B/bench/relaybench" "$cmd" --relay 127.0.0.1:51820 \
		--relay-key "@$P/relay.pub" --signing-key "$P/bench.key" \
		--bind 127.0.0.1 --bind 127.0.0.2 --bind 127.0.0.3 --bind 127.0.0.4 "$@"
}
rb() { rbcmd run "$@"; }

# check FILE: what every run must show: nothing lost, ordered latencies, a clean relay.
check() {
	python3 - "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["schema"] == "relaybench.run/1", j["schema"]
h, c, m, p = j["handshakes"], j["channels"], j["messages"], j["packets"]
assert h["completed"] == h["expected"] == 250, h
assert c["opened"] == c["expected"] == 400 and c["refused"] == 0, c
assert m["sent"] > 0 and m["completed"] == m["sent"] and m["lost"] == 0, m
assert m["unresolved"] == 0, m
assert p["sent"] >= m["sent"] and p["echoed"] == p["sent"] and p["lost"] == 0, p
for k in ("late", "duplicate", "corrupt", "tx_errors", "not_connected"):
    assert p[k] == 0, (k, p)
for name, lat in (("rtt", p["rtt_us"]), ("message", m["latency_us"])):
    keys = ["min", "p50", "p90", "p99", "p99_9", "max"]
    vals = [lat[k] for k in keys]
    assert vals == sorted(vals), (name, lat)
    assert lat["count"] > 0 and 0 < lat["min"] and lat["max"] < 5e6, (name, lat)
    assert lat["p50"] < 1e6, (name, "median round trip over a second", lat)
assert m["latency_us"]["min"] >= p["rtt_us"]["min"], "a message cannot beat its packets"
t = j["throughput"]
assert t["round_trips_per_s"] > 0 and t["relay_pps"] == 2 * t["round_trips_per_s"], t
r = j["relay"]
assert r and r["error"] is None, r
w, run = r["window"], r["run"]
assert w["dropped"] == 0, ("relay drops in the window", w["drops"])
# Whole run, handshakes included. Only if the relay sent cookies may sources that
# then retried together meet its per-address rate limit (docs/protocol.md §5.2).
other = {k: v for k, v in run["drops"].items()
         if v and not (k == "ratelimited" and run["cookies_sent"])}
assert not other, ("relay drops during the run", other)
assert run["handshakes"] >= 250, run
assert w["forwarded"] >= p["echoed"] and w["cycles_per_packet"] > 0, w
g = j["generator"]
assert g["threads"] == len(g["cpu"]) and all(0 < x < 4 for x in g["cpu"]), g
assert isinstance(g["saturated"], bool)
print(f"ok: {j['config']['loop']} loop: {m['sent']} messages, {p['sent']} packets, all back; "
      f"rtt p50 {p['rtt_us']['p50']} us p99 {p['rtt_us']['p99']} us; "
      f"relay {w['cycles_per_packet']:.0f} cycles/packet, 0 drops; "
      f"generator cpu {max(g['cpu']):.0%}, cookies {h['cookies']}")
for line in j["warnings"]:
    print("   warning:", line)
PY
}

# A generous loss timeout: the machine running the test may be busy, and a late
# echo is still an echo; loss here would mean the relay dropped or mis-spliced.
rb --gateways 50 --agents 200 --channels 2 --inflight 1 --handshake-rate 100 \
	--loss-timeout 5000 --warmup 1 --duration 3 --metrics "$metrics" --json \
	>"$T/closed.json" 2>"$T/closed.log" ||
	fail "closed-loop run failed: $(tail -n 3 "$T/closed.log")"
check "$T/closed.json" || fail "closed-loop run: $(cat "$T/closed.json")"
[[ ! -s $T/closed.log ]] || grep -q 'GENERATOR\|cookies' "$T/closed.log" ||
	fail "unexpected stderr from a clean run: $(cat "$T/closed.log")"

rb --gateways 50 --agents 200 --channels 2 --rate 2000 --model stream --size 200 \
	--handshake-rate 100 --loss-timeout 5000 --warmup 0.5 --duration 2 \
	--metrics "$metrics" --json >"$T/open.json" 2>"$T/open.log" ||
	fail "open-loop run failed: $(tail -n 3 "$T/open.log")"
check "$T/open.json" || fail "open-loop run: $(cat "$T/open.json")"
python3 - "$T/open.json" <<'PY' || fail "open-loop run did not offer its rate"
import json, sys
j = json.load(open(sys.argv[1]))
o, m = j["open_loop"], j["messages"]
# Poisson arrivals at 2000/s for 2 s: 4000 expected, sd 63.
assert abs(m["sent"] - 4000) < 400 and not o["behind"] and o["skipped"] == 0, (o, m)
assert j["packets"]["sent"] == m["sent"], "stream: one packet per message"
assert j["throughput"]["bytes_echoed"] == 200 * m["sent"], j["throughput"]
print(f"ok: open loop offered {o['offered']:.0f}, sent {m['sent']}, send lag p99 "
      f"{o['send_lag_us']['p99']} us")
PY

# A two-step sweep with a loose service level: both steps pass, the knee is the last.
rbcmd sweep --gateways 5 --agents 10 --channels 2 --rate-from 200 --rate-to 400 --steps 2 \
	--warmup 0.5 --duration 1 --slo-p99 2000 --max-loss 1 --loss-timeout 5000 \
	--metrics "$metrics" --json >"$T/sweep.json" 2>"$T/sweep.log" ||
	fail "sweep failed: $(tail -n 3 "$T/sweep.log")"
python3 - "$T/sweep.json" <<'PY' || fail "sweep: $(cat "$T/sweep.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["schema"] == "relaybench.sweep/1", j["schema"]
assert [round(s["rate"]) for s in j["steps"]] == [200, 400], j["steps"]
assert all(s["pass"] and s["packets_lost"] == 0 for s in j["steps"]), j["steps"]
assert j["knee"]["rate"] == 400 and j["limited_by"] == "range", (j["knee"], j["limited_by"])
print(f"ok: sweep 200 -> 400 msg/s: both steps pass, knee {j['knee']['rate']:.0f} msg/s")
PY

# Bad command lines: exit 2, one line on stderr naming the option, nothing on stdout.
bad() {
	local want=$1 rc=0
	shift
	"$B/bench/relaybench" "$@" >"$T/bad.out" 2>"$T/bad.err" || rc=$?
	((rc == 2)) || fail "relaybench $*: exit $rc, want 2: $(cat "$T/bad.err")"
	[[ ! -s $T/bad.out ]] || fail "relaybench $*: wrote to stdout: $(cat "$T/bad.out")"
	(($(wc -l <"$T/bad.err") == 1)) || fail "relaybench $*: not one line: $(cat "$T/bad.err")"
	grep -qF -- "$want" "$T/bad.err" ||
		fail "relaybench $*: '$want' not in: $(cat "$T/bad.err")"
}
base=(run --relay 127.0.0.1:51820 --relay-key "@$P/relay.pub" --signing-key "$P/bench.key")
bad "--duration: '7200' is above 3600 seconds" "${base[@]}" --duration 7200
bad "--gateways: 'many'" "${base[@]}" --gateways many
bad "--rate and --inflight exclude" "${base[@]}" --rate 100 --inflight 2
bad "--size: '10' is out of range" "${base[@]}" --model stream --size 10
bad "--metrics: 'ftp://127.0.0.1/'" "${base[@]}" --metrics ftp://127.0.0.1/
bad "--relay: '127.0.0.1'" run --relay 127.0.0.1 --relay-key "@$P/relay.pub" --signing-key x
bad "unknown option '--gatways'" "${base[@]}" --gatways 5
bad "missing --signing-key" run --relay 127.0.0.1:51820 --relay-key "@$P/relay.pub"
bad "--relay-key:" run --relay 127.0.0.1:51820 --relay-key "@$T/none" --signing-key x
cp "$P/bench.key" "$T/open.key"
chmod 644 "$T/open.key"
bad "--signing-key:" run --relay 127.0.0.1:51820 --relay-key "@$P/relay.pub" \
	--signing-key "$T/open.key"
bad "unknown command 'bench'" bench
bad "missing --rate-to" sweep --relay 127.0.0.1:51820 --relay-key k --signing-key x
bad "missing --pps-per-core" plan
pass "bad command lines exit 2 with one line naming the option"

# A relay key that is not the relay's: mac1 is wrong, the relay answers nothing,
# relaybench gives up after --setup-timeout and says what to check.
bad_mac1() {
	http_get rb 9180 /metrics "$T/metrics.txt" >/dev/null
	metric_sum "$T/metrics.txt" postern_relay_dropped_packets_total reason=bad_mac1
}
before=$(bad_mac1)
rc=0
ip netns exec "$(ns rb)" "$B/bench/relaybench" run --relay 127.0.0.1:51820 \
	--relay-key "@$P/bench.pub" --signing-key "$P/bench.key" --gateways 2 --agents 0 \
	--setup-timeout 2 >"$T/wrong.out" 2>"$T/wrong.err" || rc=$?
((rc == 1)) || fail "wrong relay key: exit $rc, want 1: $(cat "$T/wrong.err")"
grep -q 'no gateway completed a handshake' "$T/wrong.err" ||
	fail "wrong relay key: no explanation: $(cat "$T/wrong.err")"
after=$(bad_mac1)
((after >= before + 2)) || fail "wrong relay key: the relay counted $((after - before)) bad_mac1"
pass "a wrong --relay-key: exit 1 after --setup-timeout; the relay counted bad_mac1," \
	"answered nothing"

kill -TERM "$PID_relay"
wait "$PID_relay" || fail "relay exited non-zero after SIGTERM"
python3 - "$stats" <<'PY' || fail "relay counters do not balance"
import json, sys
t = json.load(open(sys.argv[1]))["total"]
assert t["rx_packets"] == t["forwarded"] + t["handled"] + t["dropped"], t
PY
pass "relay stopped cleanly, its counters balance"
