#!/usr/bin/env bash
# relaybench_memif.sh — relaybench's DPDK transport against postern-relay's DPDK
# backend over net_memif: two DPDK processes and a shared-memory ring, no kernel
# socket on the hop path. relaybench brings its own Ethernet/IP/UDP (the relay's
# dataplane layer), answers the relay's ARP for its addresses and resolves the
# relay's MAC; every endpoint still does a real Noise handshake and hop AEAD.
#
#   namespace rbd-m-PID (loopback only: /metrics and the control socket)
#   ┌────────────────────────────────────────────────────────────────────────┐
#   │ relaybench --transport dpdk               postern-relay, backend dpdk │
#   │ -l 0: one fleet thread on CPU 0, polling  CPU 1: one worker, polling  │
#   │ net_memif0 role=client ═══ $T/memif.sock ═══ net_memif0 role=server   │
#   │ 02:77:40:00:00:02                          02:77:40:00:00:01          │
#   │ --bind 10.77.40.2, 10.77.40.3  ──UDP──▶   10.77.40.1/24 :51820        │
#   │ file prefix rbd-rb-PID                     file prefix rbd-relay-PID  │
#   │                                            /metrics 127.0.0.1:9180    │
#   └────────────────────────────────────────────────────────────────────────┘
#
# Checks: a closed-loop rr run and a closed-loop stream run, 20 gateways and 100
# agents: every handshake and channel completes, every message and packet comes
# back (loss 0) with its bytes verified; the relay forwarded what relaybench
# counted (see the tolerances below) and dropped nothing in the window; relaybench
# reports the transport it used and its poll loop's busy share as the saturation
# measure, closes its port with every mbuf back in its pool and leaves no EAL
# directory.
# A third run keeps 1600 frames out against the 1024-slot ring: relaybench's TX
# queue holds what the ring cannot take and gives up none of its frames.
# Bad --transport dpdk command lines exit 2 naming the option. The relay stops
# on SIGTERM with every mbuf back, its counters balancing, no EAL directory left.
# Prints the rates and the relay's busy cycles per packet.
# Usage: relaybench_memif.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

GATEWAYS=20
AGENTS=100
if [[ $(id -u) == 0 ]]; then EAL_RUN=/var/run/dpdk; else EAL_RUN=${XDG_RUNTIME_DIR:-/tmp}/dpdk; fi
# A process killed on a failure path leaves its EAL runtime directory behind.
# set +e: under errexit, a failing step would end the trap before e2e_cleanup ran.
trap 'rc=$?; set +e; rm -rf "${EAL_RUN:?}/rbd-rb-$$" "${EAL_RUN:?}/rbd-relay-$$"
	e2e_cleanup $rc' EXIT
cpus=$(nproc)
rb_cpu=0
relay_cpu=$((cpus > 1 ? 1 : 0))	# each poller on a CPU of its own where there are two

NS=rbd-m-$$
ip netns add "$NS"
E2E_NS+=("$NS")
ip -n "$NS" link set lo up

pki_init
"$B/bench/relaybench" keygen -o "$P/bench.key" >"$P/bench.pub"
MEMIF="net_memif0,socket=$T/memif.sock,socket-abstract=no"

# --- bad command lines first: nothing to start ----------------------------------------
bad() {
	local want=$1 rc=0
	shift
	"$B/bench/relaybench" run --relay 10.77.40.1:51820 --relay-key "@$P/relay.pub" \
		--signing-key "$P/bench.key" "$@" >"$T/bad.out" 2>"$T/bad.err" || rc=$?
	((rc == 2)) || fail "relaybench $*: exit $rc, want 2: $(cat "$T/bad.err")"
	[[ ! -s $T/bad.out ]] || fail "relaybench $*: wrote to stdout: $(cat "$T/bad.out")"
	(($(wc -l <"$T/bad.err") == 1)) || fail "relaybench $*: not one line: $(cat "$T/bad.err")"
	grep -qF -- "$want" "$T/bad.err" || fail "relaybench $*: '$want' not in: $(cat "$T/bad.err")"
}
bad "--transport dpdk: missing --eal" --transport dpdk --bind 10.77.40.2
bad "--transport dpdk: missing --bind" --transport dpdk --eal "--vdev=$MEMIF,role=client"
bad "--eal: only with --transport dpdk" --eal "--vdev=$MEMIF,role=client"
bad "--eal: -c: give the CPUs with -l" --transport dpdk --bind 10.77.40.2 --eal "-c 0x1"
bad "--bind: 'fd77:40::2' is not of the same address family" --transport dpdk \
	--bind fd77:40::2 --eal "--vdev=$MEMIF,role=client"
