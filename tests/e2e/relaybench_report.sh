#!/usr/bin/env bash
# End to end: relaybench's HTML reports, looked at by a real browser. A short
# closed-loop run and a three-step sweep against a real postern-relay write
# their --report pages and --json documents; `relaybench report` renders the
# saved documents again, and a fixed sweep document (a missed step, the knee
# in the middle, markup in its strings) renders too. Each page is loaded in
# headless Chromium, in a namespace with nothing but a loopback: the DOM
# Chromium built must hold the plots (an <svg> per plot, polylines with
# points, axis labels, ticks, legend, the knee marker and the SLO line), the
# tables and the method, and no element the document's strings tried to
# inject; a screenshot must show the plots' colours, not a blank page.
# `relaybench plan --from` sizes a fleet from the saved run and sweep; bad
# documents exit 2.
#
#   pst-rb-PID (loopback only)                   pst-web-PID (loopback only)
#   ┌──────────────────────────────────────┐     ┌─────────────────────────────┐
#   │ relaybench ──▶ 127.0.0.1:51820       │     │ chromium --headless         │
#   │ 10 gw + 20 agents   postern-relay    │ ──▶ │   file://$T/*.html          │
#   │ --json, --report    2 workers        │     │   --dump-dom, --screenshot  │
#   └──────────────────────────────────────┘     └─────────────────────────────┘
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

command -v chromium >/dev/null || { echo "relaybench_report: chromium is not installed"; exit 77; }

ns_add rb
ns_add web
pki_init
"$B/bench/relaybench" keygen -o "$P/bench.key" >"$P/bench.pub"

metrics=http://127.0.0.1:9180/metrics
bg relay ip netns exec "$(ns rb)" "$B/postern-relay" --listen 127.0.0.1:51820 --workers 2 \
	--private-key "$P/relay.key" --trust "@$P/bench.pub" --stats-file "$T/stats.json" \
	--control-socket "$T/relay.sock" --metrics-listen 127.0.0.1:9180
wait_for 10 test -s "$T/stats.json" || fail "relay did not start (no stats file)"
wait_for 10 http_get rb 9180 /ready "$T/ready.txt" || fail "relay /ready did not answer"

rbcmd() {
	local cmd=$1
	shift
	ip netns exec "$(ns rb)" "$B/bench/relaybench" "$cmd" --relay 127.0.0.1:51820 \
		--relay-key "@$P/relay.pub" --signing-key "$P/bench.key" \
		--bind 127.0.0.1 --bind 127.0.0.2 "$@"
}

# --- a run and a sweep, with their reports ---------------------------------------------
rbcmd run --gateways 10 --agents 20 --channels 2 --inflight 1 --handshake-rate 100 \
	--loss-timeout 5000 --warmup 0.5 --duration 2 --metrics "$metrics" --json \
	--report "$T/run.html" >"$T/run.json" 2>"$T/run.log" ||
	fail "run failed: $(tail -n 3 "$T/run.log")"
json "$T/run.json" 'len(j["latency_cdf"]["message_us"]) > 50 and j["method"]["command"]' |
	grep -q '^relaybench run ' ||
	fail "run --json lacks latency_cdf or method: $(head -c 600 "$T/run.json")"
# Evenly spaced arrivals: a one-second Poisson window may draw under 95 % of its rate,
# which the sweep takes for a generator that fell behind.
rbcmd sweep --gateways 5 --agents 10 --channels 2 --rate-from 200 --rate-to 800 --steps 3 \
	--arrivals fixed --warmup 0.5 --duration 1 --slo-p99 2000 --max-loss 1 --loss-timeout 5000 \
	--handshake-rate 100 --metrics "$metrics" --json --report "$T/sweep.html" \
	>"$T/sweep.json" 2>"$T/sweep.log" || fail "sweep failed: $(tail -n 3 "$T/sweep.log")"
json "$T/sweep.json" 'len(j["steps"]) == 3 and j["knee"] is not None' | grep -q True ||
	fail "sweep did not pass its loose service level: $(cat "$T/sweep.json")"
[[ -s $T/run.html && -s $T/sweep.html ]] || fail "no report written"
pass "run and sweep wrote --json and --report"

# --- the same reports again from the saved documents ----------------------------------
"$B/bench/relaybench" report --from "$T/run.json" -o "$T/run-again.html" ||
	fail "relaybench report --from run.json failed"
"$B/bench/relaybench" report --from "$T/sweep.json" -o "$T/sweep-again.html" ||
	fail "relaybench report --from sweep.json failed"

