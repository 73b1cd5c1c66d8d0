"""Time detection on a ~2 MB bill page where 1,200 history rows are new (issue: "well under a second").

    python bench/detect_2mb.py

Prints the time of each stage separately: extraction (the parser), diff, and detection (relevance, events,
grouping, summaries), which is the part the target is about.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from monitor.config import Source
from monitor.detect import detect
from monitor.diff import diff_blocks
from monitor.extract.html import extract_html


def page(rows: int, new_rows: int = 0) -> bytes:
    trs = [f"<tr><td>{i % 12 + 1:02d}/{i % 28 + 1:02d}/2026</td><td>Senate</td><td>Referred to Committee {i} "
           f"on kratom matters; Health Policy review number {i * 7}</td></tr>" for i in range(rows)]
    trs += [f"<tr><td>03/{i % 28 + 1:02d}/2026</td><td>House</td><td>Passed; YEAS {i} NAYS 1</td></tr>"
            for i in range(new_rows)]
    return (f"<html><head><title>SB 1180 Kratom</title></head><body><main><h1>SB 1180: Kratom Products</h1>"
            f"<table>{''.join(trs)}</table></main></body></html>").encode()


def main() -> None:
    source = Source(id="fl", url="http://x", jurisdiction="US-FL", name="Florida SB 1180 (Kratom Products)")
    before, after = page(12000), page(12000, 1200)
    started = time.perf_counter()
    old, new = extract_html(source, before), extract_html(source, after)
    extracted = time.perf_counter()
    diff = diff_blocks(old.blocks, new.blocks)
    diffed = time.perf_counter()
    findings = detect(source, diff, datetime.now(timezone.utc), new)
    detected = time.perf_counter()
    print(f"page {len(after) / 1e6:.1f} MB, {len(new.blocks)} blocks, {len(diff.added)} added")
    print(f"extract (both versions) {extracted - started:.2f}s  diff {diffed - extracted:.3f}s  "
          f"detect {detected - diffed:.3f}s  -> {len(findings)} finding(s): {findings[0].event if findings else '-'}")


if __name__ == "__main__":
    main()
