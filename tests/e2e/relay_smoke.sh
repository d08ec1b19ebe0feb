#!/usr/bin/env bash
# relay_smoke.sh — postern-relay as an operator meets it: --help, --version,
# --check-config, the messages for a bad file, a bad flag and an unsafe key;
# then, for each socket I/O engine, a real start on loopback with 2 workers,
# garbage UDP at it, SIGTERM, and the counters it leaves behind.
#
#   garbage sender (python3, 16 source ports)
#        │  UDP: empty, short, bad version, forged DATA, oversize, random
#        ▼
#   127.0.0.1:PORT ─┐
#   [::1]:PORT ─────┴─▶ postern-relay --workers 2 (socket backend, EAL --no-huge)
#                          ├─▶ stats.json  (every second and at exit)
#                          └─▶ stderr log  (key=value lines)
#
# Checks: every garbage packet is received and dropped under its reason
# (rx = forwarded + handled + dropped, in total); SIGTERM exits 0 within the
# drain time; nothing is left in EAL's runtime directory; no mbuf leaked.
# Engines: mmsg, uring (multishot receive) and uring with the batched receive
# of kernels before 6.0.
# Loopback only; no namespaces. Usage: relay_smoke.sh BUILD_DIR
set -euo pipefail

B=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
RELAY=$B/postern-relay
CTL=$B/relay/posternctl
T=$(mktemp -d "${TMPDIR:-/tmp}/postern-relay-smoke.XXXXXX")
PORT=$((20000 + RANDOM % 20000))
DRAIN_MS=3000
relay_pid=
checks=0
# Where EAL keeps its runtime directory (postern-<pid> inside).
if [[ $(id -u) == 0 ]]; then
	EAL_RUN=/var/run/dpdk
else
	EAL_RUN=${XDG_RUNTIME_DIR:-/tmp}/dpdk
fi

