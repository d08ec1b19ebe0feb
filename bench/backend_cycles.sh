#!/usr/bin/env bash
# backend_cycles.sh — the relay's busy cycles per packet on its socket and DPDK
# backends, in one run, next to the crypto bound that aead_bench measures in the
# same run. A measurement, not a test (docs/performance.md, "Socket and DPDK
# backends").
#
#   socket:   pst-rb-PID                         pst-relay-PID
#             relaybench ── 10.77.1.2 ══ 10.77.1.1  postern-relay, backend socket,
#                                                  2 workers, /metrics 10.77.1.1:9180
#
#   dpdk:     pst-rb-PID           pst-rt-PID (router)     pst-relay-PID
#             relaybench ── 10.77.2.2 ─ 10.77.2.1
#                                       10.77.1.254 ══ v-rt (no kernel address)
#                                                      net_af_packet0,qpairs=2
#                                                      postern-relay 10.77.1.1, 2 workers
#                        ── 10.77.9.2 ════════ 10.77.9.1 /metrics (kernel veth)
#
# For each backend (socket; dpdk with idle "poll"; dpdk with idle "sleep") one
# relay runs in fresh namespaces, and for each payload size REPS relaybench runs
# (--model stream, closed loop, the same fleet, warm-up and window every time; a
# new --instance per run, so no run meets another's sessions) read from
# relaybench's JSON the relay's busy cycles per packet per worker over the window
# (relay.window.cycles_per_packet_by_worker, from its /metrics), the relay's
# busy share of each worker's wall time (posternctl stats before and after),
# relaybench's own CPU and its loss. The table gives medians over REPS.
#
# The crypto bound of a size is aead_bench's ticks for one seal plus one open of
# that many bytes (in the suite relaybench's sessions use, SUITE): the least a
# relay can spend on a forwarded packet, which it opens from one session and
# seals for the other. "x % of the crypto bound" = crypto ticks ÷ the relay's
# busy cycles per packet: the worker's packet rate as a share of the rate it
# would reach if it did nothing but the AEAD.
#
# usage: bench/backend_cycles.sh BUILD_DIR [REPS] [BACKENDS...]
#   BACKENDS: socket dpdk-poll dpdk-sleep (default: these three), and
#     socket-1w  the socket backend with one worker pinned to CPU 1, relaybench
#                (kernel UDP) pinned to CPU 0
#     memif      the DPDK backend on net_memif, one polling worker pinned to CPU 1,
#                relaybench --transport dpdk as the other memif end on CPU 0: no
#                kernel on the hop path (compare it with socket-1w)
#   environment: SIZES ("64 256 1400"), GATEWAYS (20), AGENTS (100),
#                INFLIGHT (16), WARMUP (2), DURATION (8), SUITE (chacha, or aes:
#                every session on AES-256-GCM, and the bound from its row)
# Needs root (namespaces) and a build with bench/relaybench and bench/aead_bench.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${SIZES:=64 256 1400}" "${GATEWAYS:=20}" "${AGENTS:=100}" "${INFLIGHT:=16}"
: "${WARMUP:=2}" "${DURATION:=8}" "${SUITE:=chacha}"
case $SUITE in
chacha) aead_suite=chachapoly aead_name=ChaCha20-Poly1305 ;;
aes) aead_suite=aesgcm aead_name=AES-256-GCM ;;
*) echo "backend_cycles: SUITE must be chacha or aes, not '$SUITE'" >&2; exit 2 ;;
esac
export SUITE

# --- one backend: runs in a child process with its own namespaces and temp dir --
if [[ -n ${BC_PHASE:-} ]]; then
	source "$here/../tests/e2e/lib.sh"
	e2e_init "$1"
	reps=$2
	phase=$BC_PHASE
	pki_init
	workers=2 relay_pin=() rb_pin=() rb_ns=rb rb_args=() relay_addr=10.77.1.1
	if [[ $phase == socket ]]; then
		star rb
		metrics_addr=10.77.1.1
		backend_conf='backend = "socket";'
	elif [[ $phase == socket-1w ]]; then
		# One worker on CPU 1, relaybench on CPU 0: the topology of "memif".
		star rb
		metrics_addr=10.77.1.1
		backend_conf='backend = "socket";'
		workers=1 relay_pin=(taskset -c 0,1) rb_pin=(taskset -c 0)
	elif [[ $phase == memif ]]; then
		# Two DPDK processes on one shared-memory ring; both poll, each on its CPU.
		ns_add rb
		rb_ns=rb relay_ns=rb metrics_addr=127.0.0.1 relay_addr=10.77.40.1
		memif="net_memif0,socket=$T/memif.sock,socket-abstract=no"
		backend_conf="backend = \"dpdk\";
