#!/usr/bin/env bash
# relay_dpdk.sh — postern-relay on its DPDK backend: net_af_packet with two queue
# pairs on a veth end that has no kernel address, one worker per queue, the
# relay's own ARP/ND/ICMP and IPv4/IPv6 stack behind a router. Kernel-socket
# hop_peer endpoints in other namespaces splice channels through it.
#
#   pst-gw-PID                 pst-rt-PID (router)               pst-relay-PID
#   hop_peer gateway ── 10.77.2.2 ─ 10.77.2.1                    postern-relay --backend dpdk
#                                   10.77.1.254 ── v-relay ══ v-rt (no address)
#   pst-ag-PID                      fd77:1::fe     tx csum off    └ net_af_packet0,qpairs=2
#   hop_peer agents ── 10.77.3.2 ─ 10.77.3.1                         worker 0 ◀ queue 0
#                      fd77:3::2    fd77:3::1                        worker 1 ◀ queue 1
#                                                                  10.77.1.1/24, fd77:1::1/64
#                                                                  via 10.77.1.254, fd77:1::fe
#
# Checks: the relay answers ping (IPv4 and IPv6, on-link and routed), and
# /metrics (loopback, inside the relay's namespace) counts the ARP, neighbour
# discovery and echo replies; agents over IPv4 and IPv6 get every payload back
# intact (lost 0) through the gateway's session; the kernel's fanout spreads
# the endpoints over both queues, so both workers receive and channels cross
# between them (handoffs); the counters balance, and the port's counters on
# /metrics hold at least every hop packet the agents and the gateway sent;
# SIGTERM exits 0 with every mbuf back in the pool and EAL's runtime
# directory gone. Usage: relay_dpdk.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

AGENTS=8		# per round; the fanout hash decides each one's queue
ROUNDS=3		# more rounds only while one worker has seen nothing yet
COUNT=200		# payloads per channel
if [[ $(id -u) == 0 ]]; then EAL_RUN=/var/run/dpdk; else EAL_RUN=${XDG_RUNTIME_DIR:-/tmp}/dpdk; fi

# --- the network ----------------------------------------------------------------
dpdk_net gw ag

# --- keys and the relay -----------------------------------------------------------
pki_init
pki_endpoint gw gateway acme crm

cat >"$T/relay.conf" <<EOF
listen = [ "0.0.0.0:51820", "[::]:51820" ];
workers = 2;
backend = "dpdk";
private_key = "$P/relay.key";
trusted_keys = [ "@$P/control.pub" ];
control_socket = "$T/relay.sock";
metrics_listen = "127.0.0.1:9180";
stats_file = "$T/stats.json";
drain_ms = 3000;
eal = { memory_mb = 256; };
dpdk = {
  idle = "sleep";
  ports = ( $DPDK_PORT );
};
EOF
ctl() { "$B/relay/posternctl" --socket "$T/relay.sock" "$@"; }

# scrape OUT: GET /metrics inside the relay's namespace into OUT, checked by the
# strict exposition checker.
scrape() {
	ip netns exec "$(ns relay)" python3 - "$1" <<'PY' || return 1
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:9180/metrics", timeout=5)
open(sys.argv[1], "wb").write(r.read())
PY
	python3 "$(dirname "$0")/../metrics_check.py" "$1"
}

# metric FILE EXPR: evaluate the Python expression EXPR over FILE, with
# m(name, **labels): the sum of the samples of family name whose labels match,
# and PORT: the name of the relay's port.
metric() {
	python3 - "$1" "$2" net_af_packet0 <<'PY'
import re, sys
samples = []
for line in open(sys.argv[1]):
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
    if m:
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        samples.append((m.group(1), labels, float(m.group(3))))
def m(name, **want):
    found = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in want.items())]
    assert found, f"no sample {name} {want}"
    return sum(found)
PORT = sys.argv[3]
print(eval(sys.argv[2]))
PY
}

"$B/postern-relay" -c "$T/relay.conf" --check-config >"$T/check.out" ||
	fail "--check-config refused the configuration: $(cat "$T/check.out")"
grep -q 'backend = "dpdk";' "$T/check.out" || fail "--check-config: $(cat "$T/check.out")"
pass "--check-config accepts the DPDK configuration"

bg relay ip netns exec "$(ns relay)" "$B/postern-relay" -c "$T/relay.conf"
wait_for 30 ctl status || fail "relay did not start (no answer on its control socket)"
grep -q 'event=port port=net_af_packet0 driver=net_af_packet .*queues=2 .*link=up' \
	"$T/relay.log" || fail "port not up with 2 queues: $(grep event=port "$T/relay.log")"
