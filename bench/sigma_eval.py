#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sigma_eval.py: how faithfully vigil runs the Sigma `webserver` rules, and how noisy they are.

1. Positives: every record of ../shared/testdata/sigma-webserver/positives.jsonl (one synthesized
   request per rule) becomes one JSON log line (nginx variable names: method, target, status,
   referer, user agent, host, user; read with --format json) and, as a second check, the record's
   own Apache combined `log_line`. Both logs are scanned with only the Sigma rules
   (--no-builtin-rules --sigma RULES --threshold 1 --no-behave), and every rule must fire on its
   own positive. Rules that do not are listed with the reason (skipped at translation, or the
   README's caveats such as `full_uri: false`). Rules firing on a positive of another rule that
   the README does not expect are listed too.
2. Benign noise: the dev corpus (../shared/corpus/dev/access.log.gz, nginx combined, and the same
   requests as JSON lines, access.jsonl.gz, which also logs hosts, cookies, content types and
   POST bodies) is scanned with only the Sigma rules, at paranoia 1 (default) and 4 (all); per rule, the benign requests (labels.tsv.gz kind=benign) and the
   attack requests it flags. The bar: no rule fires more than once per 10,000 benign requests.

Usage: python3 bench/sigma_eval.py [--vigil build-c/vigil] [--shared ../shared] [--json OUT]
                                   [--strict]     (exit 1 when a bar is not met)
Standard library only. Writes its temporary files under a fresh temporary directory.
"""
import argparse
import collections
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def find_vigil(arg):
    for c in [arg, os.environ.get("VIGIL"), os.path.join(ROOT, "build-c", "vigil"),
              os.path.join(ROOT, "build", "vigil")]:
        if c and os.access(c, os.X_OK):
            return c
    sys.exit("sigma_eval: no vigil binary (build it, or give --vigil)")


def rule_map(vigil, rules):
    """native id -> Sigma id, Sigma id -> (title, author, path), and the skipped rules."""
    out = subprocess.run([vigil, "rules", "import-sigma", rules], check=True,
                         capture_output=True, text=True).stdout
    native, paranoia = {}, {}
    for m in re.finditer(r'- \{id: (\d+), message: .*paranoia: (\d),\n\s+group: "([^"]+)"', out):
        native[int(m.group(1))] = m.group(3)
        paranoia[m.group(3)] = int(m.group(2))
    skipped = [line[len("# skipped: "):] for line in out.splitlines()
               if line.startswith("# skipped: ")]
    return native, paranoia, skipped


def scan(vigil, rules, log, fmt, events, threads=2, paranoia=4):
    cmd = [vigil, "scan", "--no-builtin-rules", "--sigma", rules, "--threshold", "1",
           "--paranoia", str(paranoia),
           "--no-behave", "--no-store", "--no-geo", "--no-asn", "--quiet", "--progress", "never",
           "--threads", str(threads), "--events", events, "--format", fmt, log]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("sigma_eval: %s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr))


def read_events(path, native):
    """line number -> (set of Sigma ids that fired, list of hits)."""
    fired = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            n = ev["log"]["line"]
            hits = ev.get("vigil", {}).get("hits", [])
            ids = {native.get(int(h["rule"]), "native:%s" % h["rule"]) for h in hits}
            fired.setdefault(n, (set(), []))
            fired[n][0].update(ids)
            fired[n][1].extend(hits)
    return fired


def json_line(rec):
    d = {"time_iso8601": "2026-08-05T10:00:00+00:00", "remote_addr": "203.0.113.7",
         "request_method": rec["method"], "request_uri": rec["uri"],
         "server_protocol": "HTTP/1.1", "status": rec["status"], "body_bytes_sent": 1234}
    if rec.get("user_agent") is not None:
        d["http_user_agent"] = rec["user_agent"]
    if rec.get("referer") is not None:
        d["http_referer"] = rec["referer"]
    if rec.get("host") is not None:
        d["host"] = rec["host"]
    if rec.get("user") is not None:
        d["remote_user"] = rec["user"]
    return json.dumps(d, ensure_ascii=False)


def positives(vigil, rules, testdata, native, skipped, tmp):
    recs = [json.loads(l) for l in open(os.path.join(testdata, "positives.jsonl"),
                                        encoding="utf-8")]
    skipped_by_path = {}
    for s in skipped:
        path = s.split(" (")[0].split(": ")[0]
        skipped_by_path[os.path.realpath(path)] = s
    result = {"records": len(recs), "formats": {}}
    for fmt in ("json", "combined"):
        log = os.path.join(tmp, "positives.%s.log" % fmt)
        with open(log, "w", encoding="utf-8") as f:
            for r in recs:
                f.write((json_line(r) if fmt == "json" else r["log_line"]) + "\n")
        ev = os.path.join(tmp, "positives.%s.events" % fmt)
        scan(vigil, rules, log, fmt, ev, threads=1)
        fired = read_events(ev, native)
        missed, extra, authors_missing = [], [], 0
        for i, r in enumerate(recs, 1):
            ids, hits = fired.get(i, (set(), []))
            for h in hits:
                if not h.get("author"):
                    authors_missing += 1
            if r["rule_id"] not in ids:
                path = os.path.realpath(os.path.join(testdata, r["rule_path"]))
                if path in skipped_by_path:
                    why = "not translated: " + skipped_by_path[path].split("): ", 1)[-1]
                elif not r["matches"].get("full_uri", True):
                    why = ("README: positive built for the query-only reading of cs-uri-query "
                           "(full_uri: false)")
                else:
                    why = "unexpected"
                missed.append({"rule_id": r["rule_id"], "title": r["title"], "why": why,
                               "request": "%s %s" % (r["method"], r["uri"])})
            expected = set(r["expected_rule_ids"]) | set(r["expected_rule_ids_full_uri"])
            for x in sorted(ids - expected):
                extra.append({"line": i, "positive_of": r["rule_id"], "also_fired": x})
        result["formats"][fmt] = {"fired_own": len(recs) - len(missed), "missed": missed,
                                  "extra": extra, "hits_without_author": authors_missing}
    return result


def benign(vigil, rules, shared, native, tmp, log="access.log.gz", fmt="combined"):
    corpus = os.path.join(shared, "corpus", "dev")
    kinds = {}
    with gzip.open(os.path.join(corpus, "labels.tsv.gz"), "rt", encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            kinds[int(cols[0])] = cols[4]
    n_benign = sum(1 for k in kinds.values() if k == "benign")
    n_attack = len(kinds) - n_benign
    per_rule = collections.defaultdict(lambda: {"benign": 0, "attack": 0, "benign_pl1": 0,
                                                "benign_lines": []})
    flagged = {"benign": 0, "attack": 0, "benign_pl1": 0, "attack_pl1": 0}
    # paranoia 1 (the default: what a scan flags) and 4 (every translated rule)
    for pl in (1, 4):
        ev = os.path.join(tmp, "dev.%s.%d.events" % (fmt, pl))
        scan(vigil, rules, os.path.join(corpus, log), fmt, ev, paranoia=pl)
        fired = read_events(ev, native)
        for n, (ids, _) in fired.items():
            k = kinds.get(n, "benign")
            flagged[k + ("_pl1" if pl == 1 else "")] += 1
            for x in ids:
                if pl == 1:
                    if k == "benign":
                        per_rule[x]["benign_pl1"] += 1
                    continue
                per_rule[x][k] += 1
                if k == "benign" and len(per_rule[x]["benign_lines"]) < 5:
                    per_rule[x]["benign_lines"].append(n)
    limit = n_benign / 10000.0
    return {"log": log, "requests": len(kinds), "benign": n_benign, "attack": n_attack,
            "flagged_requests": flagged, "limit_per_rule": limit,
            "per_rule": dict(per_rule),
            "over_limit": sorted(x for x, v in per_rule.items() if v["benign_pl1"] > limit),
            "over_limit_pl4": sorted(x for x, v in per_rule.items() if v["benign"] > limit)}


def report_benign(ben, titles, paranoia, n_sigma):
    """Prints the benign-noise table of one dev log; False when a rule is over the bar."""
    fr = ben["flagged_requests"]
    print("\n2. dev corpus %s: %d requests (%d benign, %d attack); flagged by the Sigma rules at "
          "paranoia 1 (default): %d benign, %d attack; at paranoia 4 (all): %d benign, %d attack"
          % (ben["log"], ben["requests"], ben["benign"], ben["attack"], fr["benign_pl1"],
             fr["attack_pl1"], fr["benign"], fr["attack"]))
    print("  bar: at most %.1f benign requests per rule (1 in 10,000) at the default paranoia"
          % ben["limit_per_rule"])
    rows = sorted(ben["per_rule"].items(), key=lambda kv: (-kv[1]["benign_pl1"],
                                                           -kv[1]["benign"], -kv[1]["attack"]))
    print("  %-38s %2s %10s %10s %10s  %s" % ("sigma rule", "pl", "benign@pl1", "benign@all",
                                             "attack@all", "title"))
    for x, v in rows:
        print("  %-38s %2s %10d %10d %10d  %s%s"
              % (x, paranoia.get(x, "?"), v["benign_pl1"], v["benign"], v["attack"],
                 titles.get(x, "?"),
                 "   <-- over the bar (benign lines %s)" % v["benign_lines"]
                 if x in ben["over_limit"] else
                 "   (paranoia 2: benign lines %s)" % v["benign_lines"]
                 if x in ben["over_limit_pl4"] else ""))
    print("  rules with no hit at all: %d of %d" % (n_sigma - len(ben["per_rule"]), n_sigma))
    return not ben["over_limit"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vigil")
    ap.add_argument("--shared", default=os.environ.get("VG_SHARED_DIR",
                                                       os.path.join(ROOT, "..", "shared")))
    ap.add_argument("--json", help="write the full result as JSON here")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a bar is not met")
    a = ap.parse_args()
    vigil = find_vigil(a.vigil)
    testdata = os.path.join(a.shared, "testdata", "sigma-webserver")
    rules = os.path.join(testdata, "rules")
    native, paranoia, skipped = rule_map(vigil, rules)
    titles = {}
    for l in open(os.path.join(testdata, "positives.jsonl"), encoding="utf-8"):
        r = json.loads(l)
        titles[r["rule_id"]] = r["title"]
    n_sigma = len(set(native.values()))
    print("translation: %d Sigma rules -> %d native rules; %d skipped"
          % (n_sigma, len(native), len(skipped)))
    for s in skipped:
        print("  skipped: %s" % s)

    with tempfile.TemporaryDirectory(prefix="sigma_eval.") as tmp:
        pos = positives(vigil, rules, testdata, native, skipped, tmp)
        ok = True
        print("\n1. positives (%d records, one per rule that has one)" % pos["records"])
        for fmt, r in pos["formats"].items():
            print("  --format %-8s fired on own positive: %d/%d; missed %d; unexpected extra "
                  "hits %d; hits without author %d"
                  % (fmt, r["fired_own"], pos["records"], len(r["missed"]), len(r["extra"]),
                     r["hits_without_author"]))
            for m in r["missed"]:
                print("    missed %s (%s) on `%s`: %s" % (m["rule_id"], m["title"], m["request"],
                                                          m["why"]))
                if m["why"] == "unexpected":
                    ok = False
            for x in r["extra"]:
                print("    extra: line %d (positive of %s) also fired %s (%s)"
                      % (x["line"], x["positive_of"], x["also_fired"],
                         titles.get(x["also_fired"], "?")))

        devs = []
        for log, fmt in (("access.log.gz", "combined"), ("access.jsonl.gz", "json")):
            ben = benign(vigil, rules, a.shared, native, tmp, log, fmt)
            devs.append(ben)
            ok = report_benign(ben, titles, paranoia, n_sigma) and ok
        print("\nresult: %s" % ("PASS" if ok else "FAIL"))
        if a.json:
            with open(a.json, "w", encoding="utf-8") as f:
                json.dump({"native_rules": len(native), "sigma_rules": n_sigma,
                           "skipped": skipped, "positives": pos, "dev": devs}, f, indent=1)
    return 1 if a.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
