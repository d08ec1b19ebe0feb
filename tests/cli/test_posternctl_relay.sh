#!/usr/bin/env bash
# test_posternctl_relay.sh — posternctl's commands for a running relay, as an
# operator uses them, against the relay's real control plane in front of a fake
# relay (fake_relay: relay/control.c + tests/unit/control_fake.c).
#
#   posternctl ──one JSON line each way──▶ $TMP/relay.sock ─┐
#   curl ─────── GET /metrics /ready /live ─▶ 127.0.0.1:N ──┴─ fake_relay ─▶ $TMP/relay.log
#   posternctl as uid 65534 (when run as root) ──▶ refused
#
# Checks output, exit codes (0 ok, 1 refused or bad input, 2 usage, 3 relay
# unreachable), and the relay's audit log. Usage:
#   test_posternctl_relay.sh PATH/TO/posternctl PATH/TO/fake_relay
set -euo pipefail

CTL=${1:?usage: $0 PATH/TO/posternctl PATH/TO/fake_relay}
FAKE=${2:?usage: $0 PATH/TO/posternctl PATH/TO/fake_relay}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/posternctl-relay-test.XXXXXX")
SOCK=$TMP/relay.sock
RELAY_PID=
cleanup() {
	if [[ -n $RELAY_PID ]] && kill -0 "$RELAY_PID" 2>/dev/null; then
		kill -TERM "$RELAY_PID" 2>/dev/null || true
		wait "$RELAY_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
unset POSTERN_SOCKET

passed=0
fail() {
	echo "FAIL: $*" >&2
	[[ -f $TMP/relay.log ]] && { echo "--- relay log:" >&2; cat "$TMP/relay.log" >&2; }
	exit 1
}
ok() {
	passed=$((passed + 1))
	echo "ok $passed - $*"
}

# run WANT_RC ARGS...: run posternctl, keep stdout/stderr, check the exit code.
run() {
	local want=$1 rc=0
	shift
	"$CTL" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[[ $rc == "$want" ]] ||
		fail "posternctl $* exited $rc, want $want;" \
			"stdout: $(cat "$TMP/out"); stderr: $(cat "$TMP/err")"
}
out_has() { grep -qE -- "$1" "$TMP/out" || fail "stdout lacks /$1/: $(cat "$TMP/out")"; }
err_has() { grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1': $(cat "$TMP/err")"; }
out_empty() { [[ ! -s $TMP/out ]] || fail "stdout not empty: $(cat "$TMP/out")"; }
log_has() { grep -qF -- "$1" "$TMP/relay.log" || fail "relay log lacks '$1'"; }
log_lacks() { ! grep -qF -- "$1" "$TMP/relay.log" || fail "relay log has '$1'"; }
json_check() { # PYTHON-EXPRESSION over d, the JSON on stdout
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" \
		"$TMP/out" || fail "JSON check '$1' failed on: $(cat "$TMP/out")"
}

# --- help, usage, and no relay -------------------------------------------------------
for cmd in status stats sessions "sessions list" "sessions kick" channels "channels list" \
	tokens "tokens revoke" keys "keys trust" "keys untrust" drain reload log-level; do
	# shellcheck disable=SC2086 # $cmd is one or two words on purpose
	run 0 $cmd --help
	out_has '^Usage: posternctl'
	out_has '^Exit codes: 0'
	out_has '3 relay unreachable'
	ok "posternctl $cmd --help documents usage and exit codes"
done
run 0 --help
out_has '^  sessions list'
out_has '^  log-level'
ok "posternctl --help lists the relay commands"

run 2 sessions
err_has "missing command"
run 2 sessions close 1
err_has "unknown command 'close'"
run 2 sessions kick
err_has "missing the session ID"
run 2 status extra
err_has "unexpected argument 'extra'"
run 2 status --limit 5
err_has "unknown option '--limit'"
run 2 status --bogus
err_has "--bogus"
run 2 log-level
ok "usage errors exit 2 and say what is wrong"

run 3 --socket "$SOCK" status
err_has "no relay at $SOCK"
out_empty
POSTERN_SOCKET=$TMP/elsewhere.sock run 3 status
err_has "no relay at $TMP/elsewhere.sock"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$TMP/dead.sock"
run 3 status --socket "$TMP/dead.sock"
err_has "nothing listens at $TMP/dead.sock"
ok "no relay: exit 3 with the socket path (--socket, POSTERN_SOCKET)"

# Input checked before any relay is asked: exit 1, not 3.
run 1 --socket "$SOCK" sessions kick xyz
err_has "a session id is 16 hex digits"
run 1 --socket "$SOCK" tokens revoke 1234
err_has "expected a token id"
run 1 --socket "$SOCK" keys trust not-a-key
err_has "not-a-key"
run 1 --socket "$SOCK" log-level loud
err_has "one of error, warn, info, debug"
run 1 --socket "$SOCK" drain --timeout 3601
err_has "--timeout '3601'"
run 1 --socket "$SOCK" sessions list --limit 0
err_has "--limit '0'"
ok "bad values are refused locally with exit 1"

# --- a relay ------------------------------------------------------------------------
FAKE_RELAY_LOG_LEVEL=info "$FAKE" "$SOCK" >"$TMP/relay.out" 2>"$TMP/relay.log" &
RELAY_PID=$!
for _ in $(seq 100); do
	grep -q '^ready' "$TMP/relay.out" 2>/dev/null && break
	sleep 0.05
done
grep -q '^ready' "$TMP/relay.out" || fail "fake_relay did not start"
HTTP_PORT=$(sed -n 's/^ready http_port=//p' "$TMP/relay.out")
[[ $(stat -c %a "$SOCK") == 600 ]] || fail "socket mode $(stat -c %a "$SOCK"), want 600"
export POSTERN_SOCKET=$SOCK

run 0 status
out_has '^relay 9\.8\.7, pid [0-9]+, up 1h 2m$'
out_has '^ready +yes$'
out_has '^sessions +3$'
run 0 status --json
json_check 'd["ok"] is True and d["version"] == "9.8.7" and d["workers"] == 2'
run 0 --socket "$SOCK" status
run 0 status --socket "$SOCK"
ok "status, human and --json, with the socket from env or --socket"

run 0 stats
out_has '^rx packets +3200$'
out_has '^dropped +120$'
out_has '^  bad_mac1 +21$'
out_has '^cycles/packet +1500\.0$'
grep -q 'token_revoked' "$TMP/out" && fail "reasons that never happened are listed"
run 0 stats --workers
out_has '^ +total +worker 0 +worker 1$'
out_has '^  bad_mac1 +21 +7 +14$'
run 0 stats --json
json_check 'd["total"]["drops"]["bad_mac1"] == 21 and len(d["workers"]) == 2'
ok "stats: totals, drop reasons that occurred, per-worker columns"

run 0 sessions list
out_has '^ID +WORKER +ROLE'
out_has '^0000000100000007 +0 +gateway +acme +crm +192\.0\.2\.10:51820 '
out_has '^3 sessions$'
run 0 sessions list --limit 1
out_has '^1 of 3 sessions shown'
run 0 channels list --json
json_check 'd["total"] == 2 and d["channels"][0]["route"] == "api"'
run 0 channels list
out_has '^crm +api +0000000200000001 +1 +0000000100000007 +100 '
ok "sessions list and channels list"

run 0 sessions kick 0000000100000007
out_has '^session 0000000100000007 ended$'
log_has 'event=control_cmd cmd=sessions.kick id="0000000100000007" pid='
run 1 sessions kick 0000000100000007
err_has "posternctl: relay: no session 0000000100000007 (not_found)"
run 1 sessions kick 0000000100000007 --json
json_check 'd["ok"] is False and d["code"] == "not_found"'
ok "sessions kick: done once, then not_found with exit 1"

run 0 tokens revoke F82969B47F0A47922DCBAF57F6D11A2D
out_has 'token f82969b47f0a47922dcbaf57f6d11a2d revoked'
"$CTL" genkey -o "$TMP/cp.key"
"$CTL" genkey -o "$TMP/ep.key"
"$CTL" token issue --signing-key "$TMP/cp.key" --tenant acme --role gateway --tunnel crm \
	--endpoint-key "$("$CTL" pubkey "$TMP/ep.key")" -o "$TMP/gw.token"
TOKEN_ID=$("$CTL" token inspect --json "@$TMP/gw.token" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
run 0 tokens revoke "@$TMP/gw.token"
out_has "token $TOKEN_ID revoked"
log_has "cmd=tokens.revoke id=\"$TOKEN_ID\""
ok "tokens revoke by id or by token file"

"$CTL" pubkey --signing "$TMP/cp.key" >"$TMP/cp.pub"
run 0 keys trust "@$TMP/cp.pub"
out_has '^trusted: key .* \(signer id [0-9a-f]{16}\)$'
run 1 keys trust "@$TMP/cp.pub"
err_has "already trusted (exists)"
run 0 keys untrust "$(cat "$TMP/cp.pub")"
out_has '^no longer trusted: key '
run 1 keys untrust "@$TMP/cp.pub"
err_has "not trusted (not_found)"
ok "keys trust and untrust follow the relay's trust store"

run 0 log-level debug
out_has '^log level: debug$'
run 0 reload
out_has '^configuration reloaded: fake: nothing to reload$'
log_has 'event=control_cmd cmd=reload'
ok "log-level and reload"

# --- HTTP, drain -------------------------------------------------------------------
curl -sf "http://127.0.0.1:$HTTP_PORT/live" | grep -qx live || fail "/live"
curl -sf "http://127.0.0.1:$HTTP_PORT/ready" | grep -qx ready || fail "/ready before drain"
curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" >"$TMP/metrics" || fail "/metrics"
python3 "$(dirname "$0")/../metrics_check.py" "$TMP/metrics" || fail "/metrics is not valid"
grep -q '^postern_relay_ready 1$' "$TMP/metrics" || fail "ready gauge"
ok "HTTP /live, /ready, /metrics (valid by metrics_check.py)"

run 0 drain --timeout 90s
out_has 'move within 1m 30s'
log_has 'cmd=drain timeout_ms=90000'
run 0 status
out_has '^draining +yes$'
out_has '^ready +no$'
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/ready")
[[ $code == 503 ]] || fail "/ready while draining: $code"
ok "drain: status shows it and /ready says 503"

# --- who may ask ---------------------------------------------------------------------
if [[ $(id -u) == 0 ]]; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	chmod 711 "$TMP"
	rc=0
	as_nobody "$CTL" status >"$TMP/out" 2>"$TMP/err" || rc=$?
	[[ $rc == 3 ]] || fail "nobody on a 0600 socket: exit $rc"
	err_has "permission denied"
	chmod 666 "$SOCK"	# the file mode is the first wall; SO_PEERCRED the second
	rc=0
	as_nobody "$CTL" sessions kick 0000000100000009 >"$TMP/out" 2>"$TMP/err" || rc=$?
	[[ $rc == 3 ]] || fail "nobody on a 0666 socket: exit $rc"
	err_has "permission denied: run posternctl as root"
	log_has "event=control_refused reason=peer_credentials"
	log_lacks 'cmd=sessions.kick id="0000000100000009"'
	chmod 600 "$SOCK"
	ok "another uid is refused (file mode, then peer credentials) with exit 3"
else
	echo "ok $((passed + 1)) - # SKIP another uid: not root"
fi

# --- stop ------------------------------------------------------------------------------
kill -TERM "$RELAY_PID"
rc=0
wait "$RELAY_PID" || rc=$?
RELAY_PID=
[[ $rc == 0 ]] || fail "fake_relay exited $rc after SIGTERM"
[[ ! -e $SOCK ]] || fail "the socket file is left behind"
log_has "event=signal signal=SIGTERM action=stop"
run 3 status
ok "SIGTERM stops the relay cleanly; then posternctl says unreachable"

echo "$passed passed"
