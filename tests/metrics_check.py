#!/usr/bin/env python3
"""metrics_check.py: a strict checker for the Prometheus text exposition format 0.0.4.

Usage: metrics_check.py [--spec-only] [FILE... | -]

Reads each FILE (default: stdin) and exits 0 if all are valid, 1 with one
message per problem ("FILE: line N: ...") on stderr if any is not, 2 on a
usage error. Given several files it also prints "FILE: ok" or "FILE: invalid"
for each on stdout, so one run can check many.

What it checks (the format as Prometheus documents it, "Exposition formats",
text-based format):
  - lines end in "\\n", the last one too; no "\\r"; UTF-8
  - "# HELP name text": text escapes only "\\\\" and "\\n"; one HELP per family
  - "# TYPE name type": type is counter, gauge, histogram, summary or untyped;
    one TYPE per family, before the family's first sample
  - samples: name{label="value",...} value [timestamp]; metric and label names
    match [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]* (no "__" prefix),
    label values escape only "\\\\", "\\"" and "\\n", no label twice in a sample,
    values are Go floats (NaN, +Inf, -Inf included), timestamps are int64
  - a family's lines form one group; no series (name and label set) twice
  - histogram _bucket samples carry "le", summary quantile samples "quantile"

House rules on top (the relay's /metrics keeps them; --spec-only turns them
off): every family has HELP and TYPE, counters are named *_total and never
negative or NaN, tokens are separated by exactly one space, no "{}" or
trailing comma in a label set, no blank lines and no other comments.
"""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
NAME_RE = re.compile(NAME + r"\Z")
LABEL_RE = re.compile(LABEL)
FLOAT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z|[+-]Inf\Z|NaN\Z")
INT_RE = re.compile(r"-?\d+\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


class Checker:
    def __init__(self, house):
        self.house = house
        self.errors = []
        self.types = {}         # family -> type
        self.helps = set()      # families with HELP
        self.sampled = set()    # families that have samples
        self.closed = set()     # families whose group has ended
        self.current = None     # family of the previous line
        self.series = set()

    def err(self, lineno, msg):
        self.errors.append("line %d: %s" % (lineno, msg))

    def family_of(self, name):
        """The family a sample name belongs to, given the TYPEs seen so far."""
        for suffix, kinds in (("_bucket", ("histogram",)), ("_sum", ("histogram", "summary")),
                              ("_count", ("histogram", "summary"))):
            if name.endswith(suffix):
                base = name[: -len(suffix)]
                if self.types.get(base) in kinds:
                    return base
        return name

    def enter(self, lineno, family):
        """Every line of a family must sit in one group."""
        if family == self.current:
            return
        if family in self.closed:
            self.err(lineno, "family %s appears again after other families: a family's "
                     "lines must form one group" % family)
        if self.current is not None:
            self.closed.add(self.current)
        self.current = family

    def comment(self, lineno, line):
        m = re.match(r"# (HELP|TYPE) (\S+)(.*)\Z", line)
        if not m:
            if self.house:
                self.err(lineno, "a comment other than HELP or TYPE")
            return
        kind, name, rest = m.groups()
        if not NAME_RE.match(name):
            self.err(lineno, "bad metric name %r" % name)
            return
        if kind == "HELP":
            text = rest[1:] if rest.startswith(" ") else rest
            if rest and not rest.startswith(" "):
                self.err(lineno, "HELP: a space must follow the name")
            if "\\" in re.sub(r"\\[\\n]", "", text):
                self.err(lineno, "HELP text: only \\\\ and \\n may be escaped")
            if self.house and not text.strip():
                self.err(lineno, "HELP without text")
            self.enter(lineno, name)
            if name in self.helps:
                self.err(lineno, "second HELP for %s" % name)
            if name in self.sampled:
                self.err(lineno, "HELP for %s after its samples" % name)
            self.helps.add(name)
            return
        if not rest.startswith(" ") or rest[1:] not in TYPES:
            self.err(lineno, "TYPE must be one of %s, got %r" % (", ".join(TYPES), rest.strip()))
            return
        self.enter(lineno, name)
        if name in self.types:
            self.err(lineno, "second TYPE for %s" % name)
        if name in self.sampled:
            self.err(lineno, "TYPE for %s after its samples" % name)
        self.types[name] = rest[1:]
        if self.house and rest[1:] == "counter" and not name.endswith("_total"):
            self.err(lineno, "counter %s is not named *_total" % name)

    def labels(self, lineno, text):
        """Parse '{...}' at the start of text. Returns (labels, rest) or None."""
        pos, out = 1, []
        if text.startswith("{}") and self.house:
            self.err(lineno, "empty label set {}")
        while True:
            if text[pos:pos + 1] == "}":
                return out, text[pos + 1:]
            m = LABEL_RE.match(text, pos)
            if not m:
                self.err(lineno, "bad label name at column %d" % (pos + 1))
                return None
            lname = m.group(0)
            pos = m.end()
            if text[pos:pos + 2] != '="':
                self.err(lineno, "label %s: expected =\" at column %d" % (lname, pos + 1))
                return None
            pos += 2
            value = []
            while True:
                ch = text[pos:pos + 1]
                if ch == "":
                    self.err(lineno, "label %s: unterminated value" % lname)
                    return None
                if ch == '"':
                    pos += 1
                    break
                if ch == "\\":
                    esc = text[pos + 1:pos + 2]
                    if esc not in ("\\", '"', "n"):
                        self.err(lineno, "label %s: bad escape \\%s" % (lname, esc))
                        return None
                    value.append("\n" if esc == "n" else esc)
                    pos += 2
                    continue
                value.append(ch)
                pos += 1
            if lname.startswith("__"):
                self.err(lineno, "label name %s is reserved (starts with __)" % lname)
            if any(n == lname for n, _ in out):
                self.err(lineno, "label %s twice in one sample" % lname)
            out.append((lname, "".join(value)))
            sep = text[pos:pos + 1]
            if sep == ",":
                pos += 1
                if text[pos:pos + 1] == "}" and self.house:
                    self.err(lineno, "trailing comma in a label set")
                continue
            if sep != "}":
                self.err(lineno, "expected , or } at column %d" % (pos + 1))
                return None

    def sample(self, lineno, line):
        m = re.match(NAME, line)
        if not m:
            self.err(lineno, "a sample must start with a metric name")
            return
        name, rest = m.group(0), line[m.end():]
        labels = []
        if rest.startswith("{"):
            parsed = self.labels(lineno, rest)
            if parsed is None:
                return
            labels, rest = parsed
        if not rest.startswith(" ") and not rest.startswith("\t"):
            self.err(lineno, "expected a blank before the value")
            return
        if self.house and (rest.startswith("  ") or "\t" in rest or rest.endswith(" ")):
            self.err(lineno, "tokens must be separated by exactly one space")
        fields = rest.split()
        if len(fields) not in (1, 2):
            self.err(lineno, "expected a value and at most a timestamp, got %r" % rest.strip())
            return
        if not FLOAT_RE.match(fields[0]):
            self.err(lineno, "bad value %r" % fields[0])
            return
        if len(fields) == 2 and (not INT_RE.match(fields[1]) or
                                 not INT64_MIN <= int(fields[1]) <= INT64_MAX):
            self.err(lineno, "bad timestamp %r" % fields[1])
        family = self.family_of(name)
        kind = self.types.get(family)
        self.enter(lineno, family)
        self.sampled.add(family)
        if kind is None:
            if self.house:
                self.err(lineno, "sample of %s before (or without) its TYPE" % family)
        elif self.house and family not in self.helps:
            self.err(lineno, "sample of %s without a HELP" % family)
        value = float(fields[0].replace("Inf", "inf")) if fields[0] != "NaN" else math.nan
        if kind == "counter" and self.house and (math.isnan(value) or value < 0):
            self.err(lineno, "counter %s has value %s" % (name, fields[0]))
        names = [n for n, _ in labels]
        if kind == "histogram" and name.endswith("_bucket") and "le" not in names:
            self.err(lineno, "histogram bucket without le")
        if kind == "summary" and name == family and "quantile" not in names:
            self.err(lineno, "summary sample without quantile")
        key = (name, tuple(sorted(labels)))
        if key in self.series:
            self.err(lineno, "series %s%s appears twice" % (
                name, "{" + ",".join('%s="%s"' % kv for kv in sorted(labels)) + "}"
                if labels else ""))
        self.series.add(key)

    def check(self, data):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            self.err(text_line(data, e.start), "not UTF-8")
            return self.errors
        if text and not text.endswith("\n"):
            self.err(text.count("\n") + 1, "the last line does not end in \\n")
        if "\r" in text:
            self.err(text[: text.index("\r")].count("\n") + 1, "carriage return")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for lineno, line in enumerate(lines, 1):
            if line.strip() == "":
                if self.house:
                    self.err(lineno, "blank line")
                continue
            if line.startswith("#"):
                self.comment(lineno, line)
            else:
                self.sample(lineno, line)
        if self.house:
            for fam in sorted(set(self.types) | self.helps):
                if fam not in self.types:
                    self.err(len(lines), "family %s has HELP but no TYPE" % fam)
                elif fam not in self.helps:
                    self.err(len(lines), "family %s has TYPE but no HELP" % fam)
        return self.errors


def text_line(data, offset):
    return data[:offset].count(b"\n") + 1


def main(argv):
    args = argv[1:]
    house = True
    if args and args[0] == "--spec-only":
        house = False
        args = args[1:]
    if any(a in ("-h", "--help") for a in args):
        sys.stderr.write(__doc__)
        return 2
    paths = args or ["-"]
    bad = 0
    for path in paths:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                sys.stderr.write("metrics_check: %s: %s\n" % (path, e.strerror))
                return 2
        errors = Checker(house).check(data)
        for e in errors:
            sys.stderr.write("metrics_check: %s: %s\n" % (path, e))
        if len(paths) > 1:
            print("%s: %s" % (path, "invalid" if errors else "ok"))
        bad += bool(errors)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
