#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""oracles.py: vigil's detection rates on the independent test data of ../shared/testdata.

    bench/oracles.py [--vigil PATH] [--testdata DIR] [--threads N] [--extra-args='...']
                     [--json] [--missed SET:N] [--keep DIR]
                     [--log-format combined|json] [--crs-only] [--crs-at-paranoia]

Writes every oracle input as one line of a combined access log and scans the log once with
`vigil scan --no-store --no-geo --quiet --events FILE`; a line is "flagged" when vigil writes an
event for it. The other fields of each line are realistic and constant in kind (a documentation
address per source, increasing timestamps, status 200, a desktop browser's User-Agent, no
referer), so that only the payload can make a line an attack.

Sets (see ../shared/testdata/README.md for their provenance and caveats):
  libinjection  data/sqli-*.txt and data/xss-*.txt (attacks) and data/false_positives.txt
                (benign): each non-comment line is a URL-encoded query value, as upstream feeds
                it; it becomes GET /search?q=<line>, with only the characters a request line
                cannot carry escaped (space, '"', '&', '#', controls, non-ASCII, a stray '%').
  payloads      PayloadsAllTheThings Intruder lists per category (sqli, xss, traversal, lfi,
                cmdi): each line is a raw payload; it is percent-encoded whole and sent as the
                value of a parameter named for the category (id, q, file, file, cmd), so vigil
                sees exactly the line after one decoding round. '#' lines are skipped only in
                the files whose README says they are comments; "payload<TAB>description" keeps
                the payload.
  crs           OWASP CRS v3.3.10 regression stages whose payload a log can show: log_visible,
                or a form body that uri_with_form_body moves into the query string. Attacks
                are counted per rule file, at every paranoia level and at paranoia 1; benign
                stages are reported as flagged counts (the README explains why they are weak).
                The request line is written with nginx's escaping (\\xHH for '"', '\\',
                controls and non-ASCII); User-Agent and Referer come from the stage.

CRS options (docs/crs.md): --log-format json writes a JSON lines log instead (the keys of vigil's
`json` format: request, http_user_agent, http_referer, http_cookie, content_type, request_body,
host and other headers as http_*), so that bodies and headers reach the rules; the CRS set then
holds every enabled attack/benign stage whose request is not raw, with the body form-encoded as
the CRS harness sends it. --crs-only leaves out the libinjection and payload sets.
--crs-at-paranoia scans the CRS stages four times, with --paranoia 1..4, and counts an attack
stage flagged when the run at the stage's own paranoia level flags it (and reports whether the
rule the stage expects was among the hits).

Prints one table per set (and --json a machine-readable summary, used by
tests/e2e_oracles.py). --missed SET:N lists N missed inputs of SET (libinjection-sqli,
libinjection-xss, libinjection-fp, payloads-<category>, crs) to study. Exit status: 0 when the
figures were computed, 2 on usage errors (missing test data or vigil), 1 when vigil fails.
"""
import argparse
import collections
import datetime
import glob
import json
import os
import shlex
import subprocess
import sys
import tempfile
import urllib.parse

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/129.0.0.0 Safari/537.36")
PARAM = {"sqli": "id", "xss": "q", "traversal": "file", "lfi": "file", "cmdi": "cmd"}
# Files whose '#' lines are comments (README, section 4); elsewhere '#' lines are payloads.
HASH_COMMENTS = ("sqli/FUZZDB_", "sqli/Generic_TimeBased.txt", "lfi/Traversal.txt")
HEX = "0123456789abcdefABCDEF"
UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def escape_target_chars(s):
    """Keeps %XX and '+', escapes what a request-target cannot carry (libinjection lines)."""
    out = []
    b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
    i = 0
    while i < len(b):
        c = b[i]
        ch = chr(c)
        if ch == "%":
            if i + 2 < len(b) + 0 and i + 2 <= len(b) - 1 and chr(b[i + 1]) in HEX and chr(b[i + 2]) in HEX:
                out.append(b[i:i + 3].decode("ascii"))
                i += 3
                continue
            out.append("%25")
        elif c <= 0x20 or c >= 0x7f or ch in '"&#\\<>^`{}|':
            out.append("%%%02X" % c)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def nginx_escape(s):
    """Escapes a request line or header as nginx's combined log does."""
    b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
    out = []
    for c in b:
        if c == 0x22 or c == 0x5C or c < 0x20 or c >= 0x7f:
            out.append("\\x%02X" % c)
        else:
            out.append(chr(c))
    return "".join(out)


def read_lines(path):
    with open(path, "rb") as f:
        for raw in f.read().split(b"\n"):
            yield raw


