#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""corpus_eval.py: vigil's detection figures on a labelled corpus.

    bench/corpus_eval.py [--vigil PATH] [--corpus DIR] [--threads N] [--extra-args='...']
                         [--log combined|json] [--spoof-ua]
                         [--markdown] [--missed N] [--save-events FILE]

Runs `vigil scan --no-store --no-geo --quiet --events TMP --threads N DIR/access.log[.gz]`,
joins the events (by log.line) with the labels and prints:
  * the share of payload=1 attack requests flagged, of all attack requests flagged and of benign
    requests flagged (false positives), with counts;
  * flagged attacking sources / attacking sources, flagged benign sources / benign sources
    (a source is a client address; it is attacking if it sent any attack request, benign if it
    sent only benign ones; flagged if any of its requests is flagged);
  * a per-actor table (benign visitor-* and editor-* grouped, as the corpus summary does);
  * the classes vigil gave each attacking actor (and, when the labels name an intended class,
    how often it is among them);
  * the top 20 rule ids on benign requests, to find false positives.
It also prints the peers' TSV row (tool, det_payload, det_all_attack, fp_benign, ip_det, ip_fp)
in the exact format of ../shared/peers/eval.py, so the figures compare side by side.

Defaults: --vigil $VIGIL or build/vigil of the source tree; --corpus ../shared/corpus/dev
relative to the source tree; --threads 2. Label formats, told apart by their header:
  corpus:   line request_id ip actor kind payload payload_rule   (labels.tsv[.gz])
  examples: line actor kind payload class                         (access.labels.tsv; the
            client address is read from the log line)
