#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_formats_corpus.py: the same traffic logged two ways gives the same verdicts.

../shared/corpus/dev holds the same 92,987 requests as an nginx `combined` log and as an nginx
`escape=json` log that also records the host, cookies, content type and request bodies. Both are
scanned with `--format auto` (which must pick combined and json):

  1. With the fields the combined log does not have masked out of the JSON log
     (--json-map ignore=...), every line must get exactly the same verdict: flagged or not, same
     score, classes, rules, fields and matched text. This holds because ingest rewrites JSON
     strings into the escaping nginx uses in text logs.
  2. With everything the JSON log records, every request flagged from the combined log must be
     flagged from the JSON log too; the extra requests the bodies, cookies and content types
     expose are reported (by label: attack payloads and benign requests).

Run by CTest (VIGIL, VG_SHARED_DIR in the environment). Exit 77 when the corpus is absent.
"""
import collections
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get("VG_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SHARED = os.environ.get("VG_SHARED_DIR") or os.path.normpath(os.path.join(SOURCE_DIR, "..",
                                                                          "shared"))
VIGIL = os.environ.get("VIGIL") or os.path.join(SOURCE_DIR, "build", "vigil")
CORPUS = os.path.join(SHARED, "corpus", "dev")
COMBINED = os.path.join(CORPUS, "access.log.gz")
JSONL = os.path.join(CORPUS, "access.jsonl.gz")
LABELS = os.path.join(CORPUS, "labels.tsv.gz")
MASK = "ignore=http_host,ignore=http_cookie,ignore=content_type,ignore=request_body"
# Two JSON lines carry bodies longer than the default --max-line (64 KiB).
MAX_LINE = "1048576"


def scan(log, extra, tmp, name):
    ev = os.path.join(tmp, name + ".jsonl")
    p = subprocess.run([VIGIL, "scan", "--no-store", "--no-geo", "--json", "--threads", "2",
                        "--max-line", MAX_LINE, "--events", ev] + extra + [log],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    if p.returncode != 0:
        raise AssertionError("vigil scan %s exited %d: %s" % (
            log, p.returncode, p.stderr.decode("utf-8", "replace")[-2000:]))
    verdicts = {}
    with open(ev, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            hits = tuple(sorted((h["rule"], h["field"], h["match"]) for h in e["vigil"]["hits"]))
            verdicts[e["log"]["line"]] = (e["vigil"]["score"], tuple(sorted(e["vigil"]["classes"])),
                                          hits)
    return json.loads(p.stdout), verdicts, p.stderr.decode("utf-8", "replace")


class SameTrafficTwoLogs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-corpus-formats-")
        cls.sum_c, cls.comb, cls.err_c = scan(COMBINED, [], cls.tmp, "combined")
        cls.sum_m, cls.masked, cls.err_m = scan(JSONL, ["--json-map", MASK], cls.tmp, "masked")
        cls.sum_j, cls.full, cls.err_j = scan(JSONL, [], cls.tmp, "full")

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_auto_detection_picks_combined_and_json(self):
        self.assertEqual(self.sum_c["files"][0]["format"], "combined")
        self.assertEqual(self.sum_j["files"][0]["format"], "json")
        self.assertIn("format combined", self.err_c)
        self.assertIn("format json", self.err_j)

    def test_both_logs_give_the_same_requests(self):
        for s in (self.sum_c, self.sum_m, self.sum_j):
            t = s["totals"]
            self.assertEqual(t["lines"], 92987)
            self.assertEqual(t["requests"], 92987)
            self.assertEqual(t["malformed"] + t["oversize"], 0)
        months = lambda s: [(m["month"], m["requests"]) for m in s["months"]]
        self.assertEqual(months(self.sum_c), months(self.sum_j))

    def test_same_fields_give_the_same_verdict_on_every_line(self):
        self.assertGreater(len(self.comb), 1000)
        only_c = sorted(set(self.comb) - set(self.masked))
        only_m = sorted(set(self.masked) - set(self.comb))
        self.assertEqual(only_c, [], "flagged only from the combined log")
        self.assertEqual(only_m, [], "flagged only from the masked JSON log")
        differ = [n for n in self.comb if self.comb[n] != self.masked[n]]
        self.assertEqual(differ, [], "lines whose verdicts differ, e.g. %s" % (
            [(n, self.comb[n], self.masked[n]) for n in differ[:3]]))

    def test_everything_flagged_from_combined_is_flagged_from_the_richer_json(self):
        missing = sorted(set(self.comb) - set(self.full))
        self.assertEqual(missing, [])
        for n in self.comb:
            self.assertLessEqual(set(self.comb[n][1]), set(self.full[n][1]), n)
        # What the bodies, cookies and content types add, by label (reported, not asserted:
        # the rules decide, and they are another stage's).
        labels = {}
        with gzip.open(LABELS, "rt", encoding="utf-8") as f:
            head = f.readline().rstrip("\n").split("\t")
            for row in f:
                r = dict(zip(head, row.rstrip("\n").split("\t")))
                labels[int(r["line"])] = (r["kind"], r["payload"], r["actor"])
        extra = sorted(set(self.full) - set(self.comb))
        by = collections.Counter()
        actors = collections.Counter()
        for n in extra:
            kind, payload, actor = labels.get(n, ("?", "?", "?"))
            by[(kind, payload)] += 1
            actors[actor] += 1
        # Requests flagged from both logs whose JSON verdict has more evidence: hits in the
        # fields only the JSON log records (body, form arguments, cookies).
        richer = collections.Counter()
        for n in self.comb:
            if len(self.full[n][2]) > len(self.comb[n][2]):
                richer[labels.get(n, ("?", "?", "?"))[:2]] += 1
        sys.stderr.write("\n  flagged from combined: %d; from JSON with bodies etc.: %d "
                         "(+%d: %s)\n  top actors of the extra: %s\n  flagged from both, with "
                         "more hits from JSON: %s\n" % (
                             len(self.comb), len(self.full), len(extra),
                             ", ".join("%s/payload=%s %d" % (k[0], k[1], v)
                                       for k, v in sorted(by.items())),
                             ", ".join("%s %d" % kv for kv in actors.most_common(6)),
                             ", ".join("%s/payload=%s %d" % (k[0], k[1], v)
                                       for k, v in sorted(richer.items()))))
        self.assertGreater(richer[("attack", "1")], 0, "bodies give more evidence on attacks")


def main():
    if not os.access(VIGIL, os.X_OK):
        print("skipped: no vigil binary at %s (set VIGIL)" % VIGIL)
        return 77
    for p in (COMBINED, JSONL, LABELS):
        if not os.path.exists(p):
            print("skipped: %s not found" % p)
            return 77
    prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
