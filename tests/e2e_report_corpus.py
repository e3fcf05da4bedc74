#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_report_corpus.py: `vigil scan` then `vigil report` on the labelled dev corpus
(../shared/corpus/dev), checked against tests/expect/dev_corpus.json, which
tests/expect/make_dev_corpus_expect.py derives from the corpus's manifest.tsv and countries.tsv
(not from vigil's output).

Checks: the report's sources are exactly the attacking addresses of the manifest (no benign
actor: visitors, editors, feed readers, the uptime monitor, search-engine bots, the wget
mirror); each with its country in the CC0 database the setup installs, the classes of its tool
run, and one incident; at least 99% of the dirb probes (labels.tsv payload=1) are attack
requests; campaigns, when any, link attacking incidents only; the report's four units agree with
the store; provenance and the attribution caveat are printed.

Run by CTest (VIGIL, VG_SHARED_DIR, VG_GEO_DIR in the environment). Exit 77 when the corpus, the
binary or the geolocation data (scripts/setup) is missing.
"""
import glob
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get("VG_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SHARED_DIR = os.environ.get("VG_SHARED_DIR") or os.path.join(SOURCE_DIR, "..", "shared")
VIGIL = os.environ.get("VIGIL") or os.path.join(SOURCE_DIR, "build", "vigil")
GEO_DIR = os.environ.get("VG_GEO_DIR") or os.path.join(SOURCE_DIR, "data", "geo")
CORPUS = os.path.join(SHARED_DIR, "corpus", "dev")
LOG = os.path.join(CORPUS, "access.log.gz")
LABELS = os.path.join(CORPUS, "labels.tsv.gz")
EXPECT = os.path.join(SOURCE_DIR, "tests", "expect", "dev_corpus.json")
TIMEOUT = 900
INJECTION = {"sqli", "xss", "traversal", "rfi", "cmdi", "code", "ssti"}


def vigil(args):
    p = subprocess.run([VIGIL] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TIMEOUT)
    if p.returncode != 0:
        raise AssertionError("vigil %s exited %d\nstderr:\n%s" % (
            " ".join(args), p.returncode, p.stderr.decode("utf-8", "replace")[-3000:]))
    return p


class Corpus(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-report-")
        with open(EXPECT) as f:
            cls.expect = json.load(f)
        cls.db = os.path.join(cls.tmp, "dev.db")
        cls.events_path = os.path.join(cls.tmp, "events.jsonl")
        geo = sorted(glob.glob(os.path.join(GEO_DIR, "geo-whois-asn-country.mmdb")))
        asn = [os.path.join(GEO_DIR, n) for n in ("asn-ipv4.csv", "asn-ipv6.csv")]
        args = ["scan", "--db", cls.db, "--quiet", "--events", cls.events_path, "--threads", "2"]
        for g in geo:
            args += ["--geo", g]
        cls.have_asn = all(os.path.isfile(a) for a in asn)
        if cls.have_asn:
            for a in asn:
                args += ["--asn", a]
        vigil(args + [LOG])
        cls.report = json.loads(vigil(["report", "--db", cls.db, "--json", "--top", "0"]).stdout)
        cls.text = vigil(["report", "--db", cls.db]).stdout.decode("utf-8")
        with open(cls.events_path) as f:
            cls.events = [json.loads(l) for l in f if l.strip()]
        cls.labels = {}
        with gzip.open(LABELS, "rt", encoding="utf-8") as f:
            head = f.readline().rstrip("\n").split("\t")
            col = {c: i for i, c in enumerate(head)}
            for row in f:
                p = row.rstrip("\n").split("\t")
                cls.labels[int(p[col["line"]])] = (p[col["ip"]], p[col["actor"]],
                                                   p[col["payload"]] == "1")

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def expected(self, kind):
        return {s["ip"]: s for s in self.expect["sources"] if s["kind"] == kind}

    def test_report_sources_are_exactly_the_attackers_with_their_countries(self):
        got = {s["ip"]: s for s in self.report["total"]["top_sources"]}
        attackers = self.expected("attack")
        self.assertEqual(sorted(got), sorted(attackers))
        for ip, want in attackers.items():
            self.assertEqual(got[ip]["country"], want["country"], want["actor"])

    def test_no_benign_actor_is_flagged(self):
        benign = set(self.expected("benign"))
        self.assertFalse(benign & {e["source"]["ip"] for e in self.events})
        self.assertFalse(benign & {i["ip"] for i in self.report["incidents"]})

    def test_each_attacking_actor_gets_the_classes_of_its_tool_run(self):
        got = {s["ip"]: set(s["classes"]) for s in self.report["total"]["top_sources"]}
        for ip, want in self.expected("attack").items():
            for c in want["classes"]:
                if c == "injection":
                    self.assertTrue(got[ip] & INJECTION, "%s: %s" % (want["actor"], got[ip]))
                else:
                    self.assertIn(c, got[ip], want["actor"])

    def test_each_tool_run_is_one_incident(self):
        per_ip = {}
        for inc in self.report["incidents"]:
            per_ip[inc["ip"]] = per_ip.get(inc["ip"], 0) + 1
        for ip, want in self.expected("attack").items():
            self.assertEqual(per_ip.get(ip, 0), want["incidents"], want["actor"])

    def test_dirb_probes_become_attack_requests(self):
        flagged = {e["log"]["line"] for e in self.events}
        for actor in ("dirb-common", "dirb-small-ext"):
            probes = [n for n, (ip, a, payload) in self.labels.items() if a == actor and payload]
            share = sum(1 for n in probes if n in flagged) / len(probes)
            self.assertGreaterEqual(share, 0.99, actor)
            # the probes before the scan's threshold too: its first miss is flagged
            self.assertIn(min(probes), flagged, actor)

    def test_campaigns_link_attacking_incidents_only(self):
        attackers = set(self.expected("attack"))
        for c in self.report["campaigns"]:
            self.assertGreaterEqual(len(c["members"]), 2)
            self.assertTrue(c["linked_by"])
            for m in c["members"]:
                self.assertIn(m["ip"], attackers)

    def test_the_four_units_agree_with_the_store(self):
        con = sqlite3.connect(self.db)
        try:
            events = con.execute("SELECT count(*) FROM events").fetchone()[0]
            sources = con.execute("SELECT count(DISTINCT ip) FROM events").fetchone()[0]
            incidents = con.execute("SELECT count(*) FROM incidents").fetchone()[0]
            campaigns = con.execute("SELECT count(*) FROM campaigns").fetchone()[0]
        finally:
            con.close()
        t = self.report["total"]
        self.assertEqual((t["attack_requests"], t["sources"], t["incidents"], t["campaigns"]),
                         (events, sources, incidents, campaigns))
        self.assertEqual(len(self.events), events)
        months = self.report["months"]
        self.assertEqual(sum(m["attack_requests"] for m in months), events)
        self.assertEqual([m["month"] for m in months], ["2026-08", "2026-09", "2026-10"])
        # by class / country / outcome: each unit once per trait; the totals bound every row
        for key in ("by_class", "by_country", "by_asn", "by_outcome"):
            for row in t[key]:
                self.assertLessEqual(row["attack_requests"], events, key)
                self.assertLessEqual(row["sources"], sources, key)
        self.assertEqual(sum(r["attack_requests"] for r in t["by_outcome"]), events)
        self.assertEqual(sum(r["attack_requests"] for r in t["by_country"]), events)

    def test_attribution_is_stated_with_its_provenance_and_caveat(self):
        prov = self.report["provenance"]
        self.assertIn("geo-whois-asn-country.mmdb (built ", prov["geo"])
        if self.have_asn:
            self.assertRegex(prov["asn"], r"asn .*\(built \d{4}-\d\d-\d\d\)")
            self.assertTrue(all(s["asn"] for s in self.report["total"]["top_sources"]))
        self.assertIn("not necessarily the location of the people", self.report["caveat"])
        self.assertIn("not necessarily the location of the people", self.text)
        self.assertIn("Provenance: geolocation geo-whois-asn-country.mmdb", self.text)
        for e in self.events[:50]:
            self.assertIn("geo_db", e["vigil"])
        self.assertRegex(self.text, r"\d[\d,]* attack requests?, \d+ incidents?, \d+ sources?, "
                                    r"\d+ campaigns?")
        self.assertNotIn("\033[", self.text)  # stdout is not a terminal: no colour


def main():
    if not os.path.isfile(LOG) or not os.path.isfile(LABELS):
        print("skipped: no labelled corpus at %s" % CORPUS)
        return 77
    if not os.access(VIGIL, os.X_OK):
        print("skipped: no vigil binary at %s (set VIGIL)" % VIGIL)
        return 77
    if not os.path.isfile(os.path.join(GEO_DIR, "geo-whois-asn-country.mmdb")):
        print("skipped: no geolocation data in %s (run scripts/setup)" % GEO_DIR)
        return 77
    prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