pass "bad --transport dpdk command lines exit 2 with one line naming the option"

# --- the relay: the memif server, started first -------------------------------------------
cat >"$T/relay.conf" <<EOF
listen = [ "10.77.40.1:51820" ];
workers = 1;
backend = "dpdk";
private_key = "$P/relay.key";
trusted_keys = [ "@$P/bench.pub" ];
control_socket = "$T/relay.sock";
metrics_listen = "127.0.0.1:9180";
stats_file = "$T/stats.json";
drain_ms = 500;
eal = { memory_mb = 128; args = [ "--file-prefix=rbd-relay-$$" ]; };
dpdk = {
  idle = "poll";
  ports = ( { device = "$MEMIF,role=server,mac=02:77:40:00:00:01";
              addresses = [ "10.77.40.1/24" ]; } );
};
EOF
ctl() { "$B/relay/posternctl" --socket "$T/relay.sock" "$@"; }
# The whole relay on one CPU: EAL's interrupt thread, which unmaps the memif
# regions when relaybench leaves, then runs only between the worker's polls, not
# beside them (docs/relay.md, net_memif).
bg relay ip netns exec "$NS" taskset -c "$relay_cpu" "$B/postern-relay" -c "$T/relay.conf"
wait_for 30 ctl status || fail "relay did not start (no answer on its control socket)"
wait_for 5 test -S "$T/memif.sock" || fail "the relay made no memif socket"
pass "relay up as memif server on $T/memif.sock, worker on CPU $relay_cpu"

# rb NAME ARGS...: one relaybench run over memif; JSON in $T/NAME.json, stderr in $T/NAME.log.
# Timeout: EAL and the link (seconds), the run (setup + warm-up + window + drain), margin.
rb() {
	local name=$1 rc=0
	shift
	timeout -s INT -k 10 90 ip netns exec "$NS" "$B/bench/relaybench" run \
		--relay 10.77.40.1:51820 --relay-key "@$P/relay.pub" --signing-key "$P/bench.key" \
		--transport dpdk --bind 10.77.40.2 --bind 10.77.40.3 \
		--eal "--vdev=$MEMIF,role=client,mac=02:77:40:00:00:02 --no-huge -m 128 --file-prefix=rbd-rb-$$ -l $rb_cpu" \
		--gateways "$GATEWAYS" --agents "$AGENTS" --handshake-rate 200 --loss-timeout 5000 \
		--metrics http://127.0.0.1:9180/metrics --json "$@" >"$T/$name.json" 2>"$T/$name.log" ||
		rc=$?
	((rc == 0)) || fail "$name: relaybench exited $rc: $(tail -n 5 "$T/$name.log")"
	grep -q 'relaybench: dpdk: port net_memif0 closed: every mbuf back in the pool' \
		"$T/$name.log" || fail "$name: no clean port close: $(tail -n 5 "$T/$name.log")"
	[[ ! -e $EAL_RUN/rbd-rb-$$ ]] || fail "$name: relaybench left $EAL_RUN/rbd-rb-$$ behind"
}