# A fixed sweep: the knee at the second step, the third missed; strings that
# would be markup if they were not escaped.
cat >"$T/fixed.json" <<'EOF'
{"schema": "relaybench.sweep/1",
 "config": {"relay": "127.0.0.1:51820<script>document.title='x'</script>", "gateways": 100,
            "agents": 1000, "channels": 1, "threads": 2, "model": "rr", "size": null,
            "arrivals": "poisson", "rate_from": 1000.0, "rate_to": 64000.0, "steps": 4,
            "warmup_s": 1.0, "duration_s": 5.0, "loss_timeout_ms": 1000.0},
 "slo": {"p99_ms": 5.0, "max_loss_ratio": 0.001},
 "steps": [
  {"rate": 1000.0, "achieved": 1001.0, "completed": 1000.0, "messages_sent": 5005,
   "packets_sent": 10700, "packets_lost": 0, "loss_ratio": 0.0, "p50_ms": 0.4,
   "p99_ms": 1.1, "rtt_p99_ms": 0.6, "relay_cycles_per_packet": 9000.0, "relay_drops": 0,
   "cpu_max": 0.1, "saturated": false, "behind": false, "setup_ok": true, "pass": true,
   "miss": null},
  {"rate": 4000.0, "achieved": 3990.0, "completed": 3985.0, "messages_sent": 19950,
   "packets_sent": 42800, "packets_lost": 4, "loss_ratio": 0.0001, "p50_ms": 0.5,
   "p99_ms": 2.4, "rtt_p99_ms": 1.3, "relay_cycles_per_packet": 5000.0, "relay_drops": 0,
   "cpu_max": 0.3, "saturated": false, "behind": false, "setup_ok": true, "pass": true,
   "miss": null},
  {"rate": 16000.0, "achieved": 15900.0, "completed": 12000.0, "messages_sent": 79500,
   "packets_sent": 171000, "packets_lost": 30000, "loss_ratio": 0.175, "p50_ms": 30.0,
   "p99_ms": 420.0, "rtt_p99_ms": 380.0, "relay_cycles_per_packet": 4000.0,
   "relay_drops": 29000, "cpu_max": 0.6, "saturated": false, "behind": false,
   "setup_ok": true, "pass": false, "miss": "loss 17.5% <img src=x onerror=alert(1)>"}],
 "knee": {"rate": 4000.0, "completed": 3985.0, "p99_ms": 2.4},
 "limited_by": "relay"}
EOF
"$B/bench/relaybench" report --from "$T/fixed.json" -o "$T/fixed.html" ||
	fail "relaybench report --from fixed.json failed"
# The generator's load is CPU time, unless the sweep polled a DPDK port.
grep -q 'generator CPU %' "$T/fixed.html" || fail "the sweep page does not say 'generator CPU %'"
dpdk='"transport": "dpdk", "saturation_measure": "poll_busy"'
sed "s/\"loss_timeout_ms\": 1000.0}/\"loss_timeout_ms\": 1000.0, $dpdk}/" \
	"$T/fixed.json" >"$T/fixed-dpdk.json"
"$B/bench/relaybench" report --from "$T/fixed-dpdk.json" -o "$T/fixed-dpdk.html" ||
	fail "relaybench report --from fixed-dpdk.json failed"
grep -q 'generator busy polls %' "$T/fixed-dpdk.html" &&
	! grep -q 'generator CPU' "$T/fixed-dpdk.html" ||
	fail "a polling sweep's page labels its load as CPU"
json "$T/sweep.json" \
	'j["config"]["saturation_measure"] == "cpu" and j["config"]["transport"] == "udp"' |
	grep -q True || fail "sweep --json config lacks transport/saturation_measure"
pass "relaybench report re-renders saved runs and sweeps"

# --- what Chromium makes of them ---------------------------------------------------------
# browse ARGS...: headless Chromium in the loopback-only namespace, a fresh profile,
# nothing fetched in the background; bounded in time.
browse() {
	local profile
	profile=$(mktemp -d "$T/chromium.XXXXXX")
	HOME=$profile timeout 90 ip netns exec "$(ns web)" chromium --headless --no-sandbox \
		--disable-gpu --disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --disable-dev-shm-usage \
		--user-data-dir="$profile" "$@" 2>>"$T/chromium.log"
}

# dom PAGE KIND [KNEE]: the DOM Chromium built for PAGE has KIND's plots.
dom() {
	local page=$1 kind=$2
	browse --dump-dom "file://$T/$page.html" >"$T/$page.dom" ||
		fail "chromium --dump-dom $page.html failed: $(tail -n 5 "$T/chromium.log")"
	python3 - "$T/$page.dom" "$kind" <<'PY'
import sys
from html.parser import HTMLParser

path, kind = sys.argv[1], sys.argv[2]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}

