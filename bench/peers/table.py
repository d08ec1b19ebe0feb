#!/usr/bin/env python3
"""bench/peers/table.py: the medians of bench/peers/run.sh's runs, as Markdown.

  table.py rate OUT SIZE PCT PATH...     the open-loop rate for SIZE: PCT % of the
                                         slowest tunnel's median closed-loop req/s
  table.py report OUT PATH...            the tables, the goals and the notes
  table.py update-doc OUT FILE           put OUT/table.md between FILE's markers
                                         <!-- peers:begin --> and <!-- peers:end -->

OUT holds one rr_load JSON per run, named MODE-SIZE-PATH-RUN.json, and run.sh's
meta.txt and notes.tsv. A run counts when rr_load finished without a failed
connection, a wrong response or an error; medians are over the runs that count.
"""
import glob
import json
import os
import re
import statistics
import sys
import textwrap

POSTERN = "postern"
PEER_GOALS = {"ssh-chacha": 3.0, "ssh-aesgcm": 3.0, "wireguard-go": 2.0}
BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"


def load(out):
    runs = {}
    for f in glob.glob(os.path.join(out, "*.json")):
        m = re.match(r"(closed|open)-(\w+)-([\w.-]+)-(\d+)\.json$", os.path.basename(f))
        if not m:
            continue
        try:
            j = json.load(open(f))
        except (OSError, ValueError):
            j = {"failed": "no output"}
        runs.setdefault((m.group(1), m.group(2), m.group(3)), {})[int(m.group(4))] = j
    return runs


def ok(j):
    return ("requests" in j and not j["errors"] and not j["corrupt"]
            and not j["connections_failed"] and j["requests"] > 0)


def median(xs):
    return statistics.median(xs) if xs else None


def bpc(j):
    c = j.get("cpu")
    return c["bytes_per_cpu_s"] if ok(j) and c and c["seconds"] > 0 else None


def ratio(runs, key, path):
    """Median over the rounds of Postern's bytes per CPU-second / PATH's in the same round:
    paths run interleaved, so a round's ratio is free of the machine's drift between rounds."""
    ref, other = runs.get(key + (POSTERN,), {}), runs.get(key + (path,), {})
    rs = [bpc(ref[r]) / bpc(other[r]) for r in ref
          if r in other and bpc(ref[r]) and bpc(other[r])]
    return median(rs)


def p99_wins(runs, key, path):
    """(rounds where Postern's p99 was lower than PATH's, rounds compared)."""
    ref, other = runs.get(key + (POSTERN,), {}), runs.get(key + (path,), {})
    both = [r for r in ref if r in other and ok(ref[r]) and ok(other[r])]
    return (sum(1 for r in both if ref[r]["latency_us"]["p99"] < other[r]["latency_us"]["p99"]),
            len(both))


def summary(by_run):
    """Medians over the runs that count, and how many counted of how many."""
    runs = list(by_run.values())
    good = [j for j in runs if ok(j)]
    s = {"n": len(good), "of": len(runs),
         "skipped_budget": sum(1 for j in runs if j.get("skipped")),
         "timeouts": sum(j.get("timeouts", 0) for j in good),
         "skipped": sum(j.get("skipped", 0) for j in good)}
    if not good:
        return s
    s["rps"] = median([j["requests_per_s"] for j in good])
    s["bps"] = median([j["bytes_per_s"] for j in good])
    s["p50"] = median([j["latency_us"]["p50"] for j in good])
    s["p99"] = median([j["latency_us"]["p99"] for j in good])
    s["rate"] = good[0].get("rate")
    cpu = [j["cpu"] for j in good if j.get("cpu")]
    if cpu and len(cpu) == len(good):
        s["cpu"] = median([c["seconds"] for c in cpu])
        s["bpc"] = median([c["bytes_per_cpu_s"] for c in cpu if c["seconds"] > 0]) \
            if any(c["seconds"] > 0 for c in cpu) else None
        s["vanished"] = max(c["vanished"] for c in cpu)
    return s


