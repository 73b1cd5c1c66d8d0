"""A response's bytes -> the text both HTML parsers read, decoded as a browser decodes it."""
from __future__ import annotations

import codecs

BOM_LEADS = (b"\xfe\xff", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00\x00\xfe\xff")  # the byte-order marks bs4 strips
BROWSER_CHARSET = {"iso-8859-1": "windows-1252", "latin-1": "windows-1252", "latin1": "windows-1252",
                   "us-ascii": "windows-1252", "ascii": "windows-1252"}


def markup(body: bytes, charset: str | None) -> str:
    """Bytes -> the text both parsers read. We decode first so NULs are dropped from the text, not the bytes (which
    would wreck UTF-16)."""
    return decode(body, charset).replace("\x00", "")


def decode(body: bytes, charset: str | None) -> str:
    """Decode as a browser does: byte-order mark, HTTP charset, <meta charset>; undeclared, UTF-8 when the bytes are
    mostly UTF-8, else detection. A bad byte costs one U+FFFD, never the rest of the page or its whole decoding."""
    data, bom = _strip_byte_order_mark(body)
    declared = bom or _codec(charset) or _codec(_declared_in_markup(data), True)
    if declared:
        return data.decode(declared, "replace")
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    if len(text) - len(text.encode("ascii", "ignore")) >= 2 * bad:  # at least as much valid non-ASCII as bad
        return text
    from bs4.dammit import UnicodeDammit

    return UnicodeDammit(data, is_html=True).unicode_markup


# bs4.dammit does the sniffing below, but importing it imports all of bs4: pages with no byte-order mark and an HTTP
# charset (most) do without.
def _strip_byte_order_mark(body: bytes) -> tuple[bytes, str | None]:
    if not body.startswith(BOM_LEADS):
        return body, None
    from bs4.dammit import EncodingDetector

    return EncodingDetector.strip_byte_order_mark(body)


def _declared_in_markup(data: bytes) -> str | None:
    from bs4.dammit import EncodingDetector

    return EncodingDetector.find_declared_encoding(data, is_html=True)


def _codec(name: str | None, in_markup: bool = False) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(BROWSER_CHARSET.get(name.lower(), name)).name
    except LookupError:
        return None
    # A <meta> we could read as ASCII is not in UTF-16/32, whatever it says (browsers use UTF-8 then).
    return "utf-8" if in_markup and codec.startswith(("utf-16", "utf-32")) else codec
