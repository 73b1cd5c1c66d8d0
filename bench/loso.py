"""Leave-one-site-out score of detection on the labelled corpus (tests/corpus/).

Each site's cases are scored twice: with every idiom table, and with the site's own jurisdiction's table hidden
(monitor.detect.idioms.excluding), i.e. with rules built from the other sites only. The second number is what a
site nobody wrote vocabulary for can expect; the gap is how much the site leans on its own table.

    python bench/loso.py                 # the table, as the README shows it
    python bench/loso.py --json out.json # also every case's result
    python bench/loso.py --markdown docs/loso.md   # the page the docs link

A case scores 1 when its label holds: a labelled alert raised with an acceptable event (and severity, measure), or
a quiet case that stayed quiet.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import LoopbackServer  # noqa: E402
from test_corpus import CASES, load_case, run_case, verdict  # noqa: E402

from monitor.detect.idioms import excluding  # noqa: E402


def site_of(case_dir: Path) -> tuple[str, str]:
    """(site id, jurisdiction) of a case: its site directory's site.yaml."""
    site = case_dir.parent
    import yaml

    info = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8")) if (site / "site.yaml").exists() else {}
    jurisdiction = info.get("jurisdiction") or load_case(case_dir)["source"]["jurisdiction"]
    return (site.name if info else str(jurisdiction).lower()), str(jurisdiction).upper()


def score(cases: list[Path]) -> list[dict]:
    server = LoopbackServer()
    out = []
    try:
        for case_dir in cases:
            site, jurisdiction = site_of(case_dir)
            expect = load_case(case_dir)["expect"]
            row = {"site": site, "case": case_dir.name, "jurisdiction": jurisdiction, "alert": expect["alert"]}
            for mode, hidden in (("all", set()), ("loso", {"-".join(jurisdiction.split("-")[:2])})):
                with excluding(hidden), tempfile.TemporaryDirectory() as tmp:
                    problem = verdict(expect, run_case(case_dir, server, Path(tmp)))
                row[mode] = problem is None
                row[f"{mode}_problem"] = problem
            out.append(row)
    finally:
        server.close()
    return out


def table(rows: list[dict]) -> str:
    by_site: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_site[r["site"]].append(r)
    lines = ["| site | jurisdiction | cases | all rules | leave-one-site-out |", "|---|---|---:|---:|---:|"]
    for site in sorted(by_site):
        rs = by_site[site]
        lines.append(f"| {site} | {rs[0]['jurisdiction']} | {len(rs)} | {sum(r['all'] for r in rs)}/{len(rs)} | "
                     f"{sum(r['loso'] for r in rs)}/{len(rs)} |")
    n = len(rows)
    alerts = [r for r in rows if r["alert"]]
    quiet = [r for r in rows if not r["alert"]]
    for mode, label in (("all", "all rules"), ("loso", "leave-one-site-out")):
        lines.append(f"\n{label}: {sum(r[mode] for r in rows)}/{n} cases; alerts right "
                     f"{sum(r[mode] for r in alerts)}/{len(alerts)}, quiet kept {sum(r[mode] for r in quiet)}/{len(quiet)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write every case's result to this file")
    parser.add_argument("--markdown", help="write the table as a page (docs/loso.md)")
    parser.add_argument("cases", nargs="*", help="case directories (default: the whole corpus)")
    args = parser.parse_args(argv)
    rows = score([Path(c) for c in args.cases] or CASES)
    print(table(rows))
    for r in rows:
        if not r["loso"]:
            print(f"  loso miss: {r['site']}/{r['case']}: {r['loso_problem']}", file=sys.stderr)
    if args.markdown:
        import subprocess
        from datetime import date
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
        Path(args.markdown).write_text(
            "# Leave-one-site-out score\n\nWritten by `python bench/loso.py --markdown docs/loso.md` (see "
            "[detection.md](detection.md#generalisation-the-leave-one-site-out-score)): each site's corpus cases "
            "scored with every idiom table (\"all rules\") and with the site's own jurisdiction's table hidden "
            f"(\"leave-one-site-out\"). A case scores when its label holds. Last run: {rev.strip()}, "
            f"{date.today().isoformat()}.\n\n{table(rows)}\n", encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
