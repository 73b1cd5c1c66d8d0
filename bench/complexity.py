"""What one hostile or huge page costs: time and peak memory of extraction and diff, each case in a fresh process.

    .venv/bin/python bench/complexity.py            # every case (about two minutes on 2 cores)
    .venv/bin/python bench/complexity.py --case paragraphs-at-budget --rev HEAD~3

The cases are the shapes of issue 14 (findings 1 and 4): pages over the element and depth budgets (refused as
too_complex, before any tree is built), pages just within them on the lxml and the BeautifulSoup paths (the most a
page can cost), every row of a 100,000-row page changed, and one 20 MB sentence. Nothing is fetched: the page is
built in memory and handed to extract and diff as a check would. `--rev` runs monitor/ as of a git revision (a
checkout in bench/.work), to compare before and after on the same machine; a revision from before the budgets reads
the over-budget pages whole, which takes gigabytes (name the cases you want with --case).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"

CASES = {
    # name: (shape, size, select): the pages are built by page() below
    "paragraphs-over-budget": ("paragraphs", 2_000_000, None),
    "paragraphs-over-budget-bs4": ("paragraphs", 2_000_000, "main"),
    "nested-over-budget": ("nested", 1_000_000, None),
    "paragraphs-at-budget": ("paragraphs", 199_990, None),
    "paragraphs-at-budget-bs4": ("paragraphs", 199_990, "main"),
    "nested-at-budget-bs4": ("nested", 505, "main"),
    "rows-100k-changed": ("rows", 100_000, None),
    "sentence-20mb-changed": ("sentence", 20 << 20, None),
}


def page(shape: str, n: int, version: int) -> bytes:
    if shape == "paragraphs":
        return b"<html><body><main>" + b"<p>x" * n + b"</main></body></html>"
    if shape == "nested":
        return b"<html><body><main>" + b"<div>x" * n + b"</main></body></html>"
    if shape == "rows":
        action = ("Referred to committee", "Passed committee")[version]
        rows = "".join(f"<tr><td>HB {i}</td><td>Fishing licenses</td><td>{action} {i}</td></tr>" for i in range(n))
        return f"<html><body><main><table>{rows}</table></main></body></html>".encode()
    clause = "the sale or possession of kratom or mitragynine is regulated under this chapter and "
    half = clause * (n // 2 // len(clause))
    middle = ("as amended", "and prohibited")[version]
    return f"<html><body><main><pre>{half}{middle} {half}</pre></main></body></html>".encode()


def measure(case: str) -> dict:
    """In this process: extract the case's page (and, for a change, its second version and the diff)."""
    from monitor.config import Source
    from monitor.diff import diff_blocks
    from monitor.extract.html import extract_html

    shape, n, select = CASES[case]
    source = Source(id="s", url="http://127.0.0.1/s", jurisdiction="US-FL", select=select)
    try:
        from monitor.extract.budget import Budget
    except ImportError:  # a revision from before the budgets: it reads every page whole
        options = {}
    else:
        options = {"budget": Budget(elements=500_000) if shape == "rows" else Budget()}  # 100,000 rows: 400,000
    started = time.process_time()
    first = extract_html(source, page(shape, n, 0), "utf-8", **options)
    extract_s = time.process_time() - started
    out = {"case": case, "extract_cpu_s": round(extract_s, 2), "blocks": len(first.blocks), "problem": first.problem}
    if case.endswith("-changed"):
        second = extract_html(source, page(shape, n, 1), "utf-8", **options)
        started = time.process_time()
        diff = diff_blocks(first.blocks, second.blocks)
        out.update(diff_cpu_s=round(time.process_time() - started, 2), added=len(diff.added),
                   removed=len(diff.removed), modified=len(diff.modified))
    out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def checkout(rev: str) -> Path:
    """monitor/ as of `rev`, in bench/.work/rev-<rev> (bench/run.py --rev does the same for whole passes)."""
    target = WORK / f"rev-{rev.replace('/', '_')}"
    if not target.exists():
        target.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "monitor"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", choices=sorted(CASES), action="append", help="one case (repeatable; default all)")
    p.add_argument("--rev", help="measure monitor/ as of this git revision")
    p.add_argument("--one", help=argparse.SUPPRESS)  # the child process: measure this case and print it as JSON
    args = p.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return 0
    path = str(checkout(args.rev)) if args.rev else str(ROOT)
    env = {**os.environ, "PYTHONPATH": path}
    print(f"{'case':30} {'extract s':>9} {'diff s':>7} {'peak MB':>8}  result")
    for case in args.case or CASES:
        done = subprocess.run([sys.executable, __file__, "--one", case], env=env, capture_output=True, text=True,
                              timeout=3600, cwd=path)
        if done.returncode:
            print(f"{case:30} failed: {(done.stderr.strip().splitlines() or [done.returncode])[-1]}")
            continue
        r = json.loads(done.stdout)
        result = r["problem"] or f"{r['blocks']:,} blocks" + (
            f", +{r['added']:,} -{r['removed']:,} ~{r['modified']:,}" if "added" in r else "")
        print(f"{case:30} {r['extract_cpu_s']:>9} {r.get('diff_cpu_s', ''):>7} {r['peak_mb']:>8}  {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