def cmd_rate(out, size, pct, paths):
    runs = load(out)
    tunnels = [p for p in paths if p != "direct"] or paths
    rates = [summary(runs.get(("closed", size, p), {})).get("rps") for p in tunnels]
    rates = [r for r in rates if r]
    if not rates:
        rates = [100.0]
    print(max(1, int(min(rates) * float(pct) / 100)))


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def sizes_of(runs):
    def key(s):
        return (1, 0) if s == "rr" else (0, int(s))
    return sorted({k[1] for k in runs}, key=key)


def size_label(size):
    return "rr mix" if size == "rr" else f"{size} B"


def table(runs, mode, paths, notes):
    lines = []
    hdr = ["size", "path"]
    if mode == "open":
        hdr.append("offered req/s")
    hdr += ["req/s", "MB/s", "p50 µs", "p99 µs", "tunnel CPU-s", "MB per CPU-s",
            "Postern ÷ path"]
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + "---|" * len(hdr))
    for size in sizes_of(runs):
        for p in paths:
            s = summary(runs.get((mode, size, p), {}))
            name = f"**{p}**" if p.startswith(POSTERN) else p
            if not s["of"]:
                why = notes.get(p, "not measured")
                lines.append(f"| {size_label(size)} | {name} | " +
                             " | ".join([why] + [""] * (len(hdr) - 3)) + " |")
                continue
            if not s["n"]:
                why = "skipped (time budget)" if s["skipped_budget"] else "every run failed"
                lines.append(f"| {size_label(size)} | {name} | " +
                             " | ".join([why] + [""] * (len(hdr) - 3)) + " |")
                continue
            marks = []
            if s["n"] < s["of"]:
                marks.append(f"{s['n']} of {s['of']} runs")
            if s["timeouts"] or s["skipped"]:
                marks.append(f"{s['skipped']} skipped, {s['timeouts']} timed out")
            if s.get("vanished"):
                marks.append("a process exited during the run")
            if marks:
                name += " (" + "; ".join(marks) + ")"
            r = ratio(runs, (mode, size), p) if s.get("bpc") else None
            row = [size_label(size), name]
            if mode == "open":
                row.append(fmt(s.get("rate"), ".0f"))
            row += [fmt(s["rps"], ".0f"), fmt(s["bps"] / 1e6, ".1f"), fmt(s["p50"], ".0f"),
                    fmt(s["p99"], ".0f"), fmt(s.get("cpu"), ".2f"),
                    fmt(s["bpc"] / 1e6 if s.get("bpc") else None, ".1f"),
                    fmt(r, ".2f") + ("×" if r else "")]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def goals(runs, paths):
    out = []
    size = "1400"
    if not summary(runs.get(("closed", size, POSTERN), {})).get("bpc"):
        out.append("- Bytes per CPU-second at 1400 B: Postern not measured, goals not "
                   "evaluated.")
    else:
        for p, goal in PEER_GOALS.items():
            r = ratio(runs, ("closed", size), p) if p in paths else None
            if r is None:
                continue
            verdict = "met" if r >= goal else "**missed**"
            out.append(f"- Bytes per CPU-second at 1400 B, closed loop: Postern {r:.2f}× "
                       f"{p} (goal ≥ {goal:g}×): {verdict}.")
    for size in sizes_of(runs):
        ref = summary(runs.get(("open", size, POSTERN), {}))
        if not ref.get("p99"):
            continue
        worse, rounds = [], []
        for p in paths:
            if p.startswith(POSTERN) or p == "direct":
                continue
            s = summary(runs.get(("open", size, p), {}))
            if s.get("p99") is None:
                continue
            if s["p99"] <= ref["p99"]:
                worse.append(f"{p} {s['p99']:.0f} µs")
            won, of = p99_wins(runs, ("open", size), p)
            rounds.append(f"{p} {won} of {of}")
        verdict = ("met: lower than every peer's" if not worse else
                   "**missed**: not lower than " + ", ".join(worse))
        out.append(f"- p99 at the same offered load, {size_label(size)}: Postern's median "
                   f"{ref['p99']:.0f} µs, {verdict}. Rounds in which Postern's p99 was the "
                   f"lower: {', '.join(rounds)}.")
    return out


