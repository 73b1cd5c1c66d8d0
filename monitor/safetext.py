"""Page text made fit for where a person reads it: a terminal, a log line, Slack.

Everything scraped is untrusted. A terminal acts on control characters: an escape sequence from a page can recolour,
clear or retitle the operator's terminal, or rewrite what `monitor show` appears to say. Bidirectional controls
(U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LEFT-TO-RIGHT ISOLATE, ...) reorder what any reader sees, on a terminal and in
Slack alike. So control characters and escape sequences are removed from text for a terminal, and bidi controls
from text for both; the JSON output keeps the data as it was (json escapes what needs escaping). A leaf module.
"""
from __future__ import annotations

import re

# U+061C ARABIC LETTER MARK, U+200E/F LRM/RLM, U+202A-202E embeddings and overrides, U+2066-2069 isolates.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# A whole escape sequence goes, not just its ESC, so "\x1b[31mRED" reads "RED" and not "[31mRED": CSI (ESC [ or
# 8-bit CSI) with its parameters, OSC/DCS/SOS/PM/APC strings with their terminator (an unterminated one loses only
# its introducer, so it cannot hide the rest of the line), and the other escapes (ESC c, ESC ( B, ...).
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])(?:[^\x07\x1b\x9c]*(?:\x07|\x9c|\x1b\\))?"
    r"|\x1b[ -/]*[0-~]?")
_LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]")
_INVISIBLE = re.compile(f"[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f{BIDI_CONTROLS}]")
_INVISIBLE_KEEP_NEWLINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def for_terminal(text: str) -> str:
    """One line for a terminal: escape sequences, control characters and bidi controls removed, line breaks and
    tabs made spaces (a scraped newline must not start a line that looks like one of ours)."""
    if text.isprintable():  # the common case: nothing to do (isprintable is False for every character we remove)
        return text
    return _INVISIBLE.sub("", _LINE_BREAKS.sub(" ", _ESCAPES.sub("", text)))


def for_slack(text: str) -> str:
    """Text for Slack: escape sequences, control characters (but newlines) and bidi controls removed, tabs made
    spaces. What Slack would treat as markup is the message builder's business (notify/message.py)."""
    if text.isprintable():
        return text
    text = _ESCAPES.sub("", text).replace("\t", " ").replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE_KEEP_NEWLINES.sub("", text)
