#!/usr/bin/env bash
# Relay busy cycles per packet on the socket backend, spliced traffic.
#
#   pst-gw-PID                 pst-relay-PID                 pst-ag-PID
#   hop_peer gateway ── 10.77.1.1  postern-relay  10.77.2.1 ── hop_peer agent ×2
#                                  2 workers
#
# For each payload size, RUNS runs: a fresh relay, a gateway echoing, two agents
# with 2 channels each pushing COUNT payloads per channel (64 in flight). Every
# payload crosses the relay twice (agent → gateway, gateway → agent). At the end
# the relay's own counters give busy TSC cycles per received packet, per worker
# (cycles of loop iterations that had work, syscalls included). Medians over runs.
# A measurement, not a test: the load generators share the machine's 2 cores.
# Still, a run that lost payloads measured something else, so every run must
# end with nothing lost, its gateway gone and no process left in the
# namespaces; otherwise the script says which run, with the agents' loss and
# the kernel's UDP buffer drops (RcvbufErrors) in each namespace, and exits 1.
# Each run starts from empty namespaces: a gateway left over from an earlier
# run holds the same static key, and its reconnect (after the old relay's
# GOAWAY) takes the gateway session over in the new relay (protocol.md §3.5,
# the newest handshake of an identity wins), so echoes stop.
#
# usage: bench/relay_cycles.sh BUILD_DIR [RUNS] [COUNT] [SIZES...]
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: $0 BUILD_DIR [RUNS] [COUNT] [SIZES...]}
runs=${2:-3}
count=${3:-20000}
shift 3 2>/dev/null || shift $#
sizes=("${@:-64 256 1400}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})
set -- "$build"
source "$here/../tests/e2e/lib.sh"
e2e_init "$@"

star gw ag
pki_init
pki_endpoint gw gateway acme crm
pki_endpoint ag1 agent acme crm
pki_endpoint ag2 agent acme crm


# udp_errors: the kernel's UDP RcvbufErrors, SndbufErrors and InErrors in the relay, gw
# and ag namespaces (9 numbers), counted since each namespace was made.
# shellcheck disable=SC2016  # awk's own $fields
udp_awk='/^Udp:/ && !h { h = 1; for (i = 2; i <= NF; i++) c[$i] = i; next }
	/^Udp:/ { printf "%d %d %d ", $c["RcvbufErrors"], $c["SndbufErrors"], $c["InErrors"] }'
udp_errors() {
	local n
	for n in relay gw ag; do
		ip netns exec "$(ns "$n")" awk "$udp_awk" /proc/net/snmp
	done
}

# alone: fail unless no process runs in any of the namespaces.
alone() {
	local n left
	for n in relay gw ag; do
		left=$(ip netns pids "$(ns "$n")")
		[[ -z $left ]] ||
			fail "$1: still running in $(ns "$n"): $(ps -o args= -p "${left//$'\n'/,}")"
	done
}

results=$T/results.txt
losses=$T/losses.txt
: >"$results"
: >"$losses"
for size in "${sizes[@]}"; do
	for ((r = 1; r <= runs; r++)); do
		stats=$T/stats-$size-$r.json
		alone "before run $r at $size bytes"
		udp_before=$(udp_errors)
		ip netns exec "$(ns relay)" "$B/postern-relay" --listen 0.0.0.0:51820 --workers 2 \
			--private-key "$P/relay.key" --trust "@$P/control.pub" --stats-file "$stats" \
			--control-socket "$T/relay.sock" --metrics-listen off \
			>"$T/relay.log" 2>&1 &
		relay=$!
		wait_for 10 test -s "$stats" || fail "relay did not start"
		# peer_bg's PID_x is hop_peer itself, so the SIGTERM below reaches it: a
		# gateway left running would re-handshake with the next run's relay.
		peer_bg gw gw gateway gw --duration 300
		gw=$PID_gw
		sleep 0.5
		peer_bg ag1 ag agent ag1 --tunnel crm --channels 2 --count "$count" --size "$size" \
			--window 64 --timeout 120
		a1=$PID_ag1
		peer_bg ag2 ag agent ag2 --tunnel crm --channels 2 --count "$count" --size "$size" \
			--window 64 --timeout 120
		a2=$PID_ag2
		wait "$a1" || true
		wait "$a2" || true
		kill -0 "$gw" 2>/dev/null || fail "run $r at $size bytes: the gateway died early"
		kill -TERM "$gw"
		gw_rc=0
		wait "$gw" || gw_rc=$?
		if ((gw_rc != 0)) || [[ ! -s $T/gw.json ]]; then
			fail "run $r at $size bytes: the gateway exited with status $gw_rc and" \
				"summary '$(cat "$T/gw.json")' $(cat "$T/gw.log")"
		fi
		kill -TERM "$relay"
		wait "$relay" || true
		alone "after run $r at $size bytes"
		lost1=$(json "$T/ag1.json" 'j["lost"]')
		lost2=$(json "$T/ag2.json" 'j["lost"]')
		echo "$size $r $lost1 $lost2 $udp_before $(udp_errors)" >>"$losses"
		python3 - "$stats" "$size" "$T/ag1.json" "$T/ag2.json" >>"$results" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
lost = sum(json.load(open(f)).get("lost", 0) for f in sys.argv[3:5])
for i, w in enumerate(s["workers"]):
    c = w["counters"] if "counters" in w else w
    cpp = c["busy_cycles"] / c["busy_packets"] if c["busy_packets"] else 0
    print(sys.argv[2], i, c["rx_packets"], round(cpp), lost)
PY
	done
done

python3 - "$results" "$runs" "$losses" <<'PY'
import statistics, sys, collections
rows = collections.defaultdict(list)
rx = collections.defaultdict(list)
for line in open(sys.argv[1]):
    size, worker, n, cpp, lost = line.split()
    rows[(int(size), int(worker))].append(int(cpp))
    rx[(int(size), int(worker))].append(int(n))
print(f"relay busy cycles per received packet, socket backend, median of {sys.argv[2]} runs")
print(f"{'payload':>8} {'worker':>6} {'rx packets':>11} {'cycles/pkt':>11}")
for (size, w), v in sorted(rows.items()):
    print(f"{size:>8} {w:>6} {int(statistics.median(rx[(size, w)])):>11} {int(statistics.median(v)):>11}")
# Which worker a flow lands on is the kernel's SO_REUSEPORT hash of its 4-tuple: with
# three flows (gateway, two agents) and two workers, one worker gets none 1 run in 4.
print("per run: received packets per worker; payloads lost (agent 1 + agent 2);"
      " kernel UDP drops, RcvbufErrors/SndbufErrors/InErrors")
per_run = collections.defaultdict(list)
for line in open(sys.argv[1]):
    size, worker, n, cpp, lost = line.split()
    per_run[size].append(n)
bad = 0
for line in open(sys.argv[3]):
    f = line.split()
    size, run, lost = f[0], f[1], int(f[2]) + int(f[3])
    before, after = list(map(int, f[4:13])), list(map(int, f[13:22]))
    d = [a - b for a, b in zip(after, before)]
    kern = " ".join(f"{ns} {d[3 * i]}/{d[3 * i + 1]}/{d[3 * i + 2]}"
                    for i, ns in enumerate(("relay", "gw", "ag")))
    nw = len(per_run[size]) // int(sys.argv[2])
    rx = "/".join(per_run[size][(int(run) - 1) * nw:int(run) * nw])
    print(f"{size:>8} run {run}: rx {rx:>15}  lost {lost:>6}   {kern}")
    bad += lost > 0
if bad:
    print(f"FAIL: {bad} run(s) lost payloads: the cycle counts above are not comparable",
          file=sys.stderr)
    sys.exit(1)
PY
