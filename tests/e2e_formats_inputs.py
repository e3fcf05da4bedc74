#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_formats_inputs.py: formats, detection and inputs through the `vigil` command.

Checks, with files made in a temporary directory and the fixtures of tests/fixtures/formats
(written from the documented formats of Caddy, Traefik, IIS and HAProxy):
  - every fixture is detected and read field by field, and its attacks are flagged;
  - the chosen format is said on stderr, in the JSON and text summaries and in the store;
  - a file whose first lines fit nothing, or mix formats, is refused (exit 3) with a message
    naming the line, and the other inputs are still read;
  - W3C #Fields changes in the middle of a file give the same records whatever the chunk size
    and thread count (layouts carried across chunks);
  - globs (expanded without a shell) and rotated sets read oldest first, gzip and zstd members;
  - standard input is detected like a file;
  - hostile bytes (NUL, invalid UTF-8, CR/LF mixes, \\x22, over-long lines) in text and JSON logs
    are counted, never crash, and never shift the lines after them;
  - truncated compressed JSON keeps every result before the damage;
  - the progress bar appears on a terminal only, and never with --progress never;
  - usage errors of the new options exit 2 with a message.
Run by CTest (VIGIL = the binary). Exit 77 when there is no binary.
"""
import gzip
import json
import os
import pty
import select
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get("VG_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
VIGIL = os.environ.get("VIGIL") or os.path.join(SOURCE_DIR, "build", "vigil")
FIXTURES = os.path.join(SOURCE_DIR, "tests", "fixtures", "formats")
TIMEOUT = 300


def run(args, ok=(0,), stdin=None, cwd=None):
    p = subprocess.run([VIGIL] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       input=stdin, timeout=TIMEOUT, cwd=cwd)
    if p.returncode not in ok:
        raise AssertionError("vigil %s exited %d (wanted %s)\nstderr:\n%s" % (
            " ".join(args), p.returncode, ok, p.stderr.decode("utf-8", "replace")[-3000:]))
    return p


def records(args, ok=(0,), stdin=None):
    p = run(["parse", "--records", "-", "--quiet"] + args, ok=ok, stdin=stdin)
    return [json.loads(l) for l in p.stdout.decode("utf-8").splitlines()], p


def clf(i, ip="192.0.2.1", target=None, day=1):
    t = target or "/page/%d" % i
    return ('%s - - [%02d/Aug/2026:%02d:%02d:%02d +0000] "GET %s HTTP/1.1" 200 %d "-" "ua-%d"\n' % (
        ip, day, (i // 3600) % 24, (i // 60) % 60, i % 60, t, i, i)).encode()


class Inputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-formats-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, *names):
        return os.path.join(self.tmp, *names)

    def write(self, name, data):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    # ---- fixtures of the documented formats -------------------------------------------------

    def test_fixtures_are_detected_read_and_their_attacks_flagged(self):
        want = {"caddy.log": ("caddy", 3, 1), "traefik.log": ("traefik", 2, 0),
                "iis.log": ("w3c", 4, 0), "haproxy.log": ("haproxy", 3, 1)}
        paths = [os.path.join(FIXTURES, n) for n in sorted(want)]
        p = run(["scan", "--no-store", "--no-geo", "--json", "--events",
                 self.path("fx-events.jsonl")] + paths)
        s = json.loads(p.stdout)
        err = p.stderr.decode()
        for f in s["files"]:
            name = os.path.basename(f["path"])
            fmt, req, bad = want[name]
            self.assertEqual(f["format"], fmt, name)
            self.assertEqual(f["requests"], req, name)
            self.assertEqual(f["malformed"], bad, name)
            self.assertIn("%s: format %s" % (name, fmt), err)
        with open(self.path("fx-events.jsonl")) as fh:
            ev = [json.loads(l) for l in fh]
        flagged = {(os.path.basename(e["log"]["file"]["path"]), e["log"]["line"]): e for e in ev}
        self.assertIn(("caddy.log", 2), flagged)   # sqlmap, UNION SELECT
        self.assertEqual(flagged[("caddy.log", 2)]["source"]["ip"], "198.51.100.23")
        self.assertIn("xss", flagged[("caddy.log", 3)]["vigil"]["classes"])  # \u003cscript
        self.assertIn("traversal", flagged[("traefik.log", 2)]["vigil"]["classes"])
        self.assertEqual(flagged[("iis.log", 6)]["source"]["ip"], "2001:db8::99")
        self.assertIn(("iis.log", 12), flagged)     # after the second #Fields
        self.assertIn(("haproxy.log", 2), flagged)

    def test_fixture_fields_match_the_documented_examples(self):
        recs, _ = records([os.path.join(FIXTURES, "caddy.log")])
        r = recs[1]
        self.assertEqual((r["client"], r["method"], r["protocol"], r["status"], r["bytes"]),
                         ("198.51.100.23", "GET", "HTTP/1.1", 500, 310))
        self.assertEqual(r["headers"]["X-Forwarded-For"], "198.51.100.23")
        self.assertEqual(recs[2]["query"], "name=<script>alert(1)</script>")
        self.assertIn("malformed", recs[3])
        recs, _ = records([os.path.join(FIXTURES, "traefik.log")])
        self.assertEqual(recs[1]["query"], "file=..%2F..%2F..%2F..%2Fetc%2Fpasswd&x=1")
        self.assertEqual(recs[0]["time"], "2026-08-01T00:00:00Z")
        recs, _ = records([os.path.join(FIXTURES, "iis.log")])
        self.assertEqual([r["line"] for r in recs], [5, 6, 11, 12])
        self.assertEqual(recs[2]["cookie"], "ASP.NET_SessionId=x1")
        self.assertEqual(recs[3]["target"], "/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir")
        recs, _ = records(["--format", "haproxy:Host,User-Agent",
                           os.path.join(FIXTURES, "haproxy.log")])
        self.assertEqual(recs[0]["host"], "www.example.test")
        self.assertEqual(recs[2]["client"], "2001:db8::81")
        self.assertEqual(recs[2]["target"], "<BADREQ>")

    def test_store_records_the_format_of_each_file(self):
        db = self.path("fmt.db")
        run(["scan", "--db", db, "--no-geo", "--quiet", os.path.join(FIXTURES, "traefik.log"),
             os.path.join(FIXTURES, "iis.log")])
        con = sqlite3.connect(db)
        try:
            rows = dict(con.execute("SELECT path, format FROM files").fetchall())
            run_fmt = con.execute("SELECT format FROM runs").fetchone()[0]
        finally:
            con.close()
        self.assertEqual(run_fmt, "auto")
        self.assertEqual(sorted(rows.values()), ["traefik", "w3c"])
        p = run(["scan", "--no-store", "--no-geo", os.path.join(FIXTURES, "traefik.log")])
        self.assertIn("(none, traefik)", p.stdout.decode())

    # ---- detection failures -----------------------------------------------------------------

    def test_unknown_or_mixed_files_are_refused_naming_the_line(self):
        junk = self.write("junk.log", b"hello\nworld\n")
        mixed = self.write("mixed.log", clf(1) + clf(2) +
                           b'{"time":1785542400,"ip":"192.0.2.9","uri":"/x"}\n' + clf(3))
        good = self.write("good.log", clf(1) + clf(2))
        p = run(["scan", "--no-store", "--no-geo", "--json", junk, mixed, good], ok=(3,))
        err = p.stderr.decode()
        self.assertIn("junk.log:1: cannot detect the log format: line 1 \"hello\"", err)
        s = json.loads(p.stdout)
        st = {os.path.basename(f["path"]): f for f in s["files"]}
        self.assertEqual(st["junk.log"]["status"], "error")
        self.assertIn("mixes log formats", st["mixed.log"]["error"])
        self.assertIn("line 3", st["mixed.log"]["error"])
        self.assertEqual(st["good.log"]["status"], "ok")
        self.assertEqual(st["good.log"]["requests"], 2)
        # With the format given, no detection: the odd line is one malformed line.
        s = json.loads(run(["scan", "--no-store", "--no-geo", "--json", "--format", "combined",
                            mixed]).stdout)
        self.assertEqual((s["totals"]["requests"], s["totals"]["malformed"]), (3, 1))
        # The message never carries raw terminal escapes from the file.
        esc = self.write("esc.log", b"\x1b]0;owned\x07\x1b[2J\n")
        p = run(["parse", esc], ok=(3,))
        self.assertNotIn(b"\x1b", p.stderr)

    # ---- W3C layouts across chunks ----------------------------------------------------------

    def test_w3c_layout_changes_survive_any_chunking(self):
        lines = [b"#Software: IIS\r\n", b"#Fields: date time c-ip cs-method cs-uri-stem sc-status\r\n"]
        for i in range(600):
            if i == 200:
                lines.append(b"#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip "
                             b"sc-status sc-bytes\r\n")
            if i == 400:
                lines.append(b"#Date: 2026-08-01 00:00:00\r\n#Fields: date time c-ip cs-uri "
                             b"sc-status cs(User-Agent)\r\n")
            ts = b"2026-08-01 00:%02d:%02d" % (i // 60, i % 60)
            if i < 200:
                lines.append(b"%s 192.0.2.%d GET /a/%d 200\r\n" % (ts, i % 250, i))
            elif i < 400:
                lines.append(b"%s GET /b/%d q=%d 192.0.2.%d 404 %d\r\n" % (ts, i, i, i % 250, i))
            else:
                lines.append(b"%s 2001:db8::%x /c/%d?r=1 301 Mozilla/5.0+(x)\r\n" % (ts, i, i))
        log = self.write("w3c.log", b"".join(lines))
        ref, _ = records(["--threads", "1", log])
        self.assertEqual(len(ref), 600)
        self.assertFalse([r for r in ref if "malformed" in r])
        self.assertEqual(ref[250]["query"], "q=250")
        self.assertEqual(ref[250]["line"], 254)  # three directive lines before it
        self.assertEqual(ref[599]["target"], "/c/599?r=1")
        for chunk, threads in (("1024", "2"), ("4096", "3"), ("1500", "1")):
            got, _ = records(["--chunk-size", chunk, "--threads", threads, log])
            self.assertEqual(got, ref, "chunk %s threads %s" % (chunk, threads))
        # A bad #Fields line leaves no layout until the next good one.
        bad = self.write("w3c-bad.log", b"#Fields: date time c-ip cs-uri\n"
                         b"2026-08-01 00:00:00 192.0.2.1 /a\n#Fields:\n"
                         b"2026-08-01 00:00:01 192.0.2.1 /b\n#Fields: date time cs-uri c-ip\n"
                         b"2026-08-01 00:00:02 /c 192.0.2.2\n")
        for chunk in ("1024", "1048576"):
            got, _ = records(["--chunk-size", chunk, "--format", "w3c", bad])
            self.assertEqual([(r["line"], r.get("path"), r.get("malformed", "")[:9]) for r in got],
                             [(2, "/a", ""), (4, None, "no valid "), (6, "/c", "")])

    # ---- globs, rotated sets, compression, stdin ---------------------------------------------

    def test_globs_and_rotated_sets_are_read_oldest_first(self):
        d = "rot"
        self.write(d + "/access.log", clf(4, day=4))
        self.write(d + "/access.log.1", clf(3, day=3))
        with open(self.path(d, "access.log.2.gz"), "wb") as f:
            f.write(gzip.compress(clf(2, day=2)))
        if shutil.which("zstd"):
            z = subprocess.run(["zstd", "-q", "-c"], input=clf(1, day=1),
                               stdout=subprocess.PIPE, check=True).stdout
            self.write(d + "/access.log.10.zst", z)
        self.write(d + "/error.log", b"not an access log\n")
        pattern = os.path.join(self.tmp, d, "access.log*")
        s = json.loads(run(["parse", "--json", pattern]).stdout)
        names = [os.path.basename(f["path"]) for f in s["files"]]
        want = (["access.log.10.zst"] if shutil.which("zstd") else []) + [
            "access.log.2.gz", "access.log.1", "access.log"]
        self.assertEqual(names, want)
        self.assertEqual([f["compression"] for f in s["files"]][-3:], ["gzip", "none", "none"])
        recs, _ = records([pattern])
        days = [r["time"][:10] for r in recs]
        self.assertEqual(days, sorted(days))
        # A glob that matches nothing is reported as the missing file it names.
        p = run(["parse", os.path.join(self.tmp, d, "nothing*.log")], ok=(3,))
        self.assertIn("nothing*.log", p.stderr.decode())

    def test_standard_input_is_detected_like_a_file(self):
        with open(os.path.join(FIXTURES, "traefik.log"), "rb") as f:
            data = f.read()
        recs, p = records(["-"], stdin=data)
        self.assertEqual(len(recs), 2)
        self.assertIn("format traefik", p.stderr.decode())
        recs, _ = records(["-"], stdin=gzip.compress(data))
        self.assertEqual(recs[1]["client"], "203.0.113.66")

    # ---- hostile bytes ----------------------------------------------------------------------

    def test_hostile_bytes_are_counted_and_never_shift_the_lines_after_them(self):
        good = [clf(i) for i in range(40)]
        bad = [
            b"\x00\x00\x00\x00 crash residue\n",
            clf(100, target="/nul\\x00byte") .replace(b"GET", b"G\x00T"),
            b'192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "GET /\xff\xfe\xc0\xaf HTTP/1.1" 200 1 "-" "\xe2\x28\xa1"\r\n',
            b'192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "GET /q?x=\\x22\\x5C HTTP/1.1" 200 1 "\\x22" "-"\r\r\n',
            b"\r\n",
            b'192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "GET /' + b"A" * 5000 + b' HTTP/1.1" 200 1 "-" "-"\n',
        ]
        data = b"".join(good[:20]) + b"".join(bad) + b"".join(good[20:])
        log = self.write("hostile.log", data)
        s = json.loads(run(["parse", "--json", "--max-line", "4096", "--format", "combined",
                            log]).stdout)
        t = s["totals"]
        self.assertEqual(t["lines"], 46)
        self.assertEqual(t["oversize"], 1)
        self.assertEqual(t["requests"] + t["malformed"] + t["oversize"], 46)  # blank: malformed
        recs, _ = records(["--max-line", "4096", "--format", "combined", log])
        ok = [r for r in recs if "malformed" not in r and r.get("path", "").startswith("/page/")]
        self.assertEqual([r["path"] for r in ok], ["/page/%d" % i for i in range(40)])
        self.assertEqual([r["line"] for r in ok][20], 27)
        esc = [r for r in recs if r.get("path") == "/q"][0]
        self.assertEqual(esc["query"], 'x="\\')
        self.assertEqual(esc["referer"], '"')
        # The same in a JSON log: NUL, invalid UTF-8, \u0000, a line cut in the middle.
        jl = [json.dumps({"time": 1785542400 + i, "ip": "192.0.2.%d" % i, "uri": "/j/%d" % i}
                         ).encode() + b"\n" for i in range(20)]
        jbad = [b'{"time":1785542400,"ip":"192.0.2.1","uri":"/x\x00y"}\n',
                b'{"time":1785542400,"ip":"192.0.2.1","uri":"/\xff\xfe","ua":"\\u0000"}\n',
                b'{"time":1785542400,"ip":"192.0.2.1","uri":"/cut\n',
                b'\x00\x00\x00\n']
        jlog = self.write("hostile.jsonl", b"".join(jl[:10]) + b"".join(jbad) + b"".join(jl[10:]))
        recs, _ = records([jlog])
        self.assertEqual([r["path"] for r in recs if r.get("path", "").startswith("/j/")],
                         ["/j/%d" % i for i in range(20)])
        self.assertEqual(sum(1 for r in recs if "malformed" in r), 2)
        self.assertEqual([r for r in recs if r["line"] == 12][0]["path"], "/\ufffd\ufffd")

    def test_truncated_gzip_json_keeps_everything_before_the_damage(self):
        lines = b"".join(json.dumps({"time": 1785542400 + i, "remote_addr": "192.0.2.1",
                                     "request_uri": "/p?i=%d&pad=%s" % (i, "x" * 200),
                                     "status": 200}).encode() + b"\n" for i in range(20000))
        gz = gzip.compress(lines, 6)
        cut = self.write("cut.jsonl.gz", gz[: len(gz) // 2])
        p = run(["parse", "--json", cut], ok=(3,))
        self.assertIn("cut.jsonl.gz", p.stderr.decode())
        self.assertRegex(p.stderr.decode(), "truncated|corrupt")
        f = json.loads(p.stdout)["files"][0]
        self.assertEqual(f["format"], "json")
        self.assertGreater(f["requests"], 5000)
        self.assertLess(f["requests"], 20000)
        self.assertEqual(f["malformed"], 0)

    # ---- progress ----------------------------------------------------------------------------

    def progress_output(self, extra):
        log = self.write("prog.log", b"".join(clf(i) for i in range(2000)))
        master, slave = pty.openpty()
        p = subprocess.Popen([VIGIL, "parse", "--quiet"] + extra + [log],
                             stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        out = b""
        while True:
            r, _, _ = select.select([master], [], [], 10)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        p.wait(timeout=TIMEOUT)
        os.close(master)
        return out

    def test_progress_bar_only_on_a_terminal(self):
        self.assertIn(b"lines/s", self.progress_output([]))
        self.assertNotIn(b"lines/s", self.progress_output(["--progress", "never"]))
        p = run(["parse", "--quiet", self.path("prog.log")])
        self.assertNotIn(b"lines/s", p.stderr)  # stderr is a pipe here
        p = run(["parse", "--quiet", "--progress", "always", self.path("prog.log")])
        self.assertIn(b"lines/s", p.stderr)

    # ---- usage -------------------------------------------------------------------------------

    def test_usage_errors_of_the_format_options_exit_2(self):
        log = self.write("u.log", clf(1))
        conf = self.write("nginx.conf", b"log_format main '$remote_addr - $remote_user "
                          b"[$time_local] \"$request\" $status $body_bytes_sent';\n")
        for args, want in (
                (["--format", "bogus"], "unknown log format"),
                (["--format", "apache:%h %Z"], "unknown directive"),
                (["--format-from", conf + ":nope"], "no log format named 'nope'"),
                (["--format-from", conf], "FILE:NAME"),
                (["--format-from", self.path("missing.conf") + ":main"], "missing.conf"),
                (["--json-map", "bogus=x", "--format", "json"], "unknown field"),
                (["--real-ip", "X-Forwarded-For"], "--trusted-proxies"),
                (["--real-ip", "X-Forwarded-For", "--trusted-proxies", "nope"], "is not"),
                (["--real-ip", "X-Forwarded-For", "--trusted-proxies", "10.0.0.0/8",
                  "--format", "combined"], "does not log")):
            for cmd in ("scan", "parse"):
                p = run([cmd, "--no-geo"] + args + [log] if cmd == "scan" else
                        [cmd] + args + [log], ok=(2,))
                self.assertIn(want, p.stderr.decode(), (cmd, args))
        recs, _ = records(["--format-from", conf + ":main", log])
        self.assertEqual(recs[0]["client"], "192.0.2.1")


def main():
    if not os.access(VIGIL, os.X_OK):
        print("skipped: no vigil binary at %s (set VIGIL)" % VIGIL)
        return 77
    prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
