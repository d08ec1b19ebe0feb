# lib.sh — shared helpers for Postern's end-to-end tests (sourced, not run).
#
# Every test gets a private temp dir, namespaces named pst-<role>-<pid> (the
# prefix is E2E_NS_PREFIX) so concurrent runs never collide, and one cleanup that
# kills what it started, deletes its namespaces and its temp dir. Only addresses
# inside namespaces the test created are used.
#
# Usage:
#   source "$(dirname "$0")/lib.sh"
#   e2e_init "$@"            # BUILD dir as $1; sets $B (build), $T (temp dir)
#   ns_add relay; veth relay 10.77.1.1/24 gw 10.77.1.2/24
#   bg relay ip netns exec "$(ns relay)" "$B/postern-relay" ...
#   pass "what was checked"; fail "what went wrong"

set -euo pipefail

E2E_NS=()
E2E_PIDS=()
E2E_NAME=$(basename "$0" .sh)
E2E_NS_PREFIX=pst	# ns ROLE is $E2E_NS_PREFIX-ROLE-PID; a script may set another

# e2e_cleanup [STATUS]: the EXIT trap; exits with STATUS (default: $?, the test's).
# A script with an EXIT trap of its own ends it with `e2e_cleanup $rc`, rc saved
# first: `(exit $rc); e2e_cleanup` would, under errexit, end the trap at the
# subshell's failure before any cleanup ran. Errexit is off here for the same
# reason: one step that fails must not leave the rest undone.
e2e_cleanup() {
	local rc=${1:-$?} pid ns
	set +e
	for pid in "${E2E_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${E2E_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	for ns in "${E2E_NS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	if ((rc != 0)) && [[ -n ${T:-} && -d $T ]]; then
		echo "--- $E2E_NAME: logs from $T" >&2
		for f in "$T"/*.log; do
			[[ -f $f ]] || continue
			echo "--- $(basename "$f") (last 30 lines)" >&2
			tail -n 30 "$f" >&2
		done
	fi
	[[ -n ${T:-} ]] && rm -rf "$T"
	exit $rc
}

e2e_init() {
	B=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
	[[ $(id -u) == 0 ]] || { echo "$E2E_NAME: needs root (network namespaces)"; exit 77; }
	T=$(mktemp -d "/tmp/postern-$E2E_NAME.XXXXXX")
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
}

ns() { echo "$E2E_NS_PREFIX-$1-$$"; }

ns_add() {
	local n
	n=$(ns "$1")
	ip netns add "$n"
	E2E_NS+=("$n")
	ip -n "$n" link set lo up
}

# veth NS_A ADDR_A/LEN NS_B ADDR_B/LEN: a link between two namespaces.
veth() {
	local a=$1 aa=$2 b=$3 ba=$4
	local ia="v-$b" ib="v-$a"
	ip link add "$ia" netns "$(ns "$a")" type veth peer name "$ib" netns "$(ns "$b")"
	ip -n "$(ns "$a")" addr add "$aa" dev "$ia"
	ip -n "$(ns "$b")" addr add "$ba" dev "$ib"
	ip -n "$(ns "$a")" link set "$ia" up
	ip -n "$(ns "$b")" link set "$ib" up
}

# bg NAME CMD...: run in the background, output to $T/NAME.log, remember the pid.
bg() {
	local name=$1
	shift
	"$@" >"$T/$name.log" 2>&1 &
	E2E_PIDS+=($!)
	eval "PID_$name=$!"
}

# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	local s=$1 i
	shift
	for ((i = 0; i < s * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

pass() { printf 'ok: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# json FILE EXPR: evaluate a Python expression over the JSON in FILE (as `j`).
json() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# pki: keys and tokens under $T/pki, issued with posternctl.
#   pki_init                      relay key, control-plane key
#   pki_endpoint NAME ROLE TENANT TUNNEL...   NAME.key, NAME.pub, NAME.token
pki_init() {
	P=$T/pki
	mkdir -p "$P"
	"$B/relay/posternctl" genkey -o "$P/relay.key"
	"$B/relay/posternctl" pubkey "$P/relay.key" >"$P/relay.pub"
	"$B/relay/posternctl" genkey -o "$P/control.key"
	"$B/relay/posternctl" pubkey --signing "$P/control.key" >"$P/control.pub"
}

pki_endpoint() {
	local name=$1 role=$2 tenant=$3 t args=()
	shift 3
	for t in "$@"; do args+=(--tunnel "$t"); done
	"$B/relay/posternctl" genkey -o "$P/$name.key"
	"$B/relay/posternctl" pubkey "$P/$name.key" >"$P/$name.pub"
	"$B/relay/posternctl" token issue --signing-key "$P/control.key" --tenant "$tenant" \
		--role "$role" "${args[@]}" --endpoint-key "@$P/$name.pub" --valid-for 1h \
		-o "$P/$name.token"
}

# star LEAF...: namespace "relay" linked to each LEAF namespace on its own /24,
# the relay at 10.77.N.1 and the leaf at 10.77.N.2 (N = the leaf's position).
# RELAY_IP[LEAF] is the relay's address on that leaf's link.
declare -A RELAY_IP
star() {
	local i=1 n
	ns_add relay
	for n in "$@"; do
		ns_add "$n"
		veth relay "10.77.$i.1/24" "$n" "10.77.$i.2/24"
		RELAY_IP[$n]=10.77.$i.1
		i=$((i + 1))
	done
}

# peer NS ROLE NAME [ARGS...]: hop_peer as ROLE in namespace NS, with NAME's key
# and token from pki_endpoint, to the relay (port 51820) on NS's link.
peer() {
	local n=$1 role=$2 name=$3
	shift 3
	ip netns exec "$(ns "$n")" "$B/tests/e2e/hop_peer" "$role" --relay "${RELAY_IP[$n]}:51820" \
		--relay-key "@$P/relay.pub" --key "$P/$name.key" --token "$P/$name.token" "$@"
}

# peer_bg LOG NS ROLE NAME [ARGS...]: peer in the background, its JSON summary in
# $T/LOG.json and stderr in $T/LOG.log. PID_LOG is hop_peer's own pid (ip netns
# exec execs it, and no shell stands between), so a signal sent to it arrives.
peer_bg() {
	local log=$1 n=$2 role=$3 name=$4
	shift 4
	ip netns exec "$(ns "$n")" "$B/tests/e2e/hop_peer" "$role" --relay "${RELAY_IP[$n]}:51820" \
		--relay-key "@$P/relay.pub" --key "$P/$name.key" --token "$P/$name.token" "$@" \
		>"$T/$log.json" 2>"$T/$log.log" &
	E2E_PIDS+=($!)
	eval "PID_${log//-/_}=$!"
}

# hop_peer_bg LOG NS ROLE NAME [ARGS...]: like peer_bg, but the caller names the
# relays in ARGS (--relay ADDR:PORT --relay-key KEY, once or more).
hop_peer_bg() {
	local log=$1 n=$2 role=$3 name=$4
	shift 4
	ip netns exec "$(ns "$n")" "$B/tests/e2e/hop_peer" "$role" \
		--key "$P/$name.key" --token "$P/$name.token" "$@" \
		>"$T/$log.json" 2>"$T/$log.log" &
	E2E_PIDS+=($!)
	eval "PID_${log//-/_}=$!"
}

# counters_balance FILE: relay counters in FILE (a stats file, or the answer of
# `posternctl stats --json`, taken once the relay is quiet) balance:
# rx_packets = forwarded + handled + dropped over the whole relay. Not per worker:
# a packet handed to another worker is counted received by one and forwarded (or
# dropped) by the other. Prints the total's figures.
counters_balance() {
	python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["total"]
assert t["rx_packets"] == t["forwarded"] + t["handled"] + t["dropped"], t
print(f"rx {t['rx_packets']} = forwarded {t['forwarded']} + handled {t['handled']} "
      f"+ dropped {t['dropped']}")
PY
}

# http_get NS PORT PATH OUT: GET http://127.0.0.1:PORT/PATH inside namespace NS (a
# relay's loopback /metrics, /ready, /live); the body goes to OUT, the status to stdout.
http_get() {
	ip netns exec "$(ns "$1")" python3 - "$2" "$3" "$4" <<'PY'
import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}", timeout=5)
    code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
open(sys.argv[3], "wb").write(body)
print(code)
PY
}

# metric_sum FILE FAMILY [LABEL=VALUE...]: the sum of FAMILY's samples in the
# Prometheus text in FILE whose labels include every LABEL=VALUE given.
metric_sum() {
	python3 - "$@" <<'PY'
import re, sys
path, family, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
total = 0.0
for line in open(path):
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line.rstrip("\n"))
    if not m or m.group(1) != family:
        continue
    labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"', m.group(2) or ""))
    if all(labels.get(k) == v for k, v in want.items()):
        total += float(m.group(3))
print(int(total) if total == int(total) else total)
PY
}

# pki_signer NAME: another control-plane signing key, $P/NAME.key and $P/NAME.pub.
pki_signer() {
	"$B/relay/posternctl" genkey -o "$P/$1.key"
	"$B/relay/posternctl" pubkey --signing "$P/$1.key" >"$P/$1.pub"
}

# pki_endpoint_signed SIGNER NAME ROLE TENANT TUNNEL...: as pki_endpoint, with the
# token signed by $P/SIGNER.key (from pki_signer) instead of the control key.
pki_endpoint_signed() {
	local signer=$1 name=$2 role=$3 tenant=$4 t args=()
	shift 4
	for t in "$@"; do args+=(--tunnel "$t"); done
	"$B/relay/posternctl" genkey -o "$P/$name.key"
	"$B/relay/posternctl" pubkey "$P/$name.key" >"$P/$name.pub"
	"$B/relay/posternctl" token issue --signing-key "$P/$signer.key" --tenant "$tenant" \
		--role "$role" "${args[@]}" --endpoint-key "@$P/$name.pub" --valid-for 1h \
		-o "$P/$name.token"
}

# dpdk_net LEAF...: the network of a relay on its DPDK backend. Namespace "relay"
# holds v-rt, a veth end with no kernel address (DPDK's net_af_packet takes it);
# namespace "rt" routes between it and each LEAF. The relay is 10.77.1.1/24 and
# fd77:1::1/64 behind rt's 10.77.1.254 / fd77:1::fe; LEAF number N (from 2) is
# 10.77.N.2 and fd77:N::2, its default routes via rt. RELAY_IP[LEAF]=10.77.1.1.
# DPDK_PORT is the relay's `dpdk.ports` entry for this network.
dpdk_net() {
	local i=2 n
	ns_add relay
	ns_add rt
	for n in "$@"; do
		ns_add "$n"
		veth rt "10.77.$i.1/24" "$n" "10.77.$i.2/24"
		ip -n "$(ns rt)" addr add "fd77:$i::1/64" dev "v-$n" nodad
		ip -n "$(ns "$n")" addr add "fd77:$i::2/64" dev v-rt nodad
		ip -n "$(ns "$n")" route add default via "10.77.$i.1"
		ip -n "$(ns "$n")" -6 route add default via "fd77:$i::1"
		RELAY_IP[$n]=10.77.1.1
		i=$((i + 1))
	done
	ip link add v-rt netns "$(ns relay)" type veth peer name v-relay netns "$(ns rt)"
	ip netns exec "$(ns relay)" sysctl -qw net.ipv6.conf.v-rt.disable_ipv6=1
	ip -n "$(ns relay)" link set v-rt up
	ip -n "$(ns rt)" addr add 10.77.1.254/24 dev v-relay
	ip -n "$(ns rt)" addr add fd77:1::fe/64 dev v-relay nodad
	ip -n "$(ns rt)" link set v-relay up
	# The kernel leaves UDP checksums to the NIC; af_packet would see them unfilled.
	ip netns exec "$(ns rt)" ethtool -K v-relay tx off >/dev/null
	ip netns exec "$(ns rt)" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	DPDK_PORT='{ device = "net_af_packet0,iface=v-rt,qpairs=2";
              addresses = [ "10.77.1.1/24", "fd77:1::1/64" ];
              gateway = [ "10.77.1.254", "fd77:1::fe" ]; }'
}