class Dom(HTMLParser):
    """Every element with its attributes, its ancestors' svg id, and its text."""
    def __init__(self):
        super().__init__()
        self.stack, self.els, self.text = [], [], {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        svg = a.get("id") if tag == "svg" else next(
            (e["svg"] for e in reversed(self.stack) if e["svg"]), None)
        groups = [e["class"] for e in self.stack if e["tag"] == "g"]
        el = {"tag": tag, "class": a.get("class", ""), "attrs": a, "svg": svg,
              "groups": groups, "text": ""}
        self.els.append(el)
        if tag not in VOID:
            self.stack.append(el)
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()
    def handle_endtag(self, tag):
        if any(e["tag"] == tag for e in self.stack):
            while self.stack.pop()["tag"] != tag:
                pass
    def handle_data(self, data):
        for e in self.stack:
            e["text"] += data

d = Dom()
d.feed(open(path, encoding="utf-8").read())
els = d.els
def find(tag=None, cls=None, svg=None):
    return [e for e in els if (tag is None or e["tag"] == tag)
            and (cls is None or cls in e["class"].split())
            and (svg is None or e["svg"] == svg)]

want = {"run": {"latency-cdf": 50}, "sweep": {"throughput": 3, "p99": 3},
        "fixed": {"throughput": 3, "p99": 3}}[kind]
svgs = find("svg", "plot")
assert sorted(s["attrs"]["id"] for s in svgs) == sorted(want), [s["attrs"] for s in svgs]
for sid, min_points in want.items():
    lines = find("polyline", "series-line", sid)
    counts = [len(l["attrs"].get("points", "").split()) for l in lines]
    assert counts and max(counts) >= min_points, (sid, counts)
    for l in lines:
        for pt in l["attrs"].get("points", "").split():
            x, y = (float(v) for v in pt.split(","))
            assert 0 <= x <= 760 and 0 <= y <= 440, (sid, pt)
    labels = [e["text"].strip() for e in find("text", "axis-label", sid)]
    assert len(labels) == 2 and all(labels), (sid, labels)
    for axis in ("x", "y"):
        ticks = [e for e in find("text", "tick", sid) if f"axis {axis}" in " ".join(e["groups"])]
        assert len(ticks) >= 2 and all(t["text"].strip() for t in ticks), (sid, axis, ticks)
    title = [e["text"].strip() for e in find("text", "title", sid)]
    assert title and title[0], (sid, title)
    legend = [e for e in find("g", "legend-item", sid)]
    assert len(legend) >= 2, (sid, "legend", legend)
    assert not find("text", "no-data", sid), (sid, "no data")
    if kind != "run":
        knee = find("g", "knee", sid)
        assert len(knee) == 1 and "knee" in knee[0]["text"], (sid, knee)
if kind != "run":
    slo = find("g", "slo", "p99")
    assert len(slo) == 1 and "SLO" in slo[0]["text"], slo
    assert len(find("tr", "knee")) == 1, "the knee's row is not marked"
else:
    assert len(find("g", "guide", "latency-cdf")) == 2, "p50/p99 guides"
    assert any("packet round trip" in e["text"] for e in find("table", "latency")), "table"
if kind == "fixed":
    # The third step missed: a cross on each plot.
    assert len(find("path", "miss", "throughput")) == 1, "miss marker"
    assert len(find("path", "miss", "p99")) == 1, "miss marker"
    assert len(find("tr", "miss")) == 1
    text = open(path, encoding="utf-8").read()
    assert "<script>document.title" not in text and "&lt;script&gt;" in text, "not escaped"
    assert "alert(1)&gt;" in text, "miss reason not escaped"
# Nothing to run, nothing to fetch, whatever the document said.
assert not find("script") and not find("img") and not find("iframe"), "injected element"
assert not [e for e in els if "src" in e["attrs"] or
            e["attrs"].get("href", "#").split(":")[0] in ("http", "https")], "external asset"
cmd = find("code", "command")
assert kind == "fixed" or (cmd and cmd[0]["text"].startswith(f"relaybench {'run' if kind == 'run' else 'sweep'} ")), cmd
print(f"ok: {path.rsplit('/', 1)[-1]}: " + ", ".join(
    f"{s} {max(len(l['attrs']['points'].split()) for l in find('polyline', 'series-line', s))} points"
    for s in want))
PY
}

