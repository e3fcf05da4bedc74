#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_report_cli.py: `vigil report` on a small synthetic log whose every answer is known.

Two sites (vhost_combined), IPv4 and IPv6 attackers, a test MMDB (tests/make_test_mmdb.pl), a
small ASN CSV and a label file written here. Checks: attribution of each source (country, AS and
organisation, labels, /24 and /48 networks) with provenance; incidents split on the gap (and
joined with a longer --incident-gap); a campaign linked by a shared network, with its reason;
every filter (--since, --until, --site, --class, --country, --source for IPv4 and IPv6
networks) and its errors; --labels at report time; the text form (units next to every number,
terminal escapes neutralized, colour only on a terminal and never with NO_COLOR); a missing
store.

Run by CTest (VIGIL, VG_TEST_MMDB_DIR in the environment). Exit 77 without the binary.
"""
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get("VG_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
VIGIL = os.environ.get("VIGIL") or os.path.join(SOURCE_DIR, "build", "vigil")
MMDB_DIR = os.environ.get("VG_TEST_MMDB_DIR") or os.path.join(SOURCE_DIR, "build", "test-mmdb")
TIMEOUT = 300
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

AUG3 = 1785715200   # 2026-08-03T00:00:00Z
SEP10 = 1788998400  # 2026-09-10T00:00:00Z


def ts(t):
    import time
    g = time.gmtime(t)
    return "%02d/%s/%04d:%02d:%02d:%02d +0000" % (g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year,
                                                  g.tm_hour, g.tm_min, g.tm_sec)


def line(host, ip, t, method, target, status, size, ua="Mozilla/5.0 (X11; Linux x86_64)",
         referer="-"):
    return ('%s:443 %s - - [%s] "%s %s HTTP/1.1" %d %d "%s" "%s"\n'
            % (host, ip, ts(t), method, target, status, size, referer, ua)).encode("latin-1")


def build_log():
    out = []
    shop, news = "shop.example", "news.example"
    # benign browsing on both sites
    for i in range(40):
        out.append((AUG3 + 60 * i, line(shop, "198.51.100.50", AUG3 + 60 * i, "GET",
                                         "/products/%d" % i, 200, 5000 + i)))
        out.append((SEP10 + 60 * i, line(news, "198.51.100.50", SEP10 + 60 * i, "GET",
                                          "/story/%d" % i, 200, 7000 + i)))
    # 1: a content-discovery scan of the shop (IPv4, labelled partner)
    for i in range(30):
        out.append((AUG3 + 3600 + i, line(shop, "203.0.113.10", AUG3 + 3600 + i, "GET",
                                          "/try-%02d" % i, 404, 150)))
    # 2: SQL injection from the same /24, an hour later: one campaign by network
    for i in range(5):
        out.append((AUG3 + 7200 + i, line(shop, "203.0.113.20", AUG3 + 7200 + i, "GET",
                                          "/search?q=1%27%20OR%201=1--%20" + str(i), 200, 900)))
    # 3: sensitive-file probes on the news site over IPv6, twice, 2 h apart: two incidents;
    #    one path carries a terminal escape
    for k, base in enumerate((SEP10 + 3600, SEP10 + 3600 + 7200)):
        out.append((base, line(news, "2001:db8:1:2::5", base, "GET", "/.env", 404, 10)))
        out.append((base + 1, line(news, "2001:db8:1:2::5", base + 1, "GET",
                                   "/.git/\x1b[2Jconfig" if k else "/.git/config", 404, 10)))
    # 4: password guessing on a WordPress login the site does not have
    for i in range(12):
        out.append((SEP10 + 20000 + 10 * i, line(news, "198.51.100.7", SEP10 + 20000 + 10 * i,
                                                 "POST", "/wp-login.php", 200, 3000)))
    out.sort(key=lambda x: x[0])
    return b"".join(l for _, l in out)


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-report-cli-")
        cls.log = cls.write("sites.log", build_log())
        cls.csv = cls.write("asn-ipv4.csv", b"203.0.113.0,203.0.113.255,64500,\"Example, Org\"\n"
                                            b"198.51.100.0,198.51.100.255,64501,Other Net\n")
        cls.csv6 = cls.write("asn-ipv6.csv", b"2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,"
                                             b"64510,Docs Net\n")
        cls.labels = cls.write("labels.txt", b"203.0.113.0/24 partner\n2001:db8::/32 lab\n")
        cls.mmdb = os.path.join(MMDB_DIR, "test-cc.mmdb")
        cls.db = os.path.join(cls.tmp, "r.db")
        cls.scan(cls.db)
        cls.rep = cls.report_json()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def write(cls, name, data):
        p = os.path.join(cls.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    @classmethod
    def scan(cls, db, extra=()):
        p = subprocess.run([VIGIL, "scan", "--db", db, "--quiet", "--format", "vhost_combined",
                            "--geo", cls.mmdb, "--asn", cls.csv, "--asn", cls.csv6, "--labels",
                            cls.labels] + list(extra) + [cls.log],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        assert p.returncode == 0, p.stderr.decode("utf-8", "replace")

    @classmethod
    def report_json(cls, *args, db=None):
        p = subprocess.run([VIGIL, "report", "--db", db or cls.db, "--json", "--top", "0"]
                           + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
        assert p.returncode == 0, p.stderr.decode("utf-8", "replace")
        return json.loads(p.stdout)

    def sources(self, rep):
        return {s["ip"]: s for s in rep["total"]["top_sources"]}

    # ---- attribution ---------------------------------------------------------------------------

    def test_sources_carry_country_as_labels_and_network_for_ipv4_and_ipv6(self):
        s = self.sources(self.rep)
        self.assertEqual(sorted(s), ["198.51.100.7", "2001:db8:1:2::5", "203.0.113.10",
                                     "203.0.113.20"])
        self.assertEqual(s["203.0.113.10"]["country"], "DE")
        self.assertEqual(s["203.0.113.10"]["asn"], 64500)
        self.assertEqual(s["203.0.113.10"]["organization"], "Example, Org")
        self.assertEqual(s["203.0.113.10"]["labels"], ["partner"])
        self.assertEqual(s["203.0.113.10"]["network"], "203.0.113.0/24")
        six = s["2001:db8:1:2::5"]
        self.assertEqual((six["country"], six["asn"], six["organization"], six["labels"],
                          six["network"]), ("JP", 64510, "Docs Net", ["lab"], "2001:db8:1::/48"))
        self.assertEqual(s["198.51.100.7"]["country"], "FR")
        self.assertEqual(s["198.51.100.7"]["labels"], [])
        nets = {r["network"]: r for r in self.rep["total"]["by_network"]}
        self.assertEqual(nets["203.0.113.0/24"]["sources"], 2)
        self.assertIn("test-cc.mmdb (built ", self.rep["provenance"]["geo"])
        self.assertIn("asn-ipv4.csv", self.rep["provenance"]["asn"])
        self.assertIn("labels.txt (2 networks)", self.rep["provenance"]["labels"])

    def test_classes_of_each_behaviour(self):
        s = self.sources(self.rep)
        self.assertIn("scan", s["203.0.113.10"]["classes"])
        self.assertIn("sqli", s["203.0.113.20"]["classes"])
        self.assertIn("probe", s["2001:db8:1:2::5"]["classes"])
        self.assertIn("bruteforce", s["198.51.100.7"]["classes"])
        self.assertEqual(s["203.0.113.10"]["attack_requests"], 30)  # every probe of the scan
        self.assertEqual(s["198.51.100.7"]["attack_requests"], 12)

    # ---- incidents and campaigns -----------------------------------------------------------------

    def test_incidents_split_on_the_gap_and_join_with_a_longer_one(self):
        per_ip = {}
        for i in self.rep["incidents"]:
            per_ip.setdefault(i["ip"], []).append(i)
        self.assertEqual(len(per_ip["2001:db8:1:2::5"]), 2)
        self.assertEqual(len(per_ip["203.0.113.10"]), 1)
        self.assertEqual(sum(len(v) for v in per_ip.values()), 5)
        self.assertEqual(self.rep["total"]["incidents"], 5)
        db = os.path.join(self.tmp, "gap.db")
        self.scan(db, ["--incident-gap", "3h"])
        rep = self.report_json(db=db)
        self.assertEqual(len([i for i in rep["incidents"] if i["ip"] == "2001:db8:1:2::5"]), 1)

    def test_campaigns_link_incidents_by_network_or_address_and_say_why(self):
        camps = {c["linked_by"]: c for c in self.rep["campaigns"]}
        self.assertEqual(sorted(camps), ["same address 2001:db8:1:2::5 (1 link)",
                                         "same network 203.0.113.0/24 (1 link)"])
        c = camps["same network 203.0.113.0/24 (1 link)"]
        self.assertEqual(sorted(m["ip"] for m in c["members"]), ["203.0.113.10", "203.0.113.20"])
        self.assertEqual((c["incidents"], c["sources"]), (2, 2))
        back = camps["same address 2001:db8:1:2::5 (1 link)"]
        self.assertEqual((back["incidents"], back["sources"]), (2, 1))
        self.assertEqual(self.rep["total"]["campaigns"], 2)

    def test_months_and_sites_are_reported_apart(self):
        keys = [(m["month"], m["site"]) for m in self.rep["months"]]
        self.assertEqual(keys, [("2026-08", "shop.example"), ("2026-09", "news.example")])
        sep = self.rep["months"][1]
        self.assertEqual(sep["attack_requests"], 4 + 12)
        self.assertEqual(sep["sources"], 2)

    # ---- filters ---------------------------------------------------------------------------------

    def test_filters_select_what_they_say(self):
        cases = [
            (["--site", "news.example"], {"198.51.100.7", "2001:db8:1:2::5"}),
            (["--class", "bruteforce"], {"198.51.100.7"}),
            (["--country", "jp"], {"2001:db8:1:2::5"}),
            (["--source", "2001:db8::/32"], {"2001:db8:1:2::5"}),
            (["--source", "203.0.113.0/24"], {"203.0.113.10", "203.0.113.20"}),
            (["--source", "203.0.113.20"], {"203.0.113.20"}),
            (["--since", "2026-09"], {"198.51.100.7", "2001:db8:1:2::5"}),
            (["--until", "2026-08-31"], {"203.0.113.10", "203.0.113.20"}),
            (["--since", "2026-09-10T02:30:00Z", "--until", "2026-09-10T04:00:00Z"],
             {"2001:db8:1:2::5"}),
            (["--site", "-"], set()),
        ]
        for args, want in cases:
            rep = self.report_json(*args)
            self.assertEqual(set(self.sources(rep)), want, args)
            self.assertEqual(rep["total"]["sources"], len(want), args)
        rep = self.report_json("--site", "news.example")
        self.assertEqual(rep["total"]["campaigns"], 1)
        self.assertEqual(len(rep["campaigns"]), 1)
        self.assertEqual(rep["filters"], {"site": "news.example"})

    def test_bad_filters_exit_2_and_say_why(self):
        for args, msg in ((["--since", "yesterday"], "--since"), (["--class", "hacking"], "--class"),
                          (["--country", "Germany"], "--country"),
                          (["--source", "203.0.113.5/24"], "--source"),
                          (["--since", "2026-09", "--until", "2026-08"], "--until"),
                          (["--top", "x"], "--top")):
            p = subprocess.run([VIGIL, "report", "--db", self.db] + args, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(msg, p.stderr.decode())
        p = subprocess.run([VIGIL, "report", "--db", os.path.join(self.tmp, "none.db")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 4)
        self.assertIn("no store there", p.stderr.decode())
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "none.db")))

    def test_labels_given_to_report_replace_the_stored_ones(self):
        other = self.write("other-labels.txt", b"203.0.113.16/28 tor-exit\n")
        rep = self.report_json("--labels", other)
        s = self.sources(rep)
        self.assertEqual(s["203.0.113.20"]["labels"], ["tor-exit"])
        self.assertEqual(s["203.0.113.10"]["labels"], [])
        self.assertIn("other-labels.txt (1 network)", rep["provenance"]["labels"])

    # ---- text -------------------------------------------------------------------------------------

    def text(self, env=None, tty=False, args=()):
        cmd = [VIGIL, "report", "--db", self.db] + list(args)
        if not tty:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=TIMEOUT, env=env)
            self.assertEqual(p.returncode, 0)
            return p.stdout
        master, slave = pty.openpty()
        p = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.DEVNULL, env=env)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        p.wait(timeout=TIMEOUT)
        os.close(master)
        self.assertEqual(p.returncode, 0)
        return out

    def test_text_puts_the_unit_next_to_every_number(self):
        out = self.text().decode("utf-8")
        self.assertIn("16 attack requests, 3 incidents, 2 sources, 1 campaign\n", out)
        rows = [l for l in out.splitlines() if re.match(r"    (scan|probe|sqli|bruteforce) ", l)]
        self.assertTrue(rows)
        for l in rows:
            self.assertRegex(l, r"\d+ attack requests? +\d+ incidents? +\d+ sources? +\d+ "
                                r"campaigns?$")
        self.assertIn("linked by: same network 203.0.113.0/24 (1 link)", out)
        self.assertIn("AS64510 Docs Net", out)
        self.assertIn("labels: partner", out)
        self.assertIn("not necessarily the location of the people", out)

    def test_text_neutralizes_terminal_escapes_from_the_log(self):
        out = self.text(args=["--top", "0"])
        self.assertNotIn(b"\x1b", out)
        self.assertIn(b"/.git/\\x1b[2jconfig", out.lower())

    def test_colour_only_on_a_terminal_and_never_with_no_color(self):
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        self.assertIn(b"\x1b[1m", self.text(env=env, tty=True))
        self.assertNotIn(b"\x1b[", self.text(env=env))
        env["NO_COLOR"] = "1"
        self.assertNotIn(b"\x1b[1m", self.text(env=env, tty=True))


def main():
    if not os.access(VIGIL, os.X_OK):
        print("skipped: no vigil binary at %s (set VIGIL)" % VIGIL)
        return 77
    if not os.path.isfile(os.path.join(MMDB_DIR, "test-cc.mmdb")):
        print("skipped: no test MMDB in %s (the test-mmdb fixture)" % MMDB_DIR)
        return 77
    prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
