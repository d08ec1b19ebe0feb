#!/usr/bin/env bash
# bench/peers/run.sh — the same MCP-like request/response workload through Postern and
# through other tunnels on this machine, side by side (docs/performance.md, "Side by side
# with other tunnels"). Needs root (network namespaces).
#
#  pst-cl-PID (client)          pst-mid-PID (relay/proxy)         pst-sv-PID (server)
#  rr_load     10.77.1.2 ──── 10.77.1.1   (routes)   10.77.2.1 ──── 10.77.2.2   rr_server :7000
#  postern-connect ×2         sshd :2201, :2202                 ssh -R ×2
#   127.0.0.1:15000 (socket)  nginx stream+TLS :8443            postern-gateway ×2
#   127.0.0.1:15001 (DPDK)    postern-relay (socket) :51820     wireguard-go pwsPID
#  wireguard-go pwcPID        10.77.3.254                       10.77.9.2
#   10.77.9.1 ═══ UDP ══════  (tx csum off) ═════════════════
#                                 │
#                             pst-dr-PID: veth end without an address, owned by
#                             postern-relay --backend dpdk (net_af_packet), 10.77.3.1
#
# Paths (the client always in pst-cl, rr_server always in pst-sv, the same load):
#   direct        TCP to 10.77.2.2:7000, routed by pst-mid: the baseline, no tunnel
#   ssh-chacha    ssh -R from pst-sv to sshd in pst-mid, chacha20-poly1305@openssh.com;
#                 the client connects to the forwarded port 10.77.1.1:9001
#   ssh-aesgcm    the same with aes128-gcm@openssh.com, port 9002
#   wireguard-go  wireguard-go in pst-cl and pst-sv (ChaCha20-Poly1305), TCP to 10.77.9.2
#   nginx-tls     nginx stream proxy in pst-mid: TLS 1.3 from the client, TCP to the server
#   postern       connector (pst-cl) → postern-relay, socket backend (pst-mid) → gateway
#                 (pst-sv) → rr_server; E2E QUIC inside hop-encrypted UDP
#   postern-dpdk  the same through postern-relay's DPDK backend (net_af_packet) in pst-dr
#
# CPU per path: utime + stime (procfs) of the path's own processes over the counted
# window, measured by rr_load --cpu-pid: sshd (its per-connection children included) and
# ssh; both wireguard-go; nginx master and worker; relay, gateway and connector. Never
# the load generator or the server.
#
# Phase 1: closed loop (CONNS connections, one request in flight each) for every path
# and size, RUNS times, paths interleaved. Phase 2: open loop at one offered load per
# size, the same for every path: LOAD_PCT % of the slowest tunnel's median closed-loop
# requests/s. Medians of RUNS runs; the table is bench/peers/table.py's.
#
# Usage: bench/peers/run.sh BUILD_DIR [--out DIR] [--update-doc FILE]
# Environment: RUNS (3), DURATION (3 s counted per run), WARMUP (1 s), SIZES ("64 1400";
# a size in bytes or "rr" for relaybench's mix), CONNS (16), LOAD_PCT (50),
# PATHS (all of the above), BUDGET (570 s: later runs are skipped, and say so).
# Tools: openssh-server openssh-client wireguard-go wireguard-tools nginx
# libnginx-mod-stream (Debian package names); a path whose tool is missing is reported
# "not available", never installed from here.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../../tests/e2e/lib.sh"

build=${1:?usage: $0 BUILD_DIR [--out DIR] [--update-doc FILE]}
shift
OUT='' DOC=''
while (($#)); do
	case $1 in
	--out) OUT=${2:?--out DIR}; shift 2 ;;
	--update-doc) DOC=$(realpath "${2:?--update-doc FILE}"); shift 2 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
e2e_init "$build"

RUNS=${RUNS:-3}
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-1}
SIZES=${SIZES:-64 1400}
CONNS=${CONNS:-16}
LOAD_PCT=${LOAD_PCT:-50}
PATHS=${PATHS:-direct ssh-chacha ssh-aesgcm wireguard-go nginx-tls postern postern-dpdk}
BUDGET=${BUDGET:-570}
if ((DURATION + WARMUP > 8)); then
	echo "run.sh: a run is at most 10 s: WARMUP + DURATION <= 8" >&2
	exit 2
