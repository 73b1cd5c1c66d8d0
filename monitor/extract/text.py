"""Text normalisation shared by every parser: what makes two renderings of the same words compare equal."""
from __future__ import annotations

import hashlib
import re
import unicodedata

_WORD_RE = re.compile(r"\w+")
# Per-request tokens (ASP.NET view state, CSRF nonces, cache busters): long runs mixing letters and digits.
_TOKEN_RE = re.compile(r"[A-Za-z0-9_+/=-]{16,}")
_CLOCK_RE = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?\s*(?:[ap]\.?m\.?)?(?:\s*(?:[A-Z]{2,4}|UTC|GMT))?\b", re.I)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                         "\u00a0": " ", "\u200b": "", "\ufeff": ""})


def clean(text: str) -> str:
    """Collapse whitespace (including NBSP and zero-width space) into single spaces. str.split() splits on exactly
    the characters `\\s` matches (tests/test_diff_extract.py checks every code point), at half the regex's cost."""
    return " ".join(text.translate(_QUOTES).split())


class CleanPrefix:
    """clean() of a text read piece by piece, up to its first `limit` characters, in time linear in the pieces.

    clean() of a text's start is always the start of clean() of the whole text (words only grow at the end), so
    once `limit` characters are known they are final and the rest is not looked at. A heading, caption or term
    is used as context, which keeps only its first MAX_CONTEXT_CHARS: reading one string by string costs no more
    than its length, where cleaning all that was read after each string cost the square of its strings."""

    def __init__(self, limit: int):
        self.limit = limit
        self._words: list[str] = []
        self._size = 0  # len(" ".join(self._words))
        self._open = False  # the last piece ended inside a word, which the next piece may continue
        self._text: str | None = ""

    def add(self, piece: str) -> None:
        if self._size >= self.limit:
            return
        piece = piece.translate(_QUOTES)
        if not piece:
            return  # a piece that translates to nothing (a zero-width space) does not end a word
        parts = piece.split()
        if parts and self._open and not piece[0].isspace():
            self._words[-1] += parts[0]
            self._size += len(parts[0])
            parts = parts[1:]
        for word in parts:
            self._size += len(word) + (1 if self._words else 0)
            self._words.append(word)
        self._open = not piece[-1].isspace()
        self._text = None

    @property
    def text(self) -> str:
        """clean() of all the pieces, or its first `limit` characters."""
        if self._text is None:
            self._text = " ".join(self._words)[:self.limit]
        return self._text


def mask_volatile(text: str) -> str:
    """Hide what changes on every request without changing meaning: tokens and clock times."""
    text = _TOKEN_RE.sub(_mask_token, text)
    return _CLOCK_RE.sub(" ", text) if ":" in text else text  # every clock time has a colon


def _mask_token(match: re.Match) -> str:
    """A long run is a token when it mixes several digits and letters ("7-hydroxymitragynine" is not)."""
    run = match.group(0)
    digits = sum(c.isdigit() for c in run)
    return " " if digits >= 3 and sum(c.isalpha() for c in run) >= 2 else run


def words(text: str) -> list[str]:
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def block_key(text: str) -> str:
    """Identity of a page block: its words, case- and punctuation-insensitive, volatile tokens masked."""
    return " ".join(words(mask_volatile(text)))


def digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()
