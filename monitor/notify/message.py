"""A change -> a Slack message (Block Kit plus a plain-text fallback), escaped and within Slack's limits.

Everything scraped from a page is untrusted: it is escaped for mrkdwn (&, <, >) so "<!channel>" or
"<https://evil.example|official text>" arrives as visible text, never as a mention or a link.
"""
from __future__ import annotations

from ..jurisdictions import jurisdiction_name
from ..store import ChangeRecord

MAX_BLOCKS = 50
SECTION_CHARS = 3000
HEADER_CHARS = 150
FIELD_CHARS = 2000
FALLBACK_CHARS = 3500
EVIDENCE_CHARS = 2400  # per side (added / removed), leaves room for the rest under Slack's ~12k block total
LINE_CHARS = 400
SEVERITY_EMOJI = {"critical": ":rotating_light:", "high": ":large_orange_circle:", "medium": ":large_yellow_circle:",
                  "low": ":white_circle:", "info": ":information_source:"}


def escape(text: str) -> str:
    """mrkdwn escaping: & first, then < and >. Nothing else, as Slack documents."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def header_text(change: ChangeRecord) -> str:
    if change.kind == "operational":
        return trim(f"OPERATIONS · {change.source_name or change.source}", HEADER_CHARS)
    return trim(f"{change.event.upper()} · {jurisdiction_name(change.jurisdiction)}", HEADER_CHARS)


def _evidence(lines: list[str], sign: str, budget: int) -> tuple[str, int]:
    """Quote lines until the budget is spent; returns the text and how many lines were left out."""
    out, used = [], 0
    for n, line in enumerate(lines):
        piece = f"{sign} {escape(trim(' '.join(line.split()), LINE_CHARS))}"
        if used + len(piece) + 1 > budget:
            return "\n".join(out), len(lines) - n
        out.append(piece)
        used += len(piece) + 1
    return "\n".join(out), 0


def build_message(change: ChangeRecord) -> tuple[str, list[dict]]:
    """(fallback text, blocks). Header and fields use plain_text where Slack allows, mrkdwn escaped elsewhere."""
    emoji = SEVERITY_EMOJI.get(change.severity, "")
    summary = escape(trim(change.summary, 1200))
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": header_text(change), "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": trim(f"{emoji} *{change.severity.upper()}* · {summary}",
                                                                     SECTION_CHARS)}},
    ]
    fields = [("Jurisdiction", f"{jurisdiction_name(change.jurisdiction)} ({change.jurisdiction})"),
              ("Measure", change.measure or "—"), ("Source", change.source_name or change.source),
              ("Detected", change.detected_at)]
    if change.kind == "legal" and change.direction != "neutral":
        fields.append(("Direction", change.direction))
    blocks.append({"type": "section", "fields": [
        {"type": "mrkdwn", "text": trim(f"*{label}*\n{escape(value)}", FIELD_CHARS)} for label, value in fields]})
    omitted = 0
    for lines, sign, title in ((change.added, "+", "Added"), (change.removed, "−", "Removed")):
        if not lines:
            continue
        text, left = _evidence(lines, sign, EVIDENCE_CHARS)
        omitted += left
        if text:
            blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                        "text": trim(f"*{title}*\n```{text}```", SECTION_CHARS)}})
    context = f"Change `{escape(change.id)}` · `monitor show {escape(change.id)}` has it all"
    if omitted:
        context = f"{omitted} more line(s) not shown · " + context
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": trim(context, SECTION_CHARS)}]})
    if change.url.startswith(("http://", "https://")):
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open source"}, "url": change.url[:3000],
            "action_id": "open_source"}]})
    fallback = trim(f"{header_text(change)}: {escape(change.summary)} ({escape(change.url)})", FALLBACK_CHARS)
    return fallback, blocks[:MAX_BLOCKS]