# check NAME CHUNKS_MAX INFLIGHT: what a run over memif must show.
#
# Tolerances. (1) The relay's window counters run from the /metrics scrape just
# after the window opens to the one after the drain; relaybench counts the
# packets sent inside the window and follows them to their end. They differ by
# the warm-up packets still in flight at the first scrape (at most 2 legs x
# channels x in-flight messages x chunks per message) and by the window packets
# the relay forwarded in the milliseconds before that scrape returned: allowed
# as 2 % of the window's packets. (2) Over the whole run (scrape before the first
# handshake to the scrape after the drain) the relay received every hop packet
# relaybench's port sent, except those sent after the last scrape: the agents'
# CHANNEL_CLOSEs (one per channel) and the odd keepalive; memif loses nothing.
check() {
	python3 - "$T/$1.json" "$2" "$3" "$AGENTS" "$GATEWAYS" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
chunks, inflight, agents, gateways = (int(x) for x in sys.argv[2:6])
channels = agents
h, c, m, p, t = j["handshakes"], j["channels"], j["messages"], j["packets"], j["throughput"]
assert j["config"]["transport"] == "dpdk", j["config"]
assert h["completed"] == h["expected"] == agents + gateways, h
assert c["opened"] == c["expected"] == channels and c["refused"] == 0, c
assert m["sent"] > 0 and m["completed"] == m["sent"] and m["lost"] == 0, m
assert m["unresolved"] == 0, m
assert p["sent"] >= m["sent"] and p["echoed"] == p["sent"] and p["lost"] == 0, p
for k in ("late", "duplicate", "corrupt", "tx_errors", "not_connected"):
    assert p[k] == 0, (k, p)
# Every echo's payload was checked against what was sent (corrupt 0), all of it came back.
assert t["bytes_echoed"] == t["bytes_sent"] > 0, t
g = j["generator"]
assert g["transport"] == "dpdk" and g["saturation_measure"] == "poll_busy", g
assert len(g["busy"]) == g["threads"] == 1 and 0 < g["busy"][0] <= 1, g
assert g["cpu_max"] == g["busy"][0], g
assert g["tx_errors"] == 0 and g["rx_errors"] == 0, g
d = g["dpdk"]
assert d["driver"] == "net_memif" and d["link_up"] and d["queues"] == 1, d
assert d["mbufs"]["all_back"] and d["mbufs"]["in_use_after"] == d["mbufs"]["in_use_before"], d
assert d["handoffs"]["ring_drops"] == 0 and d["device"]["tx_unsent"] == 0, d
assert d["arp"]["replies_in"] >= 1, ("the relay's MAC came from its ARP reply", d["arp"])
r = j["relay"]
assert r and r["error"] is None, r
w, run = r["window"], r["run"]
assert w["dropped"] == 0, ("relay drops in the window", w["drops"])
# Handshakes included. Only if the relay sent cookies (a slow relay's handshake budget)
# may sources that then retried together meet its per-address rate limit (§5.2).
other = {k: v for k, v in run["drops"].items()
         if v and not (k == "ratelimited" and run["cookies_sent"])}
assert not other, ("relay drops during the run", other)
assert run["handshakes"] >= agents + gateways, run
edge = 2 * channels * inflight * chunks + 0.02 * 2 * p["echoed"]
assert abs(w["forwarded"] - 2 * p["echoed"]) <= edge, \
    ("window: relay forwarded", w["forwarded"], "relaybench 2 x echoed", 2 * p["echoed"], edge)
tail = g["tx_packets"] - run["rx_packets"]
assert 0 <= tail <= channels + agents + gateways, \
    ("run: relaybench sent", g["tx_packets"], "relay received", run["rx_packets"])
assert w["cycles_per_packet"] > 0, w
print(f"ok: {j['config']['model']} x{inflight}: {m['sent']} messages, {p['sent']} packets, "
      f"all back, {t['bytes_echoed']} bytes verified; {m['per_s']:.0f} msg/s, "
      f"relay {t['relay_pps']:.0f} pkt/s in, {t['gbps_relay']:.3f} Gbit/s; "
      f"relay busy {w['cycles_per_packet']:.0f} cycles/packet; "
      f"relay forwarded {w['forwarded']} vs 2 x echoed {2 * p['echoed']} "
      f"(window), received {run['rx_packets']} of {g['tx_packets']} sent (run); "
      f"rtt p50 {p['rtt_us']['p50']} us p99 {p['rtt_us']['p99']} us; "
      f"relaybench poll loop busy {g['busy'][0]:.0%}")
for line in j["warnings"]:
    print("   warning:", line)
PY
}

# rr: MCP-like messages of 200 B..64 KB, up to 55 chunks each, one in flight per channel.
rb rr --model rr --inflight 1 --warmup 1 --duration 3
check rr 55 1 || fail "rr run: see above; $(head -c 600 "$T/rr.json")"
# stream: 1024-byte messages, one packet each, four in flight per channel.
rb stream --model stream --size 1024 --inflight 4 --warmup 1 --duration 3
check stream 1 4 || fail "stream run: see above; $(head -c 600 "$T/stream.json")"
# burst: 16 in flight per channel, 1600 frames out against a 1024-slot memif ring each
# way. What the ring cannot take waits in relaybench's TX queue: relaybench gives up
# none of its own frames. The relay, which has no such queue, may refuse frames for
# relaybench's full ring (event=tx_unsent); a message lost must be one of those.
rb burst --model stream --size 64 --inflight 16 --warmup 1 --duration 2
ip netns exec "$NS" python3 - "$T/burst.metrics" <<'PY' || fail "GET /metrics failed"
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:9180/metrics", timeout=5)
open(sys.argv[1], "wb").write(r.read())
PY
python3 "$(dirname "$0")/../metrics_check.py" "$T/burst.metrics" || fail "/metrics is malformed"
python3 - "$T/burst.json" "$T/relay.log" "$T/burst.metrics" <<'PY' || fail "burst run: see above"
import json, re, sys
j = json.load(open(sys.argv[1]))
logged = sum(int(n) for n in re.findall(r"event=tx_unsent worker=\d+ count=(\d+)",
                                        open(sys.argv[2]).read()))
