#!/usr/bin/env python3
"""Count every test that ./lab test ran and print one closing line.

Reads meson's testlog.json files. A Criterion binary holds many tests: its own
"Synthesis" line gives the counts (a binary that died before printing one counts
as one failure). Any other meson test counts as one, by its result. Prints a
line per failing test, then: "N passed, N failed, N skipped".
"""
import json
import re
import sys

# A sanitizer report in a forked Criterion worker does not fail the test by
# itself (the worker has already reported success): count it here.
SANITIZER = re.compile(r"ERROR: (?:Leak|Address)Sanitizer|runtime error: ")
SYNTH = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+)")
SKIP = re.compile(r"^\[SKIP\] ", re.M)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def main(paths):
    passed = failed = skipped = 0
    failures = []
    for path in paths:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                t = json.loads(line)
                out = ANSI.sub("", (t.get("stdout") or "") + (t.get("stderr") or ""))
                result = t.get("result", "")
                if result == "OK" and SANITIZER.search(out):
                    failed += 1
                    failures.append(f"{t['name']}: sanitizer report in its output")
                m = SYNTH.search(out)
                if m and result in ("OK", "FAIL", "EXPECTEDFAIL"):
                    _, p, fl = map(int, m.groups())
                    passed += p
                    failed += fl
                    skipped += len(SKIP.findall(out))
                    if fl or result == "FAIL":
                        failures.append(f"{t['name']}: {fl} failing")
                        if not fl:
                            failed += 1
                elif result == "OK":
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                    failures.append(f"{t['name']}: {result}")
    for f in failures:
        print(f"FAILED {f}")
    if not paths:
        print("no test logs found", file=sys.stderr)
        failed += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
