#!/usr/bin/env bash
# relay_memif.sh — two DPDK processes over net_memif: postern-relay (the memif
# server, started first) and dpdk-testpmd in txonly mode (the client), which
# sends UDP frames to the relay's address and port at whatever rate the shared
# ring takes. No kernel socket is on the path, so this reaches rates a kernel
# socket cannot. The frames are not hop packets: the relay must drop every one
# under a named reason and answer nothing.
#
#   dpdk-testpmd (file prefix pst-tpmd-PID)        postern-relay (postern-<pid>)
#   --no-huge, lcores 0,1 on CPU 1                  1 worker, idle "poll"
#   net_memif0,role=client ─── memif socket $T/memif.sock ─── net_memif0,role=server
#   02:77:00:00:00:02, txonly                       02:77:00:00:00:01
#   UDP 10.77.1.2:4000 → 10.77.1.1:51820, 64 B      10.77.1.1/24, listen :51820
#
# Checks: the relay receives at a rate (posternctl stats over a measured window);
# every frame testpmd put on the ring reaches the relay's port and every one is
# accounted (rx_frames = rx_hop + rx_handled + rx_dropped at layer 2, the core's
# rx_packets = rx_hop = dropped, with each drop under a named reason); nothing
# is forwarded, handled or sent back; both processes stop clean (testpmd on
# "stop" then "quit", the relay on SIGTERM with every mbuf back in the pool and EAL's runtime
# directory gone). Prints the drop path's rate and busy cycles per packet.
# Usage: relay_memif.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
[[ -x $TESTPMD ]] || { echo "relay_memif: dpdk-testpmd not found (Debian: dpdk-dev)"; exit 77; }
WINDOW=3		# seconds measured while testpmd sends
RUN=$((WINDOW + 30))	# testpmd's bound: start, link, window, stop, quit, margin
if [[ $(id -u) == 0 ]]; then EAL_RUN=/var/run/dpdk; else EAL_RUN=${XDG_RUNTIME_DIR:-/tmp}/dpdk; fi
# testpmd leaves its EAL runtime files behind, whatever the outcome.
trap 'rc=$?; set +e; rm -rf "${EAL_RUN:?}/pst-tpmd-$$"; e2e_cleanup $rc' EXIT
cpus=$(nproc)
tpmd_cpu=$((cpus > 1 ? 1 : 0))

MEMIF="net_memif0,socket=$T/memif.sock,socket-abstract=no"

pki_init
cat >"$T/relay.conf" <<EOF
listen = [ "10.77.1.1:51820" ];
workers = 1;
backend = "dpdk";
private_key = "$P/relay.key";
trusted_keys = [ "@$P/control.pub" ];
control_socket = "$T/relay.sock";
metrics_listen = "off";
stats_file = "$T/stats.json";
drain_ms = 500;
eal = { memory_mb = 128; };
dpdk = {
  idle = "poll";
  ports = ( { device = "$MEMIF,role=server,mac=02:77:00:00:00:01";
              addresses = [ "10.77.1.1/24" ]; } );
};
EOF
ctl() { "$B/relay/posternctl" --socket "$T/relay.sock" "$@"; }

# --- the server side first: the relay ----------------------------------------------
bg relay taskset -c 0 "$B/postern-relay" -c "$T/relay.conf"
wait_for 30 ctl status || fail "relay did not start (no answer on its control socket)"
wait_for 5 test -S "$T/memif.sock" || fail "the relay made no memif socket"
pass "relay up as memif server on $T/memif.sock"

# --- the client: testpmd txonly ----------------------------------------------------
# Interactive, its commands from a FIFO: "stop" ends the traffic while the memif
# link is still up, so the relay drains the ring before "quit" disconnects (frames
# still on the ring at a disconnect are gone). -m 64 with 2048 mbufs, one
# forwarding lcore; timeout bounds it regardless.
mkfifo "$T/tpmd.in"
exec 3<>"$T/tpmd.in"	# read-write: opening does not wait for the other end
timeout -s INT -k 5 "$RUN" stdbuf -oL "$TESTPMD" --lcores "0@$tpmd_cpu,1@$tpmd_cpu" \
	--no-huge -m 64 --no-pci --no-telemetry --file-prefix "pst-tpmd-$$" \
	--vdev "$MEMIF,role=client,mac=02:77:00:00:00:02" \
	-- -i --forward-mode=txonly --nb-cores=1 --rxq=1 --txq=1 --total-num-mbufs=2048 \
	--eth-peer=0,02:77:00:00:00:01 --tx-ip=10.77.1.2,10.77.1.1 --tx-udp=4000,51820 \
	--txpkts=64 <&3 >"$T/tpmd.log" 2>&1 &
