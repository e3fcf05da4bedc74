#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_rules_lang.py: the rule language and allowlists (docs/rules.md) through the `vigil` command.

Run by CTest (VIGIL = the binary, VG_SOURCE_DIR in the environment); standalone:
`VIGIL=build/vigil python3 tests/e2e_rules_lang.py [-v]`. Exit 77 when there is no binary.

Writes a rule file in the JSON-style flow YAML the importers emit (transformation chains, the
new operators, negation, chains, exclusions, a group, an author, new fields) and an allowlist,
appends crafted lines to the realistic example log, and checks: `vigil rules test` runs the
examples with the new example keys; `vigil rules list` shows the new properties; `vigil scan
--events` flags exactly the crafted lines with per-class `vigil.scores`, the chain text as the
transform and the author; the allowlist drops what it should (and nothing else); `vigil explain`
shows the views, the allowed hits with their entry, and the per-class scores; the built-in
rules alone still flag the same lines of the example log as without the rule language.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get("VG_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
VIGIL = os.environ.get("VIGIL") or os.path.join(SOURCE_DIR, "build", "vigil")
LOG = os.path.join(SOURCE_DIR, "examples", "access.log")
TIMEOUT = 600

RULES = r"""rules:
  - {id: 990001, message: "SQL catalog name in an argument", class: sqli, severity: critical, paranoia: 1, fields: [args, cookie], transforms: [urlDecodeUni, lowercase], operator: phrases, phrases: [information_schema, pg_catalog], exclude: ["args:password", "cookie:/^__utm/"], author: "Test Author", source: "TEST-942.conf:1", examples: {match: ["/x?q=INFORMATION_SCHEMA.tables", {target: "/", cookie: "a=pg_catalog"}], no_match: ["/x?password=information_schema", {target: "/", cookie: "__utmz=pg_catalog"}]}}
  - {id: 990002, message: "Method not allowed by policy", class: protocol, severity: critical, fields: [method], transforms: [], operator: within, value: "GET HEAD POST OPTIONS", caseless: false, negate: true, examples: {match: [{method: TRACK}], no_match: ["/"]}}
  - {id: 990003, message: "Backup file fetched successfully", class: probe, severity: critical, fields: [basename], transforms: [lowercase], operator: ends, value: ".bak", chain: [{fields: [status], operator: lt, value: "300"}], examples: {match: [{target: "/db/site.BAK", status: 200}], no_match: [{target: "/db/site.bak", status: 404}]}}
  - {id: 990004, message: "CRLF in a forwarded host", class: protocol, severity: critical, fields: ["header:X-Forwarded-Host"], transform: raw, operator: contains, value: "%0d%0a", examples: {match: [{headers: {X-Forwarded-Host: "a%0D%0Ab"}}], no_match: [{headers: {X-Other: "%0d%0a"}}]}}
  - {id: 990005, message: "Session id in the query", class: session, severity: critical, fields: [args_names], transforms: [lowercase], operator: equals, value: jsessionid, examples: {match: ["/a?JSESSIONID=1"], no_match: ["/a?session=1"]}}
  - {id: 990006, message: "Sigma part one", class: cmdi, score: 3, fields: [target], transforms: [urlDecodeUni], regex: 'cmd\.exe', group: "sigma-1", author: "Sigma Author"}
  - {id: 990007, message: "Sigma part two", class: cmdi, score: 5, fields: [target], transforms: [urlDecodeUni], operator: contains, value: "/c dir", group: "sigma-1", author: "Sigma Author"}
  - {id: 990008, message: "Large numeric argument", class: protocol, score: 2, fields: [args], operator: gt, value: "1000000", examples: {match: ["/?n=2000000"], no_match: ["/?n=12"]}}
"""

ALLOW = r"""allow:
  - reason: "the wiki editor posts SQL snippets"
    paths: ["/wiki/*"]
    args: [text]
  - reason: "the office scanner"
    sources: [192.0.2.0/24]
    rules: [protocol]
"""

CRAFTED = [
    # (line, expected rule ids firing after the allowlist, expected class scores)
    ('203.0.113.10 - - [21/Sep/2026:10:00:00 +0000] "GET /search?q=1+union+select+table_name+from+INFORMATION_SCHEMA.tables HTTP/1.1" 200 512 "-" "Mozilla/5.0"',
     {990001}, None),
    ('203.0.113.11 - - [21/Sep/2026:10:00:01 +0000] "TRACK / HTTP/1.1" 405 0 "-" "Mozilla/5.0"',
     {990002}, {"protocol": 5}),
    ('203.0.113.12 - - [21/Sep/2026:10:00:02 +0000] "GET /backup/site.BAK HTTP/1.1" 200 90000 "-" "Mozilla/5.0"',
     {990003}, {"probe": 5}),
    ('203.0.113.13 - - [21/Sep/2026:10:00:03 +0000] "GET /jsp/page?JSESSIONID=abcdef HTTP/1.1" 200 10 "-" "Mozilla/5.0"',
     {990005}, {"session": 5}),
    ('203.0.113.14 - - [21/Sep/2026:10:00:04 +0000] "GET /scripts/..%255c../winnt/system32/cmd.exe/c+dir HTTP/1.0" 404 10 "-" "Mozilla/5.0"',
     {990006, 990007}, None),
]
# Lines the allowlist must drop entirely (no event).
ALLOWED = [
    '203.0.113.20 - - [21/Sep/2026:10:00:05 +0000] "GET /wiki/Databases?text=information_schema HTTP/1.1" 200 100 "-" "Mozilla/5.0"',
    '192.0.2.7 - - [21/Sep/2026:10:00:06 +0000] "TRACK / HTTP/1.1" 405 0 "-" "Mozilla/5.0"',
]
# Lines that stay attacks although an entry partly applies.
NOT_ALLOWED = [
    # the path holds but the argument is another one
    '203.0.113.21 - - [21/Sep/2026:10:00:07 +0000] "GET /wiki/Databases?other=information_schema HTTP/1.1" 200 100 "-" "Mozilla/5.0"',
]


def run(args, ok=(0,), stdin=None):
    env = dict(os.environ)
    p = subprocess.run([VIGIL] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=stdin, timeout=TIMEOUT, env=env)
    if p.returncode not in ok:
        raise AssertionError("vigil %s exited %d (wanted %s)\nstderr:\n%s" % (
            " ".join(args), p.returncode, ok, p.stderr.decode("utf-8", "replace")[-3000:]))
    return p


class RulesLanguage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-rules-lang-")
        cls.rules = os.path.join(cls.tmp, "local.yaml")
        cls.allow = os.path.join(cls.tmp, "allow.yaml")
        with open(cls.rules, "w") as f:
            f.write(RULES)
        with open(cls.allow, "w") as f:
            f.write(ALLOW)
        with open(LOG, "rb") as f:
            cls.base = f.read()
        cls.log = os.path.join(cls.tmp, "access.log")
        with open(cls.log, "wb") as f:
            f.write(cls.base)
            for line in [c[0] for c in CRAFTED] + ALLOWED + NOT_ALLOWED:
                f.write(line.encode() + b"\n")
        cls.n_base = cls.base.count(b"\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def scan(self, extra):
        ev = os.path.join(self.tmp, "events-%d.jsonl" % len(os.listdir(self.tmp)))
        run(["scan", "--no-store", "--no-geo", "--no-asn", "--no-behave", "--quiet",
             "--events", ev] + extra + [self.log])
        with open(ev) as f:
            return [json.loads(x) for x in f if x.strip()]

    def test_rules_test_runs_the_new_example_keys(self):
        p = run(["rules", "test", "--no-builtin-rules", "--rules", self.rules])
        out = p.stdout.decode()
        self.assertIn("0 failed", out)
        self.assertIn("8 rules", out)

    def test_rules_list_shows_the_new_properties(self):
        out = run(["rules", "list", "--no-builtin-rules", "--rules", self.rules]).stdout.decode()
        line = [x for x in out.splitlines() if x.startswith("990001")][0]
        self.assertIn("urlDecodeUni,lowercase", line)
        self.assertIn("operator phrases", line)
        self.assertIn("exclude args:password +1", line)
        self.assertIn("author Test Author", line)
        self.assertIn("TEST-942.conf:1", line)
        line = [x for x in out.splitlines() if x.startswith("990002")][0]
        self.assertIn("negated", line)
        self.assertIn("protocol", line)
        line = [x for x in out.splitlines() if x.startswith("990003")][0]
        self.assertIn("chain 1", line)
        line = [x for x in out.splitlines() if x.startswith("990004")][0]
        self.assertIn("header:X-Forwarded-Host", line)

    def test_scan_flags_the_crafted_lines_with_scores(self):
        events = self.scan(["--no-builtin-rules", "--rules", self.rules])
        by_line = {e["log"]["line"]: e for e in events}
        for i, (line, rules, scores) in enumerate(CRAFTED):
            n = self.n_base + 1 + i
            self.assertTrue(n in by_line, "crafted line %d not flagged: %s" % (i, line))
            e = by_line[n]
            self.assertEqual({h["rule"] for h in e["vigil"]["hits"]}, rules)
            if scores is not None:
                self.assertEqual(e["vigil"]["scores"], scores)
            self.assertEqual(sum(e["vigil"]["scores"].values()), e["vigil"]["score"])
        # the two parts of one Sigma rule add their score once (the highest)
        sig = by_line[self.n_base + 5]["vigil"]
        self.assertEqual(sig["score"], 5)
        self.assertEqual(sig["scores"], {"cmdi": 5})
        self.assertEqual({h.get("author") for h in sig["hits"]}, {"Sigma Author"})
        cat = by_line[self.n_base + 1]["vigil"]["hits"][0]
        self.assertEqual(cat["transform"], "urlDecodeUni,lowercase")
        self.assertEqual(cat["author"], "Test Author")
        self.assertEqual(cat["match"], "information_schema")
        self.assertEqual(cat["field"], "args:q")
        # in the realistic traffic only attacks are flagged (the sqlmap and Nikto lines of the
        # example log), never the monitors, feeds and visitors
        for e in events:
            if e["log"]["line"] <= self.n_base:
                ua = e.get("user_agent", {}).get("original", "")
                self.assertNotIn("UptimeRobot", ua)
                self.assertNotIn("Feedly", ua)

    def test_allowlist_drops_only_what_it_should(self):
        before = {e["log"]["line"] for e in self.scan(["--no-builtin-rules", "--rules", self.rules])}
        after = {e["log"]["line"] for e in self.scan(["--no-builtin-rules", "--rules", self.rules,
                                                      "--allow", self.allow])}
        first_allowed = self.n_base + len(CRAFTED) + 1
        allowed = {first_allowed, first_allowed + 1}
        self.assertTrue(allowed <= before)
        self.assertEqual(before - after, allowed)
        self.assertIn(first_allowed + 2, after)

    def test_allowlist_errors_are_reported(self):
        bad = os.path.join(self.tmp, "bad-allow.yaml")
        with open(bad, "w") as f:
            f.write("allow:\n  - paths: [/x]\n")
        p = run(["scan", "--no-store", "--no-geo", "--quiet", "--allow", bad, self.log],
                ok=(2, 3))
        self.assertIn("needs a `reason`", p.stderr.decode())

    def test_explain_shows_views_allowed_hits_and_scores(self):
        line = ALLOWED[0].replace("?text=", "?text=information_schema&q=")
        p = run(["explain", "--no-geo", "--rules", self.rules, "--allow", self.allow, "--json",
                 line])
        doc = json.loads(p.stdout)
        views = doc["views"]
        self.assertTrue(any(v["transform"] == "urlDecodeUni,lowercase" and
                            v["field"] == "args:text" for v in views))
        self.assertTrue(any(a["rule"] == 990001 and a["field"] == "args:text" and
                            a["reason"] == "the wiki editor posts SQL snippets"
                            for a in doc["allowed"]))
        # the same rule still counts in the argument the entry does not name
        self.assertTrue(any(h["rule"] == 990001 and h["field"] == "args:q" for h in doc["hits"]))
        self.assertEqual(doc["scores"].get("sqli"), 5)
        text = run(["explain", "--no-geo", "--rules", self.rules, "--allow", self.allow,
                    line]).stdout.decode()
        self.assertIn("views (rule language", text)
        self.assertIn("allowed by", text)
        self.assertIn("score per class: sqli", text)

    def test_builtin_results_do_not_change_with_extra_rules(self):
        plain = self.scan([])
        mixed = self.scan(["--rules", self.rules])
        base = {e["log"]["line"]: {h["rule"] for h in e["vigil"]["hits"]} for e in plain}
        more = {e["log"]["line"]: {h["rule"] for h in e["vigil"]["hits"] if h["rule"] < 900000}
                for e in mixed}
        for n, rules in base.items():
            self.assertEqual(more.get(n), rules, "line %d" % n)


if __name__ == "__main__":
    if not shutil.which(VIGIL) and not os.path.exists(VIGIL):
        print("no vigil binary at %s" % VIGIL, file=sys.stderr)
        sys.exit(77)
    unittest.main()
