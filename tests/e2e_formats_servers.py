#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""e2e_formats_servers.py: logs written by real servers, read back field by field.

Starts Debian's nginx and Apache httpd on loopback ports, each with a private prefix, private
configuration and custom log formats (never systemd, never the system's configuration), sends
requests with curl (query strings with quotes and markup, request bodies, cookies, odd and
non-ASCII headers, an IPv6 socket client, an IPv6 client behind X-Forwarded-For), stops the
servers, then reads the logs they wrote with `vigil parse --records -`:
  - with the same format string (nginx: / apache:), with --format-from on the server's own
    configuration file, and with --format auto;
and asserts that every field vigil reports equals what curl sent or received (client, method,
target, protocol, status, bytes, referer, user agent, cookie, content type, body, forwarded
chain, time within the test's window, in UTC).

Run by CTest (VIGIL = the binary). Exit 77 (skipped) only when nginx, apache2 or curl is not
installed (scripts/setup installs them); any other failure to start a server is a failure.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE_DIR = os.environ.get("VG_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
VIGIL = os.environ.get("VIGIL") or os.path.join(SOURCE_DIR, "build", "vigil")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
APACHE = shutil.which("apache2") or (
    "/usr/sbin/apache2" if os.path.exists("/usr/sbin/apache2") else None)
CURL = shutil.which("curl")
APACHE_MODULES = "/usr/lib/apache2/modules"
TIMEOUT = 60

# What the tests send: (id, method, target, headers, body). Targets and headers carry the
# characters servers escape (quotes, backslashes, control and non-ASCII bytes).
REQUESTS = [
    ("plain", "GET", "/t/plain", {}, None),
    ("sqli", "GET", "/t/sqli?q=1%27%20OR%201=1--&x=%3Cscript%3E", {
        "User-Agent": "sqlmap/1.7.2#stable (https://sqlmap.org)",
        "Referer": 'http://example.test/?a="b"&c=\\d',
        "Cookie": 'sid=abc; theme="dark"',
    }, None),
    ("rawq", "GET", '/t/rawq?x="<svg/onload=alert(1)>"&y=a\\b', {
        "User-Agent": "ctl\x01\x7fbytes",  # Apache refuses it (400) and logs no headers
    }, None),
    ("utf8", "GET", "/t/utf8?q=%C3%A9", {
        "User-Agent": "M\u00f6zilla \u2603 (\"quoted\")",
        "Referer": "http://example.test/\u00e9t\u00e9",
    }, None),
    ("form", "POST", "/t/form", {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "curl-form",
    }, b"user=admin&pass=%27+OR+%271%27%3D%271&note=\"quoted\""),
    ("json", "POST", "/t/json?v=2", {
        "Content-Type": "application/json",
    }, b'{"a":"<script>alert(1)</script>","b":"\\u0041"}'),
    ("xff6", "GET", "/t/xff6", {
        "X-Forwarded-For": "2001:db8::77, 10.9.8.7",
        "User-Agent": "behind-a-proxy",
    }, None),
    ("put", "PUT", "/t/put", {"Content-Type": "text/plain"}, b"line one\nline two\ttab"),
    ("head", "HEAD", "/t/head", {}, None),
]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(host, port, proc, what):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("%s exited with %s before listening" % (what, proc.returncode))
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("%s does not listen on %s:%d" % (what, host, port))


def curl(url, method, target, headers, body, host6=False):
    """Sends one request; returns (status, bytes received)."""
    args = [CURL, "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
            "--path-as-is", "--max-time", "10", "-X", method, "--request-target", target]
    if method == "HEAD":
        args = [a for a in args if a not in ("-X", "HEAD")] + ["-I"]
    if host6:
        args.append("-g")
    for k, v in headers.items():
        args += ["-H", "%s: %s" % (k, v)]
    if "User-Agent" not in headers:
        args += ["-H", "User-Agent:"]  # none at all (curl would send its own)
    if body is not None:
        args += ["--data-binary", "@-"]
    args.append(url)
    p = subprocess.run(args, input=body, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TIMEOUT)
    out = p.stdout.decode().split()
    return int(out[0]), int(out[1])


def vigil_records(log, fmt_args):
    p = subprocess.run([VIGIL, "parse", "--records", "-", "--quiet", "--threads", "2"]
                       + fmt_args + [log], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TIMEOUT)
    if p.returncode != 0:
        raise AssertionError("vigil parse %s exited %d: %s" % (
            fmt_args, p.returncode, p.stderr.decode("utf-8", "replace")))
    recs = [json.loads(l) for l in p.stdout.decode("utf-8").splitlines()]
    return recs, p.stderr.decode("utf-8", "replace")


def text(b):
    """What a JSON record carries for bytes: UTF-8, invalid sequences replaced."""
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


class ServerLogs(unittest.TestCase):
    """Common checks of records against the requests sent."""

    sent = {}  # id -> (method, target, headers, body, status, size, t0, t1, client)

    def by_id(self, recs):
        out = {}
        for r in recs:
            self.assertNotIn("malformed", r, r)
            path = r.get("path", "")
            self.assertTrue(path.startswith("/t/"), r)
            out[path[3:]] = r
        self.assertEqual(sorted(out), sorted(self.sent), "one record per request sent")
        return out

    def check(self, recs, fields):
        """fields: the names this format logs (besides time, client, request, status)."""
        for rid, r in self.by_id(recs).items():
            method, target, headers, body, status, size, t0, t1, client = self.sent[rid]
            if status == 400:
                headers = {}  # a request the server refused: it logs none of its headers
            with self.subTest(request=rid):
                want_client = client
                if "forwarded" in fields and "X-Forwarded-For" in headers:
                    want_client = headers["X-Forwarded-For"].split(",")[0].strip()
                    self.assertEqual(r.get("peer"), "127.0.0.1")
                self.assertEqual(r["client"], want_client)
                self.assertEqual(r["method"], method)
                self.assertEqual(r["target"], target)
                self.assertEqual(r["protocol"], "HTTP/1.1")
                self.assertEqual(r["status"], status)
                if "bytes" in fields:
                    self.assertEqual(r.get("bytes", 0), size)
                ts = time.mktime(time.strptime(r["time"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
                self.assertTrue(r["time"].endswith("Z"))
                self.assertGreaterEqual(ts, int(t0) - 1)
                self.assertLessEqual(ts, t1 + 1)
                for name, key in (("referer", "Referer"), ("user_agent", "User-Agent"),
                                  ("cookie", "Cookie"), ("content_type", "Content-Type")):
                    if name in fields:
                        self.assertEqual(r.get(name), headers.get(key), name)
                if "body" in fields:
                    self.assertEqual(r.get("body"), text(body) if body else None)
                if "xff" in fields:
                    self.assertEqual(r.get("headers", {}).get("X-Forwarded-For"),
                                     headers.get("X-Forwarded-For"))


class Nginx(ServerLogs):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-nginx-")
        for d in ("logs", "tmp", "html"):
            os.makedirs(os.path.join(cls.tmp, d))
        os.chmod(os.path.join(cls.tmp, "tmp"), 0o777)
        cls.port, cls.up = free_port(), free_port()
        cls.fmt = ('$remote_addr - $remote_user [$time_local] "$request" $status '
                   '$body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" '
                   '"$http_cookie" "$content_type" "$request_body" $msec')
        cls.jfmt = ('{"time_iso8601":"$time_iso8601","remote_addr":"$remote_addr",'
                    '"request_method":"$request_method","request_uri":"$request_uri",'
                    '"server_protocol":"$server_protocol","status":$status,'
                    '"body_bytes_sent":$body_bytes_sent,"http_referer":"$http_referer",'
                    '"http_user_agent":"$http_user_agent","http_cookie":"$http_cookie",'
                    '"content_type":"$content_type","request_body":"$request_body",'
                    '"http_x_forwarded_for":"$http_x_forwarded_for"}')
        cls.conf = os.path.join(cls.tmp, "nginx.conf")
        with open(cls.conf, "w") as f:
            f.write("""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/logs/error.log;
events {{ worker_connections 64; }}
http {{
  client_body_temp_path {tmp}/tmp/body;
  proxy_temp_path {tmp}/tmp/proxy;
  fastcgi_temp_path {tmp}/tmp/fcgi;
  uwsgi_temp_path {tmp}/tmp/uwsgi;
  scgi_temp_path {tmp}/tmp/scgi;
  client_body_buffer_size 64k;
  client_body_in_single_buffer on;
  log_format vigil_test '{fmt}';
  log_format vigil_json escape=json
      '{jfmt}';
  server {{
    listen 127.0.0.1:{port};
    listen [::1]:{port};
    access_log {tmp}/logs/custom.log vigil_test;
    access_log {tmp}/logs/json.log vigil_json;
    access_log {tmp}/logs/combined.log combined;
    location / {{ proxy_pass http://127.0.0.1:{up}; }}
  }}
  server {{
    listen 127.0.0.1:{up};
    access_log off;
    location / {{ return 200 "ok\\n"; }}
  }}
}}
""".format(tmp=cls.tmp, port=cls.port, up=cls.up, fmt=cls.fmt.replace("'", "\\'"),
           jfmt=cls.jfmt.replace("'", "\\'")))
        cls.proc = subprocess.Popen([NGINX, "-p", cls.tmp, "-c", cls.conf, "-e",
                                     os.path.join(cls.tmp, "logs", "error.log"),
                                     "-g", "daemon off;"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port("127.0.0.1", cls.port, cls.proc, "nginx")
            cls.sent = {}
            for rid, method, target, headers, body in REQUESTS:
                t0 = time.time()
                st, size = curl("http://127.0.0.1:%d" % cls.port, method, target, headers, body)
                cls.sent[rid] = (method, target, headers, body, st, size, t0, time.time(),
                                 "127.0.0.1")
            # An IPv6 socket client.
            t0 = time.time()
            st, size = curl("http://[::1]:%d" % cls.port, "GET", "/t/v6", {}, None, host6=True)
            cls.sent["v6"] = ("GET", "/t/v6", {}, None, st, size, t0, time.time(), "::1")
        finally:
            cls.proc.send_signal(signal.SIGQUIT)  # graceful: logs are flushed
            try:
                cls.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def log(self, name):
        return os.path.join(self.tmp, "logs", name)

    def test_requests_reached_nginx(self):
        for rid, s in self.sent.items():
            self.assertEqual(s[4], 200, rid)

    def test_custom_format_string_reads_every_field_sent(self):
        recs, _ = vigil_records(self.log("custom.log"), ["--format", "nginx:" + self.fmt])
        self.check(recs, {"bytes", "referer", "user_agent", "cookie", "content_type", "body",
                          "xff"})

    def test_format_from_the_servers_own_configuration(self):
        a, _ = vigil_records(self.log("custom.log"), ["--format", "nginx:" + self.fmt])
        b, _ = vigil_records(self.log("custom.log"),
                             ["--format-from", self.conf + ":vigil_test"])
        self.assertEqual(a, b)
        c, _ = vigil_records(self.log("json.log"), ["--format-from", self.conf + ":vigil_json"])
        d, _ = vigil_records(self.log("json.log"), ["--format", "json"])
        for x, y in zip(c, d):
            self.assertEqual(x, y)

    def test_auto_detects_each_log_and_reads_the_fields_it_logs(self):
        recs, err = vigil_records(self.log("combined.log"), [])
        self.assertIn("format combined", err)
        self.check(recs, {"bytes", "referer", "user_agent"})
        # The custom format extends combined: auto reads its first fields.
        recs, err = vigil_records(self.log("custom.log"), [])
        self.assertIn("format combined", err)
        self.check(recs, {"bytes", "referer", "user_agent"})
        recs, err = vigil_records(self.log("json.log"), [])
        self.assertIn("format json", err)
        self.check(recs, {"bytes", "referer", "user_agent", "cookie", "content_type", "body",
                          "xff"})

    def test_real_ip_takes_the_ipv6_client_behind_the_trusted_proxy(self):
        args = ["--real-ip", "X-Forwarded-For", "--trusted-proxies", "127.0.0.1/32,10.0.0.0/8"]
        for log, fmt in (("custom.log", ["--format", "nginx:" + self.fmt]), ("json.log", []),
                         ("custom.log", [])):
            recs, _ = vigil_records(self.log(log), fmt + args)
            r = [x for x in recs if x["path"] == "/t/xff6"][0]
            self.assertEqual(r["client"], "2001:db8::77", log)
            self.assertEqual(r["peer"], "127.0.0.1")
            plain = [x for x in recs if x["path"] == "/t/plain"][0]
            self.assertEqual(plain["client"], "127.0.0.1")


class Apache(ServerLogs):
    FMT = ('%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" '
           '\\"%{Cookie}i\\" \\"%{Content-Type}i\\" \\"%{X-Forwarded-For}i\\" '
           '[%{%d/%b/%Y %T %z}t] %v %D')

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-apache-")
        os.makedirs(os.path.join(cls.tmp, "logs"))
        os.makedirs(os.path.join(cls.tmp, "www", "t"))
        for rid, *_ in REQUESTS + [("v6",)]:
            with open(os.path.join(cls.tmp, "www", "t", rid), "w") as f:
                f.write("ok\n")
        for d in (cls.tmp, os.path.join(cls.tmp, "www"), os.path.join(cls.tmp, "www", "t")):
            os.chmod(d, 0o755)
        cls.port = free_port()
        user = "User nobody\nGroup nogroup\n" if os.getuid() == 0 else ""
        cls.conf = os.path.join(cls.tmp, "apache2.conf")
        with open(cls.conf, "w") as f:
            f.write("""
ServerRoot "{tmp}"
ServerName vigil.test
Listen 127.0.0.1:{port}
Listen [::1]:{port}
PidFile {tmp}/httpd.pid
Mutex file:{tmp} default
{user}LoadModule mpm_prefork_module {mods}/mod_mpm_prefork.so
LoadModule authz_core_module {mods}/mod_authz_core.so
ErrorLog {tmp}/logs/error.log
LogFormat "{fmt}" vigil_test
LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\"" combined
CustomLog {tmp}/logs/custom.log vigil_test
CustomLog {tmp}/logs/combined.log combined
DocumentRoot "{tmp}/www"
<Directory "{tmp}/www">
  Require all granted
</Directory>
""".format(tmp=cls.tmp, port=cls.port, mods=APACHE_MODULES, fmt=cls.FMT, user=user))
        cls.proc = subprocess.Popen([APACHE, "-X", "-f", cls.conf],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port("127.0.0.1", cls.port, cls.proc, "apache2")
            cls.sent = {}
            for rid, method, target, headers, body in REQUESTS:
                t0 = time.time()
                st, size = curl("http://127.0.0.1:%d" % cls.port, method, target, headers, body)
                cls.sent[rid] = (method, target, headers, body, st, size, t0, time.time(),
                                 "127.0.0.1")
            t0 = time.time()
            st, size = curl("http://[::1]:%d" % cls.port, "GET", "/t/v6", {}, None, host6=True)
            cls.sent["v6"] = ("GET", "/t/v6", {}, None, st, size, t0, time.time(), "::1")
        finally:
            cls.proc.send_signal(signal.SIGTERM)
            try:
                cls.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
            err = cls.proc.stderr.read().decode("utf-8", "replace")
            cls.proc.stderr.close()
            if not os.path.exists(os.path.join(cls.tmp, "logs", "custom.log")):
                raise AssertionError("apache2 wrote no log: " + err[-2000:])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def log(self, name):
        return os.path.join(self.tmp, "logs", name)

    def test_logformat_string_reads_every_field_sent(self):
        recs, _ = vigil_records(self.log("custom.log"), ["--format", "apache:" + self.FMT])
        self.check(recs, {"bytes", "referer", "user_agent", "cookie",
                                     "content_type", "xff"})
        for r in recs:
            self.assertEqual(r["host"], "vigil.test")

    def test_format_from_the_servers_own_configuration(self):
        a, _ = vigil_records(self.log("custom.log"), ["--format", "apache:" + self.FMT])
        b, _ = vigil_records(self.log("custom.log"), ["--format-from", self.conf + ":vigil_test"])
        self.assertEqual(a, b)

    def test_auto_detects_the_logs_and_reads_the_fields_they_log(self):
        recs, err = vigil_records(self.log("combined.log"), [])
        self.assertIn("format combined", err)
        self.check(recs, {"referer", "user_agent"})
        recs, err = vigil_records(self.log("custom.log"), [])
        self.assertIn("format combined", err)
        self.check(recs, {"bytes", "referer", "user_agent"})

    def test_real_ip_with_the_logged_header(self):
        recs, _ = vigil_records(self.log("custom.log"),
                                ["--format", "apache:" + self.FMT, "--real-ip",
                                 "%{X-Forwarded-For}i", "--trusted-proxies",
                                 "127.0.0.0/8,10.0.0.0/8"])
        r = [x for x in recs if x["path"] == "/t/xff6"][0]
        self.assertEqual(r["client"], "2001:db8::77")


def main():
    if not os.access(VIGIL, os.X_OK):
        print("skipped: no vigil binary at %s (set VIGIL)" % VIGIL)
        return 77
    missing = [n for n, p in (("nginx", NGINX), ("apache2", APACHE), ("curl", CURL)) if not p]
    if missing:
        print("skipped: %s not installed (scripts/setup installs nginx-light, apache2 and curl)"
              % ", ".join(missing))
        return 77
    prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