eal = { memory_mb = 128; args = [ \"--file-prefix=pst-bc-relay-$$\" ]; };
dpdk = { idle = \"poll\"; ports = ( { device = \"$memif,role=server,mac=02:77:40:00:00:01\";
                                     addresses = [ \"10.77.40.1/24\" ]; } ); };"
		workers=1 relay_pin=(taskset -c 0,1)
		rb_args=(--transport dpdk --bind 10.77.40.2 --bind 10.77.40.3
			--eal "--vdev=$memif,role=client,mac=02:77:40:00:00:02 --no-huge -m 128 --file-prefix=pst-bc-rb-$$ -l 0")
		trap 'rc=$?; set +e; rm -rf /var/run/dpdk/pst-bc-relay-$$ /var/run/dpdk/pst-bc-rb-$$
			(exit $rc); e2e_cleanup' EXIT
	else
		dpdk_net rb
		veth relay 10.77.9.1/24 rb 10.77.9.2/24
		metrics_addr=10.77.9.1
		backend_conf="backend = \"dpdk\";
eal = { memory_mb = 256; };
dpdk = { idle = \"${phase#dpdk-}\"; ports = ( $DPDK_PORT ); };"
	fi
	cat >"$T/relay.conf" <<EOF
listen = [ "$relay_addr:51820" ];
workers = $workers;
$backend_conf
private_key = "$P/relay.key";
trusted_keys = [ "@$P/control.pub" ];
control_socket = "$T/relay.sock";
metrics_listen = "$metrics_addr:9180";
metrics_allow_public = true;
stats_file = "$T/stats.json";
drain_ms = 500;
EOF
	ctl() { "$B/relay/posternctl" --socket "$T/relay.sock" "$@"; }
	bg relay ip netns exec "$(ns "${relay_ns:-relay}")" "${relay_pin[@]}" "$B/postern-relay" \
		-c "$T/relay.conf"
	wait_for 30 ctl status || fail "$phase: relay did not start"
	wait_for 10 test -s "$T/stats.json" || fail "$phase: no stats file"
	tsc_hz=$(json "$T/stats.json" 'j["tsc_hz"]')
	if [[ $phase == dpdk-* ]]; then
		# The router learns the relay's MAC before the first handshake.
		ip netns exec "$(ns rt)" ping -c 1 -W 3 10.77.1.1 >/dev/null 2>&1 || true
	fi

	instance=$((RANDOM % 1000 * 60))
	for size in $SIZES; do
		for ((r = 1; r <= reps; r++)); do
			instance=$((instance + 1))
			out=$T/rb-$size-$r
			ctl stats --json >"$out.before.json"
			t0=$(date +%s.%N)
			rc=0
			ip netns exec "$(ns "$rb_ns")" "${rb_pin[@]}" timeout $((WARMUP + DURATION + 60)) \
				"$B/bench/relaybench" run --relay "$relay_addr:51820" "${rb_args[@]}" \
				--relay-key "@$P/relay.pub" --signing-key "$P/control.key" \
				--suite "$SUITE" --instance "$instance" --gateways "$GATEWAYS" --agents "$AGENTS" \
				--channels 1 --handshake-rate 200 --model stream --size "$size" \
				--inflight "$INFLIGHT" --warmup "$WARMUP" --duration "$DURATION" \
				--setup-timeout 20 --loss-timeout 1000 \
				--metrics "http://$metrics_addr:9180/metrics" --json --no-progress \
				>"$out.json" 2>"$out.log" || rc=$?
			t1=$(date +%s.%N)
			ctl stats --json >"$out.after.json"
			((rc == 0)) || fail "$phase $size B run $r: relaybench exited $rc:" \
				"$(tail -n 3 "$out.log")"
			python3 - "$phase" "$size" "$r" "$out" "$t0" "$t1" "$tsc_hz" \
				>>"$BC_OUT" <<'PY'
import json, sys
phase, size, rep, out, t0, t1, hz = sys.argv[1:8]
dt, hz = float(t1) - float(t0), float(hz)
j = json.load(open(out + ".json"))
w = j["relay"]["window"]
if j["relay"]["error"] or not w:
    sys.exit(f"{phase} {size} B run {rep}: relaybench could not scrape the relay: "
             f"{j['relay']['error']}")
def workers(f):
    return json.load(open(f))["workers"]
def field(x, k):
    return (x["counters"] if "counters" in x else x)[k]
busy = [(field(a, "busy_cycles") - field(b, "busy_cycles")) / (hz * dt)
        for a, b in zip(workers(out + ".after.json"), workers(out + ".before.json"))]
g = j["generator"]
cpu = g["cpu"] if isinstance(g["cpu"], list) else [g["cpu"]]
print(json.dumps({
    "backend": phase, "size": int(size), "rep": int(rep),
    "cpp": w["cycles_per_packet"], "cpp_by_worker": w["cycles_per_packet_by_worker"],
    "rx": w["rx_packets"], "forwarded": w["forwarded"], "dropped": w["dropped"],
    "relay_pps": j["throughput"]["relay_pps"], "lost": j["packets"]["lost"],
    "busy_share": busy, "gen_cpu": sum(cpu), "gen_saturated": g["saturated"],
    "warnings": j["warnings"][:2]}))
PY
		done
	done
	kill -TERM "$PID_relay"
	wait "$PID_relay" || fail "$phase: relay exited non-zero after SIGTERM"
	! grep -q 'event=mbuf_leak' "$T/relay.log" || fail "$phase: $(grep event=mbuf_leak "$T/relay.log")"
	exit 0
fi

# --- the whole run ----------------------------------------------------------------
build=$(cd "${1:?usage: $0 BUILD_DIR [REPS] [BACKENDS...]}" && pwd)
reps=${2:-3}
shift 2 2>/dev/null || shift $#
backends=("${@:-socket dpdk-poll dpdk-sleep}")
# shellcheck disable=SC2206
backends=(${backends[*]})
[[ $(id -u) == 0 ]] || { echo "backend_cycles: needs root (network namespaces)" >&2; exit 77; }
for f in postern-relay relay/posternctl bench/relaybench bench/aead_bench; do
	[[ -x $build/$f ]] || { echo "backend_cycles: $build/$f not built" >&2; exit 1; }
done
res=$(mktemp /tmp/postern-backend-cycles.XXXXXX)
trap 'rm -f "$res" "$res.aead"' EXIT
start=$SECONDS

# The crypto bound first, while nothing else of ours runs.
"$build/bench/aead_bench" --seconds 0.3 --json >"$res.aead"
for be in "${backends[@]}"; do
	echo "backend_cycles: $be ($reps × sizes $SIZES, ${WARMUP}s + ${DURATION}s each)" >&2
	BC_PHASE=$be BC_OUT=$res bash "$0" "$build" "$reps" ||
		{ echo "backend_cycles: $be failed" >&2; exit 1; }
done

python3 - "$res" "$res.aead" "$reps" "$((SECONDS - start))" "$aead_suite" "$aead_name" <<'PY'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
suite, suite_name = sys.argv[5], sys.argv[6]
aead = {r["bytes"]: r["ours_ticks"] for r in json.load(open(sys.argv[2]))["results"]
        if r["suite"] == suite}
reps, took = int(sys.argv[3]), int(sys.argv[4])
med = lambda xs: st.median(xs) if xs else float("nan")
def pick(be, size):
    return [r for r in rows if r["backend"] == be and r["size"] == size]
order = ["socket", "socket-1w", "dpdk-poll", "dpdk-sleep", "memif"]
bes = sorted({r["backend"] for r in rows}, key=order.index)
sizes = sorted({r["size"] for r in rows})
print(f"relay busy cycles per packet (busy TSC cycles / packets), median of {reps} runs; "
      f"took {took} s")
print(f"  crypto = aead_bench ticks for one {suite_name} seal + one open of that size;")
print("  % bound = crypto / dpdk cycles per packet (a worker's rate as a share of pure AEAD)")
dp = [b for b in bes if not b.startswith("socket")]
# Each DPDK backend against the socket backend of its own topology: memif runs
# one pinned worker beside a pinned relaybench, as socket-1w does.
def base(b):
    return "socket-1w" if b == "memif" and "socket-1w" in bes else "socket"
hdr = f"{'size':>5}" + "".join(f" {b:>10}" for b in bes)
hdr += "".join(f" {b + '÷' + base(b):>20}" for b in dp)
hdr += f" {'crypto':>7}" + "".join(f" {'%bound ' + b:>17}" for b in dp)
print(hdr)
for z in sizes:
    c = aead.get(z, float("nan"))
    cpp = {b: med([r["cpp"] for r in pick(b, z)]) for b in bes}
    line = f"{z:>5}" + "".join(f" {cpp[b]:>10.0f}" for b in bes)
    line += "".join(f" {cpp[b] / cpp[base(b)] if cpp.get(base(b)) else float('nan'):>20.2f}"
                    for b in dp)
    line += f" {c:>7.0f}" + "".join(f" {100 * c / cpp[b] if cpp[b] else float('nan'):>16.0f}%"
                                    for b in dp)
    print(line)
print()
print("per backend and size (medians): cycles/pkt by worker, relay pps (both legs),")
print("worker busy share of wall time, relaybench CPU (1.0 = one core), packets lost")
for b in bes:
    for z in sizes:
        rs = pick(b, z)
        if not rs:
            continue
        nw = max(len(r["cpp_by_worker"]) for r in rs)
        byw = [med([r["cpp_by_worker"][i] for r in rs if i < len(r["cpp_by_worker"])])
               for i in range(nw)]
        bs = [med([r["busy_share"][i] for r in rs if i < len(r["busy_share"])])
              for i in range(len(rs[0]["busy_share"]))]
        sat = sum(1 for r in rs if r["gen_saturated"])
        print(f"  {b:>10} {z:>5} B  cpp/worker {'/'.join(f'{x:.0f}' for x in byw):>13}"
              f"  pps {med([r['relay_pps'] for r in rs]):>8.0f}"
              f"  busy {'/'.join(f'{100 * x:.0f}%' for x in bs):>9}"
              f"  gen cpu {med([r['gen_cpu'] for r in rs]):.2f}"
              f"{' (saturated %d/%d)' % (sat, len(rs)) if sat else ''}"
              f"  lost {med([r['lost'] for r in rs]):.0f}")
PY
