#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_cli_robustness.py: the `vigil` command on damaged and hostile input, and its contracts.

Run by CTest (VIGIL = the binary, VG_SOURCE_DIR, VG_GEO_DIR in the environment); standalone:
`VIGIL=build/vigil python3 tests/e2e_cli_robustness.py [-v]`. Exit 77 when there is no binary.

Checks: a truncated or corrupt gzip/zstd file ends with exit 3 and a message naming the file,
after every line before the damage was counted and stored; missing files do not stop the other
inputs; lines longer than --max-line are counted as oversize and the lines after them are read;
results do not depend on the chunk size (lines cut across chunk boundaries); a scan killed with
SIGKILL resumes without missing or double-counting anything; store errors exit 4; usage errors
exit 2; `vigil rules list|test` work on the built-in rules and on a user's rule file.
"""
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from killscan import kill_after_checkpoint  # noqa: E402

SOURCE_DIR = os.environ.get("VG_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
VIGIL = os.environ.get("VIGIL") or os.path.join(SOURCE_DIR, "build", "vigil")
LOG = os.path.join(SOURCE_DIR, "examples", "access.log")
TIMEOUT = 600


def run(args, ok=(0,), stdin=None):
    p = subprocess.run([VIGIL] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=stdin, timeout=TIMEOUT)
    if p.returncode not in ok:
        raise AssertionError("vigil %s exited %d (wanted %s)\nstderr:\n%s" % (
            " ".join(args), p.returncode, ok, p.stderr.decode("utf-8", "replace")[-3000:]))
    return p


def summary(p):
    return json.loads(p.stdout)


def store_counts(db):
    con = sqlite3.connect(db)
    try:
        ev = con.execute("SELECT count(*) FROM events").fetchone()[0]
        req = con.execute("SELECT coalesce(sum(requests), 0) FROM month_counts").fetchone()[0]
        att = con.execute("SELECT coalesce(sum(attacks), 0) FROM month_counts").fetchone()[0]
        dup = con.execute("SELECT count(*) FROM (SELECT file_id, \"offset\" FROM events "
                          "GROUP BY 1, 2 HAVING count(*) > 1)").fetchone()[0]
        return ev, req, att, dup
    finally:
        con.close()


class Robustness(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-robust-")
        with open(LOG, "rb") as f:
            cls.data = f.read()
        cls.nlines = cls.data.count(b"\n")
        p = run(["scan", "--no-store", "--no-geo", "--json", "--events",
                 os.path.join(cls.tmp, "ref.jsonl"), LOG])
        cls.ref = summary(p)
        with open(os.path.join(cls.tmp, "ref.jsonl"), "rb") as f:
            cls.ref_events = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    # ---- damaged compressed input -----------------------------------------------------------

    def check_truncated(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        db = self.path(name + ".db")
        r = run(["scan", "--db", db, "--no-geo", "--json", p], ok=(3,))
        err = r.stderr.decode("utf-8", "replace")
        self.assertIn(name, err)
        self.assertRegex(err, "truncated|corrupt")
        s = summary(r)
        f = s["files"][0]
        self.assertEqual(f["status"], "error")
        # everything before the damage was counted: most of the file, and only whole lines
        self.assertGreater(f["lines"], self.nlines // 3)
        self.assertLess(f["lines"], self.nlines)
        ev, req, _, dup = store_counts(db)
        self.assertEqual(dup, 0)
        self.assertEqual(req, f["requests"])
        self.assertEqual(ev, f["attack_requests"])
        return f

    def test_truncated_gzip_counts_everything_before_the_damage_and_exits_3(self):
        gz = gzip.compress(self.data, 6)
        self.check_truncated("cut.log.gz", gz[: len(gz) * 2 // 3])

    def test_truncated_zstd_counts_everything_before_the_damage_and_exits_3(self):
        if not shutil.which("zstd"):
            self.skipTest("no zstd command")
        z = subprocess.run(["zstd", "-q", "-c", "-3"], input=self.data, stdout=subprocess.PIPE,
                           check=True).stdout
        self.check_truncated("cut.log.zst", z[: len(z) * 2 // 3])

    def test_corrupt_gzip_exits_3_and_other_inputs_are_still_scanned(self):
        gz = bytearray(gzip.compress(self.data, 6))
        mid = len(gz) // 2
        gz[mid:mid + 64] = b"\xff" * 64
        bad = self.path("bad.log.gz")
        with open(bad, "wb") as f:
            f.write(gz)
        r = run(["scan", "--no-store", "--no-geo", "--json", bad, self.path("missing.log"), LOG],
                ok=(3,))
        s = summary(r)
        st = [f["status"] for f in s["files"]]
        self.assertEqual(st, ["error", "error", "ok"])
        self.assertIn("missing.log", s["files"][1]["error"])
        self.assertEqual(s["files"][2]["lines"], self.nlines)
        self.assertLess(s["files"][0]["lines"], self.nlines)

    # ---- hostile lines ------------------------------------------------------------------------

    def test_oversize_lines_are_counted_sampled_and_skipped(self):
        lines = self.data.split(b"\n")[:50]
        huge = b"1.2.3.4 - - [01/Oct/2026:00:00:00 +0000] \"GET /" + b"A" * 300000 + b" HTTP/1.1\" 200 1 \"-\" \"x\""
        mid = b"9.9.9.9 - - [01/Oct/2026:00:00:01 +0000] \"GET /" + b"B" * 2000 + b" HTTP/1.1\" 200 1 \"-\" \"x\""
        data = b"\n".join(lines[:10] + [huge] + lines[10:20] + [mid] + lines[20:50]) + b"\n"
        p = self.path("oversize.log")
        with open(p, "wb") as f:
            f.write(data)
        for chunk in ("1024", "65536"):
            s = summary(run(["scan", "--no-store", "--no-geo", "--json", "--max-line", "1024",
                             "--chunk-size", chunk, p]))
            t = s["totals"]
            self.assertEqual(t["lines"], 52, chunk)
            self.assertEqual(t["oversize"], 2, chunk)
            reasons = [m["reason"] for m in s["malformed_samples"]]
            self.assertEqual(reasons.count("line longer than --max-line"), 2, chunk)
            lines_of = sorted(m["line"] for m in s["malformed_samples"]
                              if m["reason"].startswith("line longer"))
            self.assertEqual(lines_of, [11, 22], chunk)

    def test_chunk_size_never_changes_the_results(self):
        ev = self.path("small-chunks.jsonl")
        p = run(["scan", "--no-store", "--no-geo", "--json", "--chunk-size", "1024",
                 "--threads", "2", "--events", ev, LOG])
        self.assertEqual(summary(p), self.ref)
        with open(ev, "rb") as f:
            self.assertEqual(f.read(), self.ref_events)

    def test_file_without_final_newline_counts_its_last_line(self):
        p = self.path("nonl.log")
        with open(p, "wb") as f:
            f.write(self.data.rstrip(b"\n"))
        s = summary(run(["scan", "--no-store", "--no-geo", "--json", p]))
        self.assertEqual(s["totals"]["lines"], self.nlines)

    # ---- killed and resumed ------------------------------------------------------------------

    def test_a_killed_scan_resumes_without_missing_or_double_counting(self):
        # A bigger log, so that the kill lands mid-scan after some checkpoints.
        big = self.path("big.log")
        with open(big, "wb") as f:
            for _ in range(40):
                f.write(self.data)
        ref_db = self.path("oneshot.db")
        run(["scan", "--db", ref_db, "--no-geo", "--quiet", "--threads", "1", big])
        want = store_counts(ref_db)
        db = self.path("killed.db")
        killed = 0
        for pause in (0, 0.01, 0.003):
            cmd = [VIGIL, "scan", "--db", db, "--no-geo", "--quiet", "--threads", "1",
                   "--chunk-size", "65536", big]
            if kill_after_checkpoint(cmd, db, pause, TIMEOUT):
                killed += 1
        self.assertGreater(killed, 0, "the scan was never killed")
        r = run(["scan", "--db", db, "--no-geo", "--json", "--threads", "2", big])
        got = store_counts(db)
        self.assertEqual(got, want, "killed %d times" % killed)
        self.assertIn(summary(r)["files"][0]["status"], ("ok", "skipped"))
        con = sqlite3.connect(db)
        try:
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        finally:
            con.close()

    # ---- store and usage errors --------------------------------------------------------------

    def test_store_errors_exit_4(self):
        notdb = self.path("not-a-store.db")
        with open(notdb, "wb") as f:
            f.write(b"this is not a database" * 100)
        r = run(["scan", "--db", notdb, "--no-geo", "--quiet", LOG], ok=(4,))
        self.assertIn("not-a-store.db", r.stderr.decode("utf-8", "replace"))
        run(["scan", "--db", self.path("no/such/dir/x.db"), "--no-geo", "--quiet", LOG], ok=(4,))

    def test_usage_errors_exit_2(self):
        for args in (["scan"], ["scan", "--threads", "0", LOG], ["scan", "--paranoia", "9", LOG],
                     ["scan", "--format", "nginx:$remote_addr $", LOG], ["nonsense"],
                     ["scan", "--rules", self.path("no-rules.yaml"), LOG], ["rules"]):
            r = run(args, ok=(2,))
            self.assertTrue(r.stderr, args)

    def test_fail_on_attack_exits_1_only_with_attacks(self):
        run(["scan", "--no-store", "--no-geo", "--quiet", "--fail-on-attack", LOG], ok=(1,))
        benign = self.path("benign.log")
        with open(benign, "wb") as f:
            f.write(b'198.51.100.1 - - [01/Oct/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"\n')
        run(["scan", "--no-store", "--no-geo", "--quiet", "--fail-on-attack", benign])

    # ---- explain -------------------------------------------------------------------------------

    def test_explain_gives_the_event_a_scan_writes(self):
        # explain judges one line alone: the behaviour stage and incidents need the lines
        # around it, so the scan to compare with runs signatures only, incident ids aside.
        ev_path = self.path("no-behave.jsonl")
        run(["scan", "--no-store", "--no-geo", "--quiet", "--no-behave", "--events", ev_path, LOG])
        with open(ev_path, "rb") as f:
            events = [json.loads(l) for l in f.read().splitlines()]
        for ev in events:
            ev["vigil"].pop("incident", None)
        for ev in (events[0], events[len(events) // 2], events[-1]):
            n = ev["log"]["line"]
            d = json.loads(run(["explain", "--json", "--no-geo", "--line", str(n), LOG]).stdout)
            self.assertEqual(d["verdict"], "attack", n)
            self.assertEqual(d["event"], ev, n)
            self.assertGreaterEqual(d["score"], d["threshold"])
            self.assertEqual(sorted(d["scores"]), sorted(ev["vigil"]["classes"]))

    def test_explain_benign_malformed_and_hostile_lines(self):
        benign = ('198.51.100.1 - - [01/Oct/2026:00:00:00 +0000] "GET /search?q=it%27s+a+union+'
                  'station HTTP/1.1" 200 1 "-" "Mozilla/5.0"')
        d = json.loads(run(["explain", "--json", "--no-geo", benign]).stdout)
        self.assertEqual(d["verdict"], "not-attack")
        self.assertIn({"field": "args:q", "decoded": "it's a union station", "changed": "pct,plus"},
                      d["decoded"])
        d = json.loads(run(["explain", "--json", "--no-geo", "not a log line"]).stdout)
        self.assertEqual(d["verdict"], "malformed")
        hostile = ('198.51.100.1 - - [01/Oct/2026:00:00:00 +0000] "GET /\\x1b[2J<script>alert(1)'
                   '</script> HTTP/1.1" 200 1 "-" "\x1b]0;owned\x07"')
        out = run(["explain", "--no-geo", hostile]).stdout
        self.assertNotIn(b"\x1b", out)  # the ESC bytes the log escapes decode to
        self.assertIn(b"ATTACK REQUEST", out)
        with open(LOG, "rb") as f:
            r = run(["explain", "--no-geo", "-"], stdin=f)
        self.assertEqual(r.stdout.count(b"\nverdict: "), self.nlines)
        run(["explain", "--no-geo", "--line", str(self.nlines + 5), LOG], ok=(2,))

    # ---- rules ---------------------------------------------------------------------------------

    def test_rules_test_passes_on_the_builtin_rules_and_fails_on_a_bad_example(self):
        r = run(["rules", "test"])
        self.assertRegex(r.stdout.decode(), r"\d+ rules, \d+ examples checked, 0 failed")
        mine = self.path("mine.yaml")
        with open(mine, "w") as f:
            f.write("rules:\n  - id: 900001\n    message: demo\n    class: sqli\n"
                    "    severity: critical\n    regex: 'drop\\s+table'\n    examples:\n"
                    "      match: ['/?q=drop+table+users']\n      no_match: ['/?q=drop+tables']\n")
        r = run(["rules", "test", "--no-builtin-rules", "--rules", mine], ok=(1,))
        self.assertIn("FAIL rule 900001", r.stdout.decode())
        self.assertIn("no_match", r.stdout.decode())

    def test_rules_list_shows_every_rule_once(self):
        out = run(["rules", "list"]).stdout.decode().splitlines()
        ids = [l.split()[0] for l in out[1:-1]]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertRegex(out[-1], r"^%d rules, rule set sha256 [0-9a-f]{64}$" % len(ids))
        more = run(["rules", "list", "--paranoia", "4"]).stdout.decode().splitlines()
        self.assertGreaterEqual(len(more), len(out))


def main():
    if not os.access(VIGIL, os.X_OK):
        print("skipped: no vigil binary at %s (set VIGIL)" % VIGIL)
        return 77
    prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
