"""The Slack message builder: within every Slack limit whatever the change's size, and nothing scraped can ping,
link or break out of its quote."""
from __future__ import annotations

import json
import re

import pytest

from monitor.notify.message import (BLOCKS_TEXT_CHARS, BUTTON_URL_CHARS, FALLBACK_CHARS, FIELD_CHARS, HEADER_CHARS,
                                    MAX_BLOCKS, SECTION_CHARS, build_message, cut)
from monitor.store import ChangeRecord

INJECTION = "<!channel> <!here> <@U024BE7LH> <https://evil.example|official text> & ```*bold* `code`"
CONFIGURED = "https://www.flsenate.gov/Session/Bill/2026/1180"


def change(**kw) -> ChangeRecord:
    base = dict(id="6b077a76417d06", source="fl-sb-1180", jurisdiction="US-FL", url=CONFIGURED, kind="legal",
                alert=True, event="enacted", severity="critical",
                summary="CS/SB 1180 (Kratom Products) was enacted (Florida): Approved by Governor",
                added=["03/20/2026 Senate Approved by Governor; Chapter No. 2026-95"], removed=[],
                detected_at="2026-03-21T14:03:00Z", source_name="Florida CS/SB 1180 (Kratom Products)",
                direction="restrictive", measure="CS/SB 1180")
    return ChangeRecord(**{**base, **kw})


def texts(blocks: list[dict]) -> list[str]:
    """Every text Slack counts: header, sections, fields, context elements, button labels."""
    out = []
    for block in blocks:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and "text" in obj:
                out.append(obj["text"]["text"] if isinstance(obj["text"], dict) else obj["text"])
    return out


def assert_within_limits(blocks: list[dict], text: str) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS
    assert 0 < len(text) <= FALLBACK_CHARS
    assert sum(len(t) for t in texts(blocks)) < BLOCKS_TEXT_CHARS
    for block in blocks:
        if block["type"] == "header":
            assert 0 < len(block["text"]["text"]) <= HEADER_CHARS
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            assert len(block.get("text", {}).get("text", "")) <= SECTION_CHARS
            assert len(block.get("fields", [])) <= 10
            assert all(0 < len(f["text"]) <= FIELD_CHARS for f in block.get("fields", []))
        if block["type"] == "actions":
            assert all(len(e["url"]) <= BUTTON_URL_CHARS for e in block["elements"])
    assert all(t for t in texts(blocks)), "Slack refuses empty text objects"


HUGE = {
    "thousands of lines": dict(added=[f"row {i}: kratom " + "x" * 300 for i in range(5000)],
                               removed=[f"old row {i} " + "y" * 200 for i in range(3000)]),
    "one giant line": dict(added=["kratom " + "z" * 1_000_000]),
    "escaping expands five-fold": dict(added=["&" * 2000] * 50, removed=["<>" * 900] * 50, summary="&" * 5000),
    "long names everywhere": dict(source_name="S" * 5000, measure="M" * 5000, jurisdiction="US-CA-" + "X" * 300,
                                  event="enacted" * 40, summary="s" * 20_000),
    "nothing added or removed": dict(added=[], removed=[]),
}


@pytest.mark.parametrize("name", HUGE)
def test_every_limit_holds_whatever_the_size(name):
    message = build_message(change(**HUGE[name]), CONFIGURED)
    assert_within_limits(message.blocks, message.text)
    assert_within_limits(message.text_only(), message.text)


def test_trimming_says_how_much_and_where_the_rest_is():
    lines = [f"{i:03d} " + "w" * 96 for i in range(100)]  # 100 lines of 100 characters
    message = build_message(change(added=lines), CONFIGURED)
    footer = message.blocks[-2]["elements"][0]["text"]
    m = re.search(r"Trimmed: (\d+) of 100 changed lines and ([\d,]+) characters not shown", footer)
    assert m, footer
    hidden = int(m.group(1))
    shown = [line for line in message.blocks[3]["text"]["text"].splitlines() if line.startswith(("+", "```+"))]
    assert len(shown) + hidden == 100 and int(m.group(2).replace(",", "")) == hidden * 100
    assert "`monitor show 6b077a76417d06` has it all" in footer
    assert "monitor show 6b077a76417d06" in message.text and "not shown" in message.text
    assert "Trimmed" not in json.dumps(build_message(change(), CONFIGURED).blocks), "nothing trimmed, nothing said"


def test_scraped_text_cannot_mention_link_or_break_out():
    message = build_message(change(summary=f"SB 1180 {INJECTION}", added=[INJECTION], removed=[INJECTION],
                                   source_name=INJECTION, measure="SB 1180"), CONFIGURED)
    everything = texts(message.blocks) + [message.text]
    for text in everything:
        control = re.findall(r"<[^>]*>", text)
        assert all(c.startswith("<!date^") for c in control), control  # only our own date token
    summary, source_field, added, removed = (message.blocks[1]["text"]["text"], message.blocks[2]["fields"][2]["text"],
                                             message.blocks[3]["text"]["text"], message.blocks[4]["text"]["text"])
    for text in (summary, source_field, added, removed, message.text):
        assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U024BE7LH&gt; &lt;https://evil.example|official text&gt; &amp;" \
               in text, "visible as text"
    for block in message.blocks:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                assert obj["verbatim"] is True, "bare scraped URLs must not be auto-linked"
    quote = message.blocks[3]["text"]["text"]
    assert quote.count("```") == 2, "a scraped ``` cannot close the code block"
    urls = re.findall(r'"url": "([^"]*)"', json.dumps(message.blocks))
    assert urls == [CONFIGURED], "the only link is the configured source URL"


def test_the_button_is_the_configured_url_only():
    assert "actions" not in [b["type"] for b in build_message(change(), None).blocks]
    assert "actions" not in [b["type"] for b in build_message(change(), "javascript:alert(1)").blocks]
    too_long = CONFIGURED + "?" + "q" * BUTTON_URL_CHARS
    assert "actions" not in [b["type"] for b in build_message(change(), too_long).blocks]


def test_cut_never_splits_an_entity():
    for limit in range(1, 30):
        text, kept = cut("a&b<c>d" * 5, limit)
        assert len(text) <= limit
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text
        assert text.rstrip("…").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") == \
            ("a&b<c>d" * 5)[:kept]