class LogWriter:
    def __init__(self, path, fmt="combined"):
        self.f = open(path, "w", encoding="ascii", errors="strict")
        self.n = 0
        self.meta = {}
        self.fmt = fmt
        self.t0 = datetime.datetime(2026, 11, 1)

    def add(self, method, target, ua, referer, meta, version="HTTP/1.1", headers=None,
            body=None):
        self.n += 1
        ip = "198.51.100.%d" % (1 + self.n % 250) if self.n % 2 else "203.0.113.%d" % (1 + self.n % 250)
        t = self.t0 + datetime.timedelta(seconds=self.n)
        if self.fmt == "json":
            o = {"time_iso8601": t.strftime("%Y-%m-%dT%H:%M:%S+00:00"), "remote_addr": ip,
                 "request": "%s %s %s" % (method, target, version), "status": 200,
                 "body_bytes_sent": 1234}
            if ua:
                o["http_user_agent"] = ua
            if referer:
                o["http_referer"] = referer
            for k, v in (headers or {}).items():
                lk = k.lower()
                if lk in ("user-agent", "referer"):
                    continue
                key = {"cookie": "http_cookie", "content-type": "content_type",
                       "host": "host"}.get(lk, "http_" + lk.replace("-", "_"))
                o[key] = v
            if body:
                o["request_body"] = body
            self.f.write(json.dumps(o, ensure_ascii=True) + "\n")
        else:
            ts = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
            req = nginx_escape("%s %s %s" % (method, target, version))
            self.f.write('%s - - [%s] "%s" 200 1234 "%s" "%s"\n' % (
                ip, ts, req, nginx_escape(referer or "-"), nginx_escape(ua or "-")))
        self.meta[self.n] = meta

    def close(self):
        self.f.close()


def add_libinjection(w, td):
    base = os.path.join(td, "libinjection", "data")
    files = sorted(glob.glob(os.path.join(base, "sqli-*.txt")) +
                   glob.glob(os.path.join(base, "xss-*.txt")) +
                   [os.path.join(base, "false_positives.txt")])
    for path in files:
        name = os.path.basename(path)[:-4]
        kind = "fp" if name == "false_positives" else name.split("-")[0]
        for raw in read_lines(path):
            line = raw.rstrip(b" \t\r\n")
            if not line or line.startswith(b"#"):
                continue
            target = "/search?q=" + escape_target_chars(line)
            w.add("GET", target, UA, None, ("libinjection-" + kind, name, line))


def add_payloads(w, td):
    base = os.path.join(td, "payloads")
    for cat in ("sqli", "xss", "traversal", "lfi", "cmdi"):
        for path in sorted(glob.glob(os.path.join(base, cat, "*"))):
            rel = cat + "/" + os.path.basename(path)
            skip_hash = rel.startswith(HASH_COMMENTS)
            for raw in read_lines(path):
                line = raw.rstrip(b"\r")
                if not line.strip():
                    continue
                if skip_hash and line.startswith(b"#"):
                    continue
                if cat == "sqli" and b"\t" in line:
                    line = line.split(b"\t", 1)[0]
                    if not line.strip():
                        continue
                target = "/page?%s=%s" % (PARAM[cat], urllib.parse.quote_from_bytes(line, safe=""))
                w.add("GET", target, UA, None, ("payloads-" + cat, rel, line))


def harness_body(s):
    """The body as the CRS harness sends it, and the headers with its default content type."""
    h = dict(s.get("headers") or {})
    body = s.get("body") or ""
    if not body:
        return h, None
    ct = next((v for k, v in h.items() if k.lower() == "content-type"), None)
    if ct is None:
        ct = h["Content-Type"] = "application/x-www-form-urlencoded"
    if "x-www-form-urlencoded" in ct.lower() and "%" not in body and "+" not in body:
        parts = []
        for kv in body.split("&"):
            k, eq, v = kv.partition("=")
            parts.append(urllib.parse.quote_plus(k) + eq + urllib.parse.quote_plus(v))
        body = "&".join(parts)
    return h, body


def add_crs(w, td):
    path = os.path.join(td, "crs-requests.jsonl")
    with open(path, encoding="utf-8") as f:
        for l in f:
            s = json.loads(l)
            if s["expect"] not in ("attack", "benign") or not s.get("enabled", True):
                continue
            if w.fmt == "json":
                if s.get("raw_request"):
                    continue
                h, body = harness_body(s)
                hl = {k.lower(): v for k, v in h.items()}
                w.add(s["method"], s["uri"], hl.get("user-agent", UA), hl.get("referer"),
                      ("crs", s["rule_file"], s["expect"], s.get("paranoia_level"), s["test_id"],
                       s.get("expect_ids") or []),
                      version=s.get("version") or "HTTP/1.1", headers=h, body=body)
                continue
            issues = set(s.get("log_issues") or [])
            if s.get("log_visible"):
                target = s["uri"]
            elif s.get("uri_with_form_body") and issues <= {"body", "header:Content-Type"}:
                target = s["uri_with_form_body"]
            else:
                continue
            h = {k.lower(): v for k, v in (s.get("headers") or {}).items()}
            ua = h.get("user-agent", UA)
            w.add(s["method"], target, ua, h.get("referer"),
                  ("crs", s["rule_file"], s["expect"], s.get("paranoia_level"), s["test_id"],
                   s.get("expect_ids") or []),
                  version=s.get("version") or "HTTP/1.1")