cleanup() {
	local rc=$?
	if [[ -n $relay_pid ]] && kill -0 "$relay_pid" 2>/dev/null; then
		kill -KILL "$relay_pid" 2>/dev/null || true
		wait "$relay_pid" 2>/dev/null || true
		rm -rf "$EAL_RUN/postern-$relay_pid"
	fi
	if ((rc != 0)) && [[ -f $T/relay.log ]]; then
		echo "--- relay log (last 30 lines)" >&2
		tail -n 30 "$T/relay.log" >&2
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() {
	checks=$((checks + 1))
	echo "ok $checks - $*"
}

# run WANT_RC ARGS...: postern-relay in the foreground; stdout/stderr kept.
run() {
	local want=$1 rc=0
	shift
	"$RELAY" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[[ $rc == "$want" ]] ||
		fail "postern-relay $* exited $rc, want $want; stderr: $(cat "$T/err")"
}
err_is_one_line_with() {
	grep -qF -- "$1" "$T/err" || fail "stderr lacks '$1': $(cat "$T/err")"
	[[ $(grep -c . "$T/err") == 1 ]] || fail "stderr is not one line: $(cat "$T/err")"
}

# --- keys and a configuration ---------------------------------------------------
"$CTL" genkey -o "$T/relay.key"
"$CTL" genkey -o "$T/control.key"
"$CTL" pubkey --signing "$T/control.key" >"$T/control.pub"
relay_pub=$("$CTL" pubkey "$T/relay.key")
cp "$T/relay.key" "$T/open.key"
chmod 644 "$T/open.key"

have_v6=0
python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' \
	2>/dev/null && have_v6=1
listen="\"127.0.0.1:$PORT\""
((have_v6)) && listen="$listen, \"[::1]:$PORT\""

cat >"$T/relay.conf" <<EOF
# postern-relay smoke test
listen = [ $listen ];
workers = 2;
private_key = "$T/relay.key";
trusted_keys = [ "@$T/control.pub" ];
drain_ms = $DRAIN_MS;
stats_file = "$T/stats.json";
eal = { memory_mb = 128; };
EOF

# --- what needs no start --------------------------------------------------------
run 0 --help
grep -q '^Usage: postern-relay' "$T/out" || fail "--help: $(cat "$T/out")"
grep -q -- '--check-config' "$T/out" || fail "--help does not list --check-config"
ok "--help"

run 0 --version
grep -qE '^postern-relay [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || fail "--version: $(cat "$T/out")"
ok "--version"

run 0 -c "$T/relay.conf" --check-config --workers 1
grep -qx 'workers = 1;' "$T/out" || fail "--check-config ignores --workers: $(cat "$T/out")"
grep -qF "$relay_pub" "$T/out" || fail "--check-config does not show the public key"
grep -qF "$(cat "$T/relay.key")" "$T/out" && fail "--check-config prints the private key"
ok "--check-config prints the effective configuration, flags applied, no secret"

# The printed configuration is itself a valid file.
cp "$T/out" "$T/printed.conf"
run 0 -c "$T/printed.conf" --check-config
ok "--check-config output reads back"

sed 's/^workers = 2;/wokers = 2;/' "$T/relay.conf" >"$T/typo.conf"
run 1 -c "$T/typo.conf"
err_is_one_line_with "$T/typo.conf:3: unknown setting 'wokers' (did you mean 'workers'?)"
ok "a typo in the file: exit 1, file, line and name"

sed 's/^drain_ms = .*/drain_ms = "soon";/' "$T/relay.conf" >"$T/type.conf"
run 1 -c "$T/type.conf"
err_is_one_line_with "$T/type.conf:6: drain_ms: must be an integer, not a string"
ok "a wrong type: exit 1, file, line and name"

run 1 -c "$T/relay.conf" --listen 127.0.0.1
err_is_one_line_with "--listen '127.0.0.1':"
ok "a bad flag value: exit 1, named"

run 2 -c "$T/relay.conf" --no-such-flag
grep -qF "unknown option '--no-such-flag'" "$T/err" || fail "$(cat "$T/err")"
ok "an unknown flag: exit 2"

run 1 -c "$T/relay.conf" --private-key "$T/open.key"
err_is_one_line_with "$T/open.key has mode 0644"
grep -qF "chmod 600 $T/open.key" "$T/err" || fail "no fix in: $(cat "$T/err")"
ok "a private key readable by others is refused, with the fix"

# --- garbage ------------------------------------------------------------------
# send_garbage: crafted packets from 16 source ports to every listener; prints
# "KIND COUNT" lines. Paced (well under what loopback drops), so every packet
# is received.
send_garbage() {
	python3 - "$PORT" "$have_v6" >"$T/sent" <<'EOF'
import os, random, socket, struct, sys, time
port, have_v6 = int(sys.argv[1]), sys.argv[2] == "1"
rng = random.Random(7)
kinds = {
    # protocol.md §2: too short for any type -> bad_header
    "empty": lambda: b"",
    "short": lambda: bytes([4, 1, 0]),
    # §2: version is not 1 -> bad_version
    "version": lambda: bytes([4, 2, 0, 0]) + os.urandom(60),
    # §4.1: DATA whose receiver index nobody chose -> unknown_index
    "forged_data": lambda: (bytes([4, 1, 0, 0]) + os.urandom(4) + struct.pack("<Q", 0)
                            + os.urandom(32)),
    # §2.5: longer than HOP_MTU -> bad_header (the backend truncates it, still too long)
    "oversize": lambda: bytes([4, 1, 0, 0]) + os.urandom(1496),
}
targets = [("127.0.0.1", socket.AF_INET)] + ([("::1", socket.AF_INET6)] if have_v6 else [])
socks = [(socket.socket(af, socket.SOCK_DGRAM), host) for host, af in targets for _ in range(8)]
counts = {k: 0 for k in kinds}
for i in range(40):
    for kind, make in kinds.items():
        s, host = socks[(i + len(kind)) % len(socks)]
        s.sendto(make(), (host, port))
        counts[kind] += 1
    time.sleep(0.002)
for k, n in counts.items():
    print(k, n)
EOF
}

# wait_stats N: until stats.json shows N received packets (at most 5 s).
wait_stats() {
	python3 - "$T/stats.json" "$1" <<'EOF'
import json, sys, time
path, want = sys.argv[1], int(sys.argv[2])
for _ in range(50):
    try:
        if json.load(open(path))["total"]["rx_packets"] >= want:
            break
    except (OSError, ValueError):
        pass
    time.sleep(0.1)
EOF
}

# check_stats IO: the counters the relay left against what was sent; prints
# each failed check, exits 1 if any.
check_stats() {
	python3 - "$T/stats.json" "$T/sent" "$1" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
sent = {k: int(n) for k, n in (line.split() for line in open(sys.argv[2]))}
io, t, bad = sys.argv[3], j["total"], []
total = sum(sent.values())
def want(what, got, expect):
    if got != expect:
        bad.append(f"{io}: {what} = {got}, want {expect}")
want("rx_packets", t["rx_packets"], total)
want("forwarded + handled + dropped", t["forwarded"] + t["handled"] + t["dropped"], t["rx_packets"])
want("sum of the drop reasons", sum(t["drops"].values()), t["dropped"])
want("dropped", t["dropped"], total)
want("tx_packets (answers to garbage)", t["tx_packets"], 0)
# protocol.md §2, §2.5, §4.1: which reason each kind gets
want("drops.bad_header", t["drops"]["bad_header"], sent["empty"] + sent["short"] + sent["oversize"])
want("drops.bad_version", t["drops"]["bad_version"], sent["version"])
want("drops.unknown_index", t["drops"]["unknown_index"], sent["forged_data"])
want("workers", len(j["workers"]), 2)
# 16 flows over 2 reuseport sockets: all on one worker has odds 2^-15
want("workers that received", sum(w["rx_packets"] > 0 for w in j["workers"]), 2)
want("workers with cycle accounting",
     sum(w["busy_packets"] > 0 and w["cycles_per_packet"] > 0 for w in j["workers"]), 2)
want("per-worker rx summing to the total", sum(w["rx_packets"] for w in j["workers"]), total)
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

# --- one real run per I/O engine ------------------------------------------------
# uring-batch: io_uring with plain RECVMSGs re-armed, what kernels before 6.0 get
# (POSTERN_URING_RX=batch forces it here).
for mode in mmsg uring uring-batch; do
	io=${mode%%-*}
	rx_mode=multishot
	[[ $mode == uring-batch ]] && rx_mode=batch
	rm -f "$T/stats.json"
	POSTERN_URING_RX=$rx_mode "$RELAY" -c "$T/relay.conf" --io "$io" \
		--control-socket "$T/relay.sock" --metrics-listen off \
		>"$T/relay.out" 2>"$T/relay.log" &
	relay_pid=$!
	for _ in $(seq 200); do
		grep -q 'event=running' "$T/relay.log" && break
		kill -0 "$relay_pid" 2>/dev/null ||
			fail "$mode: the relay exited: $(cat "$T/relay.log")"
		sleep 0.1
	done
	grep -q 'event=running' "$T/relay.log" || fail "$mode: not running after 20 s"
	grep -q "event=running io=\"$io" "$T/relay.log" ||
		fail "$mode: wrong engine: $(cat "$T/relay.log")"
	[[ $mode != uring-batch ]] || grep -q 'batched recvmsg' "$T/relay.log" ||
		fail "$mode: not the batched receive: $(cat "$T/relay.log")"
	# (So that its absence after exit means something.)
	[[ -d $EAL_RUN/postern-$relay_pid ]] || fail "$mode: no $EAL_RUN/postern-$relay_pid while running"
	ok "$mode: started, 2 workers"

	send_garbage
	total=$(awk '{ s += $2 } END { print s }' "$T/sent")
	# The stats file is rewritten every second: wait until it has seen them all.
	wait_stats "$total"

	start=$(date +%s%N)
	kill -TERM "$relay_pid"
	rc=0
	wait "$relay_pid" || rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	pid=$relay_pid
	relay_pid=
	((rc == 0)) || fail "$mode: SIGTERM: exit $rc"
	((ms <= DRAIN_MS)) || fail "$mode: SIGTERM: took $ms ms, drain time is $DRAIN_MS ms"
	ok "$mode: SIGTERM exits 0 in $ms ms (drain time $DRAIN_MS ms)"

	grep -q "event=eal_ready file_prefix=postern-$pid " "$T/relay.log" ||
		fail "$mode: EAL's file prefix is not postern-$pid"
	[[ ! -e $EAL_RUN/postern-$pid ]] || fail "$mode: $EAL_RUN/postern-$pid left behind"
	grep -q 'event=mbuf_leak' "$T/relay.log" && fail "$mode: $(grep mbuf_leak "$T/relay.log")"
	grep -q 'event=exit status=0' "$T/relay.log" || fail "$mode: no exit line"
	ok "$mode: nothing left in $EAL_RUN, every mbuf back in the pool"

	# The final stats file, written at exit.
	check_stats "$mode" || fail "$mode: stats: see above"
	ok "$mode: stats: rx = forwarded + handled + dropped = $total, nothing answered"
	ok "$mode: each garbage kind under its reason (bad_header, bad_version, unknown_index)"
	ok "$mode: both workers received, each reports cycles per packet"
done

echo "relay_smoke: $checks checks passed"
