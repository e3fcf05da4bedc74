#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_scan_sample.py: `vigil scan` end to end on the labelled example log (examples/).

Run by CTest as `python3 tests/e2e_scan_sample.py` with VIGIL (the binary), VG_SOURCE_DIR,
VG_SHARED_DIR and VG_GEO_DIR in the environment and the build directory as working directory.
Standalone: `VIGIL=build/vigil python3 tests/e2e_scan_sample.py [-v] [TestName...]`.
Exit status: 0 passed, 1 failed, 77 skipped (no binary to test).

What it checks, against examples/access.log and examples/access.labels.tsv (CLI contract of
`vigil scan`): totals (every line counted, exactly the 3 malformed lines reported), months
counted in UTC, every event pointing at exactly its line (log.line and log.offset), every
payload-carrying attack request flagged and no benign one, byte-identical output whatever the
thread count, the same events from gzip, zstd and stdin input, no raw control byte from the log
reaching the terminal summary, the store skipping a file it already holds, and resuming a file
that grew without missing or double-counting.
"""
import calendar
import glob
import gzip
import ipaddress
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE_DIR = os.environ.get("VG_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
VIGIL = os.environ.get("VIGIL") or os.path.join(SOURCE_DIR, "build", "vigil")
GEO_DIR = os.environ.get("VG_GEO_DIR") or os.path.join(SOURCE_DIR, "data", "geo")
LOG = os.path.join(SOURCE_DIR, "examples", "access.log")
LABELS = os.path.join(SOURCE_DIR, "examples", "access.labels.tsv")
TIMEOUT = 300
CLASSES = {"sqli", "xss", "traversal", "rfi", "cmdi", "code", "ssti", "probe", "tool", "scan",
           "bruteforce", "flood"}
OUTCOMES = {"possible-success", "refused", "failed", "unknown"}
TOP_KEYS = ["@timestamp", "event", "source", "url", "http", "user_agent", "vigil", "log"]
MONTHS = {m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                      "Sep", "Oct", "Nov", "Dec"], 1)}
LINE_RE = re.compile(rb'^(\S+) \S+ \S+ \[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\] '
                     rb'"((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) ')
PATH_RE = re.compile(rb'"log":\{"file":\{"path":"(?:[^"\\]|\\.)*"\}')


def geo_args():
    """--geo for each database of VG_GEO_DIR, or --no-geo when there is none."""
    dbs = sorted(glob.glob(os.path.join(GEO_DIR, "*.mmdb")))
    if not dbs:
        return ["--no-geo"]
    out = []
    for d in dbs:
        out += ["--geo", d]
    return out


def vigil(args, stdin=None, ok=(0,), cwd=None):
    """Runs vigil with args; fails the calling test unless the exit status is in ok."""
    p = subprocess.run([VIGIL] + args, stdin=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT, cwd=cwd)
    if p.returncode not in ok:
        raise AssertionError("vigil %s exited %d\nstderr:\n%s" % (
            " ".join(args), p.returncode, p.stderr.decode("utf-8", "replace")[-3000:]))
    return p


def read_events(path):
    with open(path, "rb") as f:
        raw = f.read()
    events = [json.loads(l) for l in raw.split(b"\n") if l]
    return raw, events


def strip_paths(raw):
    return PATH_RE.sub(b'"log":{"file":{"path":"*"}', raw)


def utc_of(m):
    day, mon, year = int(m.group(2)), MONTHS[m.group(3).decode()], int(m.group(4))
    h, mi, s = int(m.group(5)), int(m.group(6)), int(m.group(7))
    off = (int(m.group(9)) * 60 + int(m.group(10))) * 60 * (1 if m.group(8) == b"+" else -1)
    return calendar.timegm((year, mon, day, h, mi, s)) - off


class Sample(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-sample-")
        with open(LOG, "rb") as f:
            cls.data = f.read()
        cls.lines = cls.data.split(b"\n")
        assert cls.lines[-1] == b"", "examples/access.log must end with a newline"
        cls.lines.pop()
        cls.offsets, off = [], 0
        for l in cls.lines:
            cls.offsets.append(off)
            off += len(l) + 1
        cls.labels = {}
        cls.detect = {}  # "request", "behaviour" or "context" (see scripts/make_example_log.py)
        with open(LABELS, encoding="utf-8") as f:
            head = f.readline().rstrip("\n").split("\t")
            assert head[:4] == ["line", "actor", "kind", "payload"], head
            for row in f:
                p = row.rstrip("\n").split("\t")
                cls.labels[int(p[0])] = (p[1], p[2], p[3] == "1", p[4] if len(p) > 4 else "")
                cls.detect[int(p[0])] = p[5] if len(p) > 5 else ""
        # the reference scan: one thread, no store
        cls.ev1 = os.path.join(cls.tmp, "t1.jsonl")
        p = vigil(["scan", "--no-store", "--json", "--threads", "1", "--events", cls.ev1]
                  + geo_args() + [LOG])
        cls.summary_raw = p.stdout
        cls.summary = json.loads(p.stdout)
        cls.events_raw, cls.events = read_events(cls.ev1)
        cls.by_line = {e["log"]["line"]: e for e in cls.events}

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def lines_of(self, kind, payload=None):
        return sorted(n for n, (_, k, p, _) in self.labels.items()
                      if k == kind and (payload is None or p == payload))

    def test_example_log_is_what_its_generator_writes(self):
        p = subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "scripts", "make_example_log.py"),
                            "--check", os.path.dirname(LOG)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stdout.decode("utf-8", "replace"))

    # ---- counting -------------------------------------------------------------------------

    def test_totals_count_every_line_and_exactly_the_malformed_ones(self):
        t = self.summary["totals"]
        malformed = self.lines_of("malformed")
        self.assertEqual(len(malformed), 3)
        self.assertEqual(t["lines"], len(self.lines))
        self.assertEqual(t["malformed"], 3)
        self.assertEqual(t["requests"], len(self.lines) - 3)
        self.assertEqual(t["oversize"], 0)
        self.assertEqual(t["skipped_files"], 0)
        self.assertEqual(t["attack_requests"], len(self.events))
        self.assertEqual(len(self.summary["files"]), 1)
        f = self.summary["files"][0]
        self.assertEqual((f["lines"], f["requests"], f["malformed"], f["compression"], f["status"]),
                         (len(self.lines), len(self.lines) - 3, 3, "none", "ok"))
        samples = self.summary["malformed_samples"]
        self.assertEqual(sorted(s["line"] for s in samples), malformed)
        for s in samples:
            self.assertEqual(s["offset"], self.offsets[s["line"] - 1], s)
            self.assertTrue(s["reason"], s)

    def test_sources_are_the_distinct_flagged_addresses(self):
        ips = {str(ipaddress.ip_address(e["source"]["ip"])) for e in self.events}
        self.assertEqual(self.summary["totals"]["sources"], len(ips))

    def test_months_are_counted_in_utc(self):
        want = {}
        for n, l in enumerate(self.lines, 1):
            if self.labels[n][1] == "malformed":
                continue
            m = LINE_RE.match(l)
            self.assertIsNotNone(m, "line %d does not parse in the test's own parser" % n)
            w = want.setdefault(time.strftime("%Y-%m", time.gmtime(utc_of(m))), [0, 0])
            w[0] += 1
            w[1] += n in self.by_line
        got = {m["month"]: [m["requests"], m["attack_requests"]] for m in self.summary["months"]}
        self.assertEqual(sorted(got), ["2026-09", "2026-10"])
        self.assertEqual(got, want)

    def test_month_breakdowns_add_up_to_the_events(self):
        per = {}
        for e in self.events:
            m = per.setdefault(e["@timestamp"][:7], {"classes": {}, "ips": {}})
            for c in e["vigil"]["classes"]:
                m["classes"][c] = m["classes"].get(c, 0) + 1
            ip = str(ipaddress.ip_address(e["source"]["ip"]))
            m["ips"][ip] = m["ips"].get(ip, 0) + 1
        for month in self.summary["months"]:
            exp = per.get(month["month"], {"classes": {}, "ips": {}})
            self.assertEqual(month["sources"], len(exp["ips"]), month["month"])
            self.assertEqual({c["class"]: c["attack_requests"] for c in month["classes"]},
                             exp["classes"], month["month"])
            self.assertLessEqual(sum(c["attack_requests"] for c in month["countries"]),
                                 month["attack_requests"], month["month"])
            for s in month["top_sources"]:
                self.assertEqual(s["attack_requests"],
                                 exp["ips"].get(str(ipaddress.ip_address(s["ip"]))), s)

    # ---- events ---------------------------------------------------------------------------

    def test_every_event_points_at_exactly_its_line(self):
        self.assertTrue(self.events)
        for e in self.events:
            n, off = e["log"]["line"], e["log"]["offset"]
            self.assertTrue(1 <= n <= len(self.lines), e["log"])
            self.assertEqual(off, self.offsets[n - 1], "line %d: offset %d" % (n, off))
            line = self.lines[n - 1]
            self.assertEqual(self.data[off:off + len(line) + 1], line + b"\n")
            self.assertEqual(e["log"]["file"]["path"], LOG)

    def test_events_are_one_per_line(self):
        # Events come in the order they are decided: a behaviour detection writes the earlier
        # requests of its burst when it fires (docs/internals/behave.md); log.line gives the
        # input order.
        lines = [e["log"]["line"] for e in self.events]
        self.assertEqual(sorted(lines), sorted(set(lines)))

    def test_event_fields_match_the_logged_request(self):
        for e in self.events:
            n = e["log"]["line"]
            keys = [k for k in e if k in TOP_KEYS]
            self.assertEqual(keys, [k for k in TOP_KEYS if k in keys], "key order, line %d" % n)
            for k in ("@timestamp", "event", "source", "http", "vigil", "log"):
                self.assertIn(k, e, "line %d" % n)
            m = LINE_RE.match(self.lines[n - 1])
            self.assertIsNotNone(m)
            self.assertEqual(ipaddress.ip_address(e["source"]["ip"]),
                             ipaddress.ip_address(m.group(1).decode()), "line %d" % n)
            tm = time.gmtime(utc_of(m))
            self.assertEqual(e["@timestamp"], "%04d-%02d-%02dT%02d:%02d:%02dZ" % tuple(tm[:6]),
                             "line %d" % n)
            self.assertEqual(e["event"]["kind"], "alert")
            self.assertEqual(e["http"]["response"]["status_code"], int(m.group(12)))
            if m.group(13) != b"-":
                self.assertEqual(e["http"]["response"]["body"]["bytes"], int(m.group(13)))
            request = m.group(11)
            if b"\\" not in request and request.count(b" ") == 2:
                method, target, _ = request.split(b" ")
                self.assertEqual(e["http"]["request"]["method"], method.decode())
                self.assertEqual(e["url"]["original"], target.decode("utf-8"), "line %d" % n)
            v = e["vigil"]
            self.assertEqual(v["schema"], "1")
            self.assertTrue(v["classes"], "line %d" % n)
            self.assertLessEqual(set(v["classes"]), CLASSES, "line %d" % n)
            self.assertIn(v["outcome"], OUTCOMES)
            self.assertIsInstance(v["score"], int)
            for h in v.get("hits", []):
                self.assertIn(h["class"], CLASSES)

    def test_every_labelled_payload_request_is_flagged(self):
        # Lines whose attack only the behaviour of their source shows (credential guessing,
        # probes harmless one at a time) or only the response confirms (a lone quote) are not a
        # per-request detector's to flag; the behaviour detectors will be checked on them.
        missed = [n for n in self.lines_of("attack", True)
                  if self.detect[n] == "request" and n not in self.by_line]
        self.assertEqual(missed, [], "payload=1 attack lines not flagged (%d): %s" % (
            len(missed), "\n".join("%d %s %s" % (n, self.labels[n][0],
                                                 self.lines[n - 1][:160].decode("utf-8", "replace"))
                                   for n in missed[:25])))

    def test_every_attacking_source_gets_its_labelled_classes(self):
        want, got = {}, {}
        for n, (actor, kind, payload, cls) in self.labels.items():
            if kind == "attack" and payload and cls and self.detect[n] == "request":
                want.setdefault(actor, set()).add(cls)
                if n in self.by_line:
                    got.setdefault(actor, set()).update(self.by_line[n]["vigil"]["classes"])
        for actor in sorted(want):
            # each actor's main classes (all but "tool", which a spoofed agent hides) are found
            main = want[actor] - {"tool"} or want[actor]
            self.assertTrue(main & got.get(actor, set()),
                            "%s: labelled %s, got %s" % (actor, sorted(want[actor]),
                                                         sorted(got.get(actor, set()))))

    def test_attackers_are_located_by_the_geo_database(self):
        if geo_args() == ["--no-geo"]:
            self.skipTest("no MMDB in %s" % GEO_DIR)
        # countries of the attacking addresses in the CC0 geo-whois-asn-country database that
        # the setup installs (examples/README.md); each /16 is allocated to one country
        want = {"117.50.43.118": "CN", "84.104.57.201": "NL", "95.165.148.23": "RU",
                "128.199.201.77": "SG", "177.67.82.140": "BR", "176.36.118.9": "UA",
                "79.210.33.164": "DE", "139.59.77.45": "IN", "121.134.66.208": "KR",
                "14.160.92.17": "VN", "2a00:1fa0:41c2:7700::35": "RU", "36.68.211.54": "ID"}
        seen = {}
        for e in self.events:
            ip = str(ipaddress.ip_address(e["source"]["ip"]))
            seen[ip] = e["source"].get("geo", {}).get("country_iso_code")
        for ip, cc in sorted(seen.items()):
            if ip in want:
                self.assertEqual(cc, want[ip], ip)
        self.assertTrue(self.summary["provenance"]["geo"], "geo provenance is empty")

    def test_no_benign_request_is_flagged(self):
        fp = [n for n in self.lines_of("benign") if n in self.by_line]
        self.assertEqual(fp, [], "benign lines flagged (%d):\n%s" % (
            len(fp), "\n".join("%d %s rules=%s %s" % (
                n, self.labels[n][0],
                [h.get("rule") for h in self.by_line[n]["vigil"].get("hits", [])],
                self.lines[n - 1][:160].decode("utf-8", "replace")) for n in fp[:25])))

    def test_malformed_lines_yield_no_event(self):
        self.assertEqual([n for n in self.lines_of("malformed") if n in self.by_line], [])

    # ---- determinism and inputs -----------------------------------------------------------

    def test_two_threads_give_byte_identical_events_and_summary(self):
        ev2 = os.path.join(self.tmp, "t2.jsonl")
        p = vigil(["scan", "--no-store", "--json", "--threads", "2", "--events", ev2]
                  + geo_args() + [LOG])
        raw2, _ = read_events(ev2)
        self.assertEqual(raw2, self.events_raw)
        self.assertEqual(p.stdout, self.summary_raw)

    def compressed_run(self, path, compression):
        ev = os.path.join(self.tmp, "ev-%s.jsonl" % compression)
        p = vigil(["scan", "--no-store", "--json", "--threads", "2", "--events", ev]
                  + geo_args() + [path])
        raw, events = read_events(ev)
        self.assertEqual(strip_paths(raw), strip_paths(self.events_raw))
        for e in events:
            self.assertEqual(e["log"]["file"]["path"], path)
        s = json.loads(p.stdout)
        self.assertEqual(s["files"][0]["compression"], compression)
        self.assertEqual(s["totals"], self.summary["totals"])
        self.assertEqual(s["months"], self.summary["months"])

    def test_gzip_input_gives_the_same_events(self):
        gz = os.path.join(self.tmp, "copy.log.gz")
        with gzip.open(gz, "wb", compresslevel=6) as f:
            f.write(self.data)
        self.compressed_run(gz, "gzip")

    def test_gzip_input_is_detected_by_magic_not_name(self):
        gz = os.path.join(self.tmp, "copy-gzip-named.log")
        with gzip.open(gz, "wb") as f:
            f.write(self.data)
        self.compressed_run(gz, "gzip")

    def test_zstd_input_gives_the_same_events(self):
        if not shutil.which("zstd"):
            self.skipTest("no zstd command")
        zst = os.path.join(self.tmp, "copy.log.zst")
        subprocess.run(["zstd", "-q", "-f", "-o", zst, LOG], check=True, timeout=TIMEOUT)
        self.compressed_run(zst, "zstd")

    def test_stdin_dash_reads_the_log(self):
        ev = os.path.join(self.tmp, "ev-stdin.jsonl")
        with open(LOG, "rb") as f:
            p = vigil(["scan", "--no-store", "--json", "--threads", "2", "--events", ev]
                      + geo_args() + ["-"], stdin=f)
        raw, events = read_events(ev)
        self.assertEqual(strip_paths(raw), strip_paths(self.events_raw))
        self.assertTrue(all(e["log"]["file"]["path"] == "-" for e in events))
        self.assertEqual(json.loads(p.stdout)["totals"], self.summary["totals"])

    def test_events_to_stdout_move_the_summary_to_stderr(self):
        p = vigil(["scan", "--no-store", "--json", "--threads", "2", "--events", "-"]
                  + geo_args() + [LOG])
        self.assertEqual(p.stdout, self.events_raw)
        err = p.stderr.decode("utf-8", "replace")
        start = err.find('{"vigil"')  # stderr may also hold warnings before the summary
        self.assertGreaterEqual(start, 0, "no JSON summary on stderr: %r" % err[-500:])
        self.assertEqual(json.loads(err[start:])["totals"], self.summary["totals"])

    # ---- hostile bytes --------------------------------------------------------------------

    def assert_no_control_bytes(self, out, what):
        bad = sorted({c for c in out if (c < 0x20 and c not in (0x09, 0x0A)) or c == 0x7F})
        self.assertEqual(bad, [], "%s carries raw control bytes %s" % (what, bad))
        text = out.decode("utf-8", "replace")
        c1 = sorted({hex(ord(c)) for c in text if 0x80 <= ord(c) <= 0x9F})
        self.assertEqual(c1, [], "%s carries C1 controls %s" % (what, c1))

    def test_terminal_summary_never_carries_raw_control_bytes(self):
        self.assertIn(b"\x1b", self.data)  # the log does hold raw escapes (line 2150)
        p = vigil(["scan", "--no-store", "--threads", "2"] + geo_args() + [LOG])
        self.assertTrue(p.stdout.strip())
        self.assert_no_control_bytes(p.stdout, "text summary (stdout)")
        self.assert_no_control_bytes(p.stderr, "stderr")
        p = vigil(["scan", "--no-store", "--progress", "always", "--threads", "2"]
                  + geo_args() + [LOG])
        self.assert_no_control_bytes(p.stdout, "text summary with --progress always")

    def test_json_outputs_escape_every_control_byte(self):
        self.assertNotIn(b"\x1b", self.events_raw)
        self.assertNotIn(b"\x1b", self.summary_raw)
        self.assert_no_control_bytes(self.events_raw, "events")
        self.assert_no_control_bytes(self.summary_raw, "JSON summary")

    # ---- exit codes -----------------------------------------------------------------------

    def test_exit_codes_follow_the_contract(self):
        vigil(["scan", "--no-store", "--quiet", "--fail-on-attack", "--no-geo", LOG], ok=(1,))
        vigil(["scan", "--no-store", "--quiet", "--no-geo",
               os.path.join(self.tmp, "does-not-exist.log")], ok=(3,))
        vigil(["scan", "--no-store", "--no-such-option", LOG], ok=(2,))
        vigil(["scan", "--no-store", "--paranoia", "5", LOG], ok=(2,))

    # ---- the store ------------------------------------------------------------------------

    def store_events(self, db):
        with sqlite3.connect(db) as c:
            return c.execute("SELECT count(*) FROM events").fetchone()[0]

    def test_second_scan_of_the_same_file_is_skipped_and_not_double_counted(self):
        db = os.path.join(self.tmp, "skip.db")
        p = vigil(["scan", "--db", db, "--json", "--threads", "2"] + geo_args() + [LOG])
        first = json.loads(p.stdout)
        self.assertEqual(first["files"][0]["status"], "ok")
        self.assertEqual(self.store_events(db), len(self.events))
        ev = os.path.join(self.tmp, "ev-second.jsonl")
        p = vigil(["scan", "--db", db, "--json", "--threads", "2", "--events", ev]
                  + geo_args() + [LOG])
        second = json.loads(p.stdout)
        self.assertEqual(second["files"][0]["status"], "skipped")
        self.assertEqual(second["totals"]["skipped_files"], 1)
        self.assertEqual(second["totals"]["attack_requests"], 0)
        self.assertEqual(os.path.getsize(ev), 0)
        self.assertEqual(self.store_events(db), len(self.events))

    def test_a_grown_file_resumes_where_the_last_scan_stopped(self):
        half = len(self.lines) // 2
        cut = self.offsets[half]  # start of line half+1
        grow = os.path.join(self.tmp, "grow.log")
        with open(grow, "wb") as f:
            f.write(self.data[:cut])
        db = os.path.join(self.tmp, "grow.db")
        ev_a = os.path.join(self.tmp, "grow-a.jsonl")
        ev_b = os.path.join(self.tmp, "grow-b.jsonl")
        vigil(["scan", "--db", db, "--quiet", "--threads", "2", "--events", ev_a]
              + geo_args() + [grow])
        with open(grow, "ab") as f:
            f.write(self.data[cut:])
        p = vigil(["scan", "--db", db, "--json", "--threads", "2", "--events", ev_b]
                  + geo_args() + [grow])
        s = json.loads(p.stdout)
        self.assertEqual(s["files"][0]["status"], "ok")
        # resumed_at_line: the lines the store already held; lines: those read by this run
        self.assertEqual(s["files"][0]["resumed_at_line"], half)
        self.assertEqual(s["files"][0]["lines"], len(self.lines) - half)
        _, a = read_events(ev_a)
        _, b = read_events(ev_b)
        self.assertTrue(all(e["log"]["line"] <= half for e in a))
        for e in b:  # offsets and line numbers stay those of the whole file
            self.assertEqual(e["log"]["offset"], self.offsets[e["log"]["line"] - 1])
        # Requests the behaviour stage still held at the end of the first run (an episode not
        # yet decided) are decided, and written, by the second: every line once in all.
        self.assertEqual(sorted(e["log"]["line"] for e in a + b), sorted(self.by_line))
        self.assertEqual(self.store_events(db), len(self.events))


def main():
    if not os.environ.get("VIGIL") and not os.access(VIGIL, os.X_OK):
        print("skipped: VIGIL is not set and %s does not exist" % VIGIL)
        return 77
    if not os.access(VIGIL, os.X_OK):
        print("error: VIGIL=%s is not an executable" % VIGIL)
        return 1
    for p in (LOG, LABELS):
        if not os.path.isfile(p):
            print("error: %s is missing (scripts/make_example_log.py writes it)" % p)
            return 1
    prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
    r = prog.result
    return 0 if r.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