def pct(a, b):
    return "%.1f%% (%d/%d)" % (100.0 * a / b, a, b) if b else "-"


def table(title, header, rows):
    print(title)
    print("=" * len(title))
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    fmt = "  ".join("%%-%ds" % w for w in widths)
    print(fmt % tuple(header))
    print(fmt % tuple("-" * w for w in widths))
    for r in rows:
        print(fmt % tuple(r))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default=os.environ.get("VIGIL") or os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--testdata", default=os.path.join(ROOT, "..", "shared", "testdata"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--extra-args", default="", help="more vigil scan arguments (shell words)")
    ap.add_argument("--json", action="store_true", help="print a JSON summary instead of tables")
    ap.add_argument("--missed", action="append", default=[], metavar="SET:N",
                    help="list up to N missed inputs of SET (e.g. libinjection-sqli:20)")
    ap.add_argument("--keep", metavar="DIR", help="keep the generated log and events in DIR")
    ap.add_argument("--log-format", choices=("combined", "json"), default="combined",
                    help="write the log as combined (default) or JSON lines (bodies, headers)")
    ap.add_argument("--crs-only", action="store_true", help="only the CRS regression stages")
    ap.add_argument("--crs-at-paranoia", action="store_true",
                    help="score each CRS attack stage at its own paranoia level (4 scans)")
    a = ap.parse_args()
    td = os.path.normpath(a.testdata)
    if not os.path.isfile(os.path.join(td, "crs-requests.jsonl")):
        print("oracles.py: no test data at %s" % td, file=sys.stderr)
        return 2
    if not os.access(a.vigil, os.X_OK):
        print("oracles.py: no vigil binary at %s" % a.vigil, file=sys.stderr)
        return 2

    tmp = a.keep or tempfile.mkdtemp(prefix="vigil-oracles-")
    os.makedirs(tmp, exist_ok=True)
    log, events = os.path.join(tmp, "oracles.log"), os.path.join(tmp, "events.jsonl")
    w = LogWriter(log, a.log_format)
    if not a.crs_only:
        add_libinjection(w, td)
        add_payloads(w, td)
    add_crs(w, td)
    w.close()
    fmt_args = ["--format", "json"] if a.log_format == "json" else []

    def scan(extra):
        cmd = [a.vigil, "scan", "--no-store", "--no-geo", "--quiet", "--events", events,
               "--threads", str(a.threads)] + fmt_args + shlex.split(a.extra_args) + extra + [log]
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode not in (0, 1):
            print("oracles.py: %s exited %d:\n%s" % (" ".join(cmd), r.returncode,
                                                      r.stderr.decode("utf-8", "replace")),
                  file=sys.stderr)
            return None, cmd
        got = {}
        with open(events, encoding="utf-8") as f:
            for l in f:
                e = json.loads(l)
                got[e["log"]["line"]] = e["vigil"]
        return got, cmd

    flagged, cmd = scan([])
    if flagged is None:
        return 1
    by_pl = {}
    if a.crs_at_paranoia:
        for pl in (1, 2, 3, 4):
            by_pl[pl], _ = scan(["--paranoia", str(pl)])
            if by_pl[pl] is None:
                return 1
    if not a.keep:
        for p in (log, events):
            os.unlink(p)
        os.rmdir(tmp)

    out = {"lines": w.n, "flagged": len(flagged)}
    # libinjection
    per_file = collections.OrderedDict()
    tot = collections.Counter()
    missed = collections.defaultdict(list)
    for n, m in w.meta.items():
        if not m[0].startswith("libinjection"):
            continue
        kind, name = m[0], m[1]
        c = per_file.setdefault(name, [kind, 0, 0, 0])
        hit = n in flagged
        cls = "sqli" if kind.endswith("sqli") else "xss" if kind.endswith("xss") else None
        c[1] += 1
        c[2] += hit
        c[3] += hit and cls in (flagged[n].get("classes") or []) if cls else hit
        tot[kind, "n"] += 1
        tot[kind, "hit"] += hit
        if not hit and kind != "libinjection-fp" or hit and kind == "libinjection-fp":
            missed[kind].append(m[2])
    lib = {}
    for kind in ("libinjection-sqli", "libinjection-xss", "libinjection-fp"):
        lib[kind.split("-")[1]] = {"n": tot[kind, "n"], "flagged": tot[kind, "hit"],
                                   "rate": tot[kind, "hit"] / max(tot[kind, "n"], 1)}
    out["libinjection"] = lib
    out["libinjection_files"] = {k: {"n": v[1], "flagged": v[2], "with_class": v[3]}
                                 for k, v in per_file.items()}
    # payloads
    pl_lists = collections.OrderedDict()
    pl_cat = collections.Counter()
    for n, m in w.meta.items():
        if not m[0].startswith("payloads"):
            continue
        cat = m[0].split("-", 1)[1]
        c = pl_lists.setdefault(m[1], [0, 0])
        c[0] += 1
        c[1] += n in flagged
        pl_cat[cat, "n"] += 1
        pl_cat[cat, "hit"] += n in flagged
        if n not in flagged:
            missed[m[0]].append(m[2])
    out["payloads"] = {cat: {"n": pl_cat[cat, "n"], "flagged": pl_cat[cat, "hit"],
                             "rate": pl_cat[cat, "hit"] / max(pl_cat[cat, "n"], 1)}
                       for cat in PARAM}
    out["payloads_lists"] = {k: {"n": v[0], "flagged": v[1]} for k, v in pl_lists.items()}
    # crs
    crs = collections.OrderedDict()
    ctot = collections.Counter()
    for n, m in w.meta.items():
        if m[0] != "crs":
            continue
        rf, expect, pl = m[1], m[2], m[3]
        c = crs.setdefault(rf, collections.Counter())
        hit = n in flagged
        if by_pl and expect == "attack" and pl in by_pl:
            hit = n in by_pl[pl]
            ids = {str(h.get("rule")) for h in (by_pl[pl].get(n) or {}).get("hits") or []}
            rule_hit = any(str(x) in ids for x in m[5])
            c["attack_rule_hit"] += rule_hit
            ctot["attack_rule_hit"] += rule_hit
        c[expect] += 1
        c[expect + "_hit"] += hit
        ctot[expect] += 1
        ctot[expect + "_hit"] += hit
        if expect == "attack" and pl == 1:
            c["pl1"] += 1
            c["pl1_hit"] += hit
            ctot["pl1"] += 1
            ctot["pl1_hit"] += hit
        if expect == "attack" and not hit:
            missed["crs"].append(m[4].encode())
    out["crs"] = {rf: dict(c) for rf, c in crs.items()}
    out["crs_total"] = dict(ctot)

    if a.json:
        json.dump(out, sys.stdout, indent=1, sort_keys=True)
        print()
    else:
        print("vigil oracles: %d lines scanned, %d flagged (%s)\n" % (w.n, len(flagged),
                                                                       " ".join(cmd)))
        table("libinjection (query values)", ["set", "lines", "flagged"],
              [[k, v["n"], pct(v["flagged"], v["n"])] for k, v in lib.items()])
        table("libinjection per file", ["file", "lines", "flagged", "flagged with its class"],
              [[k, v[1], pct(v[2], v[1]), pct(v[3], v[1]) if v[0] != "libinjection-fp" else "-"]
               for k, v in per_file.items()])
        table("PayloadsAllTheThings per category", ["category", "lines", "flagged"],
              [[k, v["n"], pct(v["flagged"], v["n"])] for k, v in out["payloads"].items()])
        table("PayloadsAllTheThings per list", ["list", "lines", "flagged"],
              [[k, v[0], pct(v[1], v[0])] for k, v in pl_lists.items()])
        if by_pl:
            print("CRS attack stages scored at their own paranoia level; the rule the stage "
                  "expects was among the hits of %d of %d\n" % (ctot["attack_rule_hit"],
                                                               ctot["attack"]))
        table("OWASP CRS v3.3.10 stages a log can show (%s log)" % a.log_format,
              ["rule file", "attacks", "flagged", "PL1 attacks", "PL1 flagged", "benign",
               "benign flagged"],
              [[rf, c["attack"], pct(c["attack_hit"], c["attack"]), c["pl1"],
                pct(c["pl1_hit"], c["pl1"]), c["benign"], "%d" % c["benign_hit"]]
               for rf, c in crs.items()] +
              [["total", ctot["attack"], pct(ctot["attack_hit"], ctot["attack"]), ctot["pl1"],
                pct(ctot["pl1_hit"], ctot["pl1"]), ctot["benign"], "%d" % ctot["benign_hit"]]])
    for spec in a.missed:
        name, _, k = spec.partition(":")
        items = missed.get(name, [])
        print("missed %s (%d):" % (name, len(items)), file=sys.stderr)
        for x in items[:int(k or 20)]:
            print("  " + x.decode("utf-8", "replace"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
