#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_fuzz_sweeps.py: the parameter sweep detector (`fuzz`, docs/internals/behave.md) on the
labelled dev corpus (../shared/corpus/dev) with every user agent replaced by a browser's, as if
every tool spoofed one (the rewrite of bench/corpus_eval.py, line for line).

Run by CTest as `python3 tests/e2e_fuzz_sweeps.py` with VIGIL, VG_SOURCE_DIR and VG_SHARED_DIR in
the environment. Exit status: 0 passed, 1 failed, 77 skipped (no corpus, or no binary).

Without their user agents, fuzzers and sqlmap are found by their payloads alone, and many
values of a payload list look harmless on their own ("A", "-1", "NULL", "%0a"): signatures flag
43-49% of the wfuzz sweeps. The sweep detector flags the whole sweep. Checked, for the combined
log and for the JSON log (which records POST bodies):
  * every injection actor whose payloads the log records has >= 98% of its payload requests
    flagged (the combined log has no bodies: the POST actors are judged on the JSON log only);
  * no benign request carries the `fuzz` detection, and no benign request is flagged at all in
    the combined log;
  * every `fuzz` detection names its parameter and gives one injection class per source.
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get("VG_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SHARED_DIR = os.environ.get("VG_SHARED_DIR") or os.path.join(SOURCE_DIR, "..", "shared")
VIGIL = os.environ.get("VIGIL") or os.path.join(SOURCE_DIR, "build", "vigil")
CORPUS = os.path.join(SHARED_DIR, "corpus", "dev")
LABELS = os.path.join(CORPUS, "labels.tsv.gz")
TIMEOUT = 900

sys.path.insert(0, os.path.join(SOURCE_DIR, "bench"))
from corpus_eval import spoof_user_agents  # noqa: E402  (the one rewrite, shared with the bench)

# Injection actors whose payloads are in the query string (seen in both logs) and in POST bodies
# (seen in the JSON log only). wfuzz-xml-badchars is left out: 15 requests that vary two
# parameters at once (id and do, zipped), below any sweep threshold a person could not also
# reach; its signatures flag 14 of 15.
QUERY_ACTORS = ["wfuzz-allattack-q", "wfuzz-sqli-search", "wfuzz-xss-id", "wfuzz-traversal-media",
                "sqlmap-default-search", "sqlmap-default-page"]
BODY_ACTORS = ["wfuzz-post-ajax", "sqlmap-level2-ajax", "sqlmap-default-login"]
MIN_FLAGGED = 0.98
INJECTION = {"sqli", "xss", "traversal", "rfi", "cmdi", "code", "ssti"}


def read_labels():
    rows = {}
    with gzip.open(LABELS, "rt", encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        col = {c: i for i, c in enumerate(head)}
        for line in f:
            p = line.rstrip("\n").split("\t")
            rows[int(p[col["line"]])] = (p[col["actor"]], p[col["kind"]], p[col["payload"]] == "1")
    return rows


class FuzzSweeps(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.labels = read_labels()
        cls.events = {}
        for name, log in (("combined", "access.log.gz"), ("json", "access.jsonl.gz")):
            spoofed = os.path.join(cls.tmp.name, "spoofed-" + name)
            spoof_user_agents(os.path.join(CORPUS, log), spoofed, name == "json")
            out = os.path.join(cls.tmp.name, "events-" + name + ".jsonl")
            subprocess.run([VIGIL, "scan", "--no-store", "--no-geo", "--no-asn", "--quiet",
                            "--threads", "2", "--events", out, spoofed],
                           check=True, timeout=TIMEOUT, stdout=subprocess.DEVNULL)
            with open(out, encoding="utf-8") as f:
                cls.events[name] = [json.loads(l) for l in f]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def flagged_share(self, name, actor):
        lines = {e["log"]["line"] for e in self.events[name]}
        payload = [n for n, (a, _, p) in self.labels.items() if a == actor and p]
        return sum(n in lines for n in payload) / len(payload), len(payload)

    def check_actors(self, name, actors):
        for actor in actors:
            share, n = self.flagged_share(name, actor)
            with self.subTest(log=name, actor=actor):
                self.assertGreaterEqual(share, MIN_FLAGGED,
                                        "%s log: %s: %.1f%% of %d payload requests flagged"
                                        % (name, actor, 100 * share, n))

    def test_combined_log_query_sweeps_are_flagged(self):
        self.check_actors("combined", QUERY_ACTORS)

    def test_json_log_query_and_body_sweeps_are_flagged(self):
        self.check_actors("json", QUERY_ACTORS + BODY_ACTORS)

    def test_no_benign_request_is_a_sweep(self):
        for name, events in self.events.items():
            bad = [e["log"]["line"] for e in events
                   if self.labels[e["log"]["line"]][1] == "benign" and any(
                       d["detector"] == "fuzz" for d in e["vigil"].get("detections", []))]
            self.assertEqual(bad[:10], [], "%s log: benign lines flagged as sweeps" % name)
        benign = [e["log"]["line"] for e in self.events["combined"]
                  if self.labels[e["log"]["line"]][1] == "benign"]
        self.assertEqual(benign[:10], [], "combined log: benign lines flagged")

    def test_sweeps_name_their_parameter_and_have_one_injection_class(self):
        for name, events in self.events.items():
            classes = {}
            for e in events:
                for d in e["vigil"].get("detections", []):
                    if d["detector"] != "fuzz":
                        continue
                    self.assertRegex(d["why"], r"^parameter [^ ]+ of /\S* .*swept with \d+ "
                                     r"distinct values .*, \d+ of them signature hits$")
                    self.assertNotIn("(unnamed)", d["why"])
                    self.assertIn(d["class"], INJECTION)
                    classes.setdefault(e["source"]["ip"], set()).add(d["class"])
            self.assertTrue(classes, "%s log: no sweep found" % name)
            for ip, cl in classes.items():
                self.assertEqual(len(cl), 1, "%s log: %s: sweep classes %s" % (name, ip, cl))


def main():
    if not os.path.isfile(LABELS):
        print("skipped: no dev corpus at %s" % CORPUS)
        return 77
    if not os.access(VIGIL, os.X_OK):
        print("skipped: no vigil binary at %s" % VIGIL)
        return 77
    res = unittest.main(argv=[sys.argv[0]], exit=False, verbosity=2).result
    return 0 if res.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
