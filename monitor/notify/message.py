"""A change -> a Slack message (Block Kit plus a plain-text fallback), escaped and within Slack's limits.

Everything scraped from a page is untrusted: it is escaped for mrkdwn (&, <, >) so "<!channel>" or
"<https://evil.example|official text>" arrives as visible text, never as a mention or a link, and every mrkdwn
object is `verbatim` so Slack does not turn a bare scraped URL into a link either. The only link is the button to
the source's configured URL, which the caller passes in; the header and button label are plain_text built from our
own words and the operator's configuration (Slack never parses mentions or links in plain_text).

Slack has no escape for its formatting characters, so in page text they are replaced by look-alikes that Slack
does not format (`*` -> `∗`, `_` -> `ˍ`, `~` -> `∼`, a backtick -> `ˋ`): "*not* _law_" reads as the page's words
and not as bold and italics, and a scraped "```" cannot close the quote around the evidence. Control characters
and bidirectional controls (U+202E, U+2066, ...) are removed, so page text cannot reorder what a reader sees.

Sizes are bounded by construction whatever the change's size: a handful of blocks, each under its limit, about
9,000 characters of block text in all (Slack refuses ~12,000), a fallback of at most 3,000 characters. What does
not fit is counted and the message says how much was left out and that `monitor show ID` has it all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..jurisdictions import jurisdiction_name
from ..safetext import for_slack
from ..store import ChangeRecord

# Slack's limits (library-notes.md); the builder stays below each by construction and the tests check it.
MAX_BLOCKS = 50
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
BLOCKS_TEXT_CHARS = 12_000  # all block text together; Slack answers msg_blocks_too_long above about this
BUTTON_URL_CHARS = 3000
FALLBACK_CHARS = 3000  # one section's worth, so the fallback can also stand in for refused blocks
SUMMARY_CHARS = 1000
FIELD_VALUE_CHARS = 300
LINE_CHARS = 500  # one evidence line, after which it is cut
SEVERITY_EMOJI = {"critical": ":rotating_light:", "high": ":large_orange_circle:", "medium": ":large_yellow_circle:",
                  "low": ":white_circle:", "info": ":information_source:"}
SIGNS = {"added": "+", "removed": "−"}


@dataclass(frozen=True)
class SlackMessage:
    text: str  # the fallback: notifications, and clients that cannot show blocks
    blocks: list[dict]

    def text_only(self) -> list[dict]:
        """The fallback as one verbatim section: what is sent if Slack refuses the full blocks."""
        return [{"type": "section", "text": _mrkdwn(self.text)}]


@dataclass(frozen=True)
class Evidence:
    """Quoted lines that fit a budget, and how much of the change was left out."""

    text: str
    shown: int
    total: int
    hidden_chars: int


# Characters mrkdwn formats with, and look-alikes it does not (those jsx-slack's <Escape> falls back to).
LOOKALIKES = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})


def escape(text: str) -> str:
    """mrkdwn escaping: & first, then < and >. Nothing else, as Slack documents."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def neutral(text: str) -> str:
    """Page text as Slack should show it, before escaping: no control or bidi characters, and no character mrkdwn
    would take as formatting (each replaced by its look-alike)."""
    return for_slack(text).translate(LOOKALIKES)


def cut(text: str, limit: int) -> tuple[str, int]:
    """Escape `text` and cut it so the result (with "…" when cut) fits `limit`; never splits an entity.

    Returns the escaped text and how many characters of the raw text it kept.
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped, len(text)
    out, used = [], 0
    for ch in text:
        piece = escape(ch)
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + "…", len(out)


def fit(text: str, limit: int) -> str:
    """Page (or configured) text for mrkdwn: neutralised, escaped and cut to `limit`."""
    return cut(neutral(text), limit)[0]


def plain(text: str, limit: int) -> str:
    """For plain_text objects (Slack formats nothing in them): no control or bidi characters, cut to `limit`,
    never empty."""
    text = " ".join(for_slack(text).split()) or "-"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(lines: list[str], sign: str, budget: int) -> Evidence:
    """Lines in order, each neutralised, escaped and cut at LINE_CHARS, until `budget` characters are used.

    Backticks become "ˋ" (see `neutral`) so a scraped "```" cannot close the code block around the quote.
    """
    rows: list[str] = []
    used = kept_chars = total_chars = 0
    full = False
    for line in lines:
        raw = neutral(" ".join(str(line).split()))
        total_chars += len(raw)
        if full:
            continue
        text, kept = cut(raw, LINE_CHARS)
        row = f"{sign} {text}"
        if used + len(row) + 1 > budget:
            full = True  # the first line that does not fit ends the quote, so what is shown stays in order
            continue
        rows.append(row)
        used += len(row) + 1
        kept_chars += kept
    return Evidence("\n".join(rows), len(rows), len(lines), total_chars - kept_chars)


def evidence(change: ChangeRecord, budget: int) -> dict[str, Evidence]:
    """The added and the removed lines, each side quoted within `budget` characters."""
    return {side: quote(lines, SIGNS[side], budget) for side, lines in (("added", change.added),
                                                                          ("removed", change.removed))}


def trim_note(change: ChangeRecord, parts: list[Evidence]) -> str:
    """The footer: the change's id and, when something was left out, how much."""
    show = f"`monitor show {escape(change.id)}`"
    hidden_lines = sum(p.total - p.shown for p in parts)
    hidden_chars = sum(p.hidden_chars for p in parts)
    if not hidden_chars:
        return f"Change `{escape(change.id)}` · {show} for the full record"
    total = sum(p.total for p in parts)
    lines = f"{hidden_lines} of {total} changed lines and " if hidden_lines else ""
    return f"Trimmed: {lines}{hidden_chars:,} characters not shown · {show} has it all"