# shot PAGE COLOUR...: a screenshot of PAGE is not blank and shows each colour (#rrggbb).
shot() {
	local page=$1
	shift
	browse --screenshot="$T/$page.png" --window-size=820,1100 --hide-scrollbars \
		"file://$T/$page.html" >/dev/null ||
		fail "chromium --screenshot $page.html failed: $(tail -n 5 "$T/chromium.log")"
	python3 - "$T/$page.png" "$@" <<'PY'
import struct, sys, zlib

path, colours = sys.argv[1], sys.argv[2:]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        ihdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = ihdr
assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
rows = []
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif f == 3:
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
pixels = [tuple(r[i:i + 3]) for r in rows for i in range(0, stride, bpp)]
distinct = len(set(pixels))
ink = sum(1 for p in pixels if sum(p) < 600) / len(pixels)
assert distinct >= 16, f"{distinct} colours: a blank page"
assert ink > 0.005, f"only {ink:.2%} of the page is not white"
for c in colours:
    want = tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
    near = sum(1 for p in pixels if all(abs(a - b) <= 24 for a, b in zip(p, want)))
    assert near >= 60, f"{c}: {near} pixels of the plot colour"
print(f"ok: {path.rsplit('/', 1)[-1]}: {w}x{h}, {distinct} colours, {ink:.1%} ink, "
      + ", ".join(colours) + " drawn")
PY
}

for page in run run-again; do dom "$page" run; done
for page in sweep sweep-again; do dom "$page" sweep; done
dom fixed fixed
pass "Chromium's DOM holds every plot, its axes, ticks, legend, knee and SLO line; no" \
	"injected element"

# Green (packet round trips) and blue (messages) CDF lines; blue (delivered) and
# purple (knee) on the throughput plot.
shot run "#2ca02c" "#1f77b4"
shot fixed "#1f77b4" "#9467bd" "#d62728"
pass "screenshots show the plots, not a blank page"

# --- plan from the saved documents ------------------------------------------------------
"$B/bench/relaybench" plan --from "$T/run.json" --handshakes-per-core 3000 --gateways 5000 \
	--gateway-kbps 20 --tenants 10 --channels-per-tenant 50 --json >"$T/plan-run.json" ||
	fail "plan --from run.json failed"
"$B/bench/relaybench" plan --from "$T/sweep.json" --relay-workers 2 --handshakes-per-core 3000 \
	--gateways 5000 --gateway-kbps 20 --slo-p99 2000 >"$T/plan-sweep.txt" ||
	fail "plan --from sweep.json failed"
python3 - "$T/plan-run.json" "$T/run.json" <<'PY' || fail "plan from the run: $(cat "$T/plan-run.json")"
import json, sys
p, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert p["schema"] == "relaybench.plan/1"
per_core = r["throughput"]["relay_pps"] / r["relay"]["window"]["workers"]
assert abs(p["measured"]["pps_per_core"] - per_core) < 1e-6 * per_core, (p["measured"], per_core)
assert p["relays"] == p["survivors"] + 1 >= 2 and p["cores"] == p["relays"] * 8, p
assert p["handshakes"]["sessions"] == 5000 + 10 * 50, p["handshakes"]
print(f"ok: plan from the run: {per_core:.0f} pkt/s per core -> {p['relays']} relays, "
      f"limited by {p['limited_by']}")
PY
grep -q '^result: [0-9]* relays x 8 cores' "$T/plan-sweep.txt" ||
	fail "plan from the sweep: $(cat "$T/plan-sweep.txt")"
pass "relaybench plan sizes a fleet from a saved run and a saved sweep"

# --- refusals ----------------------------------------------------------------------------
bad() {
	local want=$1 rc=0
	shift
	"$B/bench/relaybench" "$@" >"$T/bad.out" 2>"$T/bad.err" || rc=$?
	((rc == 2)) || fail "relaybench $*: exit $rc, want 2: $(cat "$T/bad.err")"
	[[ ! -s $T/bad.out ]] || fail "relaybench $*: wrote to stdout: $(cat "$T/bad.out")"
	(($(wc -l <"$T/bad.err") == 1)) || fail "relaybench $*: not one line: $(cat "$T/bad.err")"
	grep -qF -- "$want" "$T/bad.err" || fail "relaybench $*: '$want' not in: $(cat "$T/bad.err")"
}
echo '{"schema": "something/1"}' >"$T/other.json"
echo '{"schema": ' >"$T/broken.json"
bad "not a relaybench run or sweep" report --from "$T/other.json" -o "$T/x.html"
bad "--from $T/broken.json" report --from "$T/broken.json" -o "$T/x.html"
bad "missing -o" report --from "$T/run.json"
[[ ! -e $T/x.html ]] || fail "a refused report left a file behind"
bad "give --relay-workers" plan --from "$T/sweep.json" --handshakes-per-core 1000 \
	--gateways 10 --gateway-kbps 1
bad "at or above --slo-p99" plan --from "$T/run.json" --handshakes-per-core 1000 \
	--gateways 10 --gateway-kbps 1 --slo-p99 0.001
bad "--from and --pps-per-core exclude" plan --from "$T/run.json" --pps-per-core 1 \
	--handshakes-per-core 1 --gateways 1 --gateway-kbps 1
pass "bad documents and contradictory plans exit 2 with one line"

kill -TERM "$PID_relay"
wait "$PID_relay" || fail "relay exited non-zero after SIGTERM"
