"""What `check`'s summary, `status`, `history` and `show` print, for people (tables) and scripts (JSON, CSV).

Rendering only: the commands (cli.py) read the store and hand the rows here. Every outcome is named in the words
of monitor/outcomes.py, so the four commands agree about what happened to a source.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence, TextIO

from .config import Source
from .jurisdictions import jurisdiction_name
from .notify.console import format_change, printable, printable_tree
from .outcomes import FAILED, WORDS, change_words, stored_code, words
from .store import ChangeRecord
from .terminal import print_table

if TYPE_CHECKING:  # the pipeline is the commands' to import; this module only reads its outcomes
    from .pipeline import Outcome

CSV_FIELDS = ("id", "detected_at", "source", "source_name", "jurisdiction", "kind", "outcome", "event", "severity",
              "alert", "direction", "measure", "summary", "url", "added", "removed")


# -- check ----------------------------------------------------------------------------------------------------
def print_check(outcomes: Sequence[Outcome], notifier_name: str, dry_run: bool, out: TextIO) -> None:
    """The changes not already shown as alerts, then one line per outcome and the change counts."""
    changes = [c for o in outcomes for c in o.changes]
    quiet = [c for c in changes if not c.alert or dry_run or notifier_name != "console"]
    for change in quiet:
        flag = "" if not change.alert else (" (would alert)" if dry_run else f" (sent to {notifier_name})")
        print(format_change(change) + flag + "\n", file=out)
    codes = Counter(o.code for o in outcomes)
    legal = sum(c.kind == "legal" for c in changes)
    labels = [(WORDS[code], codes[code]) for code in WORDS if codes[code]]
    width = max(len(label) for label in ["sources", "changes", "slowest", *(label for label, _ in labels)])
    print(f"{'sources':>{width}} {len(outcomes)}", file=out)
    for label, n in labels:
        print(f"{label:>{width}} {n}", file=out)
    print(f"{'changes':>{width}} {legal} legal, {len(changes) - legal} operational"
          + (" (dry run: nothing stored or sent)" if dry_run else ""), file=out)
    slow = sorted(outcomes, key=lambda o: -o.duration)[:3]
    if slow and slow[0].duration > 5:
        print(f"{'slowest':>{width}} " + ", ".join(f"{o.source.id} {o.duration:.1f}s" for o in slow), file=out)


# -- status ---------------------------------------------------------------------------------------------------
def source_status(configured: Mapping[str, Source] | None,
                  rows: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One record per source, configured ones first (in file order), then those only the state remembers: the
    objects of `status --json`, and what the table shows. `configured` is None when sources.yaml does not validate:
    then no source is known to be removed or disabled."""
    out = []
    for sid in [*(configured or ()), *(i for i in rows if i not in (configured or ()))]:
        r = rows.get(sid, {})
        source = configured.get(sid) if configured is not None else None
        failures = int(r.get("consecutive_failures") or 0)
        health = ("disabled" if source and not source.enabled else "removed" if configured is not None and not source
                  else "never_checked" if not r.get("last_checked") else "failing" if failures else "ok")
        code = stored_code(r)
        out.append({
            "id": sid, "name": source.name if source else r.get("name") or "",
            "jurisdiction": source.jurisdiction if source else r.get("jurisdiction") or "",
            "kind": source.kind if source else r.get("kind") or "", "url": source.url if source else r.get("url"),
            "enabled": source.enabled if source else None, "health": health, "consecutive_failures": failures,
            "outcome": code, "outcome_text": words(code) if code else None,
            "error_class": r.get("last_error_class"), "error": r.get("last_error"),
            "http_status": r.get("http_status") if code == FAILED else None,  # a good check leaves it as it was
            "last_checked": r.get("last_checked"), "last_ok": r.get("last_ok"),
            "last_change_at": r.get("last_change_at"), "next_run": r.get("next_run")})
    return out


def status_json(sources: list[dict], jurisdictions: list[dict], outbox: dict[str, int], undelivered: list[dict],
                out: TextIO) -> None:
    doc = {
        "sources": sources,
        "jurisdictions": [{"jurisdiction": j["jurisdiction"], "name": jurisdiction_name(j["jurisdiction"]),
                           "event": j["event"], "severity": j["severity"], "detected_at": j["detected_at"],
                           "summary": j["summary"], "change_id": j["id"]} for j in jurisdictions],
        "outbox": outbox,
        "undelivered": [{k: d[k] for k in ("change_id", "channel", "status", "attempts", "next_attempt_at",
                                           "last_error")} for d in undelivered],
    }
    print(json.dumps(doc, ensure_ascii=False, indent=2), file=out)


