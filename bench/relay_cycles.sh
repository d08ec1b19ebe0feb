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

ns_add relay
ns_add gw
ns_add ag
veth relay 10.77.1.1/24 gw 10.77.1.2/24
veth relay 10.77.2.1/24 ag 10.77.2.2/24
pki_init
pki_endpoint gw gateway acme crm
pki_endpoint ag1 agent acme crm
pki_endpoint ag2 agent acme crm

peer() { # NS NAME ROLE [args...]
	local n=$1 name=$2 role=$3 addr
	shift 3
	[[ $n == gw ]] && addr=10.77.1.1:51820 || addr=10.77.2.1:51820
	ip netns exec "$(ns "$n")" "$B/tests/e2e/hop_peer" "$role" --relay "$addr" \
		--relay-key "@$P/relay.pub" --key "$P/$name.key" --token "$P/$name.token" "$@"
}

results=$T/results.txt
: >"$results"
for size in "${sizes[@]}"; do
	for ((r = 1; r <= runs; r++)); do
		stats=$T/stats-$size-$r.json
		ip netns exec "$(ns relay)" "$B/postern-relay" --listen 0.0.0.0:51820 --workers 2 \
			--private-key "$P/relay.key" --trust "@$P/control.pub" --stats-file "$stats" \
			>"$T/relay.log" 2>&1 &
		relay=$!
		wait_for 10 test -s "$stats" || fail "relay did not start"
		peer gw gw gateway --duration 300 >"$T/gw.log" 2>&1 &
		gw=$!
		sleep 0.5
		peer ag ag1 agent --tunnel crm --channels 2 --count "$count" --size "$size" --window 64 \
			--timeout 120 >"$T/ag1.json" 2>"$T/ag1.log" &
		a1=$!
		peer ag ag2 agent --tunnel crm --channels 2 --count "$count" --size "$size" --window 64 \
			--timeout 120 >"$T/ag2.json" 2>"$T/ag2.log" &
		a2=$!
		wait "$a1" || true
		wait "$a2" || true
		kill -TERM "$gw" "$relay"
		wait "$relay" || true
		wait "$gw" || true
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

python3 - "$results" "$runs" <<'PY'
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
PY