Exit status: 0 when the figures were computed (whatever they are), 2 on usage errors, 1 on
any other error (vigil failed, unreadable files, an event that is not valid JSON).
"""
import argparse
import collections
import gzip
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


class EvalError(Exception):
    pass


def open_bin(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def find_first(d, names):
    for n in names:
        p = os.path.join(d, n)
        if os.path.isfile(p):
            return p
    return None


def read_labels(path):
    """Returns (rows, fmt): rows = {line: dict(actor, kind, payload, ip, cls)}."""
    with open_bin(path) as f:
        text = f.read().decode("utf-8", "replace")
    lines = text.splitlines()
    if not lines:
        raise EvalError("%s: empty labels file" % path)
    head = lines[0].split("\t")
    cols = {c: i for i, c in enumerate(head)}
    for need in ("line", "actor", "kind", "payload"):
        if need not in cols:
            raise EvalError("%s: no column %r in header %r" % (path, need, head))
    fmt = "corpus" if "ip" in cols else "examples" if "class" in cols else "other"
    rows = {}
    for n, l in enumerate(lines[1:], 2):
        if not l:
            continue
        p = l.split("\t")
        if len(p) < len(head):
            p += [""] * (len(head) - len(p))
        try:
            line = int(p[cols["line"]])
        except ValueError:
            raise EvalError("%s:%d: bad line number %r" % (path, n, p[cols["line"]]))
        rows[line] = {
            "actor": p[cols["actor"]], "kind": p[cols["kind"]].strip(),
            "payload": p[cols["payload"]].strip() in ("1", "true", "yes"),
            "ip": p[cols["ip"]] if "ip" in cols else None,
            "cls": p[cols["class"]].strip() if "class" in cols else "",
            "detect": p[cols["detect"]].strip() if "detect" in cols else "",
        }
    return rows, fmt


def read_log_lines(path):
    with open_bin(path) as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/129.0.0.0 Safari/537.36")


def spoof_user_agents(src, dst, json_log):
    """Writes src to dst with every user agent replaced by a desktop browser's, as if every
    tool spoofed one (line for line, so the labels still apply)."""
    ua = BROWSER_UA.encode()
    with open_bin(src) as f, open(dst, "wb") as o:
        for raw in f:
            line = raw.rstrip(b"\n")
            if json_log:
                try:
                    rec = json.loads(line)
                    rec["http_user_agent"] = BROWSER_UA
                    line = json.dumps(rec, separators=(",", ":")).encode()
                except ValueError:
                    pass  # a malformed line stays as it is
            else:
                # combined: the user agent is the last quoted field
                end = line.rfind(b'"')
                start = line.rfind(b'"', 0, end) if end > 0 else -1
                if start > 0 and line[start - 1:start] == b" ":
                    line = line[:start + 1] + ua + line[end:]
            o.write(line + b"\n")


def group_of(actor, kind):
    if kind == "benign":
        m = re.match(r"^(visitor|editor)-", actor)
        if m:
            return m.group(1) + "-*"
    return actor


def pct(a, b):
    return "%.1f%% (%d/%d)" % (100.0 * a / b, a, b) if b else "n/a"


def share(a, b):
    return "%.1f%%" % (100.0 * a / b) if b else "-"


def clip(s, n=60):
    s = s.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 or ord(c) == 127
                                                          for c in s) else s
    return s if len(s) <= n else s[:n - 1] + "\u2026"


def run_vigil(vigil, log, threads, extra, events_path):
    cmd = [vigil, "scan", "--no-store", "--no-geo", "--quiet", "--events", events_path,
           "--threads", str(threads)] + extra + [log]
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    ok = {0, 1} if "--fail-on-attack" in extra else {0}
    if p.returncode not in ok:
        raise EvalError("%s exited %d:\n%s" % (" ".join(shlex.quote(c) for c in cmd),
                                               p.returncode,
                                               p.stderr.decode("utf-8", "replace")[-4000:]))
    return cmd, wall


def read_events(path):
    ev = {}
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                e = json.loads(raw)
                line = int(e["log"]["line"])
            except (ValueError, KeyError, TypeError) as x:
                raise EvalError("%s:%d: not a valid event (%s): %r" % (path, n, x, raw[:200]))
            if line in ev:
                raise EvalError("%s:%d: a second event for log line %d" % (path, n, line))
            ev[line] = e
    return ev


class Table:
    def __init__(self, header, markdown, right=()):
        self.header, self.rows, self.md, self.right = header, [], markdown, set(right)

    def add(self, *row):
        self.rows.append([str(c) for c in row])

    def render(self):
        if self.md:
            out = ["| " + " | ".join(self.header) + " |",
                   "|" + "|".join(" ---: " if i in self.right else " --- "
                                  for i in range(len(self.header))) + "|"]
            for r in self.rows:
                out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
            return "\n".join(out)
        w = [max(len(x) for x in col) for col in zip(self.header, *self.rows)]
        fmt = lambda r: "  ".join((c.rjust(w[i]) if i in self.right else c.ljust(w[i]))  # noqa
                                  for i, c in enumerate(r)).rstrip()
        return "\n".join([fmt(self.header), fmt(["-" * x for x in w])] + [fmt(r) for r in self.rows])


def evaluate(args):
    corpus = args.corpus
    if args.log == "json":
        log = find_first(corpus, ["access.jsonl.gz", "access.jsonl"])
    else:
        log = find_first(corpus, ["access.log.gz", "access.log"])
    labels_p = find_first(corpus, ["labels.tsv.gz", "labels.tsv", "access.labels.tsv"])
    if not log or not labels_p:
        raise EvalError("%s: needs access.log[.gz] and labels.tsv[.gz] or access.labels.tsv"
                        % corpus)
    labels, fmt = read_labels(labels_p)
    loglines = read_log_lines(log)
    for n, lab in labels.items():
        if lab["ip"] is None:
            lab["ip"] = (loglines[n - 1].split(b" ", 1)[0].decode("ascii", "replace")
                         if 0 < n <= len(loglines) else "-")

    if args.events_in:
        cmd, wall, events_path = None, None, args.events_in
        events = read_events(events_path)
    else:
        with tempfile.TemporaryDirectory(prefix="vigil-eval-") as tmp:
            events_path = args.save_events or os.path.join(tmp, "events.jsonl")
            scan_log = log
            if args.spoof_ua:
                scan_log = os.path.join(tmp, "spoofed." + ("jsonl" if args.log == "json" else "log"))
                spoof_user_agents(log, scan_log, args.log == "json")
            cmd, wall = run_vigil(args.vigil, scan_log, args.threads, shlex.split(args.extra_args),
                                  events_path)
            events = read_events(events_path)

    flagged = set(events)
    req = {n: v for n, v in labels.items() if v["kind"] in ("attack", "benign")}
    att = [n for n, v in req.items() if v["kind"] == "attack"]
    attp = [n for n in att if req[n]["payload"]]
    ben = [n for n, v in req.items() if v["kind"] == "benign"]
    ip_att = {req[n]["ip"] for n in att}
    ip_ben = {req[n]["ip"] for n in ben} - ip_att
    det_ips = {req[n]["ip"] for n in flagged if n in req}
    unlabelled = sorted(n for n in flagged if n not in req)

    out = []
    md = args.markdown
    h = (lambda s: "\n## " + s + "\n") if md else (lambda s: "\n" + s + "\n" + "=" * len(s))
    out.append(("# " if md else "") + "vigil detection on %s" % os.path.relpath(corpus))
    if cmd:
        out.append("")
        out.append(("`%s`" if md else "%s") % " ".join(shlex.quote(c) for c in cmd))
        out.append("")
        out.append("%d lines, %d requests labelled (%d attack, %d benign), %d events, %.2f s wall"
                   % (len(loglines), len(req), len(att), len(ben), len(events), wall))
    else:
        out.append("\nevents read from %s: %d" % (events_path, len(events)))

    out.append(h("Overall"))
    t = Table(["measure", "value"], md)
    t.add("payload=1 attack requests flagged", pct(sum(1 for n in attp if n in flagged), len(attp)))
    t.add("attack requests flagged", pct(sum(1 for n in att if n in flagged), len(att)))
    t.add("benign requests flagged (false positives)",
          pct(sum(1 for n in ben if n in flagged), len(ben)))
    t.add("attacking sources flagged", pct(len(ip_att & det_ips), len(ip_att)))
    t.add("benign sources flagged", pct(len(ip_ben & det_ips), len(ip_ben)))
    if unlabelled:
        t.add("events on lines that are not labelled requests",
              "%d (lines %s)" % (len(unlabelled), ", ".join(map(str, unlabelled[:10]))))
    if fmt == "examples":
        with_cls = [n for n in attp if req[n]["cls"] and n in flagged]
        right = sum(1 for n in with_cls
                    if req[n]["cls"] in events[n].get("vigil", {}).get("classes", []))
        t.add("flagged payload requests given their labelled class", pct(right, len(with_cls)))
    out.append(t.render())

    out.append(h("Side by side with ../shared/peers/eval.py"))
    row = ["vigil", pct(sum(1 for n in attp if n in flagged), len(attp)),
           pct(sum(1 for n in att if n in flagged), len(att)),
           pct(sum(1 for n in ben if n in flagged), len(ben)),
           pct(len(ip_att & det_ips), len(ip_att)), pct(len(ip_ben & det_ips), len(ip_ben))]
    tsv = "tool\tdet_payload\tdet_all_attack\tfp_benign\tip_det\tip_fp\n" + "\t".join(row)
    out.append("```\n%s\n```" % tsv if md else tsv)

    # per actor
    groups = collections.OrderedDict()
    for n in sorted(req):
        v = req[n]
        g = groups.setdefault((group_of(v["actor"], v["kind"]), v["kind"]),
                              {"n": 0, "p": 0, "pf": 0, "f": 0, "ips": set(), "cls": collections.Counter(),
                               "want": collections.Counter(), "missed": []})
        g["n"] += 1
        g["ips"].add(v["ip"])
        if v["payload"]:
            g["p"] += 1
            if v["cls"]:
                g["want"][v["cls"]] += 1
        if n in flagged:
            g["f"] += 1
            if v["payload"]:
                g["pf"] += 1
            for c in events[n].get("vigil", {}).get("classes", []):
                g["cls"][c] += 1
        elif v["payload"] and v["kind"] == "attack" and len(g["missed"]) < args.missed:
            g["missed"].append(n)
    order = sorted(groups.items(), key=lambda kv: (kv[0][1] != "attack", -kv[1]["n"], kv[0][0]))
    out.append(h("Per actor"))
    t = Table(["actor", "kind", "sources", "requests", "payload=1", "payload flagged",
               "all flagged"], md, right=(2, 3, 4, 5, 6))
    for (name, kind), g in order:
        t.add(name, kind, len(g["ips"]), g["n"], g["p"],
              "%s (%d)" % (share(g["pf"], g["p"]), g["pf"]) if g["p"] else "-",
              "%s (%d)" % (share(g["f"], g["n"]), g["f"]))
    out.append(t.render())

    out.append(h("Classes per attacking actor"))
    t = Table(["actor", "classes of its flagged requests", "labelled classes (payload=1)"]
              if fmt == "examples" else ["actor", "classes of its flagged requests"], md)
    for (name, kind), g in order:
        if kind != "attack":
            continue
        got = ", ".join("%s %d" % kv for kv in g["cls"].most_common()) or "(none)"
        if fmt == "examples":
            t.add(name, got, ", ".join("%s %d" % kv for kv in g["want"].most_common()) or "-")
        else:
            t.add(name, got)
    out.append(t.render())

    # rules on benign requests
    rules = collections.Counter()
    example = {}
    for n in ben:
        if n not in flagged:
            continue
        seen = set()
        for hit in events[n].get("vigil", {}).get("hits", []):
            rid = str(hit.get("rule", "?"))
            if rid in seen:
                continue
            seen.add(rid)
            rules[rid] += 1
            example.setdefault(rid, (hit.get("class", ""), hit.get("message", ""),
                                     "%s: %s" % (hit.get("field", ""), hit.get("match", "")),
                                     n, req[n]["actor"]))
        if not seen:
            rules["(no hit: behavioural)"] += 1
            example.setdefault("(no hit: behavioural)",
                               ("", ", ".join(events[n].get("vigil", {}).get("classes", [])),
                                "", n, req[n]["actor"]))
    out.append(h("Top 20 rules on benign requests"))
    if rules:
        t = Table(["rule", "benign requests", "class", "message", "example (field: match)",
                   "line", "actor"], md, right=(1, 5))
        for rid, c in rules.most_common(20):
            cls, msg, ex, n, actor = example[rid]
            t.add(rid, c, cls, clip(msg, 50), clip(ex, 70), n, actor)
        out.append(t.render())
    else:
        out.append("none: no benign request was flagged")

    if args.missed:
        out.append(h("Missed payload=1 requests (up to %d per actor)" % args.missed))
        for (name, kind), g in order:
            for n in g["missed"]:
                raw = loglines[n - 1].decode("utf-8", "backslashreplace") if n <= len(loglines) else ""
                out.append("%s line %d: %s" % (name, n, clip(raw, 200)))
    print("\n".join(out))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default=os.environ.get("VIGIL") or os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "corpus", "dev"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--extra-args", default="",
                    help="more vigil scan options, one string (write --extra-args=--opt)")
    ap.add_argument("--markdown", action="store_true", help="Markdown tables")
    ap.add_argument("--missed", type=int, default=0, metavar="N",
                    help="print up to N missed payload=1 lines per attacking actor")
    ap.add_argument("--log", choices=("combined", "json"), default="combined",
                    help="which log of the corpus: access.log[.gz] (combined, default) or "
                         "access.jsonl[.gz] (JSON lines with bodies, cookies, content type)")
    ap.add_argument("--spoof-ua", action="store_true",
                    help="replace every user agent with a browser's before scanning, as if "
                         "every tool spoofed one")
    ap.add_argument("--save-events", metavar="FILE", help="keep vigil's events in FILE")
    ap.add_argument("--events-in", metavar="FILE",
                    help="score this events file instead of running vigil")
    args = ap.parse_args(argv[1:])
    if args.threads < 1:
        ap.error("--threads must be at least 1")
    args.corpus = os.path.normpath(args.corpus)
    if not os.path.isdir(args.corpus):
        print("corpus_eval.py: no corpus directory %s" % args.corpus, file=sys.stderr)
        return 1
    if not args.events_in and not os.access(args.vigil, os.X_OK):
        print("corpus_eval.py: no vigil binary at %s (build it, or give --vigil)" % args.vigil,
              file=sys.stderr)
        return 1
    try:
        evaluate(args)
    except EvalError as e:
        print("corpus_eval.py: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("corpus_eval.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
