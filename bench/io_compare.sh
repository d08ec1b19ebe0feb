#!/usr/bin/env bash
# io_compare.sh — mmsg vs io_uring in the socket backend, under the same load.
#
#   udp_load (CPU 0) ──UDP 127.0.0.1──▶ sock_bench, 1 worker (CPU 1), echo core
#            ◀──────── echoes ─────────   (bench/echo_core.c: RX + TX path only)
#
#   udp_load (CPU 0) ──garbage UDP────▶ postern-relay, 1 worker (CPU 1), real core
#                                            (every packet dropped: RX path + classify)
#
# For each engine and each load, RUNS runs of SECONDS each, engines alternating
# run by run; per run it records the packets the worker received per second,
# the echoes the load generator got back, the worker's busy TSC cycles per
# packet (relay_worker_account: iterations that had work, syscalls included)
# and the worker thread's CPU time per packet (/proc utime + stime: busy,
# spin and syscalls; sleep excluded). Prints a markdown table of medians.
# A measurement, not a test. Usage: io_compare.sh BUILD_DIR [RUNS] [SECONDS]
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR [RUNS] [SECONDS]}
runs=${2:-3}
secs=${3:-4}
bench=$build/bench/sock_bench
load=$build/bench/udp_load
relay=$build/postern-relay
ctl=$build/relay/posternctl
port=$((40000 + RANDOM % 20000))
tmp=$(mktemp -d /tmp/io_compare.XXXXXX)
bench_pid=

cleanup() {
	[[ -n $bench_pid ]] && kill "$bench_pid" 2>/dev/null && wait "$bench_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

tick=$(getconf CLK_TCK)
"$ctl" genkey -o "$tmp/relay.key"
"$ctl" genkey -o "$tmp/control.key"
"$ctl" pubkey --signing "$tmp/control.key" >"$tmp/control.pub"

# worker_cpu_ticks PID: utime + stime of the worker lcore thread.
worker_cpu_ticks() {
	local t
	for t in /proc/"$1"/task/*; do
		if [[ $(cat "$t/comm") == rte-worker-1 ]]; then
			awk '{ print $14 + $15 }' "$t/stat"
			return
		fi
	done
	echo 0
}

kv() { # KEY FILE: value of KEY=... in the first line that has it
	grep -o "$1=[0-9.]*" "$2" | head -n1 | cut -d= -f2
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# one IO LOAD_ARGS...: one run; prints "rx echoed cycles_per_packet cpu_ns_per_packet"
one() {
	local io=$1 t0 t1
	shift
	taskset -c 1 "$bench" --io "$io" --workers 1 --seconds $((secs + 3)) \
		--listen "127.0.0.1:$port" >"$tmp/bench.out" 2>"$tmp/bench.err" &
	bench_pid=$!
	sleep 1.5
	t0=$(worker_cpu_ticks "$bench_pid")
	taskset -c 0 "$load" --to "127.0.0.1:$port" --seconds "$secs" "$@" >"$tmp/load.out"
	t1=$(worker_cpu_ticks "$bench_pid")
	kill -INT "$bench_pid"
	wait "$bench_pid" || true
	bench_pid=
	local rx echoed cpp
	rx=$(kv rx_packets "$tmp/bench.out")
	echoed=$(kv received "$tmp/load.out")
	cpp=$(kv cycles_per_packet "$tmp/bench.out")
	awk -v rx="$rx" -v e="$echoed" -v c="$cpp" -v d=$((t1 - t0)) -v tk="$tick" -v s="$secs" \
		'BEGIN { printf "%d %d %d %.0f\n", rx / s, e / s, c, rx ? d / tk * 1e9 / rx : 0 }'
}

# one_relay IO LOAD_ARGS...: the real core, garbage only (nothing is echoed).
one_relay() {
	local io=$1 t0 t1
	shift
	rm -f "$tmp/stats.json"
	taskset -c 1 "$relay" --listen "127.0.0.1:$port" --workers 1 --io "$io" \
		--private-key "$tmp/relay.key" --trust "@$tmp/control.pub" \
		--stats-file "$tmp/stats.json" --log-level warn 2>"$tmp/relay.err" &
	bench_pid=$!
	sleep 1.5
	t0=$(worker_cpu_ticks "$bench_pid")
	taskset -c 0 "$load" --to "127.0.0.1:$port" --seconds "$secs" "$@" >"$tmp/load.out"
	t1=$(worker_cpu_ticks "$bench_pid")
	kill -TERM "$bench_pid"
	wait "$bench_pid" || true
	bench_pid=
	python3 - "$tmp/stats.json" "$secs" $((t1 - t0)) "$tick" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))["total"]
secs, ticks, hz = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rx = t["rx_packets"]
print("%d 0 %d %.0f" % (rx / secs, t["cycles_per_packet"], ticks / hz * 1e9 / rx if rx else 0))
EOF
}

printf '| engine | core | load | rx pps | echoed pps | busy cycles/pkt | worker CPU ns/pkt |\n'
printf '|---|---|---|---|---|---|---|\n'
for scenario in "echo:max 64B, echoes read:--size 64 --flows 16 --recv" \
	    "echo:max 64B, echoes ignored:--size 64 --flows 16" \
	    "echo:max 1400B, echoes read:--size 1400 --flows 16 --recv" \
	    "echo:100k pps 64B:--size 64 --flows 16 --recv --pps 100000" \
	    "relay:max 64B garbage:--size 64 --flows 16" \
	    "relay:100k pps 64B garbage:--size 64 --flows 16 --pps 100000"; do
	core=${scenario%%:*}
	rest=${scenario#*:}
	name=${rest%%:*}
	read -r -a args <<<"${rest#*:}"
	: >"$tmp/res.mmsg"
	: >"$tmp/res.uring"
	for _ in $(seq "$runs"); do
		for io in mmsg uring; do
			if [[ $core == echo ]]; then
				one "$io" "${args[@]}" >>"$tmp/res.$io"
			else
				one_relay "$io" "${args[@]}" >>"$tmp/res.$io"
			fi
		done
	done
	for io in mmsg uring; do
		r=$tmp/res.$io
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$io" "$core" "$name" \
			"$(cut -d' ' -f1 "$r" | median)" "$(cut -d' ' -f2 "$r" | median)" \
			"$(cut -d' ' -f3 "$r" | median)" "$(cut -d' ' -f4 "$r" | median)"
	done
done