def by_process(runs, mode, size, paths):
    """Each path's tunnel CPU split by process name: medians over the runs that count."""
    out = []
    for p in paths:
        good = [j for j in runs.get((mode, size, p), {}).values() if ok(j) and j.get("cpu")]
        if not good:
            continue
        names = {}
        for j in good:
            per = {}
            for proc in j["cpu"]["processes"]:
                if proc["seconds"] is not None:
                    per[proc["comm"]] = per.get(proc["comm"], 0.0) + proc["seconds"]
            for name, sec in per.items():
                names.setdefault(name, []).append(sec)
        parts = ", ".join(f"{n} {median(v):.2f}" for n, v in
                          sorted(names.items(), key=lambda kv: -median(kv[1])))
        out.append(f"- {p}: {parts}")
    return out


def wrap(lines, width=92):
    """Wrap prose and list items (not table rows) the way the docs are written."""
    out = []
    for line in lines:
        if line.startswith("|") or len(line) <= width:
            out.append(line)
        elif line.startswith("- "):
            out += textwrap.wrap(line, width, subsequent_indent="  ",
                                 break_on_hyphens=False)
        else:
            out += textwrap.wrap(line, width, break_on_hyphens=False)
    return out


def cmd_report(out, paths):
    runs = load(out)
    notes = {}
    try:
        for line in open(os.path.join(out, "notes.tsv")):
            if "\t" in line:
                k, v = line.rstrip("\n").split("\t", 1)
                notes[k] = v
    except OSError:
        pass
    meta = {}
    try:
        for line in open(os.path.join(out, "meta.txt")):
            for kv in line.split():
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    meta[k] = v
    except OSError:
        pass
    lines = [f"Run of {meta.get('date', '?')}: {meta.get('runs', '?')} runs of "
             f"{meta.get('duration', '?')} s counted (after {meta.get('warmup', '?')} s of "
             f"warm-up) per path, size and loop; {meta.get('conns', '?')} connections; "
             f"{meta.get('cpus', '?')} CPUs, load average {meta.get('loadavg', '?')} "
             "at the start. Medians. MB/s counts request and response bytes; tunnel "
             "CPU-s is the path's own processes over the counted window; "
             "\"Postern ÷ path\" is Postern's (socket relay) bytes per CPU-second divided "
             "by the path's, in the same round (paths run interleaved), median over the "
             "rounds.", "",
             "**Closed loop** (every connection one request in flight):", ""]
    lines += table(runs, "closed", paths, notes)
    lines += ["", f"**Open loop at one offered load** ({meta.get('load_pct', '?')} % of the "
              "slowest tunnel's closed-loop requests/s, the same for every path; Poisson "
              "arrivals; latency from each request's due time):", ""]
    lines += table(runs, "open", paths, notes)
    idle = {}
    try:
        for line in open(os.path.join(out, "idle.tsv")):
            k, v = line.split()
            idle[k] = float(v)
    except (OSError, ValueError):
        pass
    if idle:
        lines += ["", "Idle cost, no traffic (tunnel CPU-s per second): " +
                  ", ".join(f"{p} {idle[p]:.3f}" for p in paths if p in idle) + "."]
    split = by_process(runs, "closed", "1400", paths)
    if split:
        lines += ["", "Tunnel CPU-s by process, 1400 B, closed loop (medians):", ""] + split
    lines += ["", "Goals:", ""] + goals(runs, paths)
    missing = [f"{p}: {notes[p]}" for p in paths if p in notes]
    if missing:
        lines += ["", "Not measured: " + "; ".join(missing) + "."]
    print("\n".join(wrap(lines)))


def cmd_update_doc(out, doc):
    table_md = open(os.path.join(out, "table.md")).read().rstrip("\n")
    text = open(doc).read()
    if BEGIN not in text or END not in text:
        sys.exit(f"table.py: {doc} has no {BEGIN} ... {END} section")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    open(doc, "w").write(head + BEGIN + "\n" + table_md + "\n" + END + tail)


def main(argv):
    if len(argv) >= 5 and argv[1] == "rate":
        cmd_rate(argv[2], argv[3], argv[4], argv[5:])
    elif len(argv) >= 3 and argv[1] == "report":
        cmd_report(argv[2], argv[3:])
    elif len(argv) == 4 and argv[1] == "update-doc":
        cmd_update_doc(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