def print_status(sources: list[dict], jurisdictions: list[dict], outbox: dict[str, int], undelivered: list[dict],
                 out: TextIO) -> None:
    table = [("SOURCE", "HEALTH", "LAST CHECK", "LAST OUTCOME", "LAST CHANGE", "NEXT RUN")]
    for s in sources:
        health = f"failing x{s['consecutive_failures']}" if s["health"] == "failing" else s["health"].replace("_", " ")
        outcome = words(s["outcome"])
        if s["outcome"] == "failed" and s["error_class"]:
            outcome = f"{outcome} ({s['error_class']})"
        table.append((s["id"], health, s["last_checked"] or "-", outcome, s["last_change_at"] or "-",
                      s["next_run"] or "-"))
    print_table(table, out)
    if jurisdictions:
        print("\nLatest legal event per jurisdiction:", file=out)
        print_table([("JURISDICTION", "EVENT", "SEVERITY", "DETECTED", "SUMMARY")] + [
            (f"{j['jurisdiction']} {jurisdiction_name(j['jurisdiction'])}", j["event"], j["severity"],
             j["detected_at"], (j["summary"] or "")[:90]) for j in jurisdictions], out)
    if outbox:
        print("\nAlert outbox: " + ", ".join(f"{n} {status}" for status, n in sorted(outbox.items())), file=out)
    if undelivered:
        print_table([("CHANGE", "CHANNEL", "STATUS", "ATTEMPTS", "NEXT TRY", "LAST ERROR")] + [
            (d["change_id"], d["channel"] or "default", d["status"], d["attempts"],
             d["next_attempt_at"] if d["status"] != "held" else "after a fix", (d["last_error"] or "-")[:160])
            for d in undelivered], out)


# -- history --------------------------------------------------------------------------------------------------
def print_history(changes: Sequence[ChangeRecord], out: TextIO) -> None:
    print_table([("ID", "DETECTED", "SOURCE", "OUTCOME", "EVENT", "SEVERITY", "ALERT", "SUMMARY")] + [
        (c.id, c.detected_at, c.source, change_words(c.kind, c.event), c.event, c.severity, "yes" if c.alert else "no",
         c.summary[:80]) for c in changes], out)


def changes_json(changes: Iterable[ChangeRecord], out: TextIO) -> None:
    for c in changes:
        print(json.dumps(c.as_json(), ensure_ascii=False), file=out)


def history_csv(changes: Iterable[ChangeRecord], out: TextIO) -> None:
    """RFC 4180 CSV with a header row; the added and removed texts one per line within their cell."""
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for c in changes:
        row = {**c.as_json(), "outcome": change_words(c.kind, c.event), "alert": "true" if c.alert else "false",
               "measure": c.measure or "", "added": "\n".join(c.added), "removed": "\n".join(c.removed)}
        writer.writerow([row[f] for f in CSV_FIELDS])


# -- show -----------------------------------------------------------------------------------------------------
def print_change(change: ChangeRecord, deliveries: list[dict], out: TextIO) -> None:
    change, deliveries = printable(change), printable_tree(deliveries)  # page text: nothing a terminal acts on

    def say(text: str = "") -> None:
        print(text, file=out)

    say(f"Change {change.id}  ({change_words(change.kind, change.event)}, "
        f"{'alerted' if change.alert else 'not alerted'})")
    say(f"Source:       {change.source_name} [{change.source}]")
    say(f"URL:          {change.url}")
    say(f"Jurisdiction: {change.jurisdiction} ({jurisdiction_name(change.jurisdiction)})")
    say(f"Detected:     {change.detected_at}")
    say(f"Kind:         {change.kind}")
    say(f"Event:        {change.event}   Severity: {change.severity}   Direction: {change.direction}")
    say(f"Measure:      {change.measure or '-'}")
    say(f"Summary:      {change.summary}")
    for title, lines, sign in (("Added", change.added, "+"), ("Removed", change.removed, "-")):
        if lines:
            say(f"\n{title} ({len(lines)}):")
            for line in lines:
                say(f"  {sign} {line}")
    _print_measure(change.explanation, say)
    blocks = change.explanation.get("blocks") or []
    if blocks:
        say("\nWhy it was judged a legal change:")
        for b in blocks:
            say(f"  - {b['change']} block: {b['why']}; event {b['event']!r} from {b['phrase']!r}")
            say(f"      \"{b['text'][:200]}\"")
    if deliveries:
        say("\nDelivery:")
        for d in deliveries:
            where = d["channel"] or "default channel"
            detail = f"ts {d['ts']}" if d["ts"] else (d["last_error"] or "")
            say(f"  {where}: {d['status']} after {d['attempts']} attempt(s) {detail}".rstrip())


def _print_measure(explanation: dict, say) -> None:
    """The judgement as a measure: what made it a kratom measure, the stage before and after, the actions that
    moved it (with votes), the confidence and why the severity is what it is."""
    measure = explanation.get("measure")
    if not measure:
        return
    say("\nThe measure:")
    say(f"  Measure:     {measure.get('id') or '-'} (a {measure.get('page') or 'page'} page)")
    say(f"  Identity:    {measure.get('identity') or '-'}")
    say(f"  Stage:       {measure.get('previous_stage') or 'unknown'} -> {measure.get('stage') or 'unknown'}")
    for action in measure.get("actions") or ():
        vote = f"; vote {action['vote']} ({'carried' if action['carried'] else 'lost'})" if action.get("vote") else ""
        who = f"{action['actor']}: " if action.get("actor") else ""
        say(f"  Action:      {who}{', '.join(action['classification']) or 'no classification'}{vote}")
        say(f"               \"{action['text'][:200]}\"")
    say(f"  Confidence:  {explanation.get('confidence') or '-'}")
    say(f"  Severity:    {explanation.get('severity_reason') or '-'}")


def print_candidates(prefix: str, candidates: Sequence[ChangeRecord], more: bool, out: TextIO) -> None:
    print(f"monitor: {prefix!r} is the start of {'more than ' if more else ''}{len(candidates)} change ids; "
          f"give more of the id:", file=out)
    print_table([(c.id, c.detected_at, c.source, change_words(c.kind, c.event), c.summary[:70])
                 for c in candidates], out)