pass "net_af_packet0 up: 2 queue pairs, link up"

# --- ping -------------------------------------------------------------------------
# icmp_echo NS ADDR: 3 echo requests, each answered (ping, or raw sockets). A busy
# machine may starve a worker for a while: each request is sent up to 3 times.
icmp_echo() {
	if command -v ping >/dev/null; then
		ip netns exec "$(ns "$1")" ping -c 3 -i 0.2 -W 3 -w 15 "$2" >/dev/null
		return
	fi
	ip netns exec "$(ns "$1")" python3 - "$2" <<'PY'
import os, socket, struct, sys, time
dst = sys.argv[1]
v6 = ":" in dst
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                  socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
ident = os.getpid() & 0xffff
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
def echo(seq):
    data = b"postern-%04d" % seq
    hdr = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, seq)
    if not v6:    # the kernel fills in the ICMPv6 checksum itself
        hdr = struct.pack("!BBHHH", 8, 0, csum(hdr + data), ident, seq)
    s.sendto(hdr + data, (dst, 0))
    end = time.time() + 2
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            pkt = s.recv(2048)
        except socket.timeout:
            return False
        icmp = pkt if v6 else pkt[(pkt[0] & 15) * 4:]
        if icmp[0] == (129 if v6 else 0) and struct.unpack("!HH", icmp[4:8]) == (ident, seq) \
                and icmp[8:] == data:
            return True
    return False
for seq in range(3):
    if not any(echo(seq) for _ in range(3)):
        sys.exit(f"no answer to echo {seq}")
PY
}
icmp_echo rt 10.77.1.1 || fail "no echo reply from 10.77.1.1 (on-link)"
icmp_echo rt fd77:1::1 || fail "no echo reply from fd77:1::1 (on-link, neighbour discovery)"
icmp_echo ag 10.77.1.1 || fail "no echo reply from 10.77.1.1 (through the router)"
pass "the relay answers ping: IPv4 and IPv6, on-link and routed"

# What the port's layer counted of it: the router's ARP request answered, its
# neighbour solicitation answered, 3 + 3 IPv4 and 3 IPv6 echoes replied to.
scrape "$T/metrics-ping.txt" || fail "/metrics after ping: not valid exposition format"
want='m("postern_port_arp_messages_total", port=PORT, type="request", direction="in") > 0 and \
m("postern_port_arp_messages_total", port=PORT, type="reply", direction="out") > 0 and \
m("postern_port_nd_messages_total", port=PORT, type="solicitation", direction="in") > 0 and \
m("postern_port_nd_messages_total", port=PORT, type="advertisement", direction="out") > 0 and \
m("postern_port_icmp_echo_replies_total", port=PORT, family="ipv4") >= 6 and \
m("postern_port_icmp_echo_replies_total", port=PORT, family="ipv6") >= 3 and \
m("postern_port_l2_rx_handled_total", port=PORT) > 0'
[[ $(metric "$T/metrics-ping.txt" "$want") == True ]] ||
	fail "/metrics after ping: $(grep -E 'postern_port_(arp|nd|icmp)' "$T/metrics-ping.txt")"
pass "/metrics: ARP and ND answered, $(metric "$T/metrics-ping.txt" \
	'int(m("postern_port_icmp_echo_replies_total"))') echo replies on net_af_packet0"

# --- channels through both workers ------------------------------------------------
peer_bg gw gw gateway gw --duration 120
sleep 1

# agent_bg LOG RELAY: an agent in namespace ag with its own key (one identity is one
# session: a second handshake with the same key replaces the first), 2 channels ×
# COUNT payloads of mixed size.
agent_bg() {
	local log=$1 relay=$2 size=$((64 + RANDOM % 1200))
	pki_endpoint "$log" agent acme crm
	ip netns exec "$(ns ag)" "$B/tests/e2e/hop_peer" agent --relay "$relay" \
		--relay-key "@$P/relay.pub" --key "$P/$log.key" --token "$P/$log.token" \
		--tunnel crm --channels 2 --count "$COUNT" --size "$size" --window 16 \
		--loss-timeout 5000 --timeout 40 >"$T/$log.json" 2>"$T/$log.log" &
	E2E_PIDS+=($!)
	eval "PID_$log=$!"
}

# relay_drops: the relay's non-zero drop counters per worker, for failure messages.
relay_drops() {
	ctl stats --json >"$T/drops.json" 2>/dev/null || { echo "(no stats)"; return; }
	python3 - "$T/drops.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print("; ".join("worker %d: %s" % (w["worker"], {k: v for k, v in w["drops"].items() if v})
                for w in j["workers"]))
PY
}

