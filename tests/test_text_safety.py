"""Issue 14, finding 9: page text is only text. Escape sequences and control characters from a page never reach the
operator's terminal (`monitor show`, `history`, `status`, the console notifier), and in Slack the page's `*`, `_`,
`~` and backticks are not formatting and its bidi controls reorder nothing (checked in the fake Slack's payloads)."""
from __future__ import annotations

import html
import json
import re
import subprocess

from conftest import bill_page

from monitor.notify.message import build_message, neutral
from monitor.safetext import for_slack, for_terminal
from monitor.store import ChangeRecord

TITLE = "CS/SB 1180: Kratom Products"
FILED = [("01/13/2026", "Senate", "Filed"), ("01/20/2026", "Senate", "Referred to Health Policy")]


def env_for(slack) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-text-test", "SLACK_CHANNEL": "#kratom", "SLACK_API_URL": slack.api_url}


HOSTILE = ("Passed \x1b[31mRED\x1b[0m \x1b]0;owned\x07 \x9b2J *bold* _it_ ~st~ `code` \u202eevil\u202c "
           "\u2066iso\u2069 \u200emark\u200f \u061carabic \x08\x7fend")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def terminal_unsafe(text: str) -> list[str]:
    """Characters a terminal would act on or reorder by: C0 (but newline), DEL, C1, bidi controls."""
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f or c in BIDI]


def hostile_change(project, server, env: dict | None = None) -> tuple[str, subprocess.CompletedProcess]:
    server.routes["/bill"] = bill_page(TITLE, FILED)
    project.write([{"id": "fl-sb-1180", "name": "Florida CS/SB 1180 (Kratom Products)", "url": server.url("/bill"),
                    "jurisdiction": "US-FL", "select": "#tabBodyBillHistory"}])
    assert project.check(env=env)[0].returncode == 0
    server.routes["/bill"] = bill_page(TITLE, FILED + [("03/04/2026", "Senate", html.escape(HOSTILE))])
    r, lines = project.check(env=env)
    assert r.returncode == 0 and len(lines) == 1, r.stderr
    assert "\x1b[31m" in lines[0]["summary"], "the JSON keeps the data as it was (json escapes it)"
    return lines[0]["id"], r


def test_terminal_escapes_from_a_page_are_not_printed_by_show_history_status_or_the_console(project, server):
    change_id, check = hostile_change(project, server)
    assert terminal_unsafe(check.stderr) == [], "the console notifier (stderr beside --json)"
    assert "RED" in check.stderr and "*bold* _it_ ~st~ `code`" in check.stderr
    show = project.run("show", change_id)
    assert show.returncode == 0 and terminal_unsafe(show.stdout) == [], repr(show.stdout)
    assert "Passed [31mRED[0m" not in show.stdout and "Passed RED" in show.stdout
    assert "evil" in show.stdout and "arabic" in show.stdout and "*bold* _it_ ~st~ `code`" in show.stdout
    for command in (("history",), ("status",)):
        out = project.run(*command)
        assert out.returncode == 0 and terminal_unsafe(out.stdout) == [], (command, repr(out.stdout))
    raw = project.run("history", "--json").stdout
    assert HOSTILE in json.loads(raw.splitlines()[0])["summary"], "JSON output is data, left as it was"


LOOKALIKE = {"\u2217": "*", "\u02cd": "_", "\u223c": "~", "\u02cb": "`"}


def rendered(mrkdwn: str) -> str:
    """What a reader sees of text with no formatting in it: entities decoded, look-alikes read as what they are."""
    text = mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return "".join(LOOKALIKE.get(c, c) for c in text)


def test_page_text_in_slack_is_the_pages_words_not_formatting_or_reordering(project, server, slack):
    _, check = hostile_change(project, server, env_for(slack))
    [post] = slack.posts
    payload = json.dumps(post, ensure_ascii=False)
    assert not [c for c in payload if c in BIDI], "no bidi control reaches Slack"
    assert not [c for c in payload if ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f], "nor a control character"
    summary = post["blocks"][1]["text"]["text"]
    added = post["blocks"][3]["text"]["text"]
    for text in (summary, added, post["text"], post["text"].split("\n")[2]):
        line = next(line for line in text.splitlines() if "Passed" in line)
        page_part = line[line.index("Passed"):].removesuffix("```")  # (our fence closing the quote)
        assert not re.search(r"[*_~`]", page_part), page_part  # nothing Slack would format
        assert rendered(page_part) == "Passed RED   *bold* _it_ ~st~ `code` evil iso mark arabic end", page_part
    assert summary.startswith(":large_orange_circle: *HIGH* ·"), "our own formatting stays"
    assert added.startswith("*Added*\n```") and added.endswith("```"), "and the quote around the evidence"


def test_escape_sequences_go_whole_and_an_unterminated_one_hides_nothing():
    assert for_terminal("a\x1b[1;31mb\x1b[0m c\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ d") == "ab clink d"
    assert for_terminal("\x1b]0;title with no end, then the real text") == "0;title with no end, then the real text"
    assert for_terminal("one\ntwo\tthree\r\nfour\u2028five") == "one two three  four five"
    assert for_terminal("\x9b2J\x9d0;t\x9c \x85x \x7f\x00y") == "  x y"  # NEL is a line break: a space
    assert for_terminal("Kratom – 7‑OH · naïve ✓") == "Kratom – 7‑OH · naïve ✓", "printable text is untouched"
    assert for_slack("a\nb\tc\u202ed\x1b[2Je") == "a\nb cde"


def test_a_message_built_from_hostile_text_keeps_the_words_and_drops_the_formatting():
    change = ChangeRecord(id="6b0", source="s", jurisdiction="US-FL", url="https://x", kind="legal", alert=True,
                          event="passed", severity="high", summary="SB *1* _passed_ ~today~ `x` \u202eevil",
                          added=["```*a*``` _b_"], removed=[], detected_at="2026-03-01T11:00:00Z",
                          source_name="S_1 \u2066name\u2069", measure="SB_1")
    message = build_message(change, "https://x")
    everything = json.dumps(message.blocks, ensure_ascii=False) + message.text
    assert not set(everything) & set("\u202e\u2066\u2069")
    assert "SB ∗1∗ ˍpassedˍ ∼today∼ ˋxˋ evil" in message.blocks[1]["text"]["text"]
    assert message.blocks[3]["text"]["text"] == "*Added*\n```+ ˋˋˋ∗a∗ˋˋˋ ˍbˍ```"
    assert "Sˍ1 name" in json.dumps(message.blocks, ensure_ascii=False) and "SBˍ1" in message.text
    assert neutral("a < b & c") == "a < b & c", "escaping &, < and > is still escape()'s, after neutral()"
