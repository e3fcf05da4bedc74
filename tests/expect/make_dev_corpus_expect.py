#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""make_dev_corpus_expect.py: writes tests/expect/dev_corpus.json, what `vigil report` must say
about the dev corpus, derived from the corpus's own description (manifest.tsv, countries.tsv),
never from vigil's output.

    python3 tests/expect/make_dev_corpus_expect.py [CORPUS_DIR] > tests/expect/dev_corpus.json

For every client address of manifest.tsv: its actor and kind, and its country in the CC0 database
the setup installs (countries.tsv, the column named after @ip-location-db/geo-whois-asn-country,
see the corpus README). For every attacking actor, the classes its tool run must be given, read
from the command line it ran (tool_and_args):
  dirb                         forced browsing (scan) and the tool
  sqlmap                       SQL injection and the tool
  wfuzz with a wordlist        the tool, and the class of the wordlist when its payloads travel
                               in the URL (a combined log does not record POST bodies):
                               SQL.txt sqli, XSS.txt xss, Traversal.txt traversal,
                               All_attack.txt any injection class ("injection")
and one incident each (each actor is one run of one command).
"""
import csv
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus", "dev"))

WORDLIST_CLASS = {"SQL.txt": "sqli", "XSS.txt": "xss", "Traversal.txt": "traversal",
                  "All_attack.txt": "injection"}


def classes_of(cmd):
    tool = cmd.split()[0]
    if tool == "dirb":
        return ["scan", "tool"]
    if tool == "sqlmap":
        return ["sqli", "tool"]
    if tool == "wfuzz":
        out = ["tool"]
        lists = re.findall(r"-z file,\S*/([^/\s]+)", cmd)
        in_body = " -d " in cmd
        # with -m zip the payload is two lists combined: no single class is implied
        if len(lists) == 1 and not in_body and lists[0] in WORDLIST_CLASS:
            out.append(WORDLIST_CLASS[lists[0]])
        return out
    raise SystemExit("unknown tool in manifest: %r" % cmd[:60])


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    with open(os.path.join(corpus, "countries.tsv"), newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    head = rows[0]
    col = [i for i, h in enumerate(head) if h.startswith("country_geo_whois_asn")]
    if len(col) != 1:
        raise SystemExit("countries.tsv: no single country_geo_whois_asn column")
    cc = {r[0]: r[col[0]] for r in rows[1:]}
    sources = []
    with open(os.path.join(corpus, "manifest.tsv"), newline="") as f:
        rd = csv.DictReader(f, delimiter="\t")
        for r in rd:
            s = {"ip": r["ip"], "actor": r["actor"], "kind": r["kind"],
                 "country": cc[r["ip"]], "requests": int(r["requests"])}
            if r["kind"] == "attack":
                s["classes"] = classes_of(r["tool_and_args"])
                s["incidents"] = 1
            sources.append(s)
    out = {
        "derived_from": ["manifest.tsv", "countries.tsv (%s)" % head[col[0]]],
        "sources": sorted(sources, key=lambda s: (s["kind"], s["actor"], s["ip"])),
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