# agents_ok LOG...: each agent exits 0 with every payload back, byte for byte.
agents_ok() {
	local log pid
	for log in "$@"; do
		eval "pid=\$PID_$log"
		wait "$pid" || fail "$log: $(tail -n 1 "$T/$log.log"); relay drops: $(relay_drops)"
		[[ $(json "$T/$log.json" "j['received'] == j['sent'] == 2 * $COUNT and \
j['lost'] == 0 and j['corrupt'] == 0") == True ]] ||
			fail "$log: not every payload came back intact: $(cat "$T/$log.json")"
	done
}

# spread: both workers received packets and some channel crossed between them.
spread() {
	ctl stats --json >"$T/ctl-stats.json" || return 1
	[[ $(json "$T/ctl-stats.json" 'len(j["workers"]) == 2 and \
all(w["rx_packets"] > 0 for w in j["workers"]) and j["total"]["handoff_out"] > 0') == True ]]
}

agent_bg ag6 "[fd77:1::1]:51820"
round=0 logs=(ag6)
while ((round < ROUNDS)); do
	round=$((round + 1))
	batch=()
	for i in $(seq "$AGENTS"); do
		agent_bg "ag${round}_$i" 10.77.1.1:51820
		batch+=("ag${round}_$i")
	done
	agents_ok "${batch[@]}"
	logs+=("${batch[@]}")
	spread && break
done
agents_ok ag6
spread || fail "after $round rounds of agents one worker still saw nothing: \
$(cat "$T/ctl-stats.json")"
pass "${#logs[@]} agents (one over IPv6) × 2 channels × $COUNT payloads back intact, lost 0"

python3 - "$T/ctl-stats.json" <<'PY' || fail "posternctl stats: see above"
import json, sys
j = json.load(open(sys.argv[1]))
t, ws = j["total"], j["workers"]
assert t["rx_packets"] == t["forwarded"] + t["handled"] + t["dropped"], t
for k in ("rx_packets", "forwarded", "handoff_out", "handoff_in"):
    assert t[k] == sum(w[k] for w in ws), (k, t[k], [w[k] for w in ws])
assert t["handoff_out"] == t["handoff_in"], t
print("ok: per worker rx " + ", ".join(str(w["rx_packets"]) for w in ws) +
      f"; handoffs {t['handoff_out']}; counters balance")
PY

# Every payload an agent sent is one DATA packet to the relay, and its echo one
# more from the gateway: the port received at least that many frames, the
# Ethernet/IP layer handed at least that many hop packets to the core.
sent=0
for log in "${logs[@]}"; do sent=$((sent + $(json "$T/$log.json" 'j["sent"]'))); done
scrape "$T/metrics.txt" || fail "/metrics: not valid exposition format"
want="m('postern_port_rx_packets_total', port=PORT) >= 2 * $sent and \
m('postern_port_l2_rx_hop_packets_total', port=PORT) >= 2 * $sent and \
m('postern_relay_rx_packets_total') >= 2 * $sent and \
m('postern_port_l2_rx_frames_total', port=PORT) >= \
m('postern_port_l2_rx_hop_packets_total', port=PORT)"
[[ $(metric "$T/metrics.txt" "$want") == True ]] ||
	fail "/metrics: the port counted fewer than the $((2 * sent)) hop packets sent:" \
		"$(grep -E '^postern_port_(rx_packets|l2_rx_(frames|hop))' "$T/metrics.txt")"
pass "/metrics: net_af_packet0 received $(metric "$T/metrics.txt" \
	'int(m("postern_port_rx_packets_total"))') frames," \
	"at least the $((2 * sent)) hop packets sent"

# --- a clean stop -----------------------------------------------------------------
kill -TERM "$PID_gw" 2>/dev/null || true
relay_pid=$PID_relay
kill -TERM "$relay_pid"
wait "$relay_pid" || fail "relay exited non-zero after SIGTERM"
grep -q 'event=mbuf_leak' "$T/relay.log" && fail "$(grep event=mbuf_leak "$T/relay.log")"
grep -q 'event=exit status=0' "$T/relay.log" || fail "no clean exit in the log"
grep -q 'event=port_stopped port=net_af_packet0' "$T/relay.log" ||
	fail "no port summary in the log"
[[ ! -e $EAL_RUN/postern-$relay_pid ]] || fail "EAL runtime directory left behind"
python3 - "$T/stats.json" <<'PY' || fail "final counters do not balance"
import json, sys
t = json.load(open(sys.argv[1]))["total"]
assert t["rx_packets"] == t["forwarded"] + t["handled"] + t["dropped"], t
PY
pass "SIGTERM: exit 0, every mbuf back in the pool, EAL directory removed"