series = re.findall(r'^postern_worker_tx_unsent_total\{worker="(\d+)"\} (\d+)$',
                    open(sys.argv[3]).read(), re.M)
assert [w for w, _ in series] == ["0"], ("one series per worker", series)
refused = int(series[0][1])
# The log reports the counter once a second: it may lag /metrics, never lead it.
assert refused >= logged, ("/metrics behind the log", refused, logged)
h, m, p, g = j["handshakes"], j["messages"], j["packets"], j["generator"]
d = g["dpdk"]["device"]
assert h["completed"] == h["expected"], h
assert m["sent"] > 0 and p["tx_errors"] == 0 and g["tx_errors"] == 0, (m, p, g["tx_errors"])
assert d["tx_unsent"] == 0, d
assert g["dpdk"]["mbufs"]["all_back"], g["dpdk"]["mbufs"]
assert m["lost"] <= refused, ("lost beyond what the relay refused", m["lost"], refused)
print(f"ok: stream x16: {m['sent']} messages, {m['lost']} lost; relaybench gave up none of "
      f"its frames, {d['tx_waited']} waited for the ring; the relay refused {refused} "
      f"for relaybench's full ring")
PY
pass "three runs over memif: every handshake, channel, message and byte; mbufs all back"

# --- a clean stop ----------------------------------------------------------------------
relay_pid=$PID_relay
kill -TERM "$relay_pid"
wait "$relay_pid" || fail "relay exited non-zero after SIGTERM"
grep -q 'event=mbuf_leak' "$T/relay.log" && fail "$(grep event=mbuf_leak "$T/relay.log")"
grep -q 'event=exit status=0' "$T/relay.log" || fail "no clean exit in the relay's log"
[[ ! -e $EAL_RUN/rbd-relay-$$ ]] || fail "the relay left $EAL_RUN/rbd-relay-$$ behind"
python3 - "$T/stats.json" "$T/relay.log" "$T/rr.json" "$T/stream.json" "$T/burst.json" <<'PY' ||
	fail "relay totals (see above)"
import json, re, sys
t = json.load(open(sys.argv[1]))["total"]
# Frames the relay's device refused (relaybench's RX ring full: the burst run keeps
# 1600 frames out against 1024 slots), each logged as event=tx_unsent.
unsent = sum(int(n) for n in re.findall(r"event=tx_unsent worker=\d+ count=(\d+)",
                                        open(sys.argv[2]).read()))
assert t["rx_packets"] == t["forwarded"] + t["handled"] + t["dropped"], t
assert t["dropped"] == t["drops"].get("ratelimited", 0) * (t["cookies_sent"] > 0), t
runs = [json.load(open(f)) for f in sys.argv[3:]]
sent = sum(j["generator"]["tx_packets"] for j in runs)
got = sum(j["generator"]["rx_packets"] for j in runs)
channels = sum(j["channels"]["opened"] for j in runs)
# Over its lifetime the relay received every hop packet relaybench's port sent,
# but for the last ones of a run: the agents' CHANNEL_CLOSEs (one per channel) may
# still be on the ring when relaybench closes its port, and a memif disconnect
# discards them (relaybench lingers 100 ms first; a busy machine can take longer).
# relaybench received every one the relay sent up to those CHANNEL_CLOSEs: the
# relay's answers to them (at most two per channel, to the gateway and back) come
# after relaybench stopped reading.
assert 0 <= sent - t["rx_packets"] <= channels, (sent, t["rx_packets"], channels)
assert 0 <= t["tx_packets"] - unsent - got <= 2 * channels + 16, \
    (t["tx_packets"], unsent, got, channels)
print(f"ok: relay rx {t['rx_packets']} = forwarded {t['forwarded']} + handled {t['handled']}"
      f" + dropped 0; relaybench sent {sent}, received {got}; relay sent {t['tx_packets']}, "
      f"{unsent} of them refused by a full ring")
PY
pass "SIGTERM: relay exit 0, every mbuf back in its pool, no EAL directory left"