def header_text(change: ChangeRecord) -> str:
    if change.kind == "operational":
        return plain(f"OPERATIONS · {change.source_name or change.source}", HEADER_CHARS)
    return plain(f"{change.event.upper()} · {jurisdiction_name(change.jurisdiction)}", HEADER_CHARS)


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _detected(change: ChangeRecord) -> str:
    """Slack's date token shows the time in each reader's own timezone; the UTC text is its fallback."""
    utc = change.detected_at.replace("T", " ").replace("Z", " UTC")
    try:
        epoch = int(datetime.fromisoformat(change.detected_at.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return escape(utc)
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{escape(utc)}>"


def _fields(change: ChangeRecord) -> list[tuple[str, str]]:
    """(label, mrkdwn value) pairs; values are escaped here."""
    where = f"{jurisdiction_name(change.jurisdiction)} ({change.jurisdiction})" if change.jurisdiction else "—"
    fields = [("Jurisdiction", fit(where, FIELD_VALUE_CHARS)),
              ("Measure", fit(change.measure or "—", FIELD_VALUE_CHARS)),
              ("Source", fit(change.source_name or change.source, FIELD_VALUE_CHARS)),
              ("Detected", _detected(change))]
    if change.kind == "legal" and change.direction != "neutral":
        fields.append(("Direction", fit(change.direction, FIELD_VALUE_CHARS)))
    return fields


def build_message(change: ChangeRecord, link: str | None = None) -> SlackMessage:
    """Header, summary, fields, the evidence, a footer saying what was trimmed, and a button to `link`.

    `link` must be the source's configured URL (the caller's config), never a URL taken from the change.
    """
    summary = f"{SEVERITY_EMOJI.get(change.severity, '')} *{escape(change.severity.upper())}* · " \
              f"{fit(change.summary, SUMMARY_CHARS)}"
    fields = _fields(change)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": header_text(change), "emoji": True}},
        {"type": "section", "text": _mrkdwn(summary)},
        {"type": "section", "fields": [_mrkdwn(f"*{label}*\n{value}") for label, value in fields]},
    ]
    quoted = evidence(change, SECTION_CHARS - 100)
    for side, part in quoted.items():
        if part.text:
            blocks.append({"type": "section", "text": _mrkdwn(f"*{side.title()}*\n```{part.text}```")})
    blocks.append({"type": "context", "elements": [_mrkdwn(trim_note(change, list(quoted.values())))]})
    button = link if link and link.startswith(("https://", "http://")) and len(link) <= BUTTON_URL_CHARS else None
    if button:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open source"}, "url": button,
            "action_id": "open_source"}]})
    return SlackMessage(fallback_text(change, button), blocks)


def fallback_text(change: ChangeRecord, link: str | None) -> str:
    """The plain message: what notifications show. Escaped like the blocks, under FALLBACK_CHARS by construction:
    head ~800, facts ~650, link <= 1000, trim note ~150; the evidence gets the rest."""
    head = f"[{escape(change.severity.upper())}] {escape(neutral(header_text(change)))}: {fit(change.summary, 600)}"
    facts = " · ".join(f"{label}: {value}" for label, value in _fields(change)[1:3])
    tail = escape(link) if link and len(link) <= 1000 else ""
    room = FALLBACK_CHARS - len(head) - len(facts) - len(tail) - 200
    quoted = evidence(change, max(0, room // 2))
    lines = [p.text for p in quoted.values() if p.text]
    return "\n".join(x for x in (head, facts, *lines, trim_note(change, list(quoted.values())), tail) if x)
