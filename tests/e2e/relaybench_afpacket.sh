#!/usr/bin/env bash
# relaybench_afpacket.sh — relaybench's DPDK transport on net_af_packet against a
# relay on kernel sockets: the transport works against any relay. The relay's
# kernel resolves relaybench's addresses by ARP and neighbour discovery, which
# relaybench must answer itself (its addresses exist only on its DPDK port); the
# kernel's fanout spreads replies over relaybench's two queues regardless of which
# fleet thread owns the flow, so frames are handed between the threads.
#
#   rbd-a-PID                                  rbd-b-PID
#   postern-relay, socket backend, 1 worker    relaybench --transport dpdk
#   10.77.40.1/24, fd77:40::1/64               net_af_packet0,iface=v-a,qpairs=2
#   v-b (TX checksum offload off) ════ veth ════ v-a (no kernel address, no IPv6)
#   counters: its stats file                   --bind 10.77.40.2, 10.77.40.3
#                                              --bind fd77:40::2 (IPv6 run)
#
# Checks: an IPv4 run with two fleet threads (frames handed over between them,
# none dropped) while the relay's kernel forgets relaybench's MAC every second
# (so it must ARP, and relaybench answer, mid-run), then an IPv6 run with one
# thread while the kernel forgets its neighbours the same way: every handshake,
# channel, message and byte comes back; relaybench closes its port with every
# mbuf back and leaves no EAL directory; the relay received every hop packet
# relaybench's port sent and dropped none (but rate-limited retries after cookies,
# which only a starved relay sends). (relaybench has no kernel address in
# its namespace to scrape the relay's /metrics from: the relay's stats file says.)
# Usage: relaybench_afpacket.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

GATEWAYS=10
AGENTS=40
if [[ $(id -u) == 0 ]]; then EAL_RUN=/var/run/dpdk; else EAL_RUN=${XDG_RUNTIME_DIR:-/tmp}/dpdk; fi
# set +e: under errexit, a failing step would end the trap before e2e_cleanup ran.
trap 'rc=$?; set +e; rm -rf "${EAL_RUN:?}/rbd-rb-$$"; e2e_cleanup $rc' EXIT
cpus=$(nproc)
relay_cpu=$((cpus > 1 ? 1 : 0))

A=rbd-a-$$
BN=rbd-b-$$
for n in "$A" "$BN"; do
	ip netns add "$n"
	E2E_NS+=("$n")
	ip -n "$n" link set lo up
done
ip link add v-b netns "$A" type veth peer name v-a netns "$BN"
ip -n "$A" addr add 10.77.40.1/24 dev v-b
ip -n "$A" addr add fd77:40::1/64 dev v-b nodad
ip -n "$A" link set v-b up
# The kernel leaves UDP checksums to the "NIC"; af_packet would see them unfilled.
ip netns exec "$A" ethtool -K v-b tx off >/dev/null
# While the kernel re-resolves relaybench's MAC it queues the replies, 212 KB by
# default: less than one burst of 64 KB messages on 40 channels. Room for them all,
# so that a slow answer (a busy CPU) shows as latency, not as loss.
ip netns exec "$A" sysctl -qw net.ipv4.neigh.v-b.unres_qlen_bytes=16777216 \
	net.ipv6.neigh.v-b.unres_qlen_bytes=16777216
ip netns exec "$BN" sysctl -qw net.ipv6.conf.v-a.disable_ipv6=1
ip -n "$BN" link set v-a up

pki_init
"$B/bench/relaybench" keygen -o "$P/bench.key" >"$P/bench.pub"
bg relay ip netns exec "$A" taskset -c "$relay_cpu" "$B/postern-relay" \
	--listen 10.77.40.1:51820 --listen "[fd77:40::1]:51820" --workers 1 \
	--private-key "$P/relay.key" --trust "@$P/bench.pub" --stats-file "$T/stats.json" \
	--control-socket "$T/relay.sock" --metrics-listen off
# EAL touches all its memory at start: seconds on a busy machine.
wait_for 30 "$B/relay/posternctl" --socket "$T/relay.sock" status ||
	fail "relay did not start (no answer on its control socket)"
wait_for 10 test -s "$T/stats.json" || fail "relay did not start (no stats file)"
pass "relay up on kernel sockets, 10.77.40.1 and fd77:40::1 port 51820"

# forget SECONDS: the relay's kernel drops its neighbour entries every second, so
# each reply after that needs a fresh ARP / neighbour solicitation answered. Only
# resolved entries: deleting one still INCOMPLETE would drop the replies the kernel
# queued on it, a loss of the test's making.
forget() {
	local i
	for ((i = 0; i < $1; i++)); do
		sleep 1
		ip -n "$A" neigh flush dev v-b nud reachable nud stale nud delay nud probe \
			2>/dev/null || true
	done
}

