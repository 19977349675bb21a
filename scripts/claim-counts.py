#!/usr/bin/env python3
"""Counts the design claims of each fixture submission by status (confirmed, unconfirmed,
contradicted, missing), per evidence check, from the JSON report's `claims` (static grade
under the submission's own checkpoint).

Usage: python3 scripts/claim-counts.py [--grade target/release/grade]
"""
import argparse
import collections
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grade", default=os.path.join(ROOT, "target/release/grade"))
    args = ap.parse_args()
    subs = os.path.join(ROOT, "fixtures/submissions")
    print(f"{'submission':22} {'check':8} confirmed unconfirmed contradicted missing  credited")
    for name in sorted(os.listdir(subs)):
        path = os.path.join(subs, name)
        if not os.path.isdir(path):
            continue
        checkpoint = name.split("-")[0]
        out = subprocess.run(
            [args.grade, checkpoint, path, "--static-only", "--format", "json"],
            capture_output=True, text=True, cwd=ROOT,
        )
        try:
            report = json.loads(out.stdout)
        except json.JSONDecodeError:
            print(f"{name}: no JSON report (exit {out.returncode}): {out.stderr[:200]}", file=sys.stderr)
            continue
        for item in report["items"]:
            claims = item.get("claims") or []
            if not claims:
                continue
            c = collections.Counter(x["status"] for x in claims)
            credited = sum(1 for x in claims if x["credited"])
            print(f"{name:22} {item['check']:8} {c['confirmed']:9} {c['unconfirmed']:11} "
                  f"{c['contradicted']:12} {c['missing']:7} {credited:3}/{len(claims)}")


if __name__ == "__main__":
    main()
