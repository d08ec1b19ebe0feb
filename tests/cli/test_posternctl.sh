#!/usr/bin/env bash
# test_posternctl.sh — posternctl as an operator uses it: keys, tokens, and
# what it says (and which exit code it gives) when something is wrong.
#
#   genkey ─▶ cp.key ─ pubkey --signing ─▶ cp.pub ──────────────┐ --trust
#   genkey ─▶ ep.key ─ pubkey ──────────▶ ep.pub ─┐             ▼
#                    cp.key ── token issue ◀──────┘ ──▶ token ─▶ token inspect
#                                                               ─▶ valid | invalid: REASON
#
# No network, no root: everything happens in a temporary directory.
# Usage: test_posternctl.sh PATH/TO/posternctl
set -euo pipefail

CTL=${1:?usage: $0 PATH/TO/posternctl}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/posternctl-test.XXXXXX")
cleanup() {
	rm -rf "$TMP"
}
trap cleanup EXIT
umask 022	# key files must come out 0600 regardless

passed=0
fail() {
	echo "FAIL: $*" >&2
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
# run_in WANT_RC INPUT_FILE ARGS...: the same with stdin from a file.
run_in() {
	local want=$1 input=$2 rc=0
	shift 2
	"$CTL" "$@" <"$input" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[[ $rc == "$want" ]] ||
		fail "posternctl $* <$input exited $rc, want $want; stderr: $(cat "$TMP/err")"
}
out_has() { grep -qE -- "$1" "$TMP/out" || fail "stdout lacks /$1/: $(cat "$TMP/out")"; }
err_has() { grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1': $(cat "$TMP/err")"; }
out_empty() { [[ ! -s $TMP/out ]] || fail "stdout not empty: $(cat "$TMP/out")"; }
one_stderr_line_prefixed() {
	head -n1 "$TMP/err" | grep -q '^posternctl: ' ||
		fail "stderr not prefixed: $(cat "$TMP/err")"
}
mode_is() { # FILE MODE
	[[ $(stat -c %a "$1") == "$2" ]] || fail "$1 has mode $(stat -c %a "$1"), want $2"
}

# --- help and version ---------------------------------------------------------
for cmd in "" "genkey" "pubkey" "token" "token issue" "token inspect"; do
	# shellcheck disable=SC2086 # $cmd is one or two words on purpose
	run 0 $cmd --help
	out_has '^Usage: posternctl'
	out_has '^Exit codes: 0'
	ok "posternctl ${cmd:+$cmd }--help exits 0 and documents the exit codes"
done
run 0 help
out_has '^Usage: posternctl'
run 0 --version
out_has '^posternctl [0-9]'
ok "help and --version"

# --- genkey / pubkey ----------------------------------------------------------
run 0 genkey
out_has '^[A-Za-z0-9+/]{43}=$'
[[ $(wc -l <"$TMP/out") == 1 ]] || fail "genkey printed more than one line"
ok "genkey prints one 44-character base64 key"

run 0 genkey -o "$TMP/cp.key"
out_empty
mode_is "$TMP/cp.key" 600
ok "genkey -o creates a 0600 file"

cp "$TMP/cp.key" "$TMP/cp.key.orig"
run 1 genkey -o "$TMP/cp.key"
err_has "already exists"
one_stderr_line_prefixed
cmp -s "$TMP/cp.key" "$TMP/cp.key.orig" || fail "genkey -o clobbered an existing key"
run 0 genkey -o "$TMP/cp.key" --force
cmp -s "$TMP/cp.key" "$TMP/cp.key.orig" && fail "genkey --force did not replace the key"
mode_is "$TMP/cp.key" 600
ok "genkey -o refuses an existing file, --force replaces it"

run 0 genkey -o "$TMP/ep.key"
run 0 pubkey --signing "$TMP/cp.key"
cp "$TMP/out" "$TMP/cp.pub"
run 0 pubkey "$TMP/ep.key"
cp "$TMP/out" "$TMP/ep.pub"
run_in 0 "$TMP/ep.key" pubkey
cmp -s "$TMP/out" "$TMP/ep.pub" || fail "pubkey from stdin differs from pubkey FILE"
run_in 0 "$TMP/ep.key" pubkey -
cmp -s "$TMP/out" "$TMP/ep.pub" || fail "pubkey - differs from pubkey FILE"
run 0 pubkey "$TMP/cp.key"
cmp -s "$TMP/out" "$TMP/cp.pub" && fail "X25519 and Ed25519 public keys agree"
ok "pubkey: file and stdin agree; --signing derives a different (Ed25519) key"

# RFC 7748 §6.1 (Alice) and RFC 8032 §7.1 TEST 1.
(umask 077 && echo 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=' >"$TMP/alice.key")
(umask 077 && echo 'nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=' >"$TMP/rfc8032.key")
run 0 pubkey "$TMP/alice.key"
out_has '^hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=$'
run 0 pubkey --signing "$TMP/rfc8032.key"
out_has '^11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=$'
ok "pubkey matches the RFC 7748 and RFC 8032 known answers"

for mode in 644 640 604; do
	cp "$TMP/ep.key" "$TMP/loose.key"
	chmod "$mode" "$TMP/loose.key"
	run 1 pubkey "$TMP/loose.key"
	out_empty
	one_stderr_line_prefixed
	err_has "$TMP/loose.key has mode 0$mode"
	err_has "chmod 600 $TMP/loose.key"
	rm -f "$TMP/loose.key"
done
ok "pubkey refuses key files group/others can access, naming the mode and the chmod fix"

run 1 pubkey "$TMP/nonexistent.key"
err_has "$TMP/nonexistent.key: no such file"
run 1 pubkey "$TMP"
err_has "is a directory"
echo 'not a key' >"$TMP/junk"
run_in 1 "$TMP/junk" pubkey
err_has "stdin: not a private key"
(umask 077 && echo 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC!=' >"$TMP/bad.key")
run 1 pubkey "$TMP/bad.key"
err_has "not a valid base64 key"
ok "pubkey explains missing, directory, and non-base64 keys with exit 1"

# --- token issue / inspect ----------------------------------------------------
issue() {
	run 0 token issue --signing-key "$TMP/cp.key" --tenant acme --role gateway \
		--tunnel crm --tunnel wiki.internal --endpoint-key "@$TMP/ep.pub" "$@"
}

issue
out_has '^pt1\.[A-Za-z0-9_-]+$'
cp "$TMP/out" "$TMP/token"
TOKEN=$(cat "$TMP/token")
ok "token issue prints a pt1. token"

run 0 token inspect "$TOKEN"
out_has '^role: +gateway$'
out_has '^tenant: +acme$'
out_has '^tunnels: +crm, wiki\.internal$'
out_has "^endpoint key: +$(sed 's/[+/]/\\&/g' "$TMP/ep.pub")$"
out_has '^status: +unverified: signature not checked'
ok "inspect without --trust shows every field and says the signature was not checked"

run 0 token inspect --trust "@$TMP/cp.pub" --endpoint-key "@$TMP/ep.pub" "@$TMP/token"
out_has '^status: +valid$'
run_in 0 "$TMP/token" token inspect --trust "$(cat "$TMP/cp.pub")" -
out_has '^status: +valid$'
run 0 token inspect --json --trust "@$TMP/cp.pub" "$TOKEN"
out_has '"status": "valid"'
out_has '"tunnels": \['
ok "issue -> inspect --trust: valid (argument, @file, stdin, --json)"

ID=$(awk '$1 == "id:" { print $2 }' <<<"$("$CTL" token inspect "$TOKEN")")
[[ $ID =~ ^[0-9a-f]{32}$ ]] || fail "no token id in inspect output: $ID"

mid=$((${#TOKEN} / 2))
repl=A
[[ ${TOKEN:mid:1} == A ]] && repl=B
TAMPERED=${TOKEN:0:mid}$repl${TOKEN:mid+1}
run 1 token inspect --trust "@$TMP/cp.pub" "$TAMPERED"
out_has '^status: +invalid: (bad_signature|malformed)'
ok "a token with one character changed is invalid (exit 1)"

run 0 genkey -o "$TMP/other.key"
run 0 pubkey --signing "$TMP/other.key"
cp "$TMP/out" "$TMP/other.pub"
run 1 token inspect --trust "@$TMP/other.pub" "$TOKEN"
out_has '^status: +invalid: unknown_signer$'
run 0 token inspect --trust "@$TMP/other.pub" --trust "@$TMP/cp.pub" "$TOKEN"
out_has '^status: +valid$'
ok "a token from an untrusted key is unknown_signer; adding the key makes it valid"

run 1 token inspect --trust "@$TMP/cp.pub" --revoked "$ID" "$TOKEN"
out_has '^status: +invalid: revoked$'
run 0 token inspect --trust "@$TMP/cp.pub" --revoked 00000000000000000000000000000000 "$TOKEN"
ok "revoking the token's id makes it revoked; another id does not"

run 1 token inspect --trust "@$TMP/cp.pub" --endpoint-key "@$TMP/cp.pub" "$TOKEN"
out_has '^status: +invalid: key_mismatch$'
ok "a different endpoint key is key_mismatch"

# One hour from 2026-01-01T00:00:00Z; relays allow 30 s of skew at each end.
issue --not-before 2026-01-01T00:00:00Z --valid-for 1h -o "$TMP/hour.token"
out_empty
mode_is "$TMP/hour.token" 600
for case in "2025-12-31T23:59:29Z 1 not_yet_valid" "2025-12-31T23:59:30Z 0 valid" \
	    "2026-01-01T01:00:29Z 0 valid" "2026-01-01T01:00:30Z 1 expired" \
	    "1767229230 1 expired" "2027-01-01T00:00:00Z 1 expired"; do
	read -r now rc status <<<"$case"
	run "$rc" token inspect --trust "@$TMP/cp.pub" --now "$now" "@$TMP/hour.token"
	if [[ $status == valid ]]; then
		out_has '^status: +valid$'
	else
		out_has "^status: +invalid: $status$"
	fi
done
run 1 token inspect --json --trust "@$TMP/cp.pub" --now 2027-01-01T00:00:00Z "@$TMP/hour.token"
out_has '"reason": "expired"'
ok "--now: not_yet_valid / valid / expired exactly at the skew edges"

issue --expires 2020-01-01T00:00:00Z --not-before 2019-12-01T00:00:00Z
err_has "warning: this token has already expired"
ok "issuing an already-expired token warns"

run 0 token issue --signing-key "$TMP/cp.key" --tenant acme --role agent --tunnel '*' \
	--endpoint-key "$(cat "$TMP/ep.pub")"
run 0 token inspect --trust "@$TMP/cp.pub" "$(cat "$TMP/out")"
out_has '^role: +agent$'
out_has '^tunnels: +\* \(every tunnel of the tenant\)$'
ok "an agent grant for '*'"

run 1 token inspect --trust "@$TMP/cp.pub" 'pt1.AAAA'
out_has 'invalid: malformed'
run 1 token inspect 'hello'
out_has 'invalid: malformed \(not a token'
ok "garbage is malformed (exit 1), with or without --trust"

# --- invalid values: exit 1 with a one-line message ---------------------------
base=(--signing-key "$TMP/cp.key" --tenant acme --tunnel crm --endpoint-key "@$TMP/ep.pub")
run 1 token issue "${base[@]}" --role boss
err_has "--role 'boss': expected gateway or agent"
run 1 token issue "${base[@]}" --role gateway --tenant 'a b'
err_has "--tenant 'a b'"
run 1 token issue "${base[@]}" --role gateway --tunnel '*'
err_has "only valid with --role agent"
run 1 token issue "${base[@]}" --role gateway --tunnel crm
err_has "--tunnel 'crm' given twice"
run 1 token issue "${base[@]}" --role gateway --valid-for 30
err_has "--valid-for '30': expected"
run 1 token issue "${base[@]}" --role gateway --not-before 2026-02-30T00:00:00Z
err_has "--not-before '2026-02-30T00:00:00Z'"
run 1 token issue "${base[@]}" --role gateway --not-before 2026-01-02T00:00:00Z \
	--expires 2026-01-01T00:00:00Z
err_has "would expire before it becomes valid"
run 1 token issue --signing-key "$TMP/cp.key" --tenant acme --tunnel crm --role gateway \
	--endpoint-key 'c2hvcnQ='
err_has "--endpoint-key: not a key"
chmod 644 "$TMP/cp.key"
run 1 token issue "${base[@]}" --role gateway
err_has "chmod 600 $TMP/cp.key"
chmod 600 "$TMP/cp.key"
run 1 token inspect --trust "@$TMP/cp.pub" --revoked xyz "$TOKEN"
err_has "--revoked 'xyz': a token id is 32 hex digits"
out_empty
ok "invalid values exit 1 and say what is wrong"

# --- usage errors: exit 2 with a message ---------------------------------------
usage_case() {
	local msg=$1
	shift
	run 2 "$@"
	out_empty
	one_stderr_line_prefixed
	err_has "$msg"
	err_has "--help'."
}
usage_case "unknown or ambiguous option '--bogus'" genkey --bogus
usage_case "unknown option '-x'" pubkey -x
usage_case "option '-o' needs a value" genkey -o
usage_case "unexpected argument 'extra'" genkey extra
usage_case "unknown command 'frobnicate'" frobnicate
usage_case "missing command" token
usage_case "unknown command 'revoke'" token revoke
usage_case "missing --signing-key FILE" token issue --tenant acme
usage_case "missing --tunnel NAME" token issue --signing-key "$TMP/cp.key" --tenant acme \
	--role gateway --endpoint-key "@$TMP/ep.pub"
usage_case "give --valid-for or --expires, not both" token issue "${base[@]}" --role gateway \
	--valid-for 1d --expires 2030-01-01T00:00:00Z
usage_case "--revoked needs --trust" token inspect --revoked "$ID" "$TOKEN"
usage_case "--endpoint-key needs --trust" token inspect --endpoint-key "@$TMP/ep.pub" "$TOKEN"
usage_case "unexpected argument" token inspect "$TOKEN" "$TOKEN"
run 2
err_has "Usage: posternctl"
ok "usage errors exit 2 with a one-line message and a --help hint"

echo "all $passed checks passed"