# rb NAME THREADS ARGS...: one relaybench run on the af_packet port.
rb() {
	local name=$1 threads=$2 rc=0
	shift 2
	timeout -s INT -k 10 90 ip netns exec "$BN" "$B/bench/relaybench" run \
		--relay-key "@$P/relay.pub" --signing-key "$P/bench.key" --transport dpdk \
		--eal "--vdev=net_af_packet0,iface=v-a,qpairs=$threads --no-huge -m 128 --file-prefix=rbd-rb-$$ -l 0" \
		--threads "$threads" --gateways "$GATEWAYS" --agents "$AGENTS" --handshake-rate 200 \
		--loss-timeout 5000 --warmup 1 --duration 3 --json "$@" >"$T/$name.json" 2>"$T/$name.log" || rc=$?
	((rc == 0)) || fail "$name: relaybench exited $rc: $(tail -n 5 "$T/$name.log")"
	grep -q 'relaybench: dpdk: port net_af_packet0 closed: every mbuf back in the pool' \
		"$T/$name.log" || fail "$name: no clean port close: $(tail -n 5 "$T/$name.log")"
	[[ ! -e $EAL_RUN/rbd-rb-$$ ]] || fail "$name: relaybench left $EAL_RUN/rbd-rb-$$ behind"
}

# check NAME: every handshake, channel, message and byte; the neighbour answers.
check() {
	python3 - "$T/$1.json" "$AGENTS" "$GATEWAYS" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
agents, gateways = int(sys.argv[2]), int(sys.argv[3])
h, c, m, p, t = j["handshakes"], j["channels"], j["messages"], j["packets"], j["throughput"]
assert h["completed"] == h["expected"] == agents + gateways, h
assert c["opened"] == c["expected"] == agents and c["refused"] == 0, c
assert m["sent"] > 0 and m["completed"] == m["sent"] and m["lost"] == 0, m
assert p["echoed"] == p["sent"] and p["lost"] == 0, p
for k in ("late", "duplicate", "corrupt", "tx_errors", "not_connected"):
    assert p[k] == 0, (k, p)
assert t["bytes_echoed"] == t["bytes_sent"] > 0, t
g, d = j["generator"], j["generator"]["dpdk"]
assert g["transport"] == "dpdk" and g["saturation_measure"] == "poll_busy", g
assert d["driver"] == "net_af_packet" and d["mbufs"]["all_back"], d
assert d["handoffs"]["ring_drops"] == 0 and d["device"]["tx_unsent"] == 0, d
if g["threads"] > 1:
    # af_packet's fanout knows nothing of which thread owns a flow: frames cross.
    assert d["handoffs"]["out"] > 0 and d["handoffs"]["in"] > 0, d["handoffs"]
ipv6 = j["config"]["relay"].startswith("[")
asked = d["neighbour"]["nd_solicits_in"] if ipv6 else d["arp"]["requests_in"]
answered = d["neighbour"]["nd_adverts_out"] if ipv6 else d["arp"]["replies_out"]
assert asked >= 1 and answered >= asked, ("the kernel asked for our MAC", d["arp"],
                                          d["neighbour"])
print(f"ok: IPv{6 if ipv6 else 4}, {g['threads']} thread(s): {m['sent']} messages, "
      f"{p['sent']} packets back, {t['bytes_echoed']} bytes verified, "
      f"{t['relay_pps']:.0f} pkt/s into the relay; the kernel asked for our MAC "
      f"{asked} times, answered {answered}; handoffs {d['handoffs']['out']}, "
      f"busy {', '.join(f'{b:.0%}' for b in g['busy'])}")
PY
}

forget 8 &
E2E_PIDS+=($!)
rb v4 2 --relay 10.77.40.1:51820 --bind 10.77.40.2 --bind 10.77.40.3 --idle sleep
check v4 || fail "IPv4 run: see above; $(head -c 600 "$T/v4.json")"
forget 8 &
E2E_PIDS+=($!)
rb v6 1 --relay "[fd77:40::1]:51820" --bind fd77:40::2 --instance 1
check v6 || fail "IPv6 run: see above; $(head -c 600 "$T/v6.json")"
pass "IPv4 (two threads, handoffs) and IPv6 runs against a socket relay, neighbours answered"

kill -TERM "$PID_relay"
wait "$PID_relay" || fail "relay exited non-zero after SIGTERM"
python3 - "$T/stats.json" "$T/v4.json" "$T/v6.json" <<'PY' || fail "relay totals (see above)"
import json, sys
t = json.load(open(sys.argv[1]))["total"]
assert t["rx_packets"] == t["forwarded"] + t["handled"] + t["dropped"], t
# Only if the relay answered with cookies (a slow relay's handshake budget) may
# sources that then retried together meet its per-address rate limit (§5.2).
assert t["dropped"] == t["drops"].get("ratelimited", 0) * (t["cookies_sent"] > 0), t
sent = sum(json.load(open(f))["generator"]["tx_packets"] for f in sys.argv[2:])
# A veth loses nothing: every hop packet relaybench's port sent reached the relay.
assert t["rx_packets"] == sent, (t["rx_packets"], sent)
print(f"ok: relay rx {t['rx_packets']} = relaybench tx {sent}, dropped {t['dropped']}")
PY
pass "relay stopped cleanly: it received every packet sent, counters balance"