E2E_PIDS+=($!)	# not bg: the & of a function would give it /dev/null for stdin
PID_tpmd=$!
echo start >&3

# rx_now FILE: the relay's total rx_packets from a posternctl stats answer.
rx_now() { ctl stats --json >"$1" && json "$1" 'j["total"]["rx_packets"]'; }
rx_moving() { (($(rx_now "$T/s0.json") > 1000)); }
wait_for 20 rx_moving || fail "testpmd's frames do not reach the relay: $(tail -n 5 "$T/tpmd.log")"

# --- the measured window ----------------------------------------------------------
ctl stats --json >"$T/w0.json"
t0=$(date +%s.%N)
sleep "$WINDOW"
ctl stats --json >"$T/w1.json"
t1=$(date +%s.%N)
python3 - "$T/w0.json" "$T/w1.json" "$t0" "$t1" "$T/stats.json" <<'PY' >"$T/rate.txt" ||
import json, sys
a, b = json.load(open(sys.argv[1]))["total"], json.load(open(sys.argv[2]))["total"]
dt = float(sys.argv[4]) - float(sys.argv[3])
hz = json.load(open(sys.argv[5]))["tsc_hz"]
rx = b["rx_packets"] - a["rx_packets"]
bp = b["busy_packets"] - a["busy_packets"]
busy = b["busy_cycles"] - a["busy_cycles"]
idle = b["idle_cycles"] - a["idle_cycles"]
assert rx > 0, "nothing received in the window"
print(f"{rx / dt:.0f} pps, {busy / bp:.0f} busy cycles/packet, "
      f"busy {100 * busy / (busy + idle):.0f}% of the worker's loop, "
      f"{hz / 1e9:.2f} GHz TSC")
PY
	fail "no rate: $(cat "$T/w0.json" "$T/w1.json")"
pass "drop path over memif: $(cat "$T/rate.txt")"

# --- stop the source, then the relay ---------------------------------------------
echo stop >&3
wait_for 10 grep -q 'Forward statistics for port 0' "$T/tpmd.log" ||
	fail "testpmd did not stop forwarding: $(tail -n 5 "$T/tpmd.log")"
sleep 1			# the relay polls the rest of the ring
echo quit >&3
exec 3>&-
rc=0
wait "$PID_tpmd" || rc=$?
((rc == 0)) || fail "testpmd exited $rc on quit: $(tail -n 5 "$T/tpmd.log")"
sent=$(awk '/Forward statistics for port 0/ { p = 1 }
	p && /TX-packets:/ { print $2; exit }' "$T/tpmd.log")
if ! [[ $sent =~ ^[0-9]+$ ]] || ((sent == 0)); then
	fail "no TX count from testpmd: $(tail -n 20 "$T/tpmd.log")"
fi
pass "testpmd stopped and quit clean after putting $sent frames on the ring"

relay_pid=$PID_relay
kill -TERM "$relay_pid"
wait "$relay_pid" || fail "relay exited non-zero after SIGTERM"
grep -q 'event=mbuf_leak' "$T/relay.log" && fail "$(grep event=mbuf_leak "$T/relay.log")"
grep -q 'event=exit status=0' "$T/relay.log" || fail "no clean exit in the log"
[[ ! -e $EAL_RUN/postern-$relay_pid ]] || fail "EAL runtime directory left behind"
pass "SIGTERM: exit 0, every mbuf back in the pool, EAL directory removed"

# --- every frame accounted, nothing answered -------------------------------------
stopped=$(grep 'event=port_stopped port=net_memif0' "$T/relay.log") ||
	fail "no port summary in the log"
python3 - "$T/stats.json" "$sent" "$stopped" <<'PY' || fail "frames not accounted (see above)"
import json, re, sys
t = json.load(open(sys.argv[1]))["total"]
sent = int(sys.argv[2])
l2 = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", sys.argv[3])}
assert l2["rx_frames"] == sent, f"testpmd sent {sent}, the port received {l2['rx_frames']}"
assert l2["rx_frames"] == l2["rx_hop"] + l2["rx_handled"] + l2["rx_dropped"], l2
assert t["rx_packets"] == l2["rx_hop"], (t["rx_packets"], l2)
assert t["rx_packets"] == t["dropped"] == sum(t["drops"].values()), t
assert t["forwarded"] == 0 and t["handled"] == 0, t
assert t["tx_packets"] == 0 and l2["tx_frames"] == 0 and l2["tx_packets"] == 0, (t, l2)
reasons = {k: v for k, v in t["drops"].items() if v}
print(f"ok: {sent} frames sent = {l2['rx_frames']} received = {t['dropped']} dropped "
      f"{reasons}; {t['tx_packets']} sent back")
PY
