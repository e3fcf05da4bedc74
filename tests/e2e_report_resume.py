#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_report_resume.py: behaviour detections stay exactly-once across a killed and resumed scan.

The behaviour stage holds requests while an episode (a slow scan here) is undecided, and writes
them when it fires, possibly many checkpoints later. A scan killed with SIGKILL in between must,
when resumed, neither lose those held requests nor write any event twice
(docs/internals/behave.md, "Checkpoints").

The log is synthetic: benign traffic with slow forced-browsing scans woven through it, each
scan's misses spread over megabytes of log, so that small chunks and frequent checkpoints put
every scan across several checkpoints. The store of one uninterrupted scan is the reference; the
scan killed at several moments and resumed must end with the same events (same lines), counts,
incidents and campaigns.

Run by CTest (VIGIL = the binary); standalone: `VIGIL=build/vigil python3
tests/e2e_report_resume.py [-v]`. Exit 77 when there is no binary.
"""
import os
import random
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
TIMEOUT = 600
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def clf_time(t):
    g = time.gmtime(t)
    return "%02d/%s/%04d:%02d:%02d:%02d +0000" % (g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year,
                                                  g.tm_hour, g.tm_min, g.tm_sec)


def make_log(path, n_lines, n_scans, seed):
    """Benign page views from many addresses, and slow scans: every scanner sends one miss on a
    new path every `every` lines (about 40 s of log time apart), 40 misses in all."""
    rnd = random.Random(seed)
    t0 = 1788220800  # 2026-09-01T00:00:00Z
    scans = []
    for s in range(n_scans):
        start = rnd.randrange(0, n_lines - 41 * 400)
        every = rnd.randrange(300, 400)
        scans.append((start, every, "198.18.%d.%d" % (s, 7 + s)))
    by_line = {}
    for start, every, ip in scans:
        for k in range(40):
            by_line.setdefault(start + k * every, []).append((ip, k))
    with open(path, "w") as f:
        for i in range(n_lines):
            t = t0 + i // 10
            for ip, k in by_line.get(i, ()):
                f.write('%s - - [%s] "GET /hidden-%d-%s HTTP/1.1" 404 153 "-" "Mozilla/5.0 (X11)"\n'
                        % (ip, clf_time(t), k, ip.replace(".", "")))
            ip = "203.0.%d.%d" % (rnd.randrange(1, 200), rnd.randrange(1, 250))
            page = rnd.randrange(0, 500)
            status = 200 if rnd.random() > 0.01 else 404
            f.write('%s - - [%s] "GET /wiki/page-%d HTTP/1.1" %d %d "https://example.org/" '
                    '"Mozilla/5.0 (Windows NT 10.0)"\n'
                    % (ip, clf_time(t), page, status, 4000 + page))


def store_state(db):
    con = sqlite3.connect(db)
    try:
        q = lambda sql: con.execute(sql).fetchall()
        return {
            "events": sorted(r[0] for r in q('SELECT "offset" FROM events')),
            "dup": q('SELECT count(*) FROM (SELECT file_id, "offset" FROM events'
                     ' GROUP BY 1, 2 HAVING count(*) > 1)')[0][0],
            "months": q("SELECT month, sum(requests), sum(attacks), sum(malformed)"
                        " FROM month_counts GROUP BY month ORDER BY month"),
            "sources": q("SELECT month, ip, attacks FROM sources ORDER BY month, ip"),
            "incidents": q("SELECT id, ip, first_seen, last_seen, attacks FROM incidents"
                           " ORDER BY id"),
            "classes": q("SELECT classes_mask, count(*) FROM events GROUP BY 1 ORDER BY 1"),
            "integrity": q("PRAGMA integrity_check")[0][0],
        }
    finally:
        con.close()


class Resume(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-resume-")
        cls.log = os.path.join(cls.tmp, "slow-scans.log")
        make_log(cls.log, 150000, 12, 5)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def scan(self, db, extra=(), timeout=TIMEOUT):
        args = [VIGIL, "scan", "--db", db, "--no-geo", "--no-asn", "--quiet", "--progress",
                "never", "--chunk-size", "16384"] + list(extra) + [self.log]
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        self.assertEqual(p.returncode, 0, p.stderr.decode("utf-8", "replace")[-2000:])

    def test_killed_scans_resume_with_every_held_request_written_once(self):
        ref_db = os.path.join(self.tmp, "oneshot.db")
        self.scan(ref_db, ["--threads", "1"])
        want = store_state(ref_db)
        # every scan was detected, with all of its 40 misses (the first ones were held)
        scan_events = [c for m, c in want["classes"] if m & (1 << 9)]
        self.assertEqual(sum(scan_events), 12 * 40, want["classes"])
        self.assertEqual(len(want["incidents"]), 12)
        db = os.path.join(self.tmp, "killed.db")
        killed = held = 0
        for pause in (0, 0.003, 0.01, 0, 0.02, 0.005):
            cmd = [VIGIL, "scan", "--db", db, "--no-geo", "--no-asn", "--quiet", "--progress",
                   "never", "--threads", "1", "--chunk-size", "16384", self.log]
            if kill_after_checkpoint(cmd, db, pause, TIMEOUT):
                killed += 1
            # were requests held (pending) at the last checkpoint before the kill?
            con = sqlite3.connect(db)
            try:
                held += con.execute("SELECT count(*) FROM files WHERE pending IS NOT NULL"
                                    " AND replay_offset < \"offset\"").fetchone()[0]
            except sqlite3.OperationalError:
                pass  # killed before the store was created
            finally:
                con.close()
        self.assertGreater(killed, 0, "the scan was too fast to be killed")
        self.assertGreater(held, 0, "no kill fell while requests were held")
        pending = held
        self.scan(db, ["--threads", "2"])
        got = store_state(db)
        self.assertEqual(got["dup"], 0)
        self.assertEqual(got["integrity"], "ok")
        for key in ("events", "months", "sources", "incidents", "classes"):
            self.assertEqual(got[key], want[key], "%s differs (killed %d times, pending %d)"
                             % (key, killed, pending))
        # a further run finds nothing new to do and changes nothing
        self.scan(db)
        self.assertEqual(store_state(db), got)

    def test_a_file_that_grows_in_the_middle_of_a_scan_is_judged_once(self):
        # The first half is scanned; held requests of undecided scans stay pending in the store;
        # the grown file is resumed and those scans fire with their first misses.
        half = os.path.join(self.tmp, "half.log")
        with open(self.log, "rb") as f:
            data = f.read()
        cut = data.index(b"\n", len(data) // 2) + 1
        with open(half, "wb") as f:
            f.write(data[:cut])
        db = os.path.join(self.tmp, "grown.db")
        args = [VIGIL, "scan", "--db", db, "--no-geo", "--no-asn", "--quiet", "--progress",
                "never", "--chunk-size", "16384"]
        p = subprocess.run(args + [half], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(half, "ab") as f:
            f.write(data[cut:])
        p = subprocess.run(args + [half], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        ref_db = os.path.join(self.tmp, "whole.db")
        args[args.index(db)] = ref_db
        p = subprocess.run(args + [self.log], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        got, want = store_state(db), store_state(ref_db)
        for key in ("events", "months", "sources", "classes", "incidents"):
            self.assertEqual(got[key], want[key], key)


def main():
    if not os.access(VIGIL, os.X_OK):
        print("skipped: no vigil binary at %s (set VIGIL)" % VIGIL)
        return 77
    prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