fi
OUT=${OUT:-$(mktemp -d /tmp/postern-peers.XXXXXX)}
mkdir -p "$OUT"
LOAD=$B/bench/rr_load
SERVER=$B/bench/rr_server
[[ -x $LOAD && -x $SERVER ]] ||
	fail "$LOAD or $SERVER not built (ninja -C $B bench/rr_load bench/rr_server)"

# e2e_cleanup, after stopping every process, keeping the logs in $OUT/logs and removing
# what killed processes leave behind: EAL runtime directories, wireguard-go's UAPI
# sockets (removing one also tells its wireguard-go to exit).
peers_cleanup() {
	local rc=$? pid
	set +e
	# Stop everything first (as e2e_cleanup would), so the logs kept end with each
	# process's own summary.
	for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${E2E_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	done
	if [[ -n ${OUT:-} && -d ${T:-} ]]; then
		mkdir -p "$OUT/logs"
		cp "$T"/*.log "$OUT/logs/" 2>/dev/null
	fi
	# EAL names its runtime directory after the relay's pid (docs/relay.md).
	for pid in ${PID_relay_sock:-} ${PID_relay_dpdk:-}; do
		rm -rf "/var/run/dpdk/postern-$pid"
	done
	rm -f "/var/run/wireguard/pwc$$.sock" "/var/run/wireguard/pws$$.sock"
	(exit $rc)
	e2e_cleanup
}
trap peers_cleanup EXIT

# Per path: the target, rr_load's extra flags, the pids to charge, or why it is absent.
declare -A TARGET EXTRA CPU NOTE
note() { NOTE[$1]=$2; echo "run.sh: $1: $2" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
want() { [[ " $PATHS " == *" $1 "* ]]; }
in_ns() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
# setup NAME FUNCTION ARGS...: bring a path up in this shell (its pids and target are
# kept); on failure NOTE[NAME] says why, with the last lines of what it printed.
setup() {
	local name=$1 f=$T/setup-$1.err why
	shift
	"$@" >"$f" 2>&1 && return 0
	why=$(tail -n 3 "$f" | tr '\n' ' ')
	[[ $why == "not available:"* ]] || why="failed to start: ${why:-see the logs}"
	note "$name" "$why"
}
# tcp_up NS ADDR PORT: a TCP connection to ADDR:PORT from NS succeeds.
tcp_up() { in_ns "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; }

# --- the network ------------------------------------------------------------------
for n in cl mid sv; do ns_add "$n"; done
veth mid 10.77.1.1/24 cl 10.77.1.2/24
veth mid 10.77.2.1/24 sv 10.77.2.2/24
in_ns mid sysctl -qw net.ipv4.ip_forward=1
ip -n "$(ns cl)" route add default via 10.77.1.1
ip -n "$(ns sv)" route add default via 10.77.2.1

bg server ip netns exec "$(ns sv)" "$SERVER" --listen 0.0.0.0:7000 --max-seconds 1200
wait_for 5 tcp_up cl 10.77.2.2 7000 || fail "rr_server does not answer"

# --- direct -------------------------------------------------------------------------
TARGET[direct]=10.77.2.2:7000

# --- OpenSSH reverse tunnels ----------------------------------------------------------
# ssh_path NAME CIPHER SSHD_PORT FORWARDED_PORT
ssh_path() {
	local name=$1 cipher=$2 sport=$3 fport=$4 d=$T/ssh
	mkdir -p "$d" /run/sshd || return 1	# /run/sshd: sshd's privilege separation dir
	[[ -f $d/host ]] || ssh-keygen -q -t ed25519 -N '' -f "$d/host" || return 1
	[[ -f $d/id ]] || ssh-keygen -q -t ed25519 -N '' -f "$d/id" || return 1
	cp "$d/id.pub" "$d/authorized_keys"
	cat >"$d/sshd-$name.conf" <<EOF
ListenAddress 10.77.2.1:$sport
HostKey $d/host
PidFile none
AuthorizedKeysFile $d/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
GatewayPorts clientspecified
Ciphers $cipher
Compression no
X11Forwarding no
PrintMotd no
LogLevel ERROR
EOF
	bg "sshd_${name//-/_}" ip netns exec "$(ns mid)" "$(command -v sshd)" -D -e \
		-f "$d/sshd-$name.conf"
	wait_for 5 tcp_up sv 10.77.2.1 "$sport" || { echo "sshd did not start"; return 1; }
	bg "ssh_${name//-/_}" ip netns exec "$(ns sv)" ssh -N -F /dev/null -i "$d/id" -p "$sport" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
		-o ExitOnForwardFailure=yes -o Ciphers="$cipher" -o Compression=no \
		-o LogLevel=ERROR -R "10.77.1.1:$fport:127.0.0.1:7000" root@10.77.2.1
	wait_for 10 tcp_up cl 10.77.1.1 "$fport" ||
		{ echo "the forwarded port is not up"; return 1; }
	TARGET[$name]=10.77.1.1:$fport
	eval "CPU[\$name]=\"\$PID_sshd_${name//-/_} \$PID_ssh_${name//-/_}\""
}
for p in ssh-chacha:chacha20-poly1305@openssh.com:2201:9001 \
	ssh-aesgcm:aes128-gcm@openssh.com:2202:9002; do
	IFS=: read -r name cipher sport fport <<<"$p"
	want "$name" || continue
	if ! have sshd || ! have ssh; then
		note "$name" "not available: install openssh-server and openssh-client"
	else
		setup "$name" ssh_path "$name" "$cipher" "$sport" "$fport"
	fi
done

# --- wireguard-go --------------------------------------------------------------------
wg_path() {
	local c=pwc$$ s=pws$$ d=$T/wg
	mkdir -p "$d"
	wg genkey >"$d/c.key" && wg genkey >"$d/s.key" || return 1
	wg pubkey <"$d/c.key" >"$d/c.pub" && wg pubkey <"$d/s.key" >"$d/s.pub" || return 1
	# Foreground, so that the pid is wireguard-go's own; userspace even where the kernel
	# has WireGuard.
	bg wg_c ip netns exec "$(ns cl)" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		wireguard-go -f "$c"
	bg wg_s ip netns exec "$(ns sv)" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		wireguard-go -f "$s"
	wait_for 5 test -S "/var/run/wireguard/$c.sock" || return 1
	wait_for 5 test -S "/var/run/wireguard/$s.sock" || return 1
	in_ns cl wg set "$c" private-key "$d/c.key" listen-port 51901 peer "$(cat "$d/s.pub")" \
		endpoint 10.77.2.2:51902 allowed-ips 10.77.9.2/32 || return 1
	in_ns sv wg set "$s" private-key "$d/s.key" listen-port 51902 peer "$(cat "$d/c.pub")" \
		endpoint 10.77.1.2:51901 allowed-ips 10.77.9.1/32 || return 1
	ip -n "$(ns cl)" addr add 10.77.9.1/24 dev "$c" || return 1
	ip -n "$(ns cl)" link set "$c" up || return 1
	ip -n "$(ns sv)" addr add 10.77.9.2/24 dev "$s" || return 1
	ip -n "$(ns sv)" link set "$s" up || return 1
	wait_for 10 tcp_up cl 10.77.9.2 7000 || { echo "no TCP through the tunnel"; return 1; }
	TARGET[wireguard-go]=10.77.9.2:7000
	CPU[wireguard-go]="$PID_wg_c $PID_wg_s"
}
if want wireguard-go; then
	if ! have wireguard-go || ! have wg; then
		note wireguard-go "not available: install wireguard-go and wireguard-tools"
	else
		setup wireguard-go wg_path
	fi
fi

# --- nginx stream proxy with TLS ------------------------------------------------------
nginx_path() {
	local d=$T/nginx mod=/usr/lib/nginx/modules/ngx_stream_module.so
	mkdir -p "$d/logs"
	[[ -f $mod ]] || { echo "no $mod (libnginx-mod-stream)"; return 1; }
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=peers-bench -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null ||
		return 1
	cat >"$d/nginx.conf" <<EOF
load_module $mod;
daemon off;
master_process on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 1024; }
stream {
    server {
        listen 10.77.1.1:8443 ssl;
        ssl_certificate $d/cert.pem;
        ssl_certificate_key $d/key.pem;
        ssl_protocols TLSv1.3;
        proxy_pass 10.77.2.2:7000;
    }
}
EOF
	bg nginx ip netns exec "$(ns mid)" nginx -p "$d/" -c "$d/nginx.conf" -e "$d/logs/error.log"
	wait_for 5 tcp_up cl 10.77.1.1 8443 || { echo "nginx did not start"; return 1; }
	TARGET[nginx-tls]=10.77.1.1:8443
	EXTRA[nginx-tls]=--tls
	CPU[nginx-tls]=$PID_nginx
}
if want nginx-tls; then
	if ! have nginx; then
		note nginx-tls "not available: install nginx and libnginx-mod-stream"
	else
		setup nginx-tls nginx_path
	fi
fi

# --- Postern --------------------------------------------------------------------------
RELAY=$B/postern-relay
GATEWAY=$B/endpoint/postern-gateway
CONNECT=$B/endpoint/postern-connect
postern_pki() {
	[[ -n ${P:-} ]] && return 0
	pki_init >/dev/null || return 1
	pki_endpoint gw gateway acme bench >/dev/null || return 1
	pki_endpoint ag agent acme bench >/dev/null || return 1
	local who
	for who in gateway agent; do
		openssl req -x509 -newkey ed25519 -nodes -days 2 -subj "/CN=$who" \
			-keyout "$P/$who-cert.key" -out "$P/$who.crt" 2>/dev/null || return 1
		chmod 600 "$P/$who-cert.key"
	done
}
fp_of() {
	openssl x509 -in "$P/$1.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
		sha256sum | cut -c1-64
}
# postern_ends NAME RELAY_FROM_SV RELAY_FROM_CL LISTEN_PORT: a gateway and a connector
# through one relay; the relay is already up.
postern_ends() {
	local name=$1 from_sv=$2 from_cl=$3 port=$4
	cat >"$T/gateway-$name.conf" <<EOF
relays = ( { address = "$from_sv"; public_key = "@$P/relay.pub"; } );
private_key = "$P/gw.key";
token = "$P/gw.token";
certificate = "$P/gateway.crt";
certificate_key = "$P/gateway-cert.key";
agents = [ "$(fp_of agent)" ];
routes = ( { name = "rr"; upstream = "tcp://127.0.0.1:7000"; } );
shutdown_timeout = 1;
log_level = "warn";
EOF
	cat >"$T/connect-$name.conf" <<EOF
relays = ( { address = "$from_cl"; public_key = "@$P/relay.pub"; } );
private_key = "$P/ag.key";
grant = "$P/ag.token";
tunnel = "bench";
gateway_fingerprint = "$(fp_of gateway)";
certificate = "$P/agent.crt";
certificate_key = "$P/agent-cert.key";
listen = ( { route = "rr"; address = "127.0.0.1:$port"; } );
log_level = "info";
EOF
	bg "gateway_$name" ip netns exec "$(ns sv)" "$GATEWAY" -c "$T/gateway-$name.conf"
	sleep 1
	bg "connect_$name" ip netns exec "$(ns cl)" "$CONNECT" -c "$T/connect-$name.conf"
	wait_for 20 grep -q 'event=connected' "$T/connect_$name.log" ||
		{ echo "no connection: $(tail -n 2 "$T/connect_$name.log")"; return 1; }
	wait_for 10 tcp_up cl 127.0.0.1 "$port" || { echo "no listener on :$port"; return 1; }
}
postern_sock_path() {
	postern_pki || { echo "keys and tokens (posternctl) failed"; return 1; }
	bg relay_sock ip netns exec "$(ns mid)" "$RELAY" --listen 0.0.0.0:51820 --workers 1 \
		--private-key "$P/relay.key" --trust "@$P/control.pub" --eal-memory-mb 64 \
		--control-socket "$T/relay-sock.sock" --metrics-listen off --log-level info
	wait_for 20 "$B/relay/posternctl" --socket "$T/relay-sock.sock" status ||
		{ echo "the relay did not start: $(tail -n 2 "$T/relay_sock.log")"; return 1; }
	postern_ends sock 10.77.2.1:51820 10.77.1.1:51820 15000 || return 1
	TARGET[postern]=127.0.0.1:15000
	CPU[postern]="$PID_relay_sock $PID_gateway_sock $PID_connect_sock"
}
postern_dpdk_path() {
	postern_pki || { echo "keys and tokens (posternctl) failed"; return 1; }
	ns_add dr
	# The relay's link: its end belongs to DPDK (no kernel address, no kernel IPv6).
	ip link add v-mid netns "$(ns dr)" type veth peer name v-dr netns "$(ns mid)" || return 1
	in_ns dr sysctl -qw net.ipv6.conf.v-mid.disable_ipv6=1
	ip -n "$(ns dr)" link set v-mid up
	ip -n "$(ns mid)" addr add 10.77.3.254/24 dev v-dr
	ip -n "$(ns mid)" link set v-dr up
	# Forwarded UDP leaves its checksum to the "NIC"; af_packet would see it unfilled.
	in_ns mid ethtool -K v-dr tx off >/dev/null || return 1
	cat >"$T/relay-dpdk.conf" <<EOF
listen = [ "0.0.0.0:51820" ];
workers = 1;
backend = "dpdk";
private_key = "$P/relay.key";
trusted_keys = [ "@$P/control.pub" ];
control_socket = "$T/relay-dpdk.sock";
metrics_listen = "off";
log_level = "info";
eal = { memory_mb = 128; };
dpdk = {
  idle = "sleep";
  ports = ( { device = "net_af_packet0,iface=v-mid,qpairs=1";
              addresses = [ "10.77.3.1/24" ]; gateway = [ "10.77.3.254" ]; } );
};
EOF
	"$RELAY" -c "$T/relay-dpdk.conf" --check-config >"$T/relay-dpdk.check" 2>&1 ||
		{ echo "not available: $(tail -n 1 "$T/relay-dpdk.check")"; return 1; }
	bg relay_dpdk ip netns exec "$(ns dr)" "$RELAY" -c "$T/relay-dpdk.conf"
	wait_for 30 "$B/relay/posternctl" --socket "$T/relay-dpdk.sock" status ||
		{ echo "the relay did not start: $(tail -n 2 "$T/relay_dpdk.log")"; return 1; }
	postern_ends dpdk 10.77.3.1:51820 10.77.3.1:51820 15001 || return 1
	TARGET[postern-dpdk]=127.0.0.1:15001
	CPU[postern-dpdk]="$PID_relay_dpdk $PID_gateway_dpdk $PID_connect_dpdk"
}
for name in postern postern-dpdk; do
	want "$name" || continue
	if [[ ! -x $GATEWAY || ! -x $CONNECT || ! -x $RELAY || ! -x $B/relay/posternctl ]]; then
		note "$name" "pending: postern-relay, postern-gateway or postern-connect not built"
	elif [[ $name == postern ]]; then
		setup "$name" postern_sock_path
	else
		setup "$name" postern_dpdk_path
	fi
done

# --- measure ---------------------------------------------------------------------------
ACTIVE=()
for p in $PATHS; do
	[[ -n ${TARGET[$p]:-} ]] && ACTIVE+=("$p")
done
((${#ACTIVE[@]})) || fail "no path came up"
{
	echo "date=$(date -u +%Y-%m-%d)"
	echo "runs=$RUNS duration=$DURATION warmup=$WARMUP conns=$CONNS load_pct=$LOAD_PCT"
	echo "cpus=$(nproc) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "paths=$PATHS"
	echo "sizes=$SIZES"
} >"$OUT/meta.txt"
: >"$OUT/notes.tsv"
for p in "${!NOTE[@]}"; do printf '%s\t%s\n' "$p" "${NOTE[$p]}" >>"$OUT/notes.tsv"; done
echo "run.sh: measuring ${ACTIVE[*]}; results in $OUT" >&2

# Idle cost: each tunnel's CPU-s per second with no traffic at all (timers, keepalives,
# polling), its processes and their descendants, over the same 2 s for every path.
idle_args=()
for p in "${ACTIVE[@]}"; do
	[[ -n ${CPU[$p]:-} ]] && idle_args+=("$p=${CPU[$p]// /,}")
done
python3 - "${idle_args[@]}" >"$OUT/idle.tsv" <<'PY' || true
import os, sys, time
def stat(pid):
    try:
        f = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    v = f[f.rindex(")") + 2:].split()
    return int(v[1]), int(v[11]) + int(v[12])      # ppid, utime + stime
def tree(roots):
    members, grew = set(roots), True
    while grew:
        grew = False
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) not in members:
                s = stat(int(d))
                if s and s[0] in members:
                    members.add(int(d))
                    grew = True
    return members
paths = {a.split("=")[0]: tree({int(x) for x in a.split("=")[1].split(",")}) for a in sys.argv[1:]}
def total(m):
    return sum((stat(p) or (0, 0))[1] for p in m)
t0 = {p: total(m) for p, m in paths.items()}
time.sleep(2)
hz = os.sysconf("SC_CLK_TCK")
for p, m in paths.items():
    print(f"{p}\t{(total(m) - t0[p]) / hz / 2:.3f}")
PY

# measure PATH SIZE MODE RUN [RATE]: one rr_load run from the client namespace.
measure() {
	local p=$1 size=$2 mode=$3 run=$4 rate=${5:-} base pid args
	base=$OUT/$mode-$size-$p-$run
	if ((SECONDS > BUDGET)); then
		echo '{"skipped": "time budget"}' >"$base.json"
		return 0
	fi
	args=(--connect "${TARGET[$p]}" --connections "$CONNS" --warmup "$WARMUP"
		--duration "$DURATION" --drain 2 --label "$p" --seed "$run" --json)
	if [[ $size == rr ]]; then args+=(--model rr); else args+=(--size "$size"); fi
	[[ $mode == open ]] && args+=(--rate "$rate")
	for pid in ${CPU[$p]:-}; do args+=(--cpu-pid "$pid"); done
	[[ -n ${EXTRA[$p]:-} ]] && args+=("${EXTRA[$p]}")
	in_ns cl timeout $((WARMUP + DURATION + 6)) "$LOAD" "${args[@]}" >"$base.json" \
		2>"$base.log" || echo "run.sh: $p, $size B, $mode loop, run $run: rr_load failed:" \
		"$(tail -n 1 "$base.log")" >&2
	python3 - "$base.json" <<'PY' >&2 || true
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit(0)
if "requests" not in j:
    sys.exit(0)
cpu = j.get("cpu") or {}
size = f"{j['size']} B" if j.get("size") else "rr mix"
print(f"  {j['label']:<13} {j['mode']:<6} {size:>7}  "
      f"{j['requests_per_s']:9.0f} req/s  p99 {j['latency_us']['p99']:9.1f} us  "
      f"cpu {cpu.get('seconds', 0):5.2f} s")
PY
}

for size in $SIZES; do
	for run in $(seq "$RUNS"); do
		for p in "${ACTIVE[@]}"; do measure "$p" "$size" closed "$run"; done
	done
	rate=$(python3 "$HERE/table.py" rate "$OUT" "$size" "$LOAD_PCT" "${ACTIVE[@]}")
	echo "run.sh: $size B: open loop at $rate requests/s for every path" >&2
	for run in $(seq "$RUNS"); do
		for p in "${ACTIVE[@]}"; do measure "$p" "$size" open "$run" "$rate"; done
	done
done

read -ra all_paths <<<"$PATHS"
python3 "$HERE/table.py" report "$OUT" "${all_paths[@]}" >"$OUT/table.md"
cat "$OUT/table.md"
if [[ -n $DOC ]]; then
	python3 "$HERE/table.py" update-doc "$OUT" "$DOC"
	echo "run.sh: updated $DOC" >&2
fi
echo "run.sh: done in ${SECONDS} s; raw results in $OUT" >&2
